"""timm's whole catalogue as graftzoo arch entries, read from timm's registry of pretrained configs.

Only timm's tables are read here (no model is built), so listing ~1300 archs costs about the
time of `import timm`. The registry caches the result per set of installed plugin versions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from graftzoo_timm.overrides import arch_defaults

if TYPE_CHECKING:
    from timm.models import PretrainedCfg

STEPS = {
    "factory": "graftzoo_timm.body:create_model",
    "adapt": "graftzoo_timm.body:adapt_stem",
    "body": "graftzoo_timm.body:timm_body",
}  # graftzoo's build steps timm bodies override (graftzoo_timm.body)
FACTORY = "timm:create_model"
PROBE_SIZE = 64


def arch_entries() -> list[dict[str, Any]]:
    """One manifest-style arch entry (bare name) per model that `timm.list_models()` knows."""
    import timm

    family = {name: module for module in timm.list_modules() for name in timm.list_models(module=module)}
    overrides = arch_defaults()
    lora = family_lora_targets()
    entries = []
    for name in timm.list_models():
        entry = arch_entry(name, family.get(name))
        if family.get(name) in lora:
            entry["lora_targets"] = lora[family[name]]
        entry.update(overrides.get(f"timm/{name}", {}))
        entries.append(entry)
    return entries


def family_lora_targets() -> dict[str, list[str]]:
    """The `[lora_targets]` table of this plugin's manifest: family -> LoRA's default layer globs."""
    import tomllib
    from importlib.resources import files

    data = tomllib.loads(files("graftzoo_timm").joinpath("graftzoo.toml").read_text(encoding="utf-8"))
    table = data.get("lora_targets", {})
    return {str(k): [str(p) for p in v] for k, v in table.items() if isinstance(v, list)}


def pretrained_cfg(name: str) -> PretrainedCfg:
    """timm's default pretrained config of model `name`; timm's defaults for an arch registered without one."""
    from timm.models import PretrainedCfg, get_pretrained_cfg

    cfg = get_pretrained_cfg(name)
    return cfg if cfg is not None else PretrainedCfg()


def arch_entry(name: str, family: str | None) -> dict[str, Any]:
    """The arch entry of timm model `name`, from its default pretrained config."""
    cfg = pretrained_cfg(name)
    entry: dict[str, Any] = {
        "name": name,
        "factory": FACTORY,
        "factory_kwargs": {"model_name": name},
        "steps": dict(STEPS),
        "stats": [list(cfg.mean), list(cfg.std)],
        "input_size": list(cfg.input_size),
        "probe_size": probe_size(cfg),
        "family": family,
        "tags": tags(cfg),
        "description": description(name, cfg),
    }
    if has_weights(cfg):
        entry["default_weights"] = f"timm:{name}.{cfg.tag}"
    return entry


def has_weights(cfg: Any) -> bool:
    """Whether timm knows where the weights of this pretrained config live."""
    return bool(cfg.tag) and bool(cfg.hf_hub_id or cfg.url or cfg.file)


def probe_size(cfg: Any) -> int:
    """A small square input the model accepts: its own size when fixed, else 64 (or its minimum)."""
    if cfg.fixed_input_size or cfg.pool_size is None:
        return int(cfg.input_size[-1])
    minimum = int(cfg.min_input_size[-1]) if cfg.min_input_size else 0
    return max(PROBE_SIZE, minimum)


def tags(cfg: Any) -> list[str]:
    """`cnn` (a spatial pool before the classifier) or `transformer`, the classifier, the license."""
    classifier = cfg.classifier if isinstance(cfg.classifier, (list, tuple)) else [cfg.classifier]
    out = ["cnn" if cfg.pool_size is not None else "transformer"]
    out += [f"classifier:{c}" for c in classifier if c]
    if cfg.fixed_input_size:
        out.append("fixed-input-size")
    if cfg.license:
        out.append(f"license:{cfg.license}")
    return out


def description(name: str, cfg: Any) -> str:
    size = "x".join(str(s) for s in cfg.input_size[1:])
    weights = f"default weights {name}.{cfg.tag}" if has_weights(cfg) else "no pretrained weights"
    return f"timm {name} ({size} input, {weights})"
