"""The guard: isolation runs only on test databases.

Before anything connects, the URL must name a test database (:func:`check_url`, by
:func:`~flask_testcase.is_test_database`); on the first connection the database the
server says it is connected to must too (:func:`check_connected`), and on MySQL no
model may live in another database (:func:`check_schemas`). Each refusal is a
:class:`~flask_testcase.NotATestDatabaseError` that says what it saw and how to fix it.
:func:`server_identity` tells one server's database apart from any other.
"""

from __future__ import annotations

import os
import typing as t
from pathlib import Path

from .._testnames import is_test_name
from .._testnames import sqlite_path
from ..databases import NotATestDatabaseError
from ..databases import is_test_database
from ._registry import identity

if t.TYPE_CHECKING:
    import flask
    from sqlalchemy.engine import URL
    from sqlalchemy.engine import Connection
    from sqlalchemy.engine import Engine
    from sqlalchemy.sql.schema import MetaData

    from .._stacks import Stack
    from ._registry import Database

__all__ = [
    "check_connected",
    "check_schemas",
    "check_url",
    "connected_database",
    "other_databases",
    "server_identity",
]

# Hides this module's frames from unittest tracebacks, so a failure points at the test.
__unittest = True


def _resolved(url: URL, app: flask.Flask, stack: Stack) -> tuple[t.Any, ...] | None:
    """``url``'s database identity as the stack resolves it for ``app`` (for
    Flask-SQLAlchemy and Flask-SQLAlchemy-Lite a relative SQLite path lives in the
    instance folder; SQLite itself opens it from the working directory)."""
    if url.get_backend_name() == "sqlite":
        path = sqlite_path(url)
        if path is not None and not os.path.isabs(path):
            base = app.instance_path if stack.relative_to_instance else os.getcwd()
            return ("sqlite", os.path.realpath(os.path.join(base, path)))
    return identity(url)


def _is_relative_sqlite(url: URL | None) -> bool:
    if url is None or url.get_backend_name() != "sqlite":
        return False
    path = sqlite_path(url)
    return path is not None and not os.path.isabs(path)


def _sqlite_file_verdict(path: str, configured: URL | None, app: flask.Flask, stack: Stack) -> bool:
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
        and _resolved(configured, app, stack) == ("sqlite", os.path.realpath(path))
    )
    if given:
        return is_test_database(make_url("sqlite:///" + path))
    return is_test_name(Path(path).stem)


def _way_out(opt_in: str) -> str:
    return (
        "Point the testing config at a test database, e.g. with"
        f" flask_testcase.database_for_tests(url), or {opt_in} to use it anyway."
    )


def check_url(opt_in: str, app: flask.Flask, stack: Stack, key: t.Hashable, engine: Engine) -> None:
    """Refuse, before anything connects, an engine whose URL is not a test database.

    :param opt_in: how the user uses such a database anyway, for the message.
    :param stack: where the engine comes from (:mod:`flask_testcase._stacks`), and its
        bind ``key`` there.
    """
    url = engine.url
    configured = stack.configured_url(app, key, engine)
    if url.get_backend_name() == "sqlite":
        path = sqlite_path(url)
        allowed = path is None or _sqlite_file_verdict(path, configured, app, stack)
    else:
        allowed = is_test_database(url)
    if allowed:
        return
    shown = url.render_as_string(hide_password=True)
    seen = (
        f"flask_testcase refuses to use the database {url.database!r} ({shown},"
        f" {stack.bind_name(key)}) for tests"
    )
    setting = stack.setting(key)
    if (
        setting is not None
        and configured is not None
        and _resolved(configured, app, stack) != identity(url)
    ):
        made = stack.init_call("db")
        raise NotATestDatabaseError(
            f"{seen}: the engine {stack.kind} made connects to it, but"
            f" app.config[{setting!r}] is now"
            f" {configured.render_as_string(hide_password=True)!r}. The config was changed"
            f" after {made}, which reads it once to make the engines. Apply the"
            f" testing config before calling {made} (e.g. pass it to your app"
            " factory), or call init_app after changing it."
        )
    if _is_relative_sqlite(configured):
        where = (
            f"{stack.kind} opens in the app's instance folder"
            if stack.relative_to_instance
            else "SQLite opens from the working directory"
        )
        raise NotATestDatabaseError(
            f"{seen}: {configured.render_as_string()!r} is a relative SQLite path, which"  # type: ignore[union-attr]
            f" {where} ({url.database}); a"
            " relative path counts as a test database only by its name (test.db,"
            " test_*.db or *_test.db). Use sqlite:// (in memory), a name marked for"
            " tests, or an absolute path under the temporary directory; or"
            f" {opt_in} to use it anyway."
        )
    raise NotATestDatabaseError(
        f"{seen}: its name does not mark it as a test database (it must be 'test', start"
        " with 'test_' or end with '_test'; SQLite may also be in memory or a file"
        f" given by an absolute path under the temporary directory). {_way_out(opt_in)}"
    )


