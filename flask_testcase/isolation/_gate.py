"""Threads taking turns on the test's one database connection (:class:`Gate`)."""

from __future__ import annotations

import contextlib
import threading
import time
import typing as t

from ._errors import IsolationError

if t.TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["Gate"]

# Hides this module's frames from unittest tracebacks, so a failure points at the test.
__unittest = True


class Gate:
    """Lets threads use the test's one database connection in turn.

    A statement runs alone. A transaction of a thread other than the one that began
    the isolation (the *home* thread) holds the connection until it ends, since
    savepoints must end in the reverse order of their start. The home thread's own
    transactions hold nothing: while it waits for a request served on another thread
    (a live server, say), that thread's savepoints nest inside its own.
    """

    def __init__(self, timeout: float) -> None:
        self.home = threading.get_ident()
        self.timeout = timeout
        self._cond = threading.Condition(threading.Lock())
        self._owner: int | None = None
        self._owner_name = ""
        self._owned = 0
        self._busy: int | None = None
        self._busy_depth = 0

    def _wait(self, me: int) -> None:
        deadline = time.monotonic() + self.timeout
        while self._owner not in (None, me) or self._busy not in (None, me):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                holder = self._owner_name or "another thread"
                raise IsolationError(
                    f"thread {threading.current_thread().name!r} waited {self.timeout:g} s"
                    f" for the test's database connection, which thread {holder!r} holds"
                    " with a transaction open. Threads share the test's one connection,"
                    " one transaction at a time: end each session or connection in the"
                    " thread that uses it (commit(), rollback() or close(), or pop its app"
                    " context) before another thread needs the database."
                )
            self._cond.wait(remaining)

    @contextlib.contextmanager
    def statement(self) -> Iterator[None]:
        me = threading.get_ident()
        with self._cond:
            self._wait(me)
            self._busy = me
            self._busy_depth += 1
        try:
            yield
        finally:
            with self._cond:
                self._busy_depth -= 1
                if not self._busy_depth:
                    self._busy = None
                    self._cond.notify_all()

    def hold(self) -> int | None:
        """Hold the connection for a transaction of this thread; returns the holder to
        pass to :meth:`release` (None for the home thread, which holds nothing)."""
        me = threading.get_ident()
        if me == self.home:
            return None
        with self._cond:
            self._wait(me)
            self._owner = me
            self._owner_name = threading.current_thread().name
            self._owned += 1
        return me

    def release(self, holder: int | None) -> None:
        if holder is None:
            return
        with self._cond:
            if self._owner == holder:
                self._owned -= 1
                if not self._owned:
                    self._owner = None
                    self._owner_name = ""
                    self._cond.notify_all()

    def reset(self) -> None:
        with self._cond:
            self._owner, self._owner_name, self._owned = None, "", 0
            self._cond.notify_all()
