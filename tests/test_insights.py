"""grader.insights: the instructor's report on what the class got wrong.

Fast tests build a graded class without a kernel: a small course (``01_fake``) whose gradebook
is made with nbgrader's ``Gradebook`` API and whose autograded notebooks carry the checks'
failure messages as outputs. Similarity is tested on the student code written independently of
the course (``tests/corpora/independent/``) with planted renamed copies. One slow test grades a
generated class of ``01_perceptron`` (bugs with known counts, correct alternatives, renamed
copies, a hostile hand-in) through ``grader.batch`` and reads the report back.
"""

from __future__ import annotations

import base64
import csv
import html
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
from nbgrader.utils import compute_checksum

from grader import course
from grader.cells import grade_id, is_solution
from grader.insights import collect, report, similar, tally
from grader.insights.collect import BLANK, GRADED, UNGRADED, Answer, ClassResults, HandIn
from grader.nbgrader_ext.preprocessors import COURSE_CHANGED
from grader.proving.variants import Variant, make_submission
from grader.score import FAILED, MISSING_CELL, NOT_ANSWERED, NOT_RUN, PASSED, TIMED_OUT
from grader.screen import REVIEW, Flag

ROOT = course.ROOT

# ----------------------------------------------------------------------------- a fake graded class
FAKE, NB = "01_fake", "fake"
PARTS = {"test_step": 2.0, "test_area": 1.0, "test_scale": 1.0}
TEMPLATE = "def {name}(x):\n    # YOUR CODE HERE\n    raise NotImplementedError()\n"
RIGHT = {"step": "def step(x):\n    return (x > 0).astype(int)\n",
         "area": "def area(x):\n    width, height = x\n    return width * height\n",
         "scale": "def scale(x):\n    return 2 * x\n"}
MISTAKE_A = "step(0) must be 0: use z > 0, not z >= 0."
MISTAKE_B = "width and height are swapped"
MISTAKE_C = "step returns booleans, not integers"
UNNAMED = "scale(x) for x = 3: expected 6, got 5"
HOSTILE_STEP = "import sys\nsys.modules['numpy'] = None\ndef step(x):\n    return (x > 0).astype(int)\n"


def _check(part: str, detail: str, mistake: str | None = None):
    evalue = f"{part.removeprefix('test_')}(x) for x = [-1, 0, 2]: {detail}"
    if mistake:
        evalue += f"\nLikely mistake: {mistake}"
    return _error("CheckFailure", evalue)


def _error(ename: str, evalue: str):
    return new_output("error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


PASS = (None, [])
STUB = (0.0, [_error("NotImplementedError", "")])
# student: (answers, {part: (points or None for full, outputs)}); fay hands in the template.
CLASS = {
    "ann": ({}, {}),
    "ben": ({"step": "def step(x):\n    return np.where(x >= 0, 1, 0)\n"},
            {"test_step": (0.0, [_check("test_step", "expected [0, 0, 1], got [0, 1, 1]", MISTAKE_A)]),
             "test_scale": (0.0, [_error("CheckFailure", UNNAMED)])}),
    "cat": ({"step": "def step(x):\n    return np.where(x >= 0, 1, 0)\n"},
            {"test_step": (0.0, [_check("test_step", "expected [0, 0, 1], got [0, 1, 1]", MISTAKE_A)]),
             "test_area": (0.0, [_check("test_area", "expected 6, got 6.5", MISTAKE_B)])}),
    "dan": ({"step": "def step(x):\n    return (x >= 0) * 1\n"},
            {"test_step": (0.0, [_check("test_step", "expected [0, 0, 1], got [0, 1, 1]", MISTAKE_A)]),
             "test_area": (0.0, [_check("test_area", "expected 6, got 6.5", MISTAKE_B)]),
             "test_scale": (0.0, [_error("CellTimeoutError", "the cell ran too long")])}),
    "eve": ({"step": HOSTILE_STEP, "scale": TEMPLATE.format(name="scale")},
            {"test_step": (0.0, [_check("test_step", "expected [0, 0, 1], got [False, False, True]", MISTAKE_C)]),
             "test_area": (0.0, [_error("KernelDied", "the Python kernel died")]),
             "test_scale": STUB}),
    "fay": ({name: TEMPLATE.format(name=name) for name in RIGHT}, {part: STUB for part in PARTS}),
}
NOT_GRADED = {"gus": "fake.ipynb is not a readable notebook (JSONDecodeError: ...)"}
NOT_SUBMITTED = ["hal"]
SECONDS = {"ann": 10, "ben": 20, "cat": 30, "dan": 40, "eve": 50, "fay": 5}
FROM_REPORT_ONLY = "review: cell 2 (step), line 1: something only the batch report knew"


def _cell(source: str, markdown: bool = False, **nbgrader):
    cell = new_markdown_cell(source) if markdown else new_code_cell(source)
    if nbgrader:
        cell.metadata["nbgrader"] = {"schema_version": 3, "grade": False, "solution": False,
                                     "locked": False, **nbgrader}
    return cell


def _fake_notebook(answers: dict[str, str], outputs: dict | None = None, drop: tuple = (), edit: tuple = ()):
    cells = [_cell("# A fake assignment", markdown=True), _cell("import numpy as np", grade_id="setup", locked=True)]
    for name, part in zip(RIGHT, PARTS):
        cells.append(_cell(answers.get(name, RIGHT[name]), grade_id=name, solution=True))
        if part not in drop:
            test = _cell(f"expect_right({name})", grade_id=part, grade=True, locked=True, points=PARTS[part])
            test.metadata.nbgrader["checksum"] = compute_checksum(test)   # as nbgrader's release does
            if part in edit:
                test.source += "\npass"
            test.outputs = (outputs or {}).get(part, [])
            cells.append(test)
    return new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}})


