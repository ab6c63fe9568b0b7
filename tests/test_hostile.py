"""Hostile and broken hand-ins (tests/corpora/hostile.py, tests/corpora/cheats.py, grader/THREATS.md):
a hang, a crash or a flood costs only what it breaks; a cheat gains nothing or is flagged for
review; no hand-in changes another's grading or the course; one batch run over all of them gives
the expected grades, twice."""

import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
import pytest

from grader import batch, course, time_limits
from grader.nbgrader_ext import boundary, sandbox
from grader.nbgrader_ext.preprocessors import COURSE_CHANGED
from grader.proving.inprocess import run_cells
from grader.proving.variants import make_submission
from grader.screen import REVIEW, screen
from tests.corpora import cheats, hostile
from tests.test_batch import _report, _test_scores

ROOT = course.ROOT
NOTEBOOK = f"{hostile.NOTEBOOK}.ipynb"
IN_PROCESS_CHEATS = ["patch_numpy", "patch_builtins_and_math"]   # the others need a kernel
ISOLATED = boundary.check("auto") is None   # grading kernels run inside the OS boundary here


def _notebooks(assignment=hostile.ASSIGNMENT, name=NOTEBOOK):
    return (nbformat.read(ROOT / "notebooks" / assignment / name, as_version=4),
            nbformat.read(ROOT / "solutions" / assignment / name, as_version=4))


def _passed(outcomes):
    return {test: outcome.passed for test, outcome in outcomes.items()}


def test_every_item_is_made_from_the_solution():
    release, solution = _notebooks()
    assert {item.kind for item in hostile.CORPUS} == {"kernel", "notebook", "file", "cheat"}
    for item in hostile.CORPUS:
        name, data = hostile.make(item, release, solution, "/course")
        assert name == (item.filename or NOTEBOOK)
        if item.code:
            source = "".join(c.source for c in nbformat.reads(data.decode(), as_version=4).cells)
            assert item.code.strip().splitlines()[-1].strip() in source.replace("'/course'", "COURSE_ROOT")
    assert hostile.make(hostile.BY_NAME["empty_file"], release, solution)[1] == b""


@pytest.mark.parametrize("name", IN_PROCESS_CHEATS)
def test_a_cheat_passes_wrong_code_unguarded_and_gains_nothing_guarded(name):
    release, solution = _notebooks()
    wrong = _passed(run_cells(make_submission(release, solution, [hostile.WRONG])))
    assert not wrong["test_accuracy"]
    _, data = hostile.make(hostile.BY_NAME[name], release, solution)
    cheat = nbformat.reads(data.decode(), as_version=4)
    assert _passed(run_cells(cheat, guarded=False))["test_accuracy"], "the cheat is no cheat"
    assert _passed(run_cells(cheat)) == wrong


# ----------------------------------------------------------------------------- the cheats' corpus
CHEAT_CASES = [(a, c) for a in cheats.TARGETS for c in cheats.cheats_for(a)]


def _target(assignment):
    target = cheats.TARGETS[assignment]
    return (target, *_notebooks(assignment, f"{target.notebook}.ipynb"))


def _failed(outcomes):
    return sorted(test for test, outcome in outcomes.items() if not outcome.passed)


@pytest.mark.parametrize("assignment", list(cheats.TARGETS))
def test_the_wrong_function_alone_fails_its_test_and_carries_no_flag(assignment):
    target, release, solution = _target(assignment)
    wrong = cheats.make(None, target, release, solution)
    assert _failed(run_cells(wrong)) == [target.test]
    assert screen(wrong, release) == []
    assert screen(cheats.make(None, target, release, solution, minimal=False), release) == []


@pytest.mark.parametrize("assignment, cheat", CHEAT_CASES, ids=[f"{a[:2]}-{c.name}" for a, c in CHEAT_CASES])
def test_every_cheat_is_flagged_for_review(assignment, cheat):
    target, release, solution = _target(assignment)
    flags = screen(cheats.make(cheat, target, release, solution), release)
    assert any(flag.level == REVIEW for flag in flags), f"{cheat.name} ({cheat.family}) goes unflagged"


