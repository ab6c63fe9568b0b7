"""The example class's hand-ins (grader.examples) look like students' notebooks.

A student's notebook is the release with answers typed into the answer cells: no nbgrader
solution or hidden-test markers (nbgrader strips them from the release, and no student types
them), the release's cells in the release's order with the release's ids and metadata, and the
release's notebook metadata. The example feedback an instructor shows a class is made from
these, so a stray ``### END SOLUTION`` there would show.
"""

import ast
from pathlib import Path

import nbformat
import pytest

from grader import course
from grader.cells import grade_id, is_solution
from grader.examples import STUDENTS, example_submissions
from grader.proving.variants import as_student_writes, make_submission

ROOT = course.ROOT
NBGRADER_MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")
HAND_INS = example_submissions()


def _release_of(relative):
    _, _, student, assignment, name = relative.parts
    return nbformat.read(ROOT / "notebooks" / assignment / name, as_version=4)


@pytest.mark.parametrize("relative", sorted(HAND_INS), ids=lambda p: "/".join(p.parts[2:4]))
def test_a_hand_in_has_no_nbgrader_markers_and_the_release_s_metadata(relative):
    nb, release = HAND_INS[relative], _release_of(relative)
    for cell in nb.cells:
        marks = [mark for mark in NBGRADER_MARKERS if mark in cell.source]
        assert not marks, f"{relative}: cell {grade_id(cell) or cell.get('id')} holds nbgrader's {marks}"
    assert nb.metadata == release.metadata
    assert (nb.nbformat, nb.nbformat_minor) == (release.nbformat, release.nbformat_minor)
    assert [(c.cell_type, c.get("id"), c.metadata) for c in nb.cells] == \
        [(c.cell_type, c.get("id"), c.metadata) for c in release.cells], "cells or their metadata differ"
    for cell, released in zip(nb.cells, release.cells):
        if not is_solution(cell):
            assert cell.source == released.source, f"{relative}: only answer cells are the student's"
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None


@pytest.mark.parametrize("source", sorted((ROOT / "solutions").glob("*/*.ipynb")), ids=lambda p: p.parent.name)
def test_alice_answers_with_the_solution_carol_with_the_blank_and_bob_changes_three_answer_cells(source):
    solution = nbformat.read(source, as_version=4)
    answers = {grade_id(c): c.source for c in solution.cells if is_solution(c)}
    alice, bob, carol = (HAND_INS[course_path(student, source)] for student in STUDENTS)
    for cell in alice.cells:
        if is_solution(cell):  # the solution's program, its markers aside
            assert ast.dump(ast.parse(cell.source)) == ast.dump(ast.parse(answers[grade_id(cell)])), grade_id(cell)
    assert carol == _release_of(course_path("carol", source))
    changed = [grade_id(a) for a, b in zip(alice.cells, bob.cells) if a.source != b.source]
    # two bugs and an alternative: three functions, in two or three cells
    assert 2 <= len(changed) <= 3 and all(gid in answers for gid in changed), changed


def course_path(student, source):
    """Where ``student``'s hand-in of the solution notebook ``source`` lies, under the course."""
    return Path("grader", "submitted", student, source.parent.name, source.name)


def test_make_submission_removes_the_solution_markers_and_keeps_the_code_between_them():
    def notebook(*cells):
        nb = nbformat.v4.new_notebook()
        for source, gid in cells:
            cell = nbformat.v4.new_code_cell(source)
            cell.metadata["nbgrader"] = {"grade_id": gid, "solution": gid == "answer"}
            nb.cells.append(cell)
        return nb

    solution = notebook(("import numpy as np\n\ndef f(x):\n    ### BEGIN SOLUTION\n    y = 2 * x\n"
                         "    return y\n    ### END SOLUTION\n", "answer"), ("assert f(1) == 2", "test_f"))
    release = notebook(("import numpy as np\n\ndef f(x):\n    # YOUR CODE HERE\n    raise NotImplementedError()\n",
                        "answer"), ("assert f(1) == 2", "test_f"))
    nb = make_submission(release, solution)
    assert nb.cells[0].source == "import numpy as np\n\ndef f(x):\n    y = 2 * x\n    return y\n"
    assert nb.cells[1].source == "assert f(1) == 2"
    assert as_student_writes("x = 1\n") == "x = 1\n", "an answer without markers stays as it is"
