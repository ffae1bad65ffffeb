"""The `graftzoo` command line: list, info and plugins never import torch or plugin code."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Sequence

from graftzoo.errors import GraftzooError, UnknownNameError
from graftzoo.registry.cli_artifacts import ARTIFACT_COMMANDS, add_artifact_commands, cmd_info_artifact, is_artifact_ref
from graftzoo.spec import SPEC_CLASSES

KIND_CHOICES = tuple(SPEC_CLASSES)
from graftzoo.registry.cli_serve import add_serve_command, cmd_serve
from graftzoo.registry.cli_train import add_train_command, cmd_train


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="graftzoo", description="Transfer learning as a registry.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("list", help="list registered archs, heads, tasks or weight sources")
    p.add_argument("pattern", nargs="?", help="shell wildcard over full or bare names, e.g. 'resnet*'")
    p.add_argument("--kind", choices=sorted(KIND_CHOICES), default="archs")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--available", action="store_true",
                   help="archs only: just those whose default weights are on this machine now (packaged or cached)")

    p = sub.add_parser("info", help="describe an arch, head, task or weight source")
    p.add_argument("name")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("plugins", help="installed plugins and why any failed")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("demo", help="run a demo a plugin registers (fine-tune a pretrained body on shipped data)")
    p.add_argument("which", nargs="?", help="whose demo: a plugin namespace such as 'vision' (default: the highest priority)")
    p.add_argument("--list", action="store_true", help="list the demos installed plugins register")
    p.add_argument("--out", default="demo_output", help="folder for the plots and the saved head")
    p.add_argument("--epochs", type=int, default=None)

    add_artifact_commands(sub)
    add_train_command(sub)
    add_serve_command(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except GraftzooError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `graftzoo list | head`: the reader left; say nothing more
        sys.stderr.close()
        return 0


def cmd_list(args: argparse.Namespace) -> int:
    from graftzoo.registry import current
    from graftzoo.registry.availability import NOW, weights_status

    registry = current()
    if args.available and args.kind != "archs":
        raise GraftzooError(f"--available filters archs by their default weights; drop it for --kind {args.kind}")
    clashes = set(registry.collisions(args.kind))
    names = [n for n in registry.names(args.kind, args.pattern) if n not in clashes]
    for problem in registry.problems([args.kind]):
        print(f"warning: {_safe(problem)}; `graftzoo plugins` shows every plugin", file=sys.stderr)
    specs = [registry.get(args.kind, n) for n in names]
    if args.kind != "archs":
        if args.json:
            print(json.dumps([spec.to_dict() for spec in specs], indent=1))
        else:
            _print_table(["name", "description"], [[spec.name, spec.description] for spec in specs])
        return 0
    statuses = [weights_status(registry, spec) for spec in specs]
    if args.available:
        specs, statuses = [s for s, w in zip(specs, statuses) if w == NOW], [w for w in statuses if w == NOW]
    if args.json:
        print(json.dumps([{**spec.to_dict(), "weights_status": w} for spec, w in zip(specs, statuses)], indent=1))
        return 0
    _print_table(["name", "input", "weights", "plugin"], [_arch_row(spec, w) for spec, w in zip(specs, statuses)])
    if not args.available:
        print("weights: now = on this machine (packaged or cached), download = fetched on first use, "
              "- = no pretrained weights, ? = cannot tell; `graftzoo list --available` shows the first kind only", file=sys.stderr)
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    from graftzoo.registry import current
    from graftzoo.registry.describe import describe

    if is_artifact_ref(args.name):  # hf://, local://, ns/name@rev, or a folder holding graftzoo.json
        return cmd_info_artifact(args)
    try:
        info = describe(current(), args.name)
    except UnknownNameError:
        if args.name.count("/") != 1:
            raise
        try:  # perhaps a local-hub repo 'ns/name'
            return cmd_info_artifact(args)
        except GraftzooError:
            pass
        raise
    if args.json:
        print(json.dumps(info, indent=1))
    else:
        width = max(len(k) for k in info)
        for key, value in info.items():
            print(f"{key:<{width}}  {_text(value)}")
    return 0


def cmd_plugins(args: argparse.Namespace) -> int:
    from graftzoo.registry import current, plugins

    problems = current().problems()  # lists every kind first, so plugins whose hooks break show as failed
    records = plugins()
    for problem in problems:
        print(f"problem: {_safe(problem)}", file=sys.stderr)
    if args.json:
        print(json.dumps(records, indent=1))
        return 0
    rows = [[r["name"], r["distribution"], r["version"], r["status"], r["error"] or ""] for r in records]
    _print_table(["plugin", "distribution", "version", "status", "error"], rows)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """`graftzoo demo [WHICH]`: run the `demo` command a plugin registers in its manifest's `[[commands]]`."""
    from graftzoo.imports import import_attr
    from graftzoo.registry import current

    registry = current()
    if args.list:
        rows = [[n, registry.command(n).description] for n in registry.commands("demo")]
        _print_table(["demo", "description"], rows)
        return 0
    if not registry.commands("demo"):
        raise GraftzooError("no installed plugin registers a demo: install graftzoo-vision and graftzoo-timm (`make install`)")
    spec = registry.command(f"{args.which}/demo" if args.which else "demo")
    try:
        run_demo = import_attr(spec.factory)
    except ImportError as exc:
        raise GraftzooError(f"the {spec.name} demo of {spec.distribution} cannot be imported ({exc}): run `make install`") from exc
    return int(run_demo(out=args.out, epochs=args.epochs))


COMMANDS = {"list": cmd_list, "info": cmd_info, "plugins": cmd_plugins, "demo": cmd_demo, **ARTIFACT_COMMANDS, "train": cmd_train, "serve": cmd_serve}


def _arch_row(spec: Any, weights: str) -> list[str]:
    return [spec.name, input_text(spec), weights, spec.plugin]


def input_text(spec: Any) -> str:
    """`image 224x224` for image archs, else the input kind (`text/tokens`, `tabular/columns`)."""
    from graftzoo.inputs import IMAGE_KIND

    if spec.inputs != IMAGE_KIND:
        return str(spec.inputs)
    return "image " + "x".join(str(s) for s in spec.input_size[1:])


def _print_table(header: list[str], rows: list[list[str]]) -> None:
    rows = [[_safe(cell) for cell in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(header)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in [header, *rows]]
    sys.stdout.write("\n".join(lines) + "\n")


def _safe(text: str) -> str:
    """Text from a plugin's files, with control characters (terminal escapes, newlines) made visible."""
    text = str(text)
    return text if text.isprintable() else "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _text(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(_text(v) for v in value) if value else "-"
    return "-" if value is None or value == "" else str(value)


if __name__ == "__main__":
    raise SystemExit(main())
