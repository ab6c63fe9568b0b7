"""Mutation operators: small, one-change edits of a function, as a student might make them.

Each operator looks at one node of a function's syntax tree (Python's ``ast``) and returns the
nodes that could stand in its place: ``swap_op`` turns ``a + b`` into ``a - b``, ``axis`` turns
``axis=0`` into ``axis=1``. :func:`mutations` applies them one at a time, each to a fresh copy
of the function, and yields the mutated functions.

Two families:

- **Library operators** mirror the operator set of `mutmut <https://github.com/boxed/mutmut>`_
  3.8 (``mutmut/mutation/mutators.py``): numbers ``n -> n + 1``, strings ``"XX" + s + "XX"`` and
  case changes, ``True <-> False``, ``deepcopy -> copy``, ``a = b -> a = None``, ``a += b ->
  a = b``, ``not``/``~`` removed, each call argument set to ``None`` or dropped, ``dict(a=...)``
  keywords renamed, string methods swapped (``lower <-> upper``...), a lambda's body set to
  ``None``, ``is <-> is not``, ``in <-> not in``, ``break -> return``, ``continue -> break``,
  operator swaps (``+ <-> -``, ``* <-> /``, ``** -> *``, ``< <-> <=``, ``== <-> !=``, ``and <->
  or``...), a ``match`` case dropped, and a conditional expression forced down each branch.
  Why mutmut rather than cosmic-ray: both are well kept, but neither can be used as a library
  on notebook cells -- mutmut rewrites files on disk into trampolines for its pytest runner (and
  needs libcst), cosmic-ray drives a session database, git and a test command (and brings a
  dozen dependencies). mutmut's operators are one short, readable table of small slips
  (cosmic-ray's are mostly the same binary/comparison/number replacements, plus ones such as
  exception replacement that a course's code rarely exercises), and its argument-removal and
  ``deepcopy -> copy`` operators are exactly the mistakes students make with library calls. So
  this module re-implements mutmut's table on ``ast``, which needs no dependency and keeps a
  mutant one ``ast.unparse`` away from the code a student would write.
- **Course operators** model the bugs this course's students make (``COURSE.md``): ``axis=0 <->
  axis=1``, ``sum <-> mean``, ``keepdims`` dropped, a ``.T`` dropped or added around ``@``,
  ``> <-> >=`` (and ``< <-> <=``), a statement deleted (``zero_grad()``, ``grad = None``,
  ``model.eval()``, an update line, a ``break``), a ``no_grad`` block removed, ``.to(device)`` or
  ``device=`` removed, and the max no longer subtracted in a softmax.
"""

from __future__ import annotations

import ast
import copy
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

# A replacement is a node, or for a statement, a list of statements (empty: deleted).
Replacement = ast.AST | list[ast.stmt]


@dataclass(frozen=True)
class Operator:
    name: str
    course: bool  # a course-specific operator (a known student bug) rather than mutmut's
    mutate: Callable[[ast.AST], Iterable[Replacement]]


# ------------------------------------------------------------------ helpers

def _is_string_statement(node: ast.AST) -> bool:
    """A docstring, or a string on its own line used as a comment."""
    return (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str))


def _call_name(call: ast.AST) -> str | None:
    """``"max"`` for ``max(...)``, ``np.max(...)`` and ``Z.max(...)``; None for other nodes."""
    if not isinstance(call, ast.Call):
        return None
    func = call.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None


def _without_keyword(call: ast.Call, names: set[str]) -> Iterator[ast.Call]:
    for i, keyword in enumerate(call.keywords):
        if keyword.arg in names:
            yield ast.Call(call.func, call.args, call.keywords[:i] + call.keywords[i + 1:])


# ------------------------------------------------------------------ mutmut's operators

def number(node):
    """``n -> n + 1`` for int and float literals (bools are names in mutmut's view)."""
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        yield ast.Constant(node.value + 1)


def string(node):
    """``s -> "XX" + s + "XX"``, lower case, upper case (docstrings and f-strings left alone)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and "\n" not in node.value:
        for new in ("XX" + node.value + "XX", node.value.lower(), node.value.upper()):
            if new != node.value:
                yield ast.Constant(new)


def name(node):
    """``True <-> False``; ``deepcopy -> copy`` (a name or an attribute)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, bool):
        yield ast.Constant(not node.value)
    elif isinstance(node, ast.Name) and node.id == "deepcopy":
        yield ast.Name("copy", node.ctx)
    elif isinstance(node, ast.Attribute) and node.attr == "deepcopy":
        yield ast.Attribute(node.value, "copy", node.ctx)


