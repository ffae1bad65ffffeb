"""The `graftzoo push`, `pull`, `predict` subcommands, and `info` for a saved head.

`add_artifact_commands(subparsers)` adds the subcommands; `ARTIFACT_COMMANDS` maps their names to
the functions that run them. torch is imported inside `predict` only, so `graftzoo list` stays light.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any, Sequence, TextIO

from graftzoo.errors import GraftzooError

BATCH = 32  # images (or CSV rows) per forward pass in `predict`


def add_artifact_commands(sub: Any) -> None:
    """Add `push`, `pull` and `predict` to the `graftzoo` subparsers."""
    p = sub.add_parser("push", help="push a saved head folder to the local hub or the Hugging Face Hub")
    p.add_argument("folder", help="a folder written by save_head")
    p.add_argument("repo", help="'ns/name' (or hf://ns/name, local://ns/name, or another registered hub's scheme)")
    p.add_argument("--hub", default=None, help="a registered hub (`graftzoo list --kind hubs`): local, hf, ... (default: local)")
    p.add_argument("--message", default=None, help="commit message")
    p.add_argument("--private", action="store_true", help="create the Hub repo private (hf only)")

    p = sub.add_parser("pull", help="fetch a saved head and print its folder")
    p.add_argument("ref", help="'ns/name[@rev]', 'local://…' or 'hf://ns/name[@rev]'")
    p.add_argument("--to", default=None, help="copy it into this folder")

    p = sub.add_parser("predict", help="predict with a saved head: image files, or the rows of a CSV file")
    p.add_argument("ref", help="a saved head: folder, 'ns/name[@rev]' or 'hf://ns/name[@rev]'")
    p.add_argument("files", nargs="*", help="image files, or folders (every image file in them)")
    p.add_argument("--csv", default=None, help="a CSV file: each row is one item (a table row; needs pandas)")
    p.add_argument("--top-k", type=int, default=1, help="how many labels to show per file")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--no-server", action="store_true", help="predict in this process even when `graftzoo serve` runs")


def cmd_push(args: argparse.Namespace) -> int:
    from graftzoo.artifacts.push import push_head

    revision = push_head(args.folder, args.repo, hub=args.hub, private=args.private, commit_message=args.message)
    print(f"pushed {args.folder} as {revision.ref}")
    print(f"load it with: graftzoo.load_head({revision.ref!r})")
    return 0


def cmd_pull(args: argparse.Namespace) -> int:
    from graftzoo.artifacts.push import pull_head

    print(pull_head(args.ref, to=args.to))
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    """Predict files (folders give every image file in them) or CSV rows.

    A running `graftzoo serve` does the work when there is one (unless `--no-server`): same output,
    without importing torch and loading the head again. Files that cannot be read are reported on
    stderr and the rest are still predicted. Exit status: 0 when every file was predicted, 1 when
    some could not be read, 2 when none could.
    """
    if not args.no_server:
        from graftzoo.serving.predicting import predict_on_server

        reply = predict_on_server(args)
        if reply is not None:
            sys.stdout.write(reply["stdout"])
            sys.stderr.write(reply["stderr"])
            return int(reply["code"])
    from graftzoo.artifacts.load import load_head

    return run_predict(args, load_head, sys.stdout, sys.stderr)


def run_predict(args: argparse.Namespace, load: Callable[[str], Any], out: TextIO, err: TextIO) -> int:
    """`graftzoo predict` with the head that `load(args.ref)` gives, printing to `out` and `err`."""
    if args.top_k < 1:
        raise GraftzooError(f"--top-k must be at least 1, got {args.top_k}")
    if bool(args.files) == bool(args.csv):
        raise GraftzooError("give the items to predict: image files or folders, or --csv ROWS.csv (not both)")
    files = [] if args.csv else expand_files(args.files)
    model = load(args.ref)
    if args.csv:
        return _predict_rows(model, read_csv_rows(args.csv), args.top_k, args.json, out)
    rows = predict_files(model, files, args.top_k)
    failed = [row for row in rows if "error" in row]
    if args.json:
        print(json.dumps(rows, indent=1), file=out)
    for row in rows:
        if "error" in row:
            print(f"error: {row['error']}", file=err)
        elif not args.json:
            guesses = ", ".join(f"{g['label']} ({g['prob']:.3f})" for g in row["top_k"])
            print(f"{row['file']}: {guesses}", file=out)
    if failed:
        print(f"{len(failed)} of {len(rows)} files could not be read", file=err)
    return 0 if not failed else 2 if len(failed) == len(rows) else 1


def expand_files(items: Sequence[str]) -> list[str]:
    """The files to predict: each file as given, each folder's image files (by extension, sorted)."""
    from pathlib import Path

    from PIL import Image

    suffixes = set(Image.registered_extensions())
    files: list[str] = []
    for item in items:
        path = Path(item)
        if not path.is_dir():
            files.append(item)
            continue
        found = sorted(str(p) for p in path.iterdir() if p.is_file() and p.suffix.lower() in suffixes)
        if not found:
            raise GraftzooError(f"the folder {item!r} holds no image files ({', '.join(sorted(suffixes)[:6])}, ...)")
        files += found
    return files


