"""``python -m grader``: the instructor's command line (see ``--help`` of each command)."""

from __future__ import annotations

import argparse
import json
import os
import sys

from grader import course


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    release = commands.add_parser(
        "release", help="regenerate notebooks/ from solutions/, and measure the time limits of the cells "
                        "that changed (grader/time_limits.json)")
    release.add_argument("--calibrate", action="store_true",
                         help="measure every assignment's time limits again (e.g. on a new grading machine)")

    score = commands.add_parser(
        "score", help="grade one notebook as autograde would, leaving the course untouched")
    score.add_argument("path", help="the notebook to grade")
    score.add_argument("--assignment", help="assignment id (default: from the notebook's name)")
    score.add_argument("--json", action="store_true",
                       help="print one JSON object (points, tests and the instructor's flags)")
    _isolation_option(score)

    for name, text in [("autograde", "autograde every submission in grader/submitted/"),
                       ("feedback", "write HTML feedback for every autograded submission")]:
        sub = commands.add_parser(name, help=text)
        sub.add_argument("--student")
        sub.add_argument("--assignment")
        sub.add_argument("--jobs", type=int, default=None,
                         help=f"submissions {'graded' if name == 'autograde' else 'done'} at once "
                              "(default: the number of cores)")
        if name == "autograde":
            sub.add_argument("--scheduler", help="a Dask scheduler's address, e.g. tcp://host:8786")
            sub.add_argument("--force", action="store_true",
                             help="grade again even the submissions unchanged since they were graded")
            _isolation_option(sub)

    mutants = commands.add_parser(
        "mutants", help="grade one-change mutants of the solutions: which wrong code keeps full marks?")
    mutants.add_argument("assignment", help="assignment id (or the path of a solution notebook)")
    mutants.add_argument("--function", help="only this function or method (e.g. relu, MLP.fit)")
    mutants.add_argument("--limit", type=int, help="grade N of mutmut's mutants, drawn with --seed "
                         "(every course mutant is always graded)")
    mutants.add_argument("--seed", type=int, default=0, help="seed of the --limit sample (default 0)")
    mutants.add_argument("--jobs", type=int, default=1, help="worker processes (default 1), each with "
                         "cores // N BLAS threads, or OMP_NUM_THREADS if smaller (1 is best on a busy machine)")
    mutants.add_argument("--timeout", type=float, help="seconds per mutant (default: the cell timeout "
                         "of grading plus 3x the solution's own time)")
    mutants.add_argument("--end-to-end", type=int, default=1, metavar="K",
                         help="also grade K mutants through nbgrader, half survivors, half killed "
                              "(default 1: a survivor)")
    mutants.add_argument("--json", action="store_true", help="print one JSON object")
    mutants.add_argument("--fail-on-survivors", action="store_true",
                         help="exit with status 1 when a mutant not listed as equivalent survives")

    insights = commands.add_parser(
        "insights", help="the instructor's report on what the class got wrong: mistakes ranked by how many "
                         "students made them, pass rates, review flags, similar hand-ins (HTML, CSV, JSON)")
    insights.add_argument("--assignment", help="only this assignment (default: every graded one)")
    insights.add_argument("--out", help="folder of the report (default: grader/reports/insights)")

    commands.add_parser("grades", help="print every student's points and write grader/grades.csv")
    commands.add_parser("examples", help="rebuild the example class in grader/submitted/")
    commands.add_parser("clean", help="remove autograded copies, feedback, gradebook and CSV")

    args = parser.parse_args(argv)
    try:
        if getattr(args, "isolation", None):   # read by nbgrader_config.py, here and in every worker
            os.environ["MLP_COURSE_ISOLATION"] = args.isolation
        return _run(args)
    except course.GradingError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def _isolation_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--isolation", choices=("auto", "require", "off"),
        help="run each grading kernel inside the OS boundary (bubblewrap): 'auto' where this machine "
             "has it, saying so where not; 'require': an error where it cannot be had; 'off' "
             "(default: MLP_COURSE_ISOLATION, else auto)")


def _isolation_line() -> str | None:
    """Check the isolation grading will run with; the line to print when it runs without."""
    from grader.nbgrader_ext import boundary

    try:
        return boundary.check(os.environ.get("MLP_COURSE_ISOLATION", "auto"))
    except (boundary.IsolationUnavailable, ValueError) as error:
        raise course.GradingError(str(error)) from None


def _run(args: argparse.Namespace) -> int:
    from grader import pipeline

    if args.command == "release":
        from grader import time_limits

        for path in pipeline.release():
            print(f"released {path.relative_to(course.ROOT)}")
        for assignment in time_limits.calibrate(every=args.calibrate):
            print(f"measured the time limits of {assignment}'s cells on its solution "
                  f"({time_limits.FILE})")
    elif args.command == "score":
        from grader.score import format_text, score

        _isolation_line()   # a clear error before grading where it is required and cannot be had
        result = score(args.path, args.assignment)
        print(json.dumps(result, indent=2) if args.json else format_text(result))
    elif args.command == "autograde":
        from grader import batch

        line = _isolation_line()
        if line:
            print(line, file=sys.stderr)
        rows = batch.autograde(jobs=args.jobs, scheduler=args.scheduler, student=args.student,
                               assignment=args.assignment, force=args.force)
        print(batch.format_report(rows))
        print(f"\nwritten to {batch.REPORT_CSV}")
        from grader.insights import report as insights

        insights.write()   # the class's insights, as `grader insights` writes them
        print(f"insights: {insights.default_out().relative_to(course.ROOT) / 'index.html'}")
        return 1 if any(r.status not in ("graded", "unchanged") for r in rows) else 0
    elif args.command == "feedback":
        failures = pipeline.feedback(student=args.student, assignment=args.assignment,
                                     jobs=args.jobs or os.cpu_count() or 1)
        for failure in failures:
            print(f"could not {args.command} {failure}", file=sys.stderr)
        return 1 if failures else 0
    elif args.command == "mutants":
        from grader.proving import mutants

        notebook, assignment = mutants.resolve(args.assignment)
        in_course = assignment in course.assignments() and notebook.is_relative_to(course.ROOT / "solutions")
        report = mutants.run(notebook, assignment, args.function, args.limit, args.seed, max(1, args.jobs),
                             args.timeout, args.end_to_end if in_course else 0)
        print(json.dumps(report.as_dict(), indent=2) if args.json else mutants.format_text(report))
        survivors = report.counts(report.results)["survived"]
        return 1 if args.fail_on_survivors and survivors else 0
    elif args.command == "insights":
        from pathlib import Path

        from grader.insights import report as insights

        out = Path(args.out).resolve() if args.out else insights.default_out()
        print(insights.summary_text(insights.write(assignment=args.assignment, out=out), out))
    elif args.command == "grades":
        header, rows = pipeline.grades()
        print(pipeline.format_table(header, rows))
        print(f"\nwritten to {pipeline.GRADES_CSV}")
    elif args.command == "examples":
        from grader.examples import make_example_class

        for path in make_example_class():
            print(f"wrote {path.relative_to(course.ROOT)}")
    elif args.command == "clean":
        pipeline.clean()
    return 0
