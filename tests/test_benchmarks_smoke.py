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

ROOT = Path(__file__).resolve().parent.parent
TINY = ["--tests", "3", "--runs", "1"]


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


def test_benchmark_command_runs_every_harness_and_writes_results(tmp_path: Path) -> None:
    completed, results = _run(*TINY, "--no-postgresql", "--out", tmp_path)

    expected = {
        "request": {"floor", "unittest_setup", "flask_testing", "pytest_flask",
                    "flask_testcase", "flask_testcase_per_class", "flask_testcase_pytest",
                    "pytest_session_by_hand", "flask_testcase_pytest_session"},
        "sqlite": {"create_drop_all", "rollback_recipe", "flask_testcase",
                   "flask_testcase_per_class", "pytest_create_drop",
                   "flask_testcase_pytest_db"},
        "live": {"flask_testing_live", "flask_testcase_live", "flask_testcase_live_per_class"},
        "skip": {"unittest_skip", "flask_testcase_skip"},
    }  # fmt: skip
    for group, harnesses in expected.items():
        rows = _rows(results, group)
        assert set(rows) == harnesses, group
        for harness, row in rows.items():
            assert row["error"] is None, (group, harness, row["error"])
            assert row["tests"] == 3
            assert len(row["per_test_ms"]) == 1
            assert row["median_ms"] > 0
            assert row["vs_reference"] > 0
    assert _rows(results, "postgresql") == {}
    assert results["apps_created_by_skipped_tests"] == 0
    assert set(results["memory"]) == {"flask_testcase", "flask_testcase_per_class"}

    # The table and the targets are printed; the chart is a PNG.
    assert "One request per test" in completed.stdout
    assert "flask_testcase, app_per_class" in completed.stdout
    assert "flask_testcase pytest plugin db, session app" in completed.stdout
    assert "Targets" in completed.stdout
    assert "PostgreSQL suites skipped (--no-postgresql)" in completed.stderr
    assert (tmp_path / "results.txt").read_text(encoding="utf-8").strip() in completed.stdout
    assert (tmp_path / "benchmark.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def _postgresql_problem() -> str | None:
    engine = sa.create_engine(SERVER, connect_args={"connect_timeout": 3})
    try:
        with engine.connect():
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
    _, results = _run(
        *TINY, "--only", "postgresql", "--database", name, "--no-chart", "--out", tmp_path
    )

    rows = _rows(results, "postgresql")
    assert set(rows) == {"create_drop_all", "rollback_recipe", "flask_testcase",
                         "flask_testcase_per_class", "pytest_create_drop",
                         "flask_testcase_pytest_db"}  # fmt: skip
    for harness, row in rows.items():
        assert row["error"] is None, (harness, row["error"])
        assert row["median_ms"] > 0
    assert not (tmp_path / "benchmark.png").exists()

    # The benchmark's own databases are dropped at the end.
    engine = sa.create_engine(SERVER)
    try:
        with engine.connect() as connection:
            names = connection.scalars(
                sa.text("SELECT datname FROM pg_database WHERE datname IN (:a, :b)"),
                {"a": name, "b": f"{name}_ddl"},
            ).all()
    finally:
        engine.dispose()
    assert names == []
