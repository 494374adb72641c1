"""The benchmark chart: one panel per suite, a bar per harness, ms per test."""

from __future__ import annotations

import typing as t

from .plan import GROUPS

if t.TYPE_CHECKING:
    from pathlib import Path

__all__ = ["write_chart"]

#: Groups drawn, in order (the skip suite's microseconds would only flatten a panel).
PANELS = ("request", "sqlite", "postgresql", "live", "live400", "schema_sqlite",
          "schema_postgresql")  # fmt: skip
OURS = "#2a7ab0"
PEERS = "#b0b0b0"


def write_chart(summary: dict[str, t.Any], path: Path) -> None:
    """Draw the medians of ``summary`` (as built by :func:`benchmarks.stats.summarise`)
    into a PNG at ``path``.

    :param summary: a run's results.
    :param path: the PNG file to write.
    """
    import matplotlib

    # No display here, and none needed: render to a file.
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = []
    for group in PANELS:
        rows = [
            r for r in summary["benchmarks"] if r["group"] == group and r["median_ms"] is not None
        ]
        if rows:
            panels.append((group, rows))
    if not panels:
        return
    heights = [len(rows) + 1.2 for _, rows in panels]
    fig, axes = plt.subplots(
        len(panels), 1, figsize=(9, 0.42 * sum(heights) + 0.6),
        gridspec_kw={"height_ratios": heights}, squeeze=False,
    )  # fmt: skip
    for ax, (group, rows) in zip(axes[:, 0], panels):
        title, reference, kind = GROUPS[group]
        labels = [r["label"] for r in rows]
        values = [r["median_ms"] for r in rows]
        colours = [OURS if r["harness"].startswith("flask_testcase") else PEERS for r in rows]
        ys = range(len(rows))
        ax.barh(ys, values, color=colours)
        ax.set_yticks(list(ys), labels, fontsize=8)
        ax.invert_yaxis()
        ax.set_title(f"{title}, {rows[0]['tests']} tests", fontsize=9, loc="left")
        ax.tick_params(axis="x", labelsize=8)
        ax.set_xlim(0, max(values) * 1.35)
        for y, r in zip(ys, rows):
            ratio = r["vs_reference"]
            note = f"{r['median_ms']:.2f} ms"
            if ratio is not None and r["harness"] != reference:
                note += f"  ({ratio:.2f}x" + (" floor)" if kind == "ratio" else " faster)")
            ax.text(r["median_ms"], y, " " + note, va="center", fontsize=7)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    axes[-1, 0].set_xlabel("milliseconds per test (median of runs; lower is better)", fontsize=8)
    meta = summary["meta"]
    fig.suptitle(
        f"flask_testcase (blue) and its peers, per test; Python {meta['python']}, "
        f"{meta['cpus']} CPUs, median of {meta['runs']} runs",
        fontsize=9,
    )
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
