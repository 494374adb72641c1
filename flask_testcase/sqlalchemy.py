"""Database isolation for Flask-SQLAlchemy (being built: issue 3)."""

from __future__ import annotations

import typing as t

if t.TYPE_CHECKING:
    from .case import TestCase

__all__ = ["isolate_test"]


def isolate_test(case: TestCase) -> t.ContextManager[None]:
    """Isolate one test's database work in a transaction rolled back afterwards."""
    raise NotImplementedError("database isolation is not built yet")
