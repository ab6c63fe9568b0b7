"""Keep an answer cell from changing what the tests run through: snapshot the interpreter's
hooks before any student code runs, put back what changed before each test.

An answer cell runs in the interpreter that then runs the tests, so whatever it changes there,
the tests compute with: ``np.isclose = lambda *a, **k: True`` would make wrong code pass, and
so would a patched private module of NumPy's, an import hook that serves a fake ``torch``, an
IPython input transformer that rewrites the test cells, a torch function mode that answers every
comparison with ``True``. Listing such tricks would never end; so the guard snapshots every
place through which a cell can change what later cells run, and :func:`restore` (before each
test) puts back whatever changed and names it. What it put back is a review flag for the
instructor (``grader.nbgrader_ext.preprocessors.guard_flags``), never a change of points.

Snapshotted by :func:`install`, put back by :func:`restore` (about 13 ms of CPU with torch
loaded: each namespace's values are compared as one list, whose identical entries are skipped):

- **modules**: every loaded module of the standard library, NumPy, torch, the course's
  ``utils`` and IPython's kernel (``GUARDED_LIBRARIES``), private submodules included: every
  attribute (rebound, deleted or added), its class, its ``sys.modules`` entry and a package's
  ``__path__``. A module imported later is snapshotted the moment its import ends, before the
  importing cell's next line runs; a ``sys.modules`` entry under a guarded name that no import
  made (a fake package) is dropped;
- **classes** defined in those modules: every attribute, dunders included (``__eq__``,
  ``__torch_function__``); added ones are removed (they shadow inherited methods);
- **functions**' code, defaults and keyword defaults, seen through the interpreter's audit
  events (so no function has to be compared: changing one is the event);
- **the import system**: ``sys.meta_path``, ``sys.path_hooks``, ``sys.path`` and the finders in
  ``sys.path_importer_cache``;
- **the interpreter's hooks**: ``sys.displayhook``/``excepthook``/``breakpointhook``/
  ``unraisablehook``, ``sys.stdout``/``stderr``/``stdin``, the trace and profile functions,
  signal handlers and interval timers;
- **the IPython shell and kernel**: input transformers, AST transformers, event callbacks,
  the custom exception handler, methods set on the shell, kernel or session object, the
  kernel's message handlers, the notebook namespace's ``__builtins__`` and the names the
  course's set-up cells imported (``np``, ``load_fashion_mnist``);
- **library state** that the checks read: torch's grad mode, default dtype and device, its
  function and dispatch mode stacks and global module hooks; NumPy's error state.

What a library changes itself as it runs is its own business, neither put back nor reported
(:class:`_Namespace`): its private data (caches, flags), a function it wraps in a decorator,
what a lazy import adds, and whatever an import changes (a library patching another as it
loads) -- only what changed during the import, though: a cell's patch from before it stays to
be put back.

Out of reach, and reported where it can be seen: threads started by the notebook (listed, not
stopped), audit hooks (cannot be removed; a change they make again shows at the next restore),
an attack on the guard's own snapshot (``grader/THREATS.md``). The screen of the hand-in's
source (``grader.screen``) flags every one of these from outside the kernel.

This file is sent to the grading kernel as text by RobustExecute (it never imports the course
from disk there) and used directly by in-process runs (``grader.proving.inprocess``).
"""

from __future__ import annotations

import builtins
import gc
import importlib.abc
import operator
import signal
import sys
import threading
import types

# Libraries whose every loaded module is guarded (with the standard library): what the tests, the
# checks and the kernel that runs them compute with.
GUARDED_LIBRARIES = ("numpy", "torch", "utils", "IPython", "ipykernel", "jupyter_client", "comm",
                     "traitlets", "zmq", "_grader_guard")
# Forgotten before each test instead of guarded: each test imports them afresh from disk.
RELOADED = "utils.checks"