IN_PROCESS = [(a, c) for a, c in CHEAT_CASES if c.in_process]


@pytest.mark.parametrize("assignment, cheat", IN_PROCESS, ids=[f"{a[:2]}-{c.name}" for a, c in IN_PROCESS])
def test_a_cheat_gains_nothing_where_the_guard_reaches_it(assignment, cheat):
    """Each cheat passes the wrong function unguarded (it is a cheat); with the guard, the same tests
    fail as for the wrong function alone -- unless it works during the test itself, beyond the
    guard's reach (then the flag above is what stands)."""
    target, release, solution = _target(assignment)
    nb = cheats.make(cheat, target, release, solution)
    assert _failed(run_cells(nb, guarded=False)) == [], "the cheat is no cheat"
    if cheat.guard_stops:
        assert _failed(run_cells(nb)) == [target.test]


def test_patching_torch_gains_nothing_either():
    """04's test of fit compares states with torch.equal/allclose: patched, they would pass a
    best state kept by reference."""
    from grader.proving.cases import torch_nn

    release, solution = _notebooks("04_torch_nn", "torch_nn.ipynb")
    bug = next(v for v in torch_nn.VARIANTS if v.description == "fit keeps the best state by reference")
    wrong = make_submission(release, solution, [bug])
    cheat = make_submission(release, solution, [bug])
    fit_cell = next(c for c in cheat.cells if c.cell_type == "code" and "def fit(" in c.source)
    fit_cell.source += "\n" + hostile.TORCH_CHEAT
    assert not run_cells(wrong, stop_after="test_fit")["test_fit"].passed
    assert run_cells(cheat, stop_after="test_fit", guarded=False)["test_fit"].passed, "the cheat is no cheat"
    assert not run_cells(cheat, stop_after="test_fit")["test_fit"].passed


def test_the_guard_puts_back_attributes_code_and_methods():
    import math

    import numpy as np
    import torch

    from grader.nbgrader_ext import guard

    guard.install()
    wrapped = np.printoptions.__wrapped__   # the function a decorator wraps (functools.wraps)

    def state():
        return (np.isclose, np.testing.assert_allclose.__code__, torch.allclose, math.isclose, wrapped.__code__)

    originals = state()
    try:
        np.isclose = torch.allclose = math.isclose = lambda *a, **k: True
        np.testing.assert_allclose.__code__ = wrapped.__code__ = (lambda *a, **k: None).__code__
        torch.Tensor.allclose = lambda *a, **k: True
        changed = guard.restore()
    finally:
        guard.restore()
    assert state() == originals
    assert "allclose" not in vars(torch.Tensor)
    assert set(changed) >= {"numpy.isclose", "torch.allclose", "math.isclose",
                            "numpy.testing._private.utils.assert_allclose.__code__", "torch.Tensor.allclose",
                            f"{wrapped.__module__}.{wrapped.__qualname__}.__code__"}
    assert guard.restore() == []


def test_the_guard_puts_back_the_import_system_hooks_and_global_state():
    import importlib.machinery
    import signal
    import types

    import numpy as np
    import torch

    from grader.nbgrader_ext import guard

    guard.install()
    meta_path, path_hooks, path = list(sys.meta_path), list(sys.path_hooks), list(sys.path)
    errors = np.geterr()
    try:
        sys.meta_path.insert(0, importlib.machinery.PathFinder)
        sys.path_hooks.insert(0, lambda entry: None)
        sys.path.insert(0, "/nowhere")
        sys.modules["numpy.fake"] = types.ModuleType("numpy.fake")
        np.__class__ = type("Lying", (types.ModuleType,), {})
        np.seterr(all="ignore")
        torch.set_grad_enabled(False)
        torch.set_default_dtype(torch.float64)
        signal.signal(signal.SIGUSR1, lambda *args: None)
        changed = guard.restore()
    finally:
        guard.restore()
    assert (list(sys.meta_path), list(sys.path_hooks), list(sys.path)) == (meta_path, path_hooks, path)
    assert "numpy.fake" not in sys.modules and type(np) is types.ModuleType and np.geterr() == errors
    assert torch.is_grad_enabled() and torch.get_default_dtype() == torch.float32
    assert signal.getsignal(signal.SIGUSR1) == signal.SIG_DFL
    assert set(changed) >= {"sys.meta_path (its entries)", "sys.path_hooks (its entries)", "sys.path (its entries)",
                            "sys.modules['numpy.fake'] (added)", "numpy.__class__", "numpy error state",
                            "torch grad mode", "torch default dtype", "signal handler SIGUSR1"}
    assert guard.restore() == []


