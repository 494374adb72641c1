"""The guard's reach: every connection SQLAlchemy hands out during a test.

While a test runs (from before ``create_app`` until its teardown, under both front
doors: the environment's guard step, :func:`guarding`), one listener on the
``checkout`` event of SQLAlchemy's :class:`~sqlalchemy.pool.Pool` class sees every
connection any pool hands out, whatever engine it belongs to (one ``create_app``
made beside ``db``, one made at import, a test without ``db``). It asks the server
which database the connection uses and refuses, before the caller gets it:

- a database that is not a test database (:func:`~flask_testcase.is_test_database`'s
  name rule), unless the test opted in (``allow_any_database``), with
  :class:`~flask_testcase.NotATestDatabaseError`;
- while a database isolation is active, a connection it does not serve: joined
  connections (the isolated databases) never check out of a pool, so whatever does is
  outside the test's transaction and would commit for real (an
  :class:`~flask_testcase.IsolationError` naming how to include it). In real-commit
  mode the app's connections to the isolated databases do come from its pools, and
  pass;
- in strict mode, any connection of a test that did not ask for a database.

The library's own connections (the test's connection to each isolated database, the
schema step, creating and dropping test databases, throwaway servers) are made inside
:func:`~flask_testcase._own_connections.library_connections` and not looked at,
so the default path costs nothing: an isolated test's app connections are joined and
never check out.

The listener is added when the first guard begins and removed when the last ends.
"""

from __future__ import annotations

import contextlib
import dataclasses
import sys
import threading
import typing as t

from .._own_connections import library_connections
from .._own_connections import making_own
from .._testnames import is_test_name
from ..databases import NotATestDatabaseError
from ..databases import is_test_database
from ._errors import IsolationError

if t.TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = [
    "GuardPolicy",
    "active",
    "ensure_installed",
    "guarding",
    "library_connections",
    "listening",
]

# Hides this module's frames from unittest tracebacks, so a failure points at the test.
__unittest = True


@dataclasses.dataclass(frozen=True)
class GuardPolicy:
    """What the guard allows during one test."""

    #: The test, named in errors.
    owner: str
    #: Let connections to databases not named for tests through.
    allow_any_database: bool = False
    #: How the test's user sets ``allow_any_database``, for errors.
    opt_in: str = "set allow_any_database = True on the test class"
    #: Refuse every connection: the test did not ask for a database (strict mode).
    refuse_all: bool = False
    #: How the test asks for a database, for the strict refusal.
    ask: str = "set db on the test class"
    #: How the test includes another database in its isolation, for errors.
    include: str = (
        "give every stack the app uses as a tuple (db = (db, SQLAlchemyDatabase(engine,"
        " Base.metadata)))"
    )


_policies: list[GuardPolicy] = []
_lock = threading.Lock()


def active() -> GuardPolicy | None:
    """The policy of the test running now (the innermost), or None."""
    return _policies[-1] if _policies else None


@contextlib.contextmanager
def guarding(policy: GuardPolicy) -> Iterator[None]:
    """Guard every connection SQLAlchemy hands out while the block runs (nothing to do
    when SQLAlchemy was never imported: then nothing can connect through it)."""
    with _lock:
        _policies.append(policy)
        _install()
    try:
        yield
    finally:
        with _lock:
            # Not necessarily the last one: remove this very policy.
            for i in range(len(_policies) - 1, -1, -1):
                if _policies[i] is policy:
                    del _policies[i]
                    break
            if not _policies:
                _uninstall()


def ensure_installed() -> None:
    """Listen now if a guard is active and SQLAlchemy was imported since it began (by
    ``create_app``, say)."""
    if _policies and not _state.listening:
        with _lock:
            if _policies:
                _install()


class _State:
    listening = False


_state = _State()


def _install() -> None:
    if _state.listening or "sqlalchemy" not in sys.modules:
        return
    from sqlalchemy import event
    from sqlalchemy.pool import Pool

    event.listen(Pool, "checkout", _on_checkout)
    _state.listening = True


def _uninstall() -> None:
    if not _state.listening:
        return
    from sqlalchemy import event
    from sqlalchemy.pool import Pool

    event.remove(Pool, "checkout", _on_checkout)
    _state.listening = False


