"""The PostgreSQL databases the benchmark creates, uses and drops.

Every database is named after ``test_bench`` (the name is an option): ``test_bench``
itself holds the 20-table schema, made once, for the harnesses that roll each test
back; ``test_bench_ddl`` is for create_all/drop_all per test, which drops the schema
after every test and so cannot share a database with them. The suites on the 26-table
schema and the start-up costs make more (``test_bench_schema``, ...), each on first use
through :meth:`Databases.make`. All are dropped at the end, and a leftover of an
interrupted run is dropped before it is made again.
"""

from __future__ import annotations

import contextlib
import gc
import typing as t

import sqlalchemy as sa

from .app import db

if t.TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["DEFAULT_URL", "Databases", "benchmark_databases", "unreachable"]

#: The server, without a database name.
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/"


def _server(url: str) -> sa.Engine:
    return sa.create_engine(
        sa.make_url(url).set(database="postgres"),
        isolation_level="AUTOCOMMIT",
        poolclass=sa.pool.NullPool,
        connect_args={"connect_timeout": 3},
    )


def unreachable(url: str) -> str | None:
    """Return why the server at ``url`` cannot be used, or None if it can."""
    engine = _server(url)
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except Exception as e:
        return f"{sa.make_url(url).render_as_string(hide_password=True)} is unreachable ({e})"
    finally:
        engine.dispose()
    return None


def _check_name(name: str) -> None:
    if not name.startswith("test_") or not name.replace("_", "").isalnum():
        raise ValueError(
            f"--database {name!r}: the benchmark drops this database, so its name must"
            " start with 'test_' and hold only letters, digits and underscores."
        )


class Databases:
    """The benchmark's databases on one server, all named after one name.

    :param url: the server.
    :param name: the name every database's name starts with.
    """

    def __init__(self, url: str, name: str) -> None:
        _check_name(name)
        self.name = name
        self._base = sa.make_url(url)
        #: An AUTOCOMMIT engine on the server's ``postgres`` database, for
        #: ``CREATE DATABASE`` and ``DROP DATABASE``.
        self.server = _server(url)
        self._made: list[str] = []

    def describe(self) -> str:
        """The server's version and whether it is durable (``fsync``), which decides
        what ``CREATE DATABASE`` and DDL cost."""
        with self.server.connect() as connection:
            version = connection.execute(sa.text("SHOW server_version")).scalar()
            fsync = connection.execute(sa.text("SHOW fsync")).scalar()
        return f"PostgreSQL {version}, fsync {fsync}"

    def url_of(self, name: str) -> str:
        """The URL of database ``name`` on this server."""
        return self._base.set(database=name).render_as_string(hide_password=False)

    def make(self, suffix: str, metadata: sa.MetaData | None = None) -> str:
        """Create database ``<name><suffix>`` (dropping a leftover first), with the
        tables of ``metadata`` if given, and return its URL. It is dropped by
        :meth:`drop_all`."""
        name = self.name + suffix
        _check_name(name)
        self.create(name)
        if name not in self._made:
            self._made.append(name)
        url = self.url_of(name)
        if metadata is not None:
            engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
            try:
                metadata.create_all(engine)
            finally:
                engine.dispose()
        return url

    def create(self, name: str, template: str | None = None) -> None:
        """``CREATE DATABASE name`` (from ``template`` if given), dropping a database of
        that name first. The caller drops it, or :meth:`make` made it."""
        _check_name(name)
        with self.server.connect() as connection:
            _drop(connection, name)
            clause = f' TEMPLATE "{template}"' if template else ""
            connection.execute(sa.text(f'CREATE DATABASE "{name}"{clause}'))

    def drop(self, name: str) -> None:
        """``DROP DATABASE name``, ending the sessions still on it."""
        _check_name(name)
        with self.server.connect() as connection:
            _drop(connection, name)

    @property
    def url(self) -> str:
        """The 20-table schema's database, for the harnesses that roll back."""
        return self.url_of(self.name)

    @property
    def ddl_url(self) -> str:
        """The database for create_all/drop_all per test on the 20-table schema."""
        return self.url_of(f"{self.name}_ddl")

    def drop_all(self) -> None:
        """Drop every database made through this object."""
        gc.collect()
        with self.server.connect() as connection:
            for name in self._made:
                _drop(connection, name)
        self._made.clear()
        self.server.dispose()


def _drop(connection: sa.Connection, name: str) -> None:
    # FORCE ends sessions still open on it (pooled connections of finished apps).
    connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextlib.contextmanager
def benchmark_databases(url: str, name: str = "test_bench") -> Iterator[Databases]:
    """Create the 20-table benchmark databases on the server at ``url`` and drop them,
    and every other database made meanwhile, afterwards.

    :param url: the server.
    :param name: the database's name; ``<name>_ddl`` is made too, and more on demand.
    """
    databases = Databases(url, name)
    try:
        databases.make("", db.metadata)
        databases.make("_ddl")
        yield databases
    finally:
        databases.drop_all()
