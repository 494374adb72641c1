"""Database isolation: run a block of code, a test, a class of tests, in transactions
that are rolled back afterwards, for Flask-SQLAlchemy 3 on SQLAlchemy 2.

The building block is :class:`DatabaseIsolation`, usually entered through
:func:`database_isolation`::

    with database_isolation(db, app):
        client.post("/signup", data={"name": "ada"})   # commits, for the app
    # ...and nothing of it is in the database any more

How it works, in the order a test meets it:

- **The run's engines.** The first engine the run sees for a database (the first
  app's) serves every later test on it (:class:`_Database`): its pool gives each test
  an already open connection, and its dialect and statement cache stay warm. An
  in-memory SQLite database is one per ``db`` and bind, kept for the run.
- **The guard.** Before anything connects, the URL must name a test database
  (:func:`~flask_testcase.is_test_database`); on the first connection the database the
  server says it is connected to must too, and on MySQL no model may live in another
  database. Each refusal says what it saw and how to fix it.
- **One connection and one outer transaction per database** (:class:`_Transactions`),
  with savepoints on top for nested levels (:meth:`DatabaseIsolation.savepoint`).
- **Every connection joins it.** While an isolation is active, ``Engine.connect()``
  for an engine of an isolated database (the app's, the run's, one derived with
  ``execution_options()``, another app's on the same database) returns a *joined*
  connection over the test's database connection, whose own transaction is a
  savepoint in the test's (:class:`_Router`, the one object that installs and restores
  every patch). Sessions, which connect through their engine, so run in savepoints
  too: app code may ``commit()``, ``rollback()`` and ``begin_nested()`` freely.
- **Threads take turns.** Threads share the test's one database connection, one
  transaction at a time (:class:`_Gate`); a thread that waits too long gets an error
  naming the thread in its way.
- **DB-API connections** from ``engine.raw_connection()`` are the test's own, with
  commit and rollback on a savepoint (:class:`_RawConnection`); the one under a joined
  connection refuses to end its transaction (:class:`_SharedConnection`).
- **Statements that would end the transaction are refused**: ``COMMIT``, ``ROLLBACK``
  and ``BEGIN`` as SQL, and on MySQL/MariaDB every statement that commits implicitly
  (DDL, ``LOCK TABLES``, ``SET autocommit``...). ``isolation_level="AUTOCOMMIT"``
  makes each statement its own savepoint, released at once, instead of committing.

Private APIs of SQLAlchemy and Flask-SQLAlchemy are reached only through
:mod:`flask_testcase._internals`. This module imports SQLAlchemy only when used.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import os
import re
import threading
import time
import typing as t
import weakref
from pathlib import Path

from . import _internals
from .databases import _TEST_NAME
from .databases import NotATestDatabaseError
from .databases import _sqlite_path
from .databases import before_drop
from .databases import is_test_database

if t.TYPE_CHECKING:
    from collections.abc import Iterator
    from collections.abc import MutableMapping

    import flask
    from sqlalchemy.engine import URL
    from sqlalchemy.engine import Connection
    from sqlalchemy.engine import Engine
    from sqlalchemy.sql.schema import MetaData

__all__ = ["DatabaseIsolation", "IsolationError", "covering", "database_isolation", "end_all"]

# Hides this module's frames from unittest tracebacks, so a failure points at the test.
__unittest = True

#: How long a thread waits for the test's database connection while another thread
#: has a transaction open on it, in seconds.
THREAD_WAIT_TIMEOUT = 30.0


class IsolationError(RuntimeError):
    """Raised when code under isolation does something that would make its writes
    permanent (a ``COMMIT`` as SQL, DDL on MySQL...) or that isolation cannot serve
    (a thread waiting too long for the test's connection, a connection used after its
    test ended). The message says what was seen and what to do instead."""


# -- the run's databases ---------------------------------------------------------------


class _Database:
    """A database of the run: the engine that serves it, whether the database it
    connects to was checked, and the metadata whose tables were made in it."""

    __slots__ = ("__weakref__", "actual", "engine", "server", "tables")

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        #: The database the server reported on the first connection (None: not yet).
        self.actual: str | None = None
        #: Which server and database the first connection reached
        #: (:func:`_server_identity`), to know it under another URL.
        self.server: tuple[str, ...] | None = None
        self.tables: weakref.WeakSet[MetaData] = weakref.WeakSet()


_databases: dict[tuple[str, t.Any, t.Any], _Database] = {}
_databases_lock = threading.Lock()
# Isolations begun and not ended; the exit handler ends any left (a class run without
# its class cleanups), since an open transaction blocks DROP DATABASE on MySQL.
_unended: weakref.WeakSet[DatabaseIsolation] = weakref.WeakSet()


def _dispose_databases() -> None:
    for isolation in list(_unended):
        isolation.end()
    with _databases_lock:
        databases = list(_databases.values())
        _databases.clear()
    for database in databases:
        database.engine.dispose()


before_drop(_dispose_databases)


def _is_memory(url: URL) -> bool:
    return url.get_backend_name() == "sqlite" and _sqlite_path(url) is None


def _render(url: URL) -> str:
    return url.render_as_string(hide_password=False)


def _identity(url: URL) -> tuple[t.Any, ...] | None:
    """What names one database across engines (None for in-memory SQLite, where each
    engine has its own). Query options that do not change the database are left out."""
    if url.get_backend_name() == "sqlite":
        path = _sqlite_path(url)
        return None if path is None else ("sqlite", os.path.realpath(path))
    query = tuple(sorted((k, str(v)) for k, v in url.query.items() if k != "charset"))
    return (url.get_backend_name(), url.username, url.host, url.port, url.database, query)


def _index(url: URL, db: t.Any, key: str | None) -> tuple[str, t.Any, t.Any]:
    """Where :data:`_databases` keeps the database of ``url`` (in memory: of ``db``'s
    bind ``key``, each its own database)."""
    return (_render(url), db, key) if _is_memory(url) else (_render(url), None, None)


def _direct_connect(engine: Engine) -> Connection:
    """A connection from ``engine``'s own pool, never a joined one."""
    return _Router.original_connect(engine)


