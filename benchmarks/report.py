"""The summary as people and programs read it: the printed table, ``results.json`` and
``results.txt``, and the chart."""

from __future__ import annotations

import json
import typing as t

from .chart import write_chart
from .memory import WARM_UP
from .plan import EXTRA_COMPARISONS
from .plan import GROUPS
from .plan import LABELS
from .plan import PER_OPERATION_GROUPS

if t.TYPE_CHECKING:
    from pathlib import Path

    from .stats import Summary

__all__ = ["format_table", "read_results", "write_charts", "write_results"]

RESULTS_JSON = "results.json"
RESULTS_TXT = "results.txt"
CHART = "benchmark.png"


def format_table(summary: Summary) -> str:
    """The results as a plain-text table (what the command prints)."""
    lines: list[str] = []
    meta = summary["meta"]
    lines.append(
        f"Median of {meta['runs']} run(s); ratios computed within each run, then the median. "
        f"Python {meta['python']}, {meta['cpus']} CPUs, {meta['tests_per_class']} tests per class."
    )
    lines += _load_lines(meta)
    if meta.get("postgresql"):
        lines.append(f"PostgreSQL suites on {meta['postgresql']}.")
    rows = summary["benchmarks"]
    for group, (title, ref_name, kind) in GROUPS.items():
        group_rows = [r for r in rows if r["group"] == group]
        if not group_rows:
            continue
        comparisons = [(ref_name, kind), *EXTRA_COMPARISONS.get(group, [])]
        counted = "operations" if group in PER_OPERATION_GROUPS else "tests"
        lines += ["", f"{title}, {group_rows[0]['tests']} {counted}", ""]
        if len(comparisons) > 1:
            for i, (ref, how) in enumerate(comparisons, 1):
                lines.append(f"  ({i}) {_comparison(ref, how)}")
            heads = "  ".join(f"{f'({i})':>7}" for i in range(1, len(comparisons) + 1))
        else:
            heads = _comparison(ref_name, kind)
        unit = "ms/op" if group in PER_OPERATION_GROUPS else "ms/test"
        lines.append(f"  {'harness':<50} {unit:>9}  {'min-max':>15}  {heads}")
        for r in group_rows:
            if r["error"] is not None:
                first = _error_line(r["error"])
                state = "not available yet" if r["unavailable"] else "FAILED"
                lines.append(f"  {r['label']:<50} {state}: {first}")
                continue
            ms = r["per_test_ms"]
            spread = f"{_fmt_ms(min(ms))}-{_fmt_ms(max(ms))}" if ms else "-"
            ratios = [r["vs_reference"]]
            ratios += [r.get("vs_more", {}).get(ref) for ref, _ in comparisons[1:]]
            shown = (
                "  ".join(f"{'-' if x is None else f'{x:.2f}x':>7}" for x in ratios)
                if len(comparisons) > 1
                else ("-" if ratios[0] is None else f"{ratios[0]:.2f}x")
            )
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
    lines += ["", "Targets (judged only when the runs are long and steady enough:"
              " see docs/speed.rst)", ""]  # fmt: skip
    ran = {r["group"] for r in rows} | {"memory"}
    left_out = [x for x in summary["targets"] if x["group"] not in ran]
    for target in summary["targets"]:
        if target["group"] not in ran:
            continue
        if target["value"] is None:
            value, why = "-", target.get("not_judged")
            state = f"not measured: {why}" if why else "not measured"
        else:
            unit = {"ratio": "x", "speedup": "x faster", "MB": " MB", "s": " s"}[target["kind"]]
            value = f"{target['value']:.2f}{unit}"
            if target.get("not_judged"):
                state = f"not judged: {target['not_judged']}"
            else:
                state = "met" if target["met"] else "MISSED"
        bound = {"ratio": "<= {:.1f}x", "speedup": ">= {:.0f}x", "MB": "< {:.0f} MB",
                 "s": "<= {:.1f} s"}[target["kind"]].format(target["bound"])  # fmt: skip
        lines.append(f"  {target['title']:<58} {value:>14}  target {bound:<10} {state}")
    if left_out:
        lines.append(f"  ({len(left_out)} more, of groups this run left out)")
    return "\n".join(lines)


def _comparison(reference: str, kind: str) -> str:
    """A comparison column's heading."""
    return ("x " if kind == "ratio" else "faster than ") + LABELS[reference]


def _load_lines(meta: dict[str, t.Any]) -> list[str]:
    """The load the run ran under, and a warning when the machine was busy."""
    start, end = meta.get("load_at_start"), meta.get("load_at_end")
    if start is None and end is None:
        return ["Load average: not known on this system."]

    def shown(load: list[float] | None) -> str:
        return "unknown" if load is None else " ".join(f"{x:.2f}" for x in load)

    lines = [
        f"Load average (1, 5, 15 min) at start {shown(start)}, at end {shown(end)};"
        f" {meta['cpus']} CPUs."
    ]
    if meta.get("load_by_round"):
        lines[0] += " After each run: " + ", ".join(f"{x:.2f}" for x in meta["load_by_round"]) + "."
    cpus = meta["cpus"] or 1
    # The run itself keeps about one CPU busy, which the load at its end includes.
    if (start is not None and start[0] >= cpus / 2) or (end is not None and end[0] >= cpus / 2 + 1):
        lines.append(
            "The machine was busy: times are longer and noisier than on an idle machine;"
            " ratios, taken within each run, suffer less."
        )
    return lines


def write_results(summary: Summary, table: str, out: Path) -> list[Path]:
    """Write ``results.json`` (the summary) and ``results.txt`` (the table) into ``out``,
    creating it if needed; return the files written."""
    out.mkdir(parents=True, exist_ok=True)
    (out / RESULTS_JSON).write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    (out / RESULTS_TXT).write_text(table + "\n", encoding="utf-8")
    return [out / RESULTS_JSON, out / RESULTS_TXT]


def read_results(out: Path) -> Summary:
    """The summary saved in ``out`` by :func:`write_results`."""
    summary: Summary = json.loads((out / RESULTS_JSON).read_text(encoding="utf-8"))
    return summary


def write_charts(summary: Summary, out: Path, extra: Path | None = None) -> list[Path]:
    """Draw the chart into ``out`` and, if given, also at ``extra``; return the files
    written."""
    written = []
    for path in filter(None, [out / CHART, extra]):
        write_chart(summary, path)
        written.append(path)
    return written


def _fmt_ms(ms: float | None) -> str:
    """Milliseconds with about three significant figures, or "-"."""
    if ms is None:
        return "-"
    return f"{ms:.3f}" if ms < 0.1 else f"{ms:.2f}" if ms < 100 else f"{ms:.0f}"


def _error_line(error: str) -> str:
    """The line of a traceback that names the exception."""
    lines = [x for x in error.strip().splitlines() if x and not x.startswith(("(", " "))]
    return (lines[-1] if lines else error.strip())[:120]