# What the kernel, IPython or a library rebinds as it runs: not the student's doing, left alone.
# builtins' get_ipython/exit/quit come and go with IPython's builtin trap around each cell;
# sys.last_* hold the last error; IPython sets its error handler.
REBOUND_AT_RUN_TIME = {
    "builtins.input", "builtins.raw_input", "builtins.getpass", "builtins.get_ipython",
    "builtins.exit", "builtins.quit", "builtins._", "builtins.__IPYTHON__",
    "sys.last_type", "sys.last_value", "sys.last_traceback", "sys.last_exc", "sys.ps1", "sys.ps2",
    "shell.CustomTB", "shell.custom_exceptions", "tempfile.tempdir",
    RELOADED,   # dropped from its package before each test, imported again by the test
}
# Whose event callbacks may appear as the notebook runs (Matplotlib's inline backend registers one).
CALLBACK_OWNERS = ("matplotlib", "matplotlib_inline", "ipykernel", "IPython")
_IMMUTABLE = 1 << 8          # Py_TPFLAGS_IMMUTABLETYPE: such a class cannot be changed at all
_MISSING = object()


# The guard looks at library objects through their types only (type(), callable()): an object's
# own attribute look-up may run code, and warn (torch.distributed.reduce_op does), and a test cell
# that prints to stderr fails.
def _is_a(value, kind) -> bool:
    return issubclass(type(value), kind)


def _is_code(value) -> bool:
    """Whether ``value`` decides what runs (a function, class, module, descriptor...), as opposed
    to data a library keeps (a cache, a counter, a flag)."""
    return callable(value) or _is_a(value, types.ModuleType) or hasattr(type(value), "__get__")


def _own_attribute(value, name: str):
    """``value.name`` if it is in the object's own ``__dict__`` (no look-up code runs), else None."""
    try:
        return object.__getattribute__(value, "__dict__").get(name)
    except (AttributeError, TypeError):
        return None


class _Namespace:
    """The attributes of one module or class as they were, and a quick test of whether they still are.

    What a change means (:meth:`restore`): code (a function, class, module, descriptor) rebound,
    deleted or added, and public data rebound, are put back; a library's private data (a cache,
    a flag) is its own business; so is a function rebound to a wrapper of itself (a decorator a
    library applies as it runs, ``functools.wraps``) and, on a module, what its import system or
    its lazy ``__getattr__`` adds (``numpy.testing``, ``concurrent.futures.ThreadPoolExecutor``).
    """

    __slots__ = ("owner", "label", "dict", "items", "values", "is_class")

    def __init__(self, owner, label: str, is_class: bool):
        self.owner, self.label, self.is_class = owner, label, is_class
        # A class's own dict, read without the mappingproxy (writes still go through setattr,
        # which keeps the interpreter's method caches right).
        self.dict = gc.get_referents(owner.__dict__)[0] if is_class else vars(owner)
        self.take()

    def take(self) -> None:
        self.items = dict(self.dict)
        self.values = list(self.items.values())
        for value in self.values:
            if type(value) not in _NO_FUNCTION_INSIDE:
                _index_functions(value)

    def unchanged(self, thorough: bool = False) -> bool:
        if not thorough:
            # List equality skips identical entries without a call: the quick look before each
            # test. A changed entry is then compared by value, where an object whose __eq__
            # lies could pass: the thorough look (identity) after the last cell catches it, and
            # the screen flags the class that defines such an __eq__.
            try:
                return list(self.dict.values()) == self.values
            except Exception:  # noqa: BLE001 -- a comparison that fails: something changed
                return False
        return len(self.dict) == len(self.values) and all(map(operator.is_, self.dict.values(), self.values))

    def restore(self, changed: list[str]) -> None:
        current = self.dict
        for name, old in self.items.items():
            now = current.get(name, _MISSING)
            if now is not old and not self._libraries_own(name, old, now):
                setattr(self.owner, name, old)
                changed.append(f"{self.label}.{name}")
        for name in [n for n in current if n not in self.items]:
            if not self._libraries_own(name, _MISSING, current[name]):
                delattr(self.owner, name)
                changed.append(f"{self.label}.{name}")
        self.take()   # what the library changed itself is guarded from now on

    def _libraries_own(self, name: str, old, now) -> bool:
        """Whether the change of ``name`` from ``old`` to ``now`` (either may be missing) is the
        library's own doing as it runs."""
        if f"{self.label}.{name}" in REBOUND_AT_RUN_TIME:
            return True
        if name.startswith("_") and not any(_is_code(v) for v in (old, now) if v is not _MISSING):
            return True                               # private or dunder data: a cache, a flag
        if old is not _MISSING and now is not _MISSING:
            return _own_attribute(now, "__wrapped__") is old   # wrapped by a decorator
        if old is _MISSING and self.is_class:   # the very attribute it inherits: shadows nothing
            inherited = next((vars(base)[name] for base in self.owner.__mro__[1:] if name in vars(base)), _MISSING)
            return inherited is now
        if old is _MISSING and not self.is_class:     # added to a module
            full = f"{self.label}.{name}"
            if _is_a(now, types.ModuleType) and (sys.modules.get(full) is now or
                                                       (full not in sys.modules and now.__name__ == full)):
                return True                           # a submodule, bound by its import
            if "__getattr__" in self.dict:            # made by the module's lazy __getattr__
                return any(vars(m).get(name) is now for n, m in list(sys.modules.items())
                           if n.startswith(self.label + ".") and _is_a(m, types.ModuleType))
        return False