def _write(path: Path, nb) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)


def make_fake_course(root: Path) -> Path:
    """The fake class of ``CLASS`` graded: gradebook, autograded and handed-in notebooks, report.csv."""
    from nbgrader.api import Gradebook

    _write(root / "solutions" / FAKE / f"{NB}.ipynb", _fake_notebook(RIGHT))
    _write(root / "notebooks" / FAKE / f"{NB}.ipynb", _fake_notebook({n: TEMPLATE.format(name=n) for n in RIGHT}))
    gradebook = root / "grader" / "gradebook.db"
    gradebook.parent.mkdir(parents=True, exist_ok=True)
    course.stamp_gradebook(gradebook)
    rows = []
    with Gradebook(f"sqlite:///{gradebook}") as gb:
        gb.add_assignment(FAKE)
        gb.add_notebook(NB, FAKE)
        for part, points in PARTS.items():
            gb.add_grade_cell(part, NB, FAKE, max_score=points, cell_type="code")
        for name in RIGHT:
            gb.add_solution_cell(name, NB, FAKE)
        for student in [*CLASS, *NOT_SUBMITTED]:
            gb.add_student(student)
        for student, (answers, results) in CLASS.items():
            gb.add_submission(FAKE, student)
            for part, points in PARTS.items():
                score, _ = results.get(part, PASS)
                gb.find_grade(part, NB, FAKE, student).auto_score = points if score is None else score
            for name in RIGHT:
                unchanged = answers.get(name, RIGHT[name]) == TEMPLATE.format(name=name)
                gb.find_comment(name, NB, FAKE, student).auto_comment = "No response." if unchanged else None
            gb.db.commit()
            handed_in = _fake_notebook(answers, drop=("test_scale",) if student == "cat" else (),
                                       edit=("test_area",) if student == "ben" else ())
            _write(root / "grader" / "submitted" / student / FAKE / f"{NB}.ipynb", handed_in)
            graded = _fake_notebook(answers, {p: r[1] for p, r in results.items()},
                                    drop=("test_scale",) if student == "cat" else ())
            _write(root / "grader" / "autograded" / student / FAKE / f"{NB}.ipynb", graded)
            status = f"{COURSE_CHANGED}: utils/checks/assertions.py" if student == "dan" else "graded"
            rows.append([student, FAKE, "", "", SECONDS[student], status, FROM_REPORT_ONLY if student == "ann" else ""])
    for student, problem in NOT_GRADED.items():
        (root / "grader" / "submitted" / student / FAKE).mkdir(parents=True)
        (root / "grader" / "submitted" / student / FAKE / f"{NB}.ipynb").write_text("{not json")
        rows.append([student, FAKE, "", "4", "", problem, ""])
    with open(root / "grader" / "report.csv", "w", newline="") as f:
        csv.writer(f).writerows([["student", "assignment", "points", "max_points", "seconds", "status", "flags"], *rows])
    return root


