"""Every fenced code block of README.md and docs/**/*.md runs offline, as written.

- ```python blocks run in order, one namespace per Markdown file: each file is one test, run in a
  subprocess whose working folder is a fresh temporary folder, with GRAFTZOO_HOME there (an empty
  local hub; the plugins' listings cached once per session),
  HF_HUB_OFFLINE=1 / GRAFTZOO_OFFLINE=1 and empty torch/Hugging Face caches, under a timeout.
- ```bash / ```sh / ```console blocks: `graftzoo ...` lines run through the CLI in the same
  process (in document order with the Python blocks); any other command must be one of
  NOT_RUNNABLE (installing, building, cloning) or the block must be marked no-run.
- ```toml and ```json blocks must parse.
- A block preceded by `<!-- no-run: REASON -->` is not run; the reason is required.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import shlex
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DRIVER = Path(__file__).with_name("run_doc_blocks.py")
TIMEOUT_S = 240
SHELL_LANGS = {"bash", "sh", "shell", "console"}
RUNNABLE_LANGS = {"python"} | SHELL_LANGS
# Shell commands the docs show but the test cannot run: they install, build or fetch.
NOT_RUNNABLE = ("pip install", "make", "git clone", "source", "cd")
# Files whose examples train for real: run with the slow tests.
SLOW_DOCS: dict[str, str] = {
    "docs/quickstart.md": "fine-tunes EfficientNet-Lite0 on 48 digits, lr_find included",
    "docs/segmentation-and-siamese.md": "trains a U-Net and two Siamese models",
}
FENCE = re.compile(r"^(\s*)(```+)\s*([\w+-]*)")
NO_RUN = re.compile(r"^<!--\s*no-run\s*(?::(.*?))?\s*-->$")


@dataclass(frozen=True)
class Block:
    """One fenced code block: where it is, its language, its code, and why it is not run (if it is not)."""

    file: str
    line: int  # line of the first code line, 1-based
    lang: str
    code: str
    no_run: str | None  # the marker's reason; "" for a marker without one

    @property
    def first_line(self) -> str:
        return next((ln.strip() for ln in self.code.splitlines() if ln.strip()), "")

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}: {self.first_line}"


def doc_files() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def read_blocks(path: Path, root: Path = ROOT) -> list[Block]:
    """The fenced code blocks of one Markdown file, with their no-run markers."""
    lines = path.read_text(encoding="utf-8").splitlines()
    name = path.relative_to(root).as_posix()
    blocks, i, previous = [], 0, ""
    while i < len(lines):
        fence = FENCE.match(lines[i])
        if not fence:
            if lines[i].strip():
                previous = lines[i].strip()
            i += 1
            continue
        indent, ticks, lang = len(fence.group(1)), fence.group(2), fence.group(3).lower()
        end = i + 1
        while end < len(lines) and not lines[end].strip().startswith(ticks):
            end += 1
        code = "\n".join(ln[indent:] for ln in lines[i + 1:end]) + "\n"
        marker = NO_RUN.match(previous)
        blocks.append(Block(name, i + 2, lang, code, (marker.group(1) or "").strip() if marker else None))
        previous, i = "", end + 1
    return blocks


def shell_commands(block: Block) -> list[str]:
    """The commands of a shell block: continuation lines joined; for `console`, the `$ ` lines only."""
    commands, pending = [], ""
    for raw in block.code.splitlines():
        line = raw.strip()
        if block.lang == "console":
            if not (line.startswith("$ ") or pending):
                continue
            line = line.removeprefix("$ ") if not pending else line
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line, pending = pending + line, ""
        if line and not line.startswith("#"):
            commands.append(line)
    return commands


def command_words(command: str) -> list[str]:
    """The command's words without leading `VAR=value` settings, `.venv/bin/` dropped from the program."""
    words = shlex.split(command, comments=True)
    while words and re.match(r"^\w+=", words[0]):
        words.pop(0)
    if words:
        words[0] = words[0].removeprefix(".venv/bin/")
    return words


def is_cli(command: str) -> bool:
    words = command_words(command)
    return bool(words) and words[0] == "graftzoo"


def is_not_runnable(command: str) -> bool:
    text = " ".join(command_words(command))
    return any(text == entry or text.startswith(entry + " ") for entry in NOT_RUNNABLE)


ALL_BLOCKS = [block for path in doc_files() for block in read_blocks(path)]
RUN_FILES = sorted({b.file for b in ALL_BLOCKS if b.lang in RUNNABLE_LANGS and b.no_run is None})


def _file_param(name: str) -> object:
    return pytest.param(name, id=name, marks=[pytest.mark.slow] if name in SLOW_DOCS else [])


def test_no_run_blocks_give_a_reason() -> None:
    skipped = [b for b in ALL_BLOCKS if b.no_run is not None]
    print("\n".join(f"no-run {b.where}  ({b.no_run})" for b in skipped))
    missing = [b.where for b in skipped if not b.no_run]
    assert not missing, f"`<!-- no-run: REASON -->` needs a reason: {missing}"


def test_shell_lines_are_cli_or_listed() -> None:
    stray = [
        f"{b.where}  -> `{command}`"
        for b in ALL_BLOCKS if b.lang in SHELL_LANGS and b.no_run is None
        for command in shell_commands(b) if not (is_cli(command) or is_not_runnable(command))
    ]
    assert not stray, (
        "shell lines that are neither `graftzoo ...` nor in NOT_RUNNABLE: mark the block "
        f"`<!-- no-run: REASON -->` or make it a graftzoo command:\n" + "\n".join(stray)
    )


