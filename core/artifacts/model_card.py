"""The model card (`README.md`): Hub YAML metadata, then a page a person can read."""

from __future__ import annotations

import json
from typing import Any

MAX_CLASSES_SHOWN = 40
REPO_REF = "hf://<namespace>/<repo>"  # push_head puts the real reference in its place


def base_model(weights: str | None, arch: str) -> str | None:
    """The Hub model the body weights come from, as the weight source serving `weights` says (None if none)."""
    if not weights:
        return None
    from graftzoo.errors import GraftzooError
    from graftzoo.imports import import_attr
    from graftzoo.registry import current

    try:
        source = import_attr(current().weight_source_for(weights.partition(":")[0]).factory)()
        found = source.base_model(weights, arch) if hasattr(source, "base_model") else None
    except (GraftzooError, ImportError, ValueError):
        return None  # a source that is not installed or cannot tell: the card just has no base_model
    return found if isinstance(found, str) and found else None


def pipeline_tag(task: str, input_kind: str = "vision/image") -> str | None:
    """The Hugging Face Hub pipeline tag for `task` on inputs of `input_kind`.

    Tasks declare their tag for images (`Task.pipeline_tag`, e.g. `image-classification`); for text
    or table inputs the modality part follows the input kind (`text-classification`,
    `tabular-classification`). None when the task declares no tag, or the Hub has no name for the
    input kind's modality.
    """
    from graftzoo.errors import GraftzooError
    from graftzoo.imports import import_attr
    from graftzoo.registry import current

    try:
        found = getattr(import_attr(current().get_task(task).factory)(), "pipeline_tag", None)
    except (GraftzooError, ImportError, TypeError):
        return None
    if not isinstance(found, str) or not found:
        return None
    if not found.startswith("image-"):
        return found
    modality = MODALITIES.get(input_kind.split("/", 1)[0])
    return f"{modality}-{found.removeprefix('image-')}" if modality else None


# The first part of an input kind -> the Hub's name for that modality in pipeline tags.
MODALITIES = {"vision": "image", "text": "text", "tabular": "tabular"}


def render_card(config: dict[str, Any], *, title: str, dataset: str | None = None) -> str:
    """README.md text for a saved head described by its `graftzoo.json` dict."""
    return "---\n" + _yaml(_front_matter(config, title, dataset)) + "---\n\n" + _body(config, title)


def _front_matter(config: dict[str, Any], title: str, dataset: str | None) -> dict[str, Any]:
    arch, task = config["arch"], config["task"]
    meta: dict[str, Any] = {
        "library_name": "graftzoo",
        "tags": list(dict.fromkeys(["graftzoo", task.split("/", 1)[1], *reversed(arch.split("/", 1))])),
    }
    if tag := pipeline_tag(task, config["inputs"]["kind"]):
        meta["pipeline_tag"] = tag
    if base := base_model(config["body_weights"], arch):
        meta["base_model"] = base
    if dataset:
        meta["datasets"] = [dataset]
    metrics = {k: v for k, v in config["metrics"].items() if v is not None}
    if metrics:
        meta["metrics"] = list(metrics)
        if dataset:
            meta["model-index"] = [{
                "name": title,
                "results": [{
                    "task": {"type": tag or task.split("/", 1)[1]},
                    "dataset": {"name": dataset, "type": dataset},
                    "metrics": [{"type": k, "value": round(v, 6), "name": k} for k, v in metrics.items()],
                }],
            }]
    return meta


def _body(config: dict[str, Any], title: str) -> str:
    arch, weights, task = config["arch"], config["body_weights"], config["task"]
    n_body, size = len(config["body_tensors"]), config["head_file"]["bytes"]
    lines = [
        f"# {title}",
        "",
        f"A **{config['head']}** head ({config['n_out']} outputs, task `{task}`) trained on a **{arch}** body, "
        "saved with [graftzoo](https://github.com/graftzoo/graftzoo). This repo holds only the head and the "
        "body tensors that training changed; the body comes from its own weights when the head is loaded.",
        "",
        "## Body",
        "",
        f"- architecture: `{arch}` (inputs: {_inputs(config['inputs'])}, cut: `{config['cut']}`)",
        f"- weights: `{weights}`" + (f" (base model [{b}](https://huggingface.co/{b}))" if (b := base_model(weights, arch)) else "")
        if weights else "- weights: none (the whole body is stored here)",
    ]
    if weights:
        lines.append(f"- source weights fingerprint: `{config['body_fingerprint']}`")
    lines += _preprocessing(config["preprocessor"])
    lines += _usage(config)
    lines += _classes(config) + _metrics(config)
    lines += ["## Training", ""]
    training = config.get("training") or {}
    if training.get("epochs"):
        lines.append(f"- epochs: {training['epochs']}")
    if "train_bn" in training:
        lines.append(f"- BatchNorm layers trained in frozen groups: {'yes' if training['train_bn'] else 'no'}")
    lines.append(f"- body: {training.get('body') or _how_body_trained(config, n_body)}")
    lines.append(f"- fine-tuning: {fine_tuning_kind(config)}")
    lines += ["", "## Artifact", "",
              f"- `head.safetensors`: {human_size(size)} ({len(config['body_tensors'])} body tensors plus the head)",
              f"- format version {config['format_version']}, created {config['created']}",
              "- versions: " + ", ".join(f"{k} {v}" for k, v in config["versions"].items()), ""]
    return "\n".join(lines)


