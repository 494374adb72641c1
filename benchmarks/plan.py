"""What the benchmark compares: the groups of suites, the harnesses' names, how many
tests each suite runs, and the figures the project aims for.

Every other part of the benchmark reads these; none of them is computed.
"""

from __future__ import annotations

import dataclasses

__all__ = [
    "DEFAULT_TESTS",
    "EXTRA_COMPARISONS",
    "GROUPS",
    "JUDGE_MAX_SPREAD",
    "JUDGE_MIN_MEMORY_TESTS",
    "JUDGE_MIN_RUNS",
    "JUDGE_MIN_TESTS",
    "JUDGE_RESOLUTION",
    "JUDGE_TRIM_FROM",
    "LABELS",
    "MEMORY_HARNESSES",
    "MEMORY_LIMIT_MB",
    "MEMORY_TESTS",
    "NOT_QUICK",
    "PER_OPERATION_GROUPS",
    "POSTGRESQL_GROUPS",
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
    "live400": (
        "Live server, a long run of one-request tests (left out of --quick)",
        "flask_testing_live",
        "speedup",
    ),
    "skip": ("A test skipped with @unittest.skip", "unittest_skip", "ratio"),
    "schema_sqlite": (
        "26 tables built by migrations, SQLite in memory (POST a row, read it back)",
        "rollback_recipe",
        "ratio",
    ),
    "schema_postgresql": (
        "26 tables built by migrations, PostgreSQL (POST a row, read it back)",
        "rollback_recipe",
        "ratio",
    ),
    "schema_setup": (
        "Before the first test: the 26-table schema on PostgreSQL, per operation",
        "create_all",
        "ratio",
    ),
}

#: Groups that need a PostgreSQL server.
POSTGRESQL_GROUPS = {"postgresql", "schema_postgresql", "schema_setup"}

#: Groups whose benches time operations, not tests in classes: no whole-classes rule,
#: and the table says ms/op.
PER_OPERATION_GROUPS = {"schema_setup"}

#: Group name -> more (reference harness, "ratio" or "speedup") columns the table prints
#: after the reference's.
EXTRA_COMPARISONS: dict[str, list[tuple[str, str]]] = {
    "schema_sqlite": [("create_drop_all", "speedup"), ("migrate_per_test", "speedup")],
    "schema_postgresql": [("create_drop_all", "speedup"), ("migrate_per_test", "speedup")],
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
    "lite_rollback_recipe": "Flask-SQLAlchemy-Lite rollback recipe, app per class",
    "plain_rollback_recipe": "plain SQLAlchemy rollback recipe, app per class",
    "flask_testcase_lite": "flask_testcase, Flask-SQLAlchemy-Lite",
    "flask_testcase_lite_per_class": "flask_testcase, Flask-SQLAlchemy-Lite, app_per_class",
    "flask_testcase_plain": "flask_testcase, plain SQLAlchemy",
    "flask_testcase_plain_per_class": "flask_testcase, plain SQLAlchemy, app_per_class",
    "create_drop_all": "create_all/drop_all per test",
    "rollback_recipe": "hand-written rollback recipe, app per class",
    "pytest_create_drop": "pytest, session app, db fixture create/drop_all",
    "flask_testcase_pytest_db": "flask_testcase pytest plugin db, session app",
    "flask_testing_live": "Flask-Testing LiveServerTestCase",
    "flask_testcase_live": "flask_testcase LiveServerTestCase",
    "flask_testcase_live_per_class": "flask_testcase LiveServerTestCase, app_per_class",
    "unittest_skip": "unittest.TestCase",
    "flask_testcase_skip": "flask_testcase.TestCase",
    "migrate_per_test": "Flask-Migrate upgrade/downgrade per test",
    "pytest_rollback_recipe": "pytest, session app, hand-written rollback fixtures",
    "flask_testcase_migrations": "flask_testcase, per class, from migrations",
    "flask_testcase_pytest_db_migrations": "flask_testcase pytest plugin db, from migrations",
    "flask_testcase_real_commit": "flask_testcase, per class, real-commit mode",
    "create_all": "create_all, empty database",
    "create_all_existing": "create_all, tables already there (kept database)",
    "upgrade_from_empty": "Flask-Migrate upgrade, empty database",
    "upgrade_at_head": "Flask-Migrate upgrade, already at head",
    "flask_testcase_reuse": "flask_testcase, second run reusing its database",
    "clone_template": "CREATE DATABASE ... TEMPLATE, then a first query",
    "flask_testcase_clone": "flask_testcase, a worker's clone of the template",
}