def connected_database(conn: Connection) -> str:
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


#: MySQL/MariaDB's own databases: a qualified name may read them (SQLAlchemy's
#: reflection does).
_SYSTEM_DATABASES = frozenset({"information_schema", "performance_schema", "mysql", "sys"})


def other_databases(conn: Connection, actual: str | None) -> frozenset[str]:
    """On MySQL/MariaDB, the server's databases (lower case) that are neither the
    test's (``actual``), a test database nor the server's own: a qualified name
    (``production.t``) must not reach them. Empty elsewhere."""
    if conn.dialect.name not in {"mysql", "mariadb"}:
        return frozenset()
    names = {str(row[0]) for row in conn.exec_driver_sql("SHOW DATABASES")}
    return frozenset(
        name.lower()
        for name in names
        if name != actual and not is_test_name(name) and name.lower() not in _SYSTEM_DATABASES
    )


def server_identity(conn: Connection) -> tuple[str, ...] | None:
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


def check_connected(
    opt_in: str,
    app: flask.Flask,
    stack: Stack,
    key: t.Hashable,
    database: Database,
    conn: Connection,
) -> None:
    """Refuse a connection that reached a database other than a test database, whatever
    the URL said (``?dbname=`` in its query, ``connect_args``)."""
    if database.actual is not None:
        return
    actual = connected_database(conn)
    url = database.engine.url
    if url.get_backend_name() == "sqlite":
        configured = stack.configured_url(app, key, database.engine)
        allowed = actual == "" or _sqlite_file_verdict(actual, configured, app, stack)
    else:
        allowed = is_test_name(actual) or is_test_database(url.set(database=actual))
    if not allowed:
        raise NotATestDatabaseError(
            f"flask_testcase refuses to run tests on {stack.bind_name(key)}: its URL"
            f" ({url.render_as_string(hide_password=True)}) names {url.database!r}, but"
            f" the server says the connection uses {actual!r}, which is not a test"
            " database. Something beside the database name chose it: a parameter in the"
            " URL's query (?dbname=, ?database=) or the engine's connect_args. Remove"
            f" it from the testing config. {_way_out(opt_in)}"
        )
    database.actual = actual


def check_schemas(
    opt_in: str, stack: Stack, key: t.Hashable, database: Database, metadata: MetaData | None
) -> None:
    """On MySQL a table's schema is another database: refuse models that live in one
    not named for tests."""
    if metadata is None or database.engine.dialect.name not in {"mysql", "mariadb"}:
        return
    for table in metadata.tables.values():
        schema = table.schema
        if schema is None or schema == database.actual or is_test_name(schema):
            continue
        raise NotATestDatabaseError(
            f"flask_testcase refuses to run tests on {stack.bind_name(key)}: the table"
            f" {table.fullname!r} has schema={schema!r}, and on MySQL/MariaDB a schema is"
            f" a database, which is not a test database (the test database is"
            f" {database.actual!r}). Map the schema to a test database in the testing"
            " config (execution_options={'schema_translate_map': {...}}) or leave the"
            f" schema out. {_way_out(opt_in)}"
        )
