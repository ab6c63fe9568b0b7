"""The example class in ``grader/submitted/``: what ``make grade`` grades.

Three students hand in every assignment:

- ``alice``: the solutions (full marks);
- ``bob``: the solutions, except for the first bug listed in ``grader/proving/cases`` for each of the
  first two functions that have bugs (partial marks, with feedback naming both mistakes), and
  a third function written another, correct way (its tests keep their points): one bug, one
  deduction, shown end to end on the class every test run grades;
- ``carol``: the release as handed out, nothing answered (0 points).

Each hand-in looks like a student's notebook (``variants.make_submission``): the release with
the answer cells typed in, without nbgrader's solution markers, with the release's metadata.
They are made from the solutions and the release, so ``python -m grader examples`` keeps them
in step after a notebook changes (a test checks that the committed files are up to date).
"""

from __future__ import annotations

from pathlib import Path

import nbformat

from grader import course
from grader.proving.cases import all_cases
from grader.proving.variants import grade_id, is_solution, make_submission

STUDENTS = ("alice", "bob", "carol")


def bobs_bugs(variants) -> list:
    """The first bug of each of the first two functions that have bugs."""
    chosen: dict = {}
    for variant in variants:
        if variant.is_bug and variant.target not in chosen and len(chosen) < 2:
            chosen[variant.target] = variant
    return list(chosen.values())


def bobs_variants(variants) -> list:
    """bob's two bugs (``bobs_bugs``) and the first correct alternative of a function without one."""
    bugs = bobs_bugs(variants)
    buggy = {v.function for v in bugs}
    alternative = next((v for v in variants if not v.is_bug and v.function not in buggy), None)
    return bugs + ([alternative] if alternative else [])


def example_submissions(root: Path = course.ROOT) -> dict[Path, nbformat.NotebookNode]:
    """``{path under root: notebook}`` for the whole example class."""
    out = {}
    for case in all_cases():
        name = f"{case.NOTEBOOK}.ipynb"
        solution = nbformat.read(root / "solutions" / case.ASSIGNMENT / name, as_version=4)
        release = nbformat.read(root / "notebooks" / case.ASSIGNMENT / name, as_version=4)
        every_answer = [grade_id(c) for c in solution.cells if is_solution(c)]
        hand_ins = {
            "alice": make_submission(release, solution),
            "bob": make_submission(release, solution, bobs_variants(case.VARIANTS)),
            "carol": make_submission(release, solution, unanswered=every_answer),
        }
        for student, nb in hand_ins.items():
            out[Path("grader", "submitted", student, case.ASSIGNMENT, name)] = nb
    return out


def make_example_class(root: Path = course.ROOT) -> list[Path]:
    written = []
    for relative, nb in example_submissions(root).items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, path)
        written.append(path)
    return written