class _Module:
    """A guarded module: its ``sys.modules`` entry, class, attributes and (a package's) ``__path__``."""

    __slots__ = ("module", "namespace", "path", "cls")

    def __init__(self, module, namespace: _Namespace, path: list | None):
        self.module, self.namespace, self.path, self.cls = module, namespace, path, type(module)

    def same(self) -> bool:
        """Whether ``sys.modules`` still holds this module, of its class."""
        return sys.modules.get(self.namespace.label) is self.module and type(self.module) is self.cls


# Built-in types that no code can give an attribute (a snapshot holds tens of thousands of their
# objects: docstrings, constants, C functions): none of them is or wraps a Python function.
_NO_FUNCTION_INSIDE = frozenset({type(None), bool, int, float, complex, str, bytes, tuple, list, dict,
                                 set, frozenset, types.BuiltinFunctionType})


def _index_functions(value) -> None:
    """Remember the functions the snapshot holds, and those they wrap (a decorator's ``__wrapped__``,
    NumPy's dispatcher's ``_implementation``): changing their code is then a change to put back."""
    if type(value) in (staticmethod, classmethod):
        value = value.__func__
    functions = [value.fget, value.fset] if type(value) is property else [value]
    if type(functions[0]) is types.FunctionType:
        # Its type defines neither attribute: they can only be in its own __dict__ (a look there
        # costs no exception; a snapshot holds some 20,000 functions once torch is imported).
        own = functions[0].__dict__
        functions += [own[name] for name in ("__wrapped__", "_implementation") if name in own]
    else:
        for attribute in ("__wrapped__", "_implementation"):
            try:
                functions.append(object.__getattribute__(functions[0], attribute))
            except Exception:  # noqa: BLE001 -- most objects have neither
                pass
    for function in functions:
        if type(function) is types.FunctionType:
            _state.functions.add(id(function))


class _State:
    """Everything the guard snapshotted (one per process; the kernel's lives in module _grader_guard)."""

    def __init__(self):
        self.modules: dict[str, _Module] = {}
        self.classes: dict[int, _Namespace] = {}
        self.code_changes: dict[tuple[int, str], tuple[types.FunctionType, str, object]] = {}
        self.functions: set[int] = set()
        self.entries: dict[str, object] = {}   # sys.modules entries that are no modules
        self.restoring = False
        self.importing = 0
        self.errors: list[str] = []   # the guard's own failures, reported with what it put back
        self.hooks: dict[str, object] = {}
        self.lists: dict[str, tuple[list, list]] = {}
        self.finder_types: set[type] = set()
        self.importer_cache: dict = {}
        self.signals: dict[int, object] = {}
        self.threads: set[int] = set()
        self.shell: dict[str, object] = {}
        self.callbacks: dict[str, list] = {}
        self.aliases: dict[str, str] = {}
        self.library: dict[str, object] = {}
        self.installed = False


_state = _State()


def _guarded(name: str) -> bool:
    root = name.partition(".")[0]
    return (root in GUARDED_LIBRARIES or root in sys.stdlib_module_names) and root != "__main__" \
        and not (name == RELOADED or name.startswith(RELOADED + "."))


