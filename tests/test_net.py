"""artlib.net: the one download helper (http(s) only, cache, size cap, timeout, offline mode), against a local server.

The server runs on 127.0.0.1 in a thread; each test that uses it unsets ``ARTLIB_OFFLINE`` for
itself only, and the fixture lets sockets connect to that server and nowhere else.
"""

import http.server
import re
import socket
import threading

import pytest

from artlib import net
from artlib.errors import ArtlibError, OfflineError

SHORT = 0.3  # seconds: the timeout the slow routes exceed (they wait up to HANG, released at teardown)
HANG = 10.0
CAP = 1000  # bytes: the size cap of the size tests


def _routes(release: threading.Event) -> dict:
    """Special paths of the test server: name -> function(handler) that answers the request."""

    def answer(handler, status, headers, body=b""):
        handler.send_response(status)
        for key, value in headers.items():
            handler.send_header(key, value)
        handler.end_headers()
        if body:
            handler.wfile.write(body)

    def redirect(location, status=302):
        return lambda h: answer(h, status, {"Location": location})

    def chunked(h):  # no Content-Length: Transfer-Encoding chunked, 5 x 500 bytes
        h.protocol_version = "HTTP/1.1"
        answer(h, 200, {"Transfer-Encoding": "chunked", "Connection": "close"})
        for _ in range(5):
            h.wfile.write(b"1f4\r\n" + b"c" * 500 + b"\r\n")
        h.wfile.write(b"0\r\n\r\n")

    routes = {
        "/slow": lambda h: release.wait(HANG),  # accepts, then never answers
        "/stall": lambda h: (answer(h, 200, {"Content-Length": "100"}, b"s" * 10), h.wfile.flush(),
                             release.wait(HANG)),  # answers, then stops sending mid-body
        "/endless": lambda h: answer(h, 200, {}, b"e" * (5 * CAP)),  # no Content-Length: ends when closed
        "/chunked": chunked,
        "/claims-huge": lambda h: answer(h, 200, {"Content-Length": str(10**12)}, b"tiny"),
        "/claims-small": lambda h: answer(h, 200, {"Content-Length": "10"}, b"l" * (5 * CAP)),
        "/short": lambda h: answer(h, 200, {"Content-Length": "100"}, b"t" * 10),  # then closes
        "/to-hello": redirect("/hello.txt"),
        "/to-file": redirect("file:///etc/passwd"),
        "/to-ftp": redirect("ftp://127.0.0.1/hello.txt"),
        "/to-data": redirect("data:text/plain;base64,aGVsbG8="),
    }
    routes.update({f"/to-file-{code}": redirect("file:///etc/passwd", code) for code in (301, 303, 307, 308)})
    return routes


