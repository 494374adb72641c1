"""Database isolation: run a block of code, a test, a class of tests, in transactions
that are rolled back afterwards, on SQLAlchemy 2: for Flask-SQLAlchemy 3,
Flask-SQLAlchemy-Lite and plain SQLAlchemy alike (where each keeps its engines, tables
and sessions is its adapter's business: :mod:`flask_testcase._stacks`).

The building block is :class:`DatabaseIsolation`, usually entered through
:func:`database_isolation`::

    with database_isolation(db, app):
        client.post("/signup", data={"name": "ada"})   # commits, for the app
    # ...and nothing of it is in the database any more

How it works, in the order a test meets it (each part is a module of this package;
arrows point from here into them, never back, and none imports the test case or the
pytest plugin):

- **The run's engines** (``_registry``). The first engine the run sees for a database
  (the first app's) serves every later test on it: its pool gives each test an
  already open connection, and its dialect and statement cache stay warm. An
  in-memory SQLite database is one per ``db`` and bind, kept for the run.
- **The guard** (``_guard``). Before anything connects, the URL must name a test
  database (:func:`~flask_testcase.is_test_database`); on the first connection the
  database the server says it is connected to must too, and on MySQL no model may
  live in another database. Each refusal says what it saw and how to fix it.
  Its reach (``_reach``) is wider than ``db``: during a test every connection a pool
  hands out must reach a test database, and while an isolation is active be one of
  its own (the environment's guard step, for both front doors).
- **One connection and one outer transaction per database** (this module:
  :class:`DatabaseIsolation`, the lifecycle), with savepoints on top for nested
  levels (:meth:`DatabaseIsolation.savepoint`).
- **Every connection joins it** (``_joined``, ``_patches``). While an isolation is
  active, ``Engine.connect()`` for an engine of an isolated database (the app's, the
  run's, one derived with ``execution_options()``, another app's on the same database)
  returns a *joined* connection over the test's database connection, whose own
  transaction is a savepoint in the test's (``JoinedConnections``, each connection's
  state in one ``JoinedState``; ``EnginePatches`` is the one object that installs and
  restores every patch). Sessions, which connect through their engine, so run in
  savepoints too: app code may ``commit()``, ``rollback()`` and ``begin_nested()``
  freely.
- **Threads take turns** (``_gate``). Threads share the test's one database
  connection, one transaction at a time; a thread that waits too long gets an error
  naming the thread in its way.
- **DB-API connections** (``_dbapi``) from ``engine.raw_connection()`` are the test's
  own, with commit and rollback on a savepoint; the one under a joined connection
  refuses to end its transaction.
- **Statements that would end the transaction are refused** (``_sql``): ``COMMIT``,
  ``ROLLBACK`` and ``BEGIN`` as SQL, and on MySQL/MariaDB every statement that commits
  implicitly (DDL, ``LOCK TABLES``, ``SET autocommit``...).
  ``isolation_level="AUTOCOMMIT"`` makes each statement its own savepoint, released at
  once, instead of committing.
- **Session state** (``_sql``, ``_joined``): a statement that leaves state ROLLBACK
  does not undo (``SET``, locks, ``PREPARE``, a connection ``PRAGMA``...) marks the
  test's connection, which :meth:`DatabaseIsolation.end` then replaces instead of
  returning to the pool; where it cannot (in-memory SQLite, data several tests share)
  the statement is refused.

Private APIs of SQLAlchemy and the extensions are reached only through
:mod:`flask_testcase._internals`. This package imports SQLAlchemy only when used.
"""

from __future__ import annotations

import contextlib
import functools
import os
import typing as t
import weakref

from .. import _internals
from .. import schema as _schema
from .._own_connections import library_connections
from .._stacks import stack_for
from ..databases import before_drop
from . import _registry as registry
from ._errors import IsolationError
from ._gate import Gate
from ._guard import check_connected
from ._guard import check_schemas
from ._guard import check_url
from ._guard import connected_database
from ._guard import other_databases
from ._guard import server_identity
from ._joined import JoinedConnections
from ._patches import EnginePatches
from ._real import RealCommits
from ._real import reset_postgresql_sequences
from ._registry import close_all
from ._registry import database_for
from ._registry import direct_connect

