"""``grader mutants``: which plausible wrong implementations would the tests still give full marks?

Each graded solution (the code between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` in a
solution cell) is changed in one small way at a time -- a *mutant* (see
:mod:`grader.proving.mutation_operators`: mutmut's operators and the course's own student bugs). A
mutant is a :class:`grader.proving.variants.Variant` whose source is the mutated function, so it sits
where a student would write it, and it is graded like the variants of ``grader/proving/cases``:

- **in process** (:func:`grader.proving.inprocess.run_cells`) in a pool of worker processes, each
  mutant with a time limit, up to the notebook's last test cell, stopping at the first test
  that fails. Killed: a test cell fails (the student would lose points). Survived: every test
  passes. Timed out: the run went over the limit. Crashed: the notebook could not run at all
  (the mutant does not compile, the worker process died).
- **end to end** for a sample (``--end-to-end K``): graded through nbgrader exactly like
  ``grader score``, to show that the in-process verdict is the grader's.

Survivors that an instructor judged *equivalent* to the solution (correct code, written
differently) are listed with a reason in ``grader/proving/equivalent_mutants.toml``; the report counts
them apart, never as killed. The kill rate is killed / (killed + survived), equivalent,
timed-out and crashed mutants left out.
"""

from __future__ import annotations

import ast
import difflib
import hashlib
import json
import multiprocessing
import os
import random
import sys
import time
import tomllib
from collections import deque
from dataclasses import asdict, dataclass, field
from multiprocessing.connection import wait
from pathlib import Path

import nbformat

from grader import course
from grader.proving.mutation_operators import mutations
from grader.proving.variants import Variant, apply_variants, grade_id, is_solution, make_submission

EQUIVALENTS = Path(__file__).with_name("equivalent_mutants.toml")
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
BEGIN, END = "BEGIN SOLUTION", "END SOLUTION"  # nbgrader's solution delimiters
KILLED, SURVIVED, EQUIVALENT, TIMED_OUT, CRASHED = (
    "killed", "survived", "equivalent", "timed out", "crashed")


@dataclass(frozen=True)
class Mutant:
    """One change to one graded function."""

    target: str     # "step", or "Perceptron.update" for a method
    operator: str   # the operator that made it (grader.proving.mutation_operators)
    course: bool    # made by a course operator (a known student bug)
    diff: str       # the change on one line: "old line -> new line"
    source: str     # the mutated definition, as a student would write it
    id: str = ""    # stable: made from the target and the diff

    def variant(self) -> Variant:
        return Variant(self.target, self.source, f"mutant {self.id}: {self.diff}")


@dataclass
class Result:
    mutant: Mutant
    status: str
    detail: str = ""      # the test that killed it and why, the equivalence reason, the error
    seconds: float = 0.0


# ------------------------------------------------------------------ generating mutants

def solution_functions(nb) -> list[tuple[str, ast.FunctionDef, tuple[tuple[int, int], ...]]]:
    """The graded functions of a solution notebook: (target, definition, solution regions).

    A target is a top-level function (``"relu"``) or a method of a top-level class
    (``"MLP.fit"``) holding solution code; the regions are (begin, end) line numbers of the
    delimiters in its cell.
    """
    found = []
    for cell in nb.cells:
        if cell.cell_type != "code" or not is_solution(cell):
            continue
        lines = cell.source.splitlines()
        begins = [n for n, line in enumerate(lines, 1) if line.strip().startswith("#") and BEGIN in line]
        ends = [n for n, line in enumerate(lines, 1) if line.strip().startswith("#") and END in line]
        regions = tuple(zip(begins, ends))
        tree = ast.parse(cell.source)
        for node in tree.body:
            defs = [(node.name, node)] if isinstance(node, ast.FunctionDef) else [
                (f"{node.name}.{item.name}", item) for item in node.body
                if isinstance(item, ast.FunctionDef)] if isinstance(node, ast.ClassDef) else []
            for target, definition in defs:
                if any(definition.lineno < begin <= definition.end_lineno for begin, _ in regions):
                    found.append((target, definition, regions))
    return found