# ----------------------------------------------------------------------------- modules and classes
def _snapshot_module(name: str) -> None:
    module = sys.modules.get(name)
    if name in _state.modules or name in _state.entries:
        return
    if not _is_a(module, types.ModuleType):   # typing.io and such: kept as they are
        _state.entries[name] = module
        return
    path = vars(module).get("__path__")
    _state.modules[name] = _Module(module, _Namespace(module, name, False),
                                   list(path) if type(path) is list else None)
    for value in list(vars(module).values()):
        if _is_a(value, type) and not value.__flags__ & _IMMUTABLE and id(value) not in _state.classes \
                and value.__dict__.get("__module__") == name:
            _state.classes[id(value)] = _Namespace(value, f"{name}.{value.__qualname__}", True)


def _snapshot_modules(names) -> None:
    """Snapshot the guarded modules among ``names``: those loaded when the guard is installed, and
    those an import made (an extension's submodules, which no finder sees, come with their
    package's import)."""
    for name in names:
        if _guarded(name):
            _snapshot_module(name)


class _SnapshotOnImport(importlib.abc.MetaPathFinder):
    """Watches every import: a guarded module is snapshotted right after its import finishes, and
    what an import changes in guarded modules (a library patching another as it loads, a class
    finished by a later import) is the library's doing, taken as the new snapshot. Only what the
    import itself changed: what had changed before it (a cell's patch) stays to be put back."""

    def find_spec(self, fullname, path=None, target=None):
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
        spec.loader = _Loader(loader, _watched(fullname, loader))
        return spec


def _watched(fullname: str, loader):
    def exec_then_snapshot(module):
        # The outermost import only (nested ones are part of it), and not the course's checks
        # (trusted code, imported afresh by every test: no scan around their import).
        outermost = not (_state.importing or _state.restoring or fullname == RELOADED
                         or fullname.startswith(RELOADED + "."))
        try:
            changed_before = _changed_namespaces() if outermost else None
        except Exception as error:  # noqa: BLE001
            changed_before = None
            _state.errors.append(f"the guard's look before importing {fullname} failed ({error})")
        _state.importing += 1
        before = set(sys.modules)
        loaded = False
        try:
            loader.exec_module(module)
            loaded = True
        finally:
            _state.importing -= 1
            _hand_back(module, loader)
            try:   # never fail the notebook's import over the guard's own trouble: report it
                new = set(sys.modules) - before
                _snapshot_modules([fullname, *new] if loaded else new)   # a failed import leaves nothing
                if outermost:
                    _accept_changes(changed_before)
                    _note_library_state()
            except Exception as error:  # noqa: BLE001
                _state.errors.append(f"the guard's snapshot of {fullname} failed ({type(error).__name__}: {error})")
    return exec_then_snapshot


def _hand_back(module, loader) -> None:
    """The module's real loader from now on (tools look at its type: pkg_resources, inspect)."""
    try:
        if isinstance(getattr(module, "__loader__", None), _Loader):
            module.__loader__ = loader
        if isinstance(getattr(module.__spec__, "loader", None), _Loader):
            module.__spec__.loader = loader
    except (AttributeError, TypeError):
        pass


def _namespaces():
    for entry in _state.modules.values():
        yield entry.namespace
    yield from _state.classes.values()


def _changed_namespaces() -> set:
    """What differs from the snapshot now: namespaces (by id), ``sys.modules`` entries and the
    import system's lists (by name)."""
    changed = {id(namespace) for namespace in _namespaces() if not namespace.unchanged()}
    changed |= {name for name, entry in _state.modules.items() if not entry.same()}
    changed |= {name for name, (live, items) in _state.lists.items() if not _same(live, items)}
    return changed


def _same(live: list, items: list) -> bool:
    return len(live) == len(items) and all(a is b for a, b in zip(live, items))


