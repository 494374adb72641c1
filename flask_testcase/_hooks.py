"""The hook through which test case features (database isolation, the live server)
join a test's setup."""

from __future__ import annotations

import typing as t
import unittest

__all__ = ["FixtureHooks"]

_C = t.TypeVar("_C")

if t.TYPE_CHECKING:
    _Base = unittest.TestCase
else:
    _Base = object


class FixtureHooks(_Base):
    """Base of the :class:`~flask_testcase.TestCase` features that set up something per
    test. ``TestCase._pre_setup`` calls :meth:`_setup_fixtures` with the app and its
    request context pushed."""

    def _setup_fixtures(self) -> None:
        """Enter per-test features (database isolation, servers, browsers).

        Register undo with :meth:`_enter` or ``self.addCleanup`` right after what it
        undoes. A feature that extends it calls ``super()._setup_fixtures()`` first.
        """

    def _enter(self, cm: t.ContextManager[_C]) -> _C:
        """Enter ``cm`` and register its exit as a cleanup (``enterContext`` is 3.11+)."""
        value = cm.__enter__()
        self.addCleanup(cm.__exit__, None, None, None)
        return value
