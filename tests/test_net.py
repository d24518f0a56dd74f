"""artlib.net: the one download helper (cache, size cap, timeout, offline mode), against a local server."""

import http.server
import socket
import threading

import pytest

from artlib import net
from artlib.errors import OfflineError


@pytest.fixture
def server(tmp_path, monkeypatch):
    """Serve tmp_path/'www' on 127.0.0.1; artlib online, with its cache in tmp_path/'cache'."""
    root = tmp_path / "www"
    root.mkdir()
    monkeypatch.setenv("ARTLIB_OFFLINE", "0")
    monkeypatch.setenv("ARTLIB_CACHE_DIR", str(tmp_path / "cache"))

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(root), **kwargs)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_download_fetches_once_then_uses_the_cache(server):
    root, base = server
    (root / "hello.txt").write_bytes(b"hello")
    path = net.download(f"{base}/hello.txt")
    assert path.read_bytes() == b"hello" and path.name.endswith("hello.txt")
    (root / "hello.txt").write_bytes(b"changed")
    assert net.download(f"{base}/hello.txt").read_bytes() == b"hello"  # cached
    assert net.download(f"{base}/hello.txt", force=True).read_bytes() == b"changed"


def test_too_large_download_is_refused_and_leaves_nothing(server):
    root, base = server
    (root / "big.bin").write_bytes(b"x" * 5000)
    with pytest.raises(ValueError, match="limit"):
        net.download(f"{base}/big.bin", max_bytes=1000)
    target = net.cached_path(f"{base}/big.bin")
    assert not target.parent.exists() or list(target.parent.iterdir()) == []


def test_missing_page_is_an_offline_error_naming_the_url(server):
    _, base = server
    with pytest.raises(OfflineError, match="missing.png"):
        net.download(f"{base}/missing.png")


def test_offline_mode_opens_no_socket(monkeypatch, tmp_path):
    monkeypatch.setenv("ARTLIB_OFFLINE", "1")
    monkeypatch.setenv("ARTLIB_CACHE_DIR", str(tmp_path))

    def no_socket(*args, **kwargs):
        raise AssertionError("a socket was opened in offline mode")

    monkeypatch.setattr(socket, "socket", no_socket)
    with pytest.raises(OfflineError, match="ARTLIB_OFFLINE"):
        net.download("https://example.org/image.png")
    with pytest.raises(OfflineError):
        with net.socket_timeout():
            pass


def test_socket_timeout_sets_and_restores_the_default(monkeypatch):
    monkeypatch.setenv("ARTLIB_OFFLINE", "0")
    before = socket.getdefaulttimeout()
    with net.socket_timeout(3.0):
        assert socket.getdefaulttimeout() == 3.0
    assert socket.getdefaulttimeout() == before


def test_only_http_urls_are_downloaded():
    assert net.is_url("https://a/b.png") and net.is_url("HTTP://a") and not net.is_url("ftp://a")
    with pytest.raises(ValueError, match="not an http"):
        net.download("file:///etc/passwd")
