"""nbgrader preprocessors that the course adds to nbgrader's pipeline (see nbgrader_config.py).

- :class:`RobustExecute` keeps grading a notebook whose kernel dies (``os._exit``, a segfault,
  running out of memory): nbgrader alone drops the whole notebook, so one crash would cost
  every point. Here it costs the cell that crashed. It also gives every test cell freshly
  loaded checks and puts back, before it, whatever an answer cell changed in what the tests run
  through (``grader.nbgrader_ext.guard``), so patching it gains nothing; what was put back goes
  into the executed notebook's metadata, for the instructor's flags (:func:`guard_flags`). And
  it runs the kernel in a workspace of its own, with limits, and puts back any course file a
  submission changed (``grader.nbgrader_ext.sandbox``).
  Cells tagged ``demo`` (ungraded demonstrations: full training runs, experiments) are not
  run during grading: no test depends on them, and they would cost minutes per student.
- :class:`HideHiddenTests` keeps hidden tests out of the feedback students get.
- :class:`CheckCellMetadata` is nbgrader's check of every cell's nbgrader metadata, with the
  metadata's JSON schema compiled once per process instead of once per cell.
- :class:`InjectExecuted` takes the place of execution when a worker has already run the
  notebook (parallel autograde, ``grader.batch``): the course's own nbgrader then records
  that worker's outputs exactly as if it had run them itself.
"""

from __future__ import annotations

import ast
import asyncio
import copy
import functools
import math
import os
import shutil
import tempfile
import time

from jupyter_client.manager import AsyncKernelManager
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbclient.util import ensure_async, run_sync
from jsonschema.exceptions import best_match
from jsonschema.validators import validator_for
from nbformat import NotebookNode
from nbgrader import preprocessors as nbgrader_preprocessors
from nbgrader import utils
from nbgrader.nbgraderformat import MetadataValidator, ValidationError
from nbgrader.nbgraderformat.common import BaseMetadataValidator
from nbgrader.preprocessors import ClearHiddenTests, Execute, LimitOutput, OverwriteCells
from pathlib import Path

import nbformat
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Bool, Dict, Enum, Float, Integer, Unicode, default

from grader import course
from grader.cells import grade_id, is_demo, is_solution, last_graded, source_key
from grader.screen import REVIEW, Flag, set_up_imports
from grader.nbgrader_ext import boundary, sandbox

# Run in the grading kernel when it starts: grader/nbgrader_ext/guard.py, as a module of its own
# that never comes from the course's files on disk.
LOAD_GUARD = f"""\
import sys as _sys, types as _types
_guard = _types.ModuleType("_grader_guard")
exec(compile({(Path(__file__).parent / "guard.py").read_text()!r}, "<grader guard>", "exec"), vars(_guard))
_sys.modules["_grader_guard"] = _guard
del _sys, _types, _guard
"""
# Evaluated as the kernel reply's user_expressions, after an empty cell: outside IPython's handling
# of cells, so that no input transformer, AST transformer or event callback of the notebook's
# comes between the request and the guard (they ran for the empty cell, and the guard removes
# them). The answer is the repr of what the guard put back.
GUARD_CALL = "__import__('sys').modules['_grader_guard'].{call}"
GUARD_MISSING = ("the grading kernel's guard is gone (an answer cell removed or broke it), so "
                 "this test could not be trusted and scores 0")
RESTORED_NOTE = ("note: before this test, the grader put back {names}, which code in this "
                 "notebook had changed; the tests compute with the originals\n")
# Where RobustExecute records, in the executed notebook's metadata, what the guard put back before
# each test (``[{"cell": index, "grade_id": ..., "restored": [names] or None}]``; None: the guard
# was gone). The instructor's flags are made from it (:func:`guard_flags`); the feedback never
# shows metadata.
GUARD_LOG = "guard"
# Where RobustExecute records, in the same metadata, whether the kernels ran inside the OS
# boundary: "bubblewrap", or why not (grader.nbgrader_ext.boundary.fallback_line).
ISOLATION_LOG = "isolation"
ISOLATED = "bubblewrap"
VALIDATION_NOT_ISOLATED = "validation: the student's own notebook, run without the OS boundary"
RESTORED_FLAG = ("before this test the grader put back {names}, which code in the notebook had "
                 "changed (the test computed with the originals)")
