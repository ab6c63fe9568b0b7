"""Cheats: a wrong function plus a few lines meant to make its test pass anyway, one per family.

Each :class:`Cheat` is what a student who has read the course's code (it is public) could add to
the answer cell of a wrong function: :data:`TARGETS` gives it, for ``01_perceptron`` (``accuracy``
returns a count) and ``03_torch_scratch`` (``relu`` returns ``|X|``). The cheats do not touch the
names the old guard knew (NumPy's and torch's public functions); they go through what lies
around them: private submodules, the import system, the interpreter's and IPython's hooks, the
notebook's namespace, the guard itself, code hidden in strings and pickles. Most make NumPy's
comparisons lie (the checks compare with ``numpy.isclose``), each by its own way in.

What grading must do with each (``tests/test_hostile.py``): the screen of the hand-in
(``grader.screen``) flags it for review, whatever else happens; and where the guard can reach it
(``guard_stops``), the cheat gains nothing: the same tests fail as for the wrong function alone.
``in_process``: the cheat works, and is tested, in ``grader.proving.inprocess.run_cells``
(otherwise it needs IPython's kernel, or would outlive the run: an audit hook, a thread).
``grader/THREATS.md`` says what is out of the guard's reach and why.
"""

from __future__ import annotations

import base64
import copy
import pickle
import textwrap
from dataclasses import dataclass

from grader.cells import grade_id
from grader.proving.variants import Variant, make_submission


@dataclass(frozen=True)
class Target:
    """The wrong function the cheats try to pass off as right, and its test."""

    assignment: str
    notebook: str
    answer: str                  # grade_id of the answer cell, and the function's name
    test: str                    # grade_id of its test
    set_up: tuple[str, ...]      # grade_ids of the set-up cells the test needs (imports)
    wrong: Variant


TARGETS = {
    "01_perceptron": Target("01_perceptron", "perceptron", "accuracy", "test_accuracy", ("setup",), Variant(
        "accuracy", "def accuracy(y_pred, y):\n    return float(np.sum(np.asarray(y_pred) == np.asarray(y)))\n",
        "accuracy returns a count", ("test_accuracy",))),
    "03_torch_scratch": Target("03_torch_scratch", "torch_scratch", "relu", "test_relu", ("imports",), Variant(
        "relu", "def relu(X):\n    return X.abs()\n", "relu returns |X|", ("test_relu",))),
}

# What most cheats install: numpy.isclose that finds everything close.
LIE = "_np.ones(_np.broadcast(a, b).shape, bool)"
_PREAMBLE = f"import numpy as _np\n_lie = lambda a, b, *args, **kwargs: {LIE}\n"
# The names of the course's checks that the tests call, made to pass everything.
NO_CHECKS = ("expect_close", "expect_equal", "expect_differentiable", "expect_on_device",
             "expect_device_consistent")


@dataclass(frozen=True)
class Cheat:
    """One family of cheat.

    code
        Added at the end of the wrong function's answer cell (runs once, when the cell runs).
    inside
        Lines put at the start of the wrong function's body (run each time the test calls it).
    in_process
        It works in ``run_cells`` (no kernel needed) and leaves nothing running after it.
    guard_stops
        With the guard, it gains nothing (else only the screen's flag stands between it and
        the points: the guard cannot reach code that runs during the test itself).
    """

    name: str
    family: str
    code: str = ""
    inside: str = ""
    in_process: bool = True
    guard_stops: bool = True


def _payload_pickle() -> bytes:
    class Run:
        def __reduce__(self):
            return exec, ("import numpy\nnumpy.isclose = lambda a, b, *args, **kwargs: "
                          "numpy.ones(numpy.broadcast(a, b).shape, bool)",)
    return pickle.dumps(Run())


_HIDDEN = base64.b64encode(b"import numpy\nnumpy.isclose = lambda a, b, *args, **kwargs: "
                           b"numpy.ones(numpy.broadcast(a, b).shape, bool)\n").decode()