def one_line_diff(before: str, after: str) -> str:
    """The changed lines of two versions of a function, on one line (indentation ignored)."""
    old = [line.strip() for line in before.splitlines()]
    new = [line.strip() for line in after.splitlines()]
    removed, added = [], []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes():
        if tag != "equal":
            removed += old[i1:i2]
            added += new[j1:j2]
    return f"{' / '.join(removed) or '(nothing)'} -> {' / '.join(added) or '(deleted)'}"


def generate(nb, function: str | None = None) -> list[Mutant]:
    """Every distinct one-change mutant of the notebook's graded functions (or of ``function``:
    a target, or a method's or a function's bare name), in the notebook's order."""
    mutants, seen = [], set()
    for target, definition, regions in solution_functions(nb):
        if function not in (None, target, target.split(".")[-1]):
            continue
        original = ast.unparse(definition)

        def in_solution(first: int, last: int, regions=regions) -> bool:
            return any(begin < first and last < end for begin, end in regions)

        ids: dict[str, int] = {}
        for operator, mutated in mutations(definition, in_solution):
            try:
                source = ast.unparse(mutated)
                compile(source, "<mutant>", "exec")
            except (SyntaxError, ValueError, TypeError):  # a change Python cannot express
                continue
            if source == original or (target, source) in seen:
                continue
            seen.add((target, source))
            diff = one_line_diff(original, source)
            key = hashlib.sha1(f"{target}: {diff}".encode()).hexdigest()[:8]
            ids[key] = ids.get(key, 0) + 1  # the same line changed the same way twice
            mutant_id = key if ids[key] == 1 else f"{key}-{ids[key]}"
            mutants.append(Mutant(target, operator.name, operator.course, diff, source, mutant_id))
    return mutants


def sample(mutants: list[Mutant], limit: int | None, seed: int = 0) -> list[Mutant]:
    """Every course mutant, and ``limit`` of the library's (all when None), drawn with ``seed``
    (the same notebook, limit and seed always give the same sample), in the notebook's order."""
    library = [m for m in mutants if not m.course]
    if limit is not None and limit < len(library):
        chosen = {m.id for m in random.Random(seed).sample(library, limit)}
        return [m for m in mutants if m.course or m.id in chosen]
    return list(mutants)


# ------------------------------------------------------------------ the equivalence list

def load_equivalents(path: Path = EQUIVALENTS) -> dict[tuple[str, str, str], str]:
    """``{(assignment, function, diff): reason}`` from the equivalence list (empty if none).

    An entry's ``diff`` is one mutant's one-line diff, or a list of them that share the reason.
    """
    if not Path(path).exists():
        return {}
    with open(path, "rb") as file:
        entries = tomllib.load(file).get("mutant", [])
    return {(e["assignment"], e["function"], diff): e["reason"] for e in entries
            for diff in ([e["diff"]] if isinstance(e["diff"], str) else e["diff"])}


def toml_entry(assignment: str, mutant: Mutant, reason: str = "TODO: why this is correct code") -> str:
    """A survivor as an entry for the equivalence list (JSON strings are valid TOML strings)."""
    return "\n".join(["[[mutant]]", f"assignment = {json.dumps(assignment)}",
                      f"function = {json.dumps(mutant.target)}",
                      f"diff = {json.dumps(mutant.diff, ensure_ascii=False)}",
                      f"reason = {json.dumps(reason, ensure_ascii=False)}", ""])


# ------------------------------------------------------------------ grading in worker processes

