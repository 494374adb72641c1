"""From the rounds' timings to the figures: medians, ratios, and the targets met.

A figure is the median over the rounds; a ratio is computed within each round (both
harnesses ran side by side, under the same load), then the median of those is taken.
The result is the *summary*, a plain dict that is what ``results.json`` holds.
"""

from __future__ import annotations

import dataclasses
import datetime
import os
import platform
import statistics
import typing as t
from importlib import metadata

from . import suites
from .plan import GROUPS
from .plan import LABELS
from .plan import MEMORY_LIMIT_MB
from .plan import TARGETS

if t.TYPE_CHECKING:
    from .run import Bench

__all__ = ["Summary", "median_ratio", "summarise"]

#: The results of a run, as written to and read from ``results.json``.
Summary = dict[str, t.Any]

#: The packages whose versions a summary records.
VERSIONED = (
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


def median_ratio(bench: Bench, reference: Bench, kind: str) -> float | None:
    """The median over the rounds of ``bench``'s time against ``reference``'s.

    :param kind: ``"ratio"`` for time / reference time, ``"speedup"`` for reference
        time / time.
    :return: None when either bench failed or has no round.
    """
    pairs = list(zip(bench.times, reference.times))
    if not pairs or bench.error or reference.error:
        return None
    ratios = [(b / a if kind == "speedup" else a / b) for a, b in pairs]
    return statistics.median(ratios)


def summarise(benches: list[Bench], memory: dict[str, dict[str, t.Any]], runs: int) -> Summary:
    """Build the summary of a run.

    :param benches: every bench, timed.
    :param memory: what each memory run reported, by harness.
    :param runs: how many rounds were run.
    """
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
                "vs_reference": None if ref is None else median_ratio(bench, ref, kind),
                "error": bench.error,
                "unavailable": bench.unavailable,
            }
        )
    targets: list[dict[str, t.Any]] = []
    for target in TARGETS:
        measured = by_key.get(f"{target.group}/{target.harness}")
        against = by_key.get(f"{target.group}/{target.reference}")
        value = (
            None
            if measured is None or against is None
            else median_ratio(measured, against, target.kind)
        )
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


def _meta(runs: int) -> dict[str, t.Any]:
    """Where and when the figures were measured, and with which versions."""
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "runs": runs,
        "tests_per_class": suites.TESTS_PER_CLASS,
        "versions": {name: _version(name) for name in VERSIONED},
    }


def _version(name: str) -> str | None:
    """The installed version of distribution ``name``, or None."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None
