"""Runs the code blocks of one Markdown file in order, as the doc-snippet test hands them over.

Usage: `python run_doc_blocks.py BLOCKS.json`, where the JSON is a list of
`{"file", "line", "lang", "code", "first_line"}`. ```python blocks run in one namespace, compiled
with the Markdown file's name and line numbers (tracebacks point into the doc); the `graftzoo ...`
lines of shell blocks run through the CLI's `main`. The first failure prints
`DOC BLOCK FAILED: FILE:LINE: FIRST LINE` and the traceback on stderr, and exits with status 1.
"""

from __future__ import annotations

import json
import shlex
import sys
import time
import traceback
from typing import Any


def run_python(block: dict[str, Any], namespace: dict[str, Any]) -> None:
    padded = "\n" * (block["line"] - 1) + block["code"]  # line numbers of the Markdown file
    exec(compile(padded, block["file"], "exec"), namespace)


def run_cli(line: str) -> None:
    from graftzoo.registry.cli import main

    argv = shlex.split(line, comments=True)[1:]
    try:
        status = main(argv)
    except SystemExit as exc:  # argparse rejects the command line
        status = exc.code if isinstance(exc.code, int) else 2
    if status != 0:
        raise RuntimeError(f"`{line}` exited with status {status}")


def main(blocks_file: str) -> int:
    blocks = json.loads(open(blocks_file, encoding="utf-8").read())
    namespace: dict[str, Any] = {"__name__": "__main__"}
    for block in blocks:
        print(f"--- {block['file']}:{block['line']}: {block['first_line']}", flush=True)
        start = time.perf_counter()
        try:
            if block["lang"] == "python":
                run_python(block, namespace)
            else:
                for line in block["commands"]:
                    run_cli(line)
        except BaseException:
            print(f"DOC BLOCK FAILED: {block['file']}:{block['line']}: {block['first_line']}", file=sys.stderr)
            traceback.print_exc()
            return 1
        print(f"    ({time.perf_counter() - start:.1f} s)", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1]))
