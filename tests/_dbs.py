"""Database URLs for the suite's database tests.

PostgreSQL and MariaDB tests run against ``test_ftc<pid>`` databases made by
:func:`flask_testcase.database_for_tests` (so concurrent runs on one machine never
share one) and dropped when the run ends. A server that does not answer skips its tests
with the reason, except under ``CI=true``, where a skipped database test would hide a
broken setup: there it fails.

Override the servers with ``FTC_POSTGRESQL_URL`` / ``FTC_MYSQL_URL`` (a URL naming any
database; only its server and credentials are used). When the default server does not
answer and its binaries are installed, a throwaway server started for the run takes its
place (``FTC_THROWAWAY=1`` asks for throwaway servers even when the services answer).
"""

from __future__ import annotations

import functools
import os
import tempfile
import typing as t

import pytest


def _throwaway(kind: str, default: str) -> str:
    """The URL of a throwaway server for the run (TCP on 127.0.0.1, so that the URL
    takes another database name by its last ``/``), or ``default`` when the service
    answers or the binaries are missing (``require`` then says why)."""
    import atexit
    import contextlib

    from flask_testcase import ServerError
    from flask_testcase import servers

    forced = os.environ.get("FTC_THROWAWAY") == "1"
    if not forced and _answers(default):
        return default
    start = servers.temporary_postgresql if kind == "postgresql" else servers.temporary_mariadb
    try:
        server = contextlib.ExitStack()
        url = server.enter_context(start(port=0)).url
    except ServerError:
        if forced:
            raise
        return default
    atexit.register(server.close)
    return url


def _answers(url: str) -> bool:
    import socket

    import sqlalchemy as sa

    u = sa.engine.make_url(url)
    with socket.socket() as s:
        s.settimeout(3)
        return s.connect_ex((u.host or "127.0.0.1", u.port or 0)) == 0


POSTGRESQL = os.environ.get("FTC_POSTGRESQL_URL") or _throwaway(
    "postgresql", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
MYSQL = os.environ.get("FTC_MYSQL_URL") or _throwaway(
    "mariadb", "mysql+pymysql://root@127.0.0.1:3306/test"
)

#: A directory for SQLite files, under the temporary directory (which marks a SQLite
#: file as a test database) and shared by the run, so that file databases, like server
#: ones, keep their tables between tests.
SQLITE_DIR = tempfile.mkdtemp(prefix="ftc-sqlite-")

BACKENDS = ["sqlite_memory", "sqlite_file", "postgresql", "mysql"]
SERVERS = {"postgresql": POSTGRESQL, "mysql": MYSQL}


def checking_from_outside() -> t.ContextManager[None]:
    """The suite's own connections that check from outside (a server's maintenance
    database, a database made not to be a test database): the guard's reach, which
    watches every connection of every test, lets them through."""
    try:
        from flask_testcase._own_connections import library_connections
    except ImportError:  # an older flask_testcase (checking a test fails without the fix)
        import contextlib

        return contextlib.nullcontext()
    return library_connections()


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


@functools.cache
def _unreachable(server: str) -> str | None:
    """Why ``server``'s URL cannot be used, or None when it answers."""
    import sqlalchemy as sa

    url = sa.engine.make_url(SERVERS[server])
    admin = url.set(database="postgres") if server == "postgresql" else url._replace(database=None)
    engine = sa.create_engine(
        admin, poolclass=sa.pool.NullPool, connect_args={"connect_timeout": 3}
    )
    try:
        # The server's maintenance database, which the guard's reach would refuse.
        with checking_from_outside(), engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except Exception as e:
        return f"{server} at {url.render_as_string()} is not reachable: {e.__class__.__name__}: {e}"
    finally:
        engine.dispose()
    return None


def require(server: str) -> None:
    """Skip (or, under CI=true, fail) the calling test when ``server`` is unreachable."""
    reason = _unreachable(server)
    if reason is not None:
        if in_ci():
            pytest.fail(f"CI=true and {reason}")
        pytest.skip(reason)


def url_for(backend: str, name: str = "ftc") -> str:
    """The URL of database ``name`` on ``backend`` (created for the run on servers).

    :param backend: one of :data:`BACKENDS`.
    :param name: distinguishes databases a test needs several of (binds).
    """
    if backend == "sqlite_memory":
        return "sqlite://"
    if backend == "sqlite_file":
        return f"sqlite:///{os.path.join(SQLITE_DIR, name)}.db"
    require(backend)
    return _server_database(backend, name)


@functools.cache
def _server_database(backend: str, name: str) -> str:
    from flask_testcase import database_for_tests

    base = SERVERS[backend].rsplit("/", 1)[0]
    return database_for_tests(f"{base}/{name}{os.getpid()}")


def backend_params() -> list[t.Any]:
    """``pytest.param`` for each backend, marked ``postgresql``/``mysql`` for servers."""
    marks = {"postgresql": pytest.mark.postgresql, "mysql": pytest.mark.mysql}
    return [pytest.param(b, marks=[marks[b]] if b in marks else [], id=b) for b in BACKENDS]
