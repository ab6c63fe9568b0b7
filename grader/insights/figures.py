"""The report's plots, drawn with matplotlib off-screen and returned as PNG bytes (the pages
inline them, so that they need no file and no network).

Each figure draws one table of the report, so the CSV next to it holds the same numbers.
"""

from __future__ import annotations

import io
import textwrap

from matplotlib.figure import Figure

from grader.insights.tally import Summary

DPI = 100
COLOURS = {"passed": "#3a8a3a", "failed": "#c0392b", "timed out": "#e0a030", "not run": "#8c8c8c"}
WIDTH = 7.5   # inches: 750 px at DPI, the page's column


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight")
    return buffer.getvalue()


def score_histogram(summary: Summary) -> bytes:
    """Hand-ins per points bin (blank hand-ins included: they are part of the class's grades)."""
    fig = Figure(figsize=(WIDTH, 2.8))
    ax = fig.add_subplot()
    lows = [lo for lo, _, _ in summary.bins]
    widths = [hi - lo for lo, hi, _ in summary.bins]
    whole_points = all(w == 1 for w in widths)   # one bar per point, drawn on its number
    ax.bar(lows, [n for _, _, n in summary.bins], width=[w * 0.8 for w in widths],
           align="center" if whole_points else "edge", color="#4a6fa5")
    ax.set_xlabel(f"points (of {summary.results.max_score:g})")
    ax.set_ylabel("hand-ins")
    ax.set_title(f"{summary.assignment}: score distribution ({len(summary.scores)} graded)")
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)


def part_outcomes(summary: Summary) -> bytes:
    """Per graded part, how many hand-ins passed, failed, timed out or never ran it."""
    parts = summary.parts[::-1]   # the first part on top
    fig = Figure(figsize=(WIDTH, 0.45 * len(parts) + 1.2))
    ax = fig.add_subplot()
    names = [p.part.grade_id for p in parts]
    left = [0] * len(parts)
    for label, values in (("passed", [p.passed for p in parts]), ("failed", [p.failed for p in parts]),
                          ("timed out", [p.timed_out for p in parts]), ("not run", [p.not_run for p in parts])):
        ax.barh(names, values, left=left, color=COLOURS[label], label=label)
        left = [a + b for a, b in zip(left, values)]
    for y, p in enumerate(parts):
        if p.pass_rate is not None:
            ax.text(left[y], y, f" {p.pass_rate:.0%}", va="center", fontsize=8)
    ax.set_xlabel("hand-ins that answered something")
    ax.set_title("graded parts: passed, failed, never reached")
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.08), ncol=4, frameon=False, fontsize=8)
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)


def top_mistakes(summary: Summary, count: int = 8) -> bytes | None:
    """The named mistakes most students made (None when the checks named none)."""
    mistakes = summary.mistakes[:count][::-1]
    if not mistakes:
        return None
    fig = Figure(figsize=(WIDTH, 0.55 * len(mistakes) + 1.0))
    ax = fig.add_subplot()
    labels = [textwrap.shorten(m.text, 70, placeholder="…") + f"  ({', '.join(m.parts)})" for m in mistakes]
    ax.barh(range(len(mistakes)), [m.count for m in mistakes], color="#c0392b")
    ax.set_yticks(range(len(mistakes)), ["\n".join(textwrap.wrap(label, 48)) for label in labels], fontsize=8)
    ax.set_xlabel("students")
    ax.set_title("the most common named mistakes")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)


def class_overview(shares: dict[str, list[float]]) -> bytes:
    """Every assignment's scores as shares of its maximum (``{assignment: shares}``): one dot
    per graded hand-in, a bar at the mean."""
    fig = Figure(figsize=(WIDTH, 0.6 * len(shares) + 1.2))
    ax = fig.add_subplot()
    names = list(shares)[::-1]   # the first assignment on top
    for y, name in enumerate(names):
        ax.scatter(shares[name], [y] * len(shares[name]), alpha=0.5, color="#4a6fa5", s=25)
        if shares[name]:
            ax.plot([sum(shares[name]) / len(shares[name])] * 2, [y - 0.3, y + 0.3], color="black")
    ax.set_yticks(range(len(names)), names)
    ax.set_xlim(-0.05, 1.05)
    ax.set_xlabel("share of the points (dots: hand-ins; bar: the mean)")
    ax.set_title("scores per assignment")
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)