def _serve(conn, notebook: str, threads: int, uses_torch: bool) -> None:
    """A worker process: grade the mutants it is sent, in process, one at a time."""
    for variable in THREAD_VARIABLES:  # before NumPy or torch is imported, or they ignore it
        os.environ[variable] = str(threads)
    os.environ.setdefault("MPLBACKEND", "Agg")
    os.chdir(course.ROOT)  # the notebooks import utils/ and read data/ from the course root
    sys.path.insert(0, str(course.ROOT))
    devnull = os.open(os.devnull, os.O_WRONLY)  # the notebooks' prints and progress bars
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    import numpy  # noqa: F401 -- imported once here, not in each mutant's run

    if uses_torch:
        import torch

        torch.set_num_threads(threads)
    from grader.cells import is_test
    from grader.proving.inprocess import run_cells

    solution = nbformat.read(notebook, as_version=4)
    last_test = [grade_id(c) for c in solution.cells if is_test(c)][-1]
    conn.send("ready")
    while (task := conn.recv()) is not None:  # a list of (target, source) to put in place
        start = time.perf_counter()
        try:
            nb = apply_variants(solution, [Variant(target, source, "") for target, source in task])
            outcomes = run_cells(nb, stop_after=last_test, stop_at_failure=True)
            failed = [(gid, o.message) for gid, o in outcomes.items() if not o.passed]
            status, detail = (KILLED, f"{failed[0][0]}: {failed[0][1]}") if failed else (SURVIVED, "")
        except Exception as exc:  # noqa: BLE001 -- the notebook could not run at all
            status, detail = CRASHED, f"{type(exc).__name__}: {exc}"
        conn.send((status, detail[:2000], time.perf_counter() - start))


def threads_per_worker(jobs: int) -> int:
    """The cores shared out among the workers, or fewer when OMP_NUM_THREADS says so.

    Measured on 2 busy cores: 02's notebook runs in 3 s with one BLAS thread and in 68 s with
    two (a thread that waits for a descheduled partner stalls every small matrix product), so
    on a shared machine ``OMP_NUM_THREADS=1`` is the setting to use.
    """
    threads = max(1, (os.cpu_count() or 1) // jobs)
    limit = os.environ.get("OMP_NUM_THREADS", "")
    return min(threads, int(limit)) if limit.isdigit() and int(limit) > 0 else threads


class _Worker:
    def __init__(self, context, args):
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_serve, args=(child, *args), daemon=True)
        self.process.start()
        child.close()
        self.ready = False
        self.task: tuple[int, float] | None = None  # (index, start time) while grading

    def stop(self, gracefully: bool = False) -> None:
        """End the worker: ask an idle one to finish (so that it cleans up after itself), kill
        one that is busy or does not finish."""
        if gracefully and self.ready and self.task is None:
            try:
                self.conn.send(None)
                self.process.join(timeout=10)
            except OSError:
                pass
        if self.process.is_alive():
            self.process.kill()
        self.process.join()
        self.conn.close()


