"""Write the insights report: per assignment a self-contained HTML page (plots inline, no script,
no network), the same numbers as CSV and JSON and the plots as PNG files; an index of every
assignment reported; and the short summary that the command line prints.

    <out>/index.html, index.csv
    <out>/<assignment>.html
    <out>/<assignment>/insights.json, scores.csv, histogram.csv, parts.csv, mistakes.csv,
                       flags.csv, similar.csv, histogram.png, parts.png, mistakes.png

The index is made from the ``insights.json`` in ``out`` of every graded assignment, so reporting
one assignment (``--assignment``) keeps the others' rows.
"""

from __future__ import annotations

import base64
import csv
import json
import textwrap
from pathlib import Path

from jinja2 import Environment, FileSystemLoader
from markupsafe import Markup, escape

from grader import course
from grader.insights import DEFAULT_OUT, figures
from grader.insights.collect import UNGRADED, collect, graded_assignments
from grader.insights.similar import compare
from grader.insights.tally import Summary, summarise

TEMPLATES = Path(__file__).with_name("templates")
DATA = "insights.json"
SHOWN_IN_SUMMARY = 3      # mistakes per assignment the command line prints
REASON_WIDTH = 160        # characters of a flag's reason the command line prints
REASON_ON_PAGE = 400      # and the page, before "all of it"


def default_out(root: Path = course.ROOT) -> Path:
    return Path(root).joinpath(*DEFAULT_OUT)


def write(root: Path = course.ROOT, assignment: str | None = None, out: Path | None = None) -> list[Summary]:
    """Report every graded assignment (or ``assignment``) of the course at ``root`` into ``out``
    (default ``grader/reports/insights/``); return their summaries."""
    root = Path(root)
    out = Path(out) if out else default_out(root)
    graded = graded_assignments(root)
    if assignment is not None and assignment not in graded:
        raise course.GradingError(f"{assignment!r} has not been graded (no graded hand-in); "
                                  f"graded: {', '.join(graded) or 'none'}")
    summaries = []
    for name in [assignment] if assignment else graded:
        results = collect(name, root)
        summaries.append(summarise(results, compare(results)))
        write_assignment(summaries[-1], out)
    write_index(out, graded)
    return summaries


# ----------------------------------------------------------------------------- one assignment
def as_json(summary: Summary) -> dict:
    """Everything the assignment's page shows (but the marked code of similar pairs), as JSON."""
    results = summary.results

    def flag(student, found):
        where = found.flag.where()
        return {"student": student, "notebook": found.notebook, "origin": found.origin,
                "where": f"{found.notebook}.ipynb, {where}" if found.notebook else where,
                **found.flag.as_dict()}

    similar = summary.similarity
    return {
        "assignment": summary.assignment, "max_score": results.max_score, "notebooks": results.notebooks,
        "counts": summary.counts, "mean_score": summary.mean_score, "median_score": summary.median_score,
        "median_seconds_per_notebook": summary.median_seconds,
        "hand_ins": [{"student": h.student, "state": h.state, "score": h.score, "max_score": h.max_score,
                      "seconds": h.seconds, "problem": h.problem} for h in results.hand_ins],
        "not_submitted": results.not_submitted,
        "histogram": [{"from": lo, "to": hi, "hand_ins": n} for lo, hi, n in summary.bins],
        "parts": [{"grade_id": p.part.grade_id, "notebook": p.part.notebook, "max_score": p.part.max_score,
                   "answered": p.answered, "passed": p.passed, "failed": p.failed, "timed_out": p.timed_out,
                   "not_run": p.not_run, "pass_rate": p.pass_rate, "mean_points": p.mean_points,
                   "remark": p.remark,
                   "mistakes": [{"text": m.text, "kind": m.kind, "students": m.students} for m in p.mistakes]}
                  for p in summary.parts],
        "mistakes": [{"text": m.text, "students": m.students, "parts": m.parts} for m in summary.mistakes],
        "review_flags": [flag(s, f) for s, f in summary.flags()],
        "notes": [flag(s, f) for s, f in summary.notes],
        "similar": {"hand_ins": similar.hand_ins if similar else 0,
                    "threshold": similar.threshold if similar and similar.pairs else None,
                    "pairs": [{"students": list(p.students), "shared": p.shared, "similarity": list(p.similarity),
                               "cells": [c.grade_id for c in p.cells]} for p in summary.pairs]},
    }


def write_assignment(summary: Summary, out: Path) -> Path:
    """The assignment's page, data files and plots; returns the page's path."""
    data = as_json(summary)
    folder = out / summary.assignment
    folder.mkdir(parents=True, exist_ok=True)
    (folder / DATA).write_text(json.dumps(data, indent=1))
    tables = _tables(data, summary)
    for name, rows in tables.items():
        with open(folder / name, "w", newline="") as f:
            csv.writer(f).writerows(rows)
    pictures = {"histogram": figures.score_histogram(summary), "parts": figures.part_outcomes(summary),
                "mistakes": figures.top_mistakes(summary)}
    for name, png in pictures.items():
        if png is not None:
            (folder / f"{name}.png").write_bytes(png)
    page = out / f"{summary.assignment}.html"
    page.write_text(_environment().get_template("assignment.html.j2").render(
        data=data, files=[DATA, *tables], images={k: _inline(v) for k, v in pictures.items()},
        pairs=summary.pairs, ungraded=summary.with_state(UNGRADED)))
    return page