CHANGED_AGAIN_FLAG = ("after the notebook's last cell the grader found {names} changed again: "
                      "something the notebook left running (a thread, a hook) changes them while "
                      "the tests run")
GUARD_GONE_FLAG = ("before this test the grading kernel's guard was gone: code in the notebook removed "
                   "or broke it")
RESTORED_CELL = ("note: this test cell had been changed in the hand-in ({what}); the grader "
                 "restored it from the assignment before running it\n")
COURSE_CHANGED = "course files changed while this notebook was graded (put back)"
AFTER_LAST_NOTE = ("(not run during grading: no graded cell comes after it, so it cannot change a "
                   "grade; it runs in your own notebook)\n")
DEMO_NOTE = ("(an ungraded demonstration: not run during grading, so that grading stays fast; "
             "it runs in your own notebook)\n")
NOTEBOOK_TIMEOUT = ("the notebook's time limit ran out before this cell could run (the cells "
                    "before it took too long); the points earned before it are kept")
KERNEL_STUCK = ("the cell ran past its time limit and the kernel did not stop when interrupted "
                "(a long computation inside NumPy or another native library); the cells after "
                "it ran in a fresh kernel")
HIDDEN_NOTE = "# (hidden tests ran here; their messages are in the output below)"
TIMED_OUT = "its time limit of {seconds} s ran out"
TIMED_OUT_MEASURED = " (the course's solution runs this cell in {solution:.2g} s)"
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
    them has patched a copy no test uses. Then the guard puts back what the notebook changed;
    after the last cell it looks once more, thoroughly (what changed again meanwhile: a thread,
    a hook).

    A cell whose code is the course's stops at a limit calibrated on the solution
    (``solution_seconds``, grader/time_limits.py), never later than the cell timeout; an answer
    cell gets the cell timeout.

    Cells tagged ``demo`` are skipped unless ``run_demos`` is set. Only plain cells can be
    skipped, never a test or an answer cell, so a student who tags a cell ``demo`` can at most
    skip set-up that their own tests then lack. Code cells after the last answer or test cell
    are not run either (they cannot change a grade), unless ``run_demos`` is set.
    """

    run_demos = Bool(False, help="Run the cells tagged 'demo' too (ungraded demonstrations), "
                                 "and the cells after the last answer or test."
                     ).tag(config=True)
    notebook_timeout = Integer(
        None, allow_none=True,
        help="Wall-clock seconds for the whole notebook (None: no limit). Each cell's own "
             "timeout is cut to what is left; the cells after the limit fail without running."
    ).tag(config=True)
    course_root = Unicode(
        "", help="The course whose files a submission must not change ('': this course)."
    ).tag(config=True)
    restore_course = Bool(
        False, help="Put back, after the notebook, any of the course's files that changed while "
                    "it ran. Off by default: it would also undo your own edits made meanwhile. "
                    "`grader autograde` does it for a whole batch, against a snapshot taken "
                    "before the batch (README, THREATS.md)."
    ).tag(config=True)
    course_files = Unicode(
        "", help="Folder whose utils/ and data/ the grading kernel gets a copy of ('': the "
                 "course root). A batch points it at a copy made before any submission ran."
    ).tag(config=True)
    kernel_memory = Unicode(
        "", help="Memory per grading kernel, e.g. '6G' ('': a quarter of the machine, at least "
                 "4 GiB; '0': no limit). Over it, allocations fail with MemoryError."
    ).tag(config=True)
    kernel_processes = Integer(
        256, help="Processes a grading kernel may start beyond those its user already runs "
                  "(0: no limit). The kernel cannot be limited when it runs as root: see kernel_user."
    ).tag(config=True)
    solution_seconds = Dict(
        help="The seconds of the cells grading runs, answers excepted, on the course's solution, by a "
             "key of the cell's source: {assignment: {notebook: {key: {'cell': label, 'seconds': s}}}} "
             "(grader/time_limits.json, measured by `grader release`). A cell whose code was measured "
             "stops after time_limit_factor x s + time_limit_margin seconds, never later than the cell "
             "timeout; any other cell gets the cell timeout ({}: the cell timeout for every cell)."
    ).tag(config=True)
    time_limit_factor = Float(20.0, help="A calibrated limit's multiple of the solution's seconds.").tag(config=True)
    time_limit_margin = Float(30.0, help="A calibrated limit's seconds beyond that multiple.").tag(config=True)
    isolation = Enum(
        boundary.MODES, "auto",
        help="Run each grading kernel inside the OS boundary (bubblewrap: no view of the course, "
             "no network, no neighbour; grader/nbgrader_ext/boundary.py). 'auto': where the machine "
             "has it, else without it, saying so; 'require': an error where it cannot be had; 'off'."
    ).tag(config=True)
    kernel_user = Unicode(
        "nobody", help="When grading runs as root, the grading kernels run as this unprivileged "
                       "user: they cannot write the course or read the grader's scratch folders, "
                       "and the process limit holds ('': run them as root too)."
    ).tag(config=True)

    def __init__(self, **kwargs):
        kwargs.setdefault("kernel_manager_class", OwnedKernelManager)
        super().__init__(**kwargs)

    @default("shutdown_kernel")
    def _immediate_shutdown(self):
        # A kernel that is stuck (or whose notebook is done) is killed, not asked to stop: a
        # graceful shutdown waits up to 5 s for a kernel busy in native code to answer, and
        # runs atexit hooks that the notebook set. Its outputs are all in by then.
        return "immediate"

    def preprocess(self, nb, resources=None, km=None):
        self._deadline = (time.monotonic() + self.notebook_timeout) if self.notebook_timeout else None
        self.measured_for(resources)
        # Cells after the last answer or test cannot change a grade (02's MNIST run and its
        # comparison with scikit-learn took 12 of its 21 s of grading): they are not run.
        last = last_graded(nb.cells)
        self._last_graded = len(nb.cells) - 1 if last is None else last
        self._restored: set[str] = set()
        self._guard_log: list[dict] = []
        root = Path(self.course_root or course.ROOT)
        checkout = sandbox.Checkout(root) if self.restore_course else None
        self._isolated, isolation = self._isolation(resources)
        self._course_files = Path(self.course_files or root)
        self._workspace = sandbox.make_workspace(self._course_files, copy=not self._isolated)
        self._own_checks = sandbox.Checkout(self._workspace, guarded=("utils",), skipped=())
        within = boundary.python_prefixes() if self._isolated else None
        self._owner = sandbox.kernel_owner(self.kernel_user, within)
        if self._owner:
            sandbox.hand_over(self._workspace, self._owner)
        self._kernel_groups: list[int] = []
        self._cgroups: list[sandbox.ProcessCgroup] = []
        self._boundaries: list[boundary.Boundary] = []
        try:
            nb, resources = super().preprocess(nb, resources, km)
            ours = nb.metadata.setdefault("mlp_course", {})
            ours.pop(GUARD_LOG, None)   # only this run's log, never one that came with the hand-in
            if self._guard_log:
                ours[GUARD_LOG] = self._guard_log
            ours[ISOLATION_LOG] = isolation
            return nb, resources
        finally:
            for pgid in self._kernel_groups:   # what the kernels forked and left behind
                sandbox.kill_group(pgid)
            for cgroup in self._cgroups:
                cgroup.remove()
            for box in self._boundaries:
                box.remove()
            shutil.rmtree(self._workspace, ignore_errors=True)
            changed = checkout.restore() if checkout else []
            if changed:
                self.log.warning("%s: %s", COURSE_CHANGED, ", ".join(changed))

    def _isolation(self, resources) -> tuple[bool, str]:
        """Whether this notebook's kernels run inside the OS boundary, and what the executed
        notebook records of it (:data:`ISOLATED`, or the one line saying why not). Validation
        (which names no assignment) runs the student's own notebook in the student's own server:
        there is no one to keep it from, so it runs as it always did."""
        if not (resources or {}).get("nbgrader", {}).get("assignment"):
            return False, VALIDATION_NOT_ISOLATED
        line = boundary.check(self.isolation, self.kernel_user)   # raises where it is required
        if line is None:
            return True, ISOLATED
        if self.isolation != "off":
            self.log.warning(line)
        return False, line

    async def async_start_new_kernel(self, **kwargs):
        """Start the kernel in the notebook's workspace, with its limits, inside the OS boundary
        where it is on, then guard it."""
        memory = sandbox.parse_size(self.kernel_memory) if self.kernel_memory else sandbox.default_memory()
        uid = self._owner[0] if self._owner else os.getuid()   # the user the kernel runs as
        processes = self.kernel_processes and sandbox.running_processes(uid) + self.kernel_processes
        kwargs.setdefault("cwd", str(self._workspace))
        cgroup = None
        if processes and uid == 0:
            cgroup = sandbox.ProcessCgroup.create(self.kernel_processes)   # root ignores RLIMIT_NPROC
            if cgroup is not None:
                self._cgroups.append(cgroup)
        kwargs.setdefault("preexec_fn", sandbox.limit_resources(memory, processes, cgroup))
        if self._isolated:
            kwargs.setdefault("env", self._enter_boundary())
        else:
            kwargs.setdefault("env", sandbox.kernel_environment(self._workspace))
            if self._owner:   # the kernel reads its connection file as that user, in its workspace
                self.km.owner = self._owner
                self.km.connection_file = str(self._workspace / f"kernel-{len(self._kernel_groups)}.json")
                kwargs.update(user=self._owner[0], group=self._owner[1], extra_groups=[])
        await super().async_start_new_kernel(**kwargs)
        pgid = getattr(getattr(self.km, "provisioner", None), "pgid", None)
        if pgid:
            self._kernel_groups.append(pgid)
        if self._isolated:
            await self.km.wait_for_sockets(self.startup_timeout)

    def _enter_boundary(self) -> dict[str, str]:
        """Set the kernel manager up to start its kernel inside a boundary of its own; return the
        kernel's environment. Its sockets are unix sockets (Jupyter's ipc transport) in a folder of
        their own: the kernel has no network to listen on."""
        sockets = Path(tempfile.mkdtemp(prefix="grader-ipc-"))
        if self._owner:
            os.chown(sockets, *self._owner)
        box = boundary.Boundary(
            workspace=self._workspace,
            readonly={name: (self._course_files / name).resolve() for name in ("utils", "data")
                      if (self._workspace / name).is_dir()},
            sockets=sockets, owner=self._owner,
            hidden=[Path(self.course_root or course.ROOT), self._course_files])
        self._boundaries.append(box)
        env = sandbox.kernel_environment(boundary.WORKSPACE, isolated=True)
        self.km.enter(box, env)
        return env

    async def async_start_new_kernel_client(self):
        client = await super().async_start_new_kernel_client()
        # Snapshot, before any student code runs, what the tests run through (the guard).
        msg_id = await ensure_async(self.kc.execute(LOAD_GUARD, store_history=False, silent=True))
        await self.async_wait_for_reply(msg_id)
        await self._async_ask_kernel("", GUARD_CALL.format(call=f"install({set_up_imports(self.nb)!r})"))
        return client

    # nbclient's synchronous entry points wrap its own coroutines: wrap these instead.
    start_new_kernel = run_sync(async_start_new_kernel)
    start_new_kernel_client = run_sync(async_start_new_kernel_client)

    def _get_timeout(self, cell):
        timeout = super()._get_timeout(cell)
        calibrated = self.calibrated_limit(cell)
        if calibrated is not None:
            timeout = calibrated if timeout is None else min(timeout, calibrated)
        if getattr(self, "_deadline", None) is not None:
            left = max(1, math.ceil(self._deadline - time.monotonic()))
            timeout = left if timeout is None else min(timeout, left)
        self._cell_timeout = timeout
        return timeout

    def measured_for(self, resources) -> dict:
        """Take the measured seconds of the notebook that ``resources`` name: autograde names its
        assignment and notebook, validation does not (the cell timeout for every cell there)."""
        names = (resources or {}).get("nbgrader", {})
        self._measured = self.solution_seconds.get(names.get("assignment"), {}).get(names.get("notebook"), {})
        return self._measured

    def _timed_out(self, cell) -> str:
        """What a cell stopped at its time limit says: the limit, and where it was calibrated,
        the solution's own time (the scale of "far too slow")."""
        text = TIMED_OUT.format(seconds=self._cell_timeout)
        solution = self._measured_seconds(cell)
        return text if solution is None else text + TIMED_OUT_MEASURED.format(solution=solution)

    def _measured_seconds(self, cell) -> float | None:
        """The cell's seconds on the solution (None: an answer, or code that was not measured)."""
        if cell is None or cell.get("cell_type") != "code" or is_solution(cell):
            return None   # an answer is the student's own code, whatever its source
        measured = getattr(self, "_measured", {}).get(source_key(cell.source))
        return None if measured is None else measured["seconds"]

    def calibrated_limit(self, cell) -> int | None:
        """The cell's limit from the solution's measured seconds (None: not measured)."""
        seconds = self._measured_seconds(cell)
        return None if seconds is None else math.ceil(self.time_limit_factor * seconds + self.time_limit_margin)

    def preprocess_cell(self, cell, resources, index):
        try:
            return self._preprocess_cell(cell, resources, index)
        finally:
            if index == len(self.nb.cells) - 1:
                self._after_last_cell(index)

    def _preprocess_cell(self, cell, resources, index):
        if self._skipped(cell):
            cell.outputs = [NotebookNode(output_type="stream", name="stdout", text=DEMO_NOTE)]
            return cell, resources
        if cell.cell_type == "code" and index > self._last_graded and not self.run_demos:
            cell.outputs = [NotebookNode(output_type="stream", name="stdout", text=AFTER_LAST_NOTE)]
            return cell, resources
        if cell.cell_type == "code" and getattr(self, "_deadline", None) is not None \
                and time.monotonic() >= self._deadline:
            cell.outputs = [NotebookNode(output_type="error", ename="NotebookTimeoutError",
                                         evalue=NOTEBOOK_TIMEOUT,
                                         traceback=[f"NotebookTimeoutError: {NOTEBOOK_TIMEOUT}"])]
            return cell, resources
        try:
            note = None
            if utils.is_grade(cell) and cell.cell_type == "code":
                restored = self._before_test(index)
                if restored is None:
                    self._guard_log.append({"cell": index, "grade_id": grade_id(cell), "restored": None})
                    cell.outputs = [NotebookNode(output_type="error", ename="GuardMissing",
                                                 evalue=GUARD_MISSING, traceback=[f"GuardMissing: {GUARD_MISSING}"])]
                    return cell, resources
                new = sorted(set(restored) - self._restored)
                self._restored.update(restored)
                if new:
                    self._guard_log.append({"cell": index, "grade_id": grade_id(cell), "restored": new})
                    note = NotebookNode(output_type="stream", name="stdout",  # nbgrader fails stderr
                                        text=RESTORED_NOTE.format(names=", ".join(new)))
            gid = cell.metadata.get("nbgrader", {}).get("grade_id")
            restored_cell = self.nb.metadata.get("mlp_course", {}).get("restored_cells", {}).get(gid)
            if restored_cell and utils.is_grade(cell):
                text = RESTORED_CELL.format(what=", ".join(restored_cell))
                note = NotebookNode(output_type="stream", name="stdout", text=text + (note.text if note else ""))
            cell, resources = super().preprocess_cell(cell, resources, index)
            for output in cell.get("outputs", []):   # nbgrader's timeout error says nothing of the limit
                if output.get("ename") == "CellTimeoutError" and not output.get("evalue"):
                    output["evalue"] = self._timed_out(cell)
            if note is not None:
                cell.outputs.insert(0, note)
            return cell, resources
        except (DeadKernelError, CellTimeoutError) as exc:
            ename, evalue = (("KernelDied", KERNEL_DIED) if isinstance(exc, DeadKernelError)
                             else ("CellTimeoutError", KERNEL_STUCK))
            self.log.warning("%s in cell %d; restarting and replaying earlier cells", ename, index)
            cell.outputs.append(NotebookNode(output_type="error", ename=ename, evalue=evalue,
                                             traceback=[f"{ename}: {evalue}"]))
            self._restart_kernel()
            self._replay(index)
            return cell, self.resources

    def _skipped(self, cell) -> bool:
        return (not self.run_demos and is_demo(cell)
                and not utils.is_grade(cell) and not utils.is_solution(cell))

    def _before_test(self, index) -> list[str] | None:
        """Fresh checks and guarded modules for the test cell at ``index``; what was put back
        (``None`` when the kernel's guard is gone)."""
        files = self._own_checks.restore()   # the kernel's copy of the checks, as it was given
        for _ in range(2):   # once more if the kernel was still busy with an interrupted cell
            restored = self._ask_kernel("", GUARD_CALL.format(call="before_test()"))
            if restored is not None:
                return files + ast.literal_eval(restored)   # the repr of a list of names
        return None

    def _after_last_cell(self, index: int) -> None:
        """Ask the guard once more after the notebook's last cell: what changed again during the
        last tests (a thread, a hook that re-applies a patch) is flagged too."""
        restored = self._ask_kernel("", GUARD_CALL.format(call="restore(thorough=True)"))
        names = ast.literal_eval(restored) if restored is not None else []
        if names:
            self._guard_log.append({"cell": index, "grade_id": None, "restored": names, "after": True})

    async def _async_ask_kernel(self, code: str, expression: str) -> str | None:
        """Run ``code`` silently in the kernel (no output, no history, no trace in the
        notebook), then evaluate ``expression``; return the ``repr`` of its value, or ``None``
        if either failed. The answer comes in the kernel's reply, not its printed output,
        which code in the notebook may have redirected."""
        msg_id = await ensure_async(self.kc.execute(code, silent=True, store_history=False,
                                                    user_expressions={"answer": expression}))
        try:
            reply = await self.async_wait_for_reply(msg_id)
        except TimeoutError:
            return None
        value = (reply or {}).get("content", {}).get("user_expressions", {}).get("answer", {})
        return value.get("data", {}).get("text/plain") if value.get("status") == "ok" else None

    _ask_kernel = run_sync(_async_ask_kernel)

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
            except (DeadKernelError, CellTimeoutError):  # it fails in a fresh kernel too: go on without its state
                self._restart_kernel()


