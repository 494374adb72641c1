"""The patches: while any isolation is active, :class:`EnginePatches` (one object, all
class-level state) installs what isolation needs on SQLAlchemy's ``Engine`` and
dialects, and restores all of it when the last isolation ends.
"""

from __future__ import annotations

import threading
import typing as t

from .. import _internals
from ._dbapi import RawConnection

if t.TYPE_CHECKING:
    from sqlalchemy.engine import Connection
    from sqlalchemy.engine import Engine

    from .._internals import Joined
    from . import DatabaseIsolation

__all__ = ["EnginePatches"]

# Hides this module's frames from unittest tracebacks, so a failure points at the test.
__unittest = True


class EnginePatches:
    """The one object that patches other libraries while any isolation is active, and
    puts everything back when the last one ends (or :meth:`restore` is called after an
    interrupted test).

    - ``sqlalchemy.engine.Engine.connect``: an engine of an isolated database returns a
      joined connection (:meth:`JoinedConnections.join
      <flask_testcase.isolation._joined.JoinedConnections.join>` of the innermost
      isolation that has its database);
    - ``sqlalchemy.engine.Engine.raw_connection``: the same engine returns a
      :class:`~._dbapi.RawConnection` over a joined connection;
    - ``DefaultDialect._set_connection_characteristics``: see
      :class:`~flask_testcase._internals.CharacteristicsPatch`.
    """

    _lock = threading.Lock()
    active: t.ClassVar[list[DatabaseIsolation]] = []
    _characteristics: t.ClassVar[_internals.CharacteristicsPatch | None] = None
    _original: t.ClassVar[t.Any] = None
    _original_raw: t.ClassVar[t.Any] = None

    @classmethod
    def original_connect(cls, engine: Engine) -> Connection:
        """A connection from ``engine``'s own pool, patched or not."""
        from sqlalchemy.engine import Engine

        return _internals.connect_directly(cls._original or Engine.connect, engine)

    @classmethod
    def add(cls, isolation: DatabaseIsolation) -> None:
        from sqlalchemy.engine import Engine

        with cls._lock:
            if not cls.active:
                cls._original = vars(Engine)["connect"]
                original = cls._original

                def connect(engine: Engine) -> Connection:
                    joined = cls._joined(engine)
                    return original(engine) if joined is None else joined

                connect.__doc__ = original.__doc__
                Engine.connect = connect  # type: ignore[method-assign,assignment]
                cls._original_raw = vars(Engine)["raw_connection"]
                original_raw = cls._original_raw

                def raw_connection(engine: Engine) -> t.Any:
                    joined = None if _internals.connecting_directly() else cls._joined(engine)
                    if joined is None:
                        return original_raw(engine)
                    return RawConnection(joined.hooks, joined)

                raw_connection.__doc__ = original_raw.__doc__
                Engine.raw_connection = raw_connection  # type: ignore[method-assign,assignment]
                if cls._characteristics is None:
                    cls._characteristics = _internals.CharacteristicsPatch(
                        _internals.joined_connection_class()
                    )
                cls._characteristics.install()
            cls.active.append(isolation)

    @classmethod
    def _joined(cls, engine: Engine) -> Joined | None:
        """A joined connection for ``engine`` from the innermost isolation that has its
        database, or None."""
        for active in reversed(cls.active):
            if active.real_commits:
                # Its connections commit for real: nothing joins them.
                continue
            joined = active._joins.join(engine)
            if joined is not None:
                return joined
        return None

    @classmethod
    def remove(cls, isolation: DatabaseIsolation) -> None:
        with cls._lock:
            if isolation in cls.active:
                cls.active.remove(isolation)
            if not cls.active:
                cls._restore()

    @classmethod
    def _restore(cls) -> None:
        from sqlalchemy.engine import Engine

        if cls._original is not None:
            Engine.connect = cls._original  # type: ignore[method-assign]
            cls._original = None
        if cls._original_raw is not None:
            Engine.raw_connection = cls._original_raw  # type: ignore[method-assign]
            cls._original_raw = None
        if cls._characteristics is not None:
            cls._characteristics.restore()

    @classmethod
    def restore(cls) -> None:
        """End every isolation still active and restore every patch: for a test that
        ended without its cleanups (a ``KeyboardInterrupt``)."""
        for isolation in list(reversed(cls.active)):
            isolation.end()
        with cls._lock:
            cls.active.clear()
            cls._restore()
