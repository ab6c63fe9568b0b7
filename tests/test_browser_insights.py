"""The instructor's insights report in a real browser: Debian's Chromium through Playwright, the
pages opened from their files (file://) with JavaScript off, as an instructor opens them offline.

On a temporary copy of the course, the example class's 01_perceptron is graded with the course's
command line (``grader autograde``, which writes the report at its end) and bob's feedback made:

- the index and the assignment's page show the gradebook's numbers, and every plot is drawn;
- a student's feedback page shows none of it (no other student, no class statistics, no flags).

Screenshots go to tests/artifacts/browser/. Skips in one line where Chromium or Playwright is
missing, as tests/test_browser.py does.
"""

import re
import statistics
from pathlib import Path

import pytest

from tests.browser import CHROMIUM, CHROMIUM_ARGS, VIEWPORT, screenshot, unavailable

if unavailable():
    pytest.skip(unavailable(), allow_module_level=True)
from playwright import sync_api  # noqa: E402 -- only where it is installed

# With the other browser tests on one xdist worker (`--dist loadgroup`): one browser at a time.
pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.xdist_group("graded_course")]

ASSIGNMENT, NOTEBOOK, STUDENT = "01_perceptron", "perceptron", "bob"
INSIGHTS = Path("grader", "reports", "insights")
# What only the instructor's pages say; a student's feedback page must say none of it.
INSTRUCTOR_ONLY = ["what the class got wrong", "Review flags", "Similar hand-ins", "pass rate",
                   "ranked by how many students"]


@pytest.fixture(scope="module")
def graded(graded_course_copy):
    """The shared copy of the course (tests/conftest.py) with the example class's 01_perceptron
    graded (and its insights written by `grader autograde`) and bob's feedback page."""
    root, printed = graded_course_copy
    assert f"insights: {INSIGHTS / 'index.html'}" in printed, printed[-2000:]
    return root


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser):
    """A window with JavaScript off: the pages must need none."""
    context = browser.new_context(viewport=VIEWPORT, java_script_enabled=False)
    try:
        yield context.new_page()
    finally:
        context.close()


def _class(root: Path) -> dict:
    """The example class's numbers, read from the copy's gradebook with nbgrader's own API."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{root / 'grader' / 'gradebook.db'}") as gb:
        submissions = gb.assignment_submissions(ASSIGNMENT)
        blank = {s.student_id for s in submissions
                 if all(c.auto_comment == "No response." for nb in s.notebooks for c in nb.comments)}
        answered = [s for s in submissions if s.student_id not in blank]
        parts = {}
        for cell in gb.find_notebook(NOTEBOOK, ASSIGNMENT).grade_cells:
            grades = [gb.find_grade(cell.name, NOTEBOOK, ASSIGNMENT, s.student_id) for s in answered]
            parts[cell.name] = {"passed": sum(g.score >= g.max_score for g in grades),
                                "mean_points": statistics.fmean(g.score for g in grades)}
        return {"graded": len(answered), "blank": len(blank),
                "not_submitted": len({s.id for s in gb.students} - {s.student_id for s in submissions}),
                "mean_score": statistics.fmean(s.score for s in submissions),
                "max_score": gb.find_assignment(ASSIGNMENT).max_score, "parts": parts}


def _number(text: str) -> float:
    return float(re.match(r"\s*(-?\d+(?:\.\d+)?)", text)[1])


def _assert_every_plot_drawn(page) -> int:
    drawn = page.eval_on_selector_all("img", "images => images.map(i => [i.complete, i.naturalWidth])")
    assert drawn and all(complete and width > 0 for complete, width in drawn), drawn
    return len(drawn)


def test_the_index_shows_the_gradebooks_numbers_and_its_plot(graded, page):
    truth = _class(graded)
    page.goto((graded / INSIGHTS / "index.html").as_uri())
    screenshot(page, "insights_index")
    row = page.locator(f"tr[data-assignment='{ASSIGNMENT}']")
    for key in ("graded", "blank", "not_submitted"):
        assert int(row.locator(f"[data-count='{key}']").inner_text()) == truth[key], key
    assert row.locator("[data-stat='mean_score']").inner_text() == f"{truth['mean_score']:.3g} / {truth['max_score']:g}"
    assert _assert_every_plot_drawn(page) == 1


def test_the_assignment_page_shows_the_gradebooks_numbers_and_every_plot(graded, page):
    truth = _class(graded)
    page.goto((graded / INSIGHTS / f"{ASSIGNMENT}.html").as_uri())
    screenshot(page, f"insights_{ASSIGNMENT}")
    counts = page.locator("#counts")
    for key in ("graded", "blank", "not_submitted"):
        assert int(counts.locator(f"[data-count='{key}']").inner_text()) == truth[key], key
    rows = page.locator("#part-table tr[data-part]")
    assert rows.count() == len(truth["parts"])
    for i in range(rows.count()):
        row = rows.nth(i)
        part = truth["parts"][row.get_attribute("data-part")]
        cells = {field: row.locator(f"[data-field='{field}']").inner_text()
                 for field in ("passed", "failed", "timed_out", "not_run", "pass_rate", "mean_points")}
        assert int(cells["passed"]) == part["passed"], (row.get_attribute("data-part"), cells)
        assert sum(int(cells[k]) for k in ("passed", "failed", "timed_out", "not_run")) == truth["graded"]
        assert cells["pass_rate"] == f"{part['passed'] / truth['graded']:.0%}"
        assert _number(cells["mean_points"]) == pytest.approx(part["mean_points"], rel=5e-3)
    # bob's two bugs are named, with his name, on the instructor's page.
    mistakes = page.locator(".part-mistakes li[data-kind='named']")
    assert mistakes.count() >= 2 and all(STUDENT in t for t in mistakes.all_inner_texts())
    assert _assert_every_plot_drawn(page) == 3   # score histogram, parts, mistakes


def test_a_students_feedback_page_shows_none_of_it(graded, page):
    feedback = graded / "grader" / "feedback" / STUDENT / ASSIGNMENT
    assert sorted(p.name for p in feedback.iterdir() if p.suffix == ".html") == [f"{NOTEBOOK}.html"]
    page.goto((feedback / f"{NOTEBOOK}.html").as_uri())
    screenshot(page, f"insights_not_in_feedback_{STUDENT}")
    text = page.locator("body").inner_text()
    shown = [words for words in INSTRUCTOR_ONLY if words.lower() in text.lower()]
    assert not shown, f"{STUDENT}'s feedback shows the instructor's report: {shown}"
    others = [name for name in ("alice", "carol") if re.search(rf"\b{name}\b", text)]
    assert not others, f"{STUDENT}'s feedback names other students: {others}"
    links = page.eval_on_selector_all("[href], [src]", "nodes => nodes.map(n => n.getAttribute('href') || n.getAttribute('src'))")
    assert not [link for link in links if "insights" in link or "reports" in link], links
    assert not list((graded / "grader" / "feedback").rglob("*insights*"))
