"""Joined connections: every connection made to an isolated database during a test
joins the test's, and its transaction is a savepoint in the test's.

:class:`JoinedConnections` (one per isolation) knows the test's connection to each
database and which engines reach it (by engine and pool, by what names the database,
by what its server says it is); it hands out joined connections
(:func:`~flask_testcase._internals.joined_connection_class`), one set per level of
savepoints, and answers what each asks of the test's transaction: begin, commit and
roll back a savepoint, run a statement (threads take turns, :class:`~._gate.Gate`),
check a statement before it runs. What it keeps for one joined connection is that
connection's :class:`JoinedState`.
"""

from __future__ import annotations

import contextlib
import itertools
import typing as t
import weakref

from .. import _internals
from .._stacks import NOT_FOUND
from .._testnames import is_test_name
from ..databases import NotATestDatabaseError
from ..databases import is_test_database
from ._dbapi import SharedConnection
from ._errors import IsolationError
from ._guard import server_identity
from ._registry import databases
from ._registry import direct_connect
from ._registry import identity
from ._registry import index
from ._registry import is_memory
from ._sql import TRANSACTION_CONTROL
from ._sql import Change
from ._sql import harmless
from ._sql import refusal
from ._sql import session_changes
from ._sql import sniffer

if t.TYPE_CHECKING:
    from collections.abc import Iterator

    from sqlalchemy.engine import Connection
    from sqlalchemy.engine import Engine

    from .._internals import Joined
    from .._stacks import Stack
    from ._gate import Gate
    from ._registry import Database

__all__ = ["JoinedConnections", "JoinedState"]

# Hides this module's frames from unittest tracebacks, so a failure points at the test.
__unittest = True

#: Engines whose database was asked for its identity, and the answer.
_servers: weakref.WeakKeyDictionary[Engine, tuple[str, ...] | None] = weakref.WeakKeyDictionary()


class JoinedState:
    """What isolation keeps for one joined connection."""

    __slots__ = ("autocommit", "database", "holder", "main", "savepoint")

    def __init__(self, main: Connection, database: Database) -> None:
        #: The test's connection to the database, which the joined one runs on.
        self.main = main
        #: The database.
        self.database = database
        #: ``isolation_level="AUTOCOMMIT"``: each statement is a savepoint of its own.
        self.autocommit = False
        #: The savepoint of its open transaction (None: none open).
        self.savepoint: str | None = None
        #: The thread that holds the :class:`~._gate.Gate` for its open transaction
        #: (None: nobody, or the home thread).
        self.holder: int | None = None