# -- the guard -------------------------------------------------------------------------


def _configured_url(app: flask.Flask, key: str | None) -> URL | None:
    """The URL ``app.config`` gives bind ``key`` now, if it can be read."""
    from sqlalchemy.engine import make_url

    if key is None:
        value = app.config.get("SQLALCHEMY_DATABASE_URI")
    else:
        value = (app.config.get("SQLALCHEMY_BINDS") or {}).get(key)
        if isinstance(value, dict):
            value = value.get("url")
    try:
        return make_url(value) if value else None
    except Exception:
        return None


def _resolved(url: URL, app: flask.Flask) -> tuple[t.Any, ...] | None:
    """``url``'s database identity as Flask-SQLAlchemy resolves it for ``app``
    (a relative SQLite path lives in the instance folder)."""
    if url.get_backend_name() == "sqlite":
        path = _sqlite_path(url)
        if path is not None and not os.path.isabs(path):
            return ("sqlite", os.path.realpath(os.path.join(app.instance_path, path)))
    return _identity(url)


def _is_relative_sqlite(url: URL | None) -> bool:
    if url is None or url.get_backend_name() != "sqlite":
        return False
    path = _sqlite_path(url)
    return path is not None and not os.path.isabs(path)


def _sqlite_file_verdict(path: str, configured: URL | None, app: flask.Flask) -> bool:
    """Whether the SQLite file ``path`` (as opened) may be used for tests.

    Being under the temporary directory counts only when the app's config gives that
    very file by an absolute path. A relative path lands in the instance folder, which
    is under the temporary directory whenever the checkout is, and a developer's own
    database must never pass because of where the checkout lies; nor may a file the
    config no longer names (changed after ``init_app``).
    """
    from sqlalchemy.engine import make_url

    given = (
        configured is not None
        and not _is_relative_sqlite(configured)
        and _resolved(configured, app) == ("sqlite", os.path.realpath(path))
    )
    if given:
        return is_test_database(make_url("sqlite:///" + path))
    return bool(_TEST_NAME.search(Path(path).stem))


def _bind_name(key: str | None) -> str:
    return "the default bind" if key is None else f"the bind {key!r}"


def _way_out(isolation: DatabaseIsolation) -> str:
    return (
        "Point the testing config at a test database, e.g. with"
        f" flask_testcase.database_for_tests(url), or {isolation.opt_in} to use it anyway."
    )


def _check_url(
    isolation: DatabaseIsolation, app: flask.Flask, key: str | None, engine: Engine
) -> None:
    """Refuse, before anything connects, an engine whose URL is not a test database."""
    url = engine.url
    configured = _configured_url(app, key)
    if url.get_backend_name() == "sqlite":
        path = _sqlite_path(url)
        allowed = path is None or _sqlite_file_verdict(path, configured, app)
    else:
        allowed = is_test_database(url)
    if allowed:
        return
    shown = url.render_as_string(hide_password=True)
    seen = (
        f"flask_testcase refuses to use the database {url.database!r} ({shown},"
        f" {_bind_name(key)}) for tests"
    )
    setting = "SQLALCHEMY_DATABASE_URI" if key is None else f"SQLALCHEMY_BINDS[{key!r}]"
    if configured is not None and _resolved(configured, app) != _identity(url):
        raise NotATestDatabaseError(
            f"{seen}: the engine Flask-SQLAlchemy made connects to it, but"
            f" app.config[{setting!r}] is now"
            f" {configured.render_as_string(hide_password=True)!r}. The config was changed"
            " after db.init_app(app), which reads it once to make the engines. Apply the"
            " testing config before calling db.init_app(app) (e.g. pass it to your app"
            " factory), or call init_app after changing it."
        )
    if _is_relative_sqlite(configured):
        raise NotATestDatabaseError(
            f"{seen}: {configured.render_as_string()!r} is a relative SQLite path, which"  # type: ignore[union-attr]
            f" Flask-SQLAlchemy opens in the app's instance folder ({url.database}); a"
            " relative path counts as a test database only by its name (test.db,"
            " test_*.db or *_test.db). Use sqlite:// (in memory), a name marked for"
            " tests, or an absolute path under the temporary directory; or"
            f" {isolation.opt_in} to use it anyway."
        )
    raise NotATestDatabaseError(
        f"{seen}: its name does not mark it as a test database (it must be 'test', start"
        " with 'test_' or end with '_test'; SQLite may also be in memory or a file"
        f" given by an absolute path under the temporary directory). {_way_out(isolation)}"
    )


def _connected_database(conn: Connection) -> str:
    """What the server says this connection uses: a database name, or for SQLite the
    main file's path ('' in memory)."""
    backend = conn.dialect.name
    if backend == "sqlite":
        for row in conn.exec_driver_sql("PRAGMA database_list"):
            if row[1] == "main":
                return str(row[2] or "")
        return ""
    query = "SELECT current_database()" if backend == "postgresql" else "SELECT DATABASE()"
    return str(conn.exec_driver_sql(query).scalar() or "")


