"""The DB-API connections code outside SQLAlchemy gets during a test: the test's own,
guarded so that nothing ends its transaction.

- :class:`RawConnection`: what ``engine.raw_connection()`` returns for an isolated
  database, with ``commit()`` and ``rollback()`` on a savepoint;
- :class:`SharedConnection`: ``connection.connection`` of a joined connection, which
  refuses to end the transaction that connection owns;
- :class:`RawCursor`: their cursors, which check each statement as joined connections
  do.
"""

from __future__ import annotations

import functools
import typing as t

from .. import _internals
from ._errors import IsolationError

if t.TYPE_CHECKING:
    from .._internals import Joined
    from ._joined import JoinedConnections

__all__ = ["DBAPIProxy", "DriverView", "RawConnection", "RawCursor", "SharedConnection"]

# Hides this module's frames from unittest tracebacks, so a failure points at the test.
__unittest = True


#: DB-API connection attributes that would commit or leave the test's transaction:
#: pymysql's ``begin()``/``autocommit()``, psycopg's and sqlite3's ``autocommit``,
#: isolation levels, two-phase commit. Reading a value is fine; setting it or calling
#: the method is refused.
_RAW_REFUSED = frozenset(
    {"autocommit", "set_autocommit", "begin", "isolation_level", "set_isolation_level",
     "set_session", "tpc_begin", "tpc_prepare", "tpc_commit", "tpc_rollback"}
)  # fmt: skip
#: DB-API connection shortcuts that run a statement on a cursor of their own (sqlite3's
#: and psycopg's ``execute()``): they run it on one of ours, which checks it.
_THROUGH_CURSOR = frozenset({"execute", "executemany", "executescript"})
#: Cursor methods that only read what a statement returned: no savepoint needed.
_CURSOR_READS = frozenset(
    {"fetchone", "fetchmany", "fetchall", "close", "scroll", "nextset", "setinputsizes",
     "setoutputsize"}
)  # fmt: skip


class DBAPIProxy:
    """The test's DB-API connection as code outside SQLAlchemy sees it: cursors whose
    statements are checked, and nothing that would end the test's transaction."""

    def __init__(self, hooks: JoinedConnections, joined: Joined) -> None:
        object.__setattr__(self, "_hooks", hooks)
        object.__setattr__(self, "_joined", joined)
        object.__setattr__(self, "_closed", False)

    _hooks: JoinedConnections
    _joined: Joined
    _closed: bool

    def __repr__(self) -> str:
        return f"<flask_testcase DB-API connection in the transaction of {self._hooks.owner}>"

    def _refuse(self, what: str) -> t.NoReturn:
        raise IsolationError(
            f"{self._hooks.owner} runs in a transaction that is rolled back"
            f" afterwards, and {what} would commit or leave it. {self._instead}"
        )

    def _check(self) -> None:
        if self._closed:
            raise IsolationError("this raw connection is closed")
        self._hooks.check_open(self._joined)

    def _begin(self) -> None:
        """Make sure the statements that follow run where :meth:`rollback` reaches."""

    def _dbapi(self) -> t.Any:
        # The pool's connection object under the joined connection (not the guarded
        # ``connection`` property).
        return _internals.pool_connection(self._joined)

    @property
    def driver_connection(self) -> DriverView:
        """The driver's connection, guarded like this object (the driver's own would
        commit outside the test's transaction)."""
        return DriverView(self)

    dbapi_connection = driver_connection

    def cursor(self, *args: t.Any, **kwargs: t.Any) -> RawCursor:
        self._check()
        return RawCursor(self, self._dbapi().cursor(*args, **kwargs))

    def _guarded(self, target: t.Any, name: str) -> t.Any:
        value = getattr(target, name)
        if name in _RAW_REFUSED and callable(value):

            def refused(*args: t.Any, **kwargs: t.Any) -> t.NoReturn:
                self._refuse(f"a DB-API connection's {name}()")

            return refused
        if name == "select_db" and callable(value):
            # pymysql's and mysqlclient's switch of the current database (USE).

            def select_db(db: t.Any, *args: t.Any, **kwargs: t.Any) -> t.Any:
                self._check()
                from ._sql import Change

                target = db.decode() if isinstance(db, bytes) else str(db)
                self._hooks.changing(
                    self._joined, Change("use", "select_db()", target), f"select_db({target!r})"
                )
                with self._hooks.statement(self._joined):
                    return value(db, *args, **kwargs)

            return select_db
        if name in _THROUGH_CURSOR and callable(value):

            def through_cursor(*args: t.Any, **kwargs: t.Any) -> t.Any:
                return getattr(self.cursor(), name)(*args, **kwargs)

            return through_cursor
        return value

    def _set(self, target: t.Any, name: str, value: t.Any) -> None:
        if name in _RAW_REFUSED:
            self._refuse(f"setting a DB-API connection's {name}")
        setattr(target, name, value)

    def __getattr__(self, name: str) -> t.Any:
        # The pool's object: its info dict, invalidate(); the driver's attributes.
        return self._guarded(self._dbapi(), name)

    def __setattr__(self, name: str, value: t.Any) -> None:
        self._set(self._dbapi(), name, value)

    _instead = "Use commit() and rollback(), which keep to the test's transaction."


