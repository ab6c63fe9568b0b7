"""Screen a hand-in's source outside the kernel: what its code may do, read before it runs.

An answer cell runs in the interpreter that then runs the tests, so what it changes there, the
tests compute with. The guard (``grader.nbgrader_ext.guard``) puts back what it can before each
test; this screen reads the code instead, where no trick at run time reaches, and flags what
no solution of this course needs. It is an *allowlist* of what answer cells may do:

- import the course's libraries (NumPy, torch, torchvision, Matplotlib, tqdm, ``utils``) and a
  handful of plain standard modules (``math``, ``random``, ``copy``, ``collections``...);
- define functions and classes, and write attributes of objects the notebook made (``self.w``,
  ``model.b``, ``accuracy.calls``) or of classes it defined;
- call library functions, except the few that load pickles or reach past the libraries into
  the interpreter (``torch.load(weights_only=False)``, ``np.load(allow_pickle=True)``,
  ``torch.overrides``, ``np.ctypeslib``...).

Anything else is a **review** flag (a reason for the instructor to read the code: it reaches
the interpreter, the import system, the IPython shell or the grading), except imports of
known scientific libraries (SciPy, scikit-learn...), which are only a **note**: a correct
hand-in that uses them keeps its marks, the note just says so. A flag never changes points.

Screened: every code cell a student could have written or changed -- answer (solution) cells,
and any other cell whose source differs from the assignment's -- but not the test cells that
nbgrader restores from the assignment, nor the ``demo`` cells grading skips.
"""

from __future__ import annotations

import ast
import builtins
import functools
import sys
from collections import Counter
from dataclasses import dataclass

from grader.cells import grade_id, is_demo, is_solution, is_test

REVIEW, NOTE = "review", "note"

# -- imports ------------------------------------------------------------------------------------
# What the course's notebooks import; an answer cell may import them and any of their submodules.
COURSE_LIBRARIES = {"numpy", "torch", "torchvision", "matplotlib", "tqdm", "utils", "PIL"}
# Standard modules that only compute (no interpreter, files outside the notebook, processes or
# network): an answer cell may use them freely. ``os`` is here for ``os.path`` and friends;
# its other functions are checked one by one (``OS_ALLOWED``).
PLAIN_STDLIB = {
    "__future__", "abc", "array", "bisect", "cmath", "collections", "contextlib", "copy", "csv",
    "dataclasses", "datetime", "decimal", "enum", "fractions", "functools", "glob", "heapq",
    "io", "itertools", "json", "math", "numbers", "operator", "os", "pathlib", "pprint",
    "random", "re", "statistics", "string", "tempfile", "textwrap", "time", "timeit", "typing",
    "warnings",
}
# Third-party libraries a student may reasonably use beside the course's: a note, not a review.
SCIENTIFIC_LIBRARIES = {
    "scipy", "sklearn", "pandas", "seaborn", "einops", "torchmetrics", "torchinfo", "torchsummary",
    "torchviz", "graphviz", "sympy", "statsmodels", "plotly", "skimage", "cv2", "h5py", "tabulate",
    "numba", "jax", "tensorflow", "keras", "ipywidgets",
}
# Parts of a package that are fine to import although the package is not: IPython's display
# functions (display, clear_output), which many notebooks use.
ALLOWED_SUBMODULES = {"IPython.display"}
OS_ALLOWED = {
    "path", "makedirs", "mkdir", "getcwd", "listdir", "scandir", "walk", "remove", "unlink",
    "rename", "replace", "sep", "linesep", "fspath", "PathLike", "cpu_count", "environ", "stat",
    "getenv", "rmdir", "devnull",
}
# Gateways inside the course's libraries that reach past them (into the interpreter, native
# memory, the dispatcher, pickles or the network): attribute names anywhere in a chain.
LIBRARY_GATEWAYS = {
    "ctypeslib": "reaches native memory through ctypes",
    "library": "registers its own kernels for torch's operators (torch.library)",
    "overrides": "can hijack every torch function (torch.overrides)",
    "cpp_extension": "compiles and loads native code",
    "hub": "downloads and runs code (torch.hub)",
    "package": "loads pickled code (torch.package)",
    "read_pickle": "unpickles a file",
    "register_module_forward_hook": "hooks every nn.Module's forward (a global hook)",
    "register_module_forward_pre_hook": "hooks every nn.Module's forward (a global hook)",
    "register_module_full_backward_hook": "hooks every nn.Module's backward (a global hook)",
    "register_module_backward_hook": "hooks every nn.Module's backward (a global hook)",
    "register_module_buffer_registration_hook": "hooks every nn.Module (a global hook)",
    "register_module_parameter_registration_hook": "hooks every nn.Module (a global hook)",
    "register_module_module_registration_hook": "hooks every nn.Module (a global hook)",
    "saved_tensors_hooks": "hooks every tensor autograd saves (a global hook)",
    "register_multi_grad_hook": "hooks autograd globally",
}
# Module attributes an answer cell may set: Matplotlib's display settings, cuDNN's determinism.
WRITABLE_MODULE_ATTRIBUTES = {"rcParams", "deterministic", "benchmark"}

