"""The course in a real browser: JupyterLab of the project's environment on a temporary copy
of the course, driven by Playwright in Debian's Chromium.

- Each release notebook opens, runs (Run > Run All Cells) and shows, under its first test,
  the course's one-line feedback ("not answered yet"), not a traceback; nbgrader's Validate
  button is in its toolbar.
- Each solution notebook runs without an error, and every cell that plots shows its figure.
- Formgrader (Nbgrader > Formgrader) lists the course's assignments.
- A student's feedback page opens with a summary of the graded parts and shows no hidden test;
  opened with the network cut off, it draws its formulas (MathML, made with the page), its
  figures fit the page, and bob's answers read as a student wrote them (no nbgrader markers).
- The Validate button passes solution 04 as grading would run it (demos skipped).

Each test leaves a screenshot in tests/artifacts/browser/. Skips in one line where Chromium
or Playwright is missing (``.ci/run`` installs Chromium; requirements.txt, Playwright).
"""

import json
import re
import time
from pathlib import Path

import pytest

from tests.browser import (CHROMIUM, CHROMIUM_ARGS, CELLS, NOTEBOOK, ROOT, VIEWPORT, JupyterLab,
                           close_everything, load_lab, menu, notebook_content, open_notebook,
                           plotting_cells, run_all_cells, screenshot, screenshot_notebook,
                           screenshot_path, unavailable)

if unavailable():
    pytest.skip(unavailable(), allow_module_level=True)
from playwright import sync_api  # noqa: E402 -- only where it is installed

# One JupyterLab and one browser for the whole module: under pytest-xdist, run with
# `--dist loadgroup` so that all of them go to the same worker.
pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.xdist_group("graded_course")]

RELEASES = sorted(p.relative_to(ROOT).as_posix() for p in ROOT.glob("notebooks/0*_*/*.ipynb"))
SOLUTIONS = sorted(p.relative_to(ROOT).as_posix() for p in ROOT.glob("solutions/0*_*/*.ipynb"))
ASSIGNMENTS = [Path(p).parent.name for p in SOLUTIONS]
STUDENT, ASSIGNMENT = "bob", "01_perceptron"  # bob's hand-in has two bugs (grader/examples.py)

RELEASE_RUN_MS = 5 * 60_000   # answers missing: the run stops at the first test
SOLUTION_RUN_MS = 10 * 60_000  # 03 and 04 train for about a minute on two quiet cores
VALIDATE_MS = 5 * 60_000       # validation skips the demos: well under a minute on two quiet cores
NARROW = {"width": 800, "height": 1000}  # a laptop's half screen: figures and formulas must still fit


@pytest.fixture(scope="module")
def course(graded_course_copy):
    """The shared graded copy of the course (tests/conftest.py), with a CIFAR-10 stand-in."""
    root, _ = graded_course_copy
    _write_cifar_sample(root / "data")
    return root


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


@pytest.fixture(scope="module")
def lab_page(browser, lab):
    """One browser window with JupyterLab loaded, for the module's tests (see ``page``)."""
    context = browser.new_context(viewport=VIEWPORT)
    try:
        page = context.new_page()
        load_lab(page, lab)
        yield page
    finally:
        context.close()


@pytest.fixture
def page(lab_page, lab):
    """The window with JupyterLab, as loaded: no tab, dialog or kernel of an earlier test. After
    the test its tabs close unsaved and its kernels shut down."""
    try:
        yield lab_page
    finally:
        close_everything(lab_page, lab)


@pytest.fixture(scope="module")
def graded(course):
    """The instructor's steps on the copy (tests/conftest.py: release, the example class,
    autograde of the class, everyone's feedback)."""
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


def test_the_validate_button_passes_solution_04_as_grading_runs_it(lab, page):
    """nbgrader's Validate button runs the course's validation (nbgrader_config.py: demos
    skipped, the course's time limits): the correct notebook 04 passes, without running its
    training demos."""
    notebook = next(n for n in SOLUTIONS if n.startswith("solutions/04_"))
    open_notebook(page, lab, notebook)
    validate = page.locator(f"{NOTEBOOK} .jp-Toolbar").get_by_role("button", name="Validate")
    start = time.monotonic()
    validate.click()
    dialog = page.locator(".jp-Dialog")
    dialog.get_by_text("Validation Results").wait_for(timeout=VALIDATE_MS)
    seconds = time.monotonic() - start
    screenshot(page, f"validate_{_name(notebook)}")
    body = dialog.locator(".jp-Dialog-body").inner_text()
    assert dialog.locator(".validation-success").count() == 1, f"validation did not pass:\n{body[:3000]}"
    assert "Success! Your notebook passes all the tests." in body
    print(f"the Validate button passed {notebook} in {seconds:.0f} s")