@pytest.fixture(scope="module")
def fake(tmp_path_factory):
    return make_fake_course(tmp_path_factory.mktemp("insights") / "course")


@pytest.fixture(scope="module")
def summary(fake):
    results = collect.collect(FAKE, fake)
    return tally.summarise(results, similar.compare(results))


# ----------------------------------------------------------------------------- reading the class
def test_named_mistakes_are_read_from_the_failure_message():
    message = "accuracy(y_pred, y): expected 0.5, got 5\nLikely mistake: a count, not a fraction.\nmore"
    assert collect.named_mistakes(message) == ["a count, not a fraction."]
    assert collect.named_mistakes("expected 1, got 2") == []
    assert collect.first_line("\n  first\nsecond") == "first"


def test_each_hand_in_is_graded_blank_not_graded_or_not_submitted(fake):
    assert collect.graded_assignments(fake) == [FAKE]
    results = collect.collect(FAKE, fake)
    states = {h.student: h.state for h in results.hand_ins}
    assert states == {"ann": GRADED, "ben": GRADED, "cat": GRADED, "dan": GRADED, "eve": GRADED,
                      "fay": BLANK, "gus": UNGRADED}
    assert results.not_submitted == NOT_SUBMITTED
    by = {h.student: h for h in results.hand_ins}
    assert by["gus"].problem == NOT_GRADED["gus"]
    assert (by["ann"].score, by["ann"].max_score, by["ann"].seconds) == (4.0, 4.0, 10.0)
    assert [p.grade_id for p in results.parts] == list(PARTS)
    assert results.templates[(NB, "step")] == TEMPLATE.format(name="step")


def test_each_part_is_passed_failed_timed_out_or_not_run_with_the_feedback_message(fake):
    by = {h.student: {o.part: o for o in h.outcomes} for h in collect.collect(FAKE, fake).hand_ins}
    assert {p: o.status for p, o in by["ann"].items()} == {p: PASSED for p in PARTS}
    assert by["ben"]["test_step"].mistakes == [MISTAKE_A]
    assert by["dan"]["test_scale"].status == TIMED_OUT
    assert by["eve"]["test_area"].status == NOT_RUN
    assert by["eve"]["test_scale"].message == NOT_ANSWERED
    assert (by["cat"]["test_scale"].status, by["cat"]["test_scale"].message) == (FAILED, MISSING_CELL)


def test_mistakes_are_ranked_by_how_many_students_made_them_with_their_names(summary):
    step, area, scale = summary.parts
    assert [(m.text, m.kind, m.students) for m in step.mistakes] == [
        (MISTAKE_A, tally.NAMED, ["ben", "cat", "dan"]), (MISTAKE_C, tally.NAMED, ["eve"])]
    assert [(m.text, m.students) for m in area.mistakes] == [(MISTAKE_B, ["cat", "dan"])]
    # Named first, then a message naming no mistake (by its first line), then code left unanswered.
    assert [(m.kind, m.students) for m in scale.mistakes] == [
        (tally.UNNAMED, ["ben"]), (tally.UNNAMED, ["cat"]), (tally.UNANSWERED, ["eve"])]
    assert [(m.text, m.count, m.parts) for m in summary.mistakes] == [
        (MISTAKE_A, 3, ["test_step"]), (MISTAKE_B, 2, ["test_area"]), (MISTAKE_C, 1, ["test_step"])]


def test_parts_never_reached_are_counted_apart_from_failed(summary):
    counts = {p.part.grade_id: (p.answered, p.passed, p.failed, p.timed_out, p.not_run) for p in summary.parts}
    assert counts == {"test_step": (5, 1, 4, 0, 0), "test_area": (5, 2, 2, 0, 1), "test_scale": (5, 1, 3, 1, 0)}
    area = summary.parts[1]
    assert (area.pass_rate, area.never_reached, area.mean_points) == (0.4, 1, 0.4)