def assignment(node):
    """``a = b -> a = None`` (and ``a = None -> a = ""``)."""
    if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
        is_none = isinstance(node.value, ast.Constant) and node.value.value is None
        new = copy.copy(node)
        new.value = ast.Constant("" if is_none else None)
        yield new


def augmented_assignment(node):
    """``a += b -> a = b``."""
    if isinstance(node, ast.AugAssign):
        yield ast.Assign([node.target], node.value, lineno=node.lineno)


def remove_unary(node):
    """``not x -> x``, ``~x -> x``."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.Not, ast.Invert)):
        yield node.operand


def argument_removal(node):
    """Each argument set to ``None``; with several arguments, each one dropped."""
    if not isinstance(node, ast.Call):
        return
    positional = list(node.args)
    for i, arg in enumerate(positional):
        if not isinstance(arg, ast.Starred) and not (isinstance(arg, ast.Constant) and arg.value is None):
            yield ast.Call(node.func, positional[:i] + [ast.Constant(None)] + positional[i + 1:], node.keywords)
    for i, keyword in enumerate(node.keywords):
        if keyword.arg is not None and not (isinstance(keyword.value, ast.Constant)
                                            and keyword.value.value is None):
            new = ast.keyword(keyword.arg, ast.Constant(None))
            yield ast.Call(node.func, positional, node.keywords[:i] + [new] + node.keywords[i + 1:])
    if len(positional) + len(node.keywords) > 1:
        for i in range(len(positional)):
            yield ast.Call(node.func, positional[:i] + positional[i + 1:], node.keywords)
        for i in range(len(node.keywords)):
            yield ast.Call(node.func, positional, node.keywords[:i] + node.keywords[i + 1:])


def dict_arguments(node):
    """``dict(a=b) -> dict(aXX=b)``."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict":
        for i, keyword in enumerate(node.keywords):
            if keyword.arg is not None:
                new = ast.keyword(keyword.arg + "XX", keyword.value)
                yield ast.Call(node.func, node.args, node.keywords[:i] + [new] + node.keywords[i + 1:])


_STRING_METHODS = {"lower": "upper", "upper": "lower", "lstrip": "rstrip", "rstrip": "lstrip",
                   "find": "rfind", "rfind": "find", "ljust": "rjust", "rjust": "ljust",
                   "index": "rindex", "rindex": "index", "removeprefix": "removesuffix",
                   "removesuffix": "removeprefix", "partition": "rpartition",
                   "rpartition": "partition"}


