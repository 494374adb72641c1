"""Run every suite under every harness, side by side, and report per-test times and ratios.

All suites run in this process (pytest-flask and the memory runs in child processes),
in rounds: each round runs every suite once, so that whatever else the machine does
weighs on all harnesses alike. A figure is the median over the rounds; a ratio is
computed within each round, then the median of those is taken.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
import typing as t
import unittest
from importlib import metadata
from pathlib import Path

from . import postgresql
from . import suites
from .memory import WARM_UP

if t.TYPE_CHECKING:
    from collections.abc import Callable
    from collections.abc import Iterator

__all__ = ["main"]

HERE = Path(__file__).resolve().parent

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

LABELS = {
    "floor": "unittest, app per class (floor)",
    "unittest_setup": "unittest, app made in setUp",
    "flask_testing": "Flask-Testing TestCase",
    "pytest_flask": "pytest-flask client fixture",
    "flask_testcase": "flask_testcase, default",
    "flask_testcase_per_class": "flask_testcase, app_per_class",
    "create_drop_all": "create_all/drop_all per test",
    "rollback_recipe": "hand-written rollback recipe, app per class",
    "flask_testing_live": "Flask-Testing LiveServerTestCase",
    "flask_testcase_live": "flask_testcase LiveServerTestCase",
    "flask_testcase_live_per_class": "flask_testcase LiveServerTestCase, app_per_class",
    "unittest_skip": "unittest.TestCase",
    "flask_testcase_skip": "flask_testcase.TestCase",
}

DEFAULT_TESTS = {"request": 200, "sqlite": 200, "postgresql": 200, "live": 20, "skip": 2000}
QUICK_TESTS = {"request": 50, "sqlite": 40, "postgresql": 40, "live": 5, "skip": 500}
MEMORY_TESTS, QUICK_MEMORY_TESTS = 2000, 300
MEMORY_HARNESSES = ("flask_testcase", "flask_testcase_per_class")
MEMORY_LIMIT_MB = 20.0
#: Slices each run of a group is cut into, to interleave the harnesses.
CHUNKS = 4


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
    Target("live server, default vs Flask-Testing's", "live", "flask_testcase_live",
           "flask_testing_live", "speedup", 5.0),
    Target("live server, app_per_class vs Flask-Testing's", "live",
           "flask_testcase_live_per_class", "flask_testing_live", "speedup", 5.0),
]  # fmt: skip


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
    #: Seconds per test, one per round.
    times: list[float] = dataclasses.field(default_factory=list)
    error: str | None = None
    #: The harness's feature is not built yet: a note, not a failure.
    unavailable: bool = False

    @property
    def key(self) -> str:
        return f"{self.group}/{self.harness}"


class BenchmarkError(Exception):
    """A suite did not pass: its timings would mean nothing."""


def _in_process(factory: suites.SuiteFactory) -> Callable[[int], float]:
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


def _pytest_flask(n: int) -> float:
    """Run the pytest-flask suite in a child process; time its test loop only."""
    with tempfile.TemporaryDirectory() as tmp:
        timer = Path(tmp, "timer.json")
        env = {
            **os.environ,
            "BENCH_TESTS": str(n),
            "BENCH_TIMER_FILE": str(timer),
            # Only the plugins the suite needs, so other installed plugins add nothing.
            "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
        }
        suite = HERE / "pytest_flask_suite"
        completed = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-c", str(suite / "pytest.ini"),
             "--rootdir", str(suite), "-p", "benchmarks.pytest_timer",
             "-p", "pytest_flask.plugin", str(suite)],
            cwd=HERE.parent, env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        if completed.returncode != 0 or not timer.exists():
            raise BenchmarkError(f"pytest exited {completed.returncode}:\n{completed.stdout}")
        data = json.loads(timer.read_text(encoding="utf-8"))
        if data["tests"] != n or data["failed"]:
            raise BenchmarkError(f"pytest-flask suite: {data}")
        return float(data["seconds"])


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


def _benches(
    groups: set[str], tests: dict[str, int], pg: postgresql.Databases | None
) -> list[Bench]:
    benches: list[Bench] = []
    if "request" in groups:
        for harness, factory in suites.request_suites().items():
            benches.append(Bench("request", harness, tests["request"], _in_process(factory)))
        benches.append(Bench("request", "pytest_flask", tests["request"], _pytest_flask))
    if "sqlite" in groups:
        for harness, factory in suites.database_suites("sqlite://").items():
            benches.append(Bench("sqlite", harness, tests["sqlite"], _in_process(factory)))
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
    if "live" in groups:
        for harness, factory in suites.live_server_suites().items():
            benches.append(Bench("live", harness, tests["live"], _in_process(factory), mute=True))
    if "skip" in groups:
        for harness, factory in suites.skip_suites().items():
            benches.append(Bench("skip", harness, tests["skip"], _in_process(factory)))
    return benches


def _no_rows_left(uri: str) -> Callable[[], str | None]:
    def check() -> str | None:
        rows = suites.count_rows(uri)
        return f"{rows} rows left in the database after the suite" if rows else None

    return check


def _run_once(bench: Bench, n: int) -> float:
    with _muted() if bench.mute else contextlib.nullcontext():
        seconds = bench.run(n)
    if bench.check is not None:
        problem = bench.check()
        if problem:
            raise BenchmarkError(problem)
    return seconds


def _warm_up(bench: Bench) -> None:
    try:
        _run_once(bench, min(bench.tests, 3))
    except Exception as e:
        bench.error = _describe(e)
        bench.unavailable = "NotImplementedError" in bench.error


def _describe(e: BaseException) -> str:
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


def _rounds(benches: list[Bench], runs: int, log: t.TextIO) -> None:
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
            for size in _chunks(group[0].tests):
                for bench in order:
                    if bench.error is not None:
                        continue
                    try:
                        seconds[id(bench)] += _run_once(bench, size)
                    except Exception as e:
                        bench.error = _describe(e)
            for bench in order:
                if bench.error is None:
                    bench.times.append(seconds[id(bench)] / bench.tests)
        print(f"  round {r + 1}/{runs} took {time.perf_counter() - started:.1f} s",
              file=log, flush=True)  # fmt: skip


def _memory(harnesses: t.Iterable[str], n: int) -> dict[str, dict[str, t.Any]]:
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


def _median_ratio(bench: Bench, reference: Bench, kind: str) -> float | None:
    pairs = list(zip(bench.times, reference.times))
    if not pairs or bench.error or reference.error:
        return None
    ratios = [(b / a if kind == "speedup" else a / b) for a, b in pairs]
    return statistics.median(ratios)


def _summarise(
    benches: list[Bench], memory: dict[str, dict[str, t.Any]], runs: int
) -> dict[str, t.Any]:
    by_key = {b.key: b for b in benches}
    rows: list[dict[str, t.Any]] = []
    for bench in benches:
        _title, ref_name, kind = GROUPS[bench.group]
        ref = by_key.get(f"{bench.group}/{ref_name}")
        rows.append(
            {
                "group": bench.group,
                "harness": bench.harness,
                "label": LABELS.get(bench.harness, bench.harness),
                "tests": bench.tests,
                "per_test_ms": [s * 1000 for s in bench.times],
                "median_ms": statistics.median(bench.times) * 1000 if bench.times else None,
                "reference": ref_name,
                "comparison": kind,
                "vs_reference": None if ref is None else _median_ratio(bench, ref, kind),
                "error": bench.error,
                "unavailable": bench.unavailable,
            }
        )
    targets: list[dict[str, t.Any]] = []
    for target in TARGETS:
        bench, ref = (
            by_key.get(f"{target.group}/{target.harness}"),
            by_key.get(f"{target.group}/{target.reference}"),
        )
        value = None if bench is None or ref is None else _median_ratio(bench, ref, target.kind)
        met = None
        if value is not None:
            met = value <= target.bound if target.kind == "ratio" else value >= target.bound
        targets.append({**dataclasses.asdict(target), "value": value, "met": met})
    for harness, data in memory.items():
        growth = data.get("growth_mb")
        targets.append(
            {
                "title": f"memory, {LABELS[harness].replace('flask_testcase, ', '')}: "
                f"RSS growth over {data.get('tests')} tests",
                "group": "memory",
                "harness": harness,
                "reference": None,
                "kind": "MB",
                "bound": MEMORY_LIMIT_MB,
                "value": growth,
                "met": None if growth is None else growth < MEMORY_LIMIT_MB,
            }
        )
    return {
        "meta": _meta(runs),
        "benchmarks": rows,
        "targets": targets,
        "memory": memory,
        "apps_created_by_skipped_tests": suites.apps_created_by_skipped_tests(),
    }


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _meta(runs: int) -> dict[str, t.Any]:
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "runs": runs,
        "tests_per_class": suites.TESTS_PER_CLASS,
        "versions": {
            name: _version(name)
            for name in (
                "flask",
                "werkzeug",
                "flask-sqlalchemy",
                "sqlalchemy",
                "psycopg",
                "flask-testing",
                "pytest",
                "pytest-flask",
                "flask-testcase",
            )
        },
    }


def _fmt_ms(ms: float | None) -> str:
    if ms is None:
        return "-"
    return f"{ms:.3f}" if ms < 0.1 else f"{ms:.2f}" if ms < 100 else f"{ms:.0f}"


def format_table(summary: dict[str, t.Any]) -> str:
    """The results as a plain-text table (what the command prints)."""
    lines: list[str] = []
    meta = summary["meta"]
    lines.append(
        f"Median of {meta['runs']} run(s); ratios computed within each run, then the median. "
        f"Python {meta['python']}, {meta['cpus']} CPUs, {meta['tests_per_class']} tests per class."
    )
    rows = summary["benchmarks"]
    for group, (title, ref_name, kind) in GROUPS.items():
        group_rows = [r for r in rows if r["group"] == group]
        if not group_rows:
            continue
        head = "x " + LABELS[ref_name] if kind == "ratio" else "faster than " + LABELS[ref_name]
        lines += ["", f"{title}, {group_rows[0]['tests']} tests", ""]
        lines.append(f"  {'harness':<50} {'ms/test':>9}  {'min-max':>15}  {head}")
        for r in group_rows:
            if r["error"] is not None:
                first = _error_line(r["error"])
                state = "not available yet" if r["unavailable"] else "FAILED"
                lines.append(f"  {r['label']:<50} {state}: {first}")
                continue
            ms = r["per_test_ms"]
            spread = f"{_fmt_ms(min(ms))}-{_fmt_ms(max(ms))}" if ms else "-"
            ratio = r["vs_reference"]
            shown = "-" if ratio is None else f"{ratio:.2f}x"
            lines.append(f"  {r['label']:<50} {_fmt_ms(r['median_ms']):>9}  {spread:>15}  {shown}")
    if summary["memory"]:
        lines += ["", "Memory: one-request tests in one process, RSS after gc.collect()", ""]
        for harness, data in summary["memory"].items():
            if "error" in data:
                lines.append(f"  {LABELS[harness]:<50} FAILED: {data['error'][-200:]}")
            elif data.get("growth_mb") is None:
                lines.append(f"  {LABELS[harness]:<50} too few tests ({data['tests']}) to measure")
            else:
                lines.append(
                    f"  {LABELS[harness]:<50} {data['growth_mb']:+.1f} MB from test "
                    f"{WARM_UP} to test {data['tests']} "
                    f"(RSS {data['rss_end'] / 2**20:.0f} MB)"
                )
    skip_rows = [r for r in rows if r["group"] == "skip"]
    if skip_rows:
        lines.append(
            f"\nApps created by skipped flask_testcase tests: "
            f"{summary['apps_created_by_skipped_tests']}"
        )
    lines += ["", "Targets", ""]
    for target in summary["targets"]:
        if target["value"] is None:
            state, value = "not measured", "-"
        else:
            state = "met" if target["met"] else "MISSED"
            unit = {"ratio": "x", "speedup": "x faster", "MB": " MB"}[target["kind"]]
            value = f"{target['value']:.2f}{unit}"
        bound = {"ratio": "<= {:.1f}x", "speedup": ">= {:.0f}x", "MB": "< {:.0f} MB"}[
            target["kind"]
        ].format(target["bound"])
        lines.append(f"  {target['title']:<58} {value:>14}  target {bound:<10} {state}")
    return "\n".join(lines)


def _error_line(error: str) -> str:
    """The line of a traceback that names the exception."""
    lines = [x for x in error.strip().splitlines() if x and not x.startswith(("(", " "))]
    return (lines[-1] if lines else error.strip())[:120]


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Run the same test suites under flask_testcase and its peers and print "
        "per-test times and ratios.",
    )
    parser.add_argument(
        "--quick", action="store_true", help="fewer tests and 3 runs (about a minute)"
    )
    parser.add_argument("--runs", type=int, help="runs of each suite (default 5, 3 with --quick)")
    parser.add_argument(
        "--tests",
        type=int,
        help="tests in every suite, the memory runs included (for a smoke test)",
    )
    parser.add_argument("--only", help="comma-separated groups: " + ",".join([*GROUPS, "memory"]))
    parser.add_argument("--no-postgresql", action="store_true", help="skip the PostgreSQL suites")
    parser.add_argument(
        "--postgresql-url",
        default=os.environ.get("BENCH_POSTGRESQL_URL", postgresql.DEFAULT_URL),
        help="server to create the benchmark databases on (default %(default)s)",
    )
    parser.add_argument(
        "--database",
        default="test_bench",
        help="PostgreSQL database to create and drop (and NAME_ddl for create_all/drop_all;"
        " default %(default)s)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=HERE / "results",
        help="directory for results.json and benchmark.png",
    )
    parser.add_argument("--chart", type=Path, help="also write the chart here")
    parser.add_argument("--no-chart", action="store_true", help="write no chart")
    parser.add_argument(
        "--report",
        action="store_true",
        help="run nothing: print the table and draw the chart from OUT/results.json",
    )
    args = parser.parse_args(argv)
    groups = set(args.only.split(",")) if args.only else {*GROUPS, "memory"}
    unknown = groups - {*GROUPS, "memory"}
    if unknown:
        parser.error(f"unknown group(s) {', '.join(sorted(unknown))}")
    args.groups = groups
    if not args.database.startswith("test_") or not args.database.replace("_", "").isalnum():
        parser.error(
            f"--database {args.database!r}: the benchmark drops this database, so its name"
            " must start with 'test_' and hold only letters, digits and underscores"
        )
    return args


def _report(args: argparse.Namespace) -> int:
    summary = json.loads((args.out / "results.json").read_text(encoding="utf-8"))
    print(format_table(summary))
    if not args.no_chart:
        from .chart import write_chart

        for path in filter(None, [args.out / "benchmark.png", args.chart]):
            write_chart(summary, path)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    if args.report:
        return _report(args)
    runs = args.runs or (3 if args.quick else 5)
    tests = dict(QUICK_TESTS if args.quick else DEFAULT_TESTS)
    memory_tests = QUICK_MEMORY_TESTS if args.quick else MEMORY_TESTS
    if args.tests:
        tests = dict.fromkeys(tests, args.tests)
        memory_tests = args.tests
    log = sys.stderr
    started = time.perf_counter()

    with contextlib.ExitStack() as stack:
        pg = None
        if "postgresql" in args.groups:
            if args.no_postgresql:
                print("PostgreSQL suites skipped (--no-postgresql).", file=log)
            else:
                problem = postgresql.unreachable(args.postgresql_url)
                if problem:
                    print(f"PostgreSQL suites skipped: {problem}", file=log)
                else:
                    pg = stack.enter_context(
                        postgresql.benchmark_databases(args.postgresql_url, args.database)
                    )
        benches = _benches(args.groups, tests, pg)
        print(f"Warming up {len(benches)} suites...", file=log, flush=True)
        for bench in benches:
            _warm_up(bench)
        print(f"Timing {runs} run(s) of each...", file=log, flush=True)
        _rounds(benches, runs, log)
        memory = {}
        if "memory" in args.groups:
            print(f"Memory: {memory_tests} tests per harness...", file=log, flush=True)
            memory = _memory(MEMORY_HARNESSES, memory_tests)

    summary = _summarise(benches, memory, runs)
    summary["meta"]["seconds"] = round(time.perf_counter() - started, 1)
    table = format_table(summary)
    print(table)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    (args.out / "results.txt").write_text(table + "\n", encoding="utf-8")
    written = [args.out / "results.json", args.out / "results.txt"]
    if not args.no_chart:
        from .chart import write_chart

        for path in filter(None, [args.out / "benchmark.png", args.chart]):
            write_chart(summary, path)
            written.append(path)
    print(f"\nWrote {', '.join(str(p) for p in written)} in {summary['meta']['seconds']} s.",
          file=log)  # fmt: skip
    failed = [b for b in benches if b.error is not None and not b.unavailable]
    failed_memory = [h for h, data in memory.items() if "error" in data]
    return 1 if failed or failed_memory else 0