# -- names and attributes -----------------------------------------------------------------------
# Builtins that reach the interpreter: calling (or even naming) them is a review.
INTERPRETER_BUILTINS = {
    "exec": "runs code from a string", "eval": "runs code from a string",
    "compile": "compiles code from a string", "__import__": "imports by a computed name",
    "globals": "reaches a module's namespace", "locals": "reaches a namespace",
    "vars": "reaches an object's namespace", "breakpoint": "starts a debugger",
    "get_ipython": "reaches the IPython shell that runs the tests",
}
# Dunder attributes a cell may read: names, docs, the type, and the protocol methods a class
# of the notebook defines or calls on its parent (``super().__init__``).
ALLOWED_DUNDER_READS = {
    "__name__", "__qualname__", "__doc__", "__class__", "__module__", "__version__",
    "__annotations__", "__init__", "__call__", "__len__", "__iter__", "__next__", "__getitem__",
    "__setitem__", "__contains__", "__enter__", "__exit__", "__repr__", "__str__",
}
# Dunder methods a class of the notebook may define: construction, calling, containers, context
# managers and printing. Comparisons and conversions are not: an object that decides its own
# comparisons (``__eq__`` always true) can pass a check it should fail.
ALLOWED_DUNDER_METHODS = {
    "__init__", "__call__", "__repr__", "__str__", "__len__", "__iter__", "__next__",
    "__getitem__", "__setitem__", "__contains__", "__enter__", "__exit__", "__post_init__",
    "__hash__",
}
# Names a cell may use at module level although they look like dunders.
ALLOWED_DUNDER_NAMES = {"__name__", "__doc__"}
# Base classes from which a notebook class may derive (beside its own classes and object, dict,
# list, exceptions): torch's modules, data sets, optimizers, autograd functions; abc, enum and
# typing's. Not values (float, ndarray, Tensor...), whose subclasses can lie in comparisons.
ALLOWED_BASES_FROM = ("torch.nn.", "torch.utils.data.", "torch.optim.", "torch.autograd.")
VALUE_CLASSES = {"Parameter", "Tensor", "UninitializedParameter", "Buffer"}
# IPython magics that only time, capture or show: their code is screened like a cell's.
HARMLESS_MAGICS = {"time", "timeit", "capture", "matplotlib", "precision", "pprint", "pinfo",
                   "pinfo2", "who", "whos", "prun"}
CODE_MAGICS = {"time", "timeit", "capture", "prun"}   # whose argument or body is code
# Calls whose path argument names a file they write.
WRITERS = {"open", "write_text", "write_bytes", "touch", "unlink", "rename", "replace", "rmdir",
           "mkdir", "makedirs", "remove", "symlink_to", "save", "savez", "savetxt", "savefig",
           "rmtree", "copy", "copyfile", "copytree", "move", "chmod"}


@dataclass(frozen=True)
class Flag:
    """Something in a hand-in for the instructor to look at (never a change of points).

    level
        ``"review"``: the code reaches the interpreter or the grading, read it;
        ``"note"``: worth knowing (an unusual import, a cell that does not parse).
    cell
        Index of the cell in the hand-in (``None``: the notebook as a whole).
    grade_id
        The cell's nbgrader id, if it has one.
    line
        Line in the cell (1-based; ``None``: the whole cell).
    """

    level: str
    cell: int | None
    grade_id: str | None
    line: int | None
    reason: str

    def as_dict(self) -> dict:
        return {"level": self.level, "cell": {"index": self.cell, "grade_id": self.grade_id},
                "line": self.line, "reason": self.reason}

    @classmethod
    def from_dict(cls, data: dict) -> Flag:
        cell = data.get("cell") or {}
        return cls(data["level"], cell.get("index"), cell.get("grade_id"), data.get("line"), data["reason"])

    def where(self) -> str:
        """``cell 15 (accuracy), line 3``"""
        place = "notebook" if self.cell is None else f"cell {self.cell}"
        if self.grade_id:
            place += f" ({self.grade_id})"
        return place + (f", line {self.line}" if self.line else "")

    def __str__(self) -> str:
        return f"{self.level}: {self.where()}: {self.reason}"


def screen(notebook, release=None) -> list[Flag]:
    """The flags of a hand-in ``notebook`` (an nbformat notebook).

    ``release`` is the assignment's release or source notebook: its cells tell which cells
    the student changed and which test cells nbgrader restores, and which of the course's
    names the tests read. Without it, every non-test code cell is screened.
    """
    reference = _reference(release)
    cells = [(i, c, _python(c.source)) for i, c in enumerate(notebook.cells)
             if c.cell_type == "code" or (is_solution(c) and reference.is_code(grade_id(c)))]
    module = _ModuleBindings()
    for index, cell, (tree, _) in cells:
        if tree is not None and not reference.restores(cell):
            module.collect(tree)
    for name, bound in reference.course_imports.items():
        module.bind(name, bound)
    flags: list[Flag] = []
    for index, cell, (tree, error) in cells:
        if not _screened(cell, reference):
            continue
        gid = grade_id(cell)
        if tree is None:
            flags.append(Flag(NOTE, index, gid, error[0], f"the cell does not parse ({error[1]}), so it "
                                                           "was not screened; it cannot run either"))
            continue
        visitor = _Screen(module, reference)
        visitor.visit(tree)
        flags += [Flag(level, index, gid, line, reason) for level, line, reason in visitor.found]
    return list(dict.fromkeys(flags))