def string_methods(node):
    """``s.lower() <-> s.upper()`` and the other symmetric string methods."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
            and node.func.attr in _STRING_METHODS:
        func = ast.Attribute(node.func.value, _STRING_METHODS[node.func.attr], node.func.ctx)
        yield ast.Call(func, node.args, node.keywords)


def lambda_body(node):
    """``lambda: x -> lambda: None`` (``lambda: None -> lambda: 0``)."""
    if isinstance(node, ast.Lambda):
        is_none = isinstance(node.body, ast.Constant) and node.body.value is None
        yield ast.Lambda(node.args, ast.Constant(0 if is_none else None))


_KEYWORD_OPS = {ast.Is: ast.IsNot, ast.IsNot: ast.Is, ast.In: ast.NotIn, ast.NotIn: ast.In}


def keywords(node):
    """``is <-> is not``, ``in <-> not in``, ``break -> return``, ``continue -> break``."""
    if isinstance(node, ast.Compare):
        yield from _swap_compare(node, _KEYWORD_OPS)
    elif isinstance(node, ast.Break):
        yield ast.Return(None)
    elif isinstance(node, ast.Continue):
        yield ast.Break()


_BINARY_OPS = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult,
               ast.FloorDiv: ast.Div, ast.Mod: ast.Div, ast.LShift: ast.RShift,
               ast.RShift: ast.LShift, ast.BitAnd: ast.BitOr, ast.BitOr: ast.BitAnd,
               ast.BitXor: ast.BitAnd, ast.Pow: ast.Mult}
_COMPARE_OPS = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt,
                ast.Eq: ast.NotEq, ast.NotEq: ast.Eq}


def _swap_compare(node: ast.Compare, table: dict) -> Iterator[ast.Compare]:
    for i, op in enumerate(node.ops):
        if type(op) in table:
            yield ast.Compare(node.left, node.ops[:i] + [table[type(op)]()] + node.ops[i + 1:],
                              node.comparators)


def swap_op(node):
    """``+ <-> -``, ``* <-> /``, ``** -> *``, ``< <-> <=``, ``== <-> !=``, ``and <-> or``,
    unary ``+ <-> -``, and the same for augmented assignments (``+= <-> -=``)."""
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY_OPS:
        yield ast.BinOp(node.left, _BINARY_OPS[type(node.op)](), node.right)
    elif isinstance(node, ast.AugAssign) and type(node.op) in _BINARY_OPS:
        yield ast.AugAssign(node.target, _BINARY_OPS[type(node.op)](), node.value, lineno=node.lineno)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.UAdd, ast.USub)):
        yield ast.UnaryOp(ast.USub() if isinstance(node.op, ast.UAdd) else ast.UAdd(), node.operand)
    elif isinstance(node, ast.BoolOp):
        yield ast.BoolOp(ast.Or() if isinstance(node.op, ast.And) else ast.And(), node.values)
    elif isinstance(node, ast.Compare):
        yield from _swap_compare(node, _COMPARE_OPS)


def match_case(node):
    """A ``match`` with several cases loses one."""
    if isinstance(node, ast.Match) and len(node.cases) > 1:
        for i in range(len(node.cases)):
            yield ast.Match(node.subject, node.cases[:i] + node.cases[i + 1:], lineno=node.lineno)


def if_expression(node):
    """``a if c else b``: the condition becomes ``(c) and False``, then ``(c) or True``."""
    if isinstance(node, ast.IfExp):
        for op, literal in ((ast.And(), False), (ast.Or(), True)):
            yield ast.IfExp(ast.BoolOp(op, [node.test, ast.Constant(literal)]), node.body, node.orelse)


# ------------------------------------------------------------------ the course's operators

_AXIS_SWAP = {0: 1, 1: 0, -1: 0}


def axis(node):
    """``axis=0 <-> axis=1`` (``dim=`` too; ``-1 -> 0``): reducing or normalising the wrong way."""
    if isinstance(node, ast.keyword) and node.arg in ("axis", "dim") \
            and isinstance(node.value, ast.Constant) and node.value.value in _AXIS_SWAP \
            and not isinstance(node.value.value, bool):
        yield ast.keyword(node.arg, ast.Constant(_AXIS_SWAP[node.value.value]))


def sum_mean(node):
    """``.sum <-> .mean`` (``np.sum``, ``X.sum()``, ``torch.mean``...)."""
    if isinstance(node, ast.Attribute) and node.attr in ("sum", "mean"):
        yield ast.Attribute(node.value, "mean" if node.attr == "sum" else "sum", node.ctx)


def keepdims(node):
    """``keepdims=True`` (``keepdim=`` in torch) dropped: the reduced axis vanishes."""
    if isinstance(node, ast.Call):
        yield from _without_keyword(node, {"keepdims", "keepdim"})


def transpose(node):
    """A ``.T`` dropped; or added to an operand of ``@`` that has none."""
    if isinstance(node, ast.Attribute) and node.attr == "T":
        yield node.value
    elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult):
        for side in ("left", "right"):
            operand = getattr(node, side)
            if not (isinstance(operand, ast.Attribute) and operand.attr == "T"):
                transposed = ast.Attribute(operand, "T", ast.Load())
                yield ast.BinOp(transposed if side == "left" else node.left, node.op,
                                transposed if side == "right" else node.right)


def strictness(node):
    """``> <-> >=`` and ``< <-> <=``: the boundary case (z = 0, a tie) on the wrong side."""
    if isinstance(node, ast.Compare):
        yield from _swap_compare(node, {ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Lt: ast.LtE, ast.LtE: ast.Lt})


def statement_deleted(node):
    """A statement with an effect deleted: a call on its own (``optimizer.zero_grad()``,
    ``model.eval()``, ``loss.backward()``), an assignment to an attribute or an item
    (``self.b = ...``, ``p.grad = None``, ``x[i] = old``), an augmented assignment (an update
    line, a counter), a ``break``. Assignments to plain names are left alone: deleting one
    only raises a NameError, which no student would hand in."""
    updates = isinstance(node, ast.Assign) and any(isinstance(t, (ast.Attribute, ast.Subscript))
                                                    for t in node.targets)
    if (isinstance(node, ast.Expr) and not _is_string_statement(node)) or updates \
            or isinstance(node, (ast.AugAssign, ast.Break, ast.Continue)):
        yield []


def no_grad_removed(node):
    """``with torch.no_grad(): body -> body``: a graph is recorded, or an update is tracked."""
    if isinstance(node, ast.With) and any(_call_name(item.context_expr) in ("no_grad", "inference_mode")
                                          for item in node.items):
        yield list(node.body)


def device_removed(node):
    """``x.to(device) -> x``; ``device=...`` dropped from a call: a tensor stays on the CPU."""
    if isinstance(node, ast.Call):
        if isinstance(node.func, ast.Attribute) and node.func.attr == "to":
            yield node.func.value
        yield from _without_keyword(node, {"device"})


def _is_max(node: ast.AST) -> bool:
    if isinstance(node, ast.Attribute) and node.attr == "values":  # torch: O.max(dim=1).values
        node = node.value
    return _call_name(node) in ("max", "amax")


def max_not_subtracted(node):
    """``Z - Z.max(...) -> Z``: the softmax overflows for large scores."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Sub) and _is_max(node.right):
        yield node.left