if t.TYPE_CHECKING:
    from collections.abc import Iterator
    from collections.abc import MutableMapping

    import flask
    from sqlalchemy.engine import Connection
    from sqlalchemy.engine import Engine

    from .._stacks import Stack
    from ._registry import Database

__all__ = [
    "THREAD_WAIT_TIMEOUT",
    "DatabaseIsolation",
    "IsolationError",
    "covering",
    "database_isolation",
    "end_all",
    "mark_written",
]

# Hides this module's frames from unittest tracebacks, so a failure points at the test.
__unittest = True

#: How long a thread waits for the test's database connection while another thread
#: has a transaction open on it, in seconds.
THREAD_WAIT_TIMEOUT = 30.0

# Isolations begun and not ended; the exit handler ends any left (a class run without
# its class cleanups), since an open transaction blocks DROP DATABASE on MySQL.
_unended: weakref.WeakSet[DatabaseIsolation] = weakref.WeakSet()


def _dispose_databases() -> None:
    for isolation in list(_unended):
        isolation.end()
    close_all()


before_drop(_dispose_databases)


def covering(db: t.Any, app: flask.Flask) -> DatabaseIsolation | None:
    """The innermost active isolation of ``db`` (in any of its forms, see
    :func:`database_isolation`; None: of any database) that has every database of
    ``db`` for ``app`` (:meth:`DatabaseIsolation.covers`), or None."""
    source = None if db is None else stack_for(db).source
    for isolation in reversed(EnginePatches.active):
        if (source is None or isolation.stack.source == source) and isolation.covers(app):
            return isolation
    return None


def end_all() -> None:
    """End every database isolation still active and restore every patch: for a test
    interrupted (``KeyboardInterrupt``) before its cleanups ran."""
    EnginePatches.restore()
    for isolation in list(_unended):
        isolation.end()


