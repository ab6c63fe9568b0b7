"""Grade a whole class in parallel: on local processes, or on a Dask cluster.

nbgrader grades one notebook after another, in one process, writing to one gradebook. Here:

1. Each submission becomes a :class:`Task` that carries everything its grading needs as bytes
   (the assignment's source files, a gradebook that knows the assignment, the hand-in) and
   :func:`grade` runs it in a scratch course of its own, with nbgrader's usual autograde and
   the course's configuration (timeouts, RobustExecute). Workers share nothing: not a
   folder, not a database, so a task runs the same on this machine or on a Dask worker.
2. One coordinator (this process) collects the :class:`Outcome` of each task as it comes and
   records it in the course: it runs nbgrader's autograde on the real course with execution
   replaced by the worker's outputs (:class:`grader.nbgrader_ext.preprocessors.InjectExecuted`), so the
   gradebook, ``grader/autograded/``, formgrader and feedback are exactly what nbgrader alone
   would have made. The coordinator is the gradebook's only writer: SQLite is never written
   by two processes at once.
3. Each grading kernel gets ``cores // jobs`` BLAS and torch threads: N kernels side by side
   with every core each would fight (measured: two of them ran 6x slower than one).
4. A submission whose files and grading setup are unchanged since it was last graded (same
   content hash) is not graded again unless ``force``; ``grader/report.csv`` lists every
   submission with its points, seconds, any problem, and the flags for the instructor (the
   screen of its code and what the guard put back, ``grader.score.flags``: a reason to look,
   never a change of points).
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import json
import math
import os
import shutil
import tempfile
import time
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

from tqdm import tqdm

from grader import course, time_limits
from grader.nbgrader_ext import sandbox
from grader.nbgrader_ext.preprocessors import COURSE_CHANGED, ISOLATED
from grader.screen import REVIEW, Flag, counts

REPORT_CSV = Path("grader", "report.csv")           # under the course root
HASHES = Path("grader", "autograded", "hashes.json")
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
STUDENT_SCRATCH = "student"


@dataclass(frozen=True)
class Task:
    """One submission to grade, with everything its grading needs."""

    assignment: str
    student: str
    source: dict[str, bytes]          # solutions/<assignment>/ files, by relative path
    gradebook: bytes                  # an SQLite gradebook that knows the assignment
    submission: dict[str, bytes]      # the hand-in's files, by name
    threads: int | None = 1           # BLAS / torch threads of the grading kernel (None: the worker's own setting)
    checks: dict[str, bytes] = field(default_factory=dict)   # the course's utils/, as before the batch
    data: str | None = None           # a copy of data/ made before the batch (None: the worker's own)
    seconds: dict = field(default_factory=dict)   # its cells' seconds on the solution (grader/time_limits.json)
    isolation: str = field(default_factory=lambda: os.environ.get("MLP_COURSE_ISOLATION", "auto"))   # RobustExecute.isolation


@dataclass
class Outcome:
    """What grading one submission gave: the executed notebooks, or the problem."""

    assignment: str
    student: str
    autograded: dict[str, bytes] = field(default_factory=dict)
    seconds: float = 0.0
    problem: str | None = None
    started: float = 0.0              # wall clock (time.time()) around the grading: its kernel
    finished: float = 0.0             # lived within, so it could change the course only then


@dataclass
class Row:
    """One line of the report."""

    student: str
    assignment: str
    points: float | None
    max_points: float | None
    seconds: float | None
    status: str                       # "graded", "unchanged", or what went wrong
    flags: list[Flag] = field(default_factory=list)   # for the instructor; never a change of points
    isolation: str | None = None      # why its kernels ran without the OS boundary (None: inside, or not graded now)


# ----------------------------------------------------------------------------- the worker
def grading_threads(jobs: int, cores: int | None = None) -> int:
    """Threads per grading kernel so that ``jobs`` kernels share the cores without fighting."""
    return max(1, (cores or os.cpu_count() or 1) // max(1, jobs))


def thread_environment(threads: int) -> dict[str, str]:
    """The environment variables that set a kernel's BLAS and torch (OpenMP) threads."""
    return {name: str(threads) for name in THREAD_VARIABLES}