def set_up_imports(notebook) -> dict[str, str]:
    """What the course's own cells (read-only, not tests) import into the notebook's namespace:
    ``{"np": "numpy", "load_fashion_mnist": "utils.data:load_fashion_mnist"}`` -- the names the
    guard puts back before each test (``grader.nbgrader_ext.guard.install``)."""
    found: dict[str, str] = {}
    for cell in notebook.cells:
        locked = cell.get("metadata", {}).get("nbgrader", {}).get("locked")
        if cell.cell_type != "code" or not locked or is_solution(cell) or is_test(cell):
            continue
        tree, _ = _python(cell.source)
        for node in _top_level(tree) if tree is not None else ():
            if isinstance(node, ast.Import):
                found.update({a.asname or a.name.split(".")[0]: a.name if a.asname else a.name.split(".")[0]
                              for a in node.names})
            elif isinstance(node, ast.ImportFrom) and not node.level:
                found.update({a.asname or a.name: f"{node.module}:{a.name}" for a in node.names if a.name != "*"})
    return found


def counts(flags: list[Flag]) -> str:
    """``2 review, 1 note`` (empty when there are none)."""
    tally = Counter(flag.level for flag in flags)
    return ", ".join(f"{tally[level]} {level}" for level in (REVIEW, NOTE) if tally[level])


# ----------------------------------------------------------------------------- which cells
@dataclass(frozen=True)
class _Cell:
    """What the screen needs of one cell of the assignment's notebook."""

    cell_type: str
    source: str
    grade_id: str | None
    solution: bool
    test: bool
    locked: bool


def _reference(release) -> _Reference:
    if release is None:
        return _Reference(None)
    cells = []
    for cell in release.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        cells.append(_Cell(cell.cell_type, cell.source, grade_id(cell), is_solution(cell), is_test(cell),
                           bool(meta.get("locked")) or is_test(cell)))
    return _Reference(tuple(cells))


class _Reference:
    """What the assignment's own notebook says about a hand-in's cells."""

    def __init__(self, cells: tuple[_Cell, ...] | None):
        self.known = cells is not None
        cells = cells or ()
        # nbgrader puts back the source of every locked cell (tests, read-only set-up) by grade_id.
        self.restored = {c.grade_id for c in cells if c.locked and not c.solution and c.grade_id}
        self.sources = {c.source for c in cells if c.cell_type == "code" and not c.test and not c.solution}
        self.code_ids = {c.grade_id for c in cells if c.cell_type == "code" and c.grade_id}
        self.course_imports, self.course_names, self.read_by_tests, self.test_names = _course_names(cells)

    def is_code(self, gid) -> bool:
        return not self.known or gid in self.code_ids

    def restores(self, cell) -> bool:
        """Whether nbgrader replaces this cell's source with the assignment's (tests, read-only cells)."""
        if not self.known:
            return is_test(cell)
        return grade_id(cell) in self.restored

    def unchanged(self, cell) -> bool:
        return self.known and not is_solution(cell) and cell.source in self.sources