def _accept_changes(except_for: set | None = None) -> None:
    """Take what changed (during an import, or before install) as the new snapshot, except what is
    in ``except_for`` (changed before the import began: the next restore puts it back)."""
    except_for = except_for or set()
    for namespace in list(_namespaces()):
        if id(namespace) not in except_for and not namespace.unchanged():
            namespace.take()
    for name, entry in list(_state.modules.items()):
        if name not in except_for and not entry.same():   # a library's re-import, a lazy module's class
            del _state.modules[name]
            _snapshot_module(name)
    for name, (live, items) in _state.lists.items():
        if name not in except_for and not _same(live, items):
            items[:] = live
    _state.importer_cache.update({k: v for k, v in sys.path_importer_cache.items() if k not in _state.importer_cache})
    _state.finder_types |= {type(f) for f in sys.path_importer_cache.values()}


class _Loader(importlib.abc.Loader):
    def __init__(self, loader, exec_module):
        self._loader, self._exec_module = loader, exec_module

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        self._exec_module(module)

    def __getattr__(self, name):  # get_resource_reader, is_package... as the real loader
        return getattr(self._loader, name)


def _audit(event: str, args: tuple) -> None:
    """Remember the code, defaults or keyword defaults a function had before they were first set."""
    if event != "object.__setattr__" or _state.restoring or _state.importing:
        return
    target, name = args[0], args[1]
    if type(target) is types.FunctionType and name in ("__code__", "__defaults__", "__kwdefaults__") \
            and id(target) in _state.functions:
        _state.code_changes.setdefault((id(target), name), (target, name, getattr(target, name)))


def _restore_modules(changed: list[str], thorough: bool) -> None:
    for name, entry in _state.modules.items():
        module = entry.module
        if sys.modules.get(name) is not module:
            sys.modules[name] = module
            changed.append(f"sys.modules[{name!r}]")
        if type(module) is not entry.cls:   # a module whose class was swapped (its attribute look-up)
            module.__class__ = entry.cls
            changed.append(f"{name}.__class__")
        if not entry.namespace.unchanged(thorough):
            entry.namespace.restore(changed)
        live = vars(module).get("__path__")
        if entry.path is not None and type(live) is list and live != entry.path:
            live[:] = entry.path
            changed.append(f"{name}.__path__")
    for namespace in _state.classes.values():
        if not namespace.unchanged(thorough):
            namespace.restore(changed)


def _restore_code(changed: list[str]) -> None:
    for function, name, value in list(_state.code_changes.values()):
        if getattr(function, "__module__", None) in ("__main__", None):
            continue   # the notebook's own functions are the notebook's business
        if getattr(function, name) is not value:
            setattr(function, name, value)
            changed.append(f"{function.__module__}.{function.__qualname__}.{name}")
    _state.code_changes.clear()


def _drop_fake_modules(changed: list[str]) -> None:
    """A ``sys.modules`` entry under a guarded name that no import made: a fake, dropped so that
    the next ``import`` loads the real module."""
    for name in [n for n in list(sys.modules) if _guarded(n) and n not in _state.modules]:
        value = sys.modules[name]
        if name in _state.entries:
            if value is not _state.entries[name]:
                sys.modules[name] = _state.entries[name]
                changed.append(f"sys.modules[{name!r}]")
        elif not (_is_a(value, types.ModuleType) and getattr(vars(value).get("__spec__"), "_initializing", False)):
            del sys.modules[name]
            changed.append(f"sys.modules[{name!r}] (added)")


# ----------------------------------------------------------------------------- the interpreter's hooks
_SYS_HOOKS = ("displayhook", "excepthook", "breakpointhook", "unraisablehook", "stdout", "stderr", "stdin")
_SYS_LISTS = ("meta_path", "path_hooks", "path")


def _snapshot_interpreter() -> None:
    _state.hooks = {name: getattr(sys, name, None) for name in _SYS_HOOKS}
    _state.hooks["trace"], _state.hooks["profile"] = sys.gettrace(), sys.getprofile()
    _state.lists = {name: (getattr(sys, name), list(getattr(sys, name))) for name in _SYS_LISTS}
    _state.importer_cache = dict(sys.path_importer_cache)
    _state.finder_types = {type(f) for f in sys.path_importer_cache.values()}
    if threading.current_thread() is threading.main_thread():
        _state.signals = {s: signal.getsignal(s) for s in signal.valid_signals()
                          if signal.getsignal(s) is not None}
    _state.threads = set(sys._current_frames())