def grade(task: Task) -> Outcome:
    """Autograde ``task`` in a scratch course; never raises (a failure is the outcome's problem)."""
    start = time.perf_counter()
    outcome = Outcome(task.assignment, task.student, started=time.time())
    if task.threads is not None:
        os.environ.update(thread_environment(task.threads))   # inherited by the grading kernel
    os.environ["MLP_COURSE_ISOLATION"] = task.isolation       # read by the course's configuration
    try:
        gradable, problems = _gradable_files(task)
        if not any(name.endswith(".ipynb") for name in gradable):
            outcome.problem = "; ".join(problems)
            outcome.seconds, outcome.finished = time.perf_counter() - start, time.time()
            return outcome
        with tempfile.TemporaryDirectory(prefix="grader-task-") as tmp:
            scratch = Path(tmp)
            _write(scratch / "source" / task.assignment, task.source)
            _write(scratch / "submitted" / STUDENT_SCRATCH / task.assignment, gradable)
            (scratch / "gradebook.db").write_bytes(task.gradebook)
            cfg = course.scratch_config(scratch, scratch / "source")
            if task.checks:   # kernels import these checks, never what is on disk now
                _write(scratch / "course" / "utils", task.checks)
                (scratch / "course" / "data").symlink_to(Path(task.data) if task.data else course.ROOT / "data")
                cfg.RobustExecute.course_files = str(scratch / "course")
            cfg.RobustExecute.solution_seconds = {task.assignment: task.seconds}   # the batch's, not the worker's
            cfg.RobustExecute.isolation = task.isolation
            nbgrader = course.api(cfg)
            result = nbgrader.autograde(task.assignment, STUDENT_SCRATCH)
            folder = scratch / "autograded" / STUDENT_SCRATCH / task.assignment
            outcome.autograded = {p.name: p.read_bytes() for p in sorted(folder.glob("*.ipynb"))}
            if not result.get("success"):
                problems.append(_last_line(result.get("error") or result.get("log") or "nbgrader failed"))
            outcome.problem = "; ".join(problems) or None
    except Exception as exc:  # noqa: BLE001 -- the batch goes on; the report says what happened
        outcome.problem = f"{type(exc).__name__}: {exc}"
    outcome.seconds = time.perf_counter() - start
    outcome.finished = time.time()
    return outcome


def _gradable_files(task: Task) -> tuple[dict[str, bytes], list[str]]:
    """The hand-in's files that nbgrader can grade, and what is wrong with the others.

    A notebook that is not one of the assignment's, or that is not a readable notebook, is
    left out (nbgrader would fail the whole hand-in over it) and the assignment's notebook it
    should have been scores 0, with the reason in the report.
    """
    import nbformat

    expected = {Path(name).name for name in task.source if name.endswith(".ipynb")}
    gradable, problems = {}, []
    for name, data in task.submission.items():
        if not name.endswith(".ipynb"):
            gradable[name] = data
        elif name not in expected:
            problems.append(f"{name!r} is not one of the assignment's notebooks ({', '.join(sorted(expected))})")
        else:
            try:
                nbformat.reads(data.decode("utf-8"), as_version=4)
                gradable[name] = data
            except Exception as exc:  # noqa: BLE001 -- any unreadable file is the same problem
                problems.append(f"{name} is not a readable notebook ({type(exc).__name__}: {_last_line(str(exc))[:120]})")
    missing = sorted(expected - set(gradable))
    if missing:
        problems.append(f"0 points for {', '.join(missing)}: missing or unreadable")
    return gradable, problems


