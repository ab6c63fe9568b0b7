"""Time limits for the cells grading runs, calibrated on the course's solutions.

A flat limit per cell (``MLP_COURSE_CELL_TIMEOUT``, 90 s) must let through the slowest test, so
a student's function that never returns costs 90 s in every cell that calls it. Instead, each
cell's own time on the course's solution is measured at release, and grading stops the cell at
``factor x that time + margin`` seconds (``RobustExecute.time_limit_factor`` and
``time_limit_margin``: 20 x and 30 s), never later than the flat limit. A correct solution twenty
times slower than the course's, on a machine slower than the one that measured, still passes; a
hang in 01 costs about 30 s a cell.

Measured are the cells that grading runs and whose code is the course's: the tests (restored
from the assignment before they run), the set-up and the cells between the exercises. An answer
cell holds the student's own code: it keeps the flat limit. The seconds live in
``grader/time_limits.json`` (committed), per assignment and notebook, keyed by the cell's source:
a cell whose code is not the code measured (a test changed since, a cell the student edited)
gets the flat limit. ``grader release`` measures the assignments whose cells changed
(``--calibrate``: all of them again, e.g. on a new grading machine): it grades the solution
once, as autograde does, with one thread per kernel. Validation (``nbgrader validate``, the
Validate button) names no assignment: the flat limit.
"""

from __future__ import annotations

import json
import os
import platform
import tempfile
from datetime import date
from pathlib import Path
from unittest import mock

import nbformat

from grader import course
from grader.cells import grade_id, is_demo, is_solution, last_graded, source_key

FILE = Path("grader", "time_limits.json")   # under the course root
ABOUT = ("Seconds of each cell that grading runs (answers excepted) on the course's solution, one thread "
         "per kernel, keyed by the cell's source; grading stops such a cell at 20 x these + 30 s. Written by "
         "`python -m grader release` (grader/time_limits.py).")


def path(root: Path = course.ROOT) -> Path:
    return Path(root) / FILE


def _read(root: Path) -> dict:
    """The file as written ({} without it)."""
    try:
        return json.loads(path(root).read_text())
    except FileNotFoundError:
        return {}


def load(root: Path = course.ROOT) -> dict:
    """``{assignment: {notebook: {source key: {"cell": label, "seconds": s}}}}`` ({} without the file)."""
    return {a: {nb: cells for nb, cells in notebooks.items() if nb != "measured"}
            for a, notebooks in _read(root).get("assignments", {}).items()}


def timed_cells(nb) -> list[tuple[str, object]]:
    """``(label, cell)`` of the code cells that grading runs and whose code is the course's: not an
    answer, not a demonstration, not after the last answer or test (grading skips those)."""
    last = last_graded(nb.cells)
    return [(grade_id(c) or f"cell {i}", c) for i, c in enumerate(nb.cells)
            if c.cell_type == "code" and not is_solution(c) and not is_demo(c) and (last is None or i <= last)]


def stale(assignment: str, root: Path = course.ROOT, measured: dict | None = None) -> list[str]:
    """The assignment's cells with no measurement of their current code (``notebook: label``)."""
    measured = (load(root) if measured is None else measured).get(assignment, {})
    missing = []
    for name in course.notebook_names(assignment, root):
        nb = nbformat.read(root / "solutions" / assignment / f"{name}.ipynb", as_version=4)
        have = measured.get(name, {})
        missing += [f"{name}: {label}" for label, c in timed_cells(nb) if source_key(c.source) not in have]
    return missing


def measure(assignment: str, root: Path = course.ROOT) -> dict[str, dict[str, dict]]:
    """Grade the assignment's solution as autograde does, one thread per kernel and the flat
    limit; ``{notebook: {source key: {"cell": label, "seconds": s}}}`` of its timed cells."""
    from grader.batch import thread_environment
    from grader.proving.variants import make_submission
    from grader.score import autograded, cell_seconds

    measured = {}
    with mock.patch.dict(os.environ, thread_environment(1)):   # inherited by the grading kernel
        for name in course.notebook_names(assignment, root):
            solution = nbformat.read(root / "solutions" / assignment / f"{name}.ipynb", as_version=4)
            release = nbformat.read(root / "notebooks" / assignment / f"{name}.ipynb", as_version=4)
            with tempfile.TemporaryDirectory(prefix="grader-calibrate-") as tmp:
                hand_in = Path(tmp) / f"{name}.ipynb"
                nbformat.write(make_submission(release, solution, []), hand_in)
                with autograded(hand_in, assignment, calibrated=False, root=root) as (executed, _):
                    nb = nbformat.read(executed, as_version=4)
            cells = timed_cells(nb)
            failed = [label for label, c in cells if any(o.get("output_type") == "error" for o in c.get("outputs", []))]
            if failed:
                raise course.GradingError(f"{assignment}: the solution fails in {', '.join(failed)}; "
                                          "its time limits were not measured")
            measured[name] = {}
            for label, c in cells:
                entry = measured[name].setdefault(source_key(c.source), {"cell": label, "seconds": 0.0})
                entry["seconds"] = max(entry["seconds"], round(cell_seconds(c), 3))   # the same code twice
    return measured


def calibrate(assignments: list[str] | None = None, every: bool = False, root: Path = course.ROOT) -> list[str]:
    """Measure the assignments with cells not measured in their current code (``every``: all of
    them) and write the file; return the assignments measured."""
    data = {"about": ABOUT, "assignments": _read(root).get("assignments", {})}
    measured = load(root)
    todo = [a for a in assignments or course.assignments(root) if every or stale(a, root, measured)]
    machine = f"{platform.machine()}, {os.cpu_count()} cores, one thread per kernel"
    for assignment in todo:
        data["assignments"][assignment] = {"measured": f"{date.today()} on {machine}", **measure(assignment, root)}
        path(root).write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    return todo
