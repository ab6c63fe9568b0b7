"""Time limits calibrated on the solutions (grader/time_limits.py): the committed measurements
cover every cell grading runs, a cell gets 20 x its measured seconds + 30 s only when its code is
the code measured and it is not an answer, and `grader release` measures only what changed.
A hang stopped at its calibrated limit, in real grading: tests/test_grading.py (the hang) and
tests/test_hostile.py (the whole corpus)."""

import shutil
import time

import nbformat
import pytest
from nbformat.v4 import new_code_cell

from grader import course, time_limits
from grader.cells import source_key
from grader.nbgrader_ext.preprocessors import RobustExecute

ASSIGNMENT, NOTEBOOK = "01_perceptron", "perceptron"


@pytest.mark.parametrize("assignment", course.assignments())
def test_the_committed_limits_cover_every_cell_grading_runs(assignment):
    missing = time_limits.stale(assignment)
    assert not missing, (f"cells of {assignment} with no measured time (a test or set-up cell changed): "
                         f"{missing}; run `python -m grader release`")


def _executor(seconds: float = 0.5, timeout: int = 90) -> tuple[RobustExecute, str]:
    test = "expect(step(0) == 0)"
    executor = RobustExecute(timeout=timeout, time_limit_factor=20, time_limit_margin=30, solution_seconds={
        ASSIGNMENT: {NOTEBOOK: {source_key(test): {"cell": "test_step", "seconds": seconds}}}})
    return executor, test


def _cell(source, **nbgrader):
    return new_code_cell(source, metadata={"nbgrader": {"grade_id": "test_step", **nbgrader}} if nbgrader else {})


GRADING = {"nbgrader": {"assignment": ASSIGNMENT, "notebook": NOTEBOOK, "student": "bob"}}


def test_a_cell_whose_code_was_measured_stops_at_20_times_its_seconds_plus_30():
    executor, test = _executor(seconds=0.5)
    executor.measured_for(GRADING)
    assert executor._get_timeout(_cell(test, grade=True, solution=False, points=1)) == 40
    assert executor._get_timeout(_cell(test)) == 40   # set-up code: the same code, the same limit
    assert executor._get_timeout(_cell(test + "\n")) == 90, "code not measured: the flat limit"
    assert executor._get_timeout(_cell(test, grade=True, solution=True, points=1)) == 90, \
        "an answer is the student's code: the flat limit"
    assert executor._get_timeout(None) == 90   # nbclient's own waits


def test_a_calibrated_limit_is_never_above_the_flat_one_nor_the_notebooks_time_left():
    executor, test = _executor(seconds=10.0, timeout=90)
    executor.measured_for(GRADING)
    assert executor._get_timeout(_cell(test)) == 90   # 20 x 10 + 30 > 90
    executor._deadline = time.monotonic() + 12
    assert executor._get_timeout(_cell(test)) <= 12


def test_validation_names_no_assignment_and_gets_the_flat_limit():
    executor, test = _executor()
    executor.measured_for({})
    assert executor._get_timeout(_cell(test)) == 90
    executor.measured_for({"nbgrader": {"assignment": "02_numpy_mlp", "notebook": NOTEBOOK}})
    assert executor._get_timeout(_cell(test)) == 90


def test_a_timed_out_cell_says_its_limit_and_the_solutions_time():
    executor, test = _executor(seconds=0.5)
    executor.measured_for(GRADING)
    executor._cell_timeout = executor._get_timeout(_cell(test))
    assert executor._timed_out(_cell(test)) == ("its time limit of 40 s ran out "
                                                "(the course's solution runs this cell in 0.5 s)")
    executor._cell_timeout = 90
    assert executor._timed_out(_cell("while True: pass")) == "its time limit of 90 s ran out"


@pytest.mark.slow
def test_release_measures_the_assignments_whose_cells_changed_and_only_those(tmp_path):
    for folder in ("solutions", "notebooks"):
        shutil.copytree(course.ROOT / folder / ASSIGNMENT, tmp_path / folder / ASSIGNMENT)
    (tmp_path / "grader").mkdir()
    assert time_limits.calibrate(root=tmp_path) == [ASSIGNMENT]   # one grading of the solution
    measured = time_limits.load(tmp_path)[ASSIGNMENT][NOTEBOOK]
    solution = nbformat.read(tmp_path / "solutions" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", as_version=4)
    timed = dict(time_limits.timed_cells(solution))
    assert {source_key(c.source) for c in timed.values()} == set(measured)
    assert {"setup", "test_step", "test_blobs"} <= set(timed)
    assert not any(c.metadata.get("nbgrader", {}).get("solution") for c in timed.values()), "answers are not timed"
    assert all(e["seconds"] > 0 for e in measured.values() if e["cell"].startswith("test_")), measured

    assert time_limits.calibrate(root=tmp_path) == [], "nothing changed: nothing measured"
    timed["test_step"].source += "\nexpect(step(1) == 1)"
    nbformat.write(solution, tmp_path / "solutions" / ASSIGNMENT / f"{NOTEBOOK}.ipynb")
    assert time_limits.stale(ASSIGNMENT, tmp_path) == [f"{NOTEBOOK}: test_step"]