def test_the_class_counts_scores_and_grading_time(summary):
    assert summary.counts == {"graded": 5, "blank": 1, "not_graded": 1, "not_submitted": 1}
    assert sorted(summary.scores) == [0.0, 0.0, 0.0, 1.0, 1.0, 4.0]   # fay's blank counts, gus's does not
    assert summary.median_seconds == 25.0
    assert sum(n for _, _, n in summary.bins) == 6
    assert summary.bins[-1] == (4.0, 5.0, 1)   # full marks in a bin of their own


def test_parts_that_nobody_or_everybody_passes_are_pointed_out():
    def part(passed, answered):
        return tally.PartStats(collect.Part("t", "nb", 1.0), answered, passed, answered - passed, 0, 0, None, [])

    assert [part(p, 20).remark for p in (0, 1, 2, 10, 18, 19, 20)] == [
        "nobody passes", "almost nobody passes", "almost nobody passes", None,
        "almost everybody passes", "almost everybody passes", "everybody passes"]
    assert part(1, 1).remark is None   # one hand-in says nothing about the class


def test_histogram_bins():
    assert tally.histogram([0, 3, 3, 12], 12)[3] == (3.0, 4.0, 2)
    assert len(tally.histogram([0, 3, 3, 12], 12)) == 13
    assert len(tally.histogram([0.5, 37.5], 40)) == tally.MAX_BINS
    assert tally.histogram([], 2) == [(0.0, 1.0, 0), (1.0, 2.0, 0), (2.0, 3.0, 0)]


# ----------------------------------------------------------------------------- flags
def test_review_flags_say_where_and_why(summary):
    flags = {}
    for student, found in summary.flags():
        flags.setdefault(student, []).append(found)
    eve = [f for f in flags["eve"] if f.origin == "code"]
    assert eve and all(f.flag.grade_id == "step" and f.notebook == NB for f in eve)
    assert any(f.flag.line == 2 and "sys.modules" in f.flag.reason for f in eve), [str(f.flag) for f in eve]
    assert [(f.flag.grade_id, f.flag.reason) for f in flags["ben"]] == [("test_area", collect.TEST_EDITED)]
    assert [(f.flag.grade_id, f.flag.reason) for f in flags["cat"]] == [("test_scale", collect.TEST_MISSING)]
    assert [f.origin for f in flags["dan"]] == ["grading"] and COURSE_CHANGED in flags["dan"][0].flag.reason
    assert [(f.origin, str(f.flag)) for f in flags["ann"]] == [("report", FROM_REPORT_ONLY)]
    assert "fay" not in flags, "the template's own code is never flagged"


def test_a_flag_reads_back_from_its_line_in_the_report():
    for flag in (Flag(REVIEW, 15, "accuracy", 3, "imports ctypes: it reaches: native memory"),
                 Flag("note", None, None, None, "the notebook: odd"), Flag(REVIEW, 4, None, None, "x")):
        assert collect.parse_flag(str(flag)) == flag
    assert collect.parse_flag("not a flag") is None


# ----------------------------------------------------------------------------- similar hand-ins
def _course_hand_in(student: str, assignment: str, functions: dict[str, str]) -> HandIn:
    """A hand-in of ``assignment`` with ``functions`` in its answer cells (nothing graded)."""
    release, solution = _notebooks(assignment)
    nb = make_submission(release, solution, [Variant(name, source, student) for name, source in functions.items()])
    return HandIn(student, GRADED, answers=[Answer("nb", grade_id(c), c.source)
                                            for c in nb.cells if is_solution(c) and c.cell_type == "code"])


def _notebooks(assignment: str):
    name = f"{course.notebook_names(assignment)[0]}.ipynb"
    return (nbformat.read(ROOT / "notebooks" / assignment / name, as_version=4),
            nbformat.read(ROOT / "solutions" / assignment / name, as_version=4))


def _templates(assignment: str) -> dict:
    release, _ = _notebooks(assignment)
    return {("nb", grade_id(c)): c.source for c in release.cells if is_solution(c)}


def renamed(source: str, names: dict[str, str]) -> str:
    """``source`` with the variables ``names`` renamed (not attributes) and a comment added: a copy."""
    for old, new in names.items():
        source = re.sub(rf"(?<![.\w]){old}\b", new, source)
    return "# my own version\n" + source.strip("\n") + "\n"