def _server_identity(conn: Connection) -> tuple[str, ...] | None:
    """What tells one server's database apart from any other, whatever URL reached it
    (``localhost`` or ``127.0.0.1``, a socket or TCP): None on SQLite, whose files are
    told apart by their paths."""
    backend = conn.dialect.name
    if backend == "postgresql":
        query = (
            "SELECT current_database(), current_setting('port'),"
            " CAST(pg_postmaster_start_time() AS text)"
        )
    elif backend in {"mysql", "mariadb"}:
        query = "SELECT DATABASE(), @@port, @@datadir, @@hostname"
    else:
        return None
    row = conn.exec_driver_sql(query).one()
    return (backend, *(str(value) for value in row))


#: Engines whose database was asked for its identity, and the answer.
_servers: weakref.WeakKeyDictionary[Engine, tuple[str, ...] | None] = weakref.WeakKeyDictionary()


def _check_connected(
    isolation: DatabaseIsolation,
    app: flask.Flask,
    key: str | None,
    database: _Database,
    conn: Connection,
) -> None:
    """Refuse a connection that reached a database other than a test database, whatever
    the URL said (``?dbname=`` in its query, ``connect_args``)."""
    if database.actual is not None:
        return
    actual = _connected_database(conn)
    url = database.engine.url
    if url.get_backend_name() == "sqlite":
        allowed = actual == "" or _sqlite_file_verdict(actual, _configured_url(app, key), app)
    else:
        allowed = bool(_TEST_NAME.search(actual)) or is_test_database(url.set(database=actual))
    if not allowed:
        raise NotATestDatabaseError(
            f"flask_testcase refuses to run tests on {_bind_name(key)}: its URL"
            f" ({url.render_as_string(hide_password=True)}) names {url.database!r}, but"
            f" the server says the connection uses {actual!r}, which is not a test"
            " database. Something beside the database name chose it: a parameter in the"
            " URL's query (?dbname=, ?database=) or the engine's connect_args. Remove"
            f" it from the testing config. {_way_out(isolation)}"
        )
    database.actual = actual


def _check_schemas(
    isolation: DatabaseIsolation, key: str | None, database: _Database, metadata: MetaData
) -> None:
    """On MySQL a table's schema is another database: refuse models that live in one
    not named for tests."""
    if database.engine.dialect.name not in {"mysql", "mariadb"}:
        return
    for table in metadata.tables.values():
        schema = table.schema
        if schema is None or schema == database.actual or _TEST_NAME.search(schema):
            continue
        raise NotATestDatabaseError(
            f"flask_testcase refuses to run tests on {_bind_name(key)}: the table"
            f" {table.fullname!r} has schema={schema!r}, and on MySQL/MariaDB a schema is"
            f" a database, which is not a test database (the test database is"
            f" {database.actual!r}). Map the schema to a test database in the testing"
            " config (execution_options={'schema_translate_map': {...}}) or leave the"
            f" schema out. {_way_out(isolation)}"
        )


def _create_tables(database: _Database, metadata: MetaData) -> None:
    if metadata in database.tables or not metadata.tables:
        return
    # Outside any test transaction and committed: MySQL commits DDL implicitly, which
    # would end a test's transaction, and the tables must outlive the test.
    with _direct_connect(database.engine) as conn, conn.begin():
        metadata.create_all(conn)
    database.tables.add(metadata)


# -- statements that would end the transaction -----------------------------------------

# Transaction control that isolation itself adds (and ``BEGIN``), which assertNumQueries
# leaves out.
TRANSACTION_CONTROL = re.compile(
    r"\s*(?:SAVEPOINT|RELEASE\s+SAVEPOINT|ROLLBACK\s+TO\s+SAVEPOINT|BEGIN)\b", re.IGNORECASE
)
# Statements no query needs: plain reads and writes are let through without a scan.
_HARMLESS = re.compile(
    r"\s*(?:SELECT|INSERT|UPDATE|DELETE|WITH|SAVEPOINT|RELEASE|SHOW|EXPLAIN|PRAGMA|VALUES)\b"
    r"[^;]*\Z",
    re.IGNORECASE | re.DOTALL,
)
# Ends or replaces the transaction on every backend.
_ENDS_TRANSACTION = re.compile(
    r"(?:COMMIT|END|ABORT|BEGIN|START\s+TRANSACTION|PREPARE\s+TRANSACTION"
    r"|ROLLBACK(?!\s+(?:WORK\s+|TRANSACTION\s+)?TO\b))\b",
    re.IGNORECASE,
)
# MySQL/MariaDB: statements that commit implicitly (MariaDB's documented list).
_MYSQL_COMMITS = re.compile(
    r"(?:ALTER|ANALYZE|CACHE\s+INDEX|CHANGE\s+(?:MASTER|REPLICATION)|CHECK\s+TABLE"
    r"|CREATE(?!\s+(?:OR\s+REPLACE\s+)?TEMPORARY\s+TABLE\b)|DROP(?!\s+TEMPORARY\s+TABLE\b)"
    r"|FLUSH|GRANT|INSTALL|LOAD\s+INDEX|LOCK\s+TABLES?|OPTIMIZE|RENAME|REPAIR|RESET"
    r"|REVOKE|SET\s+PASSWORD|SET\b[^;]*\bAUTOCOMMIT|SHUTDOWN|START\s+(?:SLAVE|REPLICA)"
    r"|STOP\s+(?:SLAVE|REPLICA)|TRUNCATE|UNINSTALL|UNLOCK\s+TABLES?|XA)\b",
    re.IGNORECASE,
)


