"""Run a notebook's code cells in this Python process: the fast way to check many variants.

Grading through nbgrader starts a kernel per notebook (seconds each); most variants only need
"does test cell X fail, and what does it say". This runs the cells in order in one fresh
namespace, the way a kernel would, and records each graded test cell's outcome. A handful
of variants per notebook are also graded end to end with ``python -m grader score``.
Used by the test suite (``tests/inprocess.py`` re-exports it) and by ``grader mutants``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import nbformat

from grader.course import ROOT
from grader.nbgrader_ext import guard
from grader.cells import grade_id, is_demo, is_test, last_graded
from grader.screen import set_up_imports


@dataclass
class Outcome:
    passed: bool
    message: str = ""


def run_cells(nb, stop_after: str | None = None, every_cell: bool = False,
              run_demos: bool | None = None, stop_at_failure: bool = False,
              guarded: bool = True, skip: tuple[str, ...] = ()) -> dict[str, Outcome]:
    """Execute ``nb``'s code cells; return ``{grade_id: Outcome}`` for its test cells
    (for all its code cells if ``every_cell``).

    Stops after the last answer or test cell unless ``every_cell`` (as grading does), after the
    test cell ``stop_after`` when given (later cells are often slow training runs that a variant
    of an early function does not need), and after the first
    failed test cell if ``stop_at_failure`` (enough to know that a variant loses points).
    Cells tagged ``demo`` are skipped, as autograde skips them, unless ``run_demos``
    (default: ``every_cell``). As in a grading kernel, the modules the checks compute with
    are put back before each test cell (``grader.nbgrader_ext.guard``) when ``guarded``, and in any case
    once the cells have run, so that a cheat cannot leak into the rest of this process.
    Test cells whose grade_id is in ``skip`` are not run (e.g. the end-to-end training tests,
    when only the unit tests' verdicts matter).
    """
    if run_demos is None:
        run_demos = every_cell
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    guard.install(set_up_imports(nb))
    namespace: dict = {"__name__": "__main__"}
    outcomes: dict[str, Outcome] = {}
    last = last_graded(nb.cells)   # what comes after it cannot change a verdict (02's MNIST run)
    end = len(nb.cells) if every_cell or last is None else last + 1
    try:
        for index, cell in enumerate(nb.cells[:end]):
            if cell.cell_type != "code" or (is_demo(cell) and not run_demos) \
                    or (is_test(cell) and grade_id(cell) in skip):
                continue
            if guarded and is_test(cell):
                guard.restore(namespace)
            code = compile(cell.source, f"<cell {index}>", "exec")
            try:
                exec(code, namespace)
                outcome = Outcome(True)
            except Exception as exc:  # noqa: BLE001 -- a failing cell is data here
                outcome = Outcome(False, f"{type(exc).__name__}: {exc}")
            if is_test(cell) or every_cell:
                outcomes[grade_id(cell)] = outcome
                if grade_id(cell) == stop_after or (stop_at_failure and is_test(cell)
                                                    and not outcome.passed):
                    break
    finally:
        guard.restore()
        plt.close("all")
    return outcomes


def read(path: str | Path) -> nbformat.NotebookNode:
    return nbformat.read(ROOT / path, as_version=4)
