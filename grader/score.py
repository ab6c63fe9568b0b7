"""``grader score``: grade one notebook exactly as autograde would, in a scratch course.

The scratch course reads the real ``solutions/`` (so the hidden tests and the configuration,
timeouts included, are the ones autograde uses) and writes everything else -- release,
submission, gradebook, autograded copy -- to a temporary folder that is removed afterwards.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from datetime import datetime
from pathlib import Path

import nbformat
from nbgrader.utils import is_grade

from grader import course
from grader.cells import grade_id
from grader.nbgrader_ext.preprocessors import ISOLATED, ISOLATION_LOG, guard_flags
from grader.screen import REVIEW, Flag, counts, screen

TIMEOUT_NOTE = "the cell was stopped after running too long (an endless loop, or far too slow)"
MISSING_CELL = ("this test's cell is missing from the notebook (deleted, or its grade_id changed), "
                "so it scores 0")
NOT_ANSWERED = "not answered yet: some code it needs still says `raise NotImplementedError()`"
# What became of a graded cell (``status``): the feedback page's words for it.
PASSED, FAILED, TIMED_OUT, NOT_RUN = "passed", "failed", "timed out", "not run"


def test_results(autograded: Path, source: Path, gradebook_url: str, assignment: str,
                 student: str) -> dict:
    """The scores and feedback of one autograded notebook, in the JSON shape of ``score``.

    Tests are listed in the order of the ``source`` notebook, including any whose cell the
    student deleted. Feedback is the test's failure message (the check's own explanation),
    never the test's code, so hidden tests stay hidden. ``flags`` are for the instructor
    (:func:`flags`); they never change points.
    """
    from nbgrader.api import Gradebook

    executed = nbformat.read(autograded, as_version=4)
    source_nb = nbformat.read(source, as_version=4)
    handed_in = {grade_id(cell): cell for cell in executed.cells}
    order = [grade_id(cell) for cell in source_nb.cells if is_grade(cell)]
    with Gradebook(gradebook_url) as gb:
        submission = gb.find_submission_notebook(autograded.stem, assignment, student)
        grades = {g.name: g for g in submission.grades}
        tests = []
        for test_id in order:
            grade = grades[test_id]
            cell = handed_in.get(test_id)
            tests.append({
                "grade_id": test_id,
                "score": float(grade.score),
                "max_score": float(grade.max_score),
                "feedback": message(cell, grade.score, grade.max_score),
            })
        return {
            "assignment": assignment,
            "notebook": autograded.stem,
            "score": float(submission.score),
            "max_score": float(submission.max_score),
            "tests": tests,
            "flags": [flag.as_dict() for flag in flags(executed, source_nb)],
            "isolation": isolation(executed),
        }


def flags(executed, source) -> list[Flag]:
    """What the instructor should look at in an autograded notebook: the screen of its code
    (``grader.screen``, against the assignment's ``source``) and what the grading kernel's guard
    put back before its tests. A reason to look, never a penalty: points do not depend on them."""
    return screen(executed, source) + guard_flags(executed)


def isolation(executed) -> str:
    """Whether the executed notebook's kernels ran inside the OS boundary: ``"bubblewrap"``, or
    the one line that says why not (``RobustExecute``'s record; an old record: unknown)."""
    return executed.metadata.get("mlp_course", {}).get(ISOLATION_LOG, "isolation unknown: not recorded")


def message(cell, score: float, max_score: float) -> str:
    """The course's feedback on one graded cell: "passed", or what went wrong (the check's own
    message, never test code). ``cell`` is None when the student deleted it."""
    return MISSING_CELL if cell is None else _feedback(cell, score, max_score)


def status(cell, score: float, max_score: float) -> str:
    """What became of one graded cell: passed, failed, timed out, or not run (its kernel died,
    or the notebook's time limit ran out first). ``cell`` is None when the student deleted it,
    which fails it."""
    if cell is None:
        return FAILED
    errors = {o.ename for o in cell.get("outputs", []) if o.output_type == "error"}
    if "CellTimeoutError" in errors:
        return TIMED_OUT
    if errors & {"KernelDied", "NotebookTimeoutError"}:  # RobustExecute's, see grader.nbgrader_ext.preprocessors
        return NOT_RUN
    return FAILED if errors or score < max_score else PASSED


def _feedback(cell, score: float, max_score: float) -> str:
    errors = [o for o in cell.get("outputs", []) if o.output_type == "error"]
    if not errors:
        return "passed" if score >= max_score else ""
    timed_out = [error for error in errors if error.ename == "CellTimeoutError"]
    if timed_out:   # the KeyboardInterrupt beside it is the grader's own interrupt
        return ": ".join(filter(None, [TIMEOUT_NOTE, timed_out[0].get("evalue")]))
    messages = []
    for error in errors:
        if error.ename == "NotebookTimeoutError":
            messages.append(error.evalue)
        elif error.ename == "NotImplementedError" and not error.evalue:  # the template's stub
            messages.append(NOT_ANSWERED)
        elif error.ename == "CheckFailure":  # the check's message is the whole story
            messages.append(error.evalue)
        else:
            messages.append(f"{error.ename}: {error.evalue}".rstrip(": "))
    return "\n".join(dict.fromkeys(messages))


def score(path: str | Path, assignment: str | None = None) -> dict:
    """Grade the notebook at ``path``; return the dict that ``score --json`` prints.

    Raises :class:`course.GradingError` when it cannot grade (no such file, not a
    notebook, unknown assignment); a submission that fails every test still returns.
    """
    with autograded(path, assignment) as (executed, cfg):
        assignment = executed.parent.name
        source = course.ROOT / "solutions" / assignment / executed.name
        return test_results(executed, source, cfg.CourseDirectory.db_url, assignment, course.STUDENT)


@contextlib.contextmanager
def autograded(path: str | Path, assignment: str | None = None, calibrated: bool = True, root: Path = course.ROOT):
    """Autograde the notebook at ``path`` in a scratch course that grades ``root``'s assignments;
    yield ``(the autograded notebook's path, the scratch course's configuration)``, which last
    until the block ends.

    ``calibrated=False``: every cell gets the flat cell timeout, none the limit calibrated on the
    solution (``grader.time_limits`` measures the solution so)."""
    path = Path(path).resolve()
    if not path.is_file():
        raise course.GradingError(f"no such notebook: {path}")
    try:
        nbformat.read(path, as_version=4)
    except Exception as exc:  # any unreadable file is the same problem for the user
        raise course.GradingError(f"{path} is not a readable Jupyter notebook: {exc}") from None
    assignment = assignment or course.assignment_of(path, root)
    if assignment not in course.assignments(root):
        raise course.GradingError(f"unknown assignment {assignment!r}; "
                                  f"the course has: {', '.join(course.assignments(root))}")
    names = course.notebook_names(assignment, root)
    notebook = path.stem if path.stem in names else names[0] if len(names) == 1 else None
    if notebook is None:
        raise course.GradingError(
            f"{path.name} is not one of {assignment}'s notebooks ({', '.join(names)})")

    with tempfile.TemporaryDirectory(prefix="grader-score-") as tmp:
        scratch = Path(tmp)
        cfg = course.scratch_config(scratch, Path(root) / "solutions")
        if not calibrated:
            cfg.RobustExecute.solution_seconds = {}
        nbgrader = course.api(cfg)
        course.run(nbgrader.generate_assignment(assignment), f"generate {assignment}")
        submitted = scratch / "submitted" / course.STUDENT / assignment
        submitted.mkdir(parents=True)
        shutil.copyfile(path, submitted / f"{notebook}.ipynb")
        course.run(nbgrader.autograde(assignment, course.STUDENT), f"autograde {path.name}")
        yield scratch / "autograded" / course.STUDENT / assignment / f"{notebook}.ipynb", cfg


def cell_seconds(cell) -> float:
    """The seconds a cell of an executed notebook ran, as nbclient recorded them (0: it did not run)."""
    timing = cell.get("metadata", {}).get("execution", {})
    start, end = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
    if not (start and end):
        return 0.0
    parse = lambda stamp: datetime.fromisoformat(stamp.replace("Z", "+00:00"))  # noqa: E731
    return (parse(end) - parse(start)).total_seconds()


def format_text(result: dict) -> str:
    """One line per graded cell: points, then feedback (indented when it runs on); then the
    instructor's flags, if any."""
    lines = [f"{result['assignment']}/{result['notebook']}.ipynb: "
             f"{_points(result['score'])} / {_points(result['max_score'])} points"]
    width = max((len(t["grade_id"]) for t in result["tests"]), default=0)
    for test in result["tests"]:
        feedback = test["feedback"].splitlines() or [""]
        points = f"{_points(test['score'])}/{_points(test['max_score'])}"
        lines.append(f"  {test['grade_id']:<{width}}  {points:>7}  {feedback[0]}")
        lines += [f"  {'':<{width}}  {'':>7}  {more}" for more in feedback[1:]]
    if result.get("isolation", ISOLATED) != ISOLATED:
        lines += ["", result["isolation"]]
    found = [Flag.from_dict(f) for f in result.get("flags", [])]
    if found:
        lines += ["", f"flags for the instructor ({counts(found)}; a reason to look, never a penalty):"]
        lines += [f"  {flag}" for flag in sorted(found, key=lambda f: f.level != REVIEW)]
    return "\n".join(lines)


def _points(x: float) -> str:
    return f"{x:g}"
