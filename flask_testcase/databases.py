"""Test databases: which databases tests may touch, and ``test_<name>`` databases made
for a test run.

The guard (:func:`is_test_database`) decides from the database's *name*: the library
only creates tables in, and only runs tests against, a database whose name says it is
for tests, unless a test case opts in with ``allow_any_database = True``. The rule:

- SQLite in memory, or a SQLite file given by an absolute path under the system's
  temporary directory;
- otherwise the database name (for SQLite the file name without its extension) is
  ``test``, starts with ``test_`` or ``test-``, or ends with ``_test`` or ``-test``
  (case-insensitive).

:func:`database_for_tests` turns the URL of a real database into the URL of its test
database, creates that database on first use and drops it when the process exits.

The rule itself is :mod:`flask_testcase._testnames`, which the throwaway servers
(:mod:`flask_testcase.servers`) use too; this module calls the servers (a throwaway URL
for a test database), which never import it. SQLAlchemy is imported only when a
function needs it.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import sys
import tempfile
import threading
import typing as t
from pathlib import Path

from ._testnames import is_test_name
from ._testnames import sqlite_path

if t.TYPE_CHECKING:
    from collections.abc import Iterator

    from sqlalchemy.engine import URL

__all__ = ["NotATestDatabaseError", "database_for_tests", "drop_database", "is_test_database"]

#: Environment variable that makes :func:`database_for_tests` keep its databases
#: between runs when set to ``1``/``true``/``yes`` (a ``keep=`` argument wins).
KEEP_ENV = "FLASK_TESTCASE_KEEP_DATABASES"


# Databases this process created (rendered URL -> kept after the run?), for the drop at
# exit and so that a second call for the same URL does not recreate it.
_made: dict[str, bool] = {}
# Databases of _made created as a copy of a pytest-xdist run's migrated template
# (rendered URL -> the template's comment), see flask_testcase.schema.
_copied: dict[str, str] = {}
_lock = threading.Lock()
_before_drop: list[t.Callable[[], None]] = []


def before_drop(callback: t.Callable[[], None]) -> None:
    """Call ``callback`` at exit before the test databases are dropped: the isolation
    module closes its connections there, so that none holds a database open."""
    _before_drop.append(callback)


class NotATestDatabaseError(RuntimeError):
    """Raised instead of running tests against, or creating tables in, a database whose
    name does not mark it as a test database (see :func:`is_test_database`)."""


def _url(url: str | URL) -> URL:
    from sqlalchemy.engine import make_url

    return make_url(url)


def is_test_database(url: str | URL) -> bool:
    """Whether the rule in this module's description lets tests use ``url``.

    :param url: a database URL, as a string or :class:`sqlalchemy.engine.URL`.
    """
    url = _url(url)
    if url.render_as_string(hide_password=False) in _made:
        return True
    if url.get_backend_name() == "sqlite":
        path = sqlite_path(url)
        if path is None:
            return True
        # Only an absolute path can be judged by where it is: a relative one depends
        # on the working directory (and Flask-SQLAlchemy resolves it against the
        # instance folder), so it must pass the name rule.
        temp = Path(tempfile.gettempdir()).resolve()
        if os.path.isabs(path) and temp in Path(path).resolve().parents:
            return True
        return is_test_name(Path(path).stem)
    return bool(url.database and is_test_name(url.database))


def _worker_suffix() -> str:
    # pytest-xdist names its workers gw0, gw1, ...; each gets its own database.
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if worker and not re.fullmatch(r"\w+", worker):
        raise ValueError(f"PYTEST_XDIST_WORKER={worker!r} is not a usable name suffix")
    return f"_{worker}" if worker else ""


def _test_name(name: str) -> str:
    base = name if name.lower().startswith("test_") else f"test_{name}"
    return base + _worker_suffix()


def _keep_default() -> bool:
    return os.environ.get(KEEP_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def database_for_tests(url: str | URL, *, keep: bool | None = None) -> str:
    """Return the URL of the test database for ``url``, creating that database.

    The test database is named ``test_<name>`` (a name that already starts with
    ``test_`` is kept), plus ``_<worker>`` under pytest-xdist (``test_shop_gw0``), so
    parallel workers never share data. The first call in a process creates it on the
    server (PostgreSQL, MySQL/MariaDB), dropping a leftover one of the same name first;
    it is dropped when the process exits. Later calls return the same URL at once.
    For SQLite the file name gets the prefix (``app.db`` -> ``test_app.db``) and an
    absolute path is deleted at start and exit; an in-memory URL is returned as is.

    Use it where the testing configuration sets the URL::

        SQLALCHEMY_DATABASE_URI = database_for_tests("postgresql+psycopg://localhost/shop")

    With the environment variable ``FLASK_TESTCASE_THROWAWAY_SERVERS=1``, a PostgreSQL
    or MySQL/MariaDB URL is moved to the run's throwaway server of its kind (see
    :func:`~flask_testcase.shared_server`) before anything else: the same code then
    runs on a server started for the run, and the one the URL names is not contacted.

    :param url: the URL of the database the application normally uses. Only its
        server, credentials and name are used; that database is never touched.
    :param keep: keep the database after the run and reuse it (with its tables and
        any rows committed outside tests) in the next run. ``None`` reads the
        environment variable ``FLASK_TESTCASE_KEEP_DATABASES``.
    :raises ValueError: for a backend other than PostgreSQL, MySQL/MariaDB or SQLite,
        or a URL without a database name.
    """
    source = _url(url)
    from . import servers

    if servers.throwaway_requested():
        source = servers.on_shared_server(source)
    if keep is None:
        keep = _keep_default()
    backend = source.get_backend_name()
    if backend == "sqlite":
        path = sqlite_path(source)
        if path is None:
            return url if isinstance(url, str) else source.render_as_string(hide_password=False)
        file = Path(path)
        stem = _test_name(file.stem)
        target = source.set(database=str(file.with_name(stem + file.suffix)))
    elif backend in {"postgresql", "mysql", "mariadb"}:
        if not source.database:
            raise ValueError(
                f"database_for_tests() needs a URL that names a database, got"
                f" {source.render_as_string()!r}; add the name, e.g. '.../shop'"
            )
        name = _test_name(source.database)
        if len(name.encode()) > 63:
            raise ValueError(
                f"the test database name {name!r} is longer than the 63 bytes PostgreSQL"
                " and MySQL allow; use a shorter database name"
            )
        target = source.set(database=name)
    else:
        raise ValueError(
            f"database_for_tests() supports PostgreSQL, MySQL/MariaDB and SQLite, got"
            f" {backend!r} ({source.render_as_string()!r})"
        )
    if servers.serves(target):
        # The throwaway server and everything on it goes away with the run.
        keep = True
    key = target.render_as_string(hide_password=False)
    with _lock:
        if key not in _made:
            if not _made:
                atexit.register(_drop_made)
            _create(target, keep, copy_template=True)
            _made[key] = keep
    return key


def _admin_engine(url: URL) -> t.Any:
    """An engine on the server's maintenance database, in autocommit mode (CREATE and
    DROP DATABASE cannot run in a transaction)."""
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    if url.get_backend_name() == "postgresql":
        admin = url.set(database="postgres")
    else:
        # ``URL.set(database=None)`` means "unchanged"; the NamedTuple API clears it.
        admin = url._replace(database=None)
    return create_engine(admin, poolclass=NullPool, isolation_level="AUTOCOMMIT")


def _quote(engine: t.Any, name: str) -> str:
    return str(engine.dialect.identifier_preparer.quote_identifier(name))


def _sqlite_files(url: URL) -> list[Path]:
    path = sqlite_path(url)
    if path is None or not os.path.isabs(path):
        # A relative path is resolved by Flask-SQLAlchemy against the app's instance
        # folder, which is not known here; such a file is left alone.
        return []
    return [Path(path + suffix) for suffix in ("", "-journal", "-wal", "-shm")]


@contextlib.contextmanager
def _server_connection(url: URL) -> Iterator[tuple[t.Any, str, str]]:
    """A connection to ``url``'s server (not its database), with the database's name
    and its quoted form."""
    name = url.database
    assert name is not None
    from ._own_connections import library_connections

    engine = _admin_engine(url)
    try:
        # The library's own: the guard's reach lets it reach the server.
        with library_connections(), engine.connect() as conn:
            yield conn, name, _quote(engine, name)
    finally:
        engine.dispose()


def _remove_sqlite_files(url: URL) -> None:
    for file in _sqlite_files(url):
        file.unlink(missing_ok=True)


def _create(url: URL, keep: bool, *, copy_template: bool = False) -> None:
    """Create the test database at ``url`` (``keep``: an existing one is left as it is;
    otherwise it is dropped first).

    :param copy_template: a new PostgreSQL worker database may be created as a copy of
        this pytest-xdist run's migrated template
        (:func:`flask_testcase.schema.copy_ready_template`).
    """
    from sqlalchemy import text

    _copied.pop(url.render_as_string(hide_password=False), None)
    if url.get_backend_name() == "sqlite":
        if not keep:
            _remove_sqlite_files(url)
        return
    with _server_connection(url) as (conn, name, quoted):
        if url.get_backend_name() == "postgresql":
            exists = conn.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            )
            if exists and not keep:
                _drop_postgresql(conn, name, quoted)
                exists = False
            if not exists:
                copied = None
                if copy_template and not keep:
                    from .schema import copy_ready_template

                    copied = copy_ready_template(conn, name)
                if copied is None:
                    conn.exec_driver_sql(f"CREATE DATABASE {quoted}")
                else:
                    _copied[url.render_as_string(hide_password=False)] = copied
        else:
            if not keep:
                conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {quoted}")
            conn.exec_driver_sql(f"CREATE DATABASE IF NOT EXISTS {quoted} CHARACTER SET utf8mb4")


def _same_database(a: URL, b: URL) -> bool:
    """Whether URLs ``a`` and ``b`` name one database (query options such as the
    ``charset`` Flask-SQLAlchemy adds for MySQL left out)."""
    if a.get_backend_name() != b.get_backend_name():
        return False
    if a.get_backend_name() == "sqlite":
        pa, pb = sqlite_path(a), sqlite_path(b)
        if pa is None or pb is None:
            return False
        return os.path.realpath(pa) == os.path.realpath(pb)
    return (a.username, a.host, a.port, a.database) == (b.username, b.host, b.port, b.database)


def made_here(url: str | URL) -> str | None:
    """The URL :func:`database_for_tests` made the database ``url`` names under in this
    process (a database it created and may drop and create again), or None."""
    target = _url(url)
    with _lock:
        made = list(_made)
    for key in made:
        if _same_database(_url(key), target):
            return key
    return None


def recreate_database(url: str | URL) -> None:
    """Drop the test database at ``url`` and create it empty (a SQLite file is
    removed). Only for a database this process made (:func:`made_here`)."""
    target = _url(url)
    if made_here(target) is None:
        raise NotATestDatabaseError(
            f"flask_testcase recreates only databases it created, not {target.render_as_string()!r}"
        )
    _create(target, keep=False)


def kept(url: str) -> bool:
    """Whether the database :func:`database_for_tests` made under ``url`` (a key of
    :func:`made_here`) is kept between runs (otherwise it was created empty in this
    run)."""
    with _lock:
        return bool(_made.get(url))


def copied_template(url: str) -> str | None:
    """The comment of the template the database :func:`database_for_tests` made under
    ``url`` (a key of :func:`made_here`) was created as a copy of, or None."""
    with _lock:
        return _copied.get(url)


def clone_postgresql(url: str | URL, template: str, admin: t.Any = None) -> None:
    """Make the PostgreSQL database at ``url`` a copy of the database ``template`` on
    the same server (``CREATE DATABASE ... TEMPLATE``), dropping it first. Only for a
    database this process made; nobody may be connected to either.

    :param admin: an autocommit connection to the server's maintenance database to use
        (default: a new one).
    """
    target = _url(url)
    if made_here(target) is None:
        raise NotATestDatabaseError(
            f"flask_testcase replaces only databases it created, not {target.render_as_string()!r}"
        )
    with contextlib.ExitStack() as stack:
        if admin is None:
            conn, name, quoted = stack.enter_context(_server_connection(target))
        else:
            assert target.database is not None
            conn, name = admin, target.database
            quoted = _quote(conn, name)
        _drop_postgresql(conn, name, quoted)
        conn.exec_driver_sql(f"CREATE DATABASE {quoted} TEMPLATE {_quote(conn, template)}")


def _drop_postgresql(conn: t.Any, name: str, quoted: str) -> None:
    from sqlalchemy import text

    if conn.dialect.server_version_info >= (13,):
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)")
        return
    # Before PostgreSQL 13 a database with sessions cannot be dropped: end them first.
    conn.execute(
        text(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = :name AND pid <> pg_backend_pid()"
        ),
        {"name": name},
    )
    conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {quoted}")


def drop_database(url: str | URL) -> None:
    """Drop the test database at ``url`` now (PostgreSQL, MySQL/MariaDB, SQLite file).

    Refuses, with :class:`NotATestDatabaseError`, a database whose name does not mark
    it as a test database.

    :param url: the test database's URL.
    """
    target = _url(url)
    if not is_test_database(target):
        raise NotATestDatabaseError(
            f"drop_database() refuses to drop {target.render_as_string()!r}: its name"
            " does not mark it as a test database"
        )
    if target.get_backend_name() == "sqlite":
        _remove_sqlite_files(target)
        return
    with _server_connection(target) as (conn, name, quoted):
        if target.get_backend_name() == "postgresql":
            _drop_postgresql(conn, name, quoted)
        else:
            # A transaction left open on the database would make DROP wait for its
            # locks for up to a year (MySQL's default); give up after a while.
            conn.exec_driver_sql("SET SESSION lock_wait_timeout = 30")
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {quoted}")


def _drop_made() -> None:
    """At exit: close our connections, then drop every database made and not kept."""
    for callback in _before_drop:
        try:
            callback()
        except Exception as e:  # an exit handler must not stop the others
            print(f"flask_testcase: closing connections failed: {e!r}", file=sys.stderr)
    with _lock:
        made = [url for url, keep in _made.items() if not keep]
        _made.clear()
    for url in made:
        try:
            drop_database(url)
        except Exception as e:
            print(f"flask_testcase: could not drop the test database {url}: {e!r}", file=sys.stderr)
