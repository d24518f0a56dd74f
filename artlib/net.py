"""The one door to the network: every download in artlib goes through here.

:func:`download` fetches only ``http://`` and ``https://`` addresses (no ``file://``,
``ftp://`` or ``data:``, and no redirect to them), with a timeout on connecting and on
every read, and a size cap checked against the declared ``Content-Length`` and again
while streaming (a server that sends no length, or lies about it, is cut off at the cap).
It caches what it fetched and writes the cache file atomically: a refused, truncated,
interrupted or wrong (checksum) download leaves no file. With ``ARTLIB_OFFLINE=1`` it opens no socket at all.

Tests that need a server run one on 127.0.0.1 and unset ``ARTLIB_OFFLINE`` for that test
only (``tests/test_net.py``); nothing else lifts the offline guarantee.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import socket
import ssl
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from artlib import config
from artlib.atomic import atomic_path
from artlib.checks import positive_float, positive_int
from artlib.errors import ArtlibError, DataError, OfflineError

__all__ = ["download", "socket_timeout", "is_url", "cached_path"]

DEFAULT_TIMEOUT = 30.0  # seconds without an answer (to connect, or to each read) before a download gives up
DEFAULT_MAX_BYTES = 64 * 1024 * 1024  # refuse to download more than this
_CHUNK = 1 << 16  # bytes read at a time


def is_url(source: object) -> bool:
    """True for an ``http://`` or ``https://`` string."""
    return isinstance(source, str) and source.lower().startswith(("http://", "https://"))


def _check_online(what: str) -> None:
    if config.is_offline():
        raise OfflineError(
            f"{what} needs a download, but ARTLIB_OFFLINE=1 forbids network access; "
            "use a local file instead, or unset ARTLIB_OFFLINE."
        )


@contextlib.contextmanager
def socket_timeout(seconds: float = DEFAULT_TIMEOUT) -> Iterator[None]:
    """Give every socket opened inside the block a timeout (``keras.utils.get_file`` has none).

    Raises:
        OfflineError: on entry when ``ARTLIB_OFFLINE=1``.
    """
    _check_online("This step")
    old = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(old)


def cached_path(url: str, cache_subdir: str = "artlib", name: str | None = None) -> Path:
    """Where ``download(url)`` keeps its copy: ``name``, or a stable name derived from the URL."""
    if name is None:
        base = Path(urllib.parse.urlparse(url).path).name or "download"
        name = f"{hashlib.sha256(url.encode()).hexdigest()[:16]}-{base}"
    elif Path(name).name != name or name in (".", ".."):
        raise ArtlibError(f"a cache file name must be a plain file name; got {name!r}")
    return config.cache_dir() / cache_subdir / name


class _HttpOnlyRedirects(urllib.request.HTTPRedirectHandler):
    """Follow a redirect only to an http(s) address (urllib alone follows one to ``ftp://``)."""

    def http_error_302(self, req, fp, code, msg, headers):  # noqa: D102 - urllib's hook
        location = headers.get("Location") or headers.get("URI")
        if location is not None:
            new_url = urllib.parse.urljoin(req.full_url, location)
            if not is_url(new_url):
                fp.close()
                raise OfflineError(f"could not download {req.full_url}: the server redirects to {new_url!r}, "
                                   "which is not an http(s) address; artlib follows only http(s) redirects")
        return super().http_error_302(req, fp, code, msg, headers)

    http_error_301 = http_error_303 = http_error_307 = http_error_308 = http_error_302


def _opener() -> urllib.request.OpenerDirector:
    """A urllib opener that speaks http(s) only: no file://, ftp:// or data: handlers."""
    opener = urllib.request.OpenerDirector()
    for handler in (urllib.request.ProxyHandler(), urllib.request.UnknownHandler(), urllib.request.HTTPHandler(),
                    urllib.request.HTTPSHandler(), _HttpOnlyRedirects(), urllib.request.HTTPDefaultErrorHandler(),
                    urllib.request.HTTPErrorProcessor()):
        opener.add_handler(handler)
    return opener


def _declared_length(response) -> int | None:
    """The response's ``Content-Length`` as an int, or None when absent or not a number."""
    declared = (response.headers.get("Content-Length") or "").strip()
    return int(declared) if declared.isdigit() else None


