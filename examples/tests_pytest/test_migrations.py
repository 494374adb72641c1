"""The migrations are sound: one head, an empty database upgrades, each downgrade
undoes its upgrade, and the models match the schema they build (the four tests of
TestMigrations, for the app fixture's app, on scratch databases of their own)."""

from __future__ import annotations

from flask_testcase.pytest_plugin import TestMigrations  # noqa: F401
