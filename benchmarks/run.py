"""Running the suites: every suite under every harness, interleaved, in rounds.

All suites run in this process (the pytest suites and the memory runs in child processes),
in rounds: each round runs every suite once, so that whatever else the machine does
weighs on all harnesses alike. What a round measures is kept per :class:`Bench`;
:mod:`benchmarks.stats` turns the rounds into figures.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
import traceback
import typing as t
import unittest
from pathlib import Path

from . import suites
from .stats import load_average

if t.TYPE_CHECKING:
    from collections.abc import Callable
    from collections.abc import Iterator

    from . import postgresql

__all__ = [
    "CHUNKS",
    "Bench",
    "BenchmarkError",
    "make_benches",
    "measure_memory",
    "run_rounds",
    "warm_up",
]

HERE = Path(__file__).resolve().parent

#: Slices each run of a group is cut into, to interleave the harnesses.
CHUNKS = 4

PYTEST_SUITES = HERE / "pytest_suites"
_PYTEST_FLASK = ("-p", "pytest_flask.plugin")
# Blocking pytest-flask by name as well tells our plugin it is not there to clash with.
_FLASK_TESTCASE = ("-p", "flask_testcase.pytest_plugin", "-p", "no:flask")
_NO_PLUGIN: tuple[str, ...] = ()
#: One-request pytest harnesses: name -> (directory in pytest_suites, the arguments
#: that load its plugin).
#: The function-scoped app runs the same files under pytest-flask and under ours.
PYTEST_REQUEST_SUITES: dict[str, tuple[str, tuple[str, ...]]] = {
    "pytest_flask": ("function_app", _PYTEST_FLASK),
    "flask_testcase_pytest": ("function_app", _FLASK_TESTCASE),
    "pytest_session_by_hand": ("session_app_by_hand", _NO_PLUGIN),
    "flask_testcase_pytest_session": ("session_app", _FLASK_TESTCASE),
}
#: Database pytest harnesses, the same test file with the guides' ``db`` fixture
#: (create_all/drop_all around each test) and with the plugin's.
PYTEST_DATABASE_SUITES: dict[str, tuple[str, tuple[str, ...]]] = {
    "pytest_create_drop": ("db_create_drop", _NO_PLUGIN),
    "flask_testcase_pytest_db": ("db_plugin", _FLASK_TESTCASE),
}
#: The same on the 26-table schema: the plugin's ``db`` with a session app (the schema
#: from the models, and from the migrations: ``schema_from = migrations`` in the ini
#: settings), and the hand-written rollback recipe as pytest fixtures
#: (``BENCH_FIXTURES`` picks the conftest's shape): harness -> (directory, plugin
#: arguments, fixtures).
PYTEST_SCHEMA_SUITES: dict[str, tuple[str, tuple[str, ...], str]] = {
    "pytest_rollback_recipe": ("schema_db", _NO_PLUGIN, "recipe"),
    "flask_testcase_pytest_db": ("schema_db", _FLASK_TESTCASE, "plugin"),
    "flask_testcase_pytest_db_migrations": (
        "schema_db",
        (*_FLASK_TESTCASE, "-o", "schema_from=migrations"),
        "plugin",
    ),
}


@dataclasses.dataclass
class Bench:
    """One suite under one harness, and its measurements."""

    group: str
    harness: str
    tests: int
    #: Runs ``n`` tests and returns the seconds they took.
    run: Callable[[int], float]
    #: Called after each timed run; returns an error message or None.
    check: Callable[[], str | None] | None = None
    #: Whether to mute file descriptors 1 and 2 (child processes that print).
    mute: bool = False
    #: Whether a run is cut into slices interleaved with the other harnesses'. A pytest
    #: suite runs whole in one process instead, as a real suite does, so that what its
    #: session pays once (the app, the schema) is spread over all of its tests.
    sliced: bool = True
    #: Seconds per test, one per round.
    times: list[float] = dataclasses.field(default_factory=list)
    error: str | None = None
    #: The harness's feature is not built yet: a note, not a failure.
    unavailable: bool = False

    @property
    def key(self) -> str:
        """``group/harness``: the bench's name among all of a run's benches."""
        return f"{self.group}/{self.harness}"


class BenchmarkError(Exception):
    """A suite did not pass: its timings would mean nothing."""


def make_benches(
    groups: set[str], tests: dict[str, int], pg: postgresql.Databases | None
) -> list[Bench]:
    """Return a bench for every harness of every group in ``groups``.

    :param groups: the groups to run (names of :data:`benchmarks.plan.GROUPS`; others
        are ignored).
    :param tests: tests per suite, by group.
    :param pg: the PostgreSQL databases to use, or None to leave that group out.
    """
    benches: list[Bench] = []
    if "request" in groups:
        for harness, factory in suites.request_suites().items():
            benches.append(Bench("request", harness, tests["request"], _in_process(factory)))
        for harness, (suite, plugin) in PYTEST_REQUEST_SUITES.items():
            run = _pytest(suite, plugin)
            benches.append(Bench("request", harness, tests["request"], run, sliced=False))
    if "sqlite" in groups:
        for harness, factory in suites.database_suites("sqlite://").items():
            benches.append(Bench("sqlite", harness, tests["sqlite"], _in_process(factory)))
        for harness, (suite, plugin) in PYTEST_DATABASE_SUITES.items():
            run = _pytest(suite, plugin, "sqlite://")
            benches.append(Bench("sqlite", harness, tests["sqlite"], run, sliced=False))
    if "postgresql" in groups and pg is not None:
        # create_all/drop_all gets a database of its own: it drops the schema the
        # rollback-based harnesses rely on.
        for harness in suites.database_suites(pg.url):
            uri = pg.ddl_url if harness == "create_drop_all" else pg.url
            factory = suites.database_suites(uri)[harness]
            benches.append(
                Bench("postgresql", harness, tests["postgresql"], _in_process(factory),
                      check=_no_rows_left(uri))
            )  # fmt: skip
        for harness, (suite, plugin) in PYTEST_DATABASE_SUITES.items():
            uri = pg.ddl_url if harness == "pytest_create_drop" else pg.url
            benches.append(
                Bench("postgresql", harness, tests["postgresql"], _pytest(suite, plugin, uri),
                      check=_no_rows_left(uri), sliced=False)
            )  # fmt: skip
    for group in ("live", "live400"):
        if group in groups:
            for harness, factory in suites.live_server_suites().items():
                run = _in_process(factory)
                benches.append(Bench(group, harness, tests[group], run, mute=True))
    if "skip" in groups:
        for harness, factory in suites.skip_suites().items():
            benches.append(Bench("skip", harness, tests["skip"], _in_process(factory)))
    if "schema_sqlite" in groups:
        # The schema from migrations in an in-memory database of its own (a database
        # is built one way in a run): another URL, still in memory. (A pytest suite is
        # a process of its own, whose in-memory database is its own anyway.)
        urls = {"flask_testcase_migrations": "sqlite:///file:bench_migrated?mode=memory&uri=true"}
        benches += _schema_benches("schema_sqlite", tests["schema_sqlite"], urls)
    if "schema_postgresql" in groups and pg is not None:
        from . import schema_app

        # A database per harness that changes the schema; the others share one made
        # with create_all (the migrations harness, when it runs, gets an empty one).
        shared = pg.make("_schema", schema_app.db.metadata)
        urls = {
            "create_drop_all": pg.make("_schema_ddl"),
            "migrate_per_test": pg.make("_schema_migrate"),
            "flask_testcase_migrations": pg.make("_schema_migrated"),
            # Migrated by the first pytest run (the warm-up) and marked; every later run
            # finds the marker and reuses it, as a second run of a real suite does.
            "flask_testcase_pytest_db_migrations": pg.make("_schema_migrated_pytest"),
        }
        benches += _schema_benches(
            "schema_postgresql", tests["schema_postgresql"], urls, shared, schema_app.db.metadata
        )
    if "schema_setup" in groups and pg is not None:
        from .startup import startup_runs

        for harness, run in startup_runs(pg).items():
            benches.append(Bench("schema_setup", harness, tests["schema_setup"], run, mute=True))
    return benches


def _schema_benches(
    group: str,
    tests: int,
    urls: dict[str, str],
    shared: str = "sqlite://",
    metadata: t.Any = None,
) -> list[Bench]:
    """The benches of a group on the 26-table schema.

    :param urls: the database of each harness that does not use ``shared``.
    :param metadata: the schema's, to count the rows left after each run (None: no
        count, as for in-memory databases, which end with their app).
    """
    benches = []
    for harness in suites.schema_suites(shared):
        uri = urls.get(harness, shared)
        factory = suites.schema_suites(uri)[harness]
        check = None if metadata is None else _no_rows_left(uri, metadata)
        # Migrations log through Alembic's logging set-up, to file descriptor 2.
        benches.append(Bench(group, harness, tests, _in_process(factory), check=check,
                             mute=harness == "migrate_per_test"))  # fmt: skip
    for harness, (suite, plugin, fixtures) in PYTEST_SCHEMA_SUITES.items():
        uri = urls.get(harness, shared)
        check = None if metadata is None else _no_rows_left(uri, metadata)
        run = _pytest(suite, plugin, uri, {"BENCH_FIXTURES": fixtures})
        benches.append(Bench(group, harness, tests, run, check=check, sliced=False))
    return benches


def warm_up(bench: Bench) -> None:
    """Run a few of ``bench``'s tests untimed; a failure marks the bench as failed (or
    as not available yet, when its harness raises :exc:`NotImplementedError`)."""
    try:
        _run_once(bench, min(bench.tests, 3))
    except Exception as e:
        bench.error = _describe(e)
        bench.unavailable = "NotImplementedError" in bench.error


def run_rounds(benches: list[Bench], runs: int, log: t.TextIO) -> list[float]:
    """Time ``runs`` rounds of every bench, appending seconds per test to its
    :attr:`Bench.times`; a bench that fails stops there with :attr:`Bench.error` set.

    :param log: where to print a line per round.
    :return: the 1-minute load average after each round (empty where unknown).
    """
    loads: list[float] = []
    by_group: dict[str, list[Bench]] = {}
    for bench in benches:
        by_group.setdefault(bench.group, []).append(bench)
    for r in range(runs):
        started = time.perf_counter()
        for group in by_group.values():
            # Each run of a group is interleaved slice by slice (A B C A B C ...), so
            # that a burst of load from elsewhere on the machine falls on every
            # harness alike; the order is rotated each round so none always leads.
            shift = r % len(group)
            order = group[shift:] + group[:shift]
            seconds = dict.fromkeys(map(id, order), 0.0)
            for i, size in enumerate(_chunks(group[0].tests)):
                for bench in order:
                    if bench.error is not None or (not bench.sliced and i):
                        continue
                    try:
                        n = size if bench.sliced else bench.tests
                        seconds[id(bench)] += _run_once(bench, n)
                    except Exception as e:
                        bench.error = _describe(e)
            for bench in order:
                if bench.error is None:
                    bench.times.append(seconds[id(bench)] / bench.tests)
        load = load_average()
        if load is not None:
            loads.append(load[0])
        shown = "" if load is None else f" (load {load[0]:.2f})"
        print(f"  round {r + 1}/{runs} took {time.perf_counter() - started:.1f} s{shown}",
              file=log, flush=True)  # fmt: skip
    return loads


def measure_memory(harnesses: t.Iterable[str], n: int) -> dict[str, dict[str, t.Any]]:
    """Run ``n`` one-request tests under each harness in a fresh process
    (:mod:`benchmarks.memory`) and return what each reported, or ``{"error": ...}``."""
    results: dict[str, dict[str, t.Any]] = {}
    for harness in harnesses:
        completed = subprocess.run(
            [sys.executable, "-m", "benchmarks.memory", harness, str(n)],
            cwd=HERE.parent, capture_output=True, text=True, check=False,
        )  # fmt: skip
        try:
            results[harness] = json.loads(completed.stdout.strip().splitlines()[-1])
        except (IndexError, ValueError):
            results[harness] = {"error": completed.stderr.strip() or "no output"}
    return results


def _in_process(factory: suites.SuiteFactory) -> Callable[[int], float]:
    """A bench's ``run`` for a unittest suite run in this process."""

    def run(n: int) -> float:
        suite = factory(n)
        result = unittest.TestResult()
        gc.collect()
        start = time.perf_counter()
        suite.run(result)
        seconds = time.perf_counter() - start
        problems = result.errors + result.failures + result.unexpectedSuccesses
        if problems:
            first = problems[0]
            raise BenchmarkError(first[1] if isinstance(first, tuple) else repr(first))
        ran = result.testsRun - len(result.skipped)
        if ran != n and len(result.skipped) != n:
            raise BenchmarkError(f"expected {n} tests to run, {ran} ran")
        return seconds

    return run