def _write(folder: Path, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def _read(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and ".ipynb_checkpoints" not in p.parts}


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else text.strip()


def _import_grading() -> None:
    """Import what :func:`grade` needs (nbgrader's apps, nbconvert, nbclient): a few seconds of a
    fresh worker, spent while the coordinator prepares the batch."""
    import nbclient  # noqa: F401
    import nbgrader.apps  # noqa: F401


# ----------------------------------------------------------------------------- executors
class LocalProcesses:
    """``jobs`` local worker processes; a pool broken by a dying worker is replaced once."""

    def __init__(self, jobs: int):
        self.jobs = jobs
        self.pool = self._new_pool()

    def warm_up(self):
        """Start the workers now, each importing what grading needs (nothing waits for it)."""
        for _ in range(self.jobs):
            self.pool.submit(_import_grading)

    def _new_pool(self):
        # "spawn": a clean interpreter per worker, whatever this process has imported or started.
        return ProcessPoolExecutor(max_workers=self.jobs, mp_context=get_context("spawn"))

    def map_unordered(self, tasks: list[Task]) -> Iterable[tuple[Task, Outcome]]:
        pending = {self.pool.submit(grade, task): task for task in tasks}
        retried = False
        while pending:
            broken = []
            for future in as_completed(list(pending)):
                task = pending.pop(future)
                try:
                    yield task, future.result()
                except BrokenProcessPool:
                    broken.append(task)
                except Exception as exc:  # noqa: BLE001
                    yield task, Outcome(task.assignment, task.student, problem=f"{type(exc).__name__}: {exc}")
            if broken:
                self.pool.shutdown(cancel_futures=True)
                self.pool = self._new_pool()
                if retried:
                    for task in broken:
                        yield task, Outcome(task.assignment, task.student, problem="the grading process died twice")
                    return
                retried = True
                pending = {self.pool.submit(grade, task): task for task in broken}

    def close(self):
        self.pool.shutdown()


class DaskCluster:
    """The same tasks on a Dask cluster (``tcp://host:8786``), or on a ``LocalCluster`` of
    ``jobs`` single-threaded worker processes when no address is given. A task whose worker
    dies is retried once by Dask, then reported."""

    def __init__(self, jobs: int, scheduler: str | None = None):
        from distributed import Client, LocalCluster

        self.cluster = None
        if scheduler is None:
            self.cluster = LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True,
                                        dashboard_address=None)
            scheduler = self.cluster
        self.client = Client(scheduler)

    def warm_up(self):
        """Each worker imports what grading needs (nothing waits for it; Dask forgets a task whose
        future is dropped, so they are kept)."""
        self.warming = [self.client.submit(_import_grading, pure=False, workers=[address])
                        for address in self.client.scheduler_info()["workers"]]

    def map_unordered(self, tasks: list[Task]) -> Iterable[tuple[Task, Outcome]]:
        from distributed import as_completed as dask_completed

        # In the order given (longest first): Dask runs the higher priorities first.
        futures = {self.client.submit(grade, task, pure=False, retries=1, priority=-i): task
                   for i, task in enumerate(tasks)}
        for future in dask_completed(list(futures)):
            task = futures[future]
            try:
                yield task, future.result()
            except Exception as exc:  # noqa: BLE001 -- a lost worker, twice
                yield task, Outcome(task.assignment, task.student, problem=f"{type(exc).__name__}: {exc}")

    def close(self):
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