def _statement_heads(sql: str) -> list[str]:
    """Each statement of ``sql`` with comments and quoted text blanked, so that what it
    starts with can be read. MySQL's executable comments (``/*! ... */``) count as SQL."""
    out: list[str] = []
    i, n = 0, len(sql)
    while i < n:
        c = sql[i]
        two = sql[i : i + 2]
        if two == "--" or c == "#":
            j = sql.find("\n", i)
            i = n if j < 0 else j + 1
            out.append(" ")
        elif two == "/*":
            executable = re.match(r"/\*M?!\d*", sql[i:])
            if executable:
                i += executable.end()
                continue
            j = sql.find("*/", i + 2)
            i = n if j < 0 else j + 2
            out.append(" ")
        elif two == "*/":
            i += 2
        elif c in "'\"`":
            j = i + 1
            while j < n and sql[j] != c:
                j += 2 if sql[j] == "\\" else 1
            i = j + 1
            out.append(" '' ")
        elif c == "$" and (tag := re.match(r"\$\w*\$", sql[i:])):
            j = sql.find(tag.group(), i + tag.end())
            i = n if j < 0 else j + tag.end()
            out.append(" '' ")
        else:
            out.append(c)
            i += 1
    return [part.strip() for part in "".join(out).split(";") if part.strip()]


def _refusal(statement: str, dialect: str) -> str | None:
    """Why ``statement`` would end the test's transaction, or None."""
    if _HARMLESS.match(statement):
        return None
    mysql = dialect in {"mysql", "mariadb"}
    for head in _statement_heads(statement):
        if _ENDS_TRANSACTION.match(head):
            return "it ends the test's transaction, making its writes permanent"
        if mysql and _MYSQL_COMMITS.match(head):
            return (
                "MySQL/MariaDB commit the open transaction before (and some after) it,"
                " making the test's writes permanent"
            )
    return None


# -- DB-API connections ----------------------------------------------------------------

#: DB-API connection attributes that would commit or leave the test's transaction:
#: pymysql's ``begin()``/``autocommit()``, psycopg's and sqlite3's ``autocommit``,
#: isolation levels, two-phase commit. Reading a value is fine; setting it or calling
#: the method is refused.
_RAW_REFUSED = frozenset(
    {"autocommit", "set_autocommit", "begin", "isolation_level", "set_isolation_level",
     "set_session", "tpc_begin", "tpc_prepare", "tpc_commit", "tpc_rollback"}
)  # fmt: skip
#: Cursor methods that only read what a statement returned: no savepoint needed.
_CURSOR_READS = frozenset(
    {"fetchone", "fetchmany", "fetchall", "close", "scroll", "nextset", "setinputsizes",
     "setoutputsize"}
)  # fmt: skip


class _DBAPIProxy:
    """The test's DB-API connection as code outside SQLAlchemy sees it: cursors whose
    statements are checked, and nothing that would end the test's transaction."""

    def __init__(self, isolation: DatabaseIsolation, joined: t.Any) -> None:
        object.__setattr__(self, "_isolation", isolation)
        object.__setattr__(self, "_joined", joined)
        object.__setattr__(self, "_closed", False)

    _isolation: DatabaseIsolation
    _joined: t.Any
    _closed: bool

    def __repr__(self) -> str:
        return f"<flask_testcase DB-API connection in the transaction of {self._isolation.owner}>"

    def _refuse(self, what: str) -> t.NoReturn:
        raise IsolationError(
            f"{self._isolation.owner} runs in a transaction that is rolled back"
            f" afterwards, and {what} would commit or leave it. {self._instead}"
        )

    def _check(self) -> None:
        if self._closed:
            raise IsolationError("this raw connection is closed")
        self._isolation._check_open(self._joined)

    def _begin(self) -> None:
        """Make sure the statements that follow run where :meth:`rollback` reaches."""

    def _dbapi(self) -> t.Any:
        # The pool's connection object under the joined connection (SQLAlchemy's
        # attribute, not the guarded ``connection`` property).
        return self._joined._dbapi_connection

    @property
    def driver_connection(self) -> _DriverView:
        """The driver's connection, guarded like this object (the driver's own would
        commit outside the test's transaction)."""
        return _DriverView(self)

    dbapi_connection = driver_connection

    def cursor(self, *args: t.Any, **kwargs: t.Any) -> _RawCursor:
        self._check()
        return _RawCursor(self, self._dbapi().cursor(*args, **kwargs))

    def _guarded(self, target: t.Any, name: str) -> t.Any:
        value = getattr(target, name)
        if name in _RAW_REFUSED and callable(value):

            def refused(*args: t.Any, **kwargs: t.Any) -> t.NoReturn:
                self._refuse(f"a DB-API connection's {name}()")

            return refused
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


class _DriverView:
    """``driver_connection`` of a :class:`_DBAPIProxy`: the driver's connection object
    (its ``info``, its methods), with the proxy's cursors, commit and rollback."""

    def __init__(self, proxy: t.Any) -> None:
        object.__setattr__(self, "_proxy", proxy)

    _proxy: t.Any

    def __repr__(self) -> str:
        return repr(self._proxy)

    @property
    def driver_connection(self) -> _DriverView:
        return self

    dbapi_connection = driver_connection

    def cursor(self, *args: t.Any, **kwargs: t.Any) -> _RawCursor:
        return self._proxy.cursor(*args, **kwargs)  # type: ignore[no-any-return]

    def commit(self) -> None:
        self._proxy.commit()

    def rollback(self) -> None:
        self._proxy.rollback()

    def close(self) -> None:
        self._proxy.close()

    def __enter__(self) -> _DriverView:
        return self

    def __exit__(self, *exc_info: t.Any) -> None:
        self._proxy.__exit__(*exc_info)

    def __getattr__(self, name: str) -> t.Any:
        return self._proxy._guarded(self._proxy._dbapi().dbapi_connection, name)

    def __setattr__(self, name: str, value: t.Any) -> None:
        self._proxy._set(self._proxy._dbapi().dbapi_connection, name, value)


class _RawConnection(_DBAPIProxy):
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

    def __enter__(self) -> _RawConnection:
        return self

    def __exit__(self, kind: type[BaseException] | None, *rest: t.Any) -> None:
        if kind is None:
            self.commit()
        else:
            self.rollback()