RENAMES = {"X": "inputs", "y": "labels", "params": "weights", "lr": "step_size", "model": "net",
           "optimizer": "opt", "loss": "cost", "history": "record"}


@pytest.mark.parametrize("corpus", ["torch_scratch", "torch_nn"])
def test_planted_copies_are_found_and_no_pair_of_independent_solutions(corpus):
    """On student code written independently of the course (the corpora's correct entries that
    are not made from another entry), plus two renamed copies: the copies are the pairs found."""
    import importlib

    module = importlib.import_module(f"tests.corpora.independent.{corpus}")
    independent = [e for e in module.ENTRIES if e["kind"] == "correct"
                   and not re.match(r"[a-z]\d\d with\b", e["description"])]
    assert len(independent) >= 8
    hand_ins = [_course_hand_in(e["name"], module.ASSIGNMENT, e["functions"]) for e in independent]
    planted = set()
    for original in (independent[1], independent[-2]):
        copy = f"copy_of_{original['name']}"
        functions = {name: renamed(source, RENAMES) for name, source in original["functions"].items()}
        hand_ins.append(_course_hand_in(copy, module.ASSIGNMENT, functions))
        planted.add((original["name"], copy))
    results = ClassResults(module.ASSIGNMENT, 1.0, ["nb"], [], hand_ins, [], _templates(module.ASSIGNMENT))
    comparison = similar.compare(results)
    assert {p.students for p in comparison.flagged} == planted, \
        [(p.students, p.shared) for p in sorted(comparison.pairs, key=lambda p: -p.shared)[:6]]
    pair = comparison.flagged[0]
    assert pair.cells and all("<mark>" in c.left and "<mark>" in c.right for c in pair.cells)
    assert pair.similarity[0] > 0.9 and pair.similarity[1] > 0.9


def test_a_class_handing_in_the_same_code_or_the_template_flags_nobody():
    solution = ClassResults("a", 1.0, ["nb"], [], [
        HandIn(s, GRADED, answers=[Answer("nb", "f", "def f(x):\n    total = 0\n    for v in x:\n"
                                                     "        total += v * v\n    return total ** 0.5\n")])
        for s in "abcdef"], [], {("nb", "f"): TEMPLATE.format(name="f")})
    assert similar.compare(solution).flagged == []
    blank = ClassResults("a", 1.0, ["nb"], [], [
        HandIn(s, BLANK, answers=[Answer("nb", "f", TEMPLATE.format(name="f"))]) for s in "abc"],
        [], {("nb", "f"): TEMPLATE.format(name="f")})
    assert similar.compare(blank).hand_ins == 0


def test_code_side_by_side_is_escaped_html():
    code = ("def f(x):\n    kept = [v for v in x if v < 3 and v > -3 and v != 0 and '<b>' not in str(v)]\n"
            "    if len(kept) < 2:\n        return sorted(kept, key=abs)\n    total = sum(v * v for v in kept)\n"
            "    scale = max(abs(v) for v in kept) or 1\n    return [round(v / scale, 3) for v in kept if v * v < total]\n"
            "\ndef g(rows):\n    out = {}\n    for key, *values in rows:\n        out.setdefault(key, []).extend(values)\n"
            "    return {k: f(v) for k, v in out.items() if k not in ('<i>', '')}\n")
    hand_ins = [HandIn(s, GRADED, answers=[Answer("nb", "f", code)]) for s in "ab"] + [
        HandIn(s, GRADED, answers=[Answer("nb", "f", f"def f(x):\n    return sorted(x)[:3] + [{s!r}] * len(x)\n")])
        for s in "cdefg"]
    comparison = similar.compare(ClassResults("a", 1.0, ["nb"], [], hand_ins, [], {}))
    [pair] = comparison.flagged
    assert pair.students == ("a", "b") and "&lt;b&gt;" in pair.cells[0].left and "<b>" not in pair.cells[0].left


# ----------------------------------------------------------------------------- the report
class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def _tags(page: Path) -> list[tuple[str, dict]]:
    parser = _Tags()
    parser.feed(page.read_text())
    return parser.tags


