"""``python -m benchmarks.servers``: how long throwaway servers take to start and stop.

For each kind whose binaries are installed, it measures from the call to the first
query answered on a new SQLAlchemy connection ("start"), and the stop (``stop()``:
server ended and directory removed):

- cold: with an empty cache directory, so the data directory is initialised first
  (``initdb`` / ``mariadb-install-db``);
- cached: from the cache, the median of ``--runs`` starts (and of their stops).

SQLAlchemy and the drivers are imported before timing, as they are in a test run. The
figures depend on the machine and its load, which is printed with them.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import threading
import time
import typing as t

import sqlalchemy as sa

from flask_testcase import servers

#: Targets in seconds on the reference machine (2 cores): cold start, cached start, stop.
TARGETS = {"postgresql": (1.0, 0.5, 0.1), "mariadb": (1.3, 0.6, 0.1)}
START = {"postgresql": servers.temporary_postgresql, "mariadb": servers.temporary_mariadb}


class Timing(t.NamedTuple):
    start: float
    stop: float
    cached: bool


def _once(kind: str) -> Timing:
    began = time.perf_counter()
    with START[kind]() as server:
        engine = sa.create_engine(server.url, poolclass=sa.pool.NullPool)
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
        engine.dispose()
        started = time.perf_counter()
        server.stop()
        stopped = time.perf_counter()
    return Timing(started - began, stopped - started, server.cached)


def _wait_for_cache() -> None:
    for thread in threading.enumerate():
        if thread.name == "flask-testcase-cache":
            thread.join()


def measure(kind: str, runs: int) -> tuple[Timing, list[Timing]]:
    """One cold start (empty cache) and ``runs`` starts from the cache."""
    cache = tempfile.mkdtemp(prefix="ftc-bench-cache-")
    previous = os.environ.get(servers.CACHE_DIR_ENV)
    os.environ[servers.CACHE_DIR_ENV] = cache
    try:
        cold = _once(kind)
        _wait_for_cache()
        cached = [_once(kind) for _ in range(runs)]
    finally:
        if previous is None:
            del os.environ[servers.CACHE_DIR_ENV]
        else:
            os.environ[servers.CACHE_DIR_ENV] = previous
        shutil.rmtree(cache, ignore_errors=True)
    assert not cold.cached and all(c.cached for c in cached)
    return cold, cached


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.servers", description=__doc__)
    parser.add_argument("--runs", type=int, default=5, help="cached starts per kind (default 5)")
    parser.add_argument("--only", choices=sorted(START), help="one kind only")
    args = parser.parse_args(argv)
    # Load the dialects (and their drivers) now, as a test run has by the time it
    # starts a server.
    sa.create_engine("postgresql+psycopg://")
    sa.create_engine("mysql+pymysql://")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"{os.cpu_count()} cores, load average {load}; times in seconds (target)")
    print(f"{'server':<22} {'cold start':>13} {'cached start':>14} {'stop':>13}")
    for kind in [args.only] if args.only else sorted(START, reverse=True):
        try:
            binaries = servers._KINDS[kind].find(None)
        except servers.ServerError as e:
            print(f"{kind}: skipped, {str(e).splitlines()[0]}")
            continue
        cold, cached = measure(kind, args.runs)
        target = TARGETS[kind]
        start = statistics.median(c.start for c in cached)
        stop = statistics.median(c.stop for c in [cold, *cached])
        name = f"{kind} {'.'.join(map(str, binaries.version))}"
        print(
            f"{name:<22} {cold.start:>6.2f} ({target[0]:.1f}) {start:>7.2f} ({target[1]:.1f})"
            f" {stop:>6.3f} ({target[2]:.1f})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
