"""The summary as people and programs read it: the printed table, ``results.json`` and
``results.txt``, and the chart."""

from __future__ import annotations

import json
import typing as t

from .chart import write_chart
from .memory import WARM_UP
from .plan import GROUPS
from .plan import LABELS

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
