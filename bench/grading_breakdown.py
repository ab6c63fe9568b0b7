"""Benchmark: where the time of one graded notebook goes, per assignment (issue 25, step 1).

For each assignment, the solution as a student hands it in is graded by the batch grader
(``grader.batch``, one job, one BLAS/torch thread per kernel) in a scratch copy of the
course: once alone, then as a class of three copies. What the class adds per notebook is what
one more student costs (the marginal cost: a worker's grading, its kernel, the recording in the
gradebook); what the single grading costs beyond it is paid once per batch (worker start and
imports, the template gradebook, nbgrader's generate step, the data copy). The notebook's own
time is split with nbclient's per-cell timings (``metadata.execution`` of the autograded copy):

- the set-up: the code cells before the first answer (imports of NumPy, torch and the course's
  utils; data loading);
- the other cells that are not tests (answers, demonstrations that grading runs);
- the test cells, each by grade id;
- the overhead: the marginal wall seconds outside those cells (nbgrader's convert steps, kernel
  start, the guard, shutdown); a bare kernel's start and shutdown is printed beside it.

CPU seconds are those of this process and every process it waited for (the worker and its
kernels), so the recording in the gradebook counts too. The projection is for a class of 300
students with four notebooks on 16 cores: mean marginal CPU seconds per notebook x 1,200 / 16
(plus one batch's fixed cost per assignment). Targets: overhead <= 1.5 s per notebook, mean CPU
<= 8 s per notebook (projection <= 10 minutes).

    python bench/grading_breakdown.py
    python bench/grading_breakdown.py --assignments 01_perceptron --tests
"""

from __future__ import annotations

import argparse
import shutil
import resource
import tempfile
import time
import warnings
from datetime import datetime
from pathlib import Path

import nbformat

from grader import batch, course
from grader.cells import grade_id, is_solution, is_test
from grader.proving.cases import all_cases

from autograde import kernel_start_seconds, make_class  # bench/autograde.py, beside this script

TARGET_OVERHEAD, TARGET_MEAN_CPU = 1.5, 8.0
CLASS, CORES = 300 * 4, 16


def _cpu() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _seconds(cell) -> float:
    """The cell's run time as nbclient recorded it (0 when it did not run)."""
    timing = cell.get("metadata", {}).get("execution", {})
    start, end = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
    if not (start and end):
        return 0.0
    parse = lambda stamp: datetime.fromisoformat(stamp.replace("Z", "+00:00"))  # noqa: E731
    return (parse(end) - parse(start)).total_seconds()


def grade_class(case, copies: int) -> dict:
    """Grade ``copies`` hand-ins of ``case``'s solution in one batch; seconds, and the first
    autograded notebook."""
    name = f"{case.NOTEBOOK}.ipynb"
    with tempfile.TemporaryDirectory(prefix="bench-breakdown-") as tmp:
        root = Path(tmp)
        make_class(root, 1, [case.ASSIGNMENT])   # its first hand-in is the solution
        submitted = root / "grader" / "submitted"
        [first] = [p.name for p in submitted.iterdir()]
        for copy in range(1, copies):
            shutil.copytree(submitted / first, submitted / f"{first}-copy{copy}")
        cpu, wall = _cpu(), time.perf_counter()
        # One job, so that the class grades one notebook after another; one thread per kernel.
        rows = batch.autograde(root=root, jobs=1, threads=1, progress=False)
        cpu, wall = _cpu() - cpu, time.perf_counter() - wall
        wrong = [r for r in rows if r.status != "graded" or r.points != r.max_points]
        if wrong or len(rows) != copies:
            raise SystemExit(f"{case.ASSIGNMENT}: the solution was not graded in full: {wrong or rows}")
        executed = nbformat.read(submitted.parent / "autograded" / first / case.ASSIGNMENT / name, as_version=4)
    return {"cpu": cpu, "wall": wall, "executed": executed}


def breakdown(case, copies: int = 3) -> dict:
    """The fixed (per batch) and marginal (per notebook) cost of grading ``case``'s solution."""
    alone, together = grade_class(case, 1), grade_class(case, copies)
    cpu = (together["cpu"] - alone["cpu"]) / (copies - 1)
    wall = (together["wall"] - alone["wall"]) / (copies - 1)
    code = [c for c in alone["executed"].cells if c.cell_type == "code"]
    first_answer = next((i for i, c in enumerate(code) if is_solution(c)), len(code))
    setup = sum(_seconds(c) for c in code[:first_answer])
    tests = {grade_id(c): _seconds(c) for c in code if is_test(c)}
    others = sum(_seconds(c) for c in code[first_answer:] if not is_test(c))
    cells = setup + others + sum(tests.values())
    return {"assignment": case.ASSIGNMENT, "cpu": cpu, "wall": wall, "setup": setup, "others": others,
            "tests": tests, "overhead": wall - cells, "fixed": alone["wall"] - wall}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--assignments", nargs="*", default=course.assignments())
    parser.add_argument("--tests", action="store_true", help="also print each test cell's seconds")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", module="nbgrader")  # its own SQLAlchemy use warns on every grading
    print("per graded notebook in a class (what one more hand-in of the solution adds; one job, "
          "one thread per kernel)")
    print(f"  {'assignment':18} {'CPU s':>6} {'wall s':>6} {'set-up':>7} {'cells':>6} {'tests':>6} "
          f"{'overhead':>8}   {'per batch':>9}")
    results = []
    for case in [c for c in all_cases() if c.ASSIGNMENT in args.assignments]:
        r = breakdown(case)
        results.append(r)
        print(f"  {r['assignment']:18} {r['cpu']:6.1f} {r['wall']:6.1f} {r['setup']:7.1f} {r['others']:6.1f} "
              f"{sum(r['tests'].values()):6.1f} {r['overhead']:8.1f}   {r['fixed']:8.1f}s")
        if args.tests:
            for gid, seconds in sorted(r["tests"].items(), key=lambda item: -item[1]):
                print(f"      {gid:36} {seconds:6.2f} s")
    print(f"  (a bare kernel's start and shutdown: {kernel_start_seconds():.1f} s of each overhead)")
    mean_cpu = sum(r["cpu"] for r in results) / len(results)
    mean_overhead = sum(r["overhead"] for r in results) / len(results)
    fixed = sum(r["fixed"] for r in results) / len(results) * 4   # one batch per assignment
    projection = (mean_cpu * CLASS / CORES + fixed) / 60
    print(f"  mean CPU per notebook {mean_cpu:.1f} s (target <= {TARGET_MEAN_CPU:g}); mean overhead "
          f"{mean_overhead:.1f} s (wall, outside the cells; target <= {TARGET_OVERHEAD:g})")
    print(f"  projection, 300 students x 4 notebooks on {CORES} cores: {projection:.1f} min (target <= 10)")
    ok = mean_cpu <= TARGET_MEAN_CPU and mean_overhead <= TARGET_OVERHEAD
    print(f"  targets: {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