class LimitOutputSize(LimitOutput):
    """nbgrader's ``LimitOutput`` (a cell's printed lines), and also their size: one line of
    20 MB is a single line to nbgrader, and would go whole into the autograded notebook, the
    gradebook's copy and the feedback page."""

    max_characters = Integer(
        20_000, help="Characters kept of each printed output and each plain-text result "
                     "(-1: no limit)."
    ).tag(config=True)

    def preprocess_cell(self, cell, resources, cell_index):
        cell, resources = super().preprocess_cell(cell, resources, cell_index)
        if cell.cell_type == "code" and self.max_characters >= 0:
            for output in cell.outputs:
                if output.output_type == "stream":
                    output.text = self._cut(output.text)
                elif "text/plain" in output.get("data", {}):
                    output.data["text/plain"] = self._cut(output.data["text/plain"])
        return cell, resources

    def _cut(self, text: str) -> str:
        if len(text) <= self.max_characters:
            return text
        return text[:self.max_characters] + f"\n... Output truncated ({len(text):,} characters) ...\n"


class RestoreCells(OverwriteCells):
    """nbgrader's ``OverwriteCells`` (test cells restored from the gradebook: source, type,
    points), which also copes with a cell whose ``grade_id`` the assignment does not have, and
    remembers what it restored so that the test's output can say so.

    nbgrader drops such an unknown ``grade_id`` but leaves the rest of the cell's nbgrader
    metadata, and then rejects the whole notebook as corrupted: one renamed test would cost
    every point. Here the cell becomes an ordinary cell; the test it was is missing from the
    hand-in and scores 0, as a deleted test does.
    """

    def preprocess(self, nb, resources):
        self._found: dict[str, list[str]] = {}
        nb, resources = super().preprocess(nb, resources)
        if self._found:
            nb.metadata.setdefault("mlp_course", {})["restored_cells"] = self._found
        return nb, resources

    def report_change(self, name, attr, old, new):
        # A test cell's checksum in the gradebook is that of the source version, hidden tests
        # included, so it differs for every cell with hidden tests: whether the student changed
        # the cell is decided in preprocess_cell, against the released version.
        if attr != "checksum":
            super().report_change(name, attr, old, new)
            self._found.setdefault(name, []).append(attr)

    def preprocess_cell(self, cell, resources, cell_index):
        claimed = cell.metadata.get("nbgrader", {}).get("grade_id")
        handed_in = cell.get("source", "")
        cell, resources = super().preprocess_cell(cell, resources, cell_index)
        if claimed is not None and "grade_id" not in cell.metadata.get("nbgrader", {}):
            del cell.metadata["nbgrader"]   # unknown to the assignment: an ordinary cell now
        elif (claimed is not None and cell.source != handed_in
              and handed_in.strip() != _released(cell, self.config).strip()):
            self.log.warning("Test cell %s had been changed in the hand-in; restored", claimed)
            self._found.setdefault(claimed, []).append("source")
        return cell, resources


