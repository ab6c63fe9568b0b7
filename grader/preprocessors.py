"""nbgrader preprocessors that the course adds to nbgrader's pipeline (see nbgrader_config.py).

- :class:`RobustExecute` keeps grading a notebook whose kernel dies (``os._exit``, a segfault,
  running out of memory): nbgrader alone drops the whole notebook, so one crash would cost
  every point. Here it costs the cell that crashed. It also gives every test cell freshly
  loaded checks, so patching them from an answer cell gains nothing.
  Cells tagged ``demo`` (ungraded demonstrations: full training runs, experiments) are not
  run during grading: no test depends on them, and they would cost minutes per student.
- :class:`HideHiddenTests` keeps hidden tests out of the feedback students get.
- :class:`InjectExecuted` takes the place of execution when a worker has already run the
  notebook (parallel autograde, ``grader.batch``): the course's own nbgrader then records
  that worker's outputs exactly as if it had run them itself.
"""

from __future__ import annotations

import copy
import math
import time

from nbclient.exceptions import DeadKernelError
from nbformat import NotebookNode
from nbgrader import utils
from nbgrader.preprocessors import ClearHiddenTests, Execute
from pathlib import Path

import nbformat
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Bool, Integer, Unicode

# Run in the grading kernel before each test cell (see RobustExecute).
FORGET_CHECKS = """\
import sys as _sys
for _name in [n for n in _sys.modules if n == "utils.checks" or n.startswith("utils.checks.")]:
    del _sys.modules[_name]
if "utils" in _sys.modules:
    vars(_sys.modules["utils"]).pop("checks", None)
del _sys
"""
DEMO_TAG = "demo"
DEMO_NOTE = ("(an ungraded demonstration: not run during grading, so that grading stays fast; "
             "it runs in your own notebook)\n")
NOTEBOOK_TIMEOUT = ("the notebook's time limit ran out before this cell could run (the cells "
                    "before it took too long); the points earned before it are kept")
HIDDEN_NOTE = "# (hidden tests ran here; their messages are in the output below)"
KERNEL_DIED = ("the Python kernel died while running this cell (a call to os._exit or "
               "sys.exit from a thread, a crash in native code, or too much memory); the "
               "cells after it ran in a fresh kernel")


