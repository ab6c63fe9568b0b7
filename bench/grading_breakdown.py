"""Benchmark: where the time of one graded notebook goes, per assignment (issue 25, step 1).

For each assignment, the solution as a student hands it in is graded as the batch grader
(``grader.batch``) grades each hand-in of a class, one BLAS/torch thread per kernel:

- per notebook, what one more student costs: a warm worker's ``grade`` of the hand-in (scratch
  course, nbgrader's convert steps, a fresh kernel with the guard, the cells, shutdown; the CPU
  of the worker and of its kernel), then the coordinator's recording of it in the course's
  gradebook; the mean of three;
- per batch, what a class pays once: a whole batch of one hand-in (worker start and imports,
  the template gradebook, nbgrader's generate step, the data copy) less one notebook's cost.

The notebook's own time is split with nbclient's per-cell timings (``metadata.execution`` of
the autograded copy): the set-up (the code cells before the first answer or test: imports of NumPy,
torch and the course's utils, data loading); the other cells that are not tests (answers,
demonstrations that grading runs); the test cells, each by grade id. The overhead is the rest of
a notebook's wall seconds (a bare kernel's start and shutdown is printed beside it).

The projection is for a class of 300 students with four notebooks on 16 cores: mean CPU seconds
per notebook x 1,200 / 16, plus one batch's fixed cost per assignment. Targets: overhead <= 1.5 s
per notebook, mean CPU <= 8 s per notebook (projection <= 10 minutes).

    python bench/grading_breakdown.py
    python bench/grading_breakdown.py --assignments 01_perceptron --tests
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

import nbformat

from grader import batch, course
from grader.cells import first_graded, grade_id, is_test
from grader.proving.cases import all_cases
from grader.score import cell_seconds

from autograde import kernel_start_seconds, make_class  # bench/autograde.py, beside this script

TARGET_OVERHEAD, TARGET_MEAN_CPU = 1.5, 8.0
CLASS, CORES = 300 * 4, 16


def _cpu() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _solution_class(root: Path, case) -> Path:
    """A course copy in ``root`` whose one student handed in ``case``'s solution; the hand-in."""
    make_class(root, 1, [case.ASSIGNMENT])   # its first hand-in is the solution
    [folder] = (root / "grader" / "submitted").glob(f"*/{case.ASSIGNMENT}")
    return folder


def batch_of_one(case) -> float:
    """Wall seconds of a whole batch that grades the solution alone."""
    with tempfile.TemporaryDirectory(prefix="bench-breakdown-") as tmp:
        _solution_class(Path(tmp), case)
        wall = time.perf_counter()
        [row] = batch.autograde(root=Path(tmp), jobs=1, threads=1, progress=False)
        wall = time.perf_counter() - wall
    if row.status != "graded" or row.points != row.max_points:
        raise SystemExit(f"{case.ASSIGNMENT}: the solution was not graded in full: {row}")
    return wall


def per_notebook(case, repeats: int = 3) -> dict:
    """Mean seconds of one more hand-in of ``case``'s solution: a warm worker's grading, then
    its recording; and the mean seconds of its cells."""
    with tempfile.TemporaryDirectory(prefix="bench-breakdown-") as tmp:
        root = Path(tmp)
        hand_in = _solution_class(root, case)
        # The task as batch.autograde makes it (its private steps: this measures them).
        source = batch._read(root / "solutions" / case.ASSIGNMENT)
        task = batch.Task(case.ASSIGNMENT, hand_in.parent.name, source,
                          batch._template_gradebook(root, case.ASSIGNMENT), batch._read(hand_in),
                          1, batch.course_checks(course.ROOT), str(course.ROOT / "data"))
        nbgrader = course.api(course.config(root))
        course.run(nbgrader.generate_assignment(case.ASSIGNMENT), f"generate {case.ASSIGNMENT}")
        staging = root / "staging"
        recorder = course.api(batch._injecting_config(root, staging))
        batch.grade(task)   # a worker that has graded before: its imports are done
        totals = {"cpu": 0.0, "wall": 0.0, "record": 0.0}
        executed = []
        for _ in range(repeats):
            cpu, wall = _cpu(), time.perf_counter()
            outcome = batch.grade(task)
            recorded = _cpu()
            status = batch._record(recorder, staging, outcome)
            totals["record"] += (_cpu() - recorded) / repeats
            totals["cpu"] += (_cpu() - cpu) / repeats
            totals["wall"] += (time.perf_counter() - wall) / repeats
            if outcome.problem or status != "graded":
                raise SystemExit(f"{case.ASSIGNMENT}: the solution was not graded: {outcome.problem or status}")
            [data] = outcome.autograded.values()
            executed.append(nbformat.reads(data.decode(), as_version=4))
    setup = others = 0.0
    tests: dict[str, float] = {}
    for nb in executed:
        code = [c for c in nb.cells if c.cell_type == "code"]
        set_up_end = first_graded(code)
        set_up_end = len(code) if set_up_end is None else set_up_end
        setup += sum(cell_seconds(c) for c in code[:set_up_end]) / repeats
        others += sum(cell_seconds(c) for c in code[set_up_end:] if not is_test(c)) / repeats
        for c in code:
            if is_test(c):
                tests[grade_id(c)] = tests.get(grade_id(c), 0.0) + cell_seconds(c) / repeats
    cells = setup + others + sum(tests.values())
    return {"assignment": case.ASSIGNMENT, **totals, "setup": setup, "others": others,
            "tests": tests, "overhead": totals["wall"] - cells}


def breakdown(case) -> dict:
    """``per_notebook``, and what a batch pays once beyond it."""
    result = per_notebook(case)
    result["fixed"] = batch_of_one(case) - result["wall"]
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--assignments", nargs="*", default=course.assignments())
    parser.add_argument("--tests", action="store_true", help="also print each test cell's seconds")
    args = parser.parse_args(argv)
    print("per graded notebook in a class (one more hand-in of the solution: a warm worker grades it, "
          "the coordinator records it; one thread per kernel)")
    print(f"  {'assignment':18} {'CPU s':>6} {'wall s':>6} {'set-up':>7} {'cells':>6} {'tests':>6} "
          f"{'overhead':>8} {'record':>7}   {'per batch':>9}")
    results = []
    for case in [c for c in all_cases() if c.ASSIGNMENT in args.assignments]:
        r = breakdown(case)
        results.append(r)
        print(f"  {r['assignment']:18} {r['cpu']:6.1f} {r['wall']:6.1f} {r['setup']:7.1f} {r['others']:6.1f} "
              f"{sum(r['tests'].values()):6.1f} {r['overhead']:8.1f} {r['record']:7.1f}   {r['fixed']:8.1f}s")
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