def _tables(data: dict, summary: Summary) -> dict[str, list[list]]:
    """The CSV files of an assignment, as rows (a header first)."""
    pairs = summary.similarity.pairs if summary.similarity else []
    flagged = {tuple(p["students"]) for p in data["similar"]["pairs"]}
    return {
        "scores.csv": [["student", "state", "points", "max_points", "seconds", "problem"]] + [
            [h["student"], h["state"], _blank(h["score"]), _blank(h["max_score"]), _blank(h["seconds"]),
             h["problem"] or ""] for h in data["hand_ins"]],
        "histogram.csv": [["points_from", "points_to", "hand_ins"]] + [
            [b["from"], b["to"], b["hand_ins"]] for b in data["histogram"]],
        "parts.csv": [["grade_id", "notebook", "max_points", "answered", "passed", "failed", "timed_out",
                       "not_run", "pass_rate", "mean_points", "remark"]] + [
            [p["grade_id"], p["notebook"], p["max_score"], p["answered"], p["passed"], p["failed"],
             p["timed_out"], p["not_run"], _blank(p["pass_rate"]), _blank(p["mean_points"]), p["remark"] or ""]
            for p in data["parts"]],
        "mistakes.csv": [["grade_id", "rank", "kind", "students_count", "mistake", "students"]] + [
            [p["grade_id"], rank, m["kind"], len(m["students"]), m["text"], " ".join(m["students"])]
            for p in data["parts"] for rank, m in enumerate(p["mistakes"], 1)],
        "flags.csv": [["student", "level", "notebook", "cell", "grade_id", "line", "reason", "origin"]] + [
            [f["student"], f["level"], f["notebook"] or "", _blank(f["cell"]["index"]), f["cell"]["grade_id"] or "",
             _blank(f["line"]), f["reason"], f["origin"]] for f in data["review_flags"] + data["notes"]],
        "similar.csv": [["student_a", "student_b", "shared_characters", "share_a", "share_b", "flagged"]] + [
            [*p.students, p.shared, f"{p.similarity[0]:.3f}", f"{p.similarity[1]:.3f}", int(p.students in flagged)]
            for p in sorted(pairs, key=lambda p: -p.shared)],
    }


# ----------------------------------------------------------------------------- the index
def write_index(out: Path, order: list[str]) -> Path:
    """``index.html`` and ``index.csv`` over the assignments ``order`` reported in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    reported = [json.loads((out / a / DATA).read_text()) for a in order if (out / a / DATA).is_file()]
    rows = [["assignment", "graded", "blank", "not_graded", "not_submitted", "mean_score", "max_score",
             "median_seconds_per_notebook", "top_mistake", "top_mistake_students", "flagged_hand_ins", "similar_pairs"]]
    for a in reported:
        top = a["mistakes"][0] if a["mistakes"] else None
        rows.append([a["assignment"], *(a["counts"][k] for k in ("graded", "blank", "not_graded", "not_submitted")),
                     _blank(a["mean_score"]), a["max_score"], _blank(a["median_seconds_per_notebook"]),
                     top["text"] if top else "", len(top["students"]) if top else 0,
                     len({f["student"] for f in a["review_flags"]}), len(a["similar"]["pairs"])])
    with open(out / "index.csv", "w", newline="") as f:
        csv.writer(f).writerows(rows)
    shares = {a["assignment"]: [h["score"] / a["max_score"] for h in a["hand_ins"]
                                if h["score"] is not None and a["max_score"]] for a in reported}
    page = out / "index.html"
    page.write_text(_environment().get_template("index.html.j2").render(
        assignments=reported, overview=_inline(figures.class_overview(shares)) if reported else None))
    return page


# ----------------------------------------------------------------------------- the command line's summary
def summary_text(summaries: list[Summary], out: Path) -> str:
    """What ``grader insights`` prints: per assignment the hand-ins, the most common mistakes,
    the review flags and the similar pairs; then where the pages are."""
    lines = []
    for s in summaries:
        c = s.counts
        timing = f"; median {s.median_seconds:.1f} s per notebook" if s.median_seconds is not None else ""
        mean = f"; mean {s.mean_score:.3g} / {s.results.max_score:g}" if s.mean_score is not None else ""
        lines.append(f"{s.assignment}: {c['graded']} graded, {c['blank']} blank, {c['not_graded']} not graded, "
                     f"{c['not_submitted']} not handed in{mean}{timing}")
        if s.mistakes:
            lines.append("  most common mistakes:")
            lines += [f"    {m.count} student{'s' * (m.count != 1)}: {m.text} ({', '.join(m.parts)})"
                      for m in s.mistakes[:SHOWN_IN_SUMMARY]]
        flags = s.flags()
        if flags:
            lines.append(f"  review flags ({len({st for st, _ in flags})} hand-ins; a reason to look, never a penalty):")
            lines += [f"    {student}: {textwrap.shorten(str(found.flag), REASON_WIDTH, placeholder=' ...')}"
                      for student, found in flags]
        for pair in s.pairs:
            lines.append(f"  similar hand-ins: {pair.students[0]} and {pair.students[1]} "
                         f"({pair.shared} characters of code in common)")
    lines.append(f"insights: {out / 'index.html'}" if summaries else "insights: nothing graded yet")
    return "\n".join(lines)


# ----------------------------------------------------------------------------- helpers
def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True, trim_blocks=True, lstrip_blocks=True)
    env.globals.update(points=lambda x: "—" if x is None else f"{x:.3g}",
                       percent=lambda x: "—" if x is None else f"{x:.0%}", reason=_reason)
    return env


def _reason(text: str) -> Markup:
    """A flag's reason for the page; a very long one (the guard lists every name it put back)
    is cut, with the whole of it one click away (``<details>``, no script)."""
    if len(text) <= REASON_ON_PAGE:
        return escape(text)
    return Markup("{}<details><summary>all of it</summary>{}</details>").format(
        textwrap.shorten(text, REASON_ON_PAGE, placeholder=" …"), text)


def _inline(png: bytes | None) -> str | None:
    return None if png is None else "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _blank(value) -> object:
    return "" if value is None else value