class RobustExecute(Execute):
    """nbgrader's ``Execute``, but a dead kernel fails only the cell it died in, and every
    test cell imports fresh checks.

    After a crash, the cell gets an error output (so a test cell scores 0, as for any
    failure); then a fresh kernel starts and the earlier answer and set-up cells run again in
    it, to restore the state later cells rely on. Test cells, cells that failed and the cell
    that crashed are not replayed: they define nothing later cells may use, and replaying a
    cell that hung or crashed would only cost its time again.

    Before each test cell, the kernel forgets the modules of ``utils.checks``, so the test's
    own ``from utils.checks import ...`` loads them from disk: an answer cell that patched
    them has patched a copy no test uses.

    Cells tagged ``demo`` are skipped unless ``run_demos`` is set. Only plain cells can be
    skipped, never a test or an answer cell, so a student who tags a cell ``demo`` can at most
    skip set-up that their own tests then lack.
    """

    run_demos = Bool(False, help="Run the cells tagged 'demo' too (ungraded demonstrations)."
                     ).tag(config=True)
    notebook_timeout = Integer(
        None, allow_none=True,
        help="Wall-clock seconds for the whole notebook (None: no limit). Each cell's own "
             "timeout is cut to what is left; the cells after the limit fail without running."
    ).tag(config=True)

    def preprocess(self, nb, resources=None, km=None):
        self._deadline = (time.monotonic() + self.notebook_timeout) if self.notebook_timeout else None
        return super().preprocess(nb, resources, km)

    def _get_timeout(self, cell):
        timeout = super()._get_timeout(cell)
        if getattr(self, "_deadline", None) is None:
            return timeout
        left = max(1, math.ceil(self._deadline - time.monotonic()))
        return left if timeout is None or timeout <= 0 else min(timeout, left)

    def preprocess_cell(self, cell, resources, index):
        if self._skipped(cell):
            cell.outputs = [NotebookNode(output_type="stream", name="stdout", text=DEMO_NOTE)]
            return cell, resources
        if cell.cell_type == "code" and getattr(self, "_deadline", None) is not None \
                and time.monotonic() >= self._deadline:
            cell.outputs = [NotebookNode(output_type="error", ename="NotebookTimeoutError",
                                         evalue=NOTEBOOK_TIMEOUT,
                                         traceback=[f"NotebookTimeoutError: {NOTEBOOK_TIMEOUT}"])]
            return cell, resources
        try:
            if utils.is_grade(cell) and cell.cell_type == "code":
                self._run_quietly(NotebookNode(cell_type="code", source=FORGET_CHECKS,
                                               metadata={}, outputs=[]), index)
            return super().preprocess_cell(cell, resources, index)
        except DeadKernelError:
            self.log.warning("Kernel died in cell %d; restarting and replaying earlier cells", index)
            cell.outputs.append(NotebookNode(output_type="error", ename="KernelDied",
                                             evalue=KERNEL_DIED, traceback=[f"KernelDied: {KERNEL_DIED}"]))
            self._restart_kernel()
            self._replay(index)
            return cell, self.resources

    def _skipped(self, cell) -> bool:
        return (not self.run_demos and is_demo(cell)
                and not utils.is_grade(cell) and not utils.is_solution(cell))

    def _run_quietly(self, cell, index):
        """Run ``cell`` (a copy or a scratch cell) in the kernel without a trace in the notebook."""
        original = self.nb.cells[index]
        try:
            self.execute_cell(cell, index, store_history=False)
        finally:  # nbclient puts the executed cell into the notebook at its index
            self.nb.cells[index] = original

    def _restart_kernel(self):
        self._cleanup_kernel()
        self.km = self.create_kernel_manager()
        self.start_new_kernel()
        self.start_new_kernel_client()

    def _replay(self, stop):
        for index, cell in enumerate(self.nb.cells[:stop]):
            failed = any(o.output_type == "error" for o in cell.get("outputs", []))
            if cell.cell_type != "code" or utils.is_grade(cell) or failed or self._skipped(cell):
                continue
            try:
                self._run_quietly(copy.deepcopy(cell), index)
            except DeadKernelError:  # it crashes in a fresh kernel too: go on without its state
                self._restart_kernel()


def is_demo(cell) -> bool:
    """Whether ``cell`` is tagged as an ungraded demonstration."""
    return cell.cell_type == "code" and DEMO_TAG in cell.get("metadata", {}).get("tags", [])


class HideHiddenTests(ClearHiddenTests):
    """Feedback without the hidden tests: nbgrader's feedback shows them, this removes them.

    In each test cell, the hidden region is replaced by a one-line note, and an error's
    traceback (which quotes the failing line, hidden or not) is cut to its message. The
    messages of the course's checks say what was wrong without showing test code.
    """

    def preprocess_cell(self, cell, resources, cell_index):
        if utils.is_grade(cell) and cell.cell_type == "code":
            if self._remove_hidden_test_region(cell):
                cell.source = cell.source.rstrip("\n") + "\n" + HIDDEN_NOTE
            for output in cell.get("outputs", []):
                if output.output_type == "error":
                    output.traceback = [f"{output.ename}: {output.evalue}"]
        return cell, resources


class InjectExecuted(NbGraderPreprocessor):
    """Copy the outputs of a notebook executed elsewhere into this one, instead of running it.

    ``executed_directory/<student>/<assignment>/<notebook>.ipynb`` is the worker's autograded
    copy of the same submission. It was made by the same sanitising steps from the same files,
    so its cells match this notebook's one for one; any difference is an error (the
    submission is then reported, never half-recorded).
    """

    executed_directory = Unicode("", help="Folder of the workers' executed notebooks.").tag(config=True)

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        path = Path(self.executed_directory, info["student"], info["assignment"], f"{info['notebook']}.ipynb")
        executed = nbformat.read(path, as_version=4)
        if [c.source for c in executed.cells] != [c.source for c in nb.cells]:
            raise ValueError(f"{path} does not match the submission it was made from")
        for cell, done in zip(nb.cells, executed.cells):
            if cell.cell_type == "code":
                cell.outputs = done.outputs
                cell.execution_count = done.execution_count
        if "language_info" in executed.metadata:
            nb.metadata["language_info"] = executed.metadata["language_info"]
        return nb, resources