#: Tests per suite in each group: a full run, and ``--quick``.
DEFAULT_TESTS = {"request": 200, "sqlite": 200, "postgresql": 200, "live": 40, "live400": 400,
                 "skip": 2000, "schema_sqlite": 100, "schema_postgresql": 100,
                 "schema_setup": 5}  # fmt: skip
QUICK_TESTS = {**DEFAULT_TESTS, "request": 50, "sqlite": 40, "postgresql": 40, "live": 20,
               "skip": 500, "schema_sqlite": 40, "schema_postgresql": 40}  # fmt: skip
#: Groups a ``--quick`` run leaves out unless ``--only`` names them.
NOT_QUICK = {"live400"}
#: Tests in each memory run: a full run, and ``--quick``.
MEMORY_TESTS, QUICK_MEMORY_TESTS = 2000, 1000

# -- when a target is judged -----------------------------------------------------------
#
# A target is judged (met or MISSED) only when its measurement is stable enough to
# mean something; otherwise the table says "not judged" and why. Stable enough means
# all of:
#
# - at least JUDGE_MIN_RUNS runs, since a ratio is the median of the runs' ratios;
# - both suites ran at least JUDGE_MIN_TESTS[group] tests, in whole classes of
#   suites.TESTS_PER_CLASS (a class of 5 tests pays its per-class cost, such as the
#   app of app_per_class or a live server, over 5 tests instead of 10);
# - the runs agree: the spread of their ratios ((max - min) / median) is at most
#   JUDGE_MAX_SPREAD;
# - the verdict is clear: the median is not within JUDGE_RESOLUTION of the bound, and
#   every run's ratio falls on the same side of the bound (from
#   JUDGE_TRIM_FROM runs on, every run but the highest and the lowest), so a ratio
#   whose runs straddle the bound is "too close to call" rather than met or missed by
#   the luck of the median.

#: Runs needed before a target is judged.
JUDGE_MIN_RUNS = 3
#: Tests per suite needed before a target of the group is judged.
JUDGE_MIN_TESTS = {"request": 50, "sqlite": 40, "postgresql": 40, "live": 20, "live400": 400,
                   "schema_sqlite": 40, "schema_postgresql": 40, "schema_setup": 5}  # fmt: skip
#: The largest spread of the runs' ratios ((max - min) / median) of a judged target.
JUDGE_MAX_SPREAD = 0.5
#: A median closer than this (a fraction of the bound) to the bound is too close to
#: call: runs of the same suites differ by that much on a quiet machine.
JUDGE_RESOLUTION = 0.03
#: From this many runs on, the highest and the lowest run's ratio are left out when
#: checking that the runs fall on one side of the bound.
JUDGE_TRIM_FROM = 5
#: Tests in a memory run needed before its growth is judged.
JUDGE_MIN_MEMORY_TESTS = 1000
#: The harnesses whose memory growth is measured, and the growth allowed.
MEMORY_HARNESSES = ("flask_testcase", "flask_testcase_per_class")
MEMORY_LIMIT_MB = 20.0