def download(
    url: str,
    *,
    cache_subdir: str = "artlib",
    timeout: float = DEFAULT_TIMEOUT,
    max_bytes: int = DEFAULT_MAX_BYTES,
    force: bool = False,
    name: str | None = None,
    file_hash: str | None = None,
    hash_algorithm: str = "sha256",
) -> Path:
    """Fetch ``url`` once into the cache and return the local path.

    A cached copy is returned without touching the network. The file appears
    in the cache only when complete, so a refused, truncated or interrupted
    download leaves nothing.

    Args:
        url: An ``http(s)://`` address; a redirect may lead only to another one.
        cache_subdir: Folder under the cache directory (see ``config.cache_dir``).
        timeout: Seconds to wait to connect, and for each read, before giving up.
        max_bytes: Largest download accepted (checked on ``Content-Length`` and while reading).
        force: Download again even if a cached copy exists.
        name: The cached file's name (default: derived from the URL, see :func:`cached_path`).
        file_hash: The file's expected hex digest; a download that differs is discarded.
        hash_algorithm: ``hashlib``'s name for ``file_hash``'s algorithm (``"sha256"``, ``"md5"`` …).

    Returns:
        Path of the cached file.

    Raises:
        ArtlibError: the URL is not http(s) (``file://``, ``ftp://``, ``data:`` …), the download is
            larger than ``max_bytes``, or ``timeout``/``max_bytes`` is not positive.
        OfflineError: offline mode; the server could not be reached, did not answer within
            ``timeout``, answered with an HTTP error, redirected to a non-http(s) address, or sent
            fewer bytes than it announced.
        DataError: the download's digest is not ``file_hash`` (nothing is cached).
        DiskFullError: the cache's disk is full (see :mod:`artlib.atomic`).
    """
    if not is_url(url):
        raise ArtlibError(f"cannot download {url!r}: not an http(s) URL; artlib fetches only http:// and "
                          "https:// addresses (give a local file as a path instead)")
    timeout = positive_float(timeout, "timeout")
    max_bytes = positive_int(max_bytes, "max_bytes")
    target = cached_path(url, cache_subdir, name)
    digest = hashlib.new(hash_algorithm) if file_hash else None  # ValueError for an unknown algorithm
    if target.exists() and not force:
        return target
    _check_online(f"Fetching {url}")
    request = urllib.request.Request(url, headers={"User-Agent": "artlib"})
    try:
        with atomic_path(target) as tmp, open(tmp, "wb") as out, _opener().open(request, timeout=timeout) as resp:
            declared = _declared_length(resp)
            if declared is not None and declared > max_bytes:
                raise ArtlibError(f"{url} is {declared:,} bytes, more than the limit of {max_bytes:,}")
            size = 0
            while chunk := resp.read(_CHUNK):
                size += len(chunk)
                if size > max_bytes:  # no Content-Length, or a wrong one: stop at the cap
                    raise ArtlibError(f"{url} is larger than the limit of {max_bytes:,} bytes")
                out.write(chunk)
                if digest is not None:
                    digest.update(chunk)
            if declared is not None and size < declared:  # urllib returns a short body without a word
                raise OfflineError(f"could not download {url}: the connection ended after {size:,} of "
                                   f"{declared:,} bytes; try again")
            if digest is not None and digest.hexdigest() != file_hash.lower():
                raise DataError(f"{url} arrived with {hash_algorithm} {digest.hexdigest()}, not the expected "
                                f"{file_hash}; nothing was kept. Try again, or fetch the file by hand")
    except ArtlibError:
        raise
    except (urllib.error.URLError, http.client.HTTPException, ssl.SSLError, ConnectionError, TimeoutError) as err:
        reason = err.reason if isinstance(err, urllib.error.URLError) and not isinstance(
            err, urllib.error.HTTPError) else err
        if isinstance(reason, TimeoutError):  # socket.timeout is TimeoutError
            reason = f"no answer within {timeout:g} s; try again later, or raise the timeout"
        raise OfflineError(f"could not download {url}: {reason}") from err
    return target
