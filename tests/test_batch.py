"""grader.batch: a class graded in parallel (local processes or Dask) gets exactly the grades
nbgrader alone would give; re-runs grade only what changed; broken hand-ins are reported and
cost nothing else."""

import csv
import shutil
import time
from pathlib import Path

import nbformat
import pytest

from grader import batch, course, time_limits
from grader.examples import STUDENTS
from grader.nbgrader_ext.preprocessors import COURSE_CHANGED
from grader.score import score

ROOT = course.ROOT
ASSIGNMENT, NOTEBOOK = "01_perceptron", "perceptron.ipynb"


def test_threads_are_shared_out_between_jobs():
    assert batch.grading_threads(1, cores=8) == 8
    assert batch.grading_threads(2, cores=8) == 4
    assert batch.grading_threads(3, cores=2) == 1
    assert batch.thread_environment(2) == {"OMP_NUM_THREADS": "2", "OPENBLAS_NUM_THREADS": "2",
                                           "MKL_NUM_THREADS": "2"}


def test_task_key_changes_with_the_hand_in_and_the_source_only():
    task = batch.Task("a", "s", {"n.ipynb": b"source"}, b"db", {"n.ipynb": b"answer"}, threads=1)
    same = batch.Task("a", "other student", {"n.ipynb": b"source"}, b"other db", {"n.ipynb": b"answer"}, threads=4)
    assert batch._task_key(task) == batch._task_key(same)
    for changed in (batch.Task("a", "s", {"n.ipynb": b"source!"}, b"db", {"n.ipynb": b"answer"}),
                    batch.Task("a", "s", {"n.ipynb": b"source"}, b"db", {"n.ipynb": b"answer!"})):
        assert batch._task_key(changed) != batch._task_key(task)


def test_a_course_change_is_named_on_every_hand_in_graded_while_it_was_made(tmp_path):
    checks = tmp_path / "utils" / "checks.py"
    checks.parent.mkdir()
    checks.write_text("honest")
    watch = batch.CourseWatch(tmp_path)
    start = watch.since
    before = batch.Outcome("a", "before", started=start - 20, finished=start - 10)
    first = batch.Outcome("a", "first", started=start, finished=time.time())   # comes in first
    writer, beside = (batch.Outcome("a", name, started=start) for name in ("writer", "beside"))
    assert not watch.restore()
    checks.write_text("hacked")     # by the writer, still running, while the first is recorded
    assert watch.restore() and checks.read_text() == "honest"
    writer.finished = beside.finished = time.time()
    for outcome in (writer, beside):    # who wrote is named (and whoever ran beside it)
        assert watch.flag(outcome).problem == f"{COURSE_CHANGED}: utils/checks.py", outcome.student
    later = batch.Outcome("a", "later", started=time.time() + 1, finished=time.time() + 2, problem="its own")
    for outcome in (before, first, later):   # not running when it was written
        assert watch.flag(outcome) is outcome, outcome.student
    assert writer.problem is None, "flag() returns a flagged copy"