# ----------------------------------------------------------------------------- the coordinator
def autograde(root: Path = course.ROOT, jobs: int | None = None, scheduler: str | None = None,
              student: str | None = None, assignment: str | None = None, force: bool = False,
              use_dask: bool = False, progress: bool = True, threads: int | None = None) -> list[Row]:
    """Grade every submission under ``grader/submitted/`` (or one student's / assignment's)
    in parallel and record the results in the course; return the report's rows.

    ``threads``: BLAS/torch threads per grading kernel (default: the cores shared by the jobs)."""

    root = Path(root).resolve()
    jobs = jobs or os.cpu_count() or 1
    todo = [(a, s) for a, s in course.submissions(root) if student in (None, s) and assignment in (None, a)]
    cfg = course.config(root)
    db_url = cfg.CourseDirectory.db_url
    nbgrader = course.api(cfg)
    for a in sorted({a for a, _ in todo}):   # the gradebook must know each assignment's tests
        course.run(nbgrader.generate_assignment(a), f"generate {a}")
    hashes = _load_hashes(root)
    # A remote cluster's workers know their own cores (README: OMP_NUM_THREADS per `dask worker`).
    threads = None if scheduler else (threads or grading_threads(jobs))

    rows, tasks, keys = [], [], {}
    # Read once, before any submission runs: the flags compare each hand-in with these, and a
    # submission still running may be rewriting the course's copy.
    solutions = {a: _read(root / "solutions" / a) for a in sorted({a for a, _ in todo})}
    measured = time_limits.load(root)
    for a, s in todo:
        task = Task(a, s, solutions[a], b"", _read(root / "grader" / "submitted" / s / a), threads,
                    seconds=measured.get(a, {}))
        keys[(a, s)] = _task_key(task)
        already = (root / "grader" / "autograded" / s / a).is_dir()
        if not force and already and hashes.get(f"{s}/{a}") == keys[(a, s)]:
            rows.append(_row(db_url, s, a, None, "unchanged", root, solutions[a]))
        else:
            tasks.append(task)
    if not tasks:
        write_report(root, rows)
        return rows
    # The workers start now, and import what grading needs while this process prepares the batch.
    executor = DaskCluster(jobs, scheduler) if (scheduler or use_dask) else LocalProcesses(jobs)
    try:
        executor.warm_up()
        tasks, watch, pristine = _prepare(root, tasks, scheduler)
    except BaseException:
        executor.close()
        raise
    staging = Path(tempfile.mkdtemp(prefix="grader-outcomes-"))
    recorder = course.api(_injecting_config(root, staging))
    try:
        bar = tqdm(total=len(tasks), desc=f"autograde ({jobs} jobs)", unit="notebook", disable=not progress)
        for task, outcome in executor.map_unordered(tasks):
            watch.restore()
            flagged = watch.flag(outcome)
            status = _record(recorder, staging, flagged)
            if status != (flagged.problem or "graded") and watch.restore():
                flagged = watch.flag(outcome)   # a submission still running spoilt the recording
                status = _record(recorder, staging, flagged)
            if status == "graded":
                hashes[f"{task.student}/{task.assignment}"] = keys[(task.assignment, task.student)]
            else:
                hashes.pop(f"{task.student}/{task.assignment}", None)
            row = _row(db_url, task.student, task.assignment, outcome.seconds, status, root, task.source)
            rows.append(dataclasses.replace(row, isolation=_isolation(outcome)))
            bar.update(1)
        bar.close()
    finally:
        executor.close()
        watch.restore()
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(pristine, ignore_errors=True)
        _save_hashes(root, hashes)
    write_report(root, rows)
    return rows


def _prepare(root: Path, tasks: list[Task], scheduler: str | None) -> tuple[list[Task], "CourseWatch", Path]:
    """The tasks complete (template gradebook, checks, data), longest first; the watch on the
    course; the folder of the data's copy (removed after the batch)."""
    templates = {a: _template_gradebook(root, a) for a in sorted({t.assignment for t in tasks})}
    # What no submission may change: the course's files, put back as each outcome comes in
    # (this is the batch's course: edits made to it while the batch runs are undone too); and
    # the checks and data the kernels get, copied before any submission ran.
    watch = CourseWatch(root)
    code = root if (root / "utils").is_dir() else course.ROOT
    checks = course_checks(code)
    pristine = Path(tempfile.mkdtemp(prefix="grader-course-"))
    data = None
    if not scheduler:   # a remote worker uses its own checkout's data (verified on every load)
        shutil.copytree(code / "data", pristine / "data")
        data = str(pristine / "data")
    tasks = [dataclasses.replace(t, gradebook=templates[t.assignment], checks=checks, data=data)
             for t in tasks]
    return longest_first(tasks), watch, pristine