class DatabaseIsolation:
    """Transactions around a block of code, one per database of ``db``, rolled back by
    :meth:`end`; see this module's description. :func:`database_isolation` is the usual
    way in.

    :param db: where the app's engines are: its :class:`flask_sqlalchemy.SQLAlchemy`
        or Flask-SQLAlchemy-Lite instance, a :class:`~flask_testcase.SQLAlchemyDatabase`
        (plain SQLAlchemy), or a tuple of them.
    :param create_schema: false: make no schema (``schema_from=None``).
    :param schema_from: how the schema is made, once per database per run, outside any
        transaction: ``"models"`` (``create_all``, skipping tables that exist),
        ``"migrations"`` (the app's migrations, upgraded to their heads) or None; see
        :mod:`flask_testcase.schema`.
    :param migrations_directory: the migrations directory (default: Flask-Migrate's).
    :param schema_hook: called with no arguments, in an app context, once the schema
        of the run's databases is built.
    :param allow_any_database: use databases whose name does not mark them as test
        databases (see :func:`~flask_testcase.is_test_database`).
    :param owner: who asked for it, named in error messages (e.g. a test's id).
    :param opt_in: how that owner sets ``allow_any_database``, for error messages.
    :param db_label: how that owner names ``db``, for error messages.
    :param reset_sequences: make primary keys start again after the highest one in
        each table (from 1 in an empty table), in this isolation and in each
        :meth:`savepoint`; see :meth:`reset_sequences`.
    :param thread_wait_timeout: how long a thread waits for the test's connection while
        another thread has a transaction open on it, in seconds.
    :param real_commits: real-commit mode: no transaction around the block; what it
        commits is committed for real, where other connections and processes see it,
        and when it ends (and each :meth:`savepoint` level) the tables written are
        emptied, their rows from before put back and their sequences reset (see
        :doc:`/real-commits`).
    :param shared: the isolation holds data several tests share, each in a
        :meth:`savepoint` (class- or module-level data): a statement that leaves session
        state ROLLBACK does not undo (``SET``, a lock...) is refused, since the
        connection cannot be replaced between those tests.
    """

    def __init__(
        self,
        db: t.Any,
        *,
        create_schema: bool = True,
        schema_from: str | None = "models",
        migrations_directory: str | os.PathLike[str] | None = None,
        schema_hook: t.Callable[[], object] | None = None,
        allow_any_database: bool = False,
        owner: str = "database_isolation()",
        opt_in: str = "pass allow_any_database=True to database_isolation()",
        db_label: str = "db",
        reset_sequences: bool = False,
        thread_wait_timeout: float | None = None,
        real_commits: bool = False,
        shared: bool = False,
    ) -> None:
        #: Where the engines, tables and sessions of ``db`` are.
        self.stack: Stack = stack_for(db, db_label)
        self.db = db
        self.db_label = db_label
        self.resets_sequences = reset_sequences
        self.schema = _schema.SchemaOptions.of(
            create_schema=create_schema,
            schema_from=schema_from,
            migrations_directory=migrations_directory,
            schema_hook=schema_hook,
            owner=owner,
        )
        self.create_schema = self.schema.schema_from is not None
        self.allow_any_database = allow_any_database
        self.owner = owner
        self.opt_in = opt_in
        self._timeout = THREAD_WAIT_TIMEOUT if thread_wait_timeout is None else thread_wait_timeout
        #: The test's connections, and every connection that joins them.
        self._joins = JoinedConnections(self.stack, owner)
        #: The test's connection to each database, with its outer transaction: the
        #: mapping the joined connections run on, which this lifecycle fills and ends.
        self._connections = self._joins.connections
        self._joins.shared = shared
        self._undo = contextlib.ExitStack()
        self._bound: dict[t.Hashable, Database] = {}
        #: Whether this isolation commits for real (:doc:`/real-commits`).
        self.real_commits = real_commits
        self._real: RealCommits | None = None

    # -- the lifecycle ---------------------------------------------------------------

    def start(self, app: flask.Flask) -> None:
        """Check, connect and begin: one connection and transaction per database of
        ``db`` for ``app``; from now on ``app``'s engines join them (:meth:`route`).

        :raises NotATestDatabaseError: a database is not a test database.
        """
        if self._joins.gate is not None:
            raise RuntimeError(f"{self.owner}: this isolation has started already")
        _internals.check_versions()
        if self.schema.schema_from == "models":
            unknown = self.stack.schema_unknown(self.db_label)
            if unknown is not None:
                raise ValueError(f"{self.owner}: {unknown}")
        engines = self._engines_of(app)
        databases = {key: self._database(app, key, engine) for key, engine in engines.items()}
        self._refuse_overlap(databases)
        self._bound = databases
        self._joins.gate = Gate(self._timeout)
        _unended.add(self)
        try:
            with library_connections():
                self._start(app, databases)
        except BaseException:
            self.end()
            raise

    def _start(self, app: flask.Flask, databases: dict[t.Hashable, Database]) -> None:
        """Schema, connections, transactions, patches (the library's own connections:
        the guard's reach lets them through)."""
        _schema.ensure_schema(
            app,
            self.stack,
            {key: database.engine for key, database in databases.items()},
            self.schema,
            check=functools.partial(self._check_new, app, databases),
            allow_any_database=self.allow_any_database,
            owner=self.owner,
        )
        for key, database in databases.items():
            if database not in self._connections:
                self._connect(app, key, database)
            metadata = self.stack.metadatas.get(key)
            if not self.allow_any_database:
                check_schemas(self.opt_in, self.stack, key, database, metadata)
        if self.real_commits:
            self._start_real()
        else:
            if self.resets_sequences:
                self._reset_mysql_counters()
            for conn in self._connections.values():
                self._begin(conn)
            if self.resets_sequences:
                self._reset_postgresql_sequences()
        self._joins.push_level()
        EnginePatches.add(self)
        self._undo.callback(EnginePatches.remove, self)
        self._undo.enter_context(self.route(app))

    def covers(self, app: flask.Flask) -> bool:
        """Whether this isolation is active and has every database of ``db`` for
        ``app``, so that a test of ``app`` can nest in it (:meth:`route`,
        :meth:`savepoint`) instead of isolating them a second time."""
        if self._joins.ended or self._joins.gate is None:
            return False
        try:
            engines = self.stack.engines(app)
        except Exception:
            return False
        if engines is None:
            return False
        for key, engine in engines.items():
            database = self._joins.by_engine.get(engine)
            if database is None:
                database = registry.databases.get(registry.index(engine.url, self.stack, key))
            if database is None or database not in self._connections:
                return False
        return True

    def _refuse_overlap(self, databases: dict[t.Hashable, Database]) -> None:
        """Two isolations of one database would hold two connections to it, each
        with a transaction the other cannot see: a write of one that clashes with
        the other's would wait for it forever. Refuse before connecting."""
        for other in list(_unended):
            if other is self:
                continue
            for key, database in databases.items():
                if database in other._connections:
                    raise IsolationError(
                        f"{self.owner} would isolate {self.stack.bind_name(key)} a second time:"
                        f" {other.owner} has it isolated already, on another connection,"
                        " and a write that clashes with one of its uncommitted rows would"
                        " wait for it forever. Nest in that isolation instead (its"
                        " route(app) and savepoint()), which TestCase and the pytest"
                        " plugin do for class-level and module-level data, or end it"
                        " first."
                    )

    def end(self) -> None:
        """Roll everything back and give the connections back; nothing stays patched.
        Joined connections still open are cut off: using one raises
        :class:`IsolationError`. Safe to call twice."""
        if self._joins.ended:
            return
        self._joins.ended = True
        _unended.discard(self)
        # Joined connections are cut off first (no SQL), then the transactions are
        # rolled back, then the patches restored.
        with contextlib.ExitStack() as stack:
            stack.push(self._undo)
            for database, conn in self._connections.items():
                if database in self._joins.dirty:
                    stack.callback(_reset, conn)
                else:
                    stack.callback(_close, conn)
            if self._real is not None:
                stack.callback(self._real.end)
            stack.callback(self._joins.cut_off_all)

    def __enter__(self) -> DatabaseIsolation:
        return self

    def __exit__(self, *exc_info: t.Any) -> None:
        self.end()

    @contextlib.contextmanager
    def route(self, app: flask.Flask) -> Iterator[None]:
        """While the block runs, ``db``'s engines for ``app`` (another app than the one
        :meth:`start` was given, say a new app per test over class-level data) serve
        the isolated databases: ``db.engines`` returns the run's engines, and
        connecting with the app's own joins the test's transaction.

        :raises NotATestDatabaseError: the app's databases are not test databases.
        """
        engines = self._engines_of(app)
        routes: dict[t.Any, Database] = {}
        homes: dict[t.Hashable, Engine] = {}
        for key, engine in engines.items():
            database = self._database(app, key, engine)
            if database not in self._connections:
                raise ValueError(
                    f"{self.owner}: {self.stack.bind_name(key)} of {app!r} is a database this"
                    " isolation did not start with; isolate each database from the start"
                )
            routes[engine] = routes[engine.pool] = database
            homes[key] = database.engine
        self.stack.record_queries(app, list(homes.values()))
        saved = dict(engines)
        self._joins.by_engine.update(routes)
        engines.update(homes)
        try:
            self._check_app(app)
            yield
        finally:
            engines.clear()
            engines.update(saved)
            for engine in saved.values():
                if engine not in self._homes():
                    # The app's own engines served nothing during the test, but
                    # create_app may have opened connections with them.
                    engine.dispose()

    @contextlib.contextmanager
    def savepoint(
        self, *, reset_sequences: bool | None = None, owner: str | None = None
    ) -> Iterator[None]:
        """A level on top of what is there: a savepoint on each database, rolled back
        after the block (a test over class-level data). Joined connections handed out
        inside the block are cut off after it.

        :param reset_sequences: reset primary keys at the start of the level (see
            ``reset_sequences`` of the class); None: as this isolation does.
        :param owner: who the level is for (a test), named in errors.

        In real-commit mode the level is no savepoint: what is committed inside is
        committed, and after the block the tables written in it get back the rows they
        had when it began.
        """
        assert self._joins.gate is not None, "start() first"
        if self._real is not None:
            self._real.push(owner)
            try:
                yield
            finally:
                self._real.pop()
            return
        resets = self.resets_sequences if reset_sequences is None else reset_sequences
        if resets and self._mysql_databases():
            raise ValueError(
                f"{self.owner}: reset_sequences cannot work on MySQL/MariaDB inside a"
                " wider transaction (class- or module-wide data): resetting AUTO_INCREMENT"
                " is DDL, which commits. Leave reset_sequences off there, or make the data"
                " in each test."
            )
        savepoints = [conn.begin_nested() for conn in self._connections.values()]
        self._joins.push_level()
        if resets:
            self._reset_postgresql_sequences()
        try:
            yield
        finally:
            self._joins.pop_level()
            for savepoint in reversed(savepoints):
                if savepoint.is_active:
                    savepoint.rollback()

    # -- real commits --------------------------------------------------------------

    @property
    def serializes_threads(self) -> bool:
        """Whether threads (the live server's requests) take turns on one connection:
        always in rollback mode; in real-commit mode only on in-memory SQLite, whose
        one connection every thread shares."""
        if not self.real_commits:
            return True
        return any(registry.is_memory(database.engine.url) for database in self._connections)

    def written(self, *tables: str) -> None:
        """Real-commit mode: the tables named were written where this process cannot
        see (a server or worker in another process); empty them after the test too.

        :raises ValueError: not in real-commit mode, or a name is not a table of the
            isolated databases.
        """
        if self._real is None:
            raise ValueError(
                f"{self.owner}: written() is for real-commit mode; in rollback mode every"
                " write is rolled back, wherever it ran"
            )
        self._real.written(*tables)

    def written_tables(self) -> list[str]:
        """Real-commit mode: the names of the tables written in the newest level so far
        (emptied after it), sorted; empty in rollback mode."""
        return [] if self._real is None else self._real.written_tables()

    def _start_real(self) -> None:
        metadatas: dict[Database, list[t.Any]] = {}
        for key, database in self._bound.items():
            metadata = self.stack.metadatas.get(key)
            found = metadatas.setdefault(database, [])
            if metadata is not None and metadata not in found:
                found.append(metadata)
        if self.resets_sequences:
            self._reset_mysql_counters()
            self._reset_postgresql_sequences()
            for conn in self._connections.values():
                conn.commit()
        self._real = RealCommits(self.owner, self._connections, metadatas, self._joins.recorders)
        self._real.start()

    # -- primary keys --------------------------------------------------------------

    def _tables(self, database: Database) -> list[t.Any]:
        """The tables of ``database`` whose primary key is one generated integer."""
        from sqlalchemy import Integer

        keys = [key for key, engine in self._bound.items() if engine is database]
        metadatas = self.stack.metadatas
        return [
            table
            for key in keys
            if key in metadatas
            for table in metadatas[key].tables.values()
            if len(table.primary_key.columns) == 1
            and table.primary_key.columns[0].autoincrement in (True, "auto")
            and isinstance(table.primary_key.columns[0].type, Integer)
        ]

    def _mysql_databases(self) -> list[Database]:
        return [d for d in self._connections if d.engine.dialect.name in {"mysql", "mariadb"}]

    def _reset_mysql_counters(self) -> None:
        # Outside the test's transaction (ALTER commits): InnoDB sets the counter to the
        # highest id + 1 when asked for 1.
        for database in self._mysql_databases():
            conn = self._connections[database]
            quote = conn.dialect.identifier_preparer.format_table
            for table in self._tables(database):
                conn.exec_driver_sql(f"ALTER TABLE {quote(table)} AUTO_INCREMENT = 1")
            conn.commit()

    def _reset_postgresql_sequences(self) -> None:
        for database, conn in self._connections.items():
            if conn.dialect.name == "postgresql":
                reset_postgresql_sequences(conn, self._tables(database))

    # -- queries -------------------------------------------------------------------

    @contextlib.contextmanager
    def capture_queries(self) -> Iterator[list[str]]:
        """Collect the SQL of each statement app code runs inside the block, on any
        thread; the savepoints (and ``BEGIN``) isolation adds are left out."""
        queries: list[str] = []
        self._joins.recorders.append(queries)
        try:
            yield queries
        finally:
            self._joins.recorders.remove(queries)

    # -- helpers ---------------------------------------------------------------------

    def _engines_of(self, app: flask.Flask) -> MutableMapping[t.Hashable, Engine]:
        engines = self.stack.engines(app)
        if engines is None:
            raise self.stack.missing(app, self.db_label)
        return engines

    def _check_app(self, app: flask.Flask) -> None:
        """Refuse what would be silently left out: a session of the stack bound to
        another database, or another stack on the app (an engine, a session factory,
        a second extension in ``app.extensions`` or on the app) whose database this
        isolation does not have."""
        self.stack.check(app, self._joins.reaches, self.db_label)
        for where, value in _sql_objects(app):
            if self.stack.owns(value):
                continue
            for engine in _engines_in(value, app):
                if self._joins.reaches(engine):
                    continue
                shown = engine.url.render_as_string(hide_password=True)
                what = _a(type(value).__name__)
                raise IsolationError(
                    f"{self.owner}: {where} ({what}) reaches {shown}, a database"
                    f" that {self.db_label} does not isolate: its writes would be committed"
                    " for real. Isolate it too, giving every stack the app uses as a tuple"
                    f" ({self.db_label} = (db, SQLAlchemyDatabase(engine, Base.metadata))),"
                    " or point it at one of the test's databases."
                )

    def _homes(self) -> set[Engine]:
        return {database.engine for database in self._connections}

    def _database(self, app: flask.Flask, key: t.Hashable, engine: Engine) -> Database:
        if not self.allow_any_database:
            check_url(self.opt_in, app, self.stack, key, engine)
        return database_for(engine.url, self.stack, key, engine)

    def _check_new(
        self,
        app: flask.Flask,
        databases: dict[t.Hashable, Database],
        key: t.Hashable,
        conn: Connection,
    ) -> None:
        """The guard, for a connection the schema step makes before any DDL."""
        if self.allow_any_database:
            return
        database = databases[key]
        check_connected(self.opt_in, app, self.stack, key, database, conn)
        check_schemas(self.opt_in, self.stack, key, database, self.stack.metadatas.get(key))

    def _connect(self, app: flask.Flask, key: t.Hashable, database: Database) -> None:
        conn = direct_connect(database.engine)
        try:
            if not self.allow_any_database:
                check_connected(self.opt_in, app, self.stack, key, database, conn)
            elif database.actual is None:
                database.actual = connected_database(conn)
            if database.server is None:
                database.server = server_identity(conn)
            if database.others is None:
                database.others = other_databases(conn, database.actual)
            # The check's own transaction; the test's begins in _begin().
            conn.rollback()
        except BaseException:
            # Not back to the pool: the connection may be to a database never to use.
            conn.invalidate()
            _close(conn)
            raise
        self._joins.add(database, conn)

    def _begin(self, conn: Connection) -> None:
        conn.begin()
        if conn.dialect.name == "sqlite":
            # pysqlite begins a transaction only before INSERT/UPDATE/DELETE, so a
            # SAVEPOINT (every joined connection's first statement) would run outside
            # one, and its RELEASE would commit. SQLAlchemy's documented fix emits
            # BEGIN at the start; an app that installed that fix has begun already.
            raw = conn.connection.driver_connection
            if not getattr(raw, "in_transaction", True):
                conn.exec_driver_sql("BEGIN")


