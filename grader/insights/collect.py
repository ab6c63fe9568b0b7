"""Read a graded class: for each hand-in of an assignment, its points, what became of each graded
part (passed, failed, timed out, not run) with the failure's message, its flags, and the code of
its answer cells.

Sources, all written by grading: the gradebook (nbgrader's ``Gradebook`` API: points, and
"No response." on an answer cell left as handed out), the autograded notebooks (the messages,
read as the feedback reads them: ``grader.score.message`` and ``status``), the hand-ins (their
code, screened by ``grader.screen``; their test cells, checked against nbgrader's checksums) and,
when there is one, ``grader/report.csv`` (grading time, hand-ins that could not be graded, flags).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from grader import course
from grader.batch import REPORT_CSV
from grader.cells import grade_id, is_solution, is_test
from grader.nbgrader_ext.preprocessors import COURSE_CHANGED, guard_flags
from grader.score import NOT_ANSWERED, NOT_RUN, message, status
from grader.screen import REVIEW, Flag, screen

GRADED, BLANK, UNGRADED = "graded", "blank", "not graded"   # what became of a hand-in
# How nbgrader marks an answer cell left exactly as handed out (SaveAutoGrades' comment).
NO_RESPONSE = "No response."
# How a check's failure message names the mistake it recognised (utils.checks.assertions._raise).
MISTAKE_PREFIX = "Likely mistake: "
# The report's statuses of a hand-in graded without trouble.
REPORT_OK = ("graded", "unchanged")
TEST_EDITED = ("this test cell was changed in the hand-in; nbgrader put the assignment's back "
               "before grading, so the change gained nothing")
TEST_MISSING = ("this test cell is missing from the hand-in (deleted, or its grade_id changed), "
                "so it scored 0")


@dataclass(frozen=True)
class Part:
    """One graded part (test cell) of the assignment."""

    grade_id: str
    notebook: str
    max_score: float


@dataclass(frozen=True)
class Outcome:
    """What became of one graded part in one hand-in."""

    part: str
    notebook: str
    score: float
    max_score: float
    status: str       # grader.score's: passed, failed, timed out, not run
    message: str      # the feedback's message ("passed", or what went wrong)

    @property
    def mistakes(self) -> list[str]:
        """The mistakes the checks named ("Likely mistake: ..."), in order."""
        return named_mistakes(self.message)


@dataclass(frozen=True)
class Answer:
    """The code of one answer cell of a hand-in."""

    notebook: str
    grade_id: str
    source: str


@dataclass(frozen=True)
class Found:
    """A flag of a hand-in, with the notebook it is in. ``origin``: ``"code"`` (the screen of
    the code), ``"grading"`` (what grading put back or found changed), ``"report"`` (only in
    the batch report's flags column)."""

    notebook: str | None
    flag: Flag
    origin: str


@dataclass
class HandIn:
    """One student's hand-in of the assignment."""

    student: str
    state: str                           # GRADED, BLANK or UNGRADED
    score: float | None = None
    max_score: float | None = None
    seconds: float | None = None         # grading time (report.csv), None when not known
    problem: str | None = None           # what went wrong, when something did
    outcomes: list[Outcome] = field(default_factory=list)
    flags: list[Found] = field(default_factory=list)
    answers: list[Answer] = field(default_factory=list)


@dataclass
class ClassResults:
    """Everything the report says about one assignment."""

    assignment: str
    max_score: float
    notebooks: list[str]
    parts: list[Part]
    hand_ins: list[HandIn]
    not_submitted: list[str]
    templates: dict[tuple[str, str], str]   # (notebook, grade_id) -> the release's answer cell


def named_mistakes(text: str) -> list[str]:
    """The sentences after "Likely mistake: " in a failure message."""
    return [line.strip()[len(MISTAKE_PREFIX):].strip() for line in text.splitlines()
            if line.strip().startswith(MISTAKE_PREFIX)]


def first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


# ----------------------------------------------------------------------------- the course's folders
@dataclass(frozen=True)
class _Folders:
    root: Path
    db_url: str
    source: Path
    release: Path
    submitted: Path
    autograded: Path

    @classmethod
    def of(cls, root: Path) -> _Folders:
        cfg = course.config(root).CourseDirectory
        return cls(root, cfg.db_url, *(root / d for d in (cfg.source_directory, cfg.release_directory,
                                                            cfg.submitted_directory, cfg.autograded_directory)))


def graded_assignments(root: Path = course.ROOT) -> list[str]:
    """The course's assignments with a hand-in graded (in the gradebook, or reported by the
    batch), in order. ``grader release`` makes the gradebook know every assignment; an
    assignment nobody's hand-in was graded for has nothing to report."""
    from nbgrader.api import Gradebook

    folders = _Folders.of(Path(root))
    if folders.db_url.startswith("sqlite:///") and not Path(folders.db_url[len("sqlite:///"):]).is_file():
        return []
    with Gradebook(folders.db_url) as gb:
        known = {a.name for a in gb.assignments}
        graded = {a for a in known if gb.assignment_submissions(a)}
    return [a for a in course.assignments(root) if a in graded or (a in known and read_report(Path(root), a))]


def collect(assignment: str, root: Path = course.ROOT) -> ClassResults:
    """The class's results for ``assignment`` (which the gradebook must know)."""
    from nbgrader.api import Gradebook

    root = Path(root)
    folders = _Folders.of(root)
    report = read_report(root, assignment)
    sources = {p.stem: nbformat.read(p, as_version=4) for p in sorted((folders.source / assignment).glob("*.ipynb"))}
    releases = {name: _read(folders.release / assignment / f"{name}.ipynb") for name in sources}
    templates = {(name, grade_id(c)): c.source for name, nb in releases.items() if nb is not None
                 for c in nb.cells if is_solution(c)}
    with Gradebook(folders.db_url) as gb:
        known = gb.find_assignment(assignment)
        maximum = float(known.max_score)
        limits = {(nb.name, cell.name): float(cell.max_score) for nb in known.notebooks for cell in nb.grade_cells}
        notebooks = [name for name in sources if any(nb == name for nb, _ in limits)]
        parts = [Part(grade_id(c), name, limits[(name, grade_id(c))]) for name in notebooks
                 for c in sources[name].cells if (name, grade_id(c)) in limits]
        students = {s.id for s in gb.students}
        hand_ins = {}
        for submission in gb.assignment_submissions(assignment):
            hand_in = _graded(submission, parts, folders, assignment)
            hand_ins[hand_in.student] = hand_in
    for student in sorted(set(report) | _submitters(folders, assignment)):
        if student not in hand_ins:
            row = report.get(student, {})
            hand_ins[student] = HandIn(student, UNGRADED, max_score=maximum, seconds=_seconds(row),
                                       problem=row.get("status") or "handed in, not graded yet")
    for hand_in in hand_ins.values():
        row = report.get(hand_in.student, {})
        if hand_in.seconds is None:
            hand_in.seconds = _seconds(row)
        if row.get("status") and row["status"] not in REPORT_OK and hand_in.state != UNGRADED:
            hand_in.problem = row["status"]
        submitted = _handed_in(folders, hand_in.student, assignment, sources)
        executed = {name: _read(folders.autograded / hand_in.student / assignment / f"{name}.ipynb") for name in sources}
        hand_in.flags = _flags(sources, submitted, executed, row)
        hand_in.answers = _answers(sources, submitted, executed)
    students |= set(report)
    return ClassResults(assignment, maximum, notebooks, parts, sorted(hand_ins.values(), key=lambda h: h.student),
                        sorted(students - set(hand_ins)), templates)


def read_report(root: Path, assignment: str) -> dict[str, dict[str, str]]:
    """``grader/report.csv``'s rows of ``assignment``, by student (empty when there is none)."""
    try:
        with open(Path(root) / REPORT_CSV, newline="") as f:
            return {r["student"]: r for r in csv.DictReader(f) if r.get("assignment") == assignment}
    except (OSError, KeyError, csv.Error):
        return {}


def _seconds(row: dict) -> float | None:
    try:
        return float(row["seconds"])
    except (KeyError, TypeError, ValueError):
        return None


def _submitters(folders: _Folders, assignment: str) -> set[str]:
    return {p.parent.name for p in folders.submitted.glob(f"*/{assignment}")
            if any(f.is_file() for f in p.rglob("*"))}


def _read(path: Path):
    try:
        return nbformat.read(path, as_version=4)
    except Exception:  # noqa: BLE001 -- a missing or unreadable notebook is simply not there
        return None


# ----------------------------------------------------------------------------- one graded hand-in
def _graded(submission, parts: list[Part], folders: _Folders, assignment: str) -> HandIn:
    student = submission.student_id
    grades = {(nb.name, g.name): g for nb in submission.notebooks for g in nb.grades}
    comments = [c.auto_comment for nb in submission.notebooks for c in nb.comments]
    blank = bool(comments) and all(c == NO_RESPONSE for c in comments)
    executed = {nb.name: _read(folders.autograded / student / assignment / f"{nb.name}.ipynb")
                for nb in submission.notebooks}
    outcomes = []
    for part in parts:
        grade = grades.get((part.notebook, part.grade_id))
        if grade is None:
            continue
        score, most = float(grade.score), float(grade.max_score)
        nb = executed.get(part.notebook)
        if nb is None:   # recorded in the gradebook, but the autograded copy is gone
            outcomes.append(Outcome(part.grade_id, part.notebook, score, most, NOT_RUN, "no autograded notebook"))
            continue
        cell = next((c for c in nb.cells if grade_id(c) == part.grade_id), None)
        outcomes.append(Outcome(part.grade_id, part.notebook, score, most,
                                status(cell, score, most), message(cell, score, most)))
    return HandIn(student, BLANK if blank else GRADED, float(submission.score), float(submission.max_score),
                  outcomes=outcomes)


def is_unanswered(outcome: Outcome) -> bool:
    """Whether the part failed only because code it needs was left as handed out."""
    return outcome.message == NOT_ANSWERED


# ----------------------------------------------------------------------------- flags and code
def _handed_in(folders: _Folders, student: str, assignment: str, sources: dict) -> dict[str, object]:
    """The hand-in's readable notebooks, by the assignment's notebook each one stands for."""
    found = {}
    for path in sorted((folders.submitted / student / assignment).glob("*.ipynb")):
        nb = _read(path)
        name = path.stem if path.stem in sources else next(iter(sources)) if len(sources) == 1 else None
        if nb is not None and name is not None and name not in found:
            found[name] = nb
    return found


def _flags(sources: dict, submitted: dict, executed: dict, row: dict) -> list[Found]:
    """The screen of the code as handed in (the autograded copy when the hand-in is unreadable),
    what the grading kernel's guard put back, test cells changed or missing, and what the batch
    report (``row``) says beyond that."""
    found: list[Found] = []
    for name, source in sources.items():
        code = submitted.get(name) or executed.get(name)
        if code is not None:
            found += [Found(name, flag, "code") for flag in screen(code, source)]
        if executed.get(name) is not None:
            found += [Found(name, flag, "grading") for flag in guard_flags(executed[name])]
        if name in submitted:
            found += [Found(name, flag, "grading") for flag in test_changes(submitted[name], source)]
    status_text = row.get("status") or ""
    if COURSE_CHANGED in status_text:
        found.append(Found(None, Flag(REVIEW, None, None, None, status_text), "grading"))
    shown = {str(f.flag) for f in found}
    for text in filter(None, (row.get("flags") or "").splitlines()):
        flag = parse_flag(text)
        if flag is not None and str(flag) not in shown:
            shown.add(str(flag))
            found.append(Found(None, flag, "report"))
    return found


def test_changes(handed_in, source) -> list[Flag]:
    """Review flags for the test cells that the hand-in changed or lost.

    A test cell is changed when its checksum is not the one the release gave it (nbgrader's own
    record, in the cell's metadata; a later fix of the release makes no hand-in look changed);
    it is lost when a test of the assignment's ``source`` has no cell in the hand-in.
    """
    from nbgrader.utils import compute_checksum

    cells = {grade_id(c): (i, c) for i, c in enumerate(handed_in.cells) if grade_id(c)}
    flags = []
    for test in (c for c in source.cells if is_test(c)):
        gid = grade_id(test)
        if gid not in cells:
            flags.append(Flag(REVIEW, None, gid, None, TEST_MISSING))
            continue
        index, cell = cells[gid]
        if cell.metadata.get("nbgrader", {}).get("checksum") != compute_checksum(cell):
            flags.append(Flag(REVIEW, index, gid, None, TEST_EDITED))
    return flags


_FLAG_LINE = re.compile(r"^(?P<level>\w+): (?:notebook|cell (?P<cell>\d+))(?: \((?P<gid>[^)]*)\))?"
                        r"(?:, line (?P<line>\d+))?: (?P<reason>.*)$", re.S)


def parse_flag(text: str) -> Flag | None:
    """A flag back from its line in the report (``str(flag)``): ``review: cell 5 (step), line 2: ...``."""
    match = _FLAG_LINE.match(text.strip())
    if not match:
        return None
    number = lambda key: int(match[key]) if match[key] else None  # noqa: E731
    return Flag(match["level"], number("cell"), match["gid"], number("line"), match["reason"])


def _answers(sources: dict, submitted: dict, executed: dict) -> list[Answer]:
    """The hand-in's answer cells (as handed in; the autograded copy when the hand-in is unreadable)."""
    answers = []
    for name in sources:
        nb = submitted.get(name) or executed.get(name)
        if nb is not None:
            answers += [Answer(name, grade_id(c), c.source) for c in nb.cells
                        if is_solution(c) and c.cell_type == "code" and grade_id(c)]
    return answers