class _SharedConnection(_DBAPIProxy):
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


class _RawCursor:
    """A cursor of a :class:`_DBAPIProxy`: each statement is checked (as joined
    connections' are) and, on a raw connection, runs in its savepoint."""

    def __init__(self, connection: _DBAPIProxy, cursor: t.Any) -> None:
        self._connection = connection
        self._cursor = cursor

    def _run(self, method: t.Any, statement: t.Any, *args: t.Any, **kwargs: t.Any) -> t.Any:
        raw = self._connection
        raw._check()
        if isinstance(statement, (str, bytes)):
            text = statement.decode() if isinstance(statement, bytes) else statement
            raw._isolation.executing(raw._joined, text)
        return self._in_savepoint(method, statement, *args, **kwargs)

    def _in_savepoint(self, method: t.Any, *args: t.Any, **kwargs: t.Any) -> t.Any:
        """Call ``method`` in the raw connection's savepoint, one thread at a time."""
        raw = self._connection
        raw._begin()
        with raw._isolation.statement(raw._joined):
            return method(*args, **kwargs)

    def execute(self, statement: t.Any, *args: t.Any, **kwargs: t.Any) -> t.Any:
        return self._run(self._cursor.execute, statement, *args, **kwargs)

    def executemany(self, statement: t.Any, *args: t.Any, **kwargs: t.Any) -> t.Any:
        return self._run(self._cursor.executemany, statement, *args, **kwargs)

    def __iter__(self) -> t.Iterator[t.Any]:
        return iter(self._cursor)

    def __enter__(self) -> _RawCursor:
        return self

    def __exit__(self, *exc_info: t.Any) -> None:
        self._cursor.close()

    def __getattr__(self, name: str) -> t.Any:
        value = getattr(self._cursor, name)
        if name in _CURSOR_READS or not callable(value):
            return value
        # COPY, callproc and the like.
        return functools.partial(self._in_savepoint, value)


# -- threads ---------------------------------------------------------------------------


class _Gate:
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


# -- the patches -----------------------------------------------------------------------


class _Router:
    """The one object that patches other libraries while any isolation is active, and
    puts everything back when the last one ends (or :meth:`restore` is called after an
    interrupted test).

    - ``sqlalchemy.engine.Engine.connect``: an engine of an isolated database returns a
      joined connection (:meth:`DatabaseIsolation._join`);
    - ``sqlalchemy.engine.Engine.raw_connection``: the same engine returns a
      :class:`_RawConnection` over a joined connection;
    - ``DefaultDialect._set_connection_characteristics``: see
      :class:`~flask_testcase._internals.CharacteristicsPatch`.
    """

    _lock = threading.Lock()
    active: t.ClassVar[list[DatabaseIsolation]] = []
    _characteristics: t.ClassVar[_internals.CharacteristicsPatch | None] = None
    _original: t.ClassVar[t.Any] = None
    _original_raw: t.ClassVar[t.Any] = None
    #: Set while :meth:`original_connect` runs: SQLAlchemy's ``Connection`` gets its
    #: DB-API connection from ``engine.raw_connection()``, which must then be the pool's.
    _direct = threading.local()

    @classmethod
    def original_connect(cls, engine: Engine) -> Connection:
        from sqlalchemy.engine import Engine

        connect = cls._original or Engine.connect
        cls._direct.on = True
        try:
            return connect(engine)
        finally:
            cls._direct.on = False

    @classmethod
    def add(cls, isolation: DatabaseIsolation) -> None:
        from sqlalchemy.engine import Engine

        with cls._lock:
            if not cls.active:
                cls._original = vars(Engine)["connect"]
                original = cls._original

                def connect(engine: Engine) -> Connection:
                    joined = cls._joined(engine)
                    return original(engine) if joined is None else joined  # type: ignore[no-any-return]

                connect.__doc__ = original.__doc__
                Engine.connect = connect  # type: ignore[method-assign,assignment]
                cls._original_raw = vars(Engine)["raw_connection"]
                original_raw = cls._original_raw

                def raw_connection(engine: Engine) -> t.Any:
                    direct = getattr(cls._direct, "on", False)
                    joined = None if direct else cls._joined(engine)
                    if joined is None:
                        return original_raw(engine)
                    return _RawConnection(joined.hooks, joined)

                raw_connection.__doc__ = original_raw.__doc__
                Engine.raw_connection = raw_connection  # type: ignore[method-assign,assignment]
                if cls._characteristics is None:
                    cls._characteristics = _internals.CharacteristicsPatch(
                        _internals.joined_connection_class()
                    )
                cls._characteristics.install()
            cls.active.append(isolation)

    @classmethod
    def _joined(cls, engine: Engine) -> t.Any:
        """A joined connection for ``engine`` from the innermost isolation that has its
        database, or None."""
        for active in reversed(cls.active):
            joined = active._join(engine)
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


def covering(db: t.Any, app: flask.Flask) -> DatabaseIsolation | None:
    """The innermost active isolation of ``db`` that has every database of ``db`` for
    ``app`` (:meth:`DatabaseIsolation.covers`), or None."""
    for isolation in reversed(_Router.active):
        if isolation.db is db and isolation.covers(app):
            return isolation
    return None


def end_all() -> None:
    """End every database isolation still active and restore every patch: for a test
    interrupted (``KeyboardInterrupt``) before its cleanups ran."""
    _Router.restore()
    for isolation in list(_unended):
        isolation.end()


# -- the building block ----------------------------------------------------------------


