"""The committed notebooks are what they claim to be: notebooks/ is nbgrader's release of
solutions/, both are clean, every graded function has visible and hidden tests, and the
example class matches the current notebooks."""

import json

import nbformat
import pytest

from grader import course, pipeline
from grader.examples import example_submissions

ROOT = course.ROOT
SOURCES = sorted((ROOT / "solutions").glob("*/*.ipynb"))


def _cells(path):
    return nbformat.read(path, as_version=4).cells


def test_release_is_exactly_what_nbgrader_makes_of_solutions(tmp_path):
    written = pipeline.release(target=tmp_path)
    made = {p.relative_to(tmp_path / "notebooks"): json.loads(p.read_text()) for p in written}
    committed = {p.relative_to(ROOT / "notebooks"): json.loads(p.read_text())
                 for p in sorted((ROOT / "notebooks").glob("*/*.ipynb"))}
    assert sorted(made) == sorted(committed), "notebooks/ and solutions/ hold different notebooks"
    for name, nb in made.items():
        assert committed[name] == nb, f"notebooks/{name} is stale: run `python -m grader release`"


@pytest.mark.parametrize("path", SOURCES + sorted((ROOT / "notebooks").glob("*/*.ipynb")),
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_notebooks_are_committed_clean(path):
    for cell in _cells(path):
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None, cell.source[:80]
            assert not any(line.lstrip().startswith(("%", "!")) for line in cell.source.splitlines()), \
                "no magics: the tests run cells in plain Python"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.parent.name)
def test_every_test_cell_has_points_visible_and_hidden_tests(path):
    tests = [c for c in _cells(path) if c.metadata.get("nbgrader", {}).get("grade")]
    assert tests
    for cell in tests:
        meta = cell.metadata["nbgrader"]
        assert meta.get("points", 0) > 0 and meta["locked"], meta["grade_id"]
        visible, _, hidden = cell.source.partition("### BEGIN HIDDEN TESTS")
        assert hidden and "### END HIDDEN TESTS" in hidden, f"{meta['grade_id']} has no hidden tests"
        code = [line for line in visible.splitlines() if line.strip() and not line.startswith("#")]
        assert code, f"{meta['grade_id']} has no visible tests"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.parent.name)
def test_every_answer_cell_is_released_blank(path):
    released = {c.metadata["nbgrader"]["grade_id"]: c for c in
                _cells(ROOT / "notebooks" / path.relative_to(ROOT / "solutions"))}
    for cell in _cells(path):
        if cell.metadata["nbgrader"].get("solution"):
            blank = released[cell.metadata["nbgrader"]["grade_id"]].source
            assert "raise NotImplementedError()" in blank and "BEGIN SOLUTION" not in blank


def test_example_class_is_up_to_date():
    for relative, nb in example_submissions().items():
        committed = nbformat.read(ROOT / relative, as_version=4)
        assert committed == nb, f"{relative} is stale: run `python -m grader examples`"


def test_assignments_are_the_solution_folders_in_order():
    assert course.assignments() == sorted(p.parent.name for p in SOURCES)
    assert course.assignments()[0] == "01_perceptron"
