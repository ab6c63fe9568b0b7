"""`grader mutants`: its operators, its sample, its equivalence list, and, on a fixture
assignment with deliberately weak tests, that a known wrong implementation survives until the
tests are strengthened."""

import ast
import json
import textwrap
import tomllib

import nbformat
import pytest

from grader.proving import mutants
from grader.proving.mutation_operators import OPERATORS, mutations

OPERATOR = {op.name: op for op in OPERATORS}


def changes(code: str, operator: str) -> list[str]:
    """The one-line diffs that ``operator`` makes of the function in ``code``."""
    function = ast.parse(textwrap.dedent(code)).body[0]
    before = ast.unparse(function)
    return [mutants.one_line_diff(before, ast.unparse(m))
            for _, m in mutations(function, operators=[OPERATOR[operator]])]


@pytest.mark.parametrize("operator, code, expected", [
    ("axis", "def f(X):\n    return X.sum(axis=0)", "return X.sum(axis=0) -> return X.sum(axis=1)"),
    ("axis", "def f(O):\n    return O.max(dim=1)", "return O.max(dim=1) -> return O.max(dim=0)"),
    ("sum_mean", "def f(x):\n    return np.sum(x)", "return np.sum(x) -> return np.mean(x)"),
    ("sum_mean", "def f(x):\n    return x.mean()", "return x.mean() -> return x.sum()"),
    ("keepdims", "def f(Z):\n    return Z.max(axis=1, keepdims=True)",
     "return Z.max(axis=1, keepdims=True) -> return Z.max(axis=1)"),
    ("transpose", "def f(d, A):\n    return d.T @ A", "return d.T @ A -> return d @ A"),
    ("transpose", "def f(d, A):\n    return d @ A", "return d @ A -> return d.T @ A"),
    ("transpose", "def f(d, A):\n    return d @ A", "return d @ A -> return d @ A.T"),
    ("strictness", "def f(z):\n    return z > 0", "return z > 0 -> return z >= 0"),
    ("strictness", "def f(z):\n    return z <= 0", "return z <= 0 -> return z < 0"),
    ("statement_deleted", "def f(opt):\n    opt.zero_grad()\n    opt.step()", "opt.zero_grad() -> (deleted)"),
    ("statement_deleted", "def f(p):\n    p.grad.zero_()", "p.grad.zero_() -> pass"),
    ("statement_deleted", "def f(model):\n    model.eval()\n    return 1", "model.eval() -> (deleted)"),
    ("statement_deleted", "def f(p, lr):\n    p -= lr * p.grad\n    p.grad = None",
     "p -= lr * p.grad -> (deleted)"),
    ("statement_deleted", "def f(p, lr):\n    p -= lr * p.grad\n    p.grad = None", "p.grad = None -> (deleted)"),
    ("no_grad_removed", "def f(m, X):\n    with torch.no_grad():\n        return m(X)",
     "with torch.no_grad(): -> (deleted)"),
    ("device_removed", "def f(X, device):\n    return X.to(device)", "return X.to(device) -> return X"),
    ("device_removed", "def f(n, device):\n    return torch.zeros(n, device=device)",
     "return torch.zeros(n, device=device) -> return torch.zeros(n)"),
    ("max_not_subtracted", "def f(Z):\n    return np.exp(Z - Z.max(axis=1, keepdims=True))",
     "return np.exp(Z - Z.max(axis=1, keepdims=True)) -> return np.exp(Z)"),
    ("max_not_subtracted", "def f(O):\n    return O - O.max(dim=1, keepdim=True).values",
     "return O - O.max(dim=1, keepdim=True).values -> return O"),
    # mutmut's operators
    ("number", "def f(x):\n    return x + 1", "return x + 1 -> return x + 2"),
    ("swap_op", "def f(a, b):\n    return a - b", "return a - b -> return a + b"),
    ("argument_removal", "def f(z):\n    return np.where(z > 0, 1, 0)", "return np.where(z > 0, 1, 0) -> return np.where(z > 0, 0)"),
    ("name", "def f(m):\n    return copy.deepcopy(m)", "return copy.deepcopy(m) -> return copy.copy(m)"),
    ("augmented_assignment", "def f(t, x):\n    t += x\n    return t", "t += x -> t = x"),
])
def test_each_operator_makes_the_expected_mutant(operator, code, expected):
    assert expected in changes(code, operator)