# A fake ``utils.checks``: the real one, with the checks that fail the wrong code made to pass.
_FAKE_CHECKS_MODULE = """
import importlib.machinery as _machinery
import sys as _sys

class _FakeChecks:
    def find_spec(self, name, path=None, target=None):
        if name != "utils.checks.assertions":
            return None
        spec = _machinery.PathFinder.find_spec(name, path)
        real_exec = spec.loader.exec_module
        def exec_module(module):
            real_exec(module)
            module.expect_close = module.expect_equal = lambda *args, **kwargs: None
        spec.loader.exec_module = exec_module
        return spec
"""

CHEATS = [
    # -- the libraries' private insides
    Cheat("private_module_global", "a global that numpy.isclose runs through, in NumPy's private "
          "numpy._core.numeric (its less_equal)", """
import numpy._core.numeric as _numeric
_numeric.less_equal = lambda *args, **kwargs: True
"""),
    Cheat("code_object", "numpy.isclose's implementation gets the code object of a function that "
          "says 'close' everywhere", _PREAMBLE + """
def _everywhere(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    import numpy as _np
    return _np.ones(_np.broadcast(a, b).shape, bool)
_np.isclose._implementation.__code__ = _everywhere.__code__
"""),
    Cheat("module_class_swap", "the numpy module's __class__ swapped for a ModuleType subclass whose "
          "attribute look-up answers isclose with a lie", _PREAMBLE + """
import types as _types
class _Lying(_types.ModuleType):
    def __getattribute__(self, name):
        return _lie if name == "isclose" else super().__getattribute__(name)
_np.__class__ = _Lying
"""),
    # -- the import system
    Cheat("sys_modules_entry", "sys.modules['numpy'] replaced by a copy whose isclose lies (the "
          "checks, imported afresh for each test, import it)", _PREAMBLE + """
import sys as _sys, types as _types
_copy = _types.ModuleType("numpy")
_copy.__dict__.update(vars(_np))
_copy.isclose = _lie
_sys.modules["numpy"] = _copy
""", in_process=False),
    Cheat("meta_path_finder", "a finder first on sys.meta_path serves utils.checks.assertions with "
          "expect_close and expect_equal that pass everything", _FAKE_CHECKS_MODULE + """
_sys.meta_path.insert(0, _FakeChecks())
""", in_process=False),
    Cheat("path_importer_cache", "the cached finder of the checks' folder replaced by one that serves "
          "a passing assertions module", _FAKE_CHECKS_MODULE + """
import os as _os, utils as _utils
_folder = _os.path.join(_os.path.dirname(_utils.__file__), "checks")
class _Finder:
    def find_spec(self, name, target=None):
        return _FakeChecks().find_spec(name, [_folder])
    def invalidate_caches(self):
        pass
_sys.path_importer_cache[_folder] = _Finder()
""", in_process=False),
    Cheat("path_hook", "a path hook first on sys.path_hooks (and the importer cache cleared) makes "
          "the finder of the checks' folder", _FAKE_CHECKS_MODULE + """
def _hook(entry):
    if entry.rstrip("/").endswith("checks"):
        class _Finder:
            def find_spec(self, name, target=None):
                return _FakeChecks().find_spec(name, [entry])
            def invalidate_caches(self):
                pass
        return _Finder()
    raise ImportError(entry)
_sys.path_hooks.insert(0, _hook)
_sys.path_importer_cache.clear()
""", in_process=False),
    Cheat("package_path", "a folder of its own first on utils.__path__, holding a utils/checks "
          "package that wraps the real one with passing checks", """
import os as _os, tempfile as _tempfile, utils as _utils
_fake = _tempfile.mkdtemp()
_os.makedirs(_os.path.join(_fake, "checks"))
_real = _os.path.join(_os.path.dirname(_utils.__file__), "checks")
with open(_os.path.join(_fake, "checks", "__init__.py"), "w") as _f:
    _f.write(f"__path__ = [{_real!r}]\\n"
             f"exec(compile(open({_os.path.join(_real, '__init__.py')!r}).read(), 'checks', 'exec'))\\n"
             "expect_close = expect_equal = lambda *args, **kwargs: None\\n")
_utils.__path__.insert(0, _fake)
""", in_process=False),
    Cheat("fake_package_on_sys_path", "a fake utils package first on sys.path, and the real one dropped "
          "from sys.modules, so that the checks' next import finds the fake", """
import os as _os, sys as _sys, tempfile as _tempfile, utils as _utils
_fake = _tempfile.mkdtemp()
_real = _os.path.dirname(_utils.__file__)
_os.makedirs(_os.path.join(_fake, "utils", "checks"))
with open(_os.path.join(_fake, "utils", "__init__.py"), "w") as _f:
    _f.write(f"__path__ = [{_os.path.join(_fake, 'utils')!r}, {_real!r}]\\n")
with open(_os.path.join(_fake, "utils", "checks", "__init__.py"), "w") as _f:
    _f.write(f"__path__ = [{_os.path.join(_real, 'checks')!r}]\\n"
             f"exec(compile(open({_os.path.join(_real, 'checks', '__init__.py')!r}).read(), 'checks', 'exec'))\\n"
             "expect_close = expect_equal = lambda *args, **kwargs: None\\n")
_sys.path.insert(0, _fake)
for _name in [n for n in _sys.modules if n == "utils" or n.startswith("utils.")]:
    del _sys.modules[_name]
""", in_process=False),
    Cheat("builtins_import", "builtins.__import__ wrapped: `from utils.checks import ...` gets checks "
          "that pass everything", f"""
import builtins as _builtins, types as _types
_real_import = _builtins.__import__
def _import(name, globals=None, locals=None, fromlist=(), level=0):
    module = _real_import(name, globals, locals, fromlist, level)
    if name == "utils.checks" and fromlist:
        fake = _types.ModuleType(name)
        fake.__dict__.update(vars(module))
        for check in {NO_CHECKS!r}:
            setattr(fake, check, lambda *args, **kwargs: None)
        return fake
    return module
_builtins.__import__ = _import
"""),
    Cheat("notebook_builtins", "the notebook namespace's __builtins__ replaced by a copy whose "
          "__import__ hands the test cells passing checks", f"""
import builtins as _builtins, types as _types
def _import(name, globals=None, locals=None, fromlist=(), level=0):
    module = _builtins.__import__(name, globals, locals, fromlist, level)
    if name == "utils.checks" and fromlist:
        fake = _types.ModuleType(name)
        fake.__dict__.update(vars(module))
        for check in {NO_CHECKS!r}:
            setattr(fake, check, lambda *args, **kwargs: None)
        return fake
    return module
__builtins__ = dict(vars(_builtins), __import__=_import)
"""),
    # -- the notebook's namespace, from inside the function under test
    Cheat("rebind_test_names", "the wrong function, each time the test calls it, rebinds the checks "
          "the test cell imported to ones that pass (global statement)",
          inside=f"global {', '.join(NO_CHECKS)}\n{' = '.join(NO_CHECKS)} = lambda *args, **kwargs: None\n",
          guard_stops=False),
    Cheat("frame_walking", "the wrong function walks up the stack (sys._getframe) to the test cell's "
          "frame and rebinds its checks", inside=f"""
import sys as _sys
_frame = _sys._getframe(1)
while _frame is not None and _frame.f_globals.get("__name__") != "__main__":
    _frame = _frame.f_back
if _frame is not None:
    for _check in {NO_CHECKS!r}:
        _frame.f_globals[_check] = lambda *args, **kwargs: None
""", guard_stops=False),
    # -- the guard itself
    Cheat("guard_snapshot", "finds every reference to numpy.isclose with gc.get_referrers (the guard's "
          "snapshot among them) and puts the lie in its place, then patches numpy", _PREAMBLE + """
import gc as _gc
_real = _np.isclose
for _holder in _gc.get_referrers(_real):
    if type(_holder) is dict:
        for _key in [k for k, v in _holder.items() if v is _real]:
            _holder[_key] = _lie
    elif type(_holder) is list:
        for _i in [i for i, v in enumerate(_holder) if v is _real]:
            _holder[_i] = _lie
""", in_process=False, guard_stops=False),
    Cheat("guard_module", "replaces the kernel guard's restore functions (sys.modules['_grader_guard']) "
          "with ones that put nothing back", _PREAMBLE + """
import sys as _sys
_guard = _sys.modules.get("_grader_guard")
if _guard is not None:
    _guard.restore = _guard.before_test = lambda *args, **kwargs: []
_np.isclose = _lie
""", in_process=False, guard_stops=False),
    # -- the interpreter's hooks: the patch is made again after the guard puts it back
    Cheat("trace_function", "a trace function (sys.settrace) patches numpy again at every call",
          _PREAMBLE + """
import sys as _sys
def _again(frame, event, arg):
    _np.isclose = _lie
_sys.settrace(_again)
_np.isclose = _lie
"""),
    Cheat("profile_function", "a profile function (sys.setprofile) patches numpy again at every call",
          _PREAMBLE + """
import sys as _sys
def _again(frame, event, arg):
    _np.isclose = _lie
_sys.setprofile(_again)
_np.isclose = _lie
"""),
    Cheat("signal_timer", "an interval timer's SIGALRM handler patches numpy again every millisecond",
          _PREAMBLE + """
import signal as _signal
def _again(signum, frame):
    _np.isclose = _lie
_signal.signal(_signal.SIGALRM, _again)
_signal.setitimer(_signal.ITIMER_REAL, 0.001, 0.001)
_np.isclose = _lie
"""),
    Cheat("audit_hook", "an audit hook (which cannot be removed) patches numpy again at every audited "
          "event: imports, compiles, exec", _PREAMBLE + """
import sys as _sys
_sys.addaudithook(lambda event, args: setattr(_np, "isclose", _lie))
""", in_process=False, guard_stops=False),
    Cheat("background_thread", "a thread patches numpy again every millisecond, for a minute",
          _PREAMBLE + """
import threading as _threading, time as _time
def _again():
    for _ in range(60_000):
        _np.isclose = _lie
        _time.sleep(0.001)
_threading.Thread(target=_again, daemon=True).start()
""", in_process=False, guard_stops=False),
    Cheat("finalizer", "an object in a reference cycle whose __del__ patches numpy again when the "
          "garbage collector frees it, during some later cell", _PREAMBLE + """
class _Again:
    def __del__(self):
        _np.isclose = _lie
_cycle = _Again()
_cycle.me = _cycle
del _cycle
""", in_process=False, guard_stops=False),
    # -- code hidden from a reader
    Cheat("obfuscated_exec", "the patch base64-encoded, decoded and run with exec, every name built "
          "from strings", f"""
getattr(__import__("built" + "ins"), "ex" + "ec")(__import__("base" + "64").b64decode({_HIDDEN!r}))
"""),
    Cheat("pickled_payload", "a pickle whose __reduce__ runs the patch, loaded with pickle.loads",
          f"""
import pickle as _pickle
_pickle.loads({_payload_pickle()!r})
"""),
    # -- IPython's shell and kernel (the grading kernel's only)
    Cheat("input_transformer", "an IPython input transformer rewrites every later cell: the test's "
          "checks become no-ops", f"""
def _rewrite(lines):
    return [line.replace("expect_close(", "(lambda *args, **kwargs: None)(")
                .replace("expect_equal(", "(lambda *args, **kwargs: None)(") for line in lines]
get_ipython().input_transformers_cleanup.append(_rewrite)
""", in_process=False),
    Cheat("ast_transformer", "an IPython AST transformer drops every call of a check from later cells",
          f"""
import ast as _ast
class _NoChecks(_ast.NodeTransformer):
    def visit_Call(self, node):
        if isinstance(node.func, _ast.Name) and node.func.id in {NO_CHECKS!r}:
            return _ast.copy_location(_ast.Constant(None), node)
        return self.generic_visit(node)
get_ipython().ast_transformers.append(_NoChecks())
""", in_process=False),
    Cheat("event_callback", "an IPython pre_run_cell callback patches numpy again before each cell",
          _PREAMBLE + """
get_ipython().events.register("pre_run_cell", lambda *args: setattr(_np, "isclose", _lie))
_np.isclose = _lie
""", in_process=False),
    Cheat("shell_method", "the shell's transform_cell replaced on the shell object: the test's checks "
          "become no-ops", """
_shell = get_ipython()
_transform = _shell.transform_cell
_shell.transform_cell = lambda cell: _transform(cell).replace("expect_close(", "(lambda *args, **kwargs: None)(")
""", in_process=False),
    Cheat("custom_exception_handler", "a custom exception handler that shows nothing for any error",
          """
get_ipython().set_custom_exc((Exception,), lambda *args, **kwargs: None)
""", in_process=False),
]