def test_the_guard_snapshots_a_module_when_it_is_imported_and_drops_fakes():
    script = """
import sys, types
from grader.nbgrader_ext import guard
guard.install()
assert "torch" not in sys.modules
sys.modules["torch"] = types.SimpleNamespace(allclose=lambda *a, **k: True)   # a fake, before the real import
guard.restore()
import torch                          # the real one, snapshotted as its import ends
real = torch.allclose
torch.allclose = lambda *a, **k: True
assert "torch.allclose" in guard.restore() and torch.allclose is real
print("ok")
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT)
    assert out.stdout.strip() == "ok", out.stderr


def test_checkout_puts_back_changed_deleted_and_added_files(tmp_path):
    (tmp_path / "utils").mkdir()
    (tmp_path / "utils" / "checks.py").write_text("right")
    (tmp_path / "nbgrader_config.py").write_text("config")
    (tmp_path / "grader" / "autograded").mkdir(parents=True)
    checkout = sandbox.Checkout(tmp_path)
    (tmp_path / "utils" / "checks.py").write_text("hacked")
    (tmp_path / "nbgrader_config.py").unlink()
    (tmp_path / "utils" / "sitecustomize.py").write_text("planted")
    (tmp_path / "grader" / "autograded" / "out.ipynb").write_text("grading's own output")
    assert sorted(checkout.restore()) == ["nbgrader_config.py", "utils/checks.py", "utils/sitecustomize.py (added)"]
    assert (tmp_path / "utils" / "checks.py").read_text() == "right"
    assert (tmp_path / "nbgrader_config.py").read_text() == "config"
    assert not (tmp_path / "utils" / "sitecustomize.py").exists()
    assert (tmp_path / "grader" / "autograded" / "out.ipynb").exists()
    assert checkout.restore() == []


def test_a_kernel_workspace_holds_a_copy_of_the_checks_and_data_only():
    workspace = sandbox.make_workspace(ROOT)
    try:
        assert sorted(p.name for p in workspace.iterdir()) == ["data", "home", "utils"]
        assert (workspace / "utils" / "checks" / "assertions.py").read_bytes() == \
            (ROOT / "utils" / "checks" / "assertions.py").read_bytes()
        env = sandbox.kernel_environment(workspace, base={"PYTHONPATH": "/elsewhere",
                                                          "MALLOC_TRIM_THRESHOLD_": "65536"})
        assert env["PYTHONPATH"].split(os.pathsep) == [str(workspace), "/elsewhere"]
        assert "MALLOC_TRIM_THRESHOLD_" not in env   # a Dask worker's, slow for NumPy
        assert env["HOME"].startswith(str(workspace)) and env["IPYTHONDIR"].startswith(str(workspace))
    finally:
        shutil.rmtree(workspace)


def test_the_memory_limit_makes_a_huge_allocation_fail():
    assert sandbox.parse_size("6G") == 6 << 30 and sandbox.parse_size("512M") == 512 << 20
    script = "import numpy as np\ntry:\n    np.ones(2 ** 31)\nexcept MemoryError:\n    print('MemoryError')"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         preexec_fn=sandbox.limit_resources(1 << 30, None))
    assert out.stdout.strip() == "MemoryError", out.stderr


def test_kernels_run_as_an_unprivileged_user_only_when_it_can_run_python():
    with tempfile.TemporaryDirectory() as tmp:   # under /tmp: every folder above is searchable
        Path(tmp).chmod(0o755)
        program = Path(tmp, "private", "python")
        program.parent.mkdir()
        program.write_text("")
        program.chmod(0o755)
        program.parent.chmod(0o700)
        outsider = (os.getuid() + 12345, os.getgid() + 12345)
        assert not sandbox._usable_by(program, outsider)
        program.parent.chmod(0o755)
        assert sandbox._usable_by(program, outsider)
    if os.getuid() != 0:
        assert sandbox.kernel_owner("nobody") is None
    assert sandbox.kernel_owner("") is None


# ----------------------------------------------------------------------------- end to end
def _hostile_course(tmp_path, items):
    """A copy of the course (01_perceptron, its checks and data) whose hand-ins are ``items``."""
    for folder in (f"solutions/{hostile.ASSIGNMENT}", f"notebooks/{hostile.ASSIGNMENT}", "utils", "data"):
        shutil.copytree(ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "nbgrader_config.py", tmp_path)
    (tmp_path / time_limits.FILE).parent.mkdir(parents=True)
    shutil.copy(ROOT / time_limits.FILE, tmp_path / time_limits.FILE)
    release, solution = _notebooks()
    for item in items:
        name, data = hostile.make(item, release, solution, tmp_path)
        folder = tmp_path / "grader" / "submitted" / item.name / hostile.ASSIGNMENT
        folder.mkdir(parents=True)
        (folder / name).write_bytes(data)
    return tmp_path


def _files(root):
    return {p.relative_to(root): p.read_bytes() for p in sandbox.course_files(root)}


def _gradebook(root):
    with sqlite3.connect(root / "grader" / "gradebook.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        return sorted(db.execute("SELECT student.id, base_cell.name, grade.auto_score FROM grade "
                                 "JOIN submitted_notebook ON grade.notebook_id = submitted_notebook.id "
                                 "JOIN submitted_assignment ON submitted_notebook.assignment_id = submitted_assignment.id "
                                 "JOIN student ON submitted_assignment.student_id = student.id "
                                 "JOIN base_cell ON grade.cell_id = base_cell.id").fetchall())


@pytest.fixture
def quick_limits(monkeypatch):
    """Short limits, so that a hang costs seconds (01's honest cells take well under one): each
    cell's calibrated limit 2 x its seconds on the solution + 6 s, 10 s for the others."""
    monkeypatch.setenv("MLP_COURSE_TIME_LIMIT_FACTOR", "2")
    monkeypatch.setenv("MLP_COURSE_TIME_LIMIT_MARGIN", "6")
    monkeypatch.setenv("MLP_COURSE_CELL_TIMEOUT", "10")
    monkeypatch.setenv("MLP_COURSE_NOTEBOOK_TIMEOUT", "120")
    monkeypatch.setenv("MLP_COURSE_KERNEL_MEMORY", "2G")


@pytest.mark.slow
def test_the_whole_corpus_in_one_batch_twice(tmp_path, quick_limits):
    items = [i for i in hostile.CORPUS if i.name != "fork_bomb"]   # its own test, below
    root = _hostile_course(tmp_path, items)
    before = _files(root)
    rows = {r.student: r for r in batch.autograde(root=root, jobs=2, progress=False)}
    assert set(rows) == {i.name for i in items}
    assert _files(root) == before, "the course's files are not what they were"

    for item in items:
        row = rows[item.name]
        if item.problem:
            assert item.problem in row.status and not row.points, (item.name, row.status)
            continue
        assert row.status == "graded" or row.status.startswith(COURSE_CHANGED), (item.name, row.status)
        scores = _test_scores(root, item.name)
        maximum = {t: float(p) for t, p in _max_points(root).items()}
        assert scores == hostile.expected_scores(item, maximum), item.name
    if ISOLATED:   # the course is not in the kernel's view: nothing to write to, nothing to put back
        assert rows["rewrite_course"].status == "graded"
    else:   # named on the hand-in that wrote (and on any graded beside it then), whatever finished first
        assert COURSE_CHANGED in rows["rewrite_course"].status
        assert "utils/checks/assertions.py" in rows["rewrite_course"].status
    graded = root / "grader" / "autograded"
    assert "FOUND" not in _printed(graded / "read_hidden_tests" / hostile.ASSIGNMENT / NOTEBOOK)
    assert (graded / "megabytes_of_output" / hostile.ASSIGNMENT / NOTEBOOK).stat().st_size < 2_000_000
    assert "restored it from the assignment" in (graded / "test_edited" / hostile.ASSIGNMENT / NOTEBOOK).read_text()
    # Only a changed test cell says so, not one whose hidden tests the release left out.
    assert "restored it from the assignment" not in _printed(graded / "megabytes_of_output" / hostile.ASSIGNMENT / NOTEBOOK)
    assert "put back" in (graded / "patch_numpy" / hostile.ASSIGNMENT / NOTEBOOK).read_text()
    # The endless loop stopped at its cell's calibrated limit, under the flat 10 s (the batch
    # ships the measurements to its workers).
    stopped = re.search(r"its time limit of (\d+) s ran out \(the course's solution runs this cell in",
                        _printed_errors(graded / "endless_loop" / hostile.ASSIGNMENT / NOTEBOOK))
    assert stopped and int(stopped[1]) < 10, "the endless loop was not stopped at its calibrated limit"
    report = _report(root)
    assert set(report) == {(i.name, hostile.ASSIGNMENT) for i in items}
    for name in ("patch_numpy", "silence_tracebacks", "rewrite_own_checks"):   # flagged, never penalised
        assert "review: " in report[(name, hostile.ASSIGNMENT)]["flags"], name
    assert "before this test the grader put back" in report[("patch_numpy", hostile.ASSIGNMENT)]["flags"]
    assert report[("answer_as_markdown", hostile.ASSIGNMENT)]["flags"] == ""

    # Again, forced, the hand-ins that reach for the course, the gradebook or the interpreter
    # (the others' second grading would repeat the first): the same grades, an intact gradebook.
    first = _gradebook(root)
    again_items = [i for i in items if i.kind in ("cheat", "file") or i.edit in ("raise_points", "rename_test")]
    for item in items:
        if item not in again_items:
            shutil.rmtree(root / "grader" / "submitted" / item.name)
    before = _files(root)
    again = batch.autograde(root=root, jobs=2, force=True, progress=False)
    assert len(again) == len(again_items) >= 10
    assert _gradebook(root) == first
    assert _files(root) == before


def _printed(path):
    """Everything the cells of the notebook at ``path`` printed."""
    return "".join(o.get("text", "") for c in nbformat.read(path, as_version=4).cells
                   for o in c.get("outputs", []))


def _printed_errors(path):
    """The error messages of the notebook at ``path``'s cells."""
    return "".join(o.get("evalue", "") for c in nbformat.read(path, as_version=4).cells
                   for o in c.get("outputs", []) if o.get("output_type") == "error")


def _max_points(root):
    from nbgrader.api import Gradebook

    with Gradebook(course.config(root).CourseDirectory.db_url) as gb:
        nb = gb.find_notebook(hostile.NOTEBOOK, hostile.ASSIGNMENT)
        return {cell.name: cell.max_score for cell in nb.grade_cells}


@pytest.mark.slow
def test_a_fork_bomb_is_stopped_by_the_process_limit(tmp_path, quick_limits):
    owner = sandbox.kernel_owner("nobody")
    if not sandbox.process_limit_enforced(owner):
        pytest.skip("fork bomb: no process limit can hold here (grading runs as root and this "
                    f"Python, {os.path.realpath(sys.executable)}, is not usable by 'nobody')")
    item = hostile.BY_NAME["fork_bomb"]
    root = _hostile_course(tmp_path, [item])
    [row] = batch.autograde(root=root, jobs=1, progress=False)
    assert row.status == "graded"
    assert _test_scores(root, item.name) == hostile.expected_scores(item, _max_points(root))


# The kernel's cheats that the guard puts back, tried together in one hand-in through nbgrader.
KERNEL_CHEATS = ("sys_modules_entry", "meta_path_finder", "path_importer_cache", "path_hook", "package_path",
                 "input_transformer", "ast_transformer", "event_callback", "shell_method", "custom_exception_handler")


@pytest.mark.slow
def test_grader_score_sees_through_the_cheats_at_once(tmp_path):
    """One hand-in with the wrong accuracy and every in-kernel cheat the guard reaches, through
    `grader score`: the wrong accuracy still fails, nothing else changes, and the JSON's flags say
    what the screen found and what the guard put back."""
    from grader.score import score

    release, solution = _notebooks()
    nb = make_submission(release, solution, [hostile.WRONG])
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == hostile.TARGET)
    # Inside the OS boundary the kernel's checks are read-only: rewriting them raises, and the
    # cheats after it would not run (the batch's corpus grades it on its own).
    own_checks = [] if ISOLATED else ["rewrite_own_checks"]
    for name in ("patch_numpy", "patch_builtins_and_math", "silence_tracebacks", *own_checks):
        cell.source += "\n" + hostile.BY_NAME[name].code
    for name in KERNEL_CHEATS:
        cell.source += "\n" + cheats.BY_NAME[name].code
    path = tmp_path / NOTEBOOK
    nbformat.write(nb, path)
    result = score(path)
    assert (result["score"], result["max_score"]) == (11, 12)
    accuracy = next(t for t in result["tests"] if t["grade_id"] == "test_accuracy")
    assert accuracy["score"] == 0 and "divide the number of matches" in accuracy["feedback"]
    assert {"level", "cell", "line", "reason"} <= set(result["flags"][0])
    screened = [f for f in result["flags"] if f["cell"]["grade_id"] == hostile.TARGET]
    restored = " ".join(f["reason"] for f in result["flags"] if f["line"] is None)
    assert screened and all(f["level"] == REVIEW for f in screened)
    for put_back in ("numpy.isclose", "sys.meta_path", "shell.ast_transformers", "utils.__path__",
                     "sys.modules['numpy']", "shell.transform_cell"):
        assert put_back in restored, put_back