@functools.lru_cache(maxsize=8)
def _course_names(cells: tuple[_Cell, ...]) -> tuple[dict[str, str], set[str], set[str], set[str]]:
    """The names the course's own (not answer, not test) cells import and bind, the names the
    test cells read without binding them (what an answer cell must not rebind), and every name
    the test cells use (what a function must not rebind while a test runs)."""
    imports: dict[str, str] = {}
    names: set[str] = set()
    read_by_tests: set[str] = set()
    test_names: set[str] = set()
    for cell in cells:
        if cell.cell_type != "code" or cell.solution:
            continue
        tree, _ = _python(cell.source)
        if tree is None:
            continue
        if cell.test:
            bound = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)}
            bound |= {name for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))
                      for name, _ in _import_bindings(n)}
            read_by_tests |= {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id not in bound}
            test_names |= bound | {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        else:
            bindings = _ModuleBindings()
            bindings.collect(tree)
            names |= set(bindings.kinds)
            imports.update({n: k for n, k in bindings.kinds.items() if k.startswith("import:")})
    return imports, names, read_by_tests, test_names


def _screened(cell, reference: _Reference) -> bool:
    if reference.restores(cell) or reference.unchanged(cell):
        return False
    skipped_by_grading = is_demo(cell) and not is_solution(cell) and not cell.metadata.get("nbgrader", {}).get("grade")
    return not skipped_by_grading


@functools.lru_cache(maxsize=4096)
def _python(source: str) -> tuple[ast.Module | None, tuple[int | None, str] | None]:
    """The cell's code as the kernel runs it, parsed: ``(tree, None)`` or ``(None, (line, error))``.

    Plain Python parses as it is; otherwise IPython's magics (``%time``, ``!cmd``) are turned
    into the calls the kernel makes of them first. Trees are shared: never change them.
    """
    try:
        return ast.parse(source), None
    except (SyntaxError, ValueError):
        pass
    try:
        from IPython.core.inputtransformer2 import TransformerManager

        source = TransformerManager().transform_cell(source)
    except Exception:  # noqa: BLE001 -- no IPython, or it cannot transform: report the raw error
        pass
    try:
        return ast.parse(source), None
    except (SyntaxError, ValueError) as error:
        return None, (getattr(error, "lineno", None), f"{type(error).__name__}: {getattr(error, 'msg', error)}")


# ----------------------------------------------------------------------------- what names are
# A binding's kind: "import:<module>" (a module or a name imported from one), "def", "class",
# "own" (an object the notebook made), "foreign" (something of a library's, reached without a call).
OWN, FOREIGN, DEF, CLASS = "own", "foreign", "def", "class"


class _ModuleBindings:
    """The kinds of the notebook's global names, from every cell that runs."""

    def __init__(self):
        self.kinds: dict[str, str] = {}

    def bind(self, name: str, kind: str) -> None:
        # A name bound both to an object of the notebook's and to a library's counts as the
        # library's: writing through it may write into the library.
        if self.kinds.get(name, OWN) == OWN or kind != OWN:
            self.kinds[name] = kind

    def collect(self, tree: ast.Module) -> None:
        for node in _top_level(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for name, kind in _import_bindings(node):
                    self.bind(name, kind)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self.bind(node.name, DEF)
            elif isinstance(node, ast.ClassDef):
                self.bind(node.name, CLASS)
        for _ in range(2):   # an alias of an alias
            for node in _top_level(tree):
                for target, value in _assignments(node):
                    for name in _names(target):
                        self.bind(name, _kind(value, self._resolve))

    def _resolve(self, name: str) -> str:
        return self.kinds.get(name, FOREIGN)


def _top_level(tree: ast.Module):
    """Statements that run at module level (inside if/for/while/try/with blocks too)."""
    stack = list(tree.body)
    while stack:
        node = stack.pop(0)
        yield node
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            for field in ("body", "orelse", "finalbody", "handlers"):
                stack += [n for n in getattr(node, field, []) if isinstance(n, (ast.stmt, ast.excepthandler))]


def _import_bindings(node) -> list[tuple[str, str]]:
    if isinstance(node, ast.Import):
        return [(a.asname or a.name.split(".")[0], f"import:{a.name if a.asname else a.name.split('.')[0]}")
                for a in node.names]
    module = "." * node.level + (node.module or "")
    return [(a.asname or a.name, f"import:{module}.{a.name}") for a in node.names if a.name != "*"]


def _assignments(node):
    """``(target, value)`` pairs of an assignment statement (value ``None`` when unknown)."""
    if isinstance(node, ast.Assign):
        return [(t, node.value) for t in node.targets]
    if isinstance(node, (ast.AnnAssign, ast.AugAssign)) and node.value is not None:
        return [(node.target, node.value)]
    if isinstance(node, (ast.For, ast.AsyncFor)):
        return [(node.target, None)]
    if isinstance(node, (ast.With, ast.AsyncWith)):
        return [(item.optional_vars, item.context_expr) for item in node.items if item.optional_vars]
    return []


def _names(target) -> list[str]:
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)):
        return [n for t in target.elts for n in _names(t)]
    if isinstance(target, ast.Starred):
        return _names(target.value)
    return []


# Calls that hand back an existing object of a library's (a class, a module, a namespace)
# rather than making a new one: what they return is not the notebook's own.
_REACHING_CALLS = {"type", "getattr", "vars", "globals", "locals", "__import__", "import_module",
                   "get_ipython", "super"}


def _kind(value, resolve) -> str:
    """Whether ``value`` is the notebook's own object or one of a library's."""
    if value is None:
        return OWN
    if isinstance(value, ast.Name):
        kind = resolve(value.id)
        return FOREIGN if kind.startswith("import:") else kind if kind != DEF else OWN
    if isinstance(value, (ast.Attribute, ast.Subscript, ast.Starred, ast.NamedExpr)):
        return FOREIGN if _kind(value.value, resolve) == FOREIGN else OWN
    if isinstance(value, ast.Call):
        name = _call_name(value.func)
        return FOREIGN if name in _REACHING_CALLS else OWN
    if isinstance(value, ast.IfExp):
        kinds = {_kind(value.body, resolve), _kind(value.orelse, resolve)}
        return FOREIGN if FOREIGN in kinds else OWN
    return OWN   # a literal, an operation, a lambda: made here