class Pool:
    """``jobs`` worker processes (spawned: a fresh interpreter each, so that the thread limits
    hold), each grading one mutant at a time under a time limit; a worker that runs over or
    dies is replaced."""

    STARTUP_LIMIT = 300  # seconds for a worker to import NumPy (and torch)

    def __init__(self, notebook: Path, jobs: int = 1):
        uses_torch = "import torch" in Path(notebook).read_text()
        self._args = (str(notebook), threads_per_worker(jobs), uses_torch)
        self._context = multiprocessing.get_context("spawn")
        self._workers = [self._start() for _ in range(jobs)]

    def _start(self) -> _Worker:
        worker = _Worker(self._context, self._args)
        worker.task = (-1, time.monotonic())  # starting up
        return worker

    def grade(self, tasks: list[list[tuple[str, str]]], timeout: float,
              progress=None) -> list[tuple[str, str, float]]:
        """Grade the solution with each task's (target, source) replacements in place:
        (status, detail, seconds) per task, in their order."""
        queue, results = deque(range(len(tasks))), {}
        while len(results) < len(tasks):
            for worker in self._workers:
                if worker.ready and worker.task is None and queue:
                    index = queue.popleft()
                    worker.conn.send(tasks[index])
                    worker.task = (index, time.monotonic())
            busy = [w for w in self._workers if w.task is not None]
            now = time.monotonic()
            limits = [(self.STARTUP_LIMIT if not w.ready else timeout) - (now - w.task[1]) for w in busy]
            wait([w.conn for w in busy], timeout=max(0.0, min(limits)))
            for i, worker in enumerate(self._workers):
                index, started = worker.task if worker.task else (None, 0.0)
                if index is None:
                    continue
                elapsed = time.monotonic() - started
                if worker.conn.poll():
                    try:
                        message = worker.conn.recv()
                    except (EOFError, OSError):
                        message = None
                    if message == "ready":
                        worker.ready, worker.task = True, None
                        continue
                    if message is not None:
                        results[index] = message
                        worker.task = None
                        if progress is not None:
                            progress.update(1)
                        continue
                    worker.process.join(timeout=5)
                    dead = f"the worker process died (exit code {worker.process.exitcode})"
                    self._replace(i, index, (CRASHED, dead, elapsed), results, progress)
                elif elapsed > (timeout if worker.ready else self.STARTUP_LIMIT):
                    self._replace(i, index, (TIMED_OUT, f"stopped after {elapsed:.0f} s", elapsed),
                                  results, progress)
        return [results[i] for i in range(len(tasks))]

    def _replace(self, i: int, index: int, result: tuple, results: dict, progress) -> None:
        self._workers[i].stop()
        if index < 0:  # it never started: nothing will go better with a new one
            raise course.GradingError(f"a grading worker could not start: {result[1]}")
        results[index] = result
        if progress is not None:
            progress.update(1)
        self._workers[i] = self._start()

    def close(self) -> None:
        for worker in self._workers:
            worker.stop(gracefully=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# ------------------------------------------------------------------ grading end to end

def grade_end_to_end(assignment: str, solution_path: Path, results: list[Result], count: int,
                     seed: int = 0) -> list[dict]:
    """Grade ``count`` of the mutants through nbgrader (``grader score``), half of them (rounded
    up) survivors, the others killed: does the grader agree with the in-process verdicts?"""
    import tempfile

    from grader.score import score

    rng = random.Random(seed)
    survivors = [r for r in results if r.status in (SURVIVED, EQUIVALENT)]
    killed = [r for r in results if r.status == KILLED]
    n_survivors = min(len(survivors), max((count + 1) // 2, count - len(killed)))
    chosen = (rng.sample(survivors, n_survivors)
              + rng.sample(killed, min(count - n_survivors, len(killed))))
    solution = nbformat.read(solution_path, as_version=4)
    release = nbformat.read(course.ROOT / "notebooks" / assignment / solution_path.name, as_version=4)
    checks = []
    for result in chosen:
        with tempfile.TemporaryDirectory(prefix="grader-mutant-") as tmp:
            path = Path(tmp) / solution_path.name
            nbformat.write(make_submission(release, solution, [result.mutant.variant()]), path)
            graded = score(path, assignment)
        lost = [t["grade_id"] for t in graded["tests"] if t["score"] < t["max_score"]]
        in_process_killed = result.status == KILLED
        checks.append({"id": result.mutant.id, "function": result.mutant.target,
                       "in_process": result.status, "score": graded["score"],
                       "max_score": graded["max_score"], "lost_points_on": lost,
                       "agrees": bool(lost) == in_process_killed})
    return checks


# ------------------------------------------------------------------ the whole run

@dataclass
class Report:
    assignment: str
    notebook: str
    jobs: int
    seed: int
    limit: int | None
    generated: int                  # mutants of the chosen functions, before sampling
    seconds: float                  # grading in process, worker start-up included
    timeout: float
    results: list[Result]
    end_to_end: list[dict] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)  # equivalence entries matching no mutant

    @property
    def per_minute(self) -> float:
        return 60 * len(self.results) / self.seconds if self.seconds else 0.0

    def counts(self, results: list[Result]) -> dict:
        by = {s: sum(r.status == s for r in results) for s in (KILLED, SURVIVED, EQUIVALENT, TIMED_OUT, CRASHED)}
        decided = by[KILLED] + by[SURVIVED]
        return {"mutants": len(results), **{k.replace(" ", "_"): v for k, v in by.items()},
                "kill_rate": by[KILLED] / decided if decided else None}

    def functions(self) -> dict[str, dict]:
        targets = dict.fromkeys(r.mutant.target for r in self.results)
        return {t: self.counts([r for r in self.results if r.mutant.target == t]) for t in targets}

    def as_dict(self) -> dict:
        mutants = [{**{k: v for k, v in asdict(r.mutant).items() if k != "source"},
                    "status": r.status, "detail": r.detail, "seconds": round(r.seconds, 3)}
                   for r in self.results]
        return {"assignment": self.assignment, "notebook": self.notebook, "jobs": self.jobs,
                "seed": self.seed, "limit": self.limit, "generated": self.generated,
                "seconds": round(self.seconds, 1), "mutants_per_minute": round(self.per_minute, 1),
                "timeout": self.timeout, "functions": self.functions(),
                "total": self.counts(self.results), "mutants": mutants,
                "end_to_end": self.end_to_end, "stale_equivalents": self.stale}


def grading_timeouts() -> tuple[float, float]:
    """Autograde's limits in seconds (nbgrader_config.py): per cell, per notebook."""
    cfg = course.config()
    per_notebook = cfg.RobustExecute.get("notebook_timeout", 0) or float("inf")
    return cfg.Execute.timeout, per_notebook


def run(notebook: Path, assignment: str, function: str | None = None, limit: int | None = None,
        seed: int = 0, jobs: int = 1, timeout: float | None = None, end_to_end: int = 0,
        equivalents: Path = EQUIVALENTS, progress: bool = True) -> Report:
    """Generate, sample and grade the mutants of the solution notebook ``notebook``."""
    from tqdm import tqdm

    solution = nbformat.read(notebook, as_version=4)
    everything = generate(solution, function)
    if not everything:
        what = f"function {function!r}" if function else "the notebook"
        raise course.GradingError(f"no mutants: {what} has no solution code in {notebook.name}")
    chosen = sample(everything, limit, seed)
    known = {key: reason for key, reason in load_equivalents(equivalents).items() if key[0] == assignment}
    generated_keys = {(assignment, m.target, m.diff) for m in everything}
    stale = [f"{f}: {d}" for (a, f, d) in known if (a, f, d) not in generated_keys
             and function in (None, f, f.split(".")[-1])]

    # The null mutant (every function as ast.unparse writes it) must pass: it proves that the
    # machinery, not the mutation, decides each verdict, and it times the notebook.
    null = [(target, ast.unparse(definition)) for target, definition, _ in solution_functions(solution)]
    cell_timeout, notebook_timeout = grading_timeouts()
    start = time.perf_counter()
    with Pool(notebook, jobs) as pool:
        status, detail, baseline = pool.grade([null], timeout or notebook_timeout)[0]
        if status != SURVIVED:
            raise course.GradingError(f"the solution itself does not pass in process ({status}): {detail}")
        # Autograde stops a cell after cell_timeout and a notebook after notebook_timeout. A
        # mutant that runs a cell's limit longer than the solution (3x its time, for the noise of
        # a busy machine) has had a cell stopped, or would have: it is timed out here.
        limit_s = timeout or min(notebook_timeout, cell_timeout + 3 * baseline)
        with tqdm(total=len(chosen), desc=f"mutants of {notebook.stem}", unit="mutant",
                  disable=not progress, file=sys.stderr) as bar:
            graded = pool.grade([[(m.target, m.source)] for m in chosen], limit_s, bar)
    seconds = time.perf_counter() - start
    results = [Result(mutant, *outcome) for mutant, outcome in zip(chosen, graded)]
    for result in results:
        reason = known.get((assignment, result.mutant.target, result.mutant.diff))
        if reason and result.status == SURVIVED:
            result.status, result.detail = EQUIVALENT, reason
        elif reason and result.status == KILLED:  # a test rejects code listed as correct
            result.detail = f"listed as equivalent ({reason}), yet {result.detail}"
    report = Report(assignment, notebook.stem, jobs, seed, limit, len(everything), seconds, limit_s,
                    results, stale=stale)
    if end_to_end:
        report.end_to_end = grade_end_to_end(assignment, notebook, results, end_to_end, seed)
    return report


def format_text(report: Report) -> str:
    """The report for people: a table per function, then every survivor's diff."""
    total = report.counts(report.results)
    course_count = sum(r.mutant.course for r in report.results)
    sampled = (f"{len(report.results) - course_count} of mutmut's mutants drawn with seed "
               f"{report.seed} (--limit {report.limit})" if report.limit is not None
               else f"{len(report.results) - course_count} of mutmut's mutants")
    lines = [f"{report.assignment}: {len(report.results)} mutants of {report.generated} "
             f"({course_count} course mutants, {sampled}), graded in process by {report.jobs} "
             f"job{'s' * (report.jobs > 1)} in {report.seconds / 60:.1f} min "
             f"({report.per_minute:.1f} mutants/min; limit {report.timeout:.0f} s each)", ""]
    header = ["function", "mutants", "killed", "survived", "equivalent", "timed out", "crashed", "kill rate"]
    rows = [[name, *(str(c[k]) for k in ("mutants", "killed", "survived", "equivalent", "timed_out",
                                         "crashed")), _rate(c["kill_rate"])]
            for name, c in [*report.functions().items(), ("total", total)]]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        lines.append("  ".join(cell.ljust(w) if i == 0 else cell.rjust(w)
                               for i, (cell, w) in enumerate(zip(row, widths))))
    for status, title in ((SURVIVED, "Survivors (the tests give these full marks)"),
                          (EQUIVALENT, f"Equivalent (listed in {EQUIVALENTS.name})"),
                          (TIMED_OUT, "Timed out"), (CRASHED, "Crashed")):
        chosen = [r for r in report.results if r.status == status]
        if chosen:
            lines += ["", f"{title}:"]
            for r in chosen:
                lines.append(f"  {r.mutant.target} [{r.mutant.id}, {r.mutant.operator}]  {r.mutant.diff}")
                if status != SURVIVED and r.detail:
                    lines.append(f"      {r.detail.splitlines()[0][:200]}")
    survivors = [r for r in report.results if r.status == SURVIVED]
    if survivors:
        lines += ["", f"Strengthen a test to kill each survivor; one that is correct code goes in "
                      f"grader/{EQUIVALENTS.name} with the reason, e.g.:",
                  toml_entry(report.assignment, survivors[0].mutant).rstrip()]
    doubtful = [r for r in report.results if r.detail.startswith("listed as equivalent")]
    if doubtful:
        lines += ["", "Listed as equivalent but killed (a test rejects correct code, or the entry is wrong):"]
        lines += [f"  {r.mutant.target} [{r.mutant.id}]  {r.mutant.diff}\n      {r.detail[:300]}"
                  for r in doubtful]
    if report.stale:
        lines += ["", f"Entries of {EQUIVALENTS.name} that match no mutant any more:"]
        lines += [f"  {entry}" for entry in report.stale]
    if report.end_to_end:
        agree = sum(c["agrees"] for c in report.end_to_end)
        lines += ["", f"End to end (nbgrader, as `grader score`): {agree} of {len(report.end_to_end)} "
                      f"agree with the in-process verdict"]
        lines += [f"  {c['function']} [{c['id']}] in process: {c['in_process']}; nbgrader: "
                  f"{c['score']:g}/{c['max_score']:g}{' DISAGREES' if not c['agrees'] else ''}"
                  for c in report.end_to_end]
    return "\n".join(lines)


def _rate(rate: float | None) -> str:
    return "-" if rate is None else f"{rate:.0%}"


def resolve(name: str) -> tuple[Path, str]:
    """(solution notebook, assignment id) for an assignment id or a solution notebook's path."""
    path = Path(name)
    if path.suffix == ".ipynb":
        if not path.is_file():
            raise course.GradingError(f"no such notebook: {path}")
        return path.resolve(), path.parent.name
    if name not in course.assignments():
        raise course.GradingError(f"unknown assignment {name!r}; the course has: "
                                  f"{', '.join(course.assignments())}")
    names = course.notebook_names(name)
    return course.ROOT / "solutions" / name / f"{names[0]}.ipynb", name