def _restore_interpreter(changed: list[str]) -> None:
    for name, value in _state.hooks.items():
        if name == "trace":
            if sys.gettrace() is not value:
                sys.settrace(value)
                changed.append("sys.settrace")
        elif name == "profile":
            if sys.getprofile() is not value:
                sys.setprofile(value)
                changed.append("sys.setprofile")
        elif getattr(sys, name, None) is not value:
            setattr(sys, name, value)
            changed.append(f"sys.{name}")
    for name, (original, items) in _state.lists.items():
        current = getattr(sys, name)
        if current is not original:
            setattr(sys, name, original)
            changed.append(f"sys.{name}")
        if not _same(original, items):
            original[:] = items
            changed.append(f"sys.{name} (its entries)")
    cache = sys.path_importer_cache
    for key, finder in list(cache.items()):
        old = _state.importer_cache.get(key, _MISSING)
        if old is _MISSING:
            if finder is not None and type(finder) not in _state.finder_types:
                del cache[key]
                changed.append(f"sys.path_importer_cache[{key!r}]")
        elif finder is not old:
            cache[key] = old
            changed.append(f"sys.path_importer_cache[{key!r}]")
    if threading.current_thread() is threading.main_thread():
        # Timers first: a SIGALRM that arrives once its default handler is back ends the process.
        for timer in (signal.ITIMER_REAL, signal.ITIMER_VIRTUAL, signal.ITIMER_PROF):
            if signal.getitimer(timer) != (0.0, 0.0):
                signal.setitimer(timer, 0)
                changed.append("an interval timer (signal.setitimer)")
        for number, handler in _state.signals.items():
            if signal.getsignal(number) is not handler:
                signal.signal(number, handler)
                changed.append(f"signal handler {signal.Signals(number).name}")


# A thread whose code comes from here was started by the notebook (builtins: exec, eval...).
_NOT_A_LIBRARY = {"", "__main__", "builtins", "functools", "operator", "threading", "_thread"}


def _new_threads() -> list[str]:
    """Threads that code in the notebook started and that still run (they cannot be stopped)."""
    found = []
    by_id = {t.ident: t for t in threading.enumerate()}
    for ident in set(sys._current_frames()) - _state.threads:
        thread = by_id.get(ident)
        if thread is None:
            found.append(f"a thread started outside threading (id {ident})")
            continue
        target = getattr(thread, "_target", None) or getattr(thread, "function", None) or type(thread).run
        target = getattr(target, "func", target)   # a functools.partial
        owner = getattr(target, "__module__", None) or ""
        if owner.partition(".")[0] in _NOT_A_LIBRARY or type(thread).__module__ == "__main__":
            found.append(f"a thread running {getattr(target, '__qualname__', target)!s} (still running; "
                         "the grader cannot stop it)")
    return found


# ----------------------------------------------------------------------------- IPython
def _shell():
    get_ipython = getattr(sys.modules.get("IPython"), "get_ipython", None)
    return get_ipython() if get_ipython else None


def _shell_lists(shell) -> dict[str, list]:
    manager = getattr(shell, "input_transformer_manager", None)
    lists = {"shell.ast_transformers": getattr(shell, "ast_transformers", None),
             "shell.input_transformers_post": getattr(shell, "input_transformers_post", None)}
    for name in ("cleanup_transforms", "line_transforms", "token_transformers"):
        lists[f"shell.input_transformer_manager.{name}"] = getattr(manager, name, None)
    return {name: value for name, value in lists.items() if isinstance(value, list)}


def _shell_objects(shell) -> dict[str, object]:
    kernel = getattr(shell, "kernel", None)
    return {"shell": shell, "kernel": kernel, "session": getattr(kernel, "session", None),
            "shell.events": getattr(shell, "events", None)}


def _snapshot_shell() -> None:
    shell = _shell()
    if shell is None:
        return
    _state.shell = {"objects": {label: (obj, dict(vars(obj))) for label, obj in _shell_objects(shell).items()
                                if obj is not None},
                    "lists": {name: (value, list(value)) for name, value in _shell_lists(shell).items()},
                    "handlers": dict(getattr(getattr(shell, "kernel", None), "shell_handlers", {}) or {})}
    _state.callbacks = {event: list(callbacks) for event, callbacks in shell.events.callbacks.items()}


