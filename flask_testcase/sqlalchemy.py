"""Database isolation for Flask-SQLAlchemy 3.1 on SQLAlchemy 2.x.

With ``db`` set on a :class:`~flask_testcase.TestCase`, :func:`isolate_test` runs each
test inside one transaction per database, rolled back afterwards:

- **One engine per database for the run.** The first engine the run sees for a URL
  (the first app's) is kept in :data:`_databases` and serves every test on that URL:
  its pool gives the test its connection (in-memory SQLite keeps its one connection,
  and so its tables, for the whole run) and its dialect and statement cache stay warm.
  During a test, the app's engine mapping in Flask-SQLAlchemy is pointed at these
  engines, and restored afterwards; the app's own engines are disposed after the test
  (they served nothing, but ``create_app`` may have opened connections with them).
- **One connection and an outer transaction per database per test** (per class when the
  class has :meth:`DatabaseMixin.setUpTestData`, with a savepoint per test on top).
- **Every session joins it.** Flask-SQLAlchemy 3.1's ``Session.get_bind`` ignores a
  ``bind=`` given to the session, and SQLAlchemy ignores ``join_transaction_mode``
  when the bind is an ``Engine``. So during the test the ``get_bind`` of ``db``'s own
  session class (a private subclass made by its ``sessionmaker``) maps the engine it
  picks to the test's :class:`~sqlalchemy.engine.Connection`, and the sessionmaker
  makes sessions with ``join_transaction_mode="create_savepoint"``: each session,
  in the test body, in each client request (its own app context, so its own session),
  in a CLI command or in any thread, runs in a savepoint of its own, so app code may
  ``commit()``, ``rollback()`` and ``begin_nested()`` freely, and a rollback in a view
  does not undo what the test wrote before the request. An engine of another app on
  the same URL is mapped to the test's connection too.
- **Raw connections join it too.** ``engine.connect()`` (and so ``engine.begin()``)
  returns a connection over the same database connection whose own ``begin``,
  ``commit`` and ``rollback`` are a savepoint, its release and its rollback.

On MySQL, DDL inside a test (which would commit the test's transaction) is refused
with an error; the schema is made once, outside any test transaction.

Nothing stays patched after the test; the state lives in the test's cleanups, in the
class (``setUpTestData``) and in :data:`_databases` (engines kept for the run).

This module imports SQLAlchemy only when a test uses it, so importing
:mod:`flask_testcase` does not.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import itertools
import re
import threading
import typing as t
import unittest
import weakref

from .databases import NotATestDatabaseError
from .databases import _before_drop
from .databases import is_test_database

if t.TYPE_CHECKING:
    from collections.abc import Callable
    from collections.abc import Iterator
    from collections.abc import MutableMapping

    import flask
    from sqlalchemy.engine import Connection
    from sqlalchemy.engine import Engine
    from sqlalchemy.engine import RootTransaction
    from sqlalchemy.orm import Session
    from sqlalchemy.sql.schema import MetaData

    from .case import TestCase

    _Base = unittest.TestCase
else:
    _Base = object

__all__ = ["DatabaseMixin", "isolate_test"]

# Hides this module's frames from unittest tracebacks, so a failure points at the test.
__unittest = True

_MISSING: t.Any = object()
_CLASS_DATA = "_flask_testcase_class_data"

# Transaction control that isolation itself adds around app code (a session's
# BEGIN/COMMIT are DBAPI calls that never reach the cursor, so these would be the only
# ones counted); assertNumQueries leaves them out.
_TRANSACTION_CONTROL = re.compile(
    r"\s*(?:SAVEPOINT|RELEASE\s+SAVEPOINT|ROLLBACK\s+TO\s+SAVEPOINT|BEGIN)\b", re.IGNORECASE
)


class _Database:
    """A database of the run: the engine that serves it and the tables made in it."""

    __slots__ = ("engine", "tables")

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.tables: weakref.WeakSet[MetaData] = weakref.WeakSet()
        if engine.dialect.name in {"mysql", "mariadb"}:
            from sqlalchemy import event

            event.listen(engine, "before_cursor_execute", _refuse_implicit_commit)


# Set in a connection's ``info`` (shared by every Connection over the same database
# connection) while a test's transaction is open on it.
_ISOLATED = "flask_testcase_isolated"
# Statements after which MySQL commits the open transaction on its own (temporary
# tables excepted).
_IMPLICIT_COMMIT = re.compile(
    r"\s*(?:CREATE|ALTER|DROP|TRUNCATE|RENAME)\s+(?!TEMPORARY\b)", re.IGNORECASE
)


def _refuse_implicit_commit(conn: Connection, cursor: t.Any, statement: str, *args: t.Any) -> None:
    if conn.info.get(_ISOLATED) and _IMPLICIT_COMMIT.match(statement):
        raise RuntimeError(
            "MySQL commits the open transaction before and after DDL, so this statement"
            " would end the test's transaction and make its writes permanent: "
            f"{statement.strip()[:200]!r}. Create the schema outside tests (the library"
            " does it once per run; remove create_all/drop_all from setUp and tearDown)."
        )


#: Databases seen in this run, by URL (and, for in-memory SQLite, by ``db``: two
#: extensions' in-memory databases are different databases).
_databases: dict[tuple[str, t.Any], _Database] = {}
_databases_lock = threading.Lock()
_verdicts: dict[str, bool] = {}
_savepoint_ids = itertools.count(1)


# Test and class connections not yet returned; the exit handler closes any left (a
# class run without its class cleanups), since an open transaction would block DROP
# DATABASE on MySQL.
_open_connections: weakref.WeakSet[Connection] = weakref.WeakSet()


def _dispose_databases() -> None:
    for conn in list(_open_connections):
        conn.close()
    with _databases_lock:
        databases = list(_databases.values())
        _databases.clear()
    for database in databases:
        database.engine.dispose()


_before_drop.append(_dispose_databases)


class DatabaseMixin(_Base):
    """Database features of :class:`~flask_testcase.TestCase`, active when ``db`` is set:
    class-level data (:meth:`setUpTestData`), :meth:`assertNumQueries`, and the options
    below. See the database chapter of the documentation."""

    #: Create the tables of ``db``'s models (``create_all``, which skips tables that
    #: exist) once per database per run, outside any test's transaction. Set to false
    #: when the schema comes from migrations run before the tests.
    create_schema: t.ClassVar[bool] = True

    #: Run tests (and :attr:`create_schema`) against a database whose name does not
    #: mark it as a test database (see :func:`~flask_testcase.is_test_database`).
    #: Without it such a database is refused with
    #: :class:`~flask_testcase.NotATestDatabaseError` before anything touches it.
    allow_any_database: t.ClassVar[bool] = False

    if t.TYPE_CHECKING:
        db: t.ClassVar[t.Any]
        app: flask.Flask

    @classmethod
    def setUpTestData(cls) -> None:
        """Create data shared by every test of the class. Override it.

        Called once per class, before the first test's ``setUp``, inside a transaction
        that stays open for the class and is rolled back after its last test; each
        test runs in a savepoint on top, so changes a test makes to this data are
        undone after that test. It runs in an app context of its own (the first
        test's app), and ``db.session`` is committed after it returns. The instances
        it creates are detached afterwards: keep their primary keys (``cls.user_id =
        user.id``) and load them in the test with ``db.session.get()``. If it
        raises, the first test reports the error and the class's other tests fail
        with a pointer to it.

        While a class with this hook runs, its connections stay checked out; they
        are returned after the class.
        """

    def assertNumQueries(
        self,
        num: int,
        func: Callable[..., t.Any] | None = None,
        *args: t.Any,
        msg: str | None = None,
        **kwargs: t.Any,
    ) -> t.Any:
        """Check that exactly ``num`` SQL statements run, on every bind of ``db``.

        Use it as a context manager (it yields the list of statements captured so
        far), or pass a callable to call with ``args`` and ``kwargs``::

            with self.assertNumQueries(2):
                self.client.post("/users", data={"name": "ada"})

        Statements from client requests, CLI commands and other threads count;
        savepoints and ``BEGIN`` that isolation adds around app code do not. When the
        block raises, nothing is checked. The failure message lists the statements,
        numbered.

        :param num: the expected number of statements.
        :param func: call this instead of using a ``with`` block; its result is
            returned.
        :param msg: added to the standard failure message.
        """
        if isinstance(num, bool) or not isinstance(num, int):
            raise TypeError(f"assertNumQueries() num must be an int, got {num!r}")
        if num < 0:
            raise ValueError(f"assertNumQueries() num must be >= 0, got {num}")
        if self.db is None:
            raise ValueError(
                f"assertNumQueries() counts the queries of the database in 'db'; set"
                f" db = <your flask_sqlalchemy.SQLAlchemy> on {type(self).__name__}"
            )
        context = _assert_num_queries(self, num, msg)
        if func is None:
            return context
        with context:
            return func(*args, **kwargs)


@contextlib.contextmanager
def _assert_num_queries(case: DatabaseMixin, num: int, msg: str | None) -> Iterator[list[str]]:
    engines = list(dict.fromkeys(_app_engines(case, case.db, case.app).values()))
    with _capture_queries(engines) as queries:
        yield queries
    if len(queries) != num:
        listing = "\n".join(f"{i}. {q}" for i, q in enumerate(queries, 1)) or "(none)"
        standard = (
            f"{len(queries)} != {num} : {len(queries)} queries executed, {num} expected\n"
            f"Captured queries were:\n{listing}"
        )
        case.fail(case._formatMessage(msg, standard))


@contextlib.contextmanager
def _capture_queries(engines: t.Iterable[Engine]) -> Iterator[list[str]]:
    """Collect the SQL of each statement executed on ``engines`` inside the block.

    Savepoint statements and ``BEGIN`` are left out (see :meth:`assertNumQueries`).

    :param engines: the engines to listen on.
    """
    from sqlalchemy import event

    queries: list[str] = []

    def record(conn: t.Any, cursor: t.Any, statement: str, *args: t.Any) -> None:
        if not _TRANSACTION_CONTROL.match(statement):
            queries.append(statement)

    engines = list(engines)
    with contextlib.ExitStack() as stack:
        for engine in engines:
            event.listen(engine, "before_cursor_execute", record)
            stack.callback(event.remove, engine, "before_cursor_execute", record)
        yield queries


# -- the per-test isolation -----------------------------------------------------------


def isolate_test(case: TestCase) -> t.ContextManager[None]:
    """Isolate one test's database work in transactions rolled back afterwards.

    Called by :meth:`TestCase._setup_fixtures` with the test's app and request context
    pushed; see this module's description for how.

    :param case: the running test; its ``db``, ``app`` and class options are used.
    """
    return _isolate(case)


def _checked_db(case: DatabaseMixin) -> t.Any:
    try:
        from flask_sqlalchemy import SQLAlchemy
    except ImportError as e:  # pragma: no cover - the extra is installed in the suite
        raise ImportError(
            "database isolation needs Flask-SQLAlchemy; install it with"
            " pip install 'flask-testcase[sqlalchemy]'"
        ) from e
    db = case.db
    if not isinstance(db, SQLAlchemy):
        raise TypeError(
            f"{type(case).__name__}.db must be a flask_sqlalchemy.SQLAlchemy instance (the"
            f" one the app uses), got {db!r} ({type(db).__name__})"
        )
    return db


def _app_engines(case: DatabaseMixin, db: t.Any, app: flask.Flask) -> MutableMapping[t.Any, Engine]:
    try:
        registry = db._app_engines
    except AttributeError as e:  # pragma: no cover - guards a future Flask-SQLAlchemy
        raise RuntimeError(
            "this Flask-SQLAlchemy version keeps its engines elsewhere; flask_testcase"
            " supports Flask-SQLAlchemy 3.0 and 3.1"
        ) from e
    try:
        return registry[app]  # type: ignore[no-any-return]
    except KeyError:
        raise ValueError(
            f"{type(case).__name__}.db is not registered on the app create_app() returned;"
            " call db.init_app(app) in create_app()"
        ) from None


def _is_memory_sqlite(engine: Engine) -> bool:
    url = engine.url
    return url.get_backend_name() == "sqlite" and (
        url.database in (None, "", ":memory:") or url.query.get("mode") == "memory"
    )


def _database(case: DatabaseMixin, db: t.Any, key: str | None, engine: Engine) -> _Database:
    name = engine.url.render_as_string(hide_password=False)
    verdict = _verdicts.get(name)
    if verdict is None:
        verdict = _verdicts[name] = is_test_database(engine.url)
    if not verdict and not case.allow_any_database:
        shown = engine.url.render_as_string(hide_password=True)
        bind = "the default bind" if key is None else f"the bind {key!r}"
        raise NotATestDatabaseError(
            f"flask_testcase refuses to use the database {engine.url.database!r} ({shown},"
            f" {bind}) for tests: its name does not mark it as a test database (it must"
            " be 'test', start with 'test_' or end with '_test'; SQLite may also be in"
            " memory or a file under the temporary directory). Point the testing config"
            " at a test database, e.g. with flask_testcase.database_for_tests(url), or"
            f" set allow_any_database = True on {type(case).__name__} to use it anyway."
        )
    index = (name, db if _is_memory_sqlite(engine) else None)
    database = _databases.get(index)
    if database is None:
        with _databases_lock:
            database = _databases.setdefault(index, _Database(engine))
    return database


def _create_tables(database: _Database, metadata: MetaData) -> None:
    if metadata in database.tables or not metadata.tables:
        return
    # Outside any test transaction and committed: MySQL commits DDL implicitly, which
    # would end a test's transaction, and the tables must outlive the test.
    with database.engine.begin() as conn:
        metadata.create_all(conn)
    database.tables.add(metadata)


def _begin(conn: Connection) -> RootTransaction:
    trans = conn.begin()
    conn.info[_ISOLATED] = True
    if conn.dialect.name == "sqlite":
        # pysqlite begins a transaction only before INSERT/UPDATE/DELETE, so a SAVEPOINT
        # (every session's first statement here) would run outside one, and its
        # RELEASE would commit. SQLAlchemy's documented fix emits BEGIN at the start;
        # an app that installed that fix itself has begun already.
        raw = conn.connection.driver_connection
        if not getattr(raw, "in_transaction", True):
            conn.exec_driver_sql("BEGIN")
    return trans


class _ClassData:
    """A class's transactions for :meth:`DatabaseMixin.setUpTestData`."""

    def __init__(self) -> None:
        self.connections: dict[_Database, Connection] = {}
        self.error: BaseException | None = None


def _has_class_data(cls: type[DatabaseMixin]) -> bool:
    hook = getattr(cls.setUpTestData, "__func__", None)
    return hook is not DatabaseMixin.setUpTestData.__func__  # type: ignore[attr-defined]


def _end_class(cls: type, data: _ClassData) -> None:
    try:
        with contextlib.ExitStack() as stack:
            for conn in data.connections.values():
                stack.callback(_end, conn)
    finally:
        if cls.__dict__.get(_CLASS_DATA) is data:
            delattr(cls, _CLASS_DATA)


@contextlib.contextmanager
def _isolate(case: TestCase) -> Iterator[None]:
    db = _checked_db(case)
    app = case.app
    cls = type(case)
    engines = _app_engines(case, db, app)
    databases = {key: _database(case, db, key, engine) for key, engine in engines.items()}
    if case.create_schema:
        for key, database in databases.items():
            _create_tables(database, db.metadatas[key])

    with contextlib.ExitStack() as stack:
        data: _ClassData | None = None
        new_class = False
        if _has_class_data(cls):
            data = cls.__dict__.get(_CLASS_DATA)
            if data is None:
                data = _ClassData()
                setattr(cls, _CLASS_DATA, data)
                cls.addClassCleanup(_end_class, cls, data)
                new_class = True
            elif data.error is not None:
                raise RuntimeError(
                    f"{cls.__name__}.setUpTestData() raised in an earlier test of the class"
                    f" ({data.error!r}); see that test's error"
                )

        connections = data.connections if data is not None else {}
        for database in dict.fromkeys(databases.values()):
            if database not in connections:
                conn = database.engine.connect()
                _open_connections.add(conn)
                # Registered before BEGIN, so that a failing BEGIN still returns it.
                connections[database] = conn
                if data is None:
                    stack.callback(_end, conn)
                _begin(conn)

        routes: dict[t.Any, Connection] = {}
        for key, engine in engines.items():
            database = databases[key]
            routes[engine] = routes[database.engine] = connections[database]
        homes = {key: database.engine for key, database in databases.items()}
        if app.config.get("SQLALCHEMY_RECORD_QUERIES"):
            _record_queries(homes.values())
        opened: weakref.WeakSet[Session] = weakref.WeakSet()
        # The app's own engines serve nothing during the test. Connections create_app
        # opened with them (a create_all there, say) are closed afterwards, rather than
        # left to the garbage collector while each new app opens more.
        for engine in dict.fromkeys(engines.values()):
            if engine not in homes.values():
                stack.callback(engine.dispose)
        stack.enter_context(_engines_replaced(engines, homes))
        stack.enter_context(_connect_routed(routes))
        stack.enter_context(_sessions_routed(db, routes, opened))

        if data is not None:
            if new_class:
                try:
                    contextvars.Context().run(_call_class_hook, cls, app, db)
                except BaseException as e:
                    data.error = e
                    raise
            for conn in dict.fromkeys(routes.values()):
                savepoint = conn.begin_nested()
                stack.callback(_rollback, savepoint)

        # Sessions end before the transactions they joined: the test body's session
        # (its request context is popped only later), and any a thread or a
        # ``with client:`` block left open.
        stack.callback(_close_sessions, opened)
        db.session.remove()
        yield


def _record_queries(engines: t.Iterable[Engine]) -> None:
    """Make ``flask_sqlalchemy.record_queries.get_recorded_queries()`` work: it listens
    on the app's own engines, which the test sets aside for the run's."""
    from flask_sqlalchemy import record_queries
    from sqlalchemy import event

    for engine in engines:
        if not event.contains(engine, "after_cursor_execute", record_queries._record_end):
            record_queries._listen(engine)


def _call_class_hook(cls: type[DatabaseMixin], app: flask.Flask, db: t.Any) -> None:
    with app.app_context():
        # The instances the hook makes stay readable after its session closes.
        db.session(expire_on_commit=False)
        cls.setUpTestData()
        db.session.commit()


def _end(conn: Connection) -> None:
    # Closing rolls back the outer transaction and returns the connection to its pool.
    _open_connections.discard(conn)
    try:
        conn.info.pop(_ISOLATED, None)
    finally:
        conn.close()


def _rollback(trans: t.Any) -> None:
    if trans.is_active:
        trans.rollback()


def _close_sessions(sessions: weakref.WeakSet[Session]) -> None:
    with contextlib.ExitStack() as stack:
        for session in list(sessions):
            stack.callback(session.close)


@contextlib.contextmanager
def _engines_replaced(
    engines: MutableMapping[t.Any, Engine], homes: dict[t.Any, Engine]
) -> Iterator[None]:
    saved = dict(engines)
    engines.update(homes)
    try:
        yield
    finally:
        engines.clear()
        engines.update(saved)


@contextlib.contextmanager
def _connect_routed(routes: dict[t.Any, Connection]) -> Iterator[None]:
    joined = _joined_connection_class()
    for engine, conn in routes.items():
        vars(engine)["connect"] = functools.partial(joined, conn)
    try:
        yield
    finally:
        for engine in routes:
            vars(engine).pop("connect", None)


@contextlib.contextmanager
def _sessions_routed(
    db: t.Any, routes: dict[t.Any, Connection], opened: weakref.WeakSet[Session]
) -> Iterator[None]:
    factory = db.session.session_factory
    # ``sessionmaker`` makes a private subclass of the session class for each factory,
    # so this changes ``db``'s sessions only.
    session_class = factory.class_
    own = vars(session_class).get("get_bind", _MISSING)
    original = session_class.get_bind

    by_url = {
        conn.engine.url.render_as_string(hide_password=False): conn for conn in routes.values()
    }

    def get_bind(self: Session, *args: t.Any, **kwargs: t.Any) -> t.Any:
        bind = original(self, *args, **kwargs)
        conn = routes.get(bind)
        if conn is None:
            # An engine of another app on the same database (a second app made in the
            # test, say) joins the test's transaction too, rather than committing.
            url = getattr(bind, "url", None)
            if url is None:
                return bind
            conn = by_url.get(url.render_as_string(hide_password=False))
            if conn is None:
                return bind
        opened.add(self)
        return conn

    session_class.get_bind = get_bind
    mode = factory.kw.get("join_transaction_mode", _MISSING)
    factory.kw["join_transaction_mode"] = "create_savepoint"
    try:
        yield
    finally:
        if own is _MISSING:
            del session_class.get_bind
        else:
            session_class.get_bind = own
        if mode is _MISSING:
            factory.kw.pop("join_transaction_mode", None)
        else:
            factory.kw["join_transaction_mode"] = mode


@functools.cache
def _joined_connection_class() -> Callable[[Connection], Connection]:
    from sqlalchemy.engine import Connection

    class JoinedConnection(Connection):
        """A connection that shares the test's database connection: its own
        transaction is a savepoint in the test's, and closing it leaves the shared
        connection open."""

        def __init__(self, main: Connection) -> None:
            super().__init__(main.engine, connection=main.connection, _allow_revalidate=False)
            self._ftc_main = main
            self._ftc_savepoint: t.Any = None

        def _begin_impl(self, transaction: t.Any) -> None:
            self._ftc_savepoint = self._ftc_main.begin_nested()

        def _commit_impl(self) -> None:
            savepoint, self._ftc_savepoint = self._ftc_savepoint, None
            if savepoint is not None and savepoint.is_active:
                savepoint.commit()

        def _rollback_impl(self) -> None:
            savepoint, self._ftc_savepoint = self._ftc_savepoint, None
            if savepoint is not None and savepoint.is_active:
                savepoint.rollback()

        def _savepoint_impl(self, name: str | None = None) -> str:
            # Savepoint names must not repeat those of the main connection: MySQL
            # replaces an older savepoint of the same name.
            return super()._savepoint_impl(name or f"ftc_savepoint_{next(_savepoint_ids)}")

        def close(self) -> None:
            try:
                if self._transaction is not None:
                    self._transaction.close()
            finally:
                self._dbapi_connection = None

    return JoinedConnection