def _pytest(
    suite: str,
    plugin: tuple[str, ...],
    database: str | None = None,
    more_env: dict[str, str] | None = None,
) -> Callable[[int], float]:
    """A bench's ``run`` for one of the pytest suites (``benchmarks/pytest_suites``),
    run in a child process with only the timer and the plugin ``plugin`` loads (``-p``
    arguments); it times the test loop only (startup and collection excluded).

    :param database: the URL the suite's app uses (``BENCH_DATABASE_URL``).
    :param more_env: more environment variables for the suite.
    """

    def run(n: int) -> float:
        with tempfile.TemporaryDirectory() as tmp:
            timer = Path(tmp, "timer.json")
            env = {
                **os.environ,
                "BENCH_TESTS": str(n),
                "BENCH_TIMER_FILE": str(timer),
                # Only the plugins the suite needs, so that other installed plugins
                # (pytest-flask for flask_testcase's suites, flask_testcase's plugin
                # for pytest-flask's and the hand-written ones) add nothing.
                "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
            }
            if database is not None:
                env["BENCH_DATABASE_URL"] = database
            env.update(more_env or {})
            plugins = ["-p", "benchmarks.pytest_timer", *plugin]
            completed = subprocess.run(
                [sys.executable, "-m", "pytest", "-q", "-c", str(PYTEST_SUITES / "pytest.ini"),
                 "--rootdir", str(PYTEST_SUITES), *plugins, str(PYTEST_SUITES / suite)],
                cwd=HERE.parent, env=env, capture_output=True, text=True, check=False,
            )  # fmt: skip
            if completed.returncode != 0 or not timer.exists():
                raise BenchmarkError(
                    f"pytest {suite} exited {completed.returncode}:\n{completed.stdout}"
                    f"{completed.stderr}"
                )
            data = json.loads(timer.read_text(encoding="utf-8"))
            if data["tests"] != n or data["failed"]:
                raise BenchmarkError(f"pytest {suite}: {data}")
            return float(data["seconds"])

    return run