def listening() -> bool:
    """Whether the guard's listener is on :class:`~sqlalchemy.pool.Pool` now."""
    if "sqlalchemy" not in sys.modules:
        return False
    from sqlalchemy import event
    from sqlalchemy.pool import Pool

    return event.contains(Pool, "checkout", _on_checkout)


def _on_checkout(dbapi_connection: t.Any, record: t.Any, proxy: t.Any) -> None:
    policy = active()
    if policy is None or making_own():
        return
    from .. import _internals

    backend = _internals.pool_backend(proxy)
    if policy.refuse_all:
        raise IsolationError(
            f"{policy.owner} did not ask for a database, and in strict mode such a test"
            f" may not connect to one (a {backend or 'database'} connection was asked for)."
            f" To use the database, {policy.ask}."
        )
    actual = _connected(backend, dbapi_connection)
    if actual is None:
        return  # a dialect whose database cannot be asked
    if not policy.allow_any_database and not _is_test(backend, actual):
        shown = actual or "(no database: the whole server)"
        raise NotATestDatabaseError(
            f"flask_testcase refuses a connection to the {backend} database {shown!r}"
            f" during {policy.owner}: its name does not mark it as a test database (it"
            " must be 'test', start with 'test_' or end with '_test'; SQLite may also"
            " be in memory or a file under the temporary directory). The guard watches"
            " every SQLAlchemy connection made during a test, not only those of db:"
            " point every engine the app makes (create_engine() in create_app, a"
            " second extension) at a test database in the testing config, e.g. with"
            f" flask_testcase.database_for_tests(url), or {policy.opt_in} to use it"
            " anyway."
        )
    from ._patches import EnginePatches

    pool = _internals.checkout_pool(proxy)
    if EnginePatches.active and not _commits_for_real(backend, actual, pool, EnginePatches.active):
        shown = actual or "in memory"
        raise IsolationError(
            f"{policy.owner} runs in a database transaction rolled back afterwards, and"
            f" a connection to the {backend} database {shown!r} was asked for outside it"
            " (an engine or pool that the test's isolation does not include): what it"
            " writes would be committed for real. Include that database in the"
            f" isolation: {policy.include}; or point the engine at one of the test's"
            " databases."
        )


def _commits_for_real(backend: str | None, actual: str, pool: t.Any, isolations: t.Any) -> bool:
    """Whether the connection reaches a database of an active real-commit isolation,
    whose connections are the app's own from its pools (nothing joins them)."""
    import os

    for isolation in isolations:
        if not isolation.real_commits:
            continue
        for database in isolation._connections:
            if pool is not None and pool is database.engine.pool:
                return True
            if database.actual is None or _family(database.engine.dialect.name) != _family(backend):
                continue
            if backend == "sqlite":
                if actual and os.path.realpath(actual) == os.path.realpath(database.actual):
                    return True
            elif database.actual == actual:
                return True
    return False


def _family(backend: str | None) -> str | None:
    return "mysql" if backend in {"mysql", "mariadb"} else backend


_QUERIES = {
    "postgresql": "SELECT current_database()",
    "mysql": "SELECT DATABASE()",
    "mariadb": "SELECT DATABASE()",
}


def _connected(backend: str | None, dbapi_connection: t.Any) -> str | None:
    """What database the server says ``dbapi_connection`` uses ('' for none, or
    SQLite in memory); None for a dialect that cannot be asked."""
    if backend == "sqlite":
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA database_list")
            for row in cursor.fetchall():
                if row[1] == "main":
                    return str(row[2] or "")
            return ""
        finally:
            cursor.close()
    query = _QUERIES.get(backend or "")
    if query is None:
        return None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(query)
        row = cursor.fetchone()
    finally:
        cursor.close()
    # The query began a transaction: end it, so the caller gets the connection as the
    # pool gave it (an isolation level can still be set).
    dbapi_connection.rollback()
    return str(row[0] or "") if row else ""


def _is_test(backend: str | None, actual: str) -> bool:
    if backend == "sqlite":
        if not actual:
            return True
        from sqlalchemy.engine import make_url

        return is_test_database(make_url("sqlite:///" + actual))
    return bool(actual) and is_test_name(actual)