def _restore_shell(changed: list[str]) -> None:
    shell = _shell()
    if shell is None or not _state.shell:
        return
    for label, (obj, attributes) in _state.shell["objects"].items():
        current = vars(obj)
        for name, value in list(current.items()):
            key = f"{label}.{name}"
            if key in REBOUND_AT_RUN_TIME:
                continue
            if name not in attributes:
                if callable(getattr(type(obj), name, None)) or callable(value):
                    delattr(obj, name)       # shadows a method, or adds a hook
                    changed.append(key)
            elif value is not attributes[name] and (callable(attributes[name]) or callable(value)):
                setattr(obj, name, attributes[name])
                changed.append(key)
    for name, (original, items) in _state.shell["lists"].items():
        if not _same(original, items):
            original[:] = items
            changed.append(name)
    handlers = getattr(getattr(shell, "kernel", None), "shell_handlers", None)
    if isinstance(handlers, dict) and handlers != _state.shell["handlers"]:
        handlers.clear()
        handlers.update(_state.shell["handlers"])
        changed.append("kernel.shell_handlers")
    for event, callbacks in shell.events.callbacks.items():
        before = _state.callbacks.get(event, [])
        kept = [c for c in callbacks if any(c is b for b in before) or _library_callback(c)]
        if len(kept) != len(callbacks):
            callbacks[:] = kept
            changed.append(f"shell.events ({event} callbacks)")
    _state.callbacks = {event: list(callbacks) for event, callbacks in shell.events.callbacks.items()}


def _library_callback(callback) -> bool:
    """Whether an event callback is a library's (Matplotlib's inline backend registers one). Read
    from the function or the type, never through the object's own attribute look-up (which would
    run the notebook's code in the middle of the guard's work)."""
    if type(callback) is types.MethodType:
        callback = callback.__func__
    owner = callback.__module__ if type(callback) is types.FunctionType else type(callback).__module__
    return isinstance(owner, str) and owner.partition(".")[0] in CALLBACK_OWNERS


def _restore_aliases(changed: list[str], namespace: dict | None) -> None:
    """The notebook namespace's ``__builtins__``, and the names the course's set-up cells imported
    (``np``, ``load_fashion_mnist``), as imported."""
    if namespace is None:
        shell = _shell()
        namespace = shell.user_ns if shell is not None else None
    if namespace is None:
        return
    own = namespace.get("__builtins__", builtins)
    if own is not builtins and own is not vars(builtins):
        namespace["__builtins__"] = builtins
        changed.append("the notebook's __builtins__")
    for name, path in _state.aliases.items():
        module, _, attribute = path.partition(":")
        if module == RELOADED or module.startswith(RELOADED + "."):
            continue   # the tests import the checks afresh: the notebook's copy is its own
        value = sys.modules.get(module)
        if value is None:
            continue
        if attribute:
            value = vars(value).get(attribute, _MISSING)
            if value is _MISSING:
                continue
        if name in namespace and namespace[name] is not value:
            namespace[name] = value
            changed.append(f"the notebook's {name}")


# ----------------------------------------------------------------------------- library state
def _library_state() -> dict[str, object]:
    state = {}
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        state["numpy error state"] = numpy.geterr()
    torch = sys.modules.get("torch")
    if torch is not None and hasattr(torch, "is_grad_enabled"):
        state["torch grad mode"] = torch.is_grad_enabled()
        state["torch default dtype"] = torch.get_default_dtype()
        if hasattr(torch, "get_default_device"):
            state["torch default device"] = torch.get_default_device()
        functional = torch._C
        state["torch function modes"] = functional._len_torch_function_stack()
        state["torch dispatch modes"] = functional._len_torch_dispatch_stack()
        hooks = sys.modules.get("torch.nn.modules.module")
        if hooks is not None:
            state["torch global module hooks"] = {name: dict(value) for name, value in vars(hooks).items()
                                                  if name.startswith("_global_") and isinstance(value, dict)}
    return state


