"""Keep an answer cell from changing what the tests compute with.

The course's checks compute with NumPy, torch, ``math`` and the builtins, and an answer cell
runs in the same interpreter: ``np.isclose = lambda *a, **k: True`` there would make wrong
code pass. So, before any student code runs, :func:`install` takes a snapshot of those
modules' public attributes (and of the code of their Python functions), and before each test
cell :func:`restore` puts back whatever changed. Modules imported later (torch, usually) are
snapshotted the moment their import finishes, before the importing cell's next line runs.

IPython's display of errors is guarded the same way: an answer cell that silences
``showtraceback`` (nbgrader's own known cheat) would otherwise make every failing test look
passed. (:class:`grader.preprocessors.RobustExecute` also fails a cell whose kernel reply says
"error" when no error was displayed.)

This file is sent to the grading kernel as text by RobustExecute (it never imports the course
from disk there) and used directly by in-process runs (``grader.inprocess``). What it does not
defend against is written in ``grader/THREATS.md``.
"""

from __future__ import annotations

import importlib.abc
import sys
import types

# Modules whose attributes the checks rely on. A submodule is guarded when it is loaded.
GUARDED = ("builtins", "math", "numpy", "numpy.testing", "numpy.linalg", "numpy.random",
           "torch", "torch.testing", "torch.nn", "torch.nn.functional", "torch.autograd",
           "torch.optim")
# Classes whose methods the checks call (``tensor.allclose``, ``shell.showtraceback``...):
# here added attributes are removed too, since an added method shadows the inherited one.
GUARDED_CLASSES = (("torch", "Tensor"), ("torch.nn", "Module"),
                   ("IPython.core.interactiveshell", "InteractiveShell"),
                   ("ipykernel.zmqshell", "ZMQInteractiveShell"))

# What the kernel itself rebinds as it runs (ipykernel routes input() to the front end for each
# request; IPython sets its error handler): not the student's doing, so left alone.
REBOUND_BY_KERNEL = {"builtins.input", "builtins.raw_input", "builtins.getpass", "shell.CustomTB",
                     "shell.custom_exceptions"}

_modules: dict[str, tuple[types.ModuleType, dict, dict]] = {}
_classes: dict[tuple[str, str], tuple[type, dict]] = {}


def _public(namespace) -> dict:
    """The public attributes of a module or class (libraries may rebind their private state)."""
    return {name: value for name, value in namespace.items() if not name.startswith("_")}


def _code_of(namespace: dict) -> dict:
    """The code, defaults and keyword defaults of the plain Python functions in ``namespace``."""
    return {name: (value.__code__, value.__defaults__, value.__kwdefaults__)
            for name, value in namespace.items() if isinstance(value, types.FunctionType)}


def _snapshot(name: str) -> None:
    module = sys.modules.get(name)
    if isinstance(module, types.ModuleType) and name not in _modules:
        public = _public(vars(module))
        _modules[name] = (module, public, _code_of(public))
    for owner, cls_name in GUARDED_CLASSES:
        if owner == name and (owner, cls_name) not in _classes and module is not None:
            cls = getattr(module, cls_name, None)
            if isinstance(cls, type):
                _classes[(owner, cls_name)] = (cls, _public(vars(cls)))


class _SnapshotOnImport(importlib.abc.MetaPathFinder):
    """Snapshots a guarded module right after its import finishes."""

    def find_spec(self, fullname, path=None, target=None):
        watched = fullname in GUARDED or any(owner == fullname for owner, _ in GUARDED_CLASSES)
        if not watched or fullname in _modules:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                break
        else:
            return None
        loader = spec.loader
        if loader is None or not hasattr(loader, "exec_module"):
            return spec
        exec_module = loader.exec_module

        def exec_then_snapshot(module):
            exec_module(module)
            sys.modules.setdefault(fullname, module)
            _snapshot(fullname)
        spec.loader = _Loader(loader, exec_then_snapshot)
        return spec


class _Loader(importlib.abc.Loader):
    def __init__(self, loader, exec_module):
        self._loader, self._exec_module = loader, exec_module

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        self._exec_module(module)

    def __getattr__(self, name):  # get_resource_reader, is_package... as the real loader
        return getattr(self._loader, name)


def install() -> None:
    """Snapshot the guarded modules that are loaded and watch for the others' import."""
    import builtins  # noqa: F401 -- always loaded; named for clarity
    import math  # noqa: F401
    for name in GUARDED + tuple(owner for owner, _ in GUARDED_CLASSES):
        _snapshot(name)
    if not any(isinstance(f, _SnapshotOnImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _SnapshotOnImport())
    global _shell_attributes
    if _shell_attributes is None and _shell() is not None:
        _shell_attributes = dict(vars(_shell()))


def restore() -> list[str]:
    """Put back every guarded attribute that changed; return their names (``numpy.isclose``).

    A guarded module replaced in ``sys.modules`` by another object is put back too, and one
    that was faked before its real import (``sys.modules["torch"] = fake``) is dropped, so
    that the next ``import`` loads the real one.
    """
    changed = []
    if not any(isinstance(f, _SnapshotOnImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _SnapshotOnImport())
        changed.append("sys.meta_path")
    for name in GUARDED:
        if name not in _modules and name in sys.modules and not isinstance(sys.modules[name], types.ModuleType):
            del sys.modules[name]
            changed.append(name)
    for name, (module, attributes, code) in _modules.items():
        if sys.modules.get(name) is not module:
            sys.modules[name] = module
            changed.append(name)
        current = vars(module)
        for attr, value in attributes.items():
            if current.get(attr, _MISSING) is not value and f"{name}.{attr}" not in REBOUND_BY_KERNEL:
                setattr(module, attr, value)
                changed.append(f"{name}.{attr}")
        for attr, (func_code, defaults, kwdefaults) in code.items():
            func = attributes[attr]
            if (func.__code__ is not func_code or func.__defaults__ is not defaults
                    or func.__kwdefaults__ is not kwdefaults):
                func.__code__, func.__defaults__, func.__kwdefaults__ = func_code, defaults, kwdefaults
                changed.append(f"{name}.{attr}.__code__")
    for (owner, cls_name), (cls, attributes) in _classes.items():
        for attr in [a for a in _public(vars(cls)) if a not in attributes]:
            delattr(cls, attr)
            changed.append(f"{owner}.{cls_name}.{attr}")
        for attr, value in attributes.items():
            if vars(cls).get(attr, _MISSING) is not value:
                setattr(cls, attr, value)
                changed.append(f"{owner}.{cls_name}.{attr}")
    changed += _restore_shell()
    return changed


def _shell():
    get_ipython = getattr(sys.modules.get("IPython"), "get_ipython", None)
    return get_ipython() if get_ipython else None


def _restore_shell() -> list[str]:
    """Drop attributes set on the IPython shell since :func:`install` that shadow its methods
    (``get_ipython().showtraceback = ...``), and put back changed ones."""
    shell = _shell()
    if shell is None or _shell_attributes is None:
        return []
    changed = []
    for attr, value in list(vars(shell).items()):
        if f"shell.{attr}" in REBOUND_BY_KERNEL:
            continue
        if attr not in _shell_attributes and callable(getattr(type(shell), attr, None)):
            delattr(shell, attr)
            changed.append(f"shell.{attr}")
        elif attr in _shell_attributes and callable(_shell_attributes[attr]) \
                and value is not _shell_attributes[attr]:
            setattr(shell, attr, _shell_attributes[attr])
            changed.append(f"shell.{attr}")
    return changed


_shell_attributes: dict | None = None


_MISSING = object()