def assert_self_contained(page: Path) -> None:
    """No script, nothing fetched from anywhere: every image inline, every link a file beside it."""
    tags = _tags(page)
    assert not [t for t, _ in tags if t in ("script", "iframe", "object", "embed", "link")], page
    for tag, attrs in tags:
        if "src" in attrs:
            assert attrs["src"].startswith("data:image/png;base64,"), (page, attrs["src"][:60])
            assert base64.b64decode(attrs["src"].split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
        href = attrs.get("href", "")
        assert "://" not in href and not href.startswith("//"), (page, href)
        if href and not href.startswith("#"):
            assert (page.parent / href).is_file(), (page, href)


def test_the_report_is_one_self_contained_page_per_assignment_with_its_data(fake, tmp_path):
    out = tmp_path / "insights"
    [summary] = report.write(fake, out=out)
    page, index = out / f"{FAKE}.html", out / "index.html"
    for html_page in (page, index):
        assert_self_contained(html_page)
    images = [a for t, a in _tags(page) if t == "img"]
    assert len(images) == 3   # score histogram, parts, mistakes
    data = json.loads((out / FAKE / "insights.json").read_text())
    assert data["counts"] == {"graded": 5, "blank": 1, "not_graded": 1, "not_submitted": 1}
    assert [(p["grade_id"], p["passed"], p["failed"], p["timed_out"], p["not_run"]) for p in data["parts"]] == [
        ("test_step", 1, 4, 0, 0), ("test_area", 2, 2, 0, 1), ("test_scale", 1, 3, 1, 0)]
    with open(out / FAKE / "mistakes.csv") as f:
        first = next(csv.DictReader(f))
    assert (first["grade_id"], first["mistake"], first["students"]) == ("test_step", MISTAKE_A, "ben cat dan")
    with open(out / "index.csv") as f:
        [row] = list(csv.DictReader(f))
    assert (row["assignment"], row["graded"], row["top_mistake"], row["top_mistake_students"]) == (FAKE, "5", MISTAKE_A, "3")
    text = page.read_text()
    assert "ben, cat, dan" in text and html.escape(MISTAKE_A) in text
    for name in ("histogram.png", "parts.png", "mistakes.png", "scores.csv", "flags.csv", "similar.csv"):
        assert (out / FAKE / name).stat().st_size > 0

    printed = report.summary_text([summary], out)
    assert f"3 students: {MISTAKE_A} (test_step)" in printed
    assert "eve: review: cell 2 (step), line 2" in printed
    assert printed.splitlines()[-1] == f"insights: {index}"


def test_reporting_one_assignment_keeps_the_others_in_the_index(fake, tmp_path):
    out = tmp_path / "insights"
    (out / "00_other").mkdir(parents=True)
    (out / "00_other" / "insights.json").write_text(json.dumps(
        {"assignment": "00_other", "max_score": 1, "counts": {"graded": 1, "blank": 0, "not_graded": 0, "not_submitted": 0},
         "mean_score": 1, "median_seconds_per_notebook": None, "mistakes": [], "review_flags": [],
         "similar": {"pairs": []}, "hand_ins": [{"score": 1}]}))
    report.write(fake, assignment=FAKE, out=out)
    report.write_index(out, ["00_other", FAKE])
    assert [a["data-assignment"] for t, a in _tags(out / "index.html") if t == "tr" and "data-assignment" in a] == [
        "00_other", FAKE]


def test_the_command_line_says_when_an_assignment_was_never_graded(capsys):
    from grader.cli import main

    assert main(["insights", "--assignment", "no_such_assignment"]) == 2
    assert "has not been graded" in capsys.readouterr().err


# ----------------------------------------------------------------------------- a class graded for real
def _generated_class() -> tuple[dict[str, list[Variant]], set[tuple[str, str]]]:
    """``{student: variants}`` for 01_perceptron: bugs with known counts, correct alternatives,
    two renamed copies, the solution; and the planted copy pairs."""
    from grader.proving.cases import perceptron

    by = {v.description: v for v in perceptron.VARIANTS}

    def copy(variant, names):
        return Variant(variant.target, renamed(variant.source, names), variant.description, variant.fails, variant.hint)

    hand_ins: dict[str, list[Variant]] = {}
    for description, count in (("update has the sign flipped", 3), ("update forgets the bias", 2),
                               ("update ignores lr", 1), ("accuracy returns a count", 2)):
        for i in range(count):
            hand_ins[f"bug_{'_'.join(description.split()[-2:])}_{i}"] = [by[description]]
    for i, description in enumerate(("float step via astype", "np.heaviside",
                                     "zero init, in-place updates, early return when right", "count_nonzero / size")):
        hand_ins[f"correct_{i}"] = [by[description]]
    hand_ins["solution"] = []
    hand_ins["copied_a"] = [by["looped step"], by["while loop, rule applied inline, array history"]]
    hand_ins["copier_a"] = [copy(hand_ins["copied_a"][0], {"z": "values", "out": "result", "index": "pos"}),
                            copy(hand_ins["copied_a"][1], {"order": "perm", "history": "record", "wrong": "n_wrong"})]
    hand_ins["copied_b"] = [by["atleast_2d predict, float errors"], by["shuffle ignores shuffle_seed"],
                            by["accuracy in percent"]]
    hand_ins["copier_b"] = [copy(hand_ins["copied_b"][0], {"labels": "out", "error": "delta"}),
                            copy(hand_ins["copied_b"][1], {"history": "hist", "order": "idx", "mistakes": "errors"}),
                            copy(hand_ins["copied_b"][2], {})]
    return hand_ins, {("copied_a", "copier_a"), ("copied_b", "copier_b")}


@pytest.mark.slow
def test_a_generated_class_graded_for_real(tmp_path, monkeypatch):
    import shutil

    from grader import batch
    from tests.corpora import hostile

    monkeypatch.setenv("MLP_COURSE_CELL_TIMEOUT", "30")
    assignment, notebook = hostile.ASSIGNMENT, hostile.NOTEBOOK
    for folder in (f"solutions/{assignment}", f"notebooks/{assignment}"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    release, solution = _notebooks(assignment)
    variants, planted = _generated_class()
    for student, chosen in variants.items():
        _write(tmp_path / "grader" / "submitted" / student / assignment / f"{notebook}.ipynb",
               make_submission(release, solution, chosen))
    _write(tmp_path / "grader" / "submitted" / "blank" / assignment / f"{notebook}.ipynb", release)
    cheat = hostile.BY_NAME["patch_builtins_and_math"]
    name, data = hostile.make(cheat, release, solution, tmp_path)
    (tmp_path / "grader" / "submitted" / "hostile" / assignment).mkdir(parents=True)
    (tmp_path / "grader" / "submitted" / "hostile" / assignment / name).write_bytes(data)

    rows = batch.autograde(root=tmp_path, jobs=2, progress=False)
    assert all(r.status == "graded" for r in rows), [(r.student, r.status) for r in rows]
    [summary] = report.write(tmp_path)
    assert (tmp_path / "grader" / "reports" / "insights" / f"{assignment}.html").is_file()
    assert summary.counts == {"graded": len(variants) + 1, "blank": 1, "not_graded": 0, "not_submitted": 0}

    # Each planted bug's named mistake, counted over exactly the students who have it.
    truth: dict[tuple[str, str], set[str]] = {}
    for student, chosen in variants.items():
        for variant in chosen:
            if variant.hint:
                truth.setdefault((variant.fails[0], variant.hint), set()).add(student)
    # The cheat's own accuracy returns a count too (hostile.WRONG): grading sees through the cheat.
    truth[("test_accuracy", "number of samples")].add("hostile")
    parts = {p.part.grade_id: p for p in summary.parts}
    for (part, hint), students in truth.items():
        named = [m for m in parts[part].mistakes if m.kind == tally.NAMED and hint in m.text]
        assert len(named) == 1 and set(named[0].students) == students, (part, hint, parts[part].mistakes)
    for stats in parts.values():
        counts = [m.count for m in stats.mistakes if m.kind == tally.NAMED]
        assert counts == sorted(counts, reverse=True)
    update = [m.count for m in parts["test_update"].mistakes if m.kind == tally.NAMED]
    assert update[:3] == [3, 2, 1]

    assert {p.students for p in summary.pairs} == planted
    code_flags = {student for student, found in summary.flags() if found.origin == "code"}
    assert code_flags == {"hostile"}, code_flags