def _released(cell, config) -> str:
    """The source students were given for ``cell`` (the gradebook's source, hidden tests removed)."""
    released = copy.deepcopy(cell)
    ClearHiddenTests(config=config)._remove_hidden_test_region(released)
    return released.source


class OwnedKernelManager(AsyncKernelManager):
    """A kernel manager whose connection file belongs to ``owner`` (``(uid, gid)``), the user
    the kernel runs as, so that the kernel can read it; or, after :meth:`enter`, one that starts
    its kernel inside an OS boundary (:class:`grader.nbgrader_ext.boundary.Boundary`)."""

    owner: tuple[int, int] | None = None
    boundary: boundary.Boundary | None = None
    boundary_env: dict[str, str] = {}

    def enter(self, box: boundary.Boundary, env: dict[str, str]) -> None:
        """Start the kernel inside ``box``, with ``env``'s allowed variables: its sockets in the
        boundary's socket folder, interrupted by a message on its control channel (a signal
        to the sandbox's first process would end it, not interrupt the cell)."""
        self.boundary, self.boundary_env = box, env
        self.transport = "ipc"
        self.ip = str(box.sockets / "kernel")
        self.connection_file = str(box.sockets / "kernel.json")
        self.kernel_spec.interrupt_mode = "message"

    def write_connection_file(self, **kwargs):
        super().write_connection_file(**kwargs)
        if self.owner:
            os.chown(self.connection_file, *self.owner)

    def format_kernel_cmd(self, extra_arguments=None):
        cmd = super().format_kernel_cmd(extra_arguments)
        if self.boundary is None:
            return cmd
        host = os.path.realpath(self.connection_file)
        inside = str(self.boundary.inside(self.boundary.connection_file(Path(host))))
        return self.boundary.wrap([inside if part == host else part for part in cmd], self.boundary_env)

    def socket_files(self) -> list[Path]:
        """The unix sockets the kernel binds, by their host paths."""
        ports = (self.shell_port, self.iopub_port, self.stdin_port, self.hb_port, self.control_port)
        return [Path(f"{self.ip}-{port}") for port in ports]

    async def wait_for_sockets(self, timeout: float) -> None:
        """Wait until the kernel has bound every socket: a client that connects to an ipc
        socket before it exists takes the kernel for dead."""
        deadline = time.monotonic() + timeout
        while not all(path.exists() for path in self.socket_files()):
            if not await ensure_async(self.is_alive()):
                raise DeadKernelError("the grading kernel exited before it started (inside the OS boundary)")
            if time.monotonic() > deadline:
                raise TimeoutError(f"the grading kernel did not start within {timeout} s")
            await asyncio.sleep(0.005)


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