class CourseWatch:
    """The course's files, put back whenever :meth:`restore` is called, and who may have changed them.

    A change that a restore finds was made after the previous restore began and before this
    one ended, by a kernel alive then. :meth:`flag` names it on every hand-in whose grading
    overlaps that window: the one that wrote is always among them (never only the hand-in that
    happened to finish next), a neighbour graded at the same moment may be too. A flag is for
    review; it changes no points.
    """

    def __init__(self, root: Path):
        self.checkout = sandbox.Checkout(root)
        self.since = time.time()
        self.changes: list[tuple[float, float, list[str]]] = []   # (from, to, files)

    def restore(self) -> bool:
        """Put back what changed; whether anything had."""
        begun = time.time()
        changed = self.checkout.restore()
        if changed:
            self.changes.append((self.since, time.time(), changed))
        self.since = begun
        return bool(changed)

    def flag(self, outcome: Outcome) -> Outcome:
        """``outcome`` with the changes made while it was graded added to its problem."""
        files = sorted({f for begun, ended, changed in self.changes
                        if begun <= outcome.finished and ended >= outcome.started for f in changed})
        if not files:
            return outcome
        problem = "; ".join(filter(None, [outcome.problem, f"{COURSE_CHANGED}: {', '.join(files)}"]))
        return dataclasses.replace(outcome, problem=problem)


def course_checks(code: Path) -> dict[str, bytes]:
    """The files of ``code``'s ``utils/`` (the checks the grading kernels import), by relative
    path, without compiled caches."""
    return {name: data for name, data in _read(code / "utils").items() if "__pycache__" not in name}


def _template_gradebook(root: Path, assignment: str) -> bytes:
    """A gradebook that knows ``assignment``'s notebooks and tests, made once for every task."""
    with tempfile.TemporaryDirectory(prefix="grader-template-") as tmp:
        scratch = Path(tmp)
        cfg = course.scratch_config(scratch, root / "solutions")
        course.run(course.api(cfg).generate_assignment(assignment), f"generate {assignment}")
        return (scratch / "gradebook.db").read_bytes()


def _injecting_config(root: Path, staging: Path):
    from grader.nbgrader_ext.preprocessors import InjectExecuted, RobustExecute

    cfg = course.config(root)
    cfg.Autograde.autograde_preprocessors = [
        InjectExecuted if p is RobustExecute else p for p in cfg.Autograde.autograde_preprocessors]
    cfg.InjectExecuted.executed_directory = str(staging)
    return cfg


def _record(recorder, staging: Path, outcome: Outcome) -> str:
    """Record ``outcome`` in the course through nbgrader; return the report's status."""
    if not outcome.autograded:
        return outcome.problem or "nothing was graded"
    folder = staging / outcome.student / outcome.assignment
    _write(folder, outcome.autograded)
    try:
        result = recorder.autograde(outcome.assignment, outcome.student)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if not result.get("success"):
        return _last_line(result.get("error") or result.get("log") or "could not record the grades")
    return outcome.problem or "graded"


def longest_first(tasks: list[Task]) -> list[Task]:
    """``tasks``, the longest gradings first, as far as the solutions' measured cells tell (an
    assignment never measured first of all): a class's last gradings are then its shortest, and
    no worker idles long at the end while another grades a 04. Hand-ins of one assignment keep
    their order."""
    def expected(task):
        cells = [cell["seconds"] for notebook in task.seconds.values() for cell in notebook.values()]
        return sum(cells) if cells else math.inf

    return sorted(tasks, key=expected, reverse=True)


def _task_key(task: Task) -> str:
    """Content hash of everything that decides a grade: the hand-in, the assignment's source,
    and the grading settings."""
    digest = hashlib.sha256()
    for files in (task.source, task.submission):
        for name, data in sorted(files.items()):
            digest.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
    settings = {k: os.environ.get(k, "") for k in ("MLP_COURSE_CELL_TIMEOUT", "MLP_COURSE_NOTEBOOK_TIMEOUT",
                                                   "MLP_COURSE_TIME_LIMIT_FACTOR", "MLP_COURSE_TIME_LIMIT_MARGIN")}
    digest.update(json.dumps([settings, task.seconds, task.isolation], sort_keys=True).encode())
    return digest.hexdigest()


