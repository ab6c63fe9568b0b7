"""Student notebooks made from the solutions: the way the course proves its tests.

A *variant* is the solution with one function (or one method) replaced. A variant that
carries a bug must lose points on the test that should catch it; a variant that is a correct
implementation written differently must keep full marks. Each assignment lists its variants
in ``grader/proving/cases/<assignment>.py``; the test suite grades them all, and the example class
under ``grader/submitted/`` is made from them.

    >>> replace_definition("def f(x):\\n    return x\\n", "f", "def f(x):\\n    return -x\\n")
    'def f(x):\\n    return -x\\n'
"""

from __future__ import annotations

import ast
import copy
import textwrap
from dataclasses import dataclass

import nbformat

from grader.cells import grade_id, is_solution  # noqa: F401 -- also used from here


@dataclass(frozen=True)
class Variant:
    """The solution with ``target`` replaced by ``source``.

    target
        A top-level function or class name (``"step"``) or a method (``"Perceptron.update"``).
    source
        The replacement definition, as the student would write it.
    description
        What the bug is, or how this correct version differs from ours.
    fails
        grade_ids of the tests that must lose points; empty for a correct alternative.
    hint
        Words that the failed test's feedback must contain (the named mistake).
    """

    target: str
    source: str
    description: str
    fails: tuple[str, ...] = ()
    hint: str | None = None

    @property
    def is_bug(self) -> bool:
        return bool(self.fails)

    @property
    def function(self) -> str:
        """The top-level function or class it replaces (``"Perceptron"`` for ``"Perceptron.update"``)."""
        return self.target.split(".")[0]


def _find(tree: ast.Module, target: str) -> ast.stmt | None:
    scope: list[ast.stmt] = tree.body
    node = None
    for part in target.split("."):
        node = next((n for n in scope if isinstance(n, (ast.FunctionDef, ast.ClassDef,
                                                       ast.AsyncFunctionDef))
                     and n.name == part), None)
        if node is None:
            return None
        scope = node.body
    return node


def defines(source: str, target: str) -> bool:
    """Whether ``source`` defines ``target`` (``"name"`` or ``"Class.method"``)."""
    try:
        return _find(ast.parse(source), target) is not None
    except SyntaxError:
        return False


def replace_definition(source: str, target: str, new: str) -> str:
    """``source`` with the definition of ``target`` replaced by ``new`` (re-indented to fit)."""
    node = _find(ast.parse(source), target)
    if node is None:
        raise KeyError(f"{target!r} is not defined in this code")
    lines = source.splitlines(keepends=True)
    start = min([node.lineno] + [d.lineno for d in node.decorator_list]) - 1
    replacement = textwrap.indent(textwrap.dedent(new).strip("\n") + "\n", " " * node.col_offset)
    return "".join(lines[:start]) + replacement + "".join(lines[node.end_lineno:])


def apply_variants(nb, variants) -> nbformat.NotebookNode:
    """A copy of ``nb`` with each variant's target replaced in the code cell defining it."""
    nb = copy.deepcopy(nb)
    for variant in variants:
        cells = [c for c in nb.cells if c.cell_type == "code" and defines(c.source, variant.target)]
        # Prefer the student's answer cell over, say, a test cell that defines a helper.
        cells.sort(key=lambda c: not is_solution(c))
        if not cells:
            raise KeyError(f"no code cell defines {variant.target!r}")
        cells[0].source = replace_definition(cells[0].source, variant.target, variant.source)
    return nb


# nbgrader's markers of a solution's region (ClearSolutions' delimiters, which the course keeps):
# a line holding one is nbgrader's, and no student's notebook has it.
SOLUTION_DELIMITERS = ("BEGIN SOLUTION", "END SOLUTION")


def as_student_writes(answer: str) -> str:
    """A solution cell's code as a student would hand it in: nbgrader's delimiter lines removed,
    the code between them kept.

    >>> as_student_writes("def f(x):\\n    ### BEGIN SOLUTION\\n    return x\\n    ### END SOLUTION\\n")
    'def f(x):\\n    return x\\n'
    """
    lines = answer.splitlines(keepends=True)
    return "".join(line for line in lines if not any(mark in line for mark in SOLUTION_DELIMITERS))


def make_submission(release, solution, variants=(), unanswered=()) -> nbformat.NotebookNode:
    """What a student hands in: the release notebook with its answer cells filled in.

    Each answer cell takes the solution's code (matched by grade_id) without nbgrader's
    solution markers, except those whose grade_id is in ``unanswered``, which keep the
    release's blank template. Then the variants are applied, so a variant's bug sits exactly
    where a student would write it. Everything else (the other cells, every cell's metadata and
    id, the notebook's metadata) is the release's, as in a student's copy.
    """
    answers = {grade_id(c): as_student_writes(c.source) for c in solution.cells if is_solution(c)}
    nb = copy.deepcopy(release)
    for cell in nb.cells:
        gid = grade_id(cell)
        if is_solution(cell) and gid in answers and gid not in unanswered:
            cell.source = answers[gid]
    return apply_variants(nb, variants)
