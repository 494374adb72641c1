"""The test-name rule, and where a SQLite URL keeps its database: what both the guard
(:mod:`flask_testcase.databases`, :mod:`flask_testcase.isolation`) and the throwaway
servers (:mod:`flask_testcase.servers`) need.

It imports nothing of this package, so that every arrow points at it: ``databases``
uses the servers (for throwaway URLs) and this module; ``servers`` uses only this
module.
"""

from __future__ import annotations

import re
import typing as t

if t.TYPE_CHECKING:
    from sqlalchemy.engine import URL

__all__ = ["TEST_NAME", "is_test_name", "sqlite_path"]

#: A name that marks a database (for SQLite: a file, without its extension) as one for
#: tests: ``test``, ``test_*``, ``test-*``, ``*_test``, ``*-test``, in any case.
TEST_NAME = re.compile(r"^test(?:$|[_\-])|[_\-]test$", re.IGNORECASE)

_MEMORY = {None, "", ":memory:"}


def is_test_name(name: str) -> bool:
    """Whether ``name`` marks a database as one for tests (:data:`TEST_NAME`)."""
    return bool(TEST_NAME.search(name))


def sqlite_path(url: URL) -> str | None:
    """The file of a SQLite URL, or None when the database is in memory."""
    database = url.database
    if database in _MEMORY or url.query.get("mode") == "memory":
        return None
    assert database is not None
    if database.startswith("file:"):
        # A URI filename (``?uri=true``): ``file:path?mode=...``; ``file::memory:``.
        database = database[5:].split("?", 1)[0]
        if database in _MEMORY:
            return None
    return database