@dataclasses.dataclass
class Target:
    """A figure the issue tracker asks for, checked against the measured ratios."""

    title: str
    group: str
    harness: str
    reference: str | None  # None for kind "s"
    kind: str  # "ratio" (time / reference), "speedup" (reference / time), "s" (seconds)
    bound: float  # ratio at most, speedup at least, seconds at most


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
    Target("pytest, SQLite memory: plugin db vs TestCase app_per_class", "sqlite",
           "flask_testcase_pytest_db", "flask_testcase_per_class", "ratio", 1.25),
    Target("pytest, PostgreSQL: plugin db vs TestCase app_per_class", "postgresql",
           "flask_testcase_pytest_db", "flask_testcase_per_class", "ratio", 1.25),
    *(
        Target(f"{where}, {stack} vs Flask-SQLAlchemy{mode}", group,
               f"flask_testcase_{kind}{suffix}", f"flask_testcase{suffix}", "ratio", 1.1)
        for group, where in (("sqlite", "SQLite memory"), ("postgresql", "PostgreSQL"))
        for kind, stack in (("lite", "Flask-SQLAlchemy-Lite"), ("plain", "plain SQLAlchemy"))
        for suffix, mode in (("", ""), ("_per_class", ", app_per_class"))
    ),
    *(
        Target(f"{where}, {stack}, app_per_class vs {peer}", group,
               f"flask_testcase_{kind}_per_class", reference, "ratio", 1.2)
        for group, where in (("sqlite", "SQLite memory"), ("postgresql", "PostgreSQL"))
        for kind, stack, reference, peer in (
            ("lite", "Flask-SQLAlchemy-Lite", "lite_rollback_recipe", "the rollback recipe"),
            ("plain", "plain SQLAlchemy", "plain_rollback_recipe", "the rollback recipe"),
        )
    ),
    Target("live server, default vs Flask-Testing's", "live", "flask_testcase_live",
           "flask_testing_live", "speedup", 5.0),
    Target("live server, app_per_class vs Flask-Testing's", "live",
           "flask_testcase_live_per_class", "flask_testing_live", "speedup", 5.0),
    # Issue 23: the live server per class in the default (rollback) mode, over 400 tests.
    Target("live server, 400 tests, app_per_class vs Flask-Testing's", "live400",
           "flask_testcase_live_per_class", "flask_testing_live", "speedup", 15.0),
    # Issue 21: on 26 tables, either front door within 1.2x of the hand-written recipe.
    Target("26 tables, SQLite memory: app_per_class vs rollback recipe", "schema_sqlite",
           "flask_testcase_per_class", "rollback_recipe", "ratio", 1.2),
    Target("26 tables, SQLite memory: plugin db vs pytest rollback recipe", "schema_sqlite",
           "flask_testcase_pytest_db", "pytest_rollback_recipe", "ratio", 1.2),
    Target("26 tables, SQLite memory: from migrations vs rollback recipe", "schema_sqlite",
           "flask_testcase_migrations", "rollback_recipe", "ratio", 1.2),
    Target("26 tables, SQLite memory: plugin db from migrations vs pytest recipe",
           "schema_sqlite", "flask_testcase_pytest_db_migrations", "pytest_rollback_recipe",
           "ratio", 1.2),
    Target("26 tables, PostgreSQL: app_per_class vs rollback recipe", "schema_postgresql",
           "flask_testcase_per_class", "rollback_recipe", "ratio", 1.2),
    Target("26 tables, PostgreSQL: plugin db vs pytest rollback recipe", "schema_postgresql",
           "flask_testcase_pytest_db", "pytest_rollback_recipe", "ratio", 1.2),
    Target("26 tables, PostgreSQL: from migrations vs rollback recipe", "schema_postgresql",
           "flask_testcase_migrations", "rollback_recipe", "ratio", 1.2),
    Target("26 tables, PostgreSQL: plugin db from migrations vs pytest recipe",
           "schema_postgresql", "flask_testcase_pytest_db_migrations",
           "pytest_rollback_recipe", "ratio", 1.2),
    # Issue 23: real-commit mode against rollback mode and against create/drop.
    Target("26 tables, SQLite memory: real commit vs rollback mode", "schema_sqlite",
           "flask_testcase_real_commit", "flask_testcase_per_class", "ratio", 3.0),
    Target("26 tables, SQLite memory: real commit vs create/drop", "schema_sqlite",
           "flask_testcase_real_commit", "create_drop_all", "speedup", 2.0),
    Target("26 tables, PostgreSQL: real commit vs rollback mode", "schema_postgresql",
           "flask_testcase_real_commit", "flask_testcase_per_class", "ratio", 3.0),
    Target("26 tables, PostgreSQL: real commit vs create/drop", "schema_postgresql",
           "flask_testcase_real_commit", "create_drop_all", "speedup", 5.0),
    # Issue 21: start-up on PostgreSQL.
    Target("PostgreSQL: a second run's reuse vs one create_all", "schema_setup",
           "flask_testcase_reuse", "create_all", "ratio", 1.0),
    Target("PostgreSQL: an xdist worker's clone, ready", "schema_setup",
           "flask_testcase_clone", None, "s", 0.3),
    Target("PostgreSQL: CREATE DATABASE ... TEMPLATE, ready (the least)", "schema_setup",
           "clone_template", None, "s", 0.3),
]  # fmt: skip
