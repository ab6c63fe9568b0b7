"""Every variant in grader/proving/cases: bugs lose points on their own function's test only, with the mistake named;
correct alternatives keep every test passing: each alone every unit test, and all of them, a
few notebooks that hold one alternative of each function, every test (the end-to-end training
runs too, once per notebook instead of once per alternative). Run in-process (see tests/inprocess.py); the
end-to-end grading of a representative few is in test_grading.py."""

import pytest

from grader.proving.cases import all_cases
from grader.proving.variants import apply_variants, grade_id
from tests.browser import unavailable
from tests.inprocess import read, run_cells

CASES = [(case, variant) for case in all_cases() for variant in case.VARIANTS]


def _solution(case):
    return read(f"solutions/{case.ASSIGNMENT}/{case.NOTEBOOK}.ipynb")


@pytest.mark.parametrize(
    "case, variant", [c for c in CASES if c[1].is_bug],
    ids=[f"{c.ASSIGNMENT}:{v.target}:{v.description}" for c, v in CASES if v.is_bug])
def test_bug_loses_points_on_its_own_test_only_and_is_named(case, variant):
    """One bug, one deduction: the bug fails the tests in ``variant.fails`` (its own function's),
    naming the mistake, and no other unit test; the end-to-end tests, which any bug on the
    pipeline may fail, are not run here."""
    # An end-to-end test that is also the bug's own test (02's test_MLP_fit for MLP.fit) is run.
    skip = tuple(gid for gid in case.END_TO_END if gid not in variant.fails)
    outcomes = run_cells(apply_variants(_solution(case), [variant]), skip=skip)
    for gid in variant.fails:
        assert gid in outcomes, f"{gid} is not a unit test cell of {case.NOTEBOOK}"
        assert not outcomes[gid].passed, f"{variant.description}: {gid} still passes"
    others = {gid: o.message for gid, o in outcomes.items() if not o.passed and gid not in variant.fails}
    assert not others, f"{variant.description}: also costs points in {others}"
    if variant.hint:
        messages = " | ".join(outcomes[gid].message for gid in variant.fails)
        assert variant.hint.lower() in messages.lower(), messages


@pytest.mark.parametrize(
    "case, variant", [c for c in CASES if not c[1].is_bug],
    ids=[f"{c.ASSIGNMENT}:{v.target}:{v.description}" for c, v in CASES if not v.is_bug])
def test_correct_alternative_passes_every_unit_test(case, variant):
    outcomes = run_cells(apply_variants(_solution(case), [variant]), skip=case.END_TO_END)
    failed = {gid: o.message for gid, o in outcomes.items() if not o.passed}
    assert not failed, failed


def _layers(case):
    """The correct alternatives of ``case`` in as few notebooks as can hold them: the k-th
    alternative of each function (or class) in the k-th notebook."""
    by_name: dict[str, list] = {}
    for variant in case.VARIANTS:
        if not variant.is_bug:
            by_name.setdefault(variant.function, []).append(variant)
    depth = max((len(group) for group in by_name.values()), default=0)
    return [[group[k] for group in by_name.values() if k < len(group)] for k in range(depth)]


LAYERS = {f"{case.ASSIGNMENT}:{k}": (case, layer) for case in all_cases() for k, layer in enumerate(_layers(case))}


@pytest.mark.parametrize("case, layer", list(LAYERS.values()), ids=list(LAYERS))
def test_correct_alternatives_together_pass_every_test(case, layer):
    """Every correct alternative also passes the end-to-end tests (the training runs that cost
    most): together with the other functions' alternatives, each notebook a correct solution
    written differently throughout; it passes every test, units included, and the notebook's
    own cells before them (its demonstrations use the student's functions too) run without an
    error."""
    outcomes = run_cells(apply_variants(_solution(case), layer), report_every_cell=True)
    failed = {gid: o.message for gid, o in outcomes.items() if not o.passed}
    assert not failed, (f"with the alternatives {[v.description for v in layer]} "
                        f"(one of them alone, test_correct_alternative_passes_every_unit_test): {failed}")


# Every cell of each solution, demonstrations included, runs in JupyterLab in test_browser.py,
# which also sees its figures; in process here only where the browser tests cannot run.
EVERY_CELL_IN_PROCESS = unavailable() is not None


@pytest.mark.parametrize("case", all_cases(), ids=lambda c: c.ASSIGNMENT)
def test_solution_passes_every_test_in_process(case):
    outcomes = run_cells(_solution(case), every_cell=EVERY_CELL_IN_PROCESS)
    assert outcomes, "the notebook has no test cells"
    failed = {gid: o.message for gid, o in outcomes.items() if not o.passed}
    assert not failed, failed
