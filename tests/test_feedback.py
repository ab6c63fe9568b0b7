"""The feedback page's summary: total points, then each graded part's points and status, linked
to the part; failed parts say the course's message, hidden tests never show.

The markup is a contract (the browser tests read it too): ``section#mlp-summary`` at the top of
the body, holding ``p.mlp-total`` and ``table.mlp-parts`` with one ``tr[data-status]`` per graded
part whose first cell links to ``#GRADE_ID``; every graded cell carries ``id="GRADE_ID"``.
"""

import re
from pathlib import Path

import nbformat
import pytest
from bs4 import BeautifulSoup
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from grader import course, pipeline, score
from grader.nbgrader_ext import feedback
from grader.nbgrader_ext.preprocessors import KERNEL_DIED, NOTEBOOK_TIMEOUT

ASSIGNMENT, NOTEBOOK, STUDENT = "a1", "nb", "kim"
HIDDEN_LINE = "assert secret_hidden_check(answer) == 42"
HIDDEN = f"\n### BEGIN HIDDEN TESTS\n{HIDDEN_LINE}\n### END HIDDEN TESTS\n"
CHECK_MESSAGE = ("f(x) for x = [1, 2]: expected 1 < 2, got 3\n  expected: [1]\n  got:      [3]\n"
                 "Likely mistake: f adds where it should compare.")
# The cells a grading run leaves behind, one of each fate: (grade id, points, score, outputs).
# The tracebacks quote the hidden test, as real ones do; the feedback must not.
PARTS = [
    ("test_passed", 2, 2, []),
    ("test_failed", 3, 0, [("CheckFailure", CHECK_MESSAGE)]),
    ("test_timed_out", 1, 0, [("KeyboardInterrupt", ""), ("CellTimeoutError", "")]),
    ("test_crashed", 1, 0, [("KernelDied", KERNEL_DIED)]),
    ("test_too_late", 1, 0, [("NotebookTimeoutError", NOTEBOOK_TIMEOUT)]),
]
# The notebooks' kinds of formula: inline, display, and a LaTeX environment.
FORMULAS = (r"A neuron computes $\mathbf{w}\cdot\mathbf{x} + b$, then"
            "\n\n$$\\sigma(z) = \\frac{1}{1 + e^{-z}}$$\n\n"
            r"\begin{aligned} a &= 1 \\ b &= 2 \end{aligned}")
DELETED = ("test_deleted", 2)  # in the source (and gradebook), gone from the hand-in
EXPECTED = [  # grade id, status, what the first line of the summary's message says
    ("test_passed", "passed", ""),
    ("test_failed", "failed", CHECK_MESSAGE.splitlines()[0]),
    ("test_timed_out", "timed out", score.TIMEOUT_NOTE),
    ("test_crashed", "not run", KERNEL_DIED),
    ("test_too_late", "not run", NOTEBOOK_TIMEOUT),
    ("test_deleted", "failed", score.MISSING_CELL),
]


def _nbgrader(cell, **metadata):
    cell.metadata["nbgrader"] = {"locked": False, "schema_version": 3, "solution": False,
                                 "task": False, "grade": False, **metadata}
    return cell


def _test_cell(grade_id, points, outputs):
    errors = [new_output("error", ename=ename, evalue=evalue,
                         traceback=[f"Cell In[3], line 4\n----> 4 {HIDDEN_LINE}", f"{ename}: {evalue}"])
              for ename, evalue in outputs]
    cell = new_code_cell(f"# checks {grade_id}\nfrom utils.checks import expect_close{HIDDEN}",
                         outputs=errors, execution_count=3)
    return _nbgrader(cell, grade=True, grade_id=grade_id, points=points, locked=True)


def _autograded_notebook():
    cells = [new_markdown_cell(f"# A hand-made notebook\n\n{FORMULAS}"),
             _nbgrader(new_code_cell("def f(x):\n    return x + 1\n", execution_count=1),
                       solution=True, grade_id="answer")]
    cells += [_test_cell(grade_id, points, outputs) for grade_id, points, _, outputs in PARTS]
    return new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                              "language": "python"}})


