"""``python -m benchmarks``: the command line, and one run from start to end.

The parts, in the order a run uses them: :mod:`benchmarks.plan` (what is compared),
:mod:`benchmarks.run` (timing the suites), :mod:`benchmarks.stats` (medians and
ratios), :mod:`benchmarks.report` (the table, the files and the chart).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
import typing as t
from pathlib import Path

from . import postgresql
from . import report
from .plan import DEFAULT_TESTS
from .plan import GROUPS
from .plan import MEMORY_HARNESSES
from .plan import MEMORY_TESTS
from .plan import NOT_QUICK
from .plan import POSTGRESQL_GROUPS
from .plan import QUICK_MEMORY_TESTS
from .plan import QUICK_TESTS
from .run import make_benches
from .run import measure_memory
from .run import run_rounds
from .run import warm_up
from .stats import load_average
from .stats import summarise

__all__ = ["main"]

HERE = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark (or, with ``--report``, show saved results).

    :param argv: the arguments, ``sys.argv[1:]`` if None.
    :return: the exit status: 1 if a suite or a memory run failed, else 0.
    """
    args = _parse(argv)
    if args.report:
        summary = report.read_results(args.out)
        print(report.format_table(summary))
        if not args.no_chart:
            report.write_charts(summary, args.out, args.chart)
        return 0
    runs = args.runs or (3 if args.quick else 5)
    tests = dict(QUICK_TESTS if args.quick else DEFAULT_TESTS)
    memory_tests = QUICK_MEMORY_TESTS if args.quick else MEMORY_TESTS
    if args.tests:
        tests = dict.fromkeys(tests, args.tests)
        memory_tests = args.tests
    log = sys.stderr
    started = time.perf_counter()
    load_at_start = load_average()
    if load_at_start is not None:
        print(f"Load average {' '.join(map(str, load_at_start))} on {os.cpu_count()} CPUs.",
              file=log)  # fmt: skip

    pg_server = None
    with contextlib.ExitStack() as stack:
        pg = None
        if args.groups & POSTGRESQL_GROUPS:
            if args.no_postgresql:
                print("PostgreSQL suites skipped (--no-postgresql).", file=log)
            else:
                if args.throwaway_postgresql:
                    args.postgresql_url = stack.enter_context(_throwaway_postgresql(log))
                problem = postgresql.unreachable(args.postgresql_url)
                if problem:
                    print(f"PostgreSQL suites skipped: {problem}", file=log)
                else:
                    pg = stack.enter_context(
                        postgresql.benchmark_databases(args.postgresql_url, args.database)
                    )
                    pg_server = pg.describe()
        benches = make_benches(args.groups, tests, pg)
        print(f"Warming up {len(benches)} suites...", file=log, flush=True)
        for bench in benches:
            warm_up(bench)
        print(f"Timing {runs} run(s) of each...", file=log, flush=True)
        load_by_round = run_rounds(benches, runs, log)
        memory: dict[str, dict[str, t.Any]] = {}
        if "memory" in args.groups:
            print(f"Memory: {memory_tests} tests per harness...", file=log, flush=True)
            memory = measure_memory(MEMORY_HARNESSES, memory_tests)

    summary = summarise(benches, memory, runs, load_at_start)
    summary["meta"]["load_by_round"] = load_by_round
    summary["meta"]["postgresql"] = pg_server
    summary["meta"]["seconds"] = round(time.perf_counter() - started, 1)
    table = report.format_table(summary)
    print(table)
    written = report.write_results(summary, table, args.out)
    if not args.no_chart:
        written += report.write_charts(summary, args.out, args.chart)
    print(f"\nWrote {', '.join(str(p) for p in written)} in {summary['meta']['seconds']} s.",
          file=log)  # fmt: skip
    failed = [b for b in benches if b.error is not None and not b.unavailable]
    failed_memory = [h for h, data in memory.items() if "error" in data]
    return 1 if failed or failed_memory else 0


@contextlib.contextmanager
def _throwaway_postgresql(log: t.TextIO) -> t.Iterator[str]:
    """Start a throwaway PostgreSQL server; yield its URL without a database name."""
    import sqlalchemy as sa

    from flask_testcase.servers import temporary_postgresql

    with temporary_postgresql(database="test_bench_server") as server:
        print(f"Throwaway PostgreSQL server started ({server.url}).", file=log)
        yield sa.make_url(server.url).set(database="").render_as_string(hide_password=False)


def _parse(argv: list[str] | None) -> argparse.Namespace:
    """Parse and check the arguments; ``groups`` is added, the set of groups to run."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Run the same test suites under flask_testcase and its peers and print "
        "per-test times and ratios.",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="fewer tests and 3 runs, without " + ", ".join(sorted(NOT_QUICK)) + " unless"
        " --only names it (a few minutes)",
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
        "--throwaway-postgresql",
        action="store_true",
        help="run the PostgreSQL suites on a throwaway server started for the run"
        " (flask_testcase.servers.temporary_postgresql: durability off, as tests run it)"
        " instead of --postgresql-url",
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
    if args.quick and not args.only:
        groups -= NOT_QUICK
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
