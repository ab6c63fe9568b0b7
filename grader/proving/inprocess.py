"""Run a notebook's code cells in this Python process: the fast way to check many variants.

Grading through nbgrader starts a kernel per notebook (seconds each); most variants only need
"does test cell X fail, and what does it say". This runs the cells in order in one fresh
namespace, the way a kernel would, and records each graded test cell's outcome. A handful
of variants per notebook are also graded end to end with ``python -m grader score``.
Used by the test suite (``tests/inprocess.py`` re-exports it) and by ``grader mutants``.
"""

from __future__ import annotations

import copy
import os
import random
import sys
import types
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import nbformat

from grader.course import ROOT
from grader.nbgrader_ext import guard
from grader.cells import first_graded, grade_id, is_demo, is_test, last_graded
from grader.screen import set_up_imports


@dataclass
class Outcome:
    passed: bool
    message: str = ""


def run_cells(nb, stop_after: str | None = None, every_cell: bool = False,
              run_demos: bool | None = None, stop_at_failure: bool = False,
              guarded: bool = True, skip: tuple[str, ...] = (),
              report_every_cell: bool = False) -> dict[str, Outcome]:
    """Execute ``nb``'s code cells; return ``{grade_id: Outcome}`` for its test cells
    (for all the code cells it ran if ``every_cell`` or ``report_every_cell``).

    Stops after the last test cell that runs unless ``every_cell`` (grading stops after the last
    answer or test cell: no later cell changes a verdict), after the
    test cell ``stop_after`` when given (later cells are often slow training runs that a variant
    of an early function does not need), and after the first
    failed test cell if ``stop_at_failure`` (enough to know that a variant loses points).
    Cells tagged ``demo`` are skipped, as autograde skips them, unless ``run_demos``
    (default: ``every_cell``). As in a grading kernel, the modules the checks compute with
    are put back before each test cell (``grader.nbgrader_ext.guard``) when ``guarded``, and in any case
    once the cells have run, so that a cheat cannot leak into the rest of this process.
    Test cells whose grade_id is in ``skip`` are not run (e.g. the end-to-end training tests,
    when only the unit tests' verdicts matter).

    The set-up cells before the first answer (03's: load and standardise Fashion-MNIST, most
    of a variant's run) run once per process for the same cells; a later run starts from a deep
    copy of what they left, with the random generators as they left them (see :class:`_SetUp`).
    """
    if run_demos is None:
        run_demos = every_cell
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    guard.install(set_up_imports(nb))
    namespace: dict = {"__name__": "__main__"}
    outcomes: dict[str, Outcome] = {}

    def runs(cell) -> bool:
        return cell.cell_type == "code" and not (is_demo(cell) and not run_demos) \
            and not (is_test(cell) and grade_id(cell) in skip)

    # What comes after the last test that runs cannot change a verdict (02's MNIST run; 01's
    # plots when its end-to-end test is skipped).
    last = last_graded(nb.cells)
    tests_run = [i for i, c in enumerate(nb.cells) if is_test(c) and runs(c)]
    end = len(nb.cells) if every_cell or last is None else (tests_run or [last])[-1] + 1

    first = end if last is None else first_graded(nb.cells)
    set_up = None if every_cell else _SetUp.key([c.source for c in nb.cells[:first] if runs(c)])
    start = 0
    if set_up in _SetUp.saved:
        namespace, start = _SetUp.resume(set_up), first
    try:
        for index, cell in enumerate(nb.cells[:end]):
            if index == first and set_up is not None and start == 0:
                _SetUp.save(set_up, namespace)
            if index < start or not runs(cell):
                continue
            if guarded and is_test(cell):
                guard.restore(namespace)
            code = compile(cell.source, f"<cell {index}>", "exec")
            try:
                exec(code, namespace)
                outcome = Outcome(True)
            except Exception as exc:  # noqa: BLE001 -- a failing cell is data here
                outcome = Outcome(False, f"{type(exc).__name__}: {exc}")
                if index < first:
                    set_up = None   # a set-up cell that failed is not kept
            if is_test(cell) or every_cell or report_every_cell:
                outcomes[grade_id(cell)] = outcome
                if grade_id(cell) == stop_after or (stop_at_failure and is_test(cell)
                                                    and not outcome.passed):
                    break
    finally:
        guard.restore()
        plt.close("all")
    return outcomes


class _SetUp:
    """What a notebook's set-up cells left: the namespace (deep-copied, modules shared) and the
    random generators' states. Kept for the last few notebooks used (03's holds 220 MB of images)."""

    saved: OrderedDict = OrderedDict()
    KEPT = 4

    def __init__(self, namespace: dict):
        values = {k: v for k, v in namespace.items() if k != "__builtins__"}
        self.modules = {k: v for k, v in values.items() if isinstance(v, types.ModuleType)}
        self.values = _copy({k: v for k, v in values.items() if k not in self.modules})
        self.generators = _generator_states()

    @staticmethod
    def key(sources: list[str]) -> tuple:
        # The same cells reading the same data on the same device from the same folder.
        return (tuple(sources), os.getcwd(), os.environ.get("MLP_COURSE_DATA"), os.environ.get("MLP_COURSE_DEVICE"))

    @classmethod
    def save(cls, key: tuple, namespace: dict) -> None:
        try:
            cls.saved[key] = cls(namespace)
        except Exception:  # noqa: BLE001 -- something that cannot be copied: run them each time
            return
        while len(cls.saved) > cls.KEPT:
            cls.saved.popitem(last=False)

    @classmethod
    def resume(cls, key: tuple) -> dict:
        """A fresh namespace as the set-up cells of ``key`` left it; the generators as they left them."""
        cls.saved.move_to_end(key)
        kept = cls.saved[key]
        _set_generator_states(kept.generators)
        return {**kept.modules, **_copy(kept.values)}


def _copy(values: dict) -> dict:
    """A deep copy of ``values``; a tensor that autograd made (03's demo ``loss``) cannot be
    deep-copied and is shared."""
    torch = sys.modules.get("torch")
    made = {id(v): v for v in values.values()
            if torch is not None and isinstance(v, torch.Tensor) and not v.is_leaf}
    return copy.deepcopy(values, memo=made)


def _generator_states() -> dict:
    """The states of Python's, NumPy's and torch's global random generators."""
    numpy, torch = sys.modules.get("numpy"), sys.modules.get("torch")
    states = {"random": random.getstate()}
    if numpy is not None:
        states["numpy"] = numpy.random.get_state()
    if torch is not None:
        states["torch"] = torch.get_rng_state()
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def _set_generator_states(states: dict) -> None:
    """Set the global random generators to ``states`` (from :func:`_generator_states`)."""
    random.setstate(states["random"])
    if "numpy" in states:
        sys.modules["numpy"].random.set_state(states["numpy"])
    if "torch" in states:
        sys.modules["torch"].set_rng_state(states["torch"])
    if "cuda" in states:
        sys.modules["torch"].cuda.set_rng_state_all(states["cuda"])


def read(path: str | Path) -> nbformat.NotebookNode:
    return nbformat.read(ROOT / path, as_version=4)