@contextlib.contextmanager
def _muted() -> Iterator[None]:
    """Send file descriptors 1 and 2 to /dev/null: Flask-Testing's server process
    prints its banner and request log there."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, devnull):
            os.close(fd)


def _no_rows_left(uri: str, metadata: t.Any = None) -> Callable[[], str | None]:
    """A bench's ``check``: the database at ``uri`` holds no row after a run (in the
    tables of ``metadata``, the 20-table app's by default)."""

    def check() -> str | None:
        rows = suites.count_rows(uri, metadata)
        return f"{rows} rows left in the database after the suite" if rows else None

    return check


def _run_once(bench: Bench, n: int) -> float:
    """Run ``n`` of ``bench``'s tests and its check; return the seconds they took."""
    with _muted() if bench.mute else contextlib.nullcontext():
        seconds = bench.run(n)
    if bench.check is not None:
        problem = bench.check()
        if problem:
            raise BenchmarkError(problem)
    return seconds


def _describe(e: BaseException) -> str:
    """What a failed run reports: the suite's own traceback, or the exception's line."""
    if isinstance(e, BenchmarkError):
        return str(e).strip()
    return "".join(traceback.format_exception_only(type(e), e)).strip()


def _chunks(tests: int) -> list[int]:
    """Split a run of ``tests`` into about :data:`CHUNKS` slices of whole classes."""
    size = max(suites.TESTS_PER_CLASS, tests // CHUNKS // suites.TESTS_PER_CLASS
               * suites.TESTS_PER_CLASS)  # fmt: skip
    sizes = [size] * (tests // size)
    if tests % size:
        sizes.append(tests % size)
    return sizes