def test_statement_deletion_leaves_plain_assignments_and_docstrings_alone():
    code = 'def f(x):\n    """Doc."""\n    y = x + 1\n    return y'
    assert changes(code, "statement_deleted") == []


# ------------------------------------------------------------------ a fixture assignment

SETUP = "import numpy as np"
STEP = '''def step(z):
    """1 where z > 0, else 0."""
    scale = 1  # given code, outside the solution: never mutated
    ### BEGIN SOLUTION
    return np.where(z > 0, scale, 0)
    ### END SOLUTION'''
ROW_MEANS = '''def row_means(X):
    """The mean of each row of X (n, d): shape (n,)."""
    ### BEGIN SOLUTION
    return X.mean(axis=1)
    ### END SOLUTION'''
WEAK = {"test_step": "assert list(step(np.array([-1.0, 2.0]))) == [0, 1]",
        "test_row_means": "assert np.allclose(row_means(np.ones((2, 2))), [1, 1])"}
STRONG = {"test_step": "assert list(step(np.array([-1.0, 0.0, 0.5, 2.0]))) == [0, 0, 1, 1]",
          "test_row_means": "assert np.allclose(row_means(np.array([[1.0, 2, 3], [4, 5, 6]])), [2, 5])"}
SURVIVOR = ("step", "return np.where(z > 0, scale, 0) -> return np.where(z >= 0, scale, 0)")


def _cell(source, grade_id, solution=False, points=None):
    meta = {"grade": points is not None, "grade_id": grade_id, "locked": not solution,
            "schema_version": 3, "solution": solution, "task": False}
    if points is not None:
        meta["points"] = points
    return nbformat.v4.new_code_cell(source, metadata={"nbgrader": meta})