@pytest.mark.slow
def test_grader_score_sees_through_torch_cheats(tmp_path):
    """03's wrong relu with a torch function mode and two kernel cheats, through `grader score`."""
    from grader.score import score

    target, release, solution = _target("03_torch_scratch")
    nb = cheats.make(cheats.BY_NAME["torch_function_mode"], target, release, solution)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == target.answer)
    for name in ("event_callback", "meta_path_finder"):
        cell.source += "\n" + cheats.BY_NAME[name].code
    path = tmp_path / f"{target.notebook}.ipynb"
    nbformat.write(nb, path)
    result = score(path)
    relu = next(t for t in result["tests"] if t["grade_id"] == target.test)
    assert relu["score"] == 0, relu["feedback"]
    restored = " ".join(f["reason"] for f in result["flags"] if f["line"] is None)
    assert "torch function modes" in restored and "shell.events" in restored


def test_output_is_cut_to_a_size_as_well_as_to_lines():
    from grader.nbgrader_ext.preprocessors import LimitOutputSize

    cell = nbformat.v4.new_code_cell("print('x' * 50_000)")
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="x" * 50_000 + "\n")]
    cell, _ = LimitOutputSize(max_characters=1000).preprocess_cell(cell, {}, 0)
    assert len(cell.outputs[0].text) < 1100 and "Output truncated (50,001 characters)" in cell.outputs[0].text
