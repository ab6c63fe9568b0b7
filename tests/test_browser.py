"""The course in a real browser: JupyterLab of the project's environment on a temporary copy
of the course, driven by Playwright in Debian's Chromium.

- Each release notebook opens, runs (Run > Run All Cells) and shows, under its first test,
  the course's one-line feedback ("not answered yet"), not a traceback; nbgrader's Validate
  button is in its toolbar.
- Each solution notebook runs without an error, and every cell that plots shows its figure.
- Formgrader (Nbgrader > Formgrader) lists the course's assignments.
- A student's feedback page opens with a summary of the graded parts and shows no hidden test.

Each test leaves a screenshot in tests/artifacts/browser/. Skips in one line where Chromium
or Playwright is missing (``.ci/run`` installs Chromium; requirements.txt, Playwright).
"""

import json
import re
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.browser import (CHROMIUM, CHROMIUM_ARGS, CELLS, NOTEBOOK, ROOT, VIEWPORT, JupyterLab,
                           copy_course, menu, notebook_content, open_notebook, plotting_cells,
                           run_all_cells, run_grader, screenshot, screenshot_notebook)

if not CHROMIUM.exists():
    pytest.skip(f"browser tests: {CHROMIUM} not found (apt install chromium)", allow_module_level=True)
sync_api = pytest.importorskip(
    "playwright.sync_api",
    reason="browser tests: Playwright is not installed (pip install -r requirements.txt -c constraints.txt)")

# One JupyterLab and one browser for the whole module: under pytest-xdist, run with
# `--dist loadgroup` so that all of them go to the same worker.
pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.xdist_group("browser")]

RELEASES = sorted(p.relative_to(ROOT).as_posix() for p in ROOT.glob("notebooks/0*_*/*.ipynb"))
SOLUTIONS = sorted(p.relative_to(ROOT).as_posix() for p in ROOT.glob("solutions/0*_*/*.ipynb"))
ASSIGNMENTS = [Path(p).parent.name for p in SOLUTIONS]
STUDENT, ASSIGNMENT = "bob", "01_perceptron"  # bob's hand-in has two bugs (grader/examples.py)

RELEASE_RUN_MS = 5 * 60_000   # answers missing: the run stops at the first test
SOLUTION_RUN_MS = 10 * 60_000  # 03 and 04 train for about a minute on two quiet cores


@pytest.fixture(scope="module")
def course():
    """A temporary copy of the course (removed at the end)."""
    folder = Path(tempfile.mkdtemp(prefix="course-browser-"))
    try:
        root = copy_course(folder / "course")
        _write_cifar_sample(root / "data")
        yield root
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _write_cifar_sample(data: Path) -> None:
    # Notebook 04's optional CIFAR-10 section downloads 170 MB when online; a tiny stand-in in
    # CIFAR-10's own format keeps the test offline and quick, and still draws its figure.
    from tests.test_cifar import _write_sample

    _write_sample(data)


@pytest.fixture(scope="module")
def lab(course):
    """JupyterLab on the course copy, for the whole module."""
    server = JupyterLab(course, course.parent / "jupyter").start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser, lab):
    """A fresh browser window; the kernels it started are shut down after the test."""
    context = browser.new_context(viewport=VIEWPORT)
    try:
        yield context.new_page()
    finally:
        context.close()
        lab.shut_down_kernels()


@pytest.fixture(scope="module")
def graded(course):
    """The instructor's steps on the copy, with the course's command line: release (which
    registers the assignments in the gradebook), then autograde and feedback for one hand-in."""
    run_grader(course, "release")
    run_grader(course, "autograde", "--student", STUDENT, "--assignment", ASSIGNMENT)
    run_grader(course, "feedback", "--student", STUDENT, "--assignment", ASSIGNMENT)
    return course


def _name(notebook: str) -> str:
    return Path(notebook).parent.name


def _cells(notebook: str) -> list[dict]:
    return json.loads((ROOT / notebook).read_text())["cells"]


@pytest.mark.parametrize("notebook", RELEASES, ids=_name)
def test_a_release_notebook_runs_and_its_first_test_says_not_answered_yet_in_one_line(lab, page, notebook):
    cells = _cells(notebook)
    first_test = next(i for i, c in enumerate(cells) if c["metadata"].get("nbgrader", {}).get("grade")
                      and not c["metadata"]["nbgrader"].get("solution"))
    open_notebook(page, lab, notebook)
    validate = page.locator(f"{NOTEBOOK} .jp-Toolbar").get_by_role("button", name="Validate")

    run_all_cells(page, RELEASE_RUN_MS)
    screenshot_notebook(page, f"release_{_name(notebook)}")

    shown = page.locator(CELLS)
    assert shown.count() == len(cells), "not every cell is in the page"
    unrendered = [i for i, c in enumerate(cells) if c["cell_type"] == "markdown"
                  and "jp-mod-rendered" not in (shown.nth(i).get_attribute("class") or "")]
    assert not unrendered, f"markdown cells {unrendered} are not rendered"
    assert validate.is_visible() and validate.is_enabled(), "nbgrader's Validate button is missing"
    feedback = shown.nth(first_test).locator(".jp-OutputArea").inner_text().strip()
    assert "not answered yet" in feedback, f"the first test (cell {first_test}) says:\n{feedback}"
    assert "Traceback" not in feedback and len(feedback.splitlines()) <= 3, \
        f"the first test (cell {first_test}) shows a traceback, not one line:\n{feedback[:2000]}"


