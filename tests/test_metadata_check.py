"""The course's CheckCellMetadata (grader/nbgrader_ext/preprocessors.py) is nbgrader's, with the
metadata's JSON schema compiled once: on every notebook of the course and on every corruption of
a cell's nbgrader metadata tried here, it accepts what nbgrader accepts and fails as nbgrader
fails (the same error, the same message)."""

import copy

import nbformat
import pytest
from nbgrader import preprocessors as nbgrader_preprocessors

from grader import course
from grader.nbgrader_ext.preprocessors import CheckCellMetadata

ROOT = course.ROOT
NOTEBOOKS = sorted(p.relative_to(ROOT).as_posix() for p in ROOT.glob("[sn]*/0*_*/*.ipynb"))


def _outcome(preprocessor_class, nb):
    try:
        preprocessor_class().preprocess(copy.deepcopy(nb), {})
    except Exception as exc:  # noqa: BLE001 -- the outcome compared is whatever was raised
        return type(exc), str(exc)
    return None


def _same_as_nbgraders(nb, what=""):
    ours = _outcome(CheckCellMetadata, nb)
    assert ours == _outcome(nbgrader_preprocessors.CheckCellMetadata, nb), what
    return ours


@pytest.mark.parametrize("path", NOTEBOOKS)
def test_the_course_notebooks_pass_both(path):
    assert _same_as_nbgraders(nbformat.read(ROOT / path, as_version=4)) is None


def _corruptions(meta: dict):
    """Each key deleted or given a value of another type; an unknown key; other schema versions."""
    for key in meta:
        yield f"{key} deleted", {k: v for k, v in meta.items() if k != key}
        for value in (None, "text", 7, 2.5, True, []):
            if type(value) is not type(meta[key]):
                yield f"{key}={value!r}", {**meta, key: value}
    yield "an unknown key", {**meta, "sneaky": 1}
    for version in (0, 1, 2, 4):
        yield f"schema_version={version}", {**meta, "schema_version": version}


def test_every_corruption_of_a_cells_metadata_fails_as_nbgraders_does():
    solution = nbformat.read(ROOT / "solutions/01_perceptron/perceptron.ipynb", as_version=4)
    kinds = {}   # one cell of each kind: answer, test, locked set-up
    for cell in solution.cells:
        meta = cell.metadata.get("nbgrader")
        if meta:
            kinds.setdefault((cell.cell_type, meta["grade"], meta["solution"], meta["locked"]), cell)
    assert len(kinds) >= 3, kinds
    nb = copy.deepcopy(solution)
    nb.cells = list(kinds.values())   # a notebook of these cells only: quick to check
    failures = 0
    for index, cell in enumerate(nb.cells):
        for what, meta in _corruptions(cell.metadata.nbgrader):
            corrupted = copy.deepcopy(nb)
            corrupted.cells[index].metadata.nbgrader = meta
            failures += _same_as_nbgraders(corrupted, what) is not None
    assert failures > 50, "most corruptions must fail (else this test compares nothing)"


def test_a_duplicate_grade_id_and_a_changed_cell_type_fail_as_nbgraders_do():
    nb = nbformat.read(ROOT / "solutions/02_numpy_mlp/numpy_mlp.ipynb", as_version=4)
    graded = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
    duplicate = copy.deepcopy(nb)
    duplicate.cells.append(copy.deepcopy(graded[0]))
    retyped = copy.deepcopy(nb)
    answer = next(c for c in retyped.cells if c.metadata.get("nbgrader", {}).get("solution"))
    answer.cell_type = "markdown"
    answer.metadata.nbgrader["cell_type"] = "code"
    for corrupted in (duplicate, retyped):
        assert _same_as_nbgraders(corrupted) is not None