def _course(tmp_path, students=STUDENTS):
    """A copy of the course with the example class's 01_perceptron hand-ins."""
    for folder in (f"solutions/{ASSIGNMENT}", f"notebooks/{ASSIGNMENT}"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    for student in students:
        shutil.copytree(ROOT / "grader/submitted" / student / ASSIGNMENT,
                        tmp_path / "grader/submitted" / student / ASSIGNMENT)
    return tmp_path


def _report(root):
    with open(root / batch.REPORT_CSV) as f:
        return {(r["student"], r["assignment"]): r for r in csv.DictReader(f)}


def _test_scores(root, student):
    from nbgrader.api import Gradebook

    with Gradebook(course.config(root).CourseDirectory.db_url) as gb:
        nb = gb.find_submission_notebook(Path(NOTEBOOK).stem, ASSIGNMENT, student)
        return {g.name: float(g.score) for g in nb.grades}


@pytest.mark.slow
def test_parallel_grades_equal_score_and_reruns_grade_only_what_changed(tmp_path):
    root = _course(tmp_path)
    rows = batch.autograde(root=root, jobs=2, progress=False)
    assert [r.status for r in rows] == ["graded"] * 3
    first = {s: _test_scores(root, s) for s in STUDENTS}
    bob = score(root / "grader/submitted/bob" / ASSIGNMENT / NOTEBOOK)
    assert first["bob"] == {t["grade_id"]: t["score"] for t in bob["tests"]}, "batch and score disagree"
    assert (root / "grader/autograded/bob" / ASSIGNMENT / NOTEBOOK).is_file()

    again = batch.autograde(root=root, jobs=2, progress=False)
    assert [r.status for r in again] == ["unchanged"] * 3
    assert {s: _test_scores(root, s) for s in STUDENTS} == first
    assert [r.points for r in again] == [r.points for r in rows]

    carol = root / "grader/submitted/carol" / ASSIGNMENT / NOTEBOOK   # carol answers one more cell
    nb = nbformat.read(carol, as_version=4)
    nb.cells.append(nbformat.v4.new_markdown_cell("my notes"))
    nbformat.write(nb, carol)
    changed = {r.student: r.status for r in batch.autograde(root=root, jobs=2, progress=False)}
    assert changed == {"alice": "unchanged", "bob": "unchanged", "carol": "graded"}
    forced = batch.autograde(root=root, jobs=1, force=True, progress=False)
    assert [r.status for r in forced] == ["graded"] * 3
    assert {s: _test_scores(root, s) for s in STUDENTS} == first
    report = _report(root)
    assert report[("alice", ASSIGNMENT)]["points"] == report[("alice", ASSIGNMENT)]["max_points"] == "12"


@pytest.mark.slow
def test_broken_and_missing_hand_ins_are_reported_and_cost_nothing_else(tmp_path):
    root = _course(tmp_path, students=("alice", "bob"))
    (root / "grader/submitted/bob" / ASSIGNMENT / NOTEBOOK).write_text("{not json")
    dave = root / "grader/submitted/dave" / ASSIGNMENT
    dave.mkdir(parents=True)
    shutil.copyfile(ROOT / "grader/submitted/alice" / ASSIGNMENT / NOTEBOOK, dave / "wrong name.ipynb")
    rows = {r.student: r for r in batch.autograde(root=root, jobs=2, progress=False)}
    assert rows["alice"].status == "graded" and rows["alice"].points == 12
    assert "perceptron.ipynb is not a readable notebook" in rows["bob"].status and not rows["bob"].points
    assert "'wrong name.ipynb' is not one of the assignment's notebooks" in rows["dave"].status
    assert "0 points for perceptron.ipynb" in rows["dave"].status and not rows["dave"].points
    assert set(_report(root)) == {("alice", ASSIGNMENT), ("bob", ASSIGNMENT), ("dave", ASSIGNMENT)}


@pytest.mark.slow
def test_dask_local_cluster_gives_the_same_grades(tmp_path):
    pytest.importorskip("distributed")
    root = _course(tmp_path, students=("alice", "bob"))
    rows = batch.autograde(root=root, jobs=2, use_dask=True, progress=False)
    bob = score(root / "grader/submitted/bob" / ASSIGNMENT / NOTEBOOK)["score"]
    assert [(r.student, r.status, r.points) for r in rows] == [("alice", "graded", 12.0), ("bob", "graded", bob)]
    assert 0 < bob < 12


def test_a_batch_grades_the_longest_assignments_first():
    measured = time_limits.load()
    tasks = [batch.Task(a, student, {}, b"", {}, seconds=measured.get(a, {}))
             for student in ("alice", "bob") for a in (*course.assignments(), "99_new")]
    order = [(t.assignment, t.student) for t in batch.longest_first(tasks)]
    assert order == [(a, s) for a in ("99_new", "04_torch_nn", "03_torch_scratch", "02_numpy_mlp", "01_perceptron")
                     for s in ("alice", "bob")]