def write_fixture(folder, tests):
    """A solution notebook with two graded functions and the given test cells."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [_cell(SETUP, "setup"), _cell(STEP, "step", solution=True),
                _cell(tests["test_step"], "test_step", points=1),
                _cell(ROW_MEANS, "row_means", solution=True),
                _cell(tests["test_row_means"], "test_row_means", points=1)]
    path = folder / "fixture" / "fixture.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def test_mutants_are_made_from_solution_code_only(tmp_path):
    found = mutants.generate(nbformat.read(write_fixture(tmp_path, WEAK), as_version=4))
    assert {m.target for m in found} == {"step", "row_means"}
    assert not [m for m in found if "scale = " in m.diff], "the given code was mutated"
    assert ("step", SURVIVOR[1]) in {(m.target, m.diff) for m in found}
    assert len({m.id for m in found}) == len(found)
    only = mutants.generate(nbformat.read(write_fixture(tmp_path, WEAK), as_version=4), "row_means")
    assert only and {m.target for m in only} == {"row_means"}


def test_a_sample_is_reproducible_and_keeps_every_course_mutant():
    nb = mutants.resolve("02_numpy_mlp")[0]
    everything = mutants.generate(nbformat.read(nb, as_version=4))
    first, again = mutants.sample(everything, 10, seed=3), mutants.sample(everything, 10, seed=3)
    assert [m.id for m in first] == [m.id for m in again]
    assert sum(not m.course for m in first) == 10
    assert {m.id for m in everything if m.course} <= {m.id for m in first}
    assert [m.id for m in mutants.sample(everything, 10, seed=4)] != [m.id for m in first]
    assert mutants.sample(everything, None) == everything


def test_equivalence_list_entries_round_trip(tmp_path):
    mutant = mutants.Mutant("f", "number", False, 'x["a"] + 1 -> x["a"] + 2', "def f(x): ...")
    path = tmp_path / "equivalent.toml"
    path.write_text(mutants.toml_entry("01_x", mutant, "a 'reason' with \"quotes\""))
    assert mutants.load_equivalents(path) == {("01_x", "f", mutant.diff): "a 'reason' with \"quotes\""}
    assert mutants.load_equivalents(tmp_path / "missing.toml") == {}
    path.write_text('[[mutant]]\nassignment = "01_x"\nfunction = "g"\ndiff = ["a -> b", "a -> c"]\n'
                    'reason = "one reason for both"\n')
    assert mutants.load_equivalents(path) == {("01_x", "g", "a -> b"): "one reason for both",
                                              ("01_x", "g", "a -> c"): "one reason for both"}
    with open(mutants.EQUIVALENTS, "rb") as file:  # the committed list: every entry has a reason
        entries = tomllib.load(file).get("mutant", [])
    assert all(e["reason"].strip() and "TODO" not in e["reason"] for e in entries)


def _grade(path, equivalents):
    return mutants.run(path, "fixture", equivalents=equivalents, progress=False)


def test_weak_tests_let_a_known_mutant_survive_and_strong_tests_kill_it(tmp_path):
    no_list = tmp_path / "none.toml"
    weak = _grade(write_fixture(tmp_path / "weak", WEAK), no_list)
    status = {(r.mutant.target, r.mutant.diff): r.status for r in weak.results}
    assert status[SURVIVOR] == mutants.SURVIVED
    assert status[("row_means", "return X.mean(axis=1) -> return X.mean(axis=0)")] == mutants.SURVIVED
    assert weak.counts(weak.results)["kill_rate"] < 1

    strong = _grade(write_fixture(tmp_path / "strong", STRONG), no_list)
    assert {(r.mutant.target, r.mutant.diff): r.status for r in strong.results}[SURVIVOR] == mutants.KILLED
    assert strong.counts(strong.results)["survived"] == 0, mutants.format_text(strong)
    killer = next(r for r in strong.results if (r.mutant.target, r.mutant.diff) == SURVIVOR)
    assert killer.detail.startswith("test_step")


def test_listed_equivalents_are_counted_apart_and_never_as_killed(tmp_path):
    listed = tmp_path / "equivalent.toml"
    mutant = mutants.Mutant(*SURVIVOR[:1], "strictness", True, SURVIVOR[1], "")
    listed.write_text(mutants.toml_entry("fixture", mutant, "pretend z = 0 does not matter")
                      + mutants.toml_entry("fixture", mutants.Mutant("step", "x", False, "gone -> away", ""),
                                           "an entry that no mutant matches any more"))
    report = mutants.run(write_fixture(tmp_path, WEAK), "fixture", function="step", equivalents=listed,
                         progress=False)
    total = report.counts(report.results)
    assert total["equivalent"] == 1 and total["killed"] + total["survived"] + 1 == total["mutants"]
    assert report.stale == ["step: gone -> away"]
    text = mutants.format_text(report)
    assert "Equivalent" in text and "pretend z = 0" in text
    data = report.as_dict()
    assert data["functions"]["step"]["equivalent"] == 1 and json.dumps(data)


def test_a_mutant_that_hangs_times_out_and_grading_goes_on(tmp_path):
    path = write_fixture(tmp_path, STRONG)
    hang = "def row_means(X):\n    while True:\n        pass\n"
    with mutants.Pool(path, jobs=1) as pool:
        out = pool.grade([[("row_means", hang)], [("row_means", "def row_means(X):\n    return X.sum(1)\n")],
                          [("step", "def step(z)\n")]], timeout=5)   # a wide margin on a busy machine
    assert [status for status, _, _ in out] == [mutants.TIMED_OUT, mutants.KILLED, mutants.CRASHED]
    assert "test_row_means" in out[1][1] and "SyntaxError" in out[2][1]


def test_workers_share_the_cores_and_respect_omp_num_threads(monkeypatch):
    monkeypatch.setattr(mutants.os, "cpu_count", lambda: 8)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    assert [mutants.threads_per_worker(j) for j in (1, 2, 3, 16)] == [8, 4, 2, 1]
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert mutants.threads_per_worker(2) == 1


def test_the_command_line_refuses_what_it_cannot_grade(capsys):
    from grader.cli import main

    assert main(["mutants", "no_such_assignment"]) == 2
    assert "unknown assignment" in capsys.readouterr().err


@pytest.mark.slow
def test_mutants_of_the_perceptron_through_the_command_line(capsys):
    from grader.cli import main

    assert main(["mutants", "01_perceptron", "--function", "step", "--limit", "3", "--end-to-end", "1",
                 "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["total"]["mutants"] >= 3 and report["functions"].keys() == {"step"}
    assert report["end_to_end"] and all(check["agrees"] for check in report["end_to_end"])
