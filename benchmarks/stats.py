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
from .plan import EXTRA_COMPARISONS
from .plan import GROUPS
from .plan import JUDGE_MAX_SPREAD
from .plan import JUDGE_MIN_MEMORY_TESTS
from .plan import JUDGE_MIN_RUNS
from .plan import JUDGE_MIN_TESTS
from .plan import JUDGE_RESOLUTION
from .plan import JUDGE_TRIM_FROM
from .plan import LABELS
from .plan import MEMORY_LIMIT_MB
from .plan import PER_OPERATION_GROUPS
from .plan import TARGETS

if t.TYPE_CHECKING:
    from .plan import Target
    from .run import Bench

__all__ = ["Summary", "Verdict", "judge", "load_average", "median_ratio", "run_ratios", "summarise"]

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


def run_ratios(bench: Bench, reference: Bench, kind: str) -> list[float]:
    """Each round's ratio of ``bench``'s time to ``reference``'s (empty when either
    failed).

    :param kind: ``"ratio"`` for time / reference time, ``"speedup"`` for reference
        time / time.
    """
    if bench.error or reference.error:
        return []
    pairs = zip(bench.times, reference.times)
    return [(b / a if kind == "speedup" else a / b) for a, b in pairs]


def median_ratio(bench: Bench, reference: Bench, kind: str) -> float | None:
    """The median over the rounds of ``bench``'s time against ``reference``'s.

    :param kind: ``"ratio"`` for time / reference time, ``"speedup"`` for reference
        time / time.
    :return: None when either bench failed or has no round.
    """
    ratios = run_ratios(bench, reference, kind)
    return statistics.median(ratios) if ratios else None


class Verdict(t.NamedTuple):
    """A target's value and whether it was met, or why it was not judged."""

    value: float | None
    #: True (met), False (missed), or None (not judged, or not measured).
    met: bool | None
    #: Why the target was not judged; None when it was (or when nothing was measured).
    not_judged: str | None
    #: Each run's ratio.
    ratios: list[float]


def _meets(target: Target, value: float) -> bool:
    return value >= target.bound if target.kind == "speedup" else value <= target.bound


def judge(target: Target, measured: Bench | None, against: Bench | None) -> Verdict:
    """Judge ``target`` from its two benches, if their measurement is stable enough
    (see the rules in :mod:`benchmarks.plan`).

    :param measured: the harness the target is about, or None if it did not run.
    :param against: its reference, or None if it did not run (or if the target, of
        kind ``"s"``, has none: its value is then ``measured``'s seconds per operation).
    """
    if measured is not None and measured.unavailable:
        return Verdict(None, None, "not built yet", [])
    if measured is None or (against is None and target.kind != "s"):
        return Verdict(None, None, None, [])
    if against is None:
        ratios = [] if measured.error else list(measured.times)
    else:
        ratios = run_ratios(measured, against, target.kind)
    if not ratios:
        return Verdict(None, None, None, [])
    value = statistics.median(ratios)
    why = _why_not_judged(target, measured, against or measured, ratios, value)
    return Verdict(value, None if why else _meets(target, value), why, ratios)


def _why_not_judged(
    target: Target, measured: Bench, against: Bench, ratios: list[float], value: float
) -> str | None:
    if len(ratios) < JUDGE_MIN_RUNS:
        return f"{len(ratios)} run(s), at least {JUDGE_MIN_RUNS} needed"
    least = JUDGE_MIN_TESTS.get(target.group, 0)
    tests = min(measured.tests, against.tests)
    if tests < least:
        return f"{tests} tests per suite, at least {least} needed"
    if target.group not in PER_OPERATION_GROUPS and tests % suites.TESTS_PER_CLASS:
        return (
            f"{tests} tests per suite is not whole classes of {suites.TESTS_PER_CLASS}:"
            " per-class costs would weigh more than in a real suite"
        )
    spread = (max(ratios) - min(ratios)) / value
    if spread > JUDGE_MAX_SPREAD:
        return (
            f"runs disagree, {_shown(target, min(ratios))} to {_shown(target, max(ratios))}"
            f" (a spread of {spread:.0%}, at most {JUDGE_MAX_SPREAD:.0%})"
        )
    if abs(value - target.bound) < JUDGE_RESOLUTION * target.bound:
        return (
            f"too close to call, {_shown(target, value)} is within {JUDGE_RESOLUTION:.0%} of the"
            " target, finer than this method can tell"
        )
    middle = sorted(ratios)
    if len(middle) >= JUDGE_TRIM_FROM:
        middle = middle[1:-1]
    if len({_meets(target, r) for r in middle}) > 1:
        return (
            f"too close to call, runs from {_shown(target, middle[0])} to"
            f" {_shown(target, middle[-1])} fall on both sides of the target"
        )
    return None


def _shown(target: Target, value: float) -> str:
    return f"{value:.2f} s" if target.kind == "s" else f"{value:.2f}x"


def load_average() -> list[float] | None:
    """The 1, 5 and 15 minute load averages, or None where the system has none."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def summarise(
    benches: list[Bench],
    memory: dict[str, dict[str, t.Any]],
    runs: int,
    load_at_start: list[float] | None = None,
) -> Summary:
    """Build the summary of a run.

    :param benches: every bench, timed.
    :param memory: what each memory run reported, by harness.
    :param runs: how many rounds were run.
    :param load_at_start: the load averages when the run started
        (:func:`load_average`); those at its end are read now.
    """
    by_key = {b.key: b for b in benches}
    rows: list[dict[str, t.Any]] = []
    for bench in benches:
        _title, ref_name, kind = GROUPS[bench.group]
        ref = by_key.get(f"{bench.group}/{ref_name}")
        more = {}
        for other, other_kind in EXTRA_COMPARISONS.get(bench.group, ()):
            against = by_key.get(f"{bench.group}/{other}")
            more[other] = None if against is None else median_ratio(bench, against, other_kind)
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
                "vs_more": more,
                "error": bench.error,
                "unavailable": bench.unavailable,
            }
        )
    targets: list[dict[str, t.Any]] = []
    for target in TARGETS:
        verdict = judge(
            target,
            by_key.get(f"{target.group}/{target.harness}"),
            by_key.get(f"{target.group}/{target.reference}"),
        )
        targets.append({**dataclasses.asdict(target), **verdict._asdict()})
    for harness, data in memory.items():
        growth = data.get("growth_mb")
        tests = data.get("tests") or 0
        not_judged = None
        if growth is not None and tests < JUDGE_MIN_MEMORY_TESTS:
            not_judged = f"{tests} tests, at least {JUDGE_MIN_MEMORY_TESTS} needed"
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
                "met": None if growth is None or not_judged else growth < MEMORY_LIMIT_MB,
                "not_judged": not_judged,
                "ratios": [],
            }
        )
    meta = _meta(runs)
    meta["load_at_start"] = load_at_start
    meta["load_at_end"] = load_average()
    return {
        "meta": meta,
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
