"""The one door to the network: every download in artlib goes through here.

It applies a timeout and a size cap, caches what it fetched, writes the cache
file atomically, and refuses to open a socket at all when ``ARTLIB_OFFLINE=1``.
"""

from __future__ import annotations

import contextlib
import hashlib
import socket
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from artlib import config
from artlib.atomic import atomic_path
from artlib.errors import OfflineError

__all__ = ["download", "socket_timeout", "is_url", "cached_path"]

DEFAULT_TIMEOUT = 30.0  # seconds without an answer before a download gives up
DEFAULT_MAX_BYTES = 64 * 1024 * 1024  # refuse to download more than this


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


def cached_path(url: str, cache_subdir: str = "artlib") -> Path:
    """Where ``download(url)`` keeps its copy: a stable name derived from the URL."""
    name = Path(urllib.parse.urlparse(url).path).name or "download"
    digest = hashlib.sha256(url.encode()).hexdigest()[:16]
    return config.cache_dir() / cache_subdir / f"{digest}-{name}"


def download(
    url: str,
    *,
    cache_subdir: str = "artlib",
    timeout: float = DEFAULT_TIMEOUT,
    max_bytes: int = DEFAULT_MAX_BYTES,
    force: bool = False,
) -> Path:
    """Fetch ``url`` once into the cache and return the local path.

    A cached copy is returned without touching the network. The file appears
    in the cache only when complete, so an interrupted download leaves nothing.

    Args:
        url: An ``http(s)://`` address.
        cache_subdir: Folder under the cache directory (see ``config.cache_dir``).
        timeout: Seconds to wait for the server before giving up.
        max_bytes: Largest download accepted.
        force: Download again even if a cached copy exists.

    Returns:
        Path of the cached file.

    Raises:
        OfflineError: offline mode, or the server could not be reached.
        ValueError: the URL is not http(s), or the download is larger than ``max_bytes``.
    """
    if not is_url(url):
        raise ValueError(f"not an http(s) URL: {url!r}")
    target = cached_path(url, cache_subdir)
    if target.exists() and not force:
        return target
    _check_online(f"Fetching {url}")
    request = urllib.request.Request(url, headers={"User-Agent": "artlib"})
    try:
        with atomic_path(target) as tmp, open(tmp, "wb") as out, \
                urllib.request.urlopen(request, timeout=timeout) as resp:
            declared = resp.headers.get("Content-Length")
            if declared is not None and declared.isdigit() and int(declared) > max_bytes:
                raise ValueError(f"{url} is {int(declared):,} bytes, more than the limit of {max_bytes:,}")
            size = 0
            while chunk := resp.read(1 << 16):
                size += len(chunk)
                if size > max_bytes:
                    raise ValueError(f"{url} is larger than the limit of {max_bytes:,} bytes")
                out.write(chunk)
    except (urllib.error.URLError, socket.timeout, ConnectionError, TimeoutError) as err:
        raise OfflineError(f"could not download {url}: {err}") from err
    return target