def _call_name(func) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _chain(node) -> list[str]:
    """``np.testing.assert_allclose`` -> ``["np", "testing", "assert_allclose"]`` (``[]``: not a chain)."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return [node.id] + parts[::-1]
    return []


def _is_dunder(name) -> bool:
    return isinstance(name, str) and len(name) > 4 and name.startswith("__") and name.endswith("__")


def _constant(node):
    return node.value if isinstance(node, ast.Constant) else None


# ----------------------------------------------------------------------------- the screen
class _Scope:
    def __init__(self, kind: str, node=None, parent: _Scope | None = None):
        self.kind, self.node, self.parent = kind, node, parent
        self.names: dict[str, str] = {}
        self.globals: set[str] = set()


class _Screen(ast.NodeVisitor):
    """Walks one cell's code; ``found`` lists ``(level, line, reason)``."""

    def __init__(self, module: _ModuleBindings, reference: _Reference):
        self.module, self.reference = module, reference
        self.found: list[tuple[str, int | None, str]] = []
        self.scope = _Scope("module")
        self.inner_attributes: set[int] = set()

    # -- helpers
    def flag(self, node, reason: str, level: str = REVIEW) -> None:
        self.found.append((level, getattr(node, "lineno", None), reason))

    def resolve(self, name: str) -> str:
        scope = self.scope
        while scope is not None:
            if scope.kind == "function" and name in scope.globals:
                break
            if scope.kind != "class" or scope is self.scope:
                if name in scope.names:
                    return scope.names[name]
            scope = scope.parent
        if name in self.module.kinds:
            return self.module.kinds[name]
        return FOREIGN   # a builtin, an IPython name, or undefined

    def kind(self, node) -> str:
        return _kind(node, self.resolve)

    def module_of(self, name: str) -> str | None:
        kind = self.resolve(name)
        return kind[len("import:"):] if kind.startswith("import:") else None

    def chain_module(self, node) -> tuple[str | None, list[str]]:
        """For ``np.testing.x``: ``("numpy", ["testing", "x"])``."""
        chain = _chain(node)
        if not chain:
            return None, []
        return self.module_of(chain[0]), chain[1:]

    # -- scopes
    def _check_definition(self, node) -> None:
        """A ``def``/``class`` at module level that replaces a name of the course's."""
        if self.scope.kind == "module":
            self._check_rebinding(ast.Name(id=node.name, ctx=ast.Store(), lineno=node.lineno))

    def _function(self, node) -> None:
        self._check_definition(node)
        for decorator in node.decorator_list:
            self.visit(decorator)
        for default in node.args.defaults + [d for d in node.args.kw_defaults if d is not None]:
            self.visit(default)
        if node.returns:
            self.visit(node.returns)
        scope = _Scope("function", node, self.scope)
        args = node.args
        params = [a.arg for a in args.posonlyargs + args.args + args.kwonlyargs]
        params += [a.arg for a in (args.vararg, args.kwarg) if a]
        for param in params:
            scope.names[param] = OWN
        for sub in ast.walk(node):
            if isinstance(sub, (ast.Global, ast.Nonlocal)):
                scope.globals |= set(sub.names)
        outer, self.scope = self.scope, scope
        for sub in _body_statements(node.body):
            for target, value in _assignments(sub):
                for name in _names(target):
                    if name not in scope.globals:
                        scope.names[name] = OWN
            if isinstance(sub, (ast.Import, ast.ImportFrom)):
                for name, kind in _import_bindings(sub):
                    scope.names[name] = kind
            elif isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                scope.names[sub.name] = DEF if not isinstance(sub, ast.ClassDef) else CLASS
        for _ in range(2):   # local aliases of library objects are the library's
            for sub in _body_statements(node.body):
                for target, value in _assignments(sub):
                    for name in _names(target):
                        kind = self.kind(value)
                        if name not in scope.globals and kind != OWN:
                            scope.names[name] = kind
        for statement in node.body:
            self.visit(statement)
        self.scope = outer

    visit_FunctionDef = visit_AsyncFunctionDef = _function

    def visit_Lambda(self, node):
        scope = _Scope("function", node, self.scope)
        for a in node.args.posonlyargs + node.args.args + node.args.kwonlyargs:
            scope.names[a.arg] = OWN
        for a in (node.args.vararg, node.args.kwarg):
            if a:
                scope.names[a.arg] = OWN
        for default in node.args.defaults:
            self.visit(default)
        outer, self.scope = self.scope, scope
        self.visit(node.body)
        self.scope = outer

    def _comprehension(self, node):
        scope = _Scope("function", node, self.scope)
        for generator in node.generators:
            for name in _names(generator.target):
                scope.names[name] = OWN
        self.visit(node.generators[0].iter)   # evaluated outside the comprehension
        outer, self.scope = self.scope, scope
        for number, generator in enumerate(node.generators):
            later_iter = [generator.iter] if number else []   # the first one was visited outside
            for sub in [generator.target, *generator.ifs, *later_iter]:
                self.visit(sub)
        for field in ("elt", "key", "value"):
            if getattr(node, field, None) is not None:
                self.visit(getattr(node, field))
        self.scope = outer

    visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = _comprehension

    def visit_ClassDef(self, node):
        self._check_definition(node)
        for base in node.bases:
            self._check_base(base)
            self.visit(base)
        for keyword in node.keywords:
            self.flag(node, f"class {node.name} is made with `{keyword.arg}=`: a custom metaclass or "
                            "class hook decides how its objects behave")
            self.visit(keyword.value)
        for decorator in node.decorator_list:
            self.visit(decorator)
        for statement in node.body:
            if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)) and _is_dunder(statement.name) \
                    and statement.name not in ALLOWED_DUNDER_METHODS:
                self.flag(statement, f"class {node.name} defines `{statement.name}`: an object that decides "
                                     "its own comparisons, conversions or attribute look-ups can pass a check "
                                     "it should fail")
        scope = _Scope("class", node, self.scope)
        outer, self.scope = self.scope, scope
        for statement in node.body:
            self.visit(statement)
        self.scope = outer

    def _check_base(self, base) -> None:
        chain = _chain(base)
        if chain and self.resolve(chain[0]) == CLASS:
            return
        module, rest = self.chain_module(base) if chain else (None, [])
        path = ".".join([module] + rest) if module else ".".join(chain)
        if module is not None:
            allowed = path.rsplit(".", 1)[-1] not in VALUE_CLASSES and (
                path.startswith(ALLOWED_BASES_FROM) or module.split(".")[0] in ("abc", "enum", "typing"))
        else:
            allowed = len(chain) == 1 and self.resolve(chain[0]) == FOREIGN and (
                chain[0] in ("object", "dict", "list") or chain[0].endswith(("Error", "Exception", "Warning")))
        if not allowed:
            self.flag(base, f"a class derives from `{path or ast.unparse(base)}`: only the notebook's own "
                            "classes, torch's modules, data sets, optimizers and autograd functions are "
                            "expected; a subclass of a value (a number, an array, a tensor) can lie in "
                            "the comparisons the tests make")

    # -- imports
    def visit_Import(self, node):
        for alias in node.names:
            self._check_import(node, alias.name)
        self._check_import_rebinding(node)

    def _check_import_rebinding(self, node) -> None:
        """``import torch as np``: a name of the course's set-up bound to another module."""
        if self.scope.kind != "module":
            return
        for name, kind in _import_bindings(node):
            course = self.reference.course_imports.get(name)
            if course is not None and course != kind and name in self.reference.read_by_tests:
                self.flag(node, f"binds `{name}`, which the course imports as {course[len('import:'):]} and the "
                                f"tests use, to {kind[len('import:'):]}")

    def visit_ImportFrom(self, node):
        if node.level:
            self.flag(node, "a relative import: the notebook is no package, so it reaches files beside it")
            return
        self._check_import(node, node.module or "")
        self._check_import_rebinding(node)
        for alias in node.names:
            if alias.name == "*":
                self.flag(node, f"`from {node.module} import *` rebinds names the tests may use", NOTE)
            else:
                self._check_import(node, f"{node.module}.{alias.name}", submodule_only=True)

    def _check_import(self, node, name: str, submodule_only: bool = False) -> None:
        root = name.split(".")[0]
        if any(name == m or name.startswith(m + ".") for m in ALLOWED_SUBMODULES):
            return
        if root in COURSE_LIBRARIES:
            gateway = next((p for p in name.split(".")[1:] if p in LIBRARY_GATEWAYS or p.startswith("_")), None)
            if gateway is not None:
                self.flag(node, f"imports {name}: " + LIBRARY_GATEWAYS.get(gateway, "a library's private internals"))
            return
        if submodule_only:   # `from numpy import testing`: the module itself was checked
            if root == "os" and name.split(".")[1] not in OS_ALLOWED:
                self.flag(node, f"imports os.{name.split('.')[1]}: " + _OS_REASON)
            return
        if root in PLAIN_STDLIB:
            return
        if root in SCIENTIFIC_LIBRARIES:
            self.flag(node, f"imports {name}, which the course does not use (fine to use; the tests "
                            "grade what the functions return)", NOTE)
            return
        if root in sys.stdlib_module_names or root.startswith("_"):
            self.flag(node, f"imports {name}: a standard module no answer needs, which reaches the "
                            "interpreter, files, processes or code itself")
        else:
            self.flag(node, f"imports {name}: neither one of the course's libraries nor a known "
                            "scientific library")

    # -- names, attributes, calls
    def visit_Name(self, node):
        if isinstance(node.ctx, ast.Load) and self.resolve(node.id) == FOREIGN:
            if node.id in INTERPRETER_BUILTINS:
                self.flag(node, f"uses `{node.id}`, which {INTERPRETER_BUILTINS[node.id]}")
            elif _is_dunder(node.id) and node.id not in ALLOWED_DUNDER_NAMES:
                self.flag(node, f"uses `{node.id}`, the interpreter's own name for a module's internals")
        elif not isinstance(node.ctx, ast.Load):
            self._check_rebinding(node)

    def _check_rebinding(self, node) -> None:
        """A global name the tests read, bound by the course's code: rebinding it changes the tests."""
        name = node.id
        if self.scope.kind == "function" and name not in self.scope.globals:
            return
        if self.scope.kind == "class":
            return
        if self.scope.kind == "function" and name in self.reference.test_names:
            self.flag(node, f"rebinds the global `{name}` from inside a function: a name the tests use, "
                            "changed while a test runs (after the grader's checks are in place)")
        elif _is_dunder(name):
            self.flag(node, f"rebinds `{name}`, which the interpreter uses for the notebook's namespace")
        elif name in self.reference.course_names and name in self.reference.read_by_tests:
            self.flag(node, f"rebinds `{name}`, which the course's set-up code defines and the tests use")
        elif name in _BUILTIN_NAMES and name in self.reference.read_by_tests:
            self.flag(node, f"rebinds the builtin `{name}` for the whole notebook, tests included")

    def visit_Attribute(self, node):
        if _is_dunder(node.attr) and (node.attr not in ALLOWED_DUNDER_READS or not isinstance(node.ctx, ast.Load)):
            self.flag(node, f"uses the attribute `{node.attr}`, which reaches an object's internals")
        if id(node) not in self.inner_attributes:   # only the whole chain np.a.b, not each of its parts
            inner = node.value
            while isinstance(inner, ast.Attribute):
                self.inner_attributes.add(id(inner))
                inner = inner.value
            module, rest = self.chain_module(node)
            if module is not None and isinstance(node.ctx, ast.Load):
                self._check_module_path(node, module, rest)
        if not isinstance(node.ctx, ast.Load):
            self._check_write(node, node.value, node.attr)
        self.visit(node.value)

    def _check_module_path(self, node, module: str, rest: list[str]) -> None:
        path = [module.split(".")[0]] + module.split(".")[1:] + rest
        root = path[0]
        if root == "os" and len(path) > 1 and path[1] not in OS_ALLOWED:
            self.flag(node, f"uses os.{path[1]}: " + _OS_REASON)
            return
        for part in path[1:]:
            if part in LIBRARY_GATEWAYS and root in COURSE_LIBRARIES | SCIENTIFIC_LIBRARIES:
                self.flag(node, f"uses {'.'.join(path)}, which {LIBRARY_GATEWAYS[part]}")
                return
            if part.startswith("_") and not _is_dunder(part):
                self.flag(node, f"uses {'.'.join(path)}: a library's private internals")
                return

    def _check_write(self, node, container, attr: str | None) -> None:
        """A write into ``container`` (an attribute ``attr`` of it, or an item when ``attr`` is None)."""
        if self.kind(container) != FOREIGN:   # self.w, model.b, accuracy.calls, Perceptron.predict
            return
        what = ".".join(_chain(container)) or ast.unparse(container)
        if attr in WRITABLE_MODULE_ATTRIBUTES or (attr is None and _chain(container)[-1:] == ["rcParams"]):
            return
        target = f"{what}.{attr}" if attr else f"an item of {what}"
        self.flag(node, f"changes {target}, which belongs to a library or the interpreter, not to the notebook")

    def visit_Subscript(self, node):
        if not isinstance(node.ctx, ast.Load):
            self._check_write(node, node.value, None)
        self.generic_visit(node)

    def visit_Call(self, node):
        ipython = _ipython_call(node)
        if ipython is not None:   # a magic, as IPython turns it into a call: judged by the magic
            self._check_magic(node, *ipython)
            return
        name = _call_name(node.func)
        if isinstance(node.func, ast.Name) and self.resolve(node.func.id) == FOREIGN:
            self._check_builtin_call(node, node.func.id)
        elif isinstance(node.func, ast.Attribute):
            self._check_method_call(node, name)
        if name in WRITERS:
            self._check_path(node, name)
        self.generic_visit(node)

    def _check_builtin_call(self, node, name: str) -> None:
        if name in ("setattr", "delattr") and node.args:
            self._check_write(node, node.args[0], _constant(node.args[1]) if len(node.args) > 1 else "?")
            computed = len(node.args) > 1 and not isinstance(_constant(node.args[1]), str)
            if computed and self.kind(node.args[0]) == FOREIGN:
                self.flag(node, f"{name} by a computed name on a library's object")
            elif len(node.args) > 1 and _is_dunder(_constant(node.args[1])):
                self.flag(node, f"{name}(..., {_constant(node.args[1])!r}) reaches an object's internals")
        elif name in ("getattr", "hasattr") and len(node.args) > 1:
            attribute = _constant(node.args[1])
            target = node.args[0]
            if isinstance(attribute, str):
                if _is_dunder(attribute) and attribute not in ALLOWED_DUNDER_READS:
                    self.flag(node, f"getattr(..., {attribute!r}) reaches an object's internals")
                elif attribute.startswith("_") and self.kind(target) == FOREIGN:
                    self.flag(node, f"getattr(..., {attribute!r}) reaches a library's private internals")
            elif self._reaches_outside_course(target):
                self.flag(node, "getattr by a computed name on a module or class that is not the notebook's "
                                "nor one of the course's libraries (it can reach anything)")

    def _reaches_outside_course(self, target) -> bool:
        """Whether ``target`` is a library's object other than a module of the course's libraries."""
        if self.kind(target) != FOREIGN:
            return False
        module, rest = self.chain_module(target)
        if module is None:
            return True   # type(x), a builtin, a name the notebook never bound
        path = [*module.split("."), *rest]
        return path[0] not in COURSE_LIBRARIES or any(p.startswith("_") or p in LIBRARY_GATEWAYS for p in path[1:])

    def _check_method_call(self, node, name: str) -> None:
        module, rest = self.chain_module(node.func)
        path = ".".join(([module] if module else []) + rest)
        keywords = {k.arg: k.value for k in node.keywords}
        if module and module.split(".")[0] in ("torch", "numpy") and rest[-1:] == ["load"]:
            self._check_unpickling(node, path, keywords)
        if name in ("attrgetter", "methodcaller") and node.args:
            attribute = _constant(node.args[0])
            if not isinstance(attribute, str) or any(_is_dunder(p) or p.startswith("_") for p in attribute.split(".")):
                self.flag(node, f"operator.{name} of {ast.unparse(node.args[0])}: a way to reach internals by name")
        if name in ("insert", "append", "extend", "update", "setdefault", "pop", "remove", "clear",
                    "register", "__setitem__") and isinstance(node.func, ast.Attribute):
            container = node.func.value
            if self.kind(container) == FOREIGN and module is not None and _chain(container)[-1:] != ["rcParams"]:
                self.flag(node, f"changes {'.'.join(_chain(container))} in place, which belongs to a library "
                                "or the interpreter")

    def _check_unpickling(self, node, path: str, keywords: dict) -> None:
        """``torch.load(weights_only=False)``, ``np.load(allow_pickle=True)``: unpickling runs code.
        Loading a file the notebook's own function was handed (a checkpoint it saved) is a note;
        loading anything else (a literal path, bytes, a global) is a review: a pickled payload."""
        option, safe = ("weights_only", True) if path.startswith("torch") else ("allow_pickle", False)
        value = keywords.get(option)
        if value is not None and _constant(value) is safe:
            return
        if value is None and option == "allow_pickle":
            return   # NumPy's default: no pickles
        source = node.args[0] if node.args else keywords.get("f") or keywords.get("file")
        handed_in = isinstance(source, ast.Name) and self.scope.kind == "function" and \
            source.id in _parameters(self.scope.node)
        setting = f"{option}={ast.unparse(value)}" if value is not None else f"no {option}=True"
        if handed_in:
            self.flag(node, f"{path}(..., {setting}) unpickles the file (it can run code; fine for a file "
                            "the notebook saved itself)", NOTE)
        else:
            self.flag(node, f"{path}(..., {setting}) unpickles "
                            f"{ast.unparse(source) if source is not None else 'a file'}: unpickling runs any code "
                            "the file holds")

    def _check_magic(self, node, kind: str, magic: str | None, argument: str | None) -> None:
        if kind in ("system", "getoutput"):
            self.flag(node, "runs a shell command (`!`), outside Python")
        elif magic not in HARMLESS_MAGICS:
            self.flag(node, f"runs the IPython magic %{magic}, which can change the shell or run code "
                            "outside the cell")
        elif magic in CODE_MAGICS and argument:
            tree, _ = _python(argument)
            if tree is not None:
                inner = _Screen(self.module, self.reference)
                inner.visit(tree)
                line = getattr(node, "lineno", 1) or 1
                self.found += [(level, line + (at or 1) - 1 if kind == "run_cell_magic" else line, reason)
                               for level, at, reason in inner.found]

    def _check_path(self, node, name: str) -> None:
        if name == "open" and isinstance(node.func, ast.Name):
            modes = node.args[1:2] + [k.value for k in node.keywords if k.arg == "mode"]
            mode = modes[0] if modes else None
            if mode is None or (isinstance(_constant(mode), str) and not set(_constant(mode)) & set("wax+")):
                return   # reading
        paths = [a for a in node.args if isinstance(_constant(a), str)]
        if isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Call) and node.func.value.args:
            paths += [a for a in node.func.value.args if isinstance(_constant(a), str)]   # Path("/x").write_text
        for path in paths:
            text = _constant(path)
            if text.startswith(("/", "~", "\\")) or ".." in text.replace("\\", "/").split("/") or text[1:3] == ":\\":
                self.flag(node, f"writes {text!r}, outside the notebook's folder")
                return

    # -- statements that write
    def visit_Delete(self, node):
        for target in node.targets:
            self.visit(target)

    def visit_Constant(self, node):
        self._check_string(node, node.value)

    def visit_BinOp(self, node):
        folded = _fold(node)
        if isinstance(folded, str):
            self._check_string(node, folded)
        self.generic_visit(node)

    def _check_string(self, node, value) -> None:
        if isinstance(value, bytes) and any(b < 32 and b not in b"\t\n\r" or b > 126 for b in value):
            self.flag(node, "binary data in the source (a pickle, marshalled code...): loading it can run code")
        if not isinstance(value, str):
            return
        text = value.strip()
        if _is_dunder(text) and text not in ALLOWED_DUNDER_READS | ALLOWED_DUNDER_NAMES | {"__main__"}:
            self.flag(node, f"names {text!r} in a string: a way to reach internals by name")
        elif text in LIBRARY_GATEWAYS or text in _INTERPRETER_MODULE_NAMES:
            self.flag(node, f"names {text!r} in a string: a way to reach it without importing it by name")


