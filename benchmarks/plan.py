"""What the benchmark compares: the groups of suites, the harnesses' names, how many
tests each suite runs, and the figures the project aims for.

Every other part of the benchmark reads these; none of them is computed.
"""

from __future__ import annotations

import dataclasses

__all__ = [
    "DEFAULT_TESTS",
    "GROUPS",
    "LABELS",
    "MEMORY_HARNESSES",
    "MEMORY_LIMIT_MB",
    "MEMORY_TESTS",
    "QUICK_MEMORY_TESTS",
    "QUICK_TESTS",
    "TARGETS",
    "Target",
]

#: Group name -> (title, reference harness, how to show the comparison).
#: "ratio" prints time / reference time; "speedup" prints reference time / time.
GROUPS: dict[str, tuple[str, str, str]] = {
    "request": ("One request per test (GET a template page)", "floor", "ratio"),
    "sqlite": (
        "Database, SQLite in memory (POST a row, read it back)",
        "create_drop_all",
        "speedup",
    ),
    "postgresql": (
        "Database, PostgreSQL (POST a row, read it back)",
        "create_drop_all",
        "speedup",
    ),
    "live": ("Live server, one HTTP request per test", "flask_testing_live", "speedup"),
    "skip": ("A test skipped with @unittest.skip", "unittest_skip", "ratio"),
}

#: Harness name -> how the table and the chart call it.
LABELS = {
    "floor": "unittest, app per class (floor)",
    "unittest_setup": "unittest, app made in setUp",
    "flask_testing": "Flask-Testing TestCase",
    "pytest_flask": "pytest-flask client fixture",
    "flask_testcase_pytest": "flask_testcase pytest plugin client fixture",
    "pytest_session_by_hand": "pytest, session app, client fixture by hand",
    "flask_testcase_pytest_session": "flask_testcase pytest plugin, session app",
    "flask_testcase": "flask_testcase, default",
    "flask_testcase_per_class": "flask_testcase, app_per_class",
    "create_drop_all": "create_all/drop_all per test",
    "rollback_recipe": "hand-written rollback recipe, app per class",
    "pytest_create_drop": "pytest, session app, db fixture create/drop_all",
    "flask_testcase_pytest_db": "flask_testcase pytest plugin db, session app",
    "flask_testing_live": "Flask-Testing LiveServerTestCase",
    "flask_testcase_live": "flask_testcase LiveServerTestCase",
    "flask_testcase_live_per_class": "flask_testcase LiveServerTestCase, app_per_class",
    "unittest_skip": "unittest.TestCase",
    "flask_testcase_skip": "flask_testcase.TestCase",
}

#: Tests per suite in each group: a full run, and ``--quick``.
DEFAULT_TESTS = {"request": 200, "sqlite": 200, "postgresql": 200, "live": 20, "skip": 2000}
QUICK_TESTS = {"request": 50, "sqlite": 40, "postgresql": 40, "live": 5, "skip": 500}
#: Tests in each memory run: a full run, and ``--quick``.
MEMORY_TESTS, QUICK_MEMORY_TESTS = 2000, 300
#: The harnesses whose memory growth is measured, and the growth allowed.
MEMORY_HARNESSES = ("flask_testcase", "flask_testcase_per_class")
MEMORY_LIMIT_MB = 20.0


@dataclasses.dataclass
class Target:
    """A figure the issue tracker asks for, checked against the measured ratios."""

    title: str
    group: str
    harness: str
    reference: str
    kind: str  # "ratio" (time / reference) or "speedup" (reference / time)
    bound: float  # ratio at most, speedup at least


TARGETS = [
    Target("one request, app_per_class vs floor", "request", "flask_testcase_per_class",
           "floor", "ratio", 1.5),
    Target("one request, default vs Flask-Testing", "request", "flask_testcase",
           "flask_testing", "ratio", 1.0),
    Target("SQLite memory, default vs create_all/drop_all", "sqlite", "flask_testcase",
           "create_drop_all", "speedup", 5.0),
    Target("SQLite memory, app_per_class vs create_all/drop_all", "sqlite",
           "flask_testcase_per_class", "create_drop_all", "speedup", 8.0),
    Target("SQLite memory, app_per_class vs hand-written rollback", "sqlite",
           "flask_testcase_per_class", "rollback_recipe", "ratio", 1.2),
    Target("PostgreSQL, default vs create_all/drop_all", "postgresql", "flask_testcase",
           "create_drop_all", "speedup", 10.0),
    Target("PostgreSQL, app_per_class vs create_all/drop_all", "postgresql",
           "flask_testcase_per_class", "create_drop_all", "speedup", 20.0),
    Target("PostgreSQL, app_per_class vs hand-written rollback", "postgresql",
           "flask_testcase_per_class", "rollback_recipe", "ratio", 1.2),
    Target("pytest, one request, app per test: plugin vs pytest-flask", "request",
           "flask_testcase_pytest", "pytest_flask", "ratio", 1.0),
    Target("pytest, one request, session app: plugin vs by hand", "request",
           "flask_testcase_pytest_session", "pytest_session_by_hand", "ratio", 1.5),
    Target("pytest, SQLite memory: plugin db vs create_all/drop_all", "sqlite",
           "flask_testcase_pytest_db", "pytest_create_drop", "speedup", 5.0),
    Target("pytest, PostgreSQL: plugin db vs create_all/drop_all", "postgresql",
           "flask_testcase_pytest_db", "pytest_create_drop", "speedup", 15.0),
    Target("live server, default vs Flask-Testing's", "live", "flask_testcase_live",
           "flask_testing_live", "speedup", 5.0),
    Target("live server, app_per_class vs Flask-Testing's", "live",
           "flask_testcase_live_per_class", "flask_testing_live", "speedup", 5.0),
]  # fmt: skip