def _close(conn: Connection) -> None:
    # Closing rolls back the outer transaction and returns the connection to its pool.
    conn.close()


def _reset(conn: Connection) -> None:
    """Give back a connection left with session state ROLLBACK does not undo: roll back,
    release what a new connection might still see held for a moment (advisory and
    named locks: the server frees them only once it has noticed the disconnect), then
    drop the DB-API connection, so that the pool makes a fresh one."""
    try:
        conn.rollback()
        backend = conn.dialect.name
        if backend == "postgresql":
            conn.exec_driver_sql("SELECT pg_advisory_unlock_all()")
        elif backend in {"mysql", "mariadb"}:
            conn.exec_driver_sql("SELECT RELEASE_ALL_LOCKS()")
        conn.rollback()
    except Exception:
        pass  # the connection is dropped anyway
    finally:
        try:
            conn.invalidate()
        finally:
            conn.close()


@contextlib.contextmanager
def database_isolation(
    db: t.Any,
    app: flask.Flask | None = None,
    *,
    create_schema: bool = True,
    schema_from: str | None = "models",
    migrations_directory: str | os.PathLike[str] | None = None,
    schema_hook: t.Callable[[], object] | None = None,
    allow_any_database: bool = False,
    real_commits: bool = False,
) -> Iterator[DatabaseIsolation]:
    """Run the block in transactions rolled back afterwards, one per database of
    ``db``: whatever app code commits inside, in any thread, in client requests or CLI
    commands, is gone after the block. Usable anywhere, no ``TestCase`` needed::

        with app.app_context(), database_isolation(db):
            db.session.add(User(name="ada"))
            db.session.commit()
            assert client.get("/users").json == ["ada"]
        # the user is not in the database

    The block may nest further levels with :meth:`DatabaseIsolation.savepoint`.

    :param db: where the app's engines are: its :class:`flask_sqlalchemy.SQLAlchemy`
        instance, its Flask-SQLAlchemy-Lite instance, a
        :class:`~flask_testcase.SQLAlchemyDatabase` for plain SQLAlchemy, or a tuple of
        them for an app that uses several (see the database chapter).
    :param app: the app whose engines to isolate; defaults to ``current_app``.
    :param create_schema: false: make no schema (the same as ``schema_from=None``).
    :param schema_from: how the schema is made first, once per database per run,
        outside the transaction: ``"models"`` (``create_all`` of ``db``'s models),
        ``"migrations"`` (the app's migrations, upgraded to their heads) or None (the
        tables are there); see :doc:`/migrations`.
    :param migrations_directory: the migrations directory for ``"migrations"``
        (default: Flask-Migrate's, ``migrations``).
    :param schema_hook: a function called with no arguments once the schema of the
        run's databases is built, in an app context whose ``db`` reaches them; what it
        commits every test sees.
    :param allow_any_database: use databases not named for tests.
    :param real_commits: commit for real inside the block; afterwards the tables it
        wrote are emptied and their rows from before put back (:doc:`/real-commits`).
    :raises NotATestDatabaseError: a database is not a test database.
    :raises MigrationError: the migrations could not be found or run.
    """
    if app is None:
        from flask import current_app

        app = current_app._get_current_object()  # type: ignore[attr-defined]
    isolation = DatabaseIsolation(
        db,
        create_schema=create_schema,
        schema_from=schema_from,
        migrations_directory=migrations_directory,
        schema_hook=schema_hook,
        allow_any_database=allow_any_database,
        real_commits=real_commits,
    )
    isolation.start(app)
    try:
        # A session of the current app context made before the block began outside
        # it; the block's sessions begin inside.
        isolation.stack.remove_sessions()
        yield isolation
    finally:
        try:
            isolation.stack.remove_sessions()
        finally:
            isolation.end()