def test_toml_and_json_blocks_parse() -> None:
    for block in ALL_BLOCKS:
        if block.no_run is not None:
            continue
        try:
            if block.lang == "toml":
                tomllib.loads(block.code)
            elif block.lang == "json":
                json.loads(block.code)
        except ValueError as exc:
            pytest.fail(f"{block.where}: does not parse as {block.lang}: {exc}")


@pytest.fixture(scope="session")
def registry_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A GRAFTZOO_HOME's `registry` folder with the plugins' listings cached, built once for every doc file."""
    home = tmp_path_factory.mktemp("seed-home")
    subprocess.run([sys.executable, "-m", "graftzoo", "list", "--kind", "archs"], env={**os.environ, "GRAFTZOO_HOME": str(home)},
                   capture_output=True, check=True, timeout=TIMEOUT_S)
    return home / "registry"


@pytest.mark.parametrize("name", [_file_param(n) for n in RUN_FILES])
def test_doc_blocks_run(name: str, tmp_path: Path, registry_cache: Path) -> None:
    runnable = [b for b in ALL_BLOCKS if b.file == name and b.lang in RUNNABLE_LANGS and b.no_run is None]
    payload = [
        {"file": b.file, "line": b.line, "lang": b.lang, "code": b.code, "first_line": b.first_line,
         "commands": [c for c in shell_commands(b) if is_cli(c)] if b.lang in SHELL_LANGS else []}
        for b in runnable
    ]
    blocks_file = tmp_path / "blocks.json"
    blocks_file.write_text(json.dumps(payload), encoding="utf-8")
    work = tmp_path / "work"
    work.mkdir()
    shutil.copytree(registry_cache, tmp_path / "home" / "registry")  # an empty hub, the listings already cached
    env = {
        **os.environ,
        "GRAFTZOO_HOME": str(tmp_path / "home"),
        "HF_HUB_OFFLINE": "1",
        "GRAFTZOO_OFFLINE": "1",
        "HF_HOME": str(tmp_path / "hf"),
        "TORCH_HOME": str(tmp_path / "torch"),
        "MPLBACKEND": "Agg",
        "OMP_NUM_THREADS": "1",
    }
    env.pop("GRAFTZOO_HF_CACHE", None)
    try:
        done = subprocess.run(
            [sys.executable, str(DRIVER), str(blocks_file)], cwd=work, env=env,
            capture_output=True, text=True, timeout=TIMEOUT_S,
        )
    except subprocess.TimeoutExpired as exc:
        last = [ln for ln in (exc.stdout or b"").decode(errors="replace").splitlines() if ln.startswith("--- ")]
        pytest.fail(f"{name}: timed out after {TIMEOUT_S} s in block {last[-1][4:] if last else '?'}")
    if done.returncode != 0:
        failed = [ln for ln in done.stderr.splitlines() if ln.startswith("DOC BLOCK FAILED")]
        head = failed[0] if failed else f"{name}: the block runner exited with status {done.returncode}"
        pytest.fail(f"{head}\n{done.stderr[-4000:]}", pytrace=False)


def test_the_runner_names_the_failing_file_and_block(tmp_path: Path) -> None:
    blocks = [
        {"file": "docs/x.md", "line": 3, "lang": "python", "code": "value = 41\n", "first_line": "value = 41", "commands": []},
        {"file": "docs/x.md", "line": 9, "lang": "python", "code": "value += 1\nassert value == 0, value\n",
         "first_line": "value += 1", "commands": []},
    ]
    (tmp_path / "blocks.json").write_text(json.dumps(blocks))
    done = subprocess.run([sys.executable, str(DRIVER), str(tmp_path / "blocks.json")], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "DOC BLOCK FAILED: docs/x.md:9: value += 1" in done.stderr  # one namespace: value was 41, now 42
    assert 'File "docs/x.md", line 10' in done.stderr and "AssertionError: 42" in done.stderr  # the doc's own line numbers


def test_blocks_markers_and_shell_lines_are_read_as_written(tmp_path: Path) -> None:
    doc = tmp_path / "docs" / "check.md"
    doc.parent.mkdir()
    text = (
        "# t\n\n<!-- no-run: needs a GPU -->\n```python\nimport cuda_thing\n```\n\n"
        "<!-- no-run -->\n```bash\nfoo\n```\n\n"
        "- a list item:\n\n  ```console\n  $ graftzoo list \\\n      'resnet*'\n  name  input\n  $ pip install x  # comment\n  ```\n"
    )
    doc.write_text(text)
    first, second, third = read_blocks(doc, tmp_path)
    assert (first.file, first.lang, first.line, first.no_run) == ("docs/check.md", "python", 5, "needs a GPU")
    assert second.no_run == ""  # a marker without a reason: test_no_run_blocks_give_a_reason fails on it
    assert third.no_run is None and shell_commands(third) == ["graftzoo list  'resnet*'", "pip install x  # comment"]
    assert is_cli(shell_commands(third)[0]) and is_not_runnable(shell_commands(third)[1])
    assert is_cli(".venv/bin/graftzoo info resnet34") and not is_not_runnable("torchrun -m graftzoo train x.toml")
