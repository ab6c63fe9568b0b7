"""grader.proving.variants: a variant is the solution with one definition replaced, exactly there."""

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from grader.proving.variants import Variant, apply_variants, defines, make_submission, replace_definition

SOURCE = '''import numpy as np

@decorator
def f(x):
    return x

class Model:
    """doc"""

    def predict(self, X):
        return X

    def update(self, x):
        return 1

TAIL = 1
'''


def test_replace_top_level_function_with_decorator():
    out = replace_definition(SOURCE, "f", "def f(x):\n    return -x\n")
    assert "@decorator" not in out and "return -x" in out
    assert out.startswith("import numpy as np\n\ndef f(x):") and out.endswith("TAIL = 1\n")


def test_replace_method_is_reindented_and_keeps_the_rest():
    out = replace_definition(SOURCE, "Model.update", "\n    def update(self, x):\n        return 2\n")
    assert "    def update(self, x):\n        return 2\n" in out
    assert "def predict(self, X):\n        return X" in out and out.endswith("TAIL = 1\n")
    compile(out, "<variant>", "exec")


def test_unknown_target_is_an_error():
    assert defines(SOURCE, "Model.predict") and not defines(SOURCE, "Model.fit")
    with pytest.raises(KeyError):
        replace_definition(SOURCE, "g", "def g(): pass")
    assert not defines("def broken(:", "broken")


def _nb(*cells):
    nb = new_notebook(cells=[])
    for source, gid, solution in cells:
        cell = new_code_cell(source)
        cell.metadata["nbgrader"] = {"grade_id": gid, "solution": solution}
        nb.cells.append(cell)
    return nb


def test_make_submission_fills_answers_then_applies_variants():
    solution = _nb(("def f(x):\n    return x\n", "f", True), ("def g():\n    return 1\n", "g", True),
                   ("assert f(1) == 1", "test_f", False))
    release = _nb(("def f(x):\n    raise NotImplementedError()\n", "f", True),
                  ("def g():\n    raise NotImplementedError()\n", "g", True),
                  ("assert f(1) == 1", "test_f", False))
    bug = Variant("f", "def f(x):\n    return -x\n", "negates", ("test_f",), "sign")
    nb = make_submission(release, solution, [bug], unanswered=["g"])
    assert [c.source for c in nb.cells] == ["def f(x):\n    return -x\n",
                                            "def g():\n    raise NotImplementedError()\n",
                                            "assert f(1) == 1"]
    assert release.cells[0].source.endswith("NotImplementedError()\n"), "inputs are not modified"
    assert bug.is_bug and not Variant("f", "", "ok").is_bug


def test_apply_variant_prefers_the_answer_cell():
    nb = _nb(("def helper():\n    return 0\n", "test_x", False), ("def helper():\n    return 1\n", "a", True))
    out = apply_variants(nb, [Variant("helper", "def helper():\n    return 2\n", "x")])
    assert out.cells[0].source.endswith("return 0\n") and out.cells[1].source.endswith("return 2\n")
    with pytest.raises(KeyError):
        apply_variants(nb, [Variant("missing", "def missing(): pass", "x")])
    assert isinstance(out, nbformat.NotebookNode)


def test_in_process_runs_skip_demo_cells_as_autograde_does():
    from tests.inprocess import run_cells

    nb = _nb(("x = 1", "setup", False), ("raise RuntimeError('a slow demo')", "demo", False),
             ("assert x == 1", "test_x", False))
    nb.cells[1].metadata["tags"] = ["demo"]
    nb.cells[2].metadata["nbgrader"]["grade"] = True
    assert run_cells(nb)["test_x"].passed
    everything = run_cells(nb, every_cell=True)
    assert not everything["demo"].passed, "a full run (the solution's own check) runs the demos too"


def test_in_process_runs_start_from_the_set_up_cells_as_they_left_things(tmp_path):
    """The set-up cells run once (they count their runs in a file); every later run gets its own
    copy of what they made, and the random generators where they left them, as a fresh run would."""
    from tests.inprocess import run_cells

    runs = tmp_path / "runs"
    nb = _nb((f"import numpy as np\nopen({str(runs)!r}, 'a').write('run ')\n"
              "np.random.seed(0)\ndata = {'x': np.zeros(3)}", "setup", False),
             ("data['x'] += 1\ndraw = np.random.rand()", "answer", True),
             ("assert data['x'].tolist() == [1, 1, 1]\nassert draw == np.random.RandomState(0).rand()", "test", False))
    nb.cells[2].metadata["nbgrader"]["grade"] = True
    for _ in range(3):
        assert run_cells(nb)["test"].passed
    assert runs.read_text() == "run "