def _usage(config: dict[str, Any]) -> list[str]:
    """The usage section: what `predict` takes for this head's input kind, in Python and from a shell."""
    modality = config["inputs"]["kind"].split("/", 1)[0]
    if modality == "text":
        items, shell = '["a sentence to classify", "another one"]', f'graftzoo predict {REPO_REF} "a sentence to classify"'
    elif modality == "tabular":
        state = config["preprocessor"].get("state", {})
        columns = [*state.get("cat_names", []), *state.get("cont_names", [])][:8]
        row = ", ".join(f"{json.dumps(c)}: ..." for c in columns)
        items, shell = f"[{{{row}}}]", f"graftzoo predict {REPO_REF} --csv rows.csv"
    else:
        items, shell = '["cat.jpg"]', f"graftzoo predict {REPO_REF} cat.jpg --top-k 3"
    return ["", "## Usage", "", "```python", "import graftzoo", "",
            f'model = graftzoo.load_head("{REPO_REF}")',
            f"labels, probs = model.predict({items})", "```", "",
            f"or from a shell: `{shell}`", ""]


def _inputs(inputs: dict[str, Any]) -> str:
    params = ", ".join(f"{k}={json.dumps(v)}" for k, v in inputs.items() if k != "kind")
    text = f"`{inputs['kind']}`" + (f" ({params})" if params else "")
    return text if len(text) <= 200 else text[:197] + "..."


def _preprocessing(preprocessor: dict[str, Any]) -> list[str]:
    """One line per entry of the preprocessor's state: what raw items must look like."""
    lines = [f"- preprocessing (`{preprocessor['kind']}`):"]
    for key, value in preprocessor["state"].items():
        text = json.dumps(value)
        lines.append(f"  - {key}: {text if len(text) <= 200 else text[:197] + '...'}")
    return lines


def _classes(config: dict[str, Any]) -> list[str]:
    classes = config.get("classes")
    if not classes:
        return []
    shown = ", ".join(f"`{c}`" for c in classes[:MAX_CLASSES_SHOWN])
    more = f" and {len(classes) - MAX_CLASSES_SHOWN} more" if len(classes) > MAX_CLASSES_SHOWN else ""
    return ["## Classes", "", f"{len(classes)} classes: {shown}{more}.", ""]


def _metrics(config: dict[str, Any]) -> list[str]:
    metrics = config["metrics"]
    if not metrics:
        return []
    rows = [f"| {name} | {'-' if value is None else f'{value:.4g}'} |" for name, value in metrics.items()]
    return ["## Metrics (last epoch, validation set)", "", "| metric | value |", "|---|---|", *rows, ""]


def fine_tuning_kind(config: dict[str, Any]) -> str:
    """Which kind of fine-tuning the stored tensors come from: LoRA adapters, full, or none (frozen body)."""
    adapters = config.get("adapters")
    if adapters:
        return (f"LoRA adapters (rank {adapters['r']}, alpha {adapters['alpha']:g}, on {len(adapters['target_modules'])} layers, "
                f"BatchNorm {adapters.get('batch_norm', 'train')}; "
                "stored unmerged, the rest of the body comes from its source weights)")
    kind = str((config.get("training") or {}).get("fine_tuning"))
    return {"frozen": "none: the body's weights stayed frozen (normalization layers aside)",
            "full": "full (every body tensor that changed is stored)"}.get(kind, "not recorded")


def _how_body_trained(config: dict[str, Any], n_body: int) -> str:
    if config["body_weights"] is None:
        return "no pretrained weights: stored whole"
    return f"{n_body} tensors differ from the source weights" if n_body else "unchanged from its source weights"


def human_size(size: float) -> str:
    """`1.2 MB` style."""
    if size < 1024:
        return f"{int(size)} bytes"
    for unit in ("KB", "MB", "GB"):
        size /= 1024
        if size < 1024 or unit == "GB":
            return f"{size:.1f} {unit}"
    return f"{size:.1f} GB"


def _yaml(value: Any, indent: int = 0) -> str:
    """Block YAML for dicts and lists of JSON scalars (JSON scalars are valid YAML)."""
    pad = " " * indent
    out = []
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, (dict, list)) and item:
                out.append(f"{pad}{key}:\n{_yaml(item, indent + 2)}")
            else:
                out.append(f"{pad}{key}: {json.dumps(item)}\n")
    else:
        for item in value:
            if isinstance(item, (dict, list)) and item:
                nested = _yaml(item, indent + 2)
                out.append(f"{pad}- {nested.lstrip()}")
            else:
                out.append(f"{pad}- {json.dumps(item)}\n")
    return "".join(out)