def _parameters(function) -> set[str]:
    args = function.args
    names = {a.arg for a in args.posonlyargs + args.args + args.kwonlyargs}
    return names | {a.arg for a in (args.vararg, args.kwarg) if a}


def _body_statements(body):
    """The statements of a function body that bind its locals (not those of nested scopes)."""
    stack = list(body)
    while stack:
        node = stack.pop(0)
        yield node
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            for field in ("body", "orelse", "finalbody", "handlers"):
                stack += [n for n in getattr(node, field, []) if isinstance(n, (ast.stmt, ast.excepthandler))]


def _ipython_call(node):
    """``get_ipython().run_line_magic('time', 'f()')`` -> ``("run_line_magic", "time", "f()")``."""
    func = node.func
    if not (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Call)
            and isinstance(func.value.func, ast.Name) and func.value.func.id == "get_ipython"):
        return None
    args = [_constant(a) for a in node.args]
    if func.attr == "run_line_magic" and len(args) >= 2:
        return func.attr, args[0], args[1]
    if func.attr == "run_cell_magic" and len(args) >= 3:
        return func.attr, args[0], args[2]
    if func.attr in ("system", "getoutput"):
        return func.attr, None, None
    return None


def _fold(node):
    """The value of a string built from constants (``"is" + "close"``), or None."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _fold(node.left), _fold(node.right)
        if isinstance(left, str) and isinstance(right, str):
            return left + right
    return None


# Standard modules that reach the interpreter, named in a string to import them unseen.
_INTERPRETER_MODULE_NAMES = {"sys", "builtins", "gc", "ctypes", "inspect", "importlib", "marshal", "pickle",
                             "subprocess", "IPython", "ipykernel", "_grader_guard", "posix", "os.system"}
_OS_REASON = "processes, the environment, signals or the working folder are not the notebook's to change"
_BUILTIN_NAMES = set(dir(builtins))
