"""`graftzoo train CONFIG`: fine-tune from a small TOML config (or flags), in one process or under torchrun.

The config has five tables; every key is checked and a wrong one is named with the allowed values:

    [data]    kind = a registered data section (`graftzoo list --kind data`), then that section's keys
    [model]   arch, weights ("default", a reference, or "none"), head, head_kwargs, body_kwargs, cut
    [recipe]  method ("fine_tune", "fit_one_cycle", "fit"), epochs, lr, freeze_epochs, lr_find,
              adapters (fine_tune only: a [recipe.adapters] table of LoRA settings: r, alpha, dropout, target_modules, batch_norm)
    [train]   bs (per process), seed, precision ("fp32", "bf16", "fp16"), sync_bn, channels_last
    [output]  folder, push (a repo id), hub ("local", "hf")

`torchrun --nproc_per_node=N -m graftzoo train CONFIG` runs the same config data-parallel: each
process takes `bs` items per step, rank 0 prints and writes `folder/head` and `folder/train.json`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import tomllib
from pathlib import Path
from typing import Any

from graftzoo.errors import ConfigError

__all__ = ["DEFAULTS", "add_train_command", "cmd_train", "load_config"]

DEFAULTS: dict[str, dict[str, Any]] = {
    "data": {},
    "model": {"weights": "default", "head": "classify", "head_kwargs": {}, "body_kwargs": {}, "cut": None},
    "recipe": {"method": "fine_tune", "epochs": 1, "lr": 2e-3, "freeze_epochs": 1, "lr_find": False, "adapters": None},
    "train": {"bs": 64, "seed": 0, "precision": "fp32", "sync_bn": False, "channels_last": False},
    "output": {"folder": "graftzoo_train", "push": None, "hub": "local"},
}
CHOICES: dict[str, tuple[str, ...]] = {
    "recipe.method": ("fine_tune", "fit_one_cycle", "fit"),
    "train.precision": ("fp32", "bf16", "fp16"),
    "output.hub": ("local", "hf"),
}
TYPES: dict[str, tuple[type, ...]] = {
    "model.arch": (str,), "model.weights": (str, bool), "model.head": (str,), "model.head_kwargs": (dict,), "model.body_kwargs": (dict,),
    "model.cut": (int, str), "recipe.epochs": (int,), "recipe.lr": (float, int), "recipe.freeze_epochs": (int,),
    "recipe.lr_find": (bool,), "recipe.adapters": (dict,), "train.bs": (int,), "train.seed": (int,), "train.sync_bn": (bool,),
    "train.channels_last": (bool,), "output.folder": (str,), "output.push": (str,),
}
SHORTCUTS = {"arch": "model.arch", "epochs": "recipe.epochs", "lr": "recipe.lr", "bs": "train.bs", "out": "output.folder"}


def add_train_command(sub: Any) -> None:
    """Add `train` to the `graftzoo` subparsers."""
    p = sub.add_parser("train", help="fine-tune from a TOML config (also under torchrun)")
    p.add_argument("config", nargs="?", help="a TOML file with [data], [model], [recipe], [train], [output]")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="TABLE.KEY=VALUE",
                   help="override one key (VALUE is read as TOML, else as a string), e.g. --set recipe.epochs=3")
    for flag, key in SHORTCUTS.items():
        p.add_argument(f"--{flag}", default=None, help=f"same as --set {key}=...")


def _value(text: str) -> Any:
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def load_config(path: str | Path | None, overrides: list[str] = ()) -> dict[str, dict[str, Any]]:  # type: ignore[assignment]
    """The config at `path` (None: empty) with `TABLE.KEY=VALUE` overrides and defaults, every key checked."""
    raw: dict[str, Any] = {}
    if path is not None:
        try:
            raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"cannot read the config {path}: {exc}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path} is not valid TOML: {exc}") from exc
    for item in overrides:
        key, sep, text = item.partition("=")
        table, dot, name = key.strip().partition(".")
        if not sep or not dot or not name:
            raise ConfigError(f"--set {item!r}: write TABLE.KEY=VALUE, e.g. recipe.epochs=3 (tables: {sorted(DEFAULTS)}).")
        raw.setdefault(table, {})[name] = _value(text.strip())
    unknown = sorted(set(raw) - set(DEFAULTS))
    if unknown:
        raise ConfigError(f"[{unknown[0]}] is not a config table; allowed tables: {sorted(DEFAULTS)}.")
    config = {t: {**DEFAULTS[t], **raw.get(t, {})} for t in DEFAULTS}
    for table, values in config.items():
        if not isinstance(raw.get(table, {}), dict):
            raise ConfigError(f"{table} must be a table ([{table}]).")
        if table == "data":
            continue  # the registered data section checks its own keys
        for name, value in values.items():
            _check_key(f"{table}.{name}", value)
    if not isinstance(config["data"].get("kind"), str):
        raise ConfigError("data.kind is missing: name a registered data section (see `graftzoo list --kind data`), e.g. vision/image_folder.")
    if "arch" not in config["model"]:
        raise ConfigError("model.arch is missing: name an arch (see `graftzoo list`), e.g. timm/resnet18.")
    if config["recipe"]["adapters"] is not None and config["recipe"]["method"] != "fine_tune":
        raise ConfigError(f"recipe.adapters needs recipe.method = 'fine_tune' (it trains the adapters once the body is "
                          f"unfrozen), got {config['recipe']['method']!r}.")
    return config


def _check_key(key: str, value: Any) -> None:
    table = key.split(".")[0]
    if key not in TYPES and key not in CHOICES and key.split(".")[1] not in DEFAULTS[table]:
        allowed = sorted(set(DEFAULTS[table]) | {k.split(".")[1] for k in (*TYPES, *CHOICES) if k.startswith(table + ".")})
        raise ConfigError(f"{key} is not a known key; allowed keys of [{table}]: {allowed}.")
    if value is None:
        return
    if key in CHOICES and value not in CHOICES[key]:
        raise ConfigError(f"{key} = {value!r}: allowed values are {list(CHOICES[key])}.")
    types = TYPES.get(key)
    if types is not None and (not isinstance(value, types) or (isinstance(value, bool) and bool not in types)):
        raise ConfigError(f"{key} = {value!r}: expected {' or '.join(t.__name__ for t in types)}.")
    if key in ("recipe.epochs", "train.bs") and value < 1 or key == "recipe.freeze_epochs" and value < 0:
        raise ConfigError(f"{key} = {value!r} is out of range (epochs and bs at least 1, freeze_epochs at least 0).")
    if key == "recipe.lr" and not value > 0:
        raise ConfigError(f"recipe.lr = {value!r}: the learning rate must be positive.")
    if key == "recipe.adapters":
        lora_settings(value)


def lora_settings(table: dict[str, Any]) -> Any:
    """The `LoRA` a `[recipe.adapters]` table describes (its keys are LoRA's fields), or a ConfigError naming the key."""
    from dataclasses import fields

    from graftzoo.adapters.lora import LoRA

    allowed = [f.name for f in fields(LoRA)]
    unknown = sorted(set(table) - set(allowed))
    if unknown:
        raise ConfigError(f"recipe.adapters.{unknown[0]} is not a LoRA setting; allowed keys of [recipe.adapters]: {allowed}.")
    values: dict[str, Any] = {k: tuple(v) if k == "target_modules" and isinstance(v, list) else v for k, v in table.items()}
    try:
        return LoRA(**values)
    except ConfigError as exc:
        raise ConfigError(f"[recipe.adapters]: {exc}") from exc


def _weights(value: str | bool) -> str | None:
    if value is False or (isinstance(value, str) and value.lower() in ("none", "")):
        return None
    if value is True:
        return "default"
    return value


def cmd_train(args: argparse.Namespace) -> int:
    """Run `graftzoo train` (see the module docstring)."""
    overrides = list(args.overrides) + [f"{key}={getattr(args, flag)}" for flag, key in SHORTCUTS.items()
                                        if getattr(args, flag) is not None]
    config = load_config(args.config, overrides)
    return train(config)


def train(config: dict[str, dict[str, Any]]) -> int:
    """Build data, model and Learner from a checked config, run its recipe, save (and push) the head."""
    import torch

    from graftzoo.grafting import graft
    from graftzoo.imports import import_attr
    from graftzoo.learner import Learner
    from graftzoo.learner import distributed as ddp
    from graftzoo.registry import current

    data, model_cfg, recipe, opts, output = (config[t] for t in ("data", "model", "recipe", "train", "output"))
    ddp.init_from_env()
    torch.manual_seed(opts["seed"])
    section = {k: v for k, v in data.items() if k != "kind"}
    factory = import_attr(current().get("data", data["kind"]).factory)
    with ddp.main_first():  # rank 0 fills the weight and data caches, then the others read them
        dls = factory(section, bs=opts["bs"], seed=opts["seed"])
        n_out = getattr(dls, "c", None)
        if not n_out:
            raise ConfigError(f"data kind {data['kind']!r} gave loaders without `c` (the number of outputs); the head cannot be sized.")
        pre = getattr(dls, "preprocessor", None)  # the data's input kind decides what the body is built for
        inputs = pre.input_spec() if pre is not None and getattr(dls, "n_in", None) is None else None
        model = graft(model_cfg["arch"], model_cfg["head"], n_out=n_out, weights=_weights(model_cfg["weights"]),
                      n_in=None if inputs is not None else getattr(dls, "n_in", None), inputs=inputs, cut=model_cfg["cut"],
                      head_kwargs=dict(model_cfg["head_kwargs"]), body_kwargs=dict(model_cfg["body_kwargs"]))
    model.vocab = list(getattr(dls, "vocab", None) or []) or None
    stats, n_in = model.body.stats, getattr(dls, "n_in", None)
    if stats is not None and hasattr(dls, "normalize") and (n_in is None or len(stats[0]) == n_in or n_in == 1):
        dls.normalize(*stats)  # the body's pretrained statistics, as vision_learner does
    out = Path(output["folder"])
    learn = Learner(dls, model, path=out, quiet=not ddp.is_main())
    if opts["precision"] != "fp32":
        learn.to_bf16() if opts["precision"] == "bf16" else learn.to_fp16()
    if opts["channels_last"]:
        learn.to_channels_last()
    if model.body.weights is not None:
        learn.freeze()
    lr = float(recipe["lr"])
    if recipe["lr_find"]:
        lr = float(learn.lr_find(plot_path=out / "lr_find.png").valley)
        if ddp.is_main():
            print(f"lr_find: valley at {lr:.3g}")
    with learn.distributed(sync_bn=opts["sync_bn"]) if ddp.is_active() else contextlib.nullcontext():
        if recipe["method"] == "fine_tune":
            adapters = None if recipe["adapters"] is None else lora_settings(recipe["adapters"])
            learn.fine_tune(recipe["epochs"], base_lr=lr, freeze_epochs=recipe["freeze_epochs"], adapters=adapters)
        elif recipe["method"] == "fit_one_cycle":
            learn.fit_one_cycle(recipe["epochs"], lr)
        else:
            learn.fit(recipe["epochs"], lr)
    head = learn.save_head(out / "head")
    summary = {"lr": lr, "world_size": ddp.world_size(), "metric_names": learn.recorder.metric_names[1:-1],
               "values": learn.recorder.values, "head": str(head), "config": config}
    ddp.on_main(lambda: (out / "train.json").write_text(json.dumps(summary, indent=1, default=str)), None)
    if output["push"]:
        revision = learn.push_head(output["push"], hub=output["hub"])
        if ddp.is_main():
            print(f"pushed {revision.ref}")
    if ddp.is_main():
        print(f"saved the head in {head}")
    return 0