class _SchemaCompiledOnce(BaseMetadataValidator):
    """nbgrader's check of one cell's metadata against its JSON schema, with the schema's
    validator made once: nbgrader calls ``jsonschema.validate``, which first checks the schema
    itself against JSON Schema's meta-schema, for every cell (a third of a second of CPU for
    each notebook graded: nbgrader checks it twice, and the batch's recording twice more)."""

    def validate_cell(self, cell):
        meta = cell.metadata.get("nbgrader")
        if meta is None or meta.get("schema_version", 0) != self.schema_version:
            return super().validate_cell(cell)   # nbgrader's own: its errors for other versions
        error = best_match(self._schema_validator.iter_errors(meta))
        if error is not None:
            raise error   # what jsonschema.validate raises: nbgrader's ValidationError

    @functools.cached_property
    def _schema_validator(self):
        validator = validator_for(self.schema)
        validator.check_schema(self.schema)
        return validator(self.schema)


class _MetadataValidator(MetadataValidator, _SchemaCompiledOnce):
    """nbgrader's metadata validator (its per-cell rules, unique grade ids), whose call of the
    base class's schema check comes to :class:`_SchemaCompiledOnce` (method resolution order:
    nbgrader's class, then this module's, then nbgrader's base)."""


@functools.lru_cache(maxsize=1)
def _metadata_validator() -> _MetadataValidator:
    return _MetadataValidator()   # holds nothing but the schemas, read from nbgrader's files


