"""Downloading into the cache, against a loopback HTTP server: hash-checked, atomic, fast to fail."""

from __future__ import annotations

import functools
import hashlib
import socket
import threading
import time
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from graftzoo.errors import WeightsError
from graftzoo_torchvision.download import download, hash_prefix, offline, verify_hash


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        pass


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A loopback HTTP server serving the folder it yields with its base URL."""
    served = tmp_path / "served"
    served.mkdir()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(served)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", served
    finally:
        httpd.shutdown()
        httpd.server_close()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_hash_prefix_follows_torch_hub_names() -> None:
    assert hash_prefix("resnet18-f37072fd.pth") == "f37072fd"
    assert hash_prefix("mnasnet0.5_top1_67.823-3ffadce67e.pth") == "3ffadce67e"
    assert hash_prefix("weights.pth") is None


def test_verify_hash(tmp_path: Path) -> None:
    path = tmp_path / "blob.bin"
    path.write_bytes(b"graftzoo")
    digest = hashlib.sha256(b"graftzoo").hexdigest()
    verify_hash(path, digest[:8])
    verify_hash(path, None)
    with pytest.raises(WeightsError, match="Delete the file"):
        verify_hash(path, "00000000" if not digest.startswith("00000000") else "11111111")


@pytest.mark.parametrize(("value", "expected"), [("1", True), ("true", True), ("0", False), ("", False)])
def test_offline_switches(monkeypatch: pytest.MonkeyPatch, value: str, expected: bool) -> None:
    monkeypatch.delenv("GRAFTZOO_OFFLINE", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", value)
    assert offline() is expected


def test_download_checks_the_hash_and_lands_atomically(server: tuple[str, Path], tmp_path: Path) -> None:
    base, served = server
    payload = b"checkpoint bytes" * 1000
    name = f"tiny-{hashlib.sha256(payload).hexdigest()[:8]}.pth"
    (served / name).write_bytes(payload)
    dest = tmp_path / "cache" / name
    assert download(f"{base}/{name}", dest, hash_prefix(name), timeout=5) == dest
    assert dest.read_bytes() == payload
    assert [p.name for p in dest.parent.iterdir()] == [name]


def test_download_with_a_wrong_hash_leaves_nothing(server: tuple[str, Path], tmp_path: Path) -> None:
    base, served = server
    (served / "tiny-00000000.pth").write_bytes(b"something else")
    dest = tmp_path / "cache" / "tiny-00000000.pth"
    with pytest.raises(WeightsError, match="does not match"):
        download(f"{base}/tiny-00000000.pth", dest, "00000000", timeout=5)
    assert not any(dest.parent.iterdir())


def test_unreachable_host_fails_fast_with_where_to_put_the_file(tmp_path: Path) -> None:
    dest = tmp_path / "cache" / "resnet18-f37072fd.pth"
    url = f"http://127.0.0.1:{_closed_port()}/resnet18-f37072fd.pth"
    start = time.monotonic()
    with pytest.raises(WeightsError) as caught:
        download(url, dest, "f37072fd", timeout=2)
    assert time.monotonic() - start < 10
    assert url in str(caught.value) and str(dest) in str(caught.value)
    assert not dest.exists()


def test_missing_page_is_a_weights_error(server: tuple[str, Path], tmp_path: Path) -> None:
    base, _ = server
    with pytest.raises(WeightsError, match="404"):
        download(f"{base}/nothing-12345678.pth", tmp_path / "nothing-12345678.pth", "12345678", timeout=5)