class DatabaseIsolation:
    """Transactions around a block of code, one per database of ``db``, rolled back by
    :meth:`end`; see this module's description. :func:`database_isolation` is the usual
    way in.

    :param db: the app's :class:`flask_sqlalchemy.SQLAlchemy` instance.
    :param create_schema: create the tables of ``db``'s models, once per database per
        run, outside any transaction (skipping tables that exist).
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
    """

    def __init__(
        self,
        db: t.Any,
        *,
        create_schema: bool = True,
        allow_any_database: bool = False,
        owner: str = "database_isolation()",
        opt_in: str = "pass allow_any_database=True to database_isolation()",
        db_label: str = "db",
        reset_sequences: bool = False,
        thread_wait_timeout: float | None = None,
    ) -> None:
        self.db = _checked_db(db, db_label)
        self.db_label = db_label
        self.resets_sequences = reset_sequences
        self.create_schema = create_schema
        self.allow_any_database = allow_any_database
        self.owner = owner
        self.opt_in = opt_in
        self._timeout = THREAD_WAIT_TIMEOUT if thread_wait_timeout is None else thread_wait_timeout
        self._gate: _Gate | None = None
        #: The test's connection to each database, with its outer transaction.
        self._connections: dict[_Database, Connection] = {}
        #: Engines and pools whose connections join the test's, and databases by identity.
        self._by_engine: weakref.WeakKeyDictionary[t.Any, _Database] = weakref.WeakKeyDictionary()
        self._by_identity: dict[tuple[t.Any, ...], _Database] = {}
        #: Joined connections handed out, one set per level (:meth:`savepoint`).
        self._levels: list[weakref.WeakSet[Connection]] = []
        self._recorders: list[list[str]] = []
        self._undo = contextlib.ExitStack()
        self._ended = False
        self._bound: dict[str | None, _Database] = {}
        self._savepoint_ids = itertools.count(1)

    # -- the lifecycle ---------------------------------------------------------------

    def start(self, app: flask.Flask) -> None:
        """Check, connect and begin: one connection and transaction per database of
        ``db`` for ``app``; from now on ``app``'s engines join them (:meth:`route`).

        :raises NotATestDatabaseError: a database is not a test database.
        """
        if self._gate is not None:
            raise RuntimeError(f"{self.owner}: this isolation has started already")
        _internals.check_versions()
        engines = self._engines_of(app)
        databases = {key: self._database(app, key, engine) for key, engine in engines.items()}
        self._refuse_overlap(databases)
        self._bound = databases
        self._gate = _Gate(self._timeout)
        _unended.add(self)
        try:
            for key, database in databases.items():
                if database not in self._connections:
                    self._connect(app, key, database)
                if not self.allow_any_database:
                    _check_schemas(self, key, database, self.db.metadatas[key])
                if self.create_schema:
                    _create_tables(database, self.db.metadatas[key])
            if self.resets_sequences:
                self._reset_mysql_counters()
            for conn in self._connections.values():
                self._begin(conn)
            if self.resets_sequences:
                self._reset_postgresql_sequences()
            self._levels.append(weakref.WeakSet())
            _Router.add(self)
            self._undo.callback(_Router.remove, self)
            self._undo.enter_context(self.route(app))
        except BaseException:
            self.end()
            raise

    def covers(self, app: flask.Flask) -> bool:
        """Whether this isolation is active and has every database of ``db`` for
        ``app``, so that a test of ``app`` can nest in it (:meth:`route`,
        :meth:`savepoint`) instead of isolating them a second time."""
        if self._ended or self._gate is None:
            return False
        engines = _internals.app_engines(self.db, app)
        if engines is None:
            return False
        for key, engine in engines.items():
            database = self._by_engine.get(engine)
            if database is None:
                database = _databases.get(_index(engine.url, self.db, key))
            if database is None or database not in self._connections:
                return False
        return True

    def _refuse_overlap(self, databases: dict[str | None, _Database]) -> None:
        """Two isolations of one database would hold two connections to it, each
        with a transaction the other cannot see: a write of one that clashes with
        the other's would wait for it forever. Refuse before connecting."""
        for other in list(_unended):
            if other is self:
                continue
            for key, database in databases.items():
                if database in other._connections:
                    raise IsolationError(
                        f"{self.owner} would isolate {_bind_name(key)} a second time:"
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
        if self._ended:
            return
        self._ended = True
        _unended.discard(self)
        # Joined connections are cut off first (no SQL), then the transactions are
        # rolled back, then the patches restored.
        with contextlib.ExitStack() as stack:
            stack.push(self._undo)
            for conn in self._connections.values():
                stack.callback(_close, conn)
            stack.callback(self._detach_all)

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
        routes: dict[t.Any, _Database] = {}
        homes: dict[str | None, Engine] = {}
        for key, engine in engines.items():
            database = self._database(app, key, engine)
            if database not in self._connections:
                raise ValueError(
                    f"{self.owner}: {_bind_name(key)} of {app!r} is a database this isolation"
                    " did not start with; isolate each database from the start"
                )
            routes[engine] = routes[engine.pool] = database
            homes[key] = database.engine
        if app.config.get("SQLALCHEMY_RECORD_QUERIES"):
            for home in homes.values():
                _internals.listen_record_queries(home)
        saved = dict(engines)
        self._by_engine.update(routes)
        engines.update(homes)
        try:
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
    def savepoint(self, *, reset_sequences: bool | None = None) -> Iterator[None]:
        """A level on top of what is there: a savepoint on each database, rolled back
        after the block (a test over class-level data). Joined connections handed out
        inside the block are cut off after it.

        :param reset_sequences: reset primary keys at the start of the level (see
            ``reset_sequences`` of the class); None: as this isolation does.
        """
        assert self._gate is not None, "start() first"
        resets = self.resets_sequences if reset_sequences is None else reset_sequences
        if resets and self._mysql_databases():
            raise ValueError(
                f"{self.owner}: reset_sequences cannot work on MySQL/MariaDB inside a"
                " wider transaction (class- or module-wide data): resetting AUTO_INCREMENT"
                " is DDL, which commits. Leave reset_sequences off there, or make the data"
                " in each test."
            )
        savepoints = [conn.begin_nested() for conn in self._connections.values()]
        self._levels.append(weakref.WeakSet())
        if resets:
            self._reset_postgresql_sequences()
        try:
            yield
        finally:
            level = self._levels.pop()
            for joined in list(level):
                t.cast(t.Any, joined).cut_off()
            self._gate.reset()
            for savepoint in reversed(savepoints):
                if savepoint.is_active:
                    savepoint.rollback()

    # -- primary keys --------------------------------------------------------------

    def _tables(self, database: _Database) -> list[t.Any]:
        """The tables of ``database`` whose primary key is one generated integer."""
        from sqlalchemy import Integer

        keys = [key for key, engine in self._bound.items() if engine is database]
        return [
            table
            for key in keys
            for table in self.db.metadatas[key].tables.values()
            if len(table.primary_key.columns) == 1
            and table.primary_key.columns[0].autoincrement in (True, "auto")
            and isinstance(table.primary_key.columns[0].type, Integer)
        ]

    def _mysql_databases(self) -> list[_Database]:
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
            if conn.dialect.name != "postgresql":
                continue
            preparer = conn.dialect.identifier_preparer
            parts = []
            params: dict[str, str] = {}
            for i, table in enumerate(self._tables(database)):
                column = table.primary_key.columns[0]
                params[f"t{i}"] = preparer.format_table(table)
                params[f"c{i}"] = column.name
                parts.append(
                    f"setval(pg_get_serial_sequence(%(t{i})s, %(c{i})s), COALESCE((SELECT"
                    f" MAX({preparer.quote(column.name)}) FROM {preparer.format_table(table)}),"
                    " 0) + 1, false)"
                )
            if parts:
                conn.exec_driver_sql("SELECT " + ", ".join(parts), params)

    # -- queries -------------------------------------------------------------------

    @contextlib.contextmanager
    def capture_queries(self) -> Iterator[list[str]]:
        """Collect the SQL of each statement app code runs inside the block, on any
        thread; the savepoints (and ``BEGIN``) isolation adds are left out."""
        queries: list[str] = []
        self._recorders.append(queries)
        try:
            yield queries
        finally:
            self._recorders.remove(queries)

    # -- joined connections (called by _Router and JoinedConnection) -----------------

    def _join(self, engine: Engine) -> Connection | None:
        database = self._by_engine.get(engine) or self._by_engine.get(engine.pool)
        if database is None:
            identity = _identity(engine.url)
            if identity is not None:
                database = self._by_identity.get(identity) or self._by_server(engine)
            else:
                # In memory, an engine of db for another app (made inside the test)
                # is the same bind's database for the test.
                database = self._memory_database(engine)
            if database is None:
                return None
        joined_class: t.Any = _internals.joined_connection_class()
        joined: Connection = joined_class(
            engine, self._connections[database], self, database.engine.dialect
        )
        self._levels[-1].add(joined)
        return joined

    def _by_server(self, engine: Engine) -> _Database | None:
        """The isolated database ``engine`` reaches under another URL (another spelling
        of the host, a socket): asked once per engine, on a connection of its own."""
        backend = engine.dialect.name
        if not any(
            database.server is not None and database.server[0] == backend
            for database in self._connections
        ):
            return None
        if engine not in _servers:
            try:
                with _direct_connect(engine) as conn:
                    _servers[engine] = _server_identity(conn)
                    conn.rollback()
            except Exception:
                # Let the app's own connection attempt raise what it raises.
                return None
        server = _servers[engine]
        if server is None:
            return None
        for database in self._connections:
            if database.server == server:
                self._by_engine[engine] = database
                return database
        return None

    def shared_connection(self, conn: t.Any) -> _SharedConnection:
        """What ``conn.connection`` gives for a joined connection ``conn``."""
        return _SharedConnection(self, conn)

    def begin(self, conn: t.Any) -> None:
        self._check_open(conn)
        assert self._gate is not None
        if conn.autocommit:
            # Each statement is its own savepoint (see statement()): nothing to hold.
            return
        conn.holder = self._gate.hold()
        try:
            name = self.savepoint_name()
            with self._gate.statement():
                conn.dialect.do_savepoint(conn.main, name)
            conn.savepoint = name
        except BaseException:
            self._gate.release(conn.holder)
            raise

    def savepoint_name(self) -> str:
        """A savepoint name no other open savepoint of this isolation has. Names repeat
        from one isolation to the next, so their statements stay in SQLAlchemy's
        compiled cache; MySQL would replace an open savepoint of the same name."""
        return f"ftc_{next(self._savepoint_ids)}"

    def commit(self, conn: t.Any) -> None:
        self._check_open(conn)
        self._end_savepoint(conn, rollback=False)

    def rollback(self, conn: t.Any) -> None:
        if not self._ended:
            self._end_savepoint(conn, rollback=True)

    def _end_savepoint(self, conn: t.Any, rollback: bool) -> None:
        assert self._gate is not None
        name, conn.savepoint = conn.savepoint, None
        try:
            if name is not None:
                with self._gate.statement():
                    # A savepoint rolled back to is left in place, as SQLAlchemy leaves
                    # it: the next release or rollback below it ends it.
                    if rollback:
                        conn.dialect.do_rollback_to_savepoint(conn.main, name)
                    else:
                        conn.dialect.do_release_savepoint(conn.main, name)
        finally:
            self._gate.release(conn.holder)
            conn.holder = None

    @contextlib.contextmanager
    def statement(self, conn: t.Any) -> Iterator[None]:
        self._check_open(conn)
        assert self._gate is not None
        with self._gate.statement():
            if not conn.autocommit or conn.savepoint is not None:
                yield
                return
            # Autocommit: each statement is a savepoint of its own, released at once,
            # so it is kept (for the test) even if a later one fails.
            name = self.savepoint_name()
            conn.dialect.do_savepoint(conn.main, name)
            try:
                yield
            except BaseException:
                conn.dialect.do_rollback_to_savepoint(conn.main, name)
                conn.dialect.do_release_savepoint(conn.main, name)
                raise
            conn.dialect.do_release_savepoint(conn.main, name)

    def executing(self, conn: t.Any, statement: str) -> None:
        reason = _refusal(statement, conn.dialect.name)
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
        if self._recorders and not TRANSACTION_CONTROL.match(statement):
            for queries in self._recorders:
                queries.append(statement)

    def _check_open(self, conn: t.Any) -> None:
        if self._ended or conn._dbapi_connection is None:
            raise IsolationError(
                f"this database connection belonged to {self.owner}, whose isolation has"
                " ended; a session or connection kept from it (a thread that outlived"
                " its test, an object stored globally) cannot be used any more. Open a"
                " new one in the code that needs it."
            )

    # -- helpers ---------------------------------------------------------------------

    def _engines_of(self, app: flask.Flask) -> MutableMapping[str | None, Engine]:
        engines = _internals.app_engines(self.db, app)
        if engines is None:
            registered = app.extensions.get("sqlalchemy")
            label = self.db_label
            if registered is not None and registered is not self.db:
                raise ValueError(
                    f"{label} is not the SQLAlchemy instance the app {app.name!r} was set up"
                    " with: app.extensions['sqlalchemy'] is another one. Set"
                    f" {label} to the instance the app calls init_app() with (import it"
                    " from the module where your app factory gets it)."
                )
            raise ValueError(
                f"{label} is not registered on the app {app.name!r}, which has no"
                f" Flask-SQLAlchemy: call {label.rsplit('.', 1)[-1]}.init_app(app) in"
                " create_app() (your app factory)."
            )
        return engines

    def _memory_database(self, engine: Engine) -> _Database | None:
        key = _internals.bind_key(self.db, engine)
        if key is _internals.NOT_FOUND:
            return None
        database = _databases.get((_render(engine.url), self.db, key))
        return database if database in self._connections else None

    def _homes(self) -> set[Engine]:
        return {database.engine for database in self._connections}

    def _database(self, app: flask.Flask, key: str | None, engine: Engine) -> _Database:
        if not self.allow_any_database:
            _check_url(self, app, key, engine)
        index = _index(engine.url, self.db, key)
        database = _databases.get(index)
        if database is None:
            with _databases_lock:
                database = _databases.setdefault(index, _Database(engine))
        return database

    def _connect(self, app: flask.Flask, key: str | None, database: _Database) -> None:
        conn = _direct_connect(database.engine)
        try:
            if not self.allow_any_database:
                _check_connected(self, app, key, database, conn)
            elif database.actual is None:
                database.actual = _connected_database(conn)
            if database.server is None:
                database.server = _server_identity(conn)
            # The check's own transaction; the test's begins in _begin().
            conn.rollback()
        except BaseException:
            # Not back to the pool: the connection may be to a database never to use.
            conn.invalidate()
            _close(conn)
            raise
        self._connections[database] = conn
        self._by_engine[database.engine] = self._by_engine[database.engine.pool] = database
        identity = _identity(database.engine.url)
        if identity is not None:
            self._by_identity[identity] = database

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

    def _detach_all(self) -> None:
        for level in self._levels:
            for joined in list(level):
                t.cast(t.Any, joined).cut_off()
        self._levels.clear()


def _close(conn: Connection) -> None:
    # Closing rolls back the outer transaction and returns the connection to its pool.
    conn.close()


def _checked_db(db: t.Any, label: str) -> t.Any:
    try:
        from flask_sqlalchemy import SQLAlchemy
    except ImportError as e:  # pragma: no cover - the extra is installed in the suite
        raise ImportError(
            "database isolation needs Flask-SQLAlchemy; install it with"
            " pip install 'flask-testcase[sqlalchemy]'"
        ) from e
    if not isinstance(db, SQLAlchemy):
        raise TypeError(
            f"{label} must be a flask_sqlalchemy.SQLAlchemy instance (the one the app"
            f" uses), got {db!r} ({type(db).__name__})"
        )
    return db


@contextlib.contextmanager
def database_isolation(
    db: t.Any,
    app: flask.Flask | None = None,
    *,
    create_schema: bool = True,
    allow_any_database: bool = False,
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

    :param db: the app's :class:`flask_sqlalchemy.SQLAlchemy` instance.
    :param app: the app whose engines to isolate; defaults to ``current_app``.
    :param create_schema: create the tables of ``db``'s models first (once per
        database per run, outside the transaction); false when migrations made them.
    :param allow_any_database: use databases not named for tests.
    :raises NotATestDatabaseError: a database is not a test database.
    """
    if app is None:
        from flask import current_app

        app = current_app._get_current_object()  # type: ignore[attr-defined]
    isolation = DatabaseIsolation(
        db, create_schema=create_schema, allow_any_database=allow_any_database
    )
    isolation.start(app)
    from flask import has_app_context

    try:
        # A session of the current app context made before the block began outside
        # it; the block's sessions begin inside.
        if has_app_context():
            db.session.remove()
        yield isolation
    finally:
        try:
            if has_app_context():
                db.session.remove()
        finally:
            isolation.end()
