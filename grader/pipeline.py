"""The instructor's batch jobs over the course itself: release, autograde, feedback, grades.

Each is a loop over nbgrader's API with a progress bar. One submission that nbgrader cannot
grade is reported and skipped; it never stops the batch.
"""

from __future__ import annotations

import csv
import functools
import shutil
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

from tqdm import tqdm

from grader import batch, course

GRADES_CSV = Path("grader", "grades.csv")  # under the course root


def release(target: Path | None = None, assignments: list[str] | None = None) -> list[Path]:
    """Regenerate the release notebooks from ``solutions/`` (``notebooks/`` unless ``target``).

    With a ``target``, nbgrader works in a scratch gradebook there, so checking the release
    (as the test suite does) leaves the course untouched.
    """
    if target is None:
        cfg = course.config()
    else:
        target = Path(target).resolve()
        cfg = course.config(target, source_directory=str(course.ROOT / "solutions"),
                            release_directory=str(target / "notebooks"),
                            db_url=f"sqlite:///{target / 'gradebook.db'}")
    nbgrader = course.api(cfg)
    written = []
    for assignment in assignments or course.assignments():
        course.run(nbgrader.generate_assignment(assignment), f"generate {assignment}")
        out = Path(cfg.CourseDirectory.root) / cfg.CourseDirectory.release_directory / assignment
        written += sorted(out.glob("*.ipynb"))
    return written


def autograde(student: str | None = None, assignment: str | None = None,
              root: Path = course.ROOT, jobs: int | None = None, scheduler: str | None = None,
              force: bool = False) -> list[str]:
    """Autograde every submission (or one student's / one assignment's) in parallel, as
    :func:`grader.batch.autograde` does, then write the insights report; return the problems,
    one line per submission."""
    from grader.insights import report as insights

    rows = batch.autograde(root=root, jobs=jobs, scheduler=scheduler, student=student,
                           assignment=assignment, force=force)
    insights.write(root)   # the instructor's report on the class (grader/reports/insights/)
    return [f"{r.student}/{r.assignment}: {r.status}" for r in rows if r.status not in ("graded", "unchanged")]


def feedback(student: str | None = None, assignment: str | None = None,
             root: Path = course.ROOT, jobs: int = 1) -> list[str]:
    """HTML feedback under ``grader/feedback/`` for every autograded submission; return the
    problems, one line per submission.

    ``jobs`` submissions at once, each in a worker process: nbgrader makes a page in 1-1.5 s of
    one core (a class of 300 with four notebooks: half an hour on one core). Making a page only
    reads the gradebook and writes the student's own folder of ``grader/feedback/``.
    """
    autograded = Path(root) / "grader" / "autograded"
    todo = [(a, s) for a, s in course.submissions(root)
            if (autograded / s / a).is_dir() and student in (None, s) and assignment in (None, a)]
    jobs = max(1, min(jobs, len(todo)))
    progress = functools.partial(tqdm, total=len(todo), desc=f"feedback ({jobs} jobs)", unit="notebook")
    if jobs == 1:
        nbgrader = _course_api(root)
        return [problem for problem in progress(_feedback_page(nbgrader, t) for t in todo) if problem]
    with ProcessPoolExecutor(jobs, mp_context=get_context("spawn"), initializer=_start_feedback_worker,
                             initargs=(str(root),)) as pool:
        return [problem for problem in progress(pool.map(_feedback_in_worker, todo)) if problem]


def _feedback_page(nbgrader, todo: tuple[str, str]) -> str | None:
    """nbgrader's feedback page of one submission (``(assignment, student)``); what went wrong, if anything."""
    a, s = todo
    try:
        result = nbgrader.generate_feedback(a, s)
    except Exception as exc:  # noqa: BLE001 -- one page that cannot be made never stops the others
        return f"{s}/{a}: {type(exc).__name__}: {exc}"
    return None if result.get("success") else f"{s}/{a}: {(result.get('error') or '').strip()}"


def _course_api(root):
    return course.api(course.config(Path(root)))


_worker_api = None   # a feedback worker's nbgrader API, made when the worker starts


def _start_feedback_worker(root: str) -> None:
    global _worker_api
    _worker_api = _course_api(root)


def _feedback_in_worker(todo: tuple[str, str]) -> str | None:
    return _feedback_page(_worker_api, todo)


def grades(root: Path = course.ROOT) -> tuple[list[str], list[list]]:
    """Every student's points per assignment from the gradebook; also written as CSV."""
    from nbgrader.api import Gradebook, MissingEntry

    cfg = course.config(root)
    ids = course.assignments(root)
    with Gradebook(cfg.CourseDirectory.db_url) as gb:
        known = {a.name for a in gb.assignments}
        header = ["student"] + [a for a in ids if a in known] + ["total", "max"]
        rows = []
        for student in sorted(s.id for s in gb.students):
            row, total, maximum = [student], 0.0, 0.0
            for a in header[1:-2]:
                maximum += gb.find_assignment(a).max_score
                try:
                    points = gb.find_submission(a, student).score
                    row.append(points)
                    total += points
                except MissingEntry:
                    row.append(None)  # not handed in
            rows.append(row + [total, maximum])
    with open(root / GRADES_CSV, "w", newline="") as f:
        csv.writer(f).writerows([header] + [["" if v is None else v for v in r] for r in rows])
    return header, rows


def format_table(header: list[str], rows: list[list]) -> str:
    cells = [header] + [["-" if v is None else f"{v:g}" if isinstance(v, float) else str(v)
                         for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in
                       enumerate(zip(r, widths))) for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def clean(root: Path = course.ROOT) -> None:
    """Remove what grading made (autograded copies, feedback, reports, gradebook, CSVs)."""
    for name in ("autograded", "feedback", "reports"):
        shutil.rmtree(root / "grader" / name, ignore_errors=True)
    for path in (root / "grader" / "gradebook.db", root / GRADES_CSV, root / batch.REPORT_CSV):
        path.unlink(missing_ok=True)
