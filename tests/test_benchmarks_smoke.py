"""The benchmark command runs end to end (tiny settings; no timing is checked).

Benchmarks are measurements, not tests: these only prove that ``python -m benchmarks``
runs every suite under every harness, prints its table, and writes its results and
chart, so that the command in the README cannot rot unnoticed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import typing as t
from pathlib import Path

import pytest
import sqlalchemy as sa
from _dbs import checking_from_outside

ROOT = Path(__file__).resolve().parent.parent

TINY = ["--tests", "3", "--runs", "1"]


def _lite_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("flask_sqlalchemy_lite") is not None


#: The Flask-SQLAlchemy-Lite rows, left out where Lite (Python 3.10, Flask 3) is not.
LITE_HARNESSES = (
    ("lite_rollback_recipe", "flask_testcase_lite", "flask_testcase_lite_per_class")
    if _lite_installed()
    else ()
)


def _run(*args: str | Path) -> tuple[subprocess.CompletedProcess[str], dict[str, object]]:
    out = Path(args[args.index("--out") + 1])
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks", *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return completed, json.loads((out / "results.json").read_text(encoding="utf-8"))


def _rows(results: dict[str, t.Any], group: str) -> dict[str, dict[str, t.Any]]:
    return {r["harness"]: r for r in results["benchmarks"] if r["group"] == group}


#: The harnesses on the 26-table schema (both front doors with the schema from the
#: migrations among them, and real-commit mode).
SCHEMA_HARNESSES = ("create_drop_all", "migrate_per_test", "rollback_recipe", "flask_testcase",
                    "flask_testcase_per_class", "pytest_rollback_recipe",
                    "flask_testcase_pytest_db", "flask_testcase_migrations",
                    "flask_testcase_pytest_db_migrations",
                    "flask_testcase_real_commit")  # fmt: skip
#: Harnesses whose feature is not built yet (they must say so).
NOT_BUILT_YET: tuple[str, ...] = ()


def _check_rows(rows: dict[str, dict[str, t.Any]], harnesses: set[str], group: str) -> None:
    """Every harness ran its 3 tests once and got a ratio; those whose feature is not
    built yet say so."""
    not_built = {h for h in NOT_BUILT_YET if group.startswith("schema_")}
    assert set(rows) == harnesses | not_built, group
    for harness, row in rows.items():
        if harness in not_built:
            assert row["unavailable"], (group, harness, row["error"])
            assert "is not built yet" in row["error"]
            continue
        assert row["error"] is None, (group, harness, row["error"])
        assert row["tests"] == 3
        assert len(row["per_test_ms"]) == 1
        assert row["median_ms"] > 0
        assert row["vs_reference"] > 0
        assert all(x > 0 for x in row["vs_more"].values()), (group, harness)


def test_benchmark_command_runs_every_harness_and_writes_results(tmp_path: Path) -> None:
    completed, results = _run(*TINY, "--no-postgresql", "--out", tmp_path)

    expected = {
        "request": {"floor", "unittest_setup", "flask_testing", "pytest_flask",
                    "flask_testcase", "flask_testcase_per_class", "flask_testcase_pytest",
                    "pytest_session_by_hand", "flask_testcase_pytest_session"},
        "sqlite": {"create_drop_all", "rollback_recipe", "flask_testcase",
                   "flask_testcase_per_class", "pytest_create_drop",
                   "flask_testcase_pytest_db", *LITE_HARNESSES,
                   "plain_rollback_recipe", "flask_testcase_plain",
                   "flask_testcase_plain_per_class"},
        "live": {"flask_testing_live", "flask_testcase_live", "flask_testcase_live_per_class"},
        "live400": {"flask_testing_live", "flask_testcase_live",
                    "flask_testcase_live_per_class"},
        "skip": {"unittest_skip", "flask_testcase_skip"},
        "schema_sqlite": {*SCHEMA_HARNESSES},
    }  # fmt: skip
    for group, harnesses in expected.items():
        _check_rows(_rows(results, group), harnesses, group)
    for group in ("postgresql", "schema_postgresql", "schema_setup"):
        assert _rows(results, group) == {}
    assert results["apps_created_by_skipped_tests"] == 0
    assert set(results["memory"]) == {"flask_testcase", "flask_testcase_per_class"}

    # The table and the targets are printed; the chart is a PNG.
    assert "One request per test" in completed.stdout
    assert "flask_testcase, app_per_class" in completed.stdout
    assert "flask_testcase pytest plugin db, session app" in completed.stdout
    assert "Targets" in completed.stdout
    assert "PostgreSQL suites skipped (--no-postgresql)" in completed.stderr

    # The load the run ran under is printed and saved; one run of 3 tests judges nothing.
    assert "Load average (1, 5, 15 min) at start " in completed.stdout
    meta = t.cast("dict[str, t.Any]", results["meta"])
    assert len(meta["load_at_start"]) == len(meta["load_at_end"]) == 3
    assert len(meta["load_by_round"]) == 1
    targets = t.cast("list[dict[str, t.Any]]", results["targets"])
    measured = [x for x in targets if x["value"] is not None]
    assert len(measured) >= 10
    # Every feature is built: the real-commit targets are measured like the others.
    assert [x["title"] for x in targets if x["not_judged"] == "not built yet"] == []
    assert "26 tables, SQLite memory: real commit vs rollback mode" in [
        x["title"] for x in measured
    ]
    for target in measured:
        assert target["met"] is None, target
        assert target["not_judged"] in (
            "1 run(s), at least 3 needed",
            "3 tests, at least 1000 needed",  # the memory runs
        ), target
    assert "not judged: 1 run(s), at least 3 needed" in completed.stdout
    assert " met\n" not in completed.stdout and "MISSED" not in completed.stdout
    assert (tmp_path / "results.txt").read_text(encoding="utf-8").strip() in completed.stdout
    assert (tmp_path / "benchmark.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def _postgresql_problem() -> str | None:
    engine = sa.create_engine(SERVER, connect_args={"connect_timeout": 3})
    try:
        with checking_from_outside(), engine.connect():
            return None
    except sa.exc.OperationalError as e:
        return f"{SERVER} is unreachable ({e.orig})"
    finally:
        engine.dispose()


@pytest.mark.postgresql
def test_benchmark_postgresql_suites_run_and_leave_no_database(tmp_path: Path) -> None:
    problem = _postgresql_problem()
    if problem is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but PostgreSQL is needed: {problem}")
        pytest.skip(f"PostgreSQL is needed: {problem}")

    # A name of its own, so that a full benchmark running meanwhile keeps its database.
    name = f"test_bench_smoke_{os.getpid()}"
    groups = "postgresql,schema_postgresql,schema_setup"
    completed, results = _run(
        *TINY, "--only", groups, "--database", name, "--no-chart", "--out", tmp_path
    )

    rows = _rows(results, "postgresql")
    assert set(rows) == {"create_drop_all", "rollback_recipe", "flask_testcase",
                         "flask_testcase_per_class", "pytest_create_drop",
                         "flask_testcase_pytest_db", *LITE_HARNESSES,
                         "plain_rollback_recipe", "flask_testcase_plain",
                         "flask_testcase_plain_per_class"}  # fmt: skip
    for harness, row in rows.items():
        assert row["error"] is None, (harness, row["error"])
        assert row["median_ms"] > 0
    _check_rows(_rows(results, "schema_postgresql"), {*SCHEMA_HARNESSES}, "schema_postgresql")
    setup = _rows(results, "schema_setup")
    # flask_testcase's reuse of a migrated database and its per-worker copy of the
    # template run too, through its own code.
    assert set(setup) == {"create_all", "create_all_existing", "upgrade_from_empty",
                          "upgrade_at_head", "clone_template", "flask_testcase_reuse",
                          "flask_testcase_clone"}  # fmt: skip
    for harness, row in setup.items():
        assert row["error"] is None, (harness, row["error"])
        assert row["tests"] == 3
        assert row["median_ms"] > 0
    titles = {x["title"]: x for x in t.cast("list[dict[str, t.Any]]", results["targets"])}
    for title in ("PostgreSQL: a second run's reuse vs one create_all",
                  "PostgreSQL: an xdist worker's clone, ready",
                  "26 tables, PostgreSQL: plugin db from migrations vs pytest recipe"):  # fmt: skip
        assert titles[title]["value"] is not None, titles[title]
    assert "PostgreSQL suites on PostgreSQL " in completed.stdout
    assert not (tmp_path / "benchmark.png").exists()

    # Every database the benchmark made is dropped at the end, those flask_testcase
    # made for it (the template, the workers' databases) included.
    engine = sa.create_engine(SERVER)
    try:
        with checking_from_outside(), engine.connect() as connection:
            names = connection.scalars(
                sa.text("SELECT datname FROM pg_database WHERE datname LIKE :prefix"),
                {"prefix": f"{name}%"},
            ).all()
    finally:
        engine.dispose()
    assert names == []


# -- judging a target (no timing: the times are made up) --------------------------------


@pytest.fixture(scope="module")
def bm() -> t.Iterator[t.Any]:
    """The benchmark's modules, imported from the repository (benchmarks/ is not an
    installed package) and forgotten afterwards: a module left in ``sys.modules``
    makes later pytester runs warn that it cannot be rewritten."""
    import importlib
    import types

    sys.path.insert(0, str(ROOT))
    try:
        names = ("report", "plan", "run", "stats")
        modules = {name: importlib.import_module(f"benchmarks.{name}") for name in names}
        yield types.SimpleNamespace(**modules)
    finally:
        sys.path.remove(str(ROOT))
        for name in [m for m in sys.modules if m == "benchmarks" or m.startswith("benchmarks.")]:
            del sys.modules[name]


def _bench(bm: t.Any, harness: str, ms: list[float], tests: int = 40) -> t.Any:
    bench = bm.run.Bench("sqlite", harness, tests, run=lambda n: 0.0)
    bench.times = [x / 1000 for x in ms]
    return bench


AT_MOST = ("ours vs floor", "sqlite", "ours", "floor", "ratio", 1.2)
AT_LEAST = ("ours vs create/drop", "sqlite", "ours", "slow", "speedup", 5.0)


@pytest.mark.parametrize(
    ("target", "ours", "other", "met", "value"),
    [
        (AT_MOST, [11.0, 10.5, 12.0], [10.0, 10.0, 10.0], True, 1.1),
        (AT_MOST, [14.0, 13.0, 15.0], [10.0, 10.0, 10.0], False, 1.4),
        (AT_LEAST, [10.0, 10.0, 10.0], [60.0, 70.0, 65.0], True, 6.5),
        (AT_LEAST, [10.0, 10.0, 10.0], [30.0, 35.0, 40.0], False, 3.5),
        # With 5 runs or more, the highest and the lowest may fall on the other side.
        (AT_MOST, [10.0, 11.0, 11.0, 11.0, 13.0], [10.0] * 5, True, 1.1),
    ],
)
def test_a_steady_measurement_is_judged(
    bm: t.Any, target: tuple[t.Any, ...], ours: list[float], other: list[float], met: bool,
    value: float,
) -> None:  # fmt: skip
    verdict = bm.stats.judge(
        bm.plan.Target(*target), _bench(bm, "ours", ours), _bench(bm, "other", other)
    )

    assert verdict.not_judged is None
    assert verdict.met is met
    assert verdict.value == pytest.approx(value)
    assert len(verdict.ratios) == len(ours)


@pytest.mark.parametrize(
    ("ours", "other", "tests", "why"),
    [
        ([11.0, 11.0], [10.0, 10.0], 40, "2 run(s), at least 3 needed"),
        ([11.0] * 3, [10.0] * 3, 5, "5 tests per suite, at least 40 needed"),
        (
            [11.0] * 3,
            [10.0] * 3,
            45,
            "45 tests per suite is not whole classes of 10: per-class costs would weigh"
            " more than in a real suite",
        ),
        (
            [5.0, 11.0, 20.0],
            [10.0] * 3,
            40,
            "runs disagree, 0.50x to 2.00x (a spread of 136%, at most 50%)",
        ),
        (
            [11.5, 12.5, 13.0],
            [10.0] * 3,
            40,
            "too close to call, runs from 1.15x to 1.30x fall on both sides of the target",
        ),
        (
            [12.1, 12.2, 11.9],
            [10.0] * 3,
            40,
            "too close to call, 1.21x is within 3% of the target, finer than this method can tell",
        ),
    ],
)
def test_a_short_or_unsteady_measurement_is_not_judged(
    bm: t.Any, ours: list[float], other: list[float], tests: int, why: str
) -> None:
    verdict = bm.stats.judge(
        bm.plan.Target(*AT_MOST), _bench(bm, "ours", ours, tests), _bench(bm, "other", other, tests)
    )

    assert verdict.met is None
    assert verdict.not_judged == why
    assert verdict.value is not None


def test_a_target_whose_harness_did_not_run_is_not_measured(bm: t.Any) -> None:
    failed = _bench(bm, "ours", [11.0] * 3)
    failed.error = "it broke"
    not_built = _bench(bm, "ours", [])
    not_built.error, not_built.unavailable = "NotImplementedError: not built yet", True
    target = bm.plan.Target(*AT_MOST)

    for measured in (None, failed):
        verdict = bm.stats.judge(target, measured, _bench(bm, "floor", [10.0] * 3))
        assert verdict == (None, None, None, [])
    verdict = bm.stats.judge(target, not_built, _bench(bm, "floor", [10.0] * 3))
    assert verdict == (None, None, "not built yet", [])


def test_the_table_prints_the_load_and_each_verdict(bm: t.Any) -> None:
    def row(title: str, met: bool | None, why: str | None, group: str = "memory") -> t.Any:
        return {"title": title, "group": group, "kind": "ratio", "bound": 1.2, "value": 1.1,
                "met": met, "not_judged": why}  # fmt: skip

    summary = {
        "meta": {"runs": 3, "python": "3.x", "cpus": 2, "tests_per_class": 10,
                 "load_at_start": [1.5, 1.0, 0.5], "load_at_end": [2.0, 1.2, 0.6],
                 "load_by_round": [1.75, 1.9, 2.0]},
        "benchmarks": [],
        "memory": {},
        "targets": [row("a", True, None), row("b", False, None), row("c", None, "2 run(s)"),
                    row("d", True, None, group="live")],
    }  # fmt: skip

    table = bm.report.format_table(summary)

    assert (
        "Load average (1, 5, 15 min) at start 1.50 1.00 0.50, at end 2.00 1.20 0.60; 2 CPUs."
        " After each run: 1.75, 1.90, 2.00." in table
    )
    assert "The machine was busy" in table
    lines = table.splitlines()
    assert [line.split()[-1] for line in lines[-4:-2]] == ["met", "MISSED"]
    assert lines[-2].endswith("target <= 1.2x    not judged: 2 run(s)")
    # A target of a group that did not run is left out, and counted.
    assert lines[-1] == "  (1 more, of groups this run left out)"


def test_a_target_in_seconds_is_judged_on_the_harness_alone(bm: t.Any) -> None:
    target = bm.plan.Target("clone, ready", "schema_setup", "clone", None, "s", 0.3)

    fast = bm.stats.judge(target, _bench(bm, "clone", [60.0, 70.0, 65.0], tests=5), None)
    slow = bm.stats.judge(target, _bench(bm, "clone", [400.0, 450.0, 420.0], tests=5), None)
    short = bm.stats.judge(target, _bench(bm, "clone", [60.0, 70.0, 65.0], tests=2), None)

    assert (fast.met, fast.not_judged, fast.value) == (True, None, pytest.approx(0.065))
    assert (slow.met, slow.not_judged, slow.value) == (False, None, pytest.approx(0.42))
    # Operations are not tests in classes: only their number counts.
    assert short.not_judged == "2 tests per suite, at least 5 needed"