def _offline_context(browser, viewport, requested: list):
    """A browser window with no network: every request to another host is recorded and fails."""
    context = browser.new_context(viewport=viewport, offline=True)

    def refuse(route):
        requested.append(route.request.url)
        route.abort()

    context.route(re.compile(r"^(https?|wss?|ftp)://"), refuse)
    return context


def test_a_feedback_page_offline_draws_its_formulas_and_fits_figures_and_answers(graded, browser):
    """bob's feedback page opened from its file with the network cut off (a lab without internet,
    a page saved for later): the formulas are drawn, no LaTeX source shows, nothing is fetched
    from another host, figures and formulas fit a narrow window, and bob's answer cells are
    his code only (no nbgrader markers)."""
    html = graded / "grader" / "feedback" / STUDENT / ASSIGNMENT / "perceptron.html"
    requested: list[str] = []
    context = _offline_context(browser, VIEWPORT, requested)
    try:
        page = context.new_page()
        page.goto(html.as_uri())
        page.wait_for_load_state("load")
        screenshot(page, f"feedback_offline_{STUDENT}_{ASSIGNMENT}")

        prose = "\n".join(page.locator(".text_cell_render").all_inner_texts())
        assert prose, "no markdown cell in the page"
        source = re.findall(r"\$[^$\n]*\\[A-Za-z]+[^$\n]*\$|\\(?:mathbf|frac|hat|sum)\b", prose)
        assert not source, f"LaTeX source shows in the page: {source[:5]}"
        formulas = page.locator(".text_cell_render math")
        assert formulas.count() > 0, "no formula (MathML) in the page"
        empty = page.evaluate("""() => [...document.querySelectorAll('.text_cell_render math')]
            .filter(m => { const r = m.getBoundingClientRect(); return r.width <= 0 || r.height <= 0; })
            .map(m => m.textContent)""")
        assert not empty, f"formulas drawn with no size: {empty[:5]}"
        # Laid out as mathematics, not as a run of letters on one baseline: a subscript sits lower
        # than its base, a superscript higher, a fraction's numerator above its denominator.
        laid_out = page.evaluate("""() => [...document.querySelectorAll('msub, msup, mfrac')].map(e => {
            const [first, second] = [...e.children].map(c => c.getBoundingClientRect());
            const ok = e.tagName === 'msub' ? second.bottom > first.bottom + 1
                     : e.tagName === 'msup' ? second.top < first.top - 1
                     : first.bottom <= second.top + 1;
            return [e.tagName, ok]; })""")
        assert laid_out, "no subscript, superscript or fraction to look at"
        flat = [tag for tag, ok in laid_out if not ok]
        assert not flat, f"{len(flat)} of {len(laid_out)} formulas' parts are not laid out as mathematics: {flat[:5]}"

        step_answer = page.locator(".nbgrader_cell", has_text="def step(").first
        step_answer.scroll_into_view_if_needed()
        step_answer.screenshot(path=str(screenshot_path(f"feedback_{STUDENT}_answer_step")))
        answers = "\n".join(page.locator(".nbgrader_cell", has_text="Student's answer").all_inner_texts())
        assert "def step(" in answers
        markers = [m for m in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN", "END HIDDEN") if m in answers]
        assert not markers, f"bob's answers show nbgrader's markers {markers}"

        page.set_viewport_size(NARROW)
        page.wait_for_timeout(300)
        overflow = page.evaluate("""() => {
            const width = document.documentElement.clientWidth;
            const wide = [...document.querySelectorAll('img, svg, math[display="block"]')]
                .filter(e => e.getBoundingClientRect().right > width + 1)
                .map(e => e.tagName + ' ' + Math.round(e.getBoundingClientRect().width) + 'px');
            return {page: document.documentElement.scrollWidth - width, wide};
        }""")
        screenshot(page, f"feedback_offline_{STUDENT}_{ASSIGNMENT}_narrow")
        assert page.locator(".output_area img, .output_png img").count() > 0, "no figure in the page"
        assert not overflow["wide"], f"wider than a {NARROW['width']} px window: {overflow['wide']}"
        assert overflow["page"] <= 0, f"the page scrolls sideways by {overflow['page']} px"
    finally:
        context.close()
    assert not requested, f"the page asked another host for {requested}"


def _gradebook(course: Path) -> tuple[float, float, dict[str, tuple[float, float]]]:
    """bob's points, the assignment's maximum and (points, maximum) per graded part, as
    nbgrader's gradebook of the copy holds them."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'grader' / 'gradebook.db'}") as gradebook:
        submission = gradebook.find_submission(ASSIGNMENT, STUDENT)
        parts = {g.name: (float(g.score), float(g.max_score))
                 for notebook in submission.notebooks for g in notebook.grades}
        return float(submission.score), float(submission.max_score), parts
