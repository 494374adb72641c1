"""The library's own database connections, which the guard's reach lets through
(:mod:`flask_testcase.isolation._reach`): the test's connection to each isolated
database, the schema step, creating and dropping test databases, throwaway servers.
Each has checks of its own.

It imports nothing, so that every module may mark its connections (``servers`` imports
only this module and :mod:`flask_testcase._testnames`).
"""

from __future__ import annotations

import contextlib
import threading
import typing as t

if t.TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["library_connections", "making_own"]

_local = threading.local()


@contextlib.contextmanager
def library_connections() -> Iterator[None]:
    """Connections this thread makes inside the block are the library's own."""
    depth = getattr(_local, "depth", 0)
    _local.depth = depth + 1
    try:
        yield
    finally:
        _local.depth = depth


def making_own() -> bool:
    """Whether this thread is inside :func:`library_connections`."""
    return bool(getattr(_local, "depth", 0))