def _hand_made_course(root: Path) -> Path:
    """A course with one autograded hand-in and its gradebook, as grading would leave them."""
    from nbgrader.api import Gradebook

    cfg = course.config(root)
    course.api(cfg)  # readies what the gradebook needs: nbgrader's alembic on PATH, its folder
    nb = _autograded_notebook()
    for folder in (f"solutions/{ASSIGNMENT}", f"grader/submitted/{STUDENT}/{ASSIGNMENT}",
                   f"grader/autograded/{STUDENT}/{ASSIGNMENT}"):
        (root / folder).mkdir(parents=True)
        nbformat.write(nb, root / folder / f"{NOTEBOOK}.ipynb")
    with Gradebook(cfg.CourseDirectory.db_url) as gb:
        gb.add_assignment(ASSIGNMENT)
        gb.add_notebook(NOTEBOOK, ASSIGNMENT)
        gb.add_solution_cell("answer", NOTEBOOK, ASSIGNMENT)
        for grade_id, points in [(p[0], p[1]) for p in PARTS] + [DELETED]:
            gb.add_grade_cell(grade_id, NOTEBOOK, ASSIGNMENT, max_score=points, cell_type="code")
        gb.add_student(STUDENT)
        gb.add_submission(ASSIGNMENT, STUDENT)
        for grade_id, _, points, _ in PARTS:
            gb.find_grade(grade_id, NOTEBOOK, ASSIGNMENT, STUDENT).auto_score = points
        gb.db.commit()
    return root


def _page(root: Path, student: str, assignment: str, notebook: str) -> BeautifulSoup:
    path = root / "grader" / "feedback" / student / assignment / f"{notebook}.html"
    return BeautifulSoup(path.read_text(), "html.parser")


def _summary(page: BeautifulSoup) -> tuple[str, list[tuple[str, str, str, str]]]:
    """The total's text and ``(grade id, points, status, message)`` per row, checking the
    markup contract on the way."""
    section = page.body.find("section", id="mlp-summary")
    assert section is not None
    before = [s for s in section.find_all_previous(string=True) if s.find_parent("body")]
    assert not "".join(before).strip(), "something comes before the summary"
    table = section.find("table", class_="mlp-parts")
    header, *rows = table.find_all("tr")
    assert [th.get_text(strip=True) for th in header.find_all("th")] == ["Test", "Points", "Status"]
    assert all(row.has_attr("data-status") for row in rows)
    found = []
    for row in rows:
        test, points, status = row.find_all("td")
        link = test.find("a")
        assert link["href"] == f"#{link.get_text()}"
        message = status.find(class_="mlp-message")
        assert status.find(class_="mlp-status").get_text() == row["data-status"]
        found.append((link.get_text(), points.get_text(strip=True), row["data-status"],
                      message.get_text() if message else ""))
    return section.find("p", class_="mlp-total").get_text(" ", strip=True), found


def _assert_links_resolve(page: BeautifulSoup):
    for link in page.find("table", class_="mlp-parts").select('a[href^="#"]'):
        assert len(page.find_all(id=link["href"][1:])) == 1, f"{link['href']} leads nowhere, or to two places"


def test_status_of_each_kind_of_graded_cell():
    cells = _autograded_notebook().cells
    grades = {grade_id: (points, maximum) for grade_id, maximum, points, _ in PARTS}
    grades[DELETED[0]] = (0.0, float(DELETED[1]))
    parts = feedback.parts(cells, grades)
    assert [(p.grade_id, p.status) for p in parts] == [(gid, status) for gid, status, _ in EXPECTED]
    for part, (_, _, says) in zip(parts, EXPECTED):
        assert says in part.headline
    by_id = {p.grade_id: p for p in parts}
    assert not by_id["test_deleted"].in_notebook and by_id["test_failed"].in_notebook
    # The check's message is already in the cell's output; a timeout's note is not.
    assert by_id["test_failed"].in_output and not by_id["test_timed_out"].in_output
    # Points short of full marks without an error (a grader's deduction) is not a pass.
    assert score.status(cells[2], 1, 2) == score.FAILED and score.status(cells[2], 2, 2) == score.PASSED


def test_feedback_page_opens_with_the_summary_and_links_each_part(tmp_path):
    root = _hand_made_course(tmp_path)
    assert pipeline.feedback(root=root) == []
    page = _page(root, STUDENT, ASSIGNMENT, NOTEBOOK)

    total, rows = _summary(page)
    assert total == "Total: 2 / 10 points"
    assert [(gid, status) for gid, _, status, _ in rows] == [(gid, status) for gid, status, _ in EXPECTED]
    for (_, _, status, message), (_, _, says) in zip(rows, EXPECTED):
        assert says in message and (message or status == "passed")
    assert [points for _, points, _, _ in rows] == ["2 / 2", "0 / 3", "0 / 1", "0 / 1", "0 / 1", "0 / 2"]
    _assert_links_resolve(page)
    for grade_id, *_ in PARTS:  # each link leads to its graded cell, marked with its status
        part = page.find(id=grade_id)
        assert "mlp-part" in part["class"] and f"checks {grade_id}" in part.get_text()
    assert page.find(id="test_deleted").name == "tr"  # no cell to lead to: its row says why

    # The whole message where the cell's output does not say it already; never twice.
    timed_out = page.find(id="test_timed_out").find(class_="mlp-verdict")
    assert score.TIMEOUT_NOTE in timed_out.get_text()
    assert page.find(id="test_failed").find(class_="mlp-verdict") is None
    assert page.get_text().count("Likely mistake: f adds where it should compare.") == 1

    text = page.get_text()
    assert HIDDEN_LINE not in text and "secret_hidden_check" not in str(page)