class DriverView:
    """``driver_connection`` of a :class:`DBAPIProxy`: the driver's connection object
    (its ``info``, its methods), with the proxy's cursors, commit and rollback."""

    def __init__(self, proxy: t.Any) -> None:
        object.__setattr__(self, "_proxy", proxy)

    _proxy: t.Any

    def __repr__(self) -> str:
        return repr(self._proxy)

    @property
    def driver_connection(self) -> DriverView:
        return self

    dbapi_connection = driver_connection

    def cursor(self, *args: t.Any, **kwargs: t.Any) -> RawCursor:
        return self._proxy.cursor(*args, **kwargs)  # type: ignore[no-any-return]

    def commit(self) -> None:
        self._proxy.commit()

    def rollback(self) -> None:
        self._proxy.rollback()

    def close(self) -> None:
        self._proxy.close()

    def __enter__(self) -> DriverView:
        return self

    def __exit__(self, *exc_info: t.Any) -> None:
        self._proxy.__exit__(*exc_info)

    def __getattr__(self, name: str) -> t.Any:
        return self._proxy._guarded(self._proxy._dbapi().dbapi_connection, name)

    def __setattr__(self, name: str, value: t.Any) -> None:
        self._proxy._set(self._proxy._dbapi().dbapi_connection, name, value)


class RawConnection(DBAPIProxy):
    """What ``engine.raw_connection()`` returns for an isolated database during a test:
    the test's DB-API connection, through a joined connection of its own. Its
    ``commit()`` releases a savepoint and its ``rollback()`` rolls back to it, as a
    session's do; ``close()`` rolls back what was not committed, and leaves the test's
    connection open."""

    def _begin(self) -> None:
        self._check()
        if not self._joined.in_transaction():
            self._joined.begin()

    def commit(self) -> None:
        self._check()
        if self._joined.in_transaction():
            self._joined.commit()

    def rollback(self) -> None:
        if not self._closed and self._joined.in_transaction():
            self._joined.rollback()

    def close(self) -> None:
        if not self._closed:
            object.__setattr__(self, "_closed", True)
            self._joined.close()

    def __enter__(self) -> RawConnection:
        return self

    def __exit__(self, kind: type[BaseException] | None, *rest: t.Any) -> None:
        if kind is None:
            self.commit()
        else:
            self.rollback()


class SharedConnection(DBAPIProxy):
    """``connection.connection`` of a joined connection (``session.connection()
    .connection``): the DB-API connection a SQLAlchemy connection runs on, whose
    transaction is that connection's to end."""

    _instead = (
        "Commit or roll back the session or the SQLAlchemy connection instead (or use a"
        " connection of your own from engine.raw_connection())."
    )

    def commit(self) -> None:
        self._refuse("commit() on the DB-API connection under a SQLAlchemy connection")

    def rollback(self) -> None:
        self._refuse("rollback() on the DB-API connection under a SQLAlchemy connection")

    def close(self) -> None:
        self._refuse("close() on the DB-API connection under a SQLAlchemy connection")

    def __exit__(self, *exc_info: t.Any) -> None:
        self.commit()


class RawCursor:
    """A cursor of a :class:`DBAPIProxy`: each statement is checked (as joined
    connections' are) and, on a raw connection, runs in its savepoint."""

    def __init__(self, connection: DBAPIProxy, cursor: t.Any) -> None:
        self._connection = connection
        self._cursor = cursor

    def _run(self, method: t.Any, statement: t.Any, *args: t.Any, **kwargs: t.Any) -> t.Any:
        raw = self._connection
        raw._check()
        if isinstance(statement, (str, bytes)):
            text = statement.decode() if isinstance(statement, bytes) else statement
            raw._hooks.executing(raw._joined, text)
        return self._in_savepoint(method, statement, *args, **kwargs)

    def _in_savepoint(self, method: t.Any, *args: t.Any, **kwargs: t.Any) -> t.Any:
        """Call ``method`` in the raw connection's savepoint, one thread at a time."""
        raw = self._connection
        raw._begin()
        with raw._hooks.statement(raw._joined):
            return method(*args, **kwargs)

    def execute(self, statement: t.Any, *args: t.Any, **kwargs: t.Any) -> t.Any:
        return self._run(self._cursor.execute, statement, *args, **kwargs)

    def executemany(self, statement: t.Any, *args: t.Any, **kwargs: t.Any) -> t.Any:
        return self._run(self._cursor.executemany, statement, *args, **kwargs)

    def __iter__(self) -> t.Iterator[t.Any]:
        return iter(self._cursor)

    def __enter__(self) -> RawCursor:
        return self

    def __exit__(self, *exc_info: t.Any) -> None:
        self._cursor.close()

    def __getattr__(self, name: str) -> t.Any:
        value = getattr(self._cursor, name)
        if name in _CURSOR_READS or not callable(value):
            return value
        if name == "executescript":
            return self._executescript
        # COPY, callproc and the like.
        return functools.partial(self._in_savepoint, value)

    def _executescript(self, *args: t.Any, **kwargs: t.Any) -> t.NoReturn:
        raise IsolationError(
            f"{self._connection._hooks.owner} runs in a transaction that is rolled back"
            " afterwards, and executescript() would commit it: sqlite3 commits the open"
            " transaction before it runs the script. Run the script's statements one at"
            " a time with execute()."
        )
