"""The run's databases: the first engine the run sees for a database (the first app's)
serves every later test on it (:class:`Database`), so that its pool gives each test an
already open connection and its dialect and statement cache stay warm. An in-memory
SQLite database is one per ``db`` and bind, kept for the run.

Kept in :data:`databases` under :func:`render` of the URL (and, in memory, ``db`` and
the bind key: the stack's :meth:`~flask_testcase._stacks.Stack.memory_index`);
:func:`identity` tells one database apart under other URLs.
"""

from __future__ import annotations

import os
import threading
import typing as t

from .._testnames import sqlite_path
from ._patches import EnginePatches

if t.TYPE_CHECKING:
    from sqlalchemy.engine import URL
    from sqlalchemy.engine import Connection
    from sqlalchemy.engine import Engine

    from .._stacks import Stack

__all__ = [
    "Database",
    "close_all",
    "database_for",
    "databases",
    "direct_connect",
    "identity",
    "index",
    "is_memory",
    "render",
]


# Hides this module's frames from unittest tracebacks, so a failure points at the test.
__unittest = True


class Database:
    """A database of the run: the engine that serves it, and whether the database it
    connects to was checked (its schema is :mod:`flask_testcase.schema`'s)."""

    __slots__ = ("__weakref__", "actual", "engine", "others", "server", "sniff")

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        #: The database the server reported on the first connection (None: not yet).
        self.actual: str | None = None
        #: Which server and database the first connection reached
        #: (:func:`~._guard.server_identity`), to know it under another URL.
        self.server: tuple[str, ...] | None = None
        #: MySQL/MariaDB: the server's other databases not named for tests (lower
        #: case), which no qualified name may reach (None: not asked yet).
        self.others: frozenset[str] | None = None
        #: What finds, cheaply, a statement that may change session state
        #: (:func:`~._sql.sniffer`; None: not made yet).
        self.sniff: t.Any = None


#: The run's databases, by (rendered URL, db, bind key); db and key are None except in
#: memory.
databases: dict[tuple[str, t.Any, t.Any], Database] = {}
_lock = threading.Lock()


def index(url: URL, stack: Stack, key: t.Hashable) -> tuple[str, t.Any, t.Any]:
    """Where :data:`databases` keeps the database of ``url`` (in memory: of the stack's
    bind ``key``, each its own database)."""
    return (render(url), *stack.memory_index(key)) if is_memory(url) else (render(url), None, None)


def database_for(url: URL, stack: Stack, key: t.Hashable, engine: Engine) -> Database:
    """The run's database that ``url`` (the stack's bind ``key``) names, made with
    ``engine`` the first time."""
    where = index(url, stack, key)
    database = databases.get(where)
    if database is None:
        with _lock:
            database = databases.setdefault(where, Database(engine))
    return database


def close_all(keep: t.Collection[tuple[str, t.Any, t.Any]] = ()) -> None:
    """Forget the run's databases and close their engines' connections.

    :param keep: the databases (keys of :data:`databases`) to keep: those of an outer
        pytest run when an inner one (pytester, in process) ends.
    """
    with _lock:
        found = [database for where, database in databases.items() if where not in keep]
        for where in [where for where in databases if where not in keep]:
            del databases[where]
    for database in found:
        database.engine.dispose()


def is_memory(url: URL) -> bool:
    return url.get_backend_name() == "sqlite" and sqlite_path(url) is None


def render(url: URL) -> str:
    return url.render_as_string(hide_password=False)


def identity(url: URL) -> tuple[t.Any, ...] | None:
    """What names one database across engines (None for in-memory SQLite, where each
    engine has its own). Query options that do not change the database are left out."""
    if url.get_backend_name() == "sqlite":
        path = sqlite_path(url)
        return None if path is None else ("sqlite", os.path.realpath(path))
    query = tuple(sorted((k, str(v)) for k, v in url.query.items() if k != "charset"))
    return (url.get_backend_name(), url.username, url.host, url.port, url.database, query)


def direct_connect(engine: Engine) -> Connection:
    """A connection from ``engine``'s own pool, never a joined one (the library's own:
    the guard's reach lets it through, :func:`~._reach.library_connections`)."""
    from .._own_connections import library_connections

    with library_connections():
        return EnginePatches.original_connect(engine)