def _assert_formulas_drawn_and_nothing_from_another_host(page: BeautifulSoup):
    """The page's formulas are MathML, no LaTeX source is left for a script to typeset, and
    nothing (script, stylesheet, image, font) comes from another host."""
    assert page.find_all("math"), "no formula drawn as MathML"
    text = " ".join(markdown.get_text() for markdown in page.select(".text_cell_render"))  # code may hold "$"
    assert text and "$\\" not in text and "\\mathbf" not in text and "\\frac" not in text, "LaTeX source is shown"
    remote = [tag.get("src") or tag.get("href") for tag in page.find_all(["script", "link", "img", "iframe"])
              if (tag.get("src") or tag.get("href") or "").startswith(("http://", "https://", "//"))]
    assert not remote, f"the page loads {remote}"
    styles = " ".join(style.get_text() for style in page.find_all("style"))
    assert not re.search(r"@import|url\(\s*['\"]?(https?:)?//", styles), "a stylesheet loads from another host"
    assert not [script for script in page.find_all("script") if "mathjax" in str(script).lower()], \
        "MathJax would typeset the page again, or fail to load"


def test_feedback_page_draws_its_formulas_as_mathml_and_loads_nothing_from_another_host(tmp_path):
    root = _hand_made_course(tmp_path)
    assert pipeline.feedback(root=root) == []
    page = _page(root, STUDENT, ASSIGNMENT, NOTEBOOK)
    _assert_formulas_drawn_and_nothing_from_another_host(page)
    inline, display, environment = page.find_all("math")
    assert inline["display"] == "inline" and display["display"] == "block" == environment["display"]
    assert inline.find_parent("p") is not None and "A neuron computes" in inline.find_parent("p").get_text()
    assert [mi.get_text() for mi in display.find_all("mi")] == ["σ", "z", "e", "z"]
    assert environment.find("mtable") is not None and "&" not in environment.get_text(), "aligned's rows"


def test_a_formula_the_converter_cannot_read_is_shown_as_its_source():
    assert feedback.mathml(r"\frac{1}{") == '<code class="mlp-latex">\\frac{1}{</code>'
    assert feedback.mathml("x < 1").startswith("<math")


@pytest.mark.slow
def test_bobs_feedback_page_through_nbgrader(tmp_path):
    from nbgrader.api import Gradebook

    from tests.test_batch import ASSIGNMENT as PERCEPTRON, NOTEBOOK as NOTEBOOK_FILE, _course
    from tests.test_grading import _test_code_lines

    notebook = Path(NOTEBOOK_FILE).stem
    root = _course(tmp_path, students=["bob"])
    nbgrader = course.api(course.config(root))
    course.run(nbgrader.generate_assignment(PERCEPTRON), "generate")
    course.run(nbgrader.autograde(PERCEPTRON, "bob"), "autograde bob")
    assert pipeline.feedback(root=root, student="bob") == []
    page = _page(root, "bob", PERCEPTRON, notebook)

    db_url = course.config(root).CourseDirectory.db_url
    solution = root / "solutions" / PERCEPTRON / f"{notebook}.ipynb"
    autograded = root / "grader" / "autograded" / "bob" / PERCEPTRON / f"{notebook}.ipynb"
    expected = score.test_results(autograded, solution, db_url, PERCEPTRON, "bob")
    with Gradebook(db_url) as gb:
        submission = gb.find_submission_notebook(notebook, PERCEPTRON, "bob")
        assert (submission.score, submission.max_score) == (expected["score"], expected["max_score"])

    total, rows = _summary(page)
    assert total == f"Total: {expected['score']:g} / {expected['max_score']:g} points"
    assert [row[0] for row in rows] == [t["grade_id"] for t in expected["tests"]]
    failed = [t for t in expected["tests"] if t["score"] < t["max_score"]]
    assert failed, "bob's bugs cost no points"
    for (grade_id, points, status, message), test in zip(rows, expected["tests"]):
        assert points == f"{test['score']:g} / {test['max_score']:g}"
        if test in failed:  # the check's own message: what was expected, what came out
            assert status == "failed" and message == test["feedback"].splitlines()[0]
            assert "expected" in message
        else:
            assert status == "passed" and not message
    _assert_links_resolve(page)

    _, hidden = _test_code_lines(solution)
    assert hidden, "no hidden tests to look for"
    leaked = [line for line in hidden if line in page.get_text()]
    assert not leaked, f"the feedback shows hidden tests: {leaked[:3]}"
    _assert_formulas_drawn_and_nothing_from_another_host(page)
