"""End to end through nbgrader (a kernel per notebook): the promises of `grader score` and the
batch pipeline, and bob's bugs and alternatives in the example class graded for real."""

import copy
import csv
import html
import json
import math
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from grader import batch, cli, course, pipeline, time_limits
from grader.nbgrader_ext import boundary
from grader.proving.cases import all_cases
from grader.examples import STUDENTS, bobs_variants
from grader import score as scoring
from grader.proving.variants import Variant, make_submission

ROOT = course.ROOT
CASES = all_cases()
pytestmark = pytest.mark.slow


def _paths(case):
    name = f"{case.ASSIGNMENT}/{case.NOTEBOOK}.ipynb"
    return ROOT / "solutions" / name, ROOT / "notebooks" / name


def _cli(*args, cwd=ROOT):
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    return subprocess.run([sys.executable, "-m", "grader", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


def _snapshot():
    return {p: p.stat().st_mtime_ns for folder in ("solutions", "notebooks", "grader")
            for p in (ROOT / folder).rglob("*") if "__pycache__" not in p.parts}


def _bobs_hand_in(case):
    """bob's variants in the example class (grader/examples.py): two bugs, in two functions and
    caught by different tests (each must cost its own tests and nothing else), and a correct
    alternative of a third function (its tests keep their points). Each alternative alone, and
    all of them together, pass every test in process (test_variants.py)."""
    chosen = bobs_variants(case.VARIANTS)
    bugs = [v for v in chosen if v.is_bug]
    alternatives = [v for v in chosen if not v.is_bug]
    assert len(bugs) == 2 and bugs[0].function != bugs[1].function \
        and not set(bugs[0].fails) & set(bugs[1].fails), f"{case.ASSIGNMENT}: bob's bugs {bugs}"
    assert len(alternatives) == 1 and alternatives[0].function not in {v.function for v in bugs}, \
        f"{case.ASSIGNMENT}: bob has no correct alternative of a third function"
    return bugs


@pytest.mark.xdist_group("graded_course")   # the worker that grades the shared copy reads it
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.ASSIGNMENT)
def test_bobs_bugs_cost_their_own_tests_and_his_alternative_none(case, graded_course_copy):
    # bob's hand-ins graded with the example class, for real (tests/conftest.py).
    root, _ = graded_course_copy
    bugs = _bobs_hand_in(case)
    solution, _ = _paths(case)
    result = scoring.test_results(root / "grader" / "autograded" / "bob" / case.ASSIGNMENT / f"{case.NOTEBOOK}.ipynb",
                                  solution, course.config(root).CourseDirectory.db_url, case.ASSIGNMENT, "bob")
    tests = {t["grade_id"]: t for t in result["tests"]}
    for variant in bugs:
        for gid in variant.fails:
            assert tests[gid]["score"] < tests[gid]["max_score"], tests[gid]
            assert variant.hint.lower() in tests[gid]["feedback"].lower(), tests[gid]["feedback"]
            # The feedback is the check's message: no traceback, no test code.
            assert "Traceback" not in tests[gid]["feedback"] and "HIDDEN" not in tests[gid]["feedback"]
    # One bug, one deduction: the other tests, the alternative's among them, keep their points
    # (the end-to-end ones aside, which any bug on their path may fail).
    blamed = {gid for v in bugs for gid in v.fails} | set(case.END_TO_END)
    lost = {gid: t["feedback"] for gid, t in tests.items() if gid not in blamed and t["score"] < t["max_score"]}
    assert not lost, lost


CRASH = Variant("accuracy", "def accuracy(y_pred, y):\n    import os\n    os._exit(1)\n",
                "kills the kernel", ("test_accuracy",), "kernel died")
HANG = Variant("train_perceptron", "def train_perceptron(model, X, y, lr=0.1, epochs=10, "
               "shuffle_seed=0):\n    while True:\n        pass\n", "never returns",
               ("test_train_perceptron", "test_blobs"), "running too long")


PATCH = Variant("step", "def step(z):\n    return z > 0\n\nimport utils.checks, utils.checks.assertions\n"
                "for _module in (utils.checks, utils.checks.assertions):\n"
                "    _module.expect_close = _module.expect_runs = _module.expect_dtype = "
                "lambda *args, **kwargs: None\n",
                "cheat: patches the checks' module", ("test_step",), "")


@pytest.mark.parametrize("variant", [CRASH, HANG, PATCH], ids=["crash", "hang", "patch"])
def test_a_crash_a_hang_or_a_cheat_costs_only_the_tests_it_breaks(variant, tmp_path, monkeypatch):
    # Each cell's limit calibrated on the solution (grader/time_limits.json), made short: 2 x its
    # seconds + 6 s (01's honest cells take well under 1 s); the flat limit stays at 90 s.
    monkeypatch.setenv("MLP_COURSE_TIME_LIMIT_FACTOR", "2")
    monkeypatch.setenv("MLP_COURSE_TIME_LIMIT_MARGIN", "6")
    case = next(c for c in CASES if c.ASSIGNMENT == "01_perceptron")
    solution, release = _paths(case)
    nb = make_submission(nbformat.read(release, as_version=4),
                         nbformat.read(solution, as_version=4), [variant])
    nbformat.write(nb, tmp_path / "perceptron.ipynb")
    result = scoring.score(tmp_path / "perceptron.ipynb")
    measured = {e["cell"]: e["seconds"] for e in time_limits.load()[case.ASSIGNMENT][case.NOTEBOOK].values()}
    for test in result["tests"]:
        if test["grade_id"] in variant.fails:
            assert test["score"] == 0 and variant.hint in test["feedback"], test
            if variant is HANG:   # stopped at its own calibrated limit, not at the flat 90 s
                limit = math.ceil(2 * measured[test["grade_id"]] + 6)
                assert f"its time limit of {limit} s ran out (the course's solution runs this cell in" \
                    in test["feedback"], test
        else:  # earlier tests, and later ones that need the state from before the crash
            assert test["score"] == test["max_score"], test


def test_the_notebook_time_limit_keeps_the_points_earned_before_it(tmp_path, monkeypatch):
    # The cells before the hang (kernel start included) take 1-3 s of the notebook's 12.
    monkeypatch.setenv("MLP_COURSE_CELL_TIMEOUT", "60")
    monkeypatch.setenv("MLP_COURSE_NOTEBOOK_TIMEOUT", "12")
    case = next(c for c in CASES if c.ASSIGNMENT == "01_perceptron")
    solution, release = _paths(case)
    nb = make_submission(nbformat.read(release, as_version=4), nbformat.read(solution, as_version=4), [HANG])
    nbformat.write(nb, tmp_path / "perceptron.ipynb")
    result = scoring.score(tmp_path / "perceptron.ipynb")
    order = [t["grade_id"] for t in result["tests"]]
    first_hung = order.index(HANG.fails[0])
    for test in result["tests"][:first_hung]:
        assert test["score"] == test["max_score"], test
    hung = result["tests"][first_hung]
    assert hung["score"] == 0 and "running too long" in hung["feedback"], hung
    for test in result["tests"][first_hung + 1:]:
        assert test["score"] == 0 and "time limit ran out" in test["feedback"], test


def test_demo_cells_are_not_run_when_grading_but_a_test_cell_tagged_demo_is(tmp_path):
    case = next(c for c in CASES if c.ASSIGNMENT == "01_perceptron")
    solution, release = _paths(case)
    bug = next(v for v in case.VARIANTS if v.is_bug)
    plain = make_submission(nbformat.read(release, as_version=4), nbformat.read(solution, as_version=4), [bug])
    tagged = copy.deepcopy(plain)
    for cell in tagged.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == bug.fails[0]:
            cell.metadata["tags"] = ["demo"]          # a student's attempt to skip a test
    tagged.cells.insert(2, nbformat.v4.new_code_cell("import time\ntime.sleep(3600)", metadata={"tags": ["demo"]}))
    results = {}
    for name, nb in (("plain", plain), ("tagged", tagged)):
        (tmp_path / name).mkdir()
        nbformat.write(nb, tmp_path / name / f"{case.NOTEBOOK}.ipynb")
        results[name] = scoring.score(tmp_path / name / f"{case.NOTEBOOK}.ipynb")
    assert results["tagged"] == results["plain"], "the hanging demo cell was run, or the tagged test skipped"
    assert next(t for t in results["plain"]["tests"] if t["grade_id"] == bug.fails[0])["score"] == 0


def test_a_deleted_test_cell_is_listed_with_zero_points(tmp_path):
    case = CASES[0]
    solution, release = _paths(case)
    nb = make_submission(nbformat.read(release, as_version=4), nbformat.read(solution, as_version=4))
    victim = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade"))
    nb.cells.remove(victim)
    nbformat.write(nb, tmp_path / f"{case.NOTEBOOK}.ipynb")
    result = scoring.score(tmp_path / f"{case.NOTEBOOK}.ipynb")
    tests = {t["grade_id"]: t for t in result["tests"]}
    gone = tests[victim.metadata["nbgrader"]["grade_id"]]
    assert gone["score"] == 0 and "missing" in gone["feedback"]
    assert result["score"] == result["max_score"] - gone["max_score"]
    assert all(t["score"] == t["max_score"] for t in result["tests"] if t is not gone)


def test_score_cli_json_and_text_and_leaves_the_course_untouched():
    case = CASES[0]
    solution, _ = _paths(case)
    before = _snapshot()
    done = _cli("score", str(solution.relative_to(ROOT)), "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert set(result) == {"assignment", "notebook", "score", "max_score", "tests", "flags", "isolation"}
    assert result["isolation"] == ("bubblewrap" if boundary.check("auto") is None else boundary.check("auto"))
    assert result["flags"] == []   # the instructor's (tests/test_screen.py); none for a solution
    assert result["assignment"] == case.ASSIGNMENT and result["notebook"] == case.NOTEBOOK
    assert all(set(t) == {"grade_id", "score", "max_score", "feedback"} for t in result["tests"])
    assert result["score"] == result["max_score"]

    text = _cli("score", str(solution)).stdout.splitlines()
    assert text[0].endswith(f"{result['score']:g} / {result['max_score']:g} points")
    tests = text[1:len(result["tests"]) + 1]
    assert [line.split()[0] for line in tests] == [t["grade_id"] for t in result["tests"]]
    assert _snapshot() == before


def test_score_cli_exit_codes(tmp_path, capsys):
    # The command line's own code, in this process (what `python -m grader` runs; the test above
    # starts it as a process): a Python start per refusal would add nothing.
    case = CASES[0]
    solution, release = _paths(case)

    def run(*args):
        code = cli.main(["score", *args])
        return code, capsys.readouterr()

    code, out = run(str(tmp_path / "nope.ipynb"))
    assert code == 2 and "no such notebook" in out.err
    code, out = run(str(solution), "--assignment", "99_nothing")
    assert code == 2 and "unknown assignment" in out.err
    (tmp_path / "broken.ipynb").write_text("{not json")
    code, out = run(str(tmp_path / "broken.ipynb"), "--assignment", case.ASSIGNMENT)
    assert code == 2 and "not a readable Jupyter notebook" in out.err
    # A renamed copy is graded as the assignment's notebook; zero points still exit 0.
    renamed = tmp_path / "my copy.ipynb"
    shutil.copyfile(release, renamed)
    code, out = run(str(renamed), "--assignment", case.ASSIGNMENT, "--json")
    assert code == 0 and json.loads(out.out)["score"] == 0
    code, out = run(str(renamed))
    assert code == 2 and "--assignment" in out.err


@pytest.mark.xdist_group("graded_course")   # the worker that grades the shared copy reads it
def test_batch_pipeline_grades_the_example_class(graded_course_copy):
    # The course's copy where `grader autograde` and `grader feedback` ran on the example class
    # (tests/conftest.py; either exits 1 when a hand-in could not be graded or given feedback).
    root, _ = graded_course_copy
    report = csv.DictReader((root / batch.REPORT_CSV).read_text().splitlines())
    assert {row["status"] for row in report} == {"graded"}
    header, rows = pipeline.grades(root=root)
    graded = sorted({assignment for assignment, _ in course.submissions(root)})
    assert header == ["student", *graded, "total", "max"]
    table = {row[0]: row for row in rows}
    assert sorted(table) == sorted(STUDENTS)
    maximum = table["alice"][-1]
    assert table["alice"][-2] == maximum > table["bob"][-2] > table["carol"][-2] == 0
    assert (root / pipeline.GRADES_CSV).read_text().splitlines()[0] == ",".join(header)
    assert "alice" in pipeline.format_table(header, rows)
    db_url = course.config(root).CourseDirectory.db_url
    for case in [c for c in CASES if c.ASSIGNMENT in graded]:
        solution, _ = _paths(case)
        # alice handed in the solutions, carol the release as it was given out.
        results = {student: scoring.test_results(
            root / "grader" / "autograded" / student / case.ASSIGNMENT / f"{case.NOTEBOOK}.ipynb",
            solution, db_url, case.ASSIGNMENT, student) for student in ("alice", "carol")}
        assert results["alice"]["max_score"] > 0
        assert all(t["score"] == t["max_score"] and t["feedback"] == "passed" for t in results["alice"]["tests"])
        assert all(t["score"] == 0 and t["feedback"] for t in results["carol"]["tests"]), results["carol"]
        visible, hidden = _test_code_lines(solution)
        for student in STUDENTS:
            page = root / "grader" / "feedback" / student / case.ASSIGNMENT / f"{case.NOTEBOOK}.html"
            text = html.unescape(re.sub(r"<[^>]+>", "", page.read_text()))
            assert all(line in text for line in visible), "the visible tests are shown"
            assert "had been changed in the hand-in" not in text, f"{student} changed no test cell"
            leaked = [line for line in hidden if line in text]
            assert not leaked, f"{student}'s feedback shows hidden tests: {leaked[:3]}"


def _test_code_lines(solution):
    """The distinctive code lines of the visible and of the hidden tests of a notebook."""
    visible, hidden = [], []
    for cell in nbformat.read(solution, as_version=4).cells:
        shown, _, secret = cell.source.partition("### BEGIN HIDDEN TESTS")
        if cell.metadata.get("nbgrader", {}).get("grade"):
            visible += [ln.strip() for ln in shown.splitlines() if len(ln.strip()) > 25]
        hidden += [ln.strip() for ln in secret.splitlines()
                   if len(ln.strip()) > 25 and "HIDDEN TESTS" not in ln]
    shown_anyway = "\n".join(c.source.partition("### BEGIN HIDDEN TESTS")[0]
                              for c in nbformat.read(solution, as_version=4).cells)
    return visible, [ln for ln in hidden if ln not in shown_anyway]


def test_a_part_says_not_answered_only_for_the_templates_bare_not_implemented_error():
    from grader.score import NOT_ANSWERED, _feedback

    def cell(evalue):
        return nbformat.v4.new_code_cell(outputs=[nbformat.v4.new_output(
            "error", ename="NotImplementedError", evalue=evalue, traceback=[])])
    assert _feedback(cell(""), 0, 1) == NOT_ANSWERED
    torch_says = "aten::masked_select: attempted to run this operator with Meta tensors"
    assert _feedback(cell(torch_says), 0, 1) == f"NotImplementedError: {torch_says}"