class JoinedConnections:
    """The joined connections of one isolation, and what they ask of its transaction.

    :param stack: where the isolation's engines come from (:mod:`flask_testcase._stacks`).
    :param owner: who asked for the isolation, named in error messages.
    """

    def __init__(self, stack: Stack, owner: str) -> None:
        self.stack = stack
        self.owner = owner
        #: Threads taking turns on the test's connections; set when the isolation starts.
        self.gate: Gate | None = None
        #: Set when the isolation ends: joined connections refuse to run.
        self.ended = False
        #: The test's connection to each database, with its outer transaction.
        self.connections: dict[Database, Connection] = {}
        #: Engines and pools whose connections join the test's, and databases by identity.
        self.by_engine: weakref.WeakKeyDictionary[t.Any, Database] = weakref.WeakKeyDictionary()
        self.by_identity: dict[tuple[t.Any, ...], Database] = {}
        #: Joined connections handed out, one set per level of savepoints.
        self.levels: list[weakref.WeakSet[Joined]] = []
        #: The lists of :meth:`DatabaseIsolation.capture_queries
        #: <flask_testcase.DatabaseIsolation.capture_queries>` blocks now running.
        self.recorders: list[list[str]] = []
        #: Databases whose test connection was left with session state that ROLLBACK
        #: does not undo: it is reset when the isolation ends.
        self.dirty: set[Database] = set()
        #: The isolation holds data several tests share (class- or module-level): the
        #: session state of its connections cannot be reset between them.
        self.shared = False
        self._savepoint_ids = itertools.count(1)

    # -- the test's connections ------------------------------------------------------

    def add(self, database: Database, conn: Connection) -> None:
        """``conn`` is the test's connection to ``database``: its engine's connections
        join it from now on, and so do those of any engine whose URL names it."""
        self.connections[database] = conn
        self.by_engine[database.engine] = self.by_engine[database.engine.pool] = database
        known = identity(database.engine.url)
        if known is not None:
            self.by_identity[known] = database

    # -- levels ----------------------------------------------------------------------

    def push_level(self) -> None:
        """Joined connections handed out from now on belong to a new level."""
        self.levels.append(weakref.WeakSet())

    def pop_level(self) -> None:
        """Cut off the joined connections of the newest level, and let every thread
        take the connections again (their savepoints are being rolled back)."""
        level = self.levels.pop()
        for joined in list(level):
            joined.cut_off()
        if self.gate is not None:
            self.gate.reset()

    def cut_off_all(self) -> None:
        """Cut off every joined connection still open (no SQL): the test has ended."""
        for level in self.levels:
            for joined in list(level):
                joined.cut_off()
        self.levels.clear()

    # -- handing out joined connections (called by EnginePatches) ----------------------

    def join(self, engine: Engine) -> Joined | None:
        """A joined connection for ``engine`` if it reaches one of the test's databases,
        else None."""
        database = self.by_engine.get(engine) or self.by_engine.get(engine.pool)
        if database is None:
            known = identity(engine.url)
            if known is not None:
                database = self.by_identity.get(known) or self._by_server(engine)
            else:
                # In memory, an engine of db for another app (made inside the test)
                # is the same bind's database for the test.
                database = self._memory_database(engine)
            if database is None:
                return None
        joined = _internals.joined_connection_class()(
            engine,
            self,
            JoinedState(self.connections[database], database),
            database.engine.dialect,
        )
        self.levels[-1].add(joined)
        return joined

    def _by_server(self, engine: Engine) -> Database | None:
        """The isolated database ``engine`` reaches under another URL (another spelling
        of the host, a socket): asked once per engine, on a connection of its own."""
        backend = engine.dialect.name
        if not any(
            database.server is not None and database.server[0] == backend
            for database in self.connections
        ):
            return None
        if engine not in _servers:
            try:
                with direct_connect(engine) as conn:
                    _servers[engine] = server_identity(conn)
                    conn.rollback()
            except Exception:
                # Let the app's own connection attempt raise what it raises.
                return None
        server = _servers[engine]
        if server is None:
            return None
        for database in self.connections:
            if database.server == server:
                self.by_engine[engine] = database
                return database
        return None

    def _memory_database(self, engine: Engine) -> Database | None:
        key = self.stack.bind_key(engine)
        if key is NOT_FOUND:
            return None
        database = databases.get(index(engine.url, self.stack, key))
        return database if database in self.connections else None

    def reaches(self, engine: Engine) -> bool:
        """Whether ``engine``'s connections would join one of the test's databases."""
        if engine in self.by_engine or engine.pool in self.by_engine:
            return True
        known = identity(engine.url)
        if known is None:
            return self._memory_database(engine) is not None
        return known in self.by_identity or self._by_server(engine) is not None

    # -- what a joined connection asks (called by JoinedConnection) --------------------

    def shared_connection(self, conn: Joined) -> SharedConnection:
        """What ``conn.connection`` gives for a joined connection ``conn``."""
        return SharedConnection(self, conn)

    def begin(self, conn: Joined) -> None:
        self.check_open(conn)
        assert self.gate is not None
        state = conn.state
        if state.autocommit:
            # Each statement is its own savepoint (see statement()): nothing to hold.
            return
        state.holder = self.gate.hold()
        try:
            name = self.savepoint_name()
            with self.gate.statement():
                conn.dialect.do_savepoint(state.main, name)
            state.savepoint = name
        except BaseException:
            self.gate.release(state.holder)
            raise

    def savepoint_name(self) -> str:
        """A savepoint name no other open savepoint of this isolation has. Names repeat
        from one isolation to the next, so their statements stay in SQLAlchemy's
        compiled cache; MySQL would replace an open savepoint of the same name."""
        return f"ftc_{next(self._savepoint_ids)}"

    def commit(self, conn: Joined) -> None:
        self.check_open(conn)
        self._end_savepoint(conn, rollback=False)

    def rollback(self, conn: Joined) -> None:
        if not self.ended:
            self._end_savepoint(conn, rollback=True)

    def _end_savepoint(self, conn: Joined, rollback: bool) -> None:
        assert self.gate is not None
        state = conn.state
        name, state.savepoint = state.savepoint, None
        try:
            if name is not None:
                with self.gate.statement():
                    # A savepoint rolled back to is left in place, as SQLAlchemy leaves
                    # it: the next release or rollback below it ends it.
                    if rollback:
                        conn.dialect.do_rollback_to_savepoint(state.main, name)
                    else:
                        conn.dialect.do_release_savepoint(state.main, name)
        finally:
            self.gate.release(state.holder)
            state.holder = None

    @contextlib.contextmanager
    def statement(self, conn: Joined) -> Iterator[None]:
        self.check_open(conn)
        assert self.gate is not None
        state = conn.state
        with self.gate.statement():
            if not state.autocommit or state.savepoint is not None:
                yield
                return
            # Autocommit: each statement is a savepoint of its own, released at once,
            # so it is kept (for the test) even if a later one fails.
            name = self.savepoint_name()
            conn.dialect.do_savepoint(state.main, name)
            try:
                yield
            except BaseException:
                conn.dialect.do_rollback_to_savepoint(state.main, name)
                conn.dialect.do_release_savepoint(state.main, name)
                raise
            conn.dialect.do_release_savepoint(state.main, name)

    def executing(self, conn: Joined, statement: str) -> None:
        main = conn.state.main
        dialect = conn.dialect.name
        database = conn.state.database
        if harmless(statement):
            reason = None
            sniff = database.sniff
            if sniff is None:
                sniff = database.sniff = sniffer(dialect, database.others or ())
            scan = sniff(statement)
        else:
            reason = refusal(statement, dialect, lambda: _standard_strings(main))
            scan = True
        if reason is None and scan:
            for change in session_changes(
                statement,
                dialect,
                lambda: _standard_strings(main),
                databases=database.others or (),
            ):
                self.changing(conn, change, statement)
        if reason is not None:
            shown = " ".join(statement.split())
            raise IsolationError(
                f"{self.owner} runs in a transaction that is rolled back afterwards, and"
                f" refuses this statement: {reason}: {shown[:200]!r}. Make the schema"
                " before the tests (the library creates the tables of db's models once"
                " per run; remove create_all/drop_all and DDL from tests), and let"
                " sessions and connections commit instead of running transaction"
                " control as SQL."
            )
        if self.recorders and not TRANSACTION_CONTROL.match(statement):
            for queries in self.recorders:
                queries.append(statement)

    def changing(self, conn: Joined, change: Change, statement: str) -> None:
        """``conn`` is about to change session state that ROLLBACK does not undo: let
        it, and reset the test's connection when the isolation ends; or refuse where
        the state cannot be put back (or reaches a database not for tests)."""
        database = conn.state.database
        shown = " ".join(statement.split())[:200]
        if change.kind == "qualified":
            raise NotATestDatabaseError(
                f"flask_testcase refuses this statement of {self.owner}: on MySQL/MariaDB"
                f" {change.target}.name is a table in the database {change.target!r},"
                " which is not a test database (the test's is"
                f" {database.actual!r}): {shown!r}. Name the test database's tables"
                " without a database, or map the schema to a test database in the"
                " testing config (execution_options={'schema_translate_map': {...}})."
            )
        if change.kind == "use":
            target = change.target or ""
            if not (is_test_name(target) or target == database.actual):
                raise NotATestDatabaseError(
                    f"flask_testcase refuses to switch {self.owner}'s connection to the"
                    f" database {target!r} ({change.what}): its name does not mark it as a"
                    " test database, and everything after would run there. Keep to the"
                    " test's database, or point the testing config at a test database."
                )
        if change.kind == "attach":
            self._check_attach(change, shown)
        if is_memory(database.engine.url):
            raise IsolationError(
                f"{self.owner} runs on an in-memory SQLite database, and refuses this"
                f" statement: {change.what} stays on the connection after the test's"
                " rollback, and the only way to undo it, a new connection, would lose the"
                f" database itself: {shown!r}. Set it for every test where the connection"
                " is made (an event.listen(engine, 'connect', ...) in create_app), or use"
                " a SQLite file (sqlite:////tmp/test_app.db), whose connection is"
                " replaced after such a test."
            )
        if self.shared or len(self.levels) > 1:
            raise IsolationError(
                f"{self.owner} runs over data shared by several tests (setUpTestData, a"
                " data fixture), in a transaction that stays open between them, and"
                f" refuses this statement: {change.what} stays on the connection after a"
                " rollback, so the next test of the group would inherit it, and the"
                f" connection cannot be replaced before the group ends: {shown!r}. Move"
                " the test to a class or module without shared data, or set it for"
                " every test where the connection is made (an event.listen(engine,"
                " 'connect', ...))."
            )
        self.dirty.add(database)

    def _check_attach(self, change: Change, shown: str) -> None:
        import os

        target = change.target
        if target is None:
            raise IsolationError(
                f"{self.owner} refuses an ATTACH whose file is not given as a literal"
                f" (the guard must see it): {shown!r}. Write the file name in the"
                " statement."
            )
        path = target[5:].split("?", 1)[0] if target.startswith("file:") else target
        if path in {"", ":memory:"} or "mode=memory" in target:
            return
        path = os.path.abspath(path)
        from sqlalchemy.engine import make_url

        if not is_test_database(make_url("sqlite:///" + path)):
            raise NotATestDatabaseError(
                f"flask_testcase refuses {self.owner}'s ATTACH of {path!r}: its name does"
                " not mark it as a test database (test.db, test_*.db or *_test.db, or a"
                f" file under the temporary directory): {shown!r}. Attach a test"
                " database."
            )
        if not os.path.exists(path):
            raise IsolationError(
                f"{self.owner} refuses to ATTACH {path!r}: the file does not exist, and"
                " SQLite would create it, which no rollback undoes. Make the file"
                " before the tests (or attach ':memory:')."
            )

    def check_open(self, conn: Joined) -> None:
        if self.ended or _internals.pool_connection(conn) is None:
            raise IsolationError(
                f"this database connection belonged to {self.owner}, whose isolation has"
                " ended; a session or connection kept from it (a thread that outlived"
                " its test, an object stored globally) cannot be used any more. Open a"
                " new one in the code that needs it."
            )


def _standard_strings(conn: Connection) -> bool | None:
    """Whether PostgreSQL reads ``'...'`` without backslash escapes on ``conn``
    (``standard_conforming_strings``), as the server last reported it to the driver;
    None when the driver does not say (psycopg 3 and psycopg2 do)."""
    driver: t.Any = conn.connection.dbapi_connection
    info = getattr(driver, "info", None)
    if info is not None and callable(getattr(info, "parameter_status", None)):
        value = info.parameter_status("standard_conforming_strings")  # psycopg 3, psycopg2
    elif callable(getattr(driver, "get_parameter_status", None)):
        value = driver.get_parameter_status("standard_conforming_strings")  # old psycopg2
    else:
        return None
    if isinstance(value, bytes):
        value = value.decode()
    return {"on": True, "off": False}.get(value)