@pytest.fixture
def server(tmp_path, monkeypatch):
    """Serve tmp_path/'www' (plus the special routes) on 127.0.0.1; artlib online, cache in tmp_path/'cache'.

    Sockets may connect to this server only: a test cannot reach anything else, even online.
    """
    root = tmp_path / "www"
    root.mkdir()
    monkeypatch.setenv("ARTLIB_OFFLINE", "0")
    monkeypatch.setenv("ARTLIB_CACHE_DIR", str(tmp_path / "cache"))
    for name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    release = threading.Event()
    routes = _routes(release)

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(root), **kwargs)

        def do_GET(self):
            route = routes.get(self.path)
            return route(self) if route else super().do_GET()

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    address = httpd.server_address[:2]
    connect = socket.create_connection

    def loopback_only(where, *args, **kwargs):
        assert tuple(where[:2]) == address, f"a test tried to connect to {where}"
        return connect(where, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", loopback_only)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{address[1]}"
    release.set()
    httpd.shutdown()
    httpd.server_close()


def _cached_files(tmp_path):
    """Every file in the download cache (a refused download must leave none, not even a temporary one)."""
    cache = tmp_path / "cache"
    return sorted(p.relative_to(cache) for p in cache.rglob("*") if not p.is_dir()) if cache.exists() else []


def test_download_fetches_once_then_uses_the_cache(server):
    root, base = server
    (root / "hello.txt").write_bytes(b"hello")
    path = net.download(f"{base}/hello.txt")
    assert path.read_bytes() == b"hello" and path.name.endswith("hello.txt")
    (root / "hello.txt").write_bytes(b"changed")
    assert net.download(f"{base}/hello.txt").read_bytes() == b"hello"  # cached
    assert net.download(f"{base}/hello.txt", force=True).read_bytes() == b"changed"


def test_a_named_download_with_a_checksum_is_kept_only_when_it_matches(server, tmp_path):
    import hashlib

    from artlib.errors import DataError

    root, base = server
    (root / "w.bin").write_bytes(b"weights")
    md5 = hashlib.md5(b"weights").hexdigest()
    with pytest.raises(DataError, match="md5 .* not the expected"):
        net.download(f"{base}/w.bin", cache_subdir="models", name="w.h5", file_hash="0" * 32, hash_algorithm="md5")
    assert _cached_files(tmp_path) == []
    path = net.download(f"{base}/w.bin", cache_subdir="models", name="w.h5", file_hash=md5.upper(),
                        hash_algorithm="md5")
    assert path == tmp_path / "cache" / "models" / "w.h5" and path.read_bytes() == b"weights"
    for bad in ("../w.h5", "sub/w.h5", ".."):
        with pytest.raises(ArtlibError, match="plain file name"):
            net.download(f"{base}/w.bin", name=bad)


def test_the_vgg19_download_lands_where_the_weights_policy_looks_and_only_if_genuine(server, tmp_path, monkeypatch):
    import hashlib

    from artlib import data
    from artlib.style import weights

    root, base = server
    (root / "vgg.h5").write_bytes(b"not really VGG19")
    monkeypatch.setattr(weights, "VGG19_WEIGHTS_URL", f"{base}/vgg.h5")
    with pytest.raises(OfflineError, match="could not get the ImageNet VGG19 weights .*copy"):
        weights._download_vgg19()  # the real MD5 does not match this file
    assert _cached_files(tmp_path) == [] and data.find_vgg19_weights() is None
    monkeypatch.setattr(weights, "VGG19_WEIGHTS_MD5", hashlib.md5(b"not really VGG19").hexdigest())
    monkeypatch.setattr(weights, "VGG19_MAX_BYTES", 10)
    with pytest.raises(OfflineError, match=r"more than the limit of 10\)"):
        weights._download_vgg19()
    monkeypatch.setattr(weights, "VGG19_MAX_BYTES", 1000)
    path = weights._download_vgg19()
    assert path == data.find_vgg19_weights() and path.read_bytes() == b"not really VGG19"


def test_the_fashion_mnist_download_is_capped_checked_and_lands_in_the_keras_cache(server, tmp_path, monkeypatch,
                                                                                     capsys):
    import gzip
    import hashlib

    import numpy as np
    from test_data import make_fixture

    from artlib import data
    from artlib.errors import DataError

    root, base = server
    make_fixture(root / "fm", n_train=6, n_test=4, fill=7)
    monkeypatch.setattr(data, "FASHION_MNIST_URL", f"{base}/fm/")
    files = data.FASHION_MNIST_FILES
    contents = {key: hashlib.sha256(gzip.decompress((root / "fm" / name).read_bytes())).hexdigest()
                for key, name in files.items()}
    keras_cache = tmp_path / "cache" / "datasets" / "fashion-mnist"
    # Not the real Fashion-MNIST (the real digests): refused, nothing kept, and the next source is used.
    make_fixture(tmp_path / "shipped")
    loaded = data.load_fashion_mnist(sources=[data.Source("download"), data.Source("shipped-subset",
                                                                                      tmp_path / "shipped")])
    assert loaded.source.name == "shipped-subset"
    assert "download failed" in capsys.readouterr().out and _cached_files(tmp_path) == []
    # Over the size cap: refused while streaming.
    monkeypatch.setattr(data, "FASHION_MNIST_SHA256", contents)
    monkeypatch.setattr(data, "FASHION_MNIST_MAX_BYTES", 20)
    with pytest.raises(ArtlibError, match="more than the limit of 20"):
        data._download()
    assert _cached_files(tmp_path) == []
    # Genuine (by these digests): kept in the Keras cache, where the next load finds it offline.
    monkeypatch.setattr(data, "FASHION_MNIST_MAX_BYTES", 10**6)
    (x_train, y_train), (x_test, _) = data.load_fashion_mnist(sources=[data.Source("download")], verbose=False)
    assert x_train.shape == (6, 28, 28) and x_test.shape == (4, 28, 28) and (x_train == 7).all()
    assert sorted(p.name for p in keras_cache.iterdir()) == sorted(files.values())
    monkeypatch.setenv("ARTLIB_OFFLINE", "1")
    again = data.load_fashion_mnist(sources=[data.Source("keras-cache", keras_cache)], verbose=False)
    np.testing.assert_array_equal(again[0][1], y_train)
    # One file changed on the server: named, discarded, and the files already in the cache untouched.
    monkeypatch.setenv("ARTLIB_OFFLINE", "0")
    (root / "fm" / files["y_test"]).write_bytes(gzip.compress(b"not the labels"))
    monkeypatch.setattr(data.config, "cache_dir", lambda: tmp_path / "cache2")
    with pytest.raises(DataError, match=r"t10k-labels-idx1-ubyte.gz: the contents' sha256 is \w+, not"):
        data._download()
    assert not (tmp_path / "cache2" / "datasets" / "fashion-mnist").exists()
    assert not (tmp_path / "cache2" / "datasets" / "fashion-mnist-download" / files["y_test"]).exists()


def test_the_fashion_mnist_digests_are_those_of_a_real_copy():
    """The Debian package's copy, where this machine has it (its gzip headers differ from Keras's; contents not)."""
    from artlib import data

    if not all((data.DEBIAN_DIR / name).is_file() for name in data.FASHION_MNIST_FILES.values()):
        pytest.skip("no Debian copy of Fashion-MNIST here")
    for key, name in data.FASHION_MNIST_FILES.items():
        assert data._contents_sha256(data.DEBIAN_DIR / name) == data.FASHION_MNIST_SHA256[key], name


def test_too_large_download_is_refused_and_leaves_nothing(server, tmp_path):
    root, base = server
    (root / "big.bin").write_bytes(b"x" * 5000)
    with pytest.raises(ArtlibError, match="limit"):
        net.download(f"{base}/big.bin", max_bytes=CAP)
    assert _cached_files(tmp_path) == []


def test_declared_length_over_the_cap_is_refused_before_reading(server, tmp_path):
    _, base = server  # announces 10**12 bytes, sends 4: only the Content-Length check can refuse it
    with pytest.raises(ArtlibError, match=f"{10**12:,} bytes, more than the limit of {CAP:,}"):
        net.download(f"{base}/claims-huge", max_bytes=CAP)
    assert _cached_files(tmp_path) == []


@pytest.mark.parametrize("route", ["/endless", "/chunked"])
def test_no_content_length_is_cut_off_at_the_cap_while_streaming(server, tmp_path, route):
    _, base = server
    with pytest.raises(ArtlibError, match=f"larger than the limit of {CAP:,} bytes") as caught:
        net.download(f"{base}{route}", max_bytes=CAP)
    assert route in str(caught.value) and not isinstance(caught.value, OfflineError)
    assert _cached_files(tmp_path) == []


def test_a_small_content_length_bounds_what_is_read(server):
    _, base = server  # claims 10 bytes and sends 5,000: nothing past the claim is taken
    assert net.download(f"{base}/claims-small", max_bytes=CAP).read_bytes() == b"l" * 10


def test_a_body_shorter_than_announced_is_refused_not_cached(server, tmp_path):
    _, base = server
    with pytest.raises(OfflineError, match=r"/short.*ended after 10 of 100 bytes"):
        net.download(f"{base}/short")
    assert _cached_files(tmp_path) == []


@pytest.mark.parametrize("route", ["/slow", "/stall"])
def test_a_silent_server_times_out_with_a_clear_error(server, tmp_path, route):
    _, base = server  # /slow never answers; /stall stops in the middle of the body
    with pytest.raises(OfflineError, match=f"{route}: no answer within {SHORT:g} s"):
        net.download(f"{base}{route}", timeout=SHORT)
    assert _cached_files(tmp_path) == []


def test_missing_page_is_an_offline_error_naming_the_url(server):
    _, base = server
    with pytest.raises(OfflineError, match="missing.png.*404"):
        net.download(f"{base}/missing.png")


def test_a_redirect_to_another_http_page_is_followed(server):
    root, base = server
    (root / "hello.txt").write_bytes(b"hello")
    assert net.download(f"{base}/to-hello").read_bytes() == b"hello"


@pytest.mark.parametrize("route, where", [
    ("/to-file", "file:///etc/passwd"), ("/to-ftp", "ftp://127.0.0.1/hello.txt"),
    ("/to-data", "data:text/plain"), *((f"/to-file-{code}", "file:///etc/passwd") for code in (301, 303, 307, 308))])
def test_a_redirect_to_a_non_http_address_is_refused(server, tmp_path, route, where):
    _, base = server
    with pytest.raises(OfflineError, match=f"{route}: the server redirects to '{re.escape(where)}.*not an http"):
        net.download(f"{base}{route}")
    assert _cached_files(tmp_path) == []


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


@pytest.mark.parametrize("url", ["file:///etc/passwd", "FILE:///etc/passwd", "ftp://example.org/a.png",
                                 "data:image/png;base64,iVBORw0KGgo=", "javascript:alert(1)",
                                 "//example.org/a.png", "/etc/passwd", "httpx://example.org/a.png"])
def test_only_http_urls_are_downloaded(monkeypatch, url):
    monkeypatch.setenv("ARTLIB_OFFLINE", "0")  # refused for what it is, not because artlib is offline
    monkeypatch.setattr(socket, "socket", lambda *a, **k: pytest.fail("a socket was opened"))
    assert not net.is_url(url)
    with pytest.raises(ArtlibError, match=f"cannot download {re.escape(repr(url))}: not an http") as caught:
        net.download(url)
    assert not isinstance(caught.value, OfflineError)


def test_is_url_takes_http_and_https_in_any_case():
    assert net.is_url("https://a/b.png") and net.is_url("HTTP://a") and not net.is_url(b"http://a")


@pytest.mark.parametrize("kwargs", [{"timeout": 0}, {"timeout": -1.0}, {"max_bytes": 0}, {"max_bytes": 1.5}])
def test_nonsense_limits_are_refused(kwargs):
    with pytest.raises(ArtlibError, match=next(iter(kwargs))):
        net.download("https://example.org/a.png", **kwargs)