@pytest.mark.parametrize("notebook", SOLUTIONS, ids=_name)
def test_a_solution_notebook_runs_without_errors_and_shows_every_figure(lab, page, notebook):
    from utils.plots import __all__ as plotting_helpers

    open_notebook(page, lab, notebook)
    run_all_cells(page, SOLUTION_RUN_MS)
    screenshot_notebook(page, f"solution_{_name(notebook)}")

    cells = notebook_content(page)["cells"]
    errors = {i: f"{o['ename']}: {o['evalue']}" for i, c in enumerate(cells)
              for o in c.get("outputs", []) if o["output_type"] == "error"}
    assert not errors, f"cells with an error: {errors}"
    unrun = [i for i, c in enumerate(cells) if c["cell_type"] == "code" and c["execution_count"] is None]
    assert not unrun, f"cells that did not run: {unrun}"
    shown = page.locator(CELLS)
    assert shown.count() == len(cells), "not every cell is in the page"
    without_figure = [i for i in plotting_cells(cells, set(plotting_helpers))
                      if shown.nth(i).locator(".jp-OutputArea-output img").count() == 0]
    assert not without_figure, f"cells that plot but show no image: {without_figure}"


def test_formgrader_lists_the_course_assignments(graded, lab, page):
    page.goto(lab.lab_url())
    menu(page, "Nbgrader", "Formgrader")
    formgrader = page.frame_locator(".jp-MainAreaWidget iframe")
    names = formgrader.locator("table tbody tr td:first-child")
    names.filter(has_text=ASSIGNMENTS[0]).wait_for(timeout=60_000)  # the table loads after the page
    screenshot(page, "formgrader_assignments")
    assert names.all_inner_texts() == ASSIGNMENTS


@pytest.fixture
def feedback_page(graded, browser):
    """bob's feedback page for 01_perceptron, opened from its file as a student would."""
    html = graded / "grader" / "feedback" / STUDENT / ASSIGNMENT / "perceptron.html"
    assert html.is_file(), f"grader feedback wrote no {html.relative_to(graded)}"
    context = browser.new_context(viewport=VIEWPORT)
    try:
        page = context.new_page()
        page.goto(html.as_uri())
        screenshot(page, f"feedback_{STUDENT}_{ASSIGNMENT}")
        yield page
    finally:
        context.close()


def test_a_feedback_page_shows_no_hidden_test(feedback_page):
    from tests.test_grading import _test_code_lines

    _, hidden = _test_code_lines(ROOT / "solutions" / ASSIGNMENT / "perceptron.ipynb")
    text = feedback_page.locator("body").inner_text()
    leaked = [line for line in hidden if line in text]
    assert not leaked, f"the feedback page shows hidden tests: {leaked[:3]}"


def test_a_feedback_page_opens_with_a_summary_of_the_graded_parts(graded, feedback_page):
    summary = feedback_page.locator("section#mlp-summary")
    assert summary.count() == 1, "no <section id='mlp-summary'> in the feedback page"
    points, maximum, parts = _gradebook(graded)

    total = summary.locator("p.mlp-total").inner_text()
    assert [float(n) for n in re.findall(r"\d+(?:\.\d+)?", total)[:2]] == [points, maximum], \
        f"the summary says {total!r}; the gradebook: {points:g} / {maximum:g}"
    header = summary.locator("table.mlp-parts tr").first.locator("th").all_inner_texts()
    assert [h.strip() for h in header] == ["Test", "Points", "Status"]
    rows = summary.locator("table.mlp-parts tr[data-status]")
    statuses = {rows.nth(i).locator("td a").first.get_attribute("href"): rows.nth(i).get_attribute("data-status")
                for i in range(rows.count())}
    assert set(statuses) == {f"#{part}" for part in parts}, "one row per graded part, linking to it"
    failed = {f"#{part}" for part, (score, most) in parts.items() if score < most}
    assert failed, f"{STUDENT} was expected to lose points on {ASSIGNMENT}"
    assert {link for link, status in statuses.items() if status == "failed"} == failed
    assert all(status == "passed" for link, status in statuses.items() if link not in failed)
    unresolved = [link for link in statuses if not feedback_page.evaluate(
        "id => !!(document.getElementById(id) || document.getElementsByName(id).length)", link[1:])]
    assert not unresolved, f"links to no element of the page: {unresolved}"


def _gradebook(course: Path) -> tuple[float, float, dict[str, tuple[float, float]]]:
    """bob's points, the assignment's maximum and (points, maximum) per graded part, as
    nbgrader's gradebook of the copy holds them."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'grader' / 'gradebook.db'}") as gradebook:
        submission = gradebook.find_submission(ASSIGNMENT, STUDENT)
        parts = {g.name: (float(g.score), float(g.max_score))
                 for notebook in submission.notebooks for g in notebook.grades}
        return float(submission.score), float(submission.max_score), parts