def predict_files(model: Any, files: list[str], k: int) -> list[dict[str, Any]]:
    """One row per file: its top-k labels, or the error that kept it from being read.

    Batches of BATCH files; a batch with an unreadable file is retried one file at a time.
    """
    from graftzoo.artifacts.predict import top_k

    rows: list[dict[str, Any]] = []
    for start in range(0, len(files), BATCH):
        batch = files[start:start + BATCH]
        try:
            outputs = [(f, p) for f, p in zip(batch, model.predict(batch)[1])]
        except GraftzooError:
            outputs = [(f, _predict_one(model, f)) for f in batch]
        for f, probs in outputs:
            if isinstance(probs, GraftzooError):
                rows.append({"file": f, "error": str(probs)})
            else:
                rows.append({"file": f, "top_k": [{"label": lab, "prob": p} for lab, p in top_k(probs, model.vocab, k)]})
    return rows


def _predict_one(model: Any, file: str) -> Any:
    """The probabilities of one file, or the GraftzooError reading it raised."""
    try:
        return model.predict([file])[1][0]
    except GraftzooError as exc:
        return exc


def read_csv_rows(path: str) -> list[dict[str, Any]]:
    """The rows of a CSV file as dicts (column -> value; empty cells are NaN), read with pandas."""
    try:
        import pandas as pd
    except ImportError:
        raise GraftzooError("--csv reads the file with pandas, which is not installed: pip install pandas") from None
    try:
        frame = pd.read_csv(path, skipinitialspace=True)
    except (OSError, ValueError) as exc:  # missing file, empty or malformed CSV
        raise GraftzooError(f"cannot read the CSV file {path!r}: {exc}") from exc
    if frame.empty:
        raise GraftzooError(f"the CSV file {path!r} has no rows")
    rows: list[dict[str, Any]] = frame.to_dict("records")
    return rows


def _predict_rows(model: Any, rows: list[dict[str, Any]], k: int, as_json: bool, out: TextIO) -> int:
    """`predict --csv`: one decoded label (and the top-k outputs) per row."""
    from graftzoo.artifacts.predict import top_k

    found = []
    for start in range(0, len(rows), BATCH):
        labels, probs = model.predict(rows[start:start + BATCH])
        found += [{"row": start + i, "label": label, "top_k": [{"label": lab, "prob": p} for lab, p in top_k(row, model.vocab, k)]}
                for i, (label, row) in enumerate(zip(labels, probs))]
    if as_json:
        print(json.dumps(found, indent=1), file=out)
        return 0
    for row in found:
        print(f"row {row['row']}: {row['label']}", file=out)
    return 0


def cmd_info_artifact(args: argparse.Namespace) -> int:
    """`graftzoo info REF` for a saved head (`args.name`, `args.json`)."""
    from graftzoo.artifacts.describe import describe_artifact

    info = describe_artifact(args.name)
    if args.json:
        print(json.dumps(info, indent=1))
        return 0
    width = max(len(k) for k in info)
    for key, value in info.items():
        print(f"{key:<{width}}  {_text(value)}")
    return 0


def is_artifact_ref(name: str) -> bool:
    """Whether `graftzoo info NAME` should describe a saved head rather than a registered name.

    True for `<hub>://…` of any registered hub (`hf`, `local`, a plugin's), `ns/name@rev` and folders
    holding a `graftzoo.json`. A bare `ns/name` is a registry name first; `info` falls back to the
    local hub when no plugin has it.
    """
    from pathlib import Path

    scheme, sep, _ = name.partition("://")
    if "@" in name or (sep and scheme in _hub_schemes()):
        return True
    return (Path(name).expanduser() / "graftzoo.json").is_file()


def _hub_schemes() -> list[str]:
    from graftzoo.registry import current

    return current().schemes("hubs")


ARTIFACT_COMMANDS = {"push": cmd_push, "pull": cmd_pull, "predict": cmd_predict}


def main(argv: Sequence[str] | None = None) -> int:
    """Stand-alone entry point (`push`, `pull`, `predict`, `info`) until registry/cli.py dispatches these."""
    parser = argparse.ArgumentParser(prog="graftzoo")
    sub = parser.add_subparsers(dest="command", required=True)
    add_artifact_commands(sub)
    p = sub.add_parser("info", help="describe a saved head")
    p.add_argument("name")
    p.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    try:
        return {**ARTIFACT_COMMANDS, "info": cmd_info_artifact}[args.command](args)
    except GraftzooError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _text(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}={_text(v)}" for k, v in value.items()) if value else "-"
    if isinstance(value, (list, tuple)):
        return ", ".join(_text(v) for v in value) if value else "-"
    return "-" if value is None or value == "" else str(value)