def mark_written(*tables: str) -> None:
    """In a real-commit test (:doc:`/real-commits`): the tables named were written
    where this process cannot see (a server or worker in a subprocess), so empty them
    after the test too. Writes made in this process are seen without it.

    :raises ValueError: the running test is not in real-commit mode, or a name is not a
        table of its databases.
    """
    from .._current import NoCurrentTest
    from .._current import current

    try:
        isolation = current("isolation").isolation
    except NoCurrentTest:
        isolation = None
    if isolation is None:
        raise ValueError(
            "mark_written() names tables the running real-commit test wrote from another"
            " process, and no test with a database is running: call it in a test of a"
            " TestCase with db and real_commits = True, or of a pytest test with db and"
            " @pytest.mark.real_commits"
        )
    isolation.written(*tables)


def _a(name: str) -> str:
    return f"{'an' if name[0] in 'AEIOU' else 'a'} {name}"


def _sql_objects(app: flask.Flask) -> Iterator[tuple[str, t.Any]]:
    """What on ``app`` (its extensions, its attributes) could reach a database: engines,
    session factories, the SQLAlchemy extensions."""
    from sqlalchemy.engine import Engine
    from sqlalchemy.orm import scoped_session
    from sqlalchemy.orm import sessionmaker

    from .._stacks import is_instance

    def reaching(value: object) -> bool:
        return (
            isinstance(value, (Engine, sessionmaker, scoped_session))
            or is_instance(value, "flask_sqlalchemy", "SQLAlchemy")
            or is_instance(value, "flask_sqlalchemy_lite", "SQLAlchemy")
        )

    for name, value in list(app.extensions.items()):
        if reaching(value):
            yield f"app.extensions[{name!r}]", value
    for name, value in list(vars(app).items()):
        if reaching(value):
            yield f"app.{name}", value


def _engines_in(value: t.Any, app: flask.Flask) -> list[Engine]:
    from sqlalchemy.engine import Engine
    from sqlalchemy.orm import scoped_session
    from sqlalchemy.orm import sessionmaker

    if isinstance(value, Engine):
        return [value]
    if isinstance(value, (scoped_session, sessionmaker)):
        factory = value.session_factory if isinstance(value, scoped_session) else value
        kw = factory.kw
        bound = [kw.get("bind"), *(kw.get("binds") or {}).values()]
        return [b for b in (getattr(b, "engine", b) for b in bound) if isinstance(b, Engine)]
    engines = stack_for(value).engines(app)
    return list((engines or {}).values())