# Course operators first: a mutant that both families make counts as a course (student) bug.
OPERATORS = [Operator(f.__name__, True, f) for f in (
    axis, sum_mean, keepdims, transpose, strictness, statement_deleted, no_grad_removed,
    device_removed, max_not_subtracted)] + [Operator(f.__name__, False, f) for f in (
    number, string, name, assignment, augmented_assignment, remove_unary, argument_removal,
    dict_arguments, string_methods, lambda_body, keywords, swap_op, match_case, if_expression)]


# ------------------------------------------------------------------ applying them

def _children(node: ast.AST) -> Iterator[tuple[ast.AST, str, int | None]]:
    """(child, field, index in the field's list or None), in a fixed order."""
    for field, value in ast.iter_fields(node):
        if isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, ast.AST):
                    yield item, field, i
        elif isinstance(value, ast.AST):
            yield value, field, None


def _walk(node: ast.AST) -> Iterator[tuple[ast.AST, ast.AST | None, str | None, int | None]]:
    """Every node below ``node`` (pre-order), with its parent and place in it."""
    stack = [(node, None, None, None)]
    while stack:
        current, parent, field, index = stack.pop()
        yield current, parent, field, index
        stack.extend(reversed([(child, current, f, i) for child, f, i in _children(current)]))


def _lines(node: ast.AST, parent: ast.AST | None) -> tuple[int, int] | None:
    """The lines a node spans; a keyword or an operator takes its parent's."""
    if hasattr(node, "lineno") and getattr(node, "end_lineno", None):
        return node.lineno, node.end_lineno
    if isinstance(node, ast.keyword) and parent is not None and hasattr(parent, "lineno"):
        return parent.lineno, parent.end_lineno
    return None


def _replace(parent: ast.AST, field: str, index: int | None, new: Replacement) -> None:
    if index is None:
        setattr(parent, field, new)
        return
    items = getattr(parent, field)
    items[index:index + 1] = new if isinstance(new, list) else [new]
    if not items and field == "body":  # a block cannot be empty: what is left of it is `pass`
        items.append(ast.Pass())


def mutations(function: ast.FunctionDef, lines: Callable[[int, int], bool] = lambda a, b: True,
              operators: list[Operator] = OPERATORS) -> Iterator[tuple[Operator, ast.FunctionDef]]:
    """Each one-change mutant of ``function``: (operator, mutated copy of the function).

    Only nodes for which ``lines(first, last)`` holds are mutated (the solution's lines).
    The function itself is left unchanged. Identical mutants may come out twice (two
    operators making the same change); callers compare their code.
    """
    nodes = list(_walk(function))
    # The parts of an f-string are not code a student types as such: leave them alone.
    in_fstring = {id(part) for node, *_ in nodes if isinstance(node, ast.JoinedStr)
                  for part in ast.walk(node)}
    for position, (node, parent, _, _) in enumerate(nodes):
        if parent is None or id(node) in in_fstring:
            continue
        span = _lines(node, parent)
        if span is None or not lines(*span):
            continue
        for operator in operators:
            count = sum(1 for _ in operator.mutate(node))
            for k in range(count):
                mutant = copy.deepcopy(function)
                target, target_parent, field, index = list(_walk(mutant))[position]
                replacement = list(operator.mutate(target))[k]
                _replace(target_parent, field, index, copy.deepcopy(replacement))
                yield operator, ast.fix_missing_locations(mutant)
