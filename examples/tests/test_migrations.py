"""The migrations are sound: one head, an empty database upgrades, each downgrade
undoes its upgrade, and the models match the schema they build. Each check runs on
scratch databases of its own beside the test database."""

from __future__ import annotations

from flask_testcase import MigrationChecks

from .base import MemoTestCase


class MigrationTests(MigrationChecks, MemoTestCase):
    """The four checks, for MemoTestCase's app (MigrationChecks comes first: its tests
    need no database isolation)."""
