"""A guard for the tools that run notebooks through nbclient (the test command's nbmake, time_notebooks.py).

nbclient waits for a cell's reply in one ``get_msg(timeout)`` of jupyter_client's asyncio channel, which is one
poll of a pyzmq socket as long as the cell timeout (nbmake's 300 s; time_notebooks.py's 3,600). Now and then
that poll misses the wake-up for a reply that has already arrived and sees it only in the check pyzmq makes
when the poll times out: the cell, long finished, "takes" the whole timeout more and then passes. Logged here in
a suite run: ``execute_reply`` on the shell socket after exactly 300.0 s, the kernel idle for minutes with its
work done and nothing queued on its sockets. :func:`slice_kernel_client_waits` makes every such wait a series of
polls of at most a second, so a missed wake-up costs a second; the caller's timeout still holds.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from queue import Empty
from typing import Any

WAIT_SLICE = 1.0  # seconds: the most a missed wake-up can cost


def sliced_get_msg(get_msg: Callable[..., Awaitable[Any]], slice_s: float = WAIT_SLICE,
                   clock: Callable[[], float] = time.monotonic) -> Callable[..., Awaitable[Any]]:
    """A channel's ``get_msg(timeout)`` that waits in polls of at most ``slice_s`` seconds.

    Args:
        get_msg: The channel method to wrap, ``async get_msg(self, timeout)`` raising ``queue.Empty`` on timeout.
        slice_s: The longest single poll.
        clock: Seconds, monotonic (a fake one in the tests).

    Returns:
        ``async get_msg(self, timeout=None)``: the first message, or ``queue.Empty`` once ``timeout`` has passed
        (None: wait for ever, in slices).
    """

    async def get_msg_in_slices(self: Any, timeout: float | None = None) -> Any:
        deadline = None if timeout is None else clock() + timeout
        while True:
            left = None if deadline is None else max(0.0, deadline - clock())
            try:
                return await get_msg(self, slice_s if left is None else min(slice_s, left))
            except Empty:
                if left is not None and left <= slice_s:
                    raise

    get_msg_in_slices.sliced = True  # type: ignore[attr-defined]
    return get_msg_in_slices


def slice_kernel_client_waits() -> None:
    """Install :func:`sliced_get_msg` on jupyter_client's async channels, once per process (no-op without it)."""
    try:
        from jupyter_client.channels import AsyncZMQSocketChannel
    except ImportError:  # no notebook tooling installed: nothing runs notebooks here
        return
    if not getattr(AsyncZMQSocketChannel.get_msg, "sliced", False):
        AsyncZMQSocketChannel.get_msg = sliced_get_msg(AsyncZMQSocketChannel.get_msg)