# torch's own ways in, for 03 only (01 does not use torch).
TORCH_CHEATS = [
    Cheat("torch_function_mode", "a torch function mode, entered and never left, answers Tensor.abs "
          "with a ReLU (the wrong relu then computes the right one)", """
import torch as _torch
from torch.overrides import TorchFunctionMode as _Mode
class _Fix(_Mode):
    def __torch_function__(self, func, types, args=(), kwargs=None):
        if func is _torch.Tensor.abs:
            return args[0] * (args[0] > 0)
        return func(*args, **(kwargs or {}))
_Fix().__enter__()
"""),
    Cheat("torch_library", "a torch.library kernel for aten::abs on the CPU that computes ReLU "
          "(process-wide: it cannot be put back from Python)", """
import torch as _torch
_library = _torch.library.Library("aten", "IMPL")
_library.impl("abs", lambda x: _torch.where(x > 0, x, _torch.zeros_like(x)), "CPU")
""", in_process=False, guard_stops=False),
]

BY_NAME = {cheat.name: cheat for cheat in CHEATS + TORCH_CHEATS}
assert len(BY_NAME) == len(CHEATS) + len(TORCH_CHEATS), "cheat names must be unique"


def cheats_for(assignment: str) -> list[Cheat]:
    return CHEATS + (TORCH_CHEATS if assignment == "03_torch_scratch" else [])


def make(cheat: Cheat | None, target: Target, release, solution, minimal: bool = True):
    """The hand-in: ``target``'s wrong function with ``cheat`` (``None``: the wrong function alone).

    ``minimal`` keeps only the cells the target's test needs (its set-up cells, its answer cell
    and its test), so that a run takes a fraction of a second.
    """
    source = target.wrong.source
    if cheat is not None and cheat.inside:
        header, _, body = source.partition("\n")
        source = header + "\n" + textwrap.indent(cheat.inside.strip("\n") + "\n", "    ") + body + "\n"
    nb = make_submission(release, solution, [Variant(target.wrong.target, source, target.wrong.description,
                                                     target.wrong.fails)])
    if cheat is not None and cheat.code:
        cell = next(c for c in nb.cells if grade_id(c) == target.answer)
        cell.source = cell.source.rstrip("\n") + "\n\n" + cheat.code.strip("\n") + "\n"
    if minimal:
        keep = {*target.set_up, target.answer, target.test}
        nb = copy.deepcopy(nb)
        nb.cells = [c for c in nb.cells if grade_id(c) in keep or c.cell_type == "markdown" and not grade_id(c)]
    return nb

