"""The PostgreSQL databases the benchmark creates, uses and drops.

``test_bench`` (the name is an option) holds the schema, made once, for the harnesses
that roll each test back; ``test_bench_ddl`` is for create_all/drop_all per test, which
drops the schema after every test and so cannot share a database with them. Both are
dropped at the end, and a leftover of an interrupted run is dropped before starting.
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


class Databases(t.NamedTuple):
    url: str
    ddl_url: str


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


def _drop(connection: sa.Connection, name: str) -> None:
    # FORCE ends sessions still open on it (pooled connections of finished apps).
    connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextlib.contextmanager
def benchmark_databases(url: str, name: str = "test_bench") -> Iterator[Databases]:
    """Create the benchmark databases on the server at ``url`` and drop them afterwards.

    :param url: the server.
    :param name: the database's name; ``<name>_ddl`` is made too.
    """
    if not name.startswith("test_") or not name.replace("_", "").isalnum():
        raise ValueError(
            f"--database {name!r}: the benchmark drops this database, so its name must"
            " start with 'test_' and hold only letters, digits and underscores."
        )
    names = (name, f"{name}_ddl")
    base = sa.make_url(url)
    urls = [base.set(database=n).render_as_string(hide_password=False) for n in names]
    engine = _server(url)
    try:
        with engine.connect() as connection:
            for n in names:
                _drop(connection, n)
                connection.execute(sa.text(f'CREATE DATABASE "{n}"'))
        schema = sa.create_engine(urls[0], poolclass=sa.pool.NullPool)
        try:
            db.metadata.create_all(schema)
        finally:
            schema.dispose()
        yield Databases(*urls)
    finally:
        gc.collect()
        with engine.connect() as connection:
            for n in names:
                _drop(connection, n)
        engine.dispose()