def _note_library_state() -> None:
    """The global state of the libraries imported since the snapshot, as their import left it
    (torch imported by a set-up cell: its grad mode, its mode stacks...)."""
    was, _state.restoring = _state.restoring, True   # reading it may import: no scan around that
    try:
        now = _library_state()
    finally:
        _state.restoring = was
    for name, value in now.items():
        _state.library.setdefault(name, value)


def _restore_library_state(changed: list[str]) -> None:
    now = _library_state()
    torch = sys.modules.get("torch")
    for name, value in _state.library.items():
        current = now.get(name, value)
        if name == "torch global module hooks":
            hooks = sys.modules["torch.nn.modules.module"]
            for attr, entries in value.items():
                live = getattr(hooks, attr)
                if dict(live) != entries:
                    live.clear()
                    live.update(entries)
                    changed.append(f"torch's {attr.strip('_').replace('_', ' ')}")
            continue
        if current == value:
            continue
        if name == "numpy error state":
            sys.modules["numpy"].seterr(**value)
        elif name == "torch grad mode":
            torch.set_grad_enabled(value)
        elif name == "torch default dtype":
            torch.set_default_dtype(value)
        elif name == "torch default device":   # before the modes: a default device is one
            torch.set_default_device(None if value == torch.device("cpu") else value)
        elif name == "torch function modes":
            while torch._C._len_torch_function_stack() > value:
                torch._C._pop_torch_function_stack()
        elif name == "torch dispatch modes":
            while torch._C._len_torch_dispatch_stack() > value:
                torch._C._pop_torch_dispatch_stack()
        changed.append(name)
    for name, value in now.items():   # a library imported unseen (never, through the import hook)
        _state.library.setdefault(name, value)


# ----------------------------------------------------------------------------- entry points
def install(aliases: dict[str, str] | None = None) -> None:
    """Take the snapshot: now is how the tests must find the interpreter.

    ``aliases`` names what the course's set-up cells import into the notebook's namespace:
    ``{"np": "numpy", "load_fashion_mnist": "utils.data:load_fashion_mnist"}``. Calling
    install again (an in-process run after another) takes what is now as the new snapshot.
    """
    if not _state.installed:
        sys.addaudithook(_audit)   # cannot be removed: installed once per process
        _state.installed = True
    if not any(isinstance(f, _SnapshotOnImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _SnapshotOnImport())
    _state.library = {}
    _note_library_state()   # first: reading it may import (torch.utils._device)
    _snapshot_modules([n for n in list(sys.modules) if n not in _state.modules])
    _accept_changes()
    _state.code_changes.clear()
    _snapshot_interpreter()
    _snapshot_shell()
    _state.aliases = dict(aliases or {})


def restore(namespace: dict | None = None, thorough: bool = False) -> list[str]:
    """Put back everything that changed since :func:`install`; return what (``numpy.isclose``,
    ``sys.meta_path``, ``shell.ast_transformers``...). ``namespace``: the notebook's globals
    when they are not IPython's (an in-process run). ``thorough``: compare every attribute by
    identity (slower; the last look, after the notebook's last cell)."""
    changed: list[str] = []
    _state.restoring = True
    try:   # first what could run the notebook's code meanwhile: trace functions, timers, hooks
        _restore_interpreter(changed)
        _restore_shell(changed)
        _restore_aliases(changed, namespace)
        _drop_fake_modules(changed)
        _restore_modules(changed, thorough)
        _restore_code(changed)
        _restore_library_state(changed)
    finally:
        _state.restoring = False
    changed += _new_threads()
    _state.threads |= set(sys._current_frames())   # reported once
    changed += _state.errors
    _state.errors = []
    return list(dict.fromkeys(changed))


def before_test() -> list[str]:
    """What the grading kernel runs before each test cell: forget the checks (the test imports
    them afresh from disk), then :func:`restore`."""
    for name in [n for n in sys.modules if n == RELOADED or n.startswith(RELOADED + ".")]:
        del sys.modules[name]
    package = sys.modules.get(RELOADED.rpartition(".")[0])
    if package is not None:
        vars(package).pop(RELOADED.rpartition(".")[2], None)
    return restore()
