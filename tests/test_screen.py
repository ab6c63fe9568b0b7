"""The screen of a hand-in's source (grader/screen.py): what it flags, what it leaves alone, and
that no honest hand-in -- a solution, a variant, code written independently of the tests, the
example class -- is flagged for review. Pure AST: fast, part of the normal suite."""

import copy
import csv

import nbformat
import pytest

from grader import batch
from grader.cells import grade_id, is_solution
from grader.course import ROOT
from grader.proving import corpus
from grader.proving.cases import all_cases
from grader.proving.variants import defines, make_submission, replace_definition
from grader.screen import NOTE, REVIEW, Flag, counts, screen, set_up_imports

PERCEPTRON = ("01_perceptron", "perceptron")


def _notebooks(assignment, notebook):
    return (nbformat.read(ROOT / "notebooks" / assignment / f"{notebook}.ipynb", as_version=4),
            nbformat.read(ROOT / "solutions" / assignment / f"{notebook}.ipynb", as_version=4))


def _with(base, replacements: dict[str, str], where: dict[str, int]):
    """``base`` with the definitions ``{target: source}`` replaced in their cells (only the changed
    cells are copied, and ``where`` remembers which cell defines what: screening hundreds of
    hand-ins stays quick)."""
    nb = copy.copy(base)
    nb.cells = list(base.cells)
    for target, source in replacements.items():
        if target not in where:   # as apply_variants does: the answer cell first
            where[target] = min((i for i, c in enumerate(base.cells) if c.cell_type == "code"
                                 and defines(c.source, target)), key=lambda i: not is_solution(base.cells[i]))
        cell = copy.copy(nb.cells[where[target]])
        cell.source = replace_definition(cell.source, target, source)
        nb.cells[where[target]] = cell
    return nb


def _reviews(nb, release):
    return [str(f) for f in screen(nb, release) if f.level == REVIEW]


def _perceptron_with(code: str, where: str = "accuracy"):
    """01's solution with ``code`` added at the end of the answer cell ``where``."""
    release, solution = _notebooks(*PERCEPTRON)
    nb = make_submission(release, solution)
    cell = next(c for c in nb.cells if grade_id(c) == where)
    cell.source += "\n" + code
    return nb, release


# ----------------------------------------------------------------------------- no honest hand-in
@pytest.mark.parametrize("case", all_cases(), ids=lambda c: c.ASSIGNMENT)
def test_no_solution_or_variant_is_flagged_for_review(case):
    release, solution = _notebooks(case.ASSIGNMENT, case.NOTEBOOK)
    base = make_submission(release, solution)
    assert _reviews(base, release) == []
    assert _reviews(solution, solution) == []
    where: dict[str, int] = {}
    for variant in case.VARIANTS:
        assert _reviews(_with(base, {variant.target: variant.source}, where), release) == [], variant.description


@pytest.mark.parametrize("path", sorted((ROOT / "tests" / "corpora" / "independent").glob("[a-z]*.py")),
                         ids=lambda p: p.stem)
def test_no_independently_written_entry_is_flagged_for_review(path):
    module = corpus.load(path)
    notebook = {"03_torch_scratch": "torch_scratch", "04_torch_nn": "torch_nn"}[module.ASSIGNMENT]
    release, solution = _notebooks(module.ASSIGNMENT, notebook)
    base = make_submission(release, solution)
    where: dict[str, int] = {}
    for entry in corpus.entries(module):   # correct, ambiguous and bug entries alike
        assert _reviews(_with(base, entry["functions"], where), release) == [], entry["name"]


def test_no_hand_in_of_the_example_class_is_flagged_for_review():
    hand_ins = sorted((ROOT / "grader" / "submitted").glob("*/*/*.ipynb"))
    assert hand_ins
    for path in hand_ins:
        release = nbformat.read(ROOT / "notebooks" / path.parent.name / path.name, as_version=4)
        assert _reviews(nbformat.read(path, as_version=4), release) == [], path


# ----------------------------------------------------------------------------- what it flags
REVIEWED = {
    "import sys": "imports sys",
    "import importlib": "imports importlib",
    "import pickle": "imports pickle",
    "from IPython import get_ipython": "imports IPython",
    "import numpy._core.numeric as n": "private internals",
    "from torch.overrides import TorchFunctionMode": "torch.overrides",
    "np.isclose = lambda *a, **k: True": "changes np.isclose",
    "del np.isclose": "changes np.isclose",
    "setattr(np, 'isclose', None)": "changes np.isclose",
    "T = np.ndarray\nT.x = 1": "changes T.x",
    "type(np.ones(1)).x = 1": "changes type(np.ones(1)).x",
    "np.__dict__['isclose'] = 1": "__dict__",
    "accuracy.__code__ = step.__code__": "__code__",
    "vars(np)['isclose'] = 1": "vars",
    "exec('1')": "exec",
    "eval('1')": "eval",
    "__import__('sys')": "__import__",
    "get_ipython().events": "get_ipython",
    "x = __builtins__": "__builtins__",
    "import os\nos.system('ls')": "os.system",
    "open('/tmp/x', 'w')": "outside the notebook's folder",
    "open('../x.py', 'w')": "outside the notebook's folder",
    "import torch\ntorch.load('x.pt', weights_only=False)": "unpickles",
    "np.load('x.npy', allow_pickle=True)": "unpickles",
    "x = b'\\x80\\x04\\x95'": "binary data",
    "class Liar:\n    def __eq__(self, other):\n        return True": "defines `__eq__`",
    "class Half(float):\n    pass": "derives from `float`",
    "class M(type):\n    pass\nclass C(metaclass=M):\n    pass": "metaclass",
    "np = None": "rebinds `np`",
    "def two_blobs(*args, **kwargs):\n    pass": "rebinds `two_blobs`",
    "def f():\n    global expect_close\n    expect_close = None": "rebinds the global `expect_close`",
    "!ls": "shell command",
    "%load_ext autoreload": "magic %load_ext",
    "%time np.isclose = None": "changes np.isclose",
    "getattr(np.ndarray, '__dict__')": "__dict__",
    "import operator\nf = operator.attrgetter('__globals__')": "attrgetter",
    "name = 'ctypes' + 'lib'": "'ctypeslib'",
}
ALLOWED = [
    "import math, random, copy, itertools, functools, collections, time",
    "import torch.nn.functional as F\nfrom torch import nn",
    "from utils.plots import plot_history",
    "import os\npath = os.path.join('a', 'b')\nos.makedirs('out', exist_ok=True)",
    "from torch import nn\nclass Net(nn.Module):\n    def __init__(self):\n"
    "        super().__init__()\n        self.w = 1\n"
    "    def forward(self, X):\n        return X",
    "def f(model):\n    model.w = 1\n    model.layer.weight.grad = None\n    setattr(model, 'b', 2)",
    "accuracy.calls = 0",
    "Perceptron.predict = lambda self, X: X",
    "plt.rcParams['figure.figsize'] = (4, 3)",
    "import torch\ntorch.backends.cudnn.deterministic = True",
    "def f(nonlin):\n    return getattr(np, nonlin)",
    "with open('notes.txt', 'w') as f:\n    f.write('x')",
    "if __name__ == '__main__':\n    print(type(np).__name__)",
    "%matplotlib inline",
    "%time x = np.ones(3)",
    "from IPython.display import display",
]


