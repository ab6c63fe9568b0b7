"""What a notebook cell is to the course: a solution, a graded test or an ungraded demo.

nbgrader keeps its part of a cell's role in ``metadata.nbgrader`` (``grade_id``, ``solution``,
``grade``); the course adds one tag, ``demo``, for cells that only illustrate (training runs,
sweeps, baselines) and that grading skips.
"""

from __future__ import annotations

import hashlib

DEMO_TAG = "demo"


def grade_id(cell) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def is_solution(cell) -> bool:
    return bool(cell.get("metadata", {}).get("nbgrader", {}).get("solution"))


def is_test(cell) -> bool:
    """A graded test cell (points, and no solution of the student's in it)."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return bool(meta.get("grade")) and not meta.get("solution")


def _graded(cells) -> list[int]:
    return [i for i, cell in enumerate(cells) if is_solution(cell) or is_test(cell)]


def first_graded(cells) -> int | None:
    """Index of the first answer or test cell in ``cells`` (None: there is none). The cells
    before it are the notebook's set-up: no student writes in them."""
    graded = _graded(cells)
    return graded[0] if graded else None


def last_graded(cells) -> int | None:
    """Index of the last answer or test cell in ``cells`` (None: there is none). The cells after
    it cannot change a grade: grading does not run them, nor do the in-process checks."""
    graded = _graded(cells)
    return graded[-1] if graded else None


def is_demo(cell) -> bool:
    """Whether ``cell`` is tagged as an ungraded demonstration."""
    return cell.cell_type == "code" and DEMO_TAG in cell.get("metadata", {}).get("tags", [])


def source_key(source: str) -> str:
    """A short key of a cell's source (its SHA-256, 16 hex digits): equal keys, equal code."""
    return hashlib.sha256(source.encode()).hexdigest()[:16]