class CheckCellMetadata(nbgrader_preprocessors.CheckCellMetadata):
    """nbgrader's ``CheckCellMetadata`` (the same checks, the same errors), with the schema's
    validator made once per process (:class:`_SchemaCompiledOnce`)."""

    def preprocess(self, nb, resources):
        try:
            _metadata_validator().validate_nb(nb)
        except ValidationError:
            return super().preprocess(nb, resources)   # nbgrader's own: its log and its error
        return nb, resources


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
                if "execution" in done.metadata:   # nbclient's timings: which cells took the time
                    cell.metadata["execution"] = done.metadata["execution"]
        if "language_info" in executed.metadata:
            nb.metadata["language_info"] = executed.metadata["language_info"]
        ours = nb.metadata.setdefault("mlp_course", {})
        ours.pop(GUARD_LOG, None)
        log = executed.metadata.get("mlp_course", {}).get(GUARD_LOG)
        if log:   # what the worker's guard put back: the instructor's flags
            ours[GUARD_LOG] = log
        return nb, resources


def guard_flags(nb) -> list[Flag]:
    """Review flags for what the grading kernel's guard put back before each test of the executed
    notebook ``nb`` (RobustExecute's log in its metadata)."""
    flags = []
    for entry in nb.metadata.get("mlp_course", {}).get(GUARD_LOG, []):
        names = entry.get("restored")
        wording = CHANGED_AGAIN_FLAG if entry.get("after") else RESTORED_FLAG
        reason = GUARD_GONE_FLAG if names is None else wording.format(names=", ".join(names))
        flags.append(Flag(REVIEW, entry.get("cell"), entry.get("grade_id"), None, reason))
    return flags