@pytest.mark.parametrize("code, words", REVIEWED.items(), ids=list(REVIEWED))
def test_what_reaches_the_interpreter_or_the_grading_is_flagged_for_review(code, words):
    nb, release = _perceptron_with(code)
    reasons = _reviews(nb, release)
    assert any(words in reason for reason in reasons), reasons
    assert all(": cell 15 (accuracy), line" in reason for reason in reasons)


@pytest.mark.parametrize("code", ALLOWED)
def test_what_answers_need_is_not_flagged(code):
    nb, release = _perceptron_with(code)
    assert screen(nb, release) == []


def test_an_unusual_library_is_a_note_not_a_review():
    nb, release = _perceptron_with("import scipy.special\nfrom sklearn.linear_model import LogisticRegression")
    flags = screen(nb, release)
    assert [f.level for f in flags] == [NOTE, NOTE]
    assert "scipy" in flags[0].reason and "fine to use" in flags[0].reason
    assert counts(flags) == "2 note"


def test_a_cell_that_does_not_parse_is_a_note():
    nb, release = _perceptron_with("def broken(:\n    pass")
    [flag] = screen(nb, release)
    assert (flag.level, flag.cell, flag.grade_id) == (NOTE, 15, "accuracy")
    assert "does not parse" in flag.reason


def test_cells_nbgrader_restores_are_not_screened_but_changed_or_new_cells_are():
    release, solution = _notebooks(*PERCEPTRON)
    nb = make_submission(release, solution)
    test = next(c for c in nb.cells if grade_id(c) == "test_accuracy")
    test.source = "import sys\n" + test.source          # restored from the gradebook: harmless
    setup = next(c for c in nb.cells if grade_id(c) == "setup")
    setup.source += "\nimport sys"                        # restored too (a read-only cell)
    assert screen(nb, release) == []
    del setup.metadata["nbgrader"]                        # no longer the course's: it runs as written
    nb.cells.append(nbformat.v4.new_code_cell("import ctypes"))
    reasons = [(f.cell, f.reason) for f in screen(nb, release)]
    assert any(cell == nb.cells.index(setup) and "imports sys" in r for cell, r in reasons)
    assert any(cell == len(nb.cells) - 1 and "imports ctypes" in r for cell, r in reasons)


def test_a_flag_is_a_level_a_cell_a_line_and_a_reason():
    nb, release = _perceptron_with("import sys")
    [flag] = screen(nb, release)
    data = flag.as_dict()
    assert data == {"level": "review", "cell": {"index": 15, "grade_id": "accuracy"},
                    "line": flag.line, "reason": flag.reason}
    assert Flag.from_dict(data) == flag
    assert str(flag).startswith("review: cell 15 (accuracy), line ")


def test_set_up_imports_are_what_the_guard_puts_back():
    release, _ = _notebooks("03_torch_scratch", "torch_scratch")
    imports = set_up_imports(release)
    assert imports["np"] == "numpy" and imports["torch"] == "torch"
    assert imports["load_fashion_mnist"] == "utils.data:load_fashion_mnist"
    assert "expect_close" not in imports   # the tests' own imports are theirs


def test_the_batch_report_lists_flags_beside_points(tmp_path):
    flags = [Flag(REVIEW, 15, "accuracy", 3, "imports sys"), Flag(NOTE, 4, "step", 1, "imports scipy")]
    rows = [batch.Row("alice", "01_perceptron", 12.0, 12.0, 3.0, "graded"),
            batch.Row("bob", "01_perceptron", 11.0, 12.0, 3.0, "graded", flags)]
    (tmp_path / "grader").mkdir()
    with open(batch.write_report(tmp_path, rows)) as f:
        report = {r["student"]: r for r in csv.DictReader(f)}
    assert report["alice"]["flags"] == ""
    assert report["bob"]["flags"].splitlines() == [str(flags[0]), str(flags[1])]
    assert report["bob"]["points"] == "11"   # a flag never changes points
    text = batch.format_report(rows)
    assert "1 review, 1 note" in text and str(flags[0]) in text
