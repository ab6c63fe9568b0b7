"""Hostile and broken hand-ins, made from the solutions: what one batch run must survive.

Each :class:`Hostile` is a hand-in of ``01_perceptron`` (the quickest notebook to grade) that
hangs, crashes, floods, tampers or cheats, and says what grading it must give: which tests
lose their points (all others keep theirs), and for a hand-in that cannot be graded, the
words of the report's line. A *cheat* is the same wrong code as :data:`WRONG` plus the
cheat: it must score exactly what :data:`WRONG` alone scores. Every item is made from the
solution and the release on the fly (``make(item, release, solution)``), never hand-copied.

The test suite grades them (``tests/test_hostile.py``): the cheats in process and end to end,
the whole corpus through ``grader autograde --jobs 2``; ``grader/THREATS.md`` says what each
defence is and what is out of reach. The cheats here patch the libraries' public names; those
that go around them, family by family, are in ``tests/corpora/cheats.py``.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path

import nbformat

from grader.proving.variants import Variant, grade_id, is_solution, make_submission

ASSIGNMENT, NOTEBOOK = "01_perceptron", "perceptron"
TARGET = "accuracy"                 # the answer the hostile code goes into
TARGET_TEST = ("test_accuracy",)    # the only test that calls it

# The wrong code every cheat tries to pass off as right: accuracy returns a count.
WRONG = Variant(TARGET, '''
def accuracy(y_pred, y):
    return float(np.sum(np.asarray(y_pred) == np.asarray(y)))
''', "accuracy returns a count", TARGET_TEST)


@dataclass(frozen=True)
class Hostile:
    """A hand-in that attacks grading, and what grading it must give.

    kind
        ``"kernel"``: code that hangs, crashes or floods the kernel; ``"notebook"``: a
        tampered notebook structure; ``"file"``: a file that is no gradable notebook;
        ``"cheat"``: :data:`WRONG` plus code meant to make it pass.
    code
        For ``kernel``/``cheat``: the new body of ``accuracy`` (a ``def``) or, with
        ``top_level``, code appended to its answer cell (run once, when the cell runs).
    fails
        The tests that must lose their points; every other test keeps full points.
    problem
        Words the batch report's line for this hand-in must contain (``None``: "graded").
    """

    name: str
    kind: str
    description: str
    code: str = ""
    top_level: bool = False
    fails: tuple[str, ...] = TARGET_TEST
    problem: str | None = None
    edit: str | None = None        # for kind "notebook"/"file": the name of a change below
    filename: str | None = None    # the file the hand-in is saved as (default: the notebook's)


def _accuracy(body: str, first_call_only: bool = False) -> str:
    """A ``def accuracy`` running ``body``; with ``first_call_only``, only on its first call
    (the test's), so that the notebook's later demonstrations cost no second time limit. The
    call is marked in a file of the kernel's working folder: the fresh kernel that replaces a
    stuck one replays the answer cells, and a mark kept in the function would start again."""
    lines = body.strip().splitlines()
    if first_call_only:
        lines = ["import pathlib",
                 "if pathlib.Path('accuracy_was_called').exists():",
                 "    return float(np.mean(np.asarray(y_pred) == np.asarray(y)))",
                 "pathlib.Path('accuracy_was_called').touch()"] + lines
    return "def accuracy(y_pred, y):\n" + "".join(f"    {line}\n" for line in lines)


CORPUS = [
    # -- kernels that hang: the cell's (or the notebook's) time limit; the rest is graded
    Hostile("endless_loop", "kernel", "accuracy loops forever", _accuracy("while True:\n    pass", first_call_only=True)),
    Hostile("sleep_forever", "kernel", "accuracy sleeps forever",
            _accuracy("import time\ntime.sleep(10 ** 6)", first_call_only=True)),
    Hostile("busy_native_call", "kernel", "accuracy computes the eigenvalues of a 6000 x 6000 "
            "matrix (minutes inside LAPACK, which ignores the interrupt)",
            _accuracy("return float(abs(np.linalg.eigvals(np.random.rand(6000, 6000))).max())",
                      first_call_only=True)),
    # -- kernels that die or exit: one test lost, the notebook graded on
    Hostile("os_exit", "kernel", "accuracy calls os._exit", _accuracy("import os\nos._exit(3)")),
    Hostile("sys_exit", "kernel", "accuracy calls sys.exit()", _accuracy("import sys\nsys.exit()")),
    Hostile("raise_system_exit", "kernel", "the answer cell raises SystemExit after defining accuracy",
            "raise SystemExit(0)", top_level=True, fails=()),
    Hostile("segfault", "kernel", "accuracy dereferences a null pointer through ctypes",
            _accuracy("import ctypes\nreturn ctypes.string_at(0)")),
    Hostile("kill_9", "kernel", "accuracy kills its own kernel with SIGKILL",
            _accuracy("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)")),
    Hostile("memory_hog", "kernel", "accuracy allocates far more memory than the machine has",
            _accuracy("hoard = [np.ones(2 ** 27) for _ in range(10 ** 4)]  # 1 GiB each, touched\nreturn 0.0")),
    Hostile("fork_bomb", "kernel", "accuracy forks until no process is left (the children sleep a minute)",
            _accuracy("import os, time\nwhile True:\n    if os.fork() == 0:\n        time.sleep(60)\n        os._exit(0)")),
    Hostile("megabytes_of_output", "kernel", "the answer cell prints 20 MB",
            "print('x' * 20_000_000)", top_level=True, fails=()),
    Hostile("exceptions_everywhere", "kernel", "every answer cell raises before defining anything",
            edit="raise_in_every_answer", fails=("test_step", "test_predict", "test_update",
                                                 "test_train_perceptron", "test_accuracy", "test_blobs")),
    # -- tampered notebook structure: nbgrader restores the tests from the gradebook
    Hostile("answer_as_markdown", "notebook", "accuracy's answer cell turned into markdown "
            "(nbgrader turns it back into code)", edit="answer_to_markdown", fails=()),
    Hostile("test_deleted", "notebook", "test_accuracy's cell deleted", edit="delete_test"),
    Hostile("test_edited", "notebook", "test_accuracy's cell replaced by `pass` (with the wrong accuracy)",
            edit="edit_test"),
    Hostile("tests_reordered", "notebook", "the last test cell moved to the end of the notebook",
            edit="move_test", fails=()),
    Hostile("points_raised", "notebook", "test_accuracy's points metadata raised to 100 (wrong accuracy)",
            edit="raise_points"),
    Hostile("grade_id_changed", "notebook", "test_accuracy's grade_id renamed (wrong accuracy)",
            edit="rename_test"),
    Hostile("other_kernel", "notebook", "the notebook claims to be an R notebook", edit="r_kernel", fails=()),
    # -- files that are no gradable notebook: a report line, zero for the notebook
    Hostile("malformed_json", "file", "the notebook file is not JSON", edit="not_json",
            problem="not a readable notebook"),
    Hostile("empty_file", "file", "the notebook file is empty", edit="empty", problem="not a readable notebook"),
    Hostile("nbformat_3", "file", "the notebook is in the old nbformat 3", edit="nbformat3", fails=()),
    Hostile("wrong_name", "file", "the notebook is saved under another name", edit="same",
            filename="Perceptron (1).ipynb", problem="is not one of the assignment's notebooks"),
    Hostile("missing_notebook", "file", "the hand-in holds only a text file", edit="same",
            filename="notes.txt", problem="0 points for perceptron.ipynb"),
    # -- cheats: the wrong accuracy scores what it scores without them
    Hostile("patch_numpy", "cheat", "numpy's comparisons always say equal", '''
import numpy
numpy.isclose = lambda a, b, *args, **kwargs: numpy.ones(numpy.broadcast(a, b).shape, bool)
numpy.allclose = numpy.array_equal = lambda *args, **kwargs: True
numpy.all = lambda *args, **kwargs: True
''', top_level=True),
    Hostile("patch_builtins_and_math", "cheat", "abs, all and math.isclose lie", '''
import builtins, math
builtins.abs = lambda x: 0 * x
builtins.all = lambda *args: True
math.isclose = lambda *args, **kwargs: True
''', top_level=True),
    Hostile("silence_tracebacks", "cheat", "IPython's error display switched off (nbgrader's known cheat)", '''
from IPython.core.interactiveshell import InteractiveShell
InteractiveShell.showtraceback = lambda *args, **kwargs: None
get_ipython().showtraceback = lambda *args, **kwargs: None
get_ipython()._showtraceback = lambda *args, **kwargs: None
''', top_level=True),
    Hostile("rewrite_own_checks", "cheat", "rewrites the checks it imports (utils.checks on disk) to pass", '''
import utils.checks.assertions as _checks
with open(_checks.__file__, "a") as _f:
    _f.write("\\ndef expect_close(*args, **kwargs):\\n    return None\\n")
''', top_level=True),
    Hostile("rewrite_course", "cheat", "rewrites the course's checks, config and another hand-in by absolute path", '''
import pathlib
for _name in ("utils/checks/assertions.py", "nbgrader_config.py", "solutions/01_perceptron/perceptron.ipynb"):
    _path = pathlib.Path(COURSE_ROOT, _name)
    if _path.exists():
        _path.write_text("# hacked\\n")
for _other in pathlib.Path(COURSE_ROOT, "grader", "submitted").glob("*/01_perceptron/perceptron.ipynb"):
    _other.write_text("{}")
''', top_level=True),
    Hostile("read_hidden_tests", "cheat", "looks for the hidden tests where it runs and where its "
            "checks come from (the folders above them, not a search of the whole disk) and prints them", '''
import pathlib, utils
_places = [pathlib.Path.cwd(), pathlib.Path(utils.__file__).resolve().parent]
for _base in [p for place in _places for p in (place, *list(place.parents)[:2])]:
    for _found in [*_base.glob("solutions/*/*.ipynb"), *_base.glob("source/*/*.ipynb"), *_base.glob("gradebook.db")]:
        print("FOUND", _found, _found.read_text(errors="replace")[:1000])
''', top_level=True),
]

# Patching torch gains nothing either: shown on 04_torch_nn, whose test of `fit` compares the
# best state with torch.equal and torch.allclose (see tests/test_hostile.py).
TORCH_CHEAT = """
import torch
torch.equal = torch.allclose = lambda *args, **kwargs: True
torch.Tensor.equal = torch.Tensor.allclose = lambda *args, **kwargs: True
torch.testing.assert_close = lambda *args, **kwargs: None
"""

BY_NAME = {item.name: item for item in CORPUS}
assert len(BY_NAME) == len(CORPUS), "corpus names must be unique"


def make(item: Hostile, release, solution, course_root: str | Path = ".") -> tuple[str, bytes]:
    """The hand-in for ``item``: ``(file name, file content)``.

    ``course_root`` is where the course being graded lives (what an attack by absolute path
    aims at: the ``COURSE_ROOT`` of the cheat ``rewrite_course``).
    """
    name = item.filename or f"{NOTEBOOK}.ipynb"
    variants = [WRONG] if item.kind == "cheat" or item.edit in ("edit_test", "raise_points", "rename_test") else []
    if item.kind in ("kernel", "cheat") and not item.top_level and item.code:
        variants = [Variant(TARGET, item.code, item.description, item.fails)]
    nb = make_submission(release, solution, variants)
    if item.top_level:
        cell = _cell(nb, TARGET)
        code = item.code.strip().replace("COURSE_ROOT", repr(str(course_root)))
        cell.source = cell.source.rstrip("\n") + "\n\n" + code + "\n"
    if item.edit:
        edited = EDITS[item.edit](nb)
        if isinstance(edited, bytes):
            return name, edited
        nb = edited
    return name, nbformat.writes(nb).encode()


def expected_scores(item: Hostile, maximum: dict[str, float]) -> dict[str, float]:
    """The points each test must get: 0 for the tests in ``item.fails``, full for the others."""
    return {test: 0.0 if test in item.fails else points for test, points in maximum.items()}


def _cell(nb, gid: str):
    return next(c for c in nb.cells if grade_id(c) == gid)


def _raise_in_every_answer(nb):
    for cell in nb.cells:
        if is_solution(cell) and cell.cell_type == "code":
            cell.source = "raise RuntimeError('no')\n" + cell.source
    return nb


def _answer_to_markdown(nb):
    cell = _cell(nb, TARGET)
    cell.cell_type = "markdown"
    cell.pop("outputs", None)
    cell.pop("execution_count", None)
    return nb


def _delete_test(nb):
    nb.cells = [c for c in nb.cells if grade_id(c) != TARGET_TEST[0]]
    return nb


def _edit_test(nb):
    _cell(nb, TARGET_TEST[0]).source = "pass\n"
    return nb


def _move_test(nb):
    last = [c for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade")][-1]
    nb.cells.remove(last)
    nb.cells.append(last)
    return nb


def _raise_points(nb):
    _cell(nb, TARGET_TEST[0]).metadata["nbgrader"]["points"] = 100
    return nb


def _rename_test(nb):
    _cell(nb, TARGET_TEST[0]).metadata["nbgrader"]["grade_id"] = "my_own_test"
    return nb


def _r_kernel(nb):
    nb.metadata["kernelspec"] = {"name": "ir", "display_name": "R", "language": "R"}
    nb.metadata["language_info"] = {"name": "R"}
    return nb


def _nbformat3(nb):
    from nbformat import v4

    return nbformat.writes(v4.downgrade(copy.deepcopy(nb)), version=3).encode()


EDITS = {
    "raise_in_every_answer": _raise_in_every_answer,
    "answer_to_markdown": _answer_to_markdown,
    "delete_test": _delete_test,
    "edit_test": _edit_test,
    "move_test": _move_test,
    "raise_points": _raise_points,
    "rename_test": _rename_test,
    "r_kernel": _r_kernel,
    "not_json": lambda nb: b"{this is not json",
    "empty": lambda nb: b"",
    "nbformat3": _nbformat3,
    "same": lambda nb: nb,
}