def _load_hashes(root: Path) -> dict:
    try:
        return json.loads((root / HASHES).read_text())
    except (OSError, ValueError):
        return {}


def _save_hashes(root: Path, hashes: dict) -> None:
    path = root / HASHES
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(hashes, indent=1, sort_keys=True))


def _row(db_url: str, student: str, assignment: str, seconds: float | None, status: str,
         root: Path, solution: dict[str, bytes]) -> Row:
    from nbgrader.api import Gradebook, MissingEntry

    points = maximum = None
    with Gradebook(db_url) as gb:
        try:
            submission = gb.find_submission(assignment, student)
            points, maximum = float(submission.score), float(submission.max_score)
        except MissingEntry:
            maximum = float(gb.find_assignment(assignment).max_score)
    return Row(student, assignment, points, maximum, seconds, status, _flags(root, student, assignment, solution))


def _flags(root: Path, student: str, assignment: str, solution: dict[str, bytes]) -> list[Flag]:
    """The instructor's flags of a graded hand-in, read from its autograded notebooks (the code
    that ran, and the guard's log that came with it), beside ``solution`` (the assignment's
    files as the batch read them before grading)."""
    import nbformat

    from grader.score import flags

    found = []
    for executed in sorted((root / "grader" / "autograded" / student / assignment).glob("*.ipynb")):
        if executed.name not in solution:
            continue
        try:
            ran = nbformat.read(executed, as_version=4)
        except Exception as exc:  # noqa: BLE001 -- spoilt while the batch ran: say so, go on
            found.append(Flag(REVIEW, None, None, None, f"the autograded notebook {executed.name} could "
                                                        f"not be read ({type(exc).__name__})"))
            continue
        found += flags(ran, nbformat.reads(solution[executed.name].decode(), as_version=4))
    return found


def write_report(root: Path, rows: list[Row]) -> Path:
    rows.sort(key=lambda r: (r.student, r.assignment))
    path = root / REPORT_CSV
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["student", "assignment", "points", "max_points", "seconds", "status", "flags"])
        for r in rows:
            writer.writerow([r.student, r.assignment, "" if r.points is None else f"{r.points:g}",
                             "" if r.max_points is None else f"{r.max_points:g}",
                             "" if r.seconds is None else f"{r.seconds:.1f}", r.status,
                             "\n".join(str(f) for f in _by_level(r.flags))])
    return path


def _isolation(outcome: Outcome) -> str | None:
    """Why the outcome's kernels ran without the OS boundary (``None``: inside, or none ran)."""
    import nbformat

    from grader.score import isolation

    for data in outcome.autograded.values():
        line = isolation(nbformat.reads(data.decode(), as_version=4))
        if line != ISOLATED:
            return line
    return None


def format_report(rows: list[Row]) -> str:
    def cell(r):
        points = "-" if r.points is None else f"{r.points:g}"
        seconds = "" if r.seconds is None else f"{r.seconds:.1f} s"
        return [r.student, r.assignment, f"{points} / {r.max_points:g}" if r.max_points else points,
                seconds, r.status]
    cells = [["student", "assignment", "points", "time", "status", "flags"]]
    cells += [cell(r) + [counts(r.flags)] for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(6)]
    lines = ["  ".join(v.ljust(w) for v, w in zip(c, widths)).rstrip() for c in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    outside = sorted({r.isolation for r in rows if r.isolation})
    for line in outside:   # one line, however many hand-ins it concerns
        count = sum(r.isolation == line for r in rows)
        lines += ["", f"{line} ({count} of {len(rows)} hand-ins)"]
    flagged = [r for r in rows if r.flags]
    if flagged:
        lines += ["", "Flags for the instructor (a reason to look at the code, never a penalty):"]
        for r in flagged:
            lines.append(f"  {r.student} / {r.assignment}:")
            lines += [f"    {flag}" for flag in _by_level(r.flags)]
    return "\n".join(lines)


def _by_level(flags: list[Flag]) -> list[Flag]:
    return sorted(flags, key=lambda f: f.level != REVIEW)

