"""graftzoo.hashing, graftzoo.home and the atomic file writes: the one helper each."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from graftzoo.artifacts.atomic import atomic_file, write_text_atomic
from graftzoo.hashing import sha256_file
from graftzoo.home import graftzoo_home


def test_sha256_file_is_the_files_digest_and_sees_an_edit_that_keeps_size_and_mtime(tmp_path: Path) -> None:
    path = tmp_path / "weights.bin"
    path.write_bytes(b"a" * 3_000_000)
    assert sha256_file(path) == hashlib.sha256(b"a" * 3_000_000).hexdigest()
    info = path.stat()
    path.write_bytes(b"b" * 3_000_000)
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
    assert sha256_file(path) == hashlib.sha256(b"b" * 3_000_000).hexdigest()


def test_graftzoo_home_follows_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("GRAFTZOO_HOME", str(tmp_path / "gz"))
    assert graftzoo_home() == tmp_path / "gz"
    monkeypatch.delenv("GRAFTZOO_HOME")
    assert graftzoo_home() == Path.home() / ".cache" / "graftzoo"


def test_a_failed_atomic_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "cache.json"
    write_text_atomic(path, "old")
    with pytest.raises(RuntimeError):
        with atomic_file(path) as tmp:
            tmp.write_text("half writ")
            raise RuntimeError("killed")
    assert path.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache.json"]


def test_a_killed_writers_temporary_file_goes_with_the_next_write(tmp_path: Path) -> None:
    import subprocess
    import sys

    path = tmp_path / "cache.json"
    code = (
        "import os, sys; from graftzoo.artifacts.atomic import atomic_file\n"
        "with atomic_file(sys.argv[1]) as tmp:\n    tmp.write_text('half'); os.kill(os.getpid(), 9)"
    )
    subprocess.run([sys.executable, "-c", code, str(path)], timeout=60)
    assert len(list(tmp_path.iterdir())) == 1 and not path.exists()
    write_text_atomic(path, "new")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache.json"]
