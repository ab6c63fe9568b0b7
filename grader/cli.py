"""``python -m grader``: the instructor's command line (see ``--help`` of each command)."""

from __future__ import annotations

import argparse
import json
import sys
import warnings

from grader import course


def main(argv: list[str] | None = None) -> int:
    # nbgrader's own SQLAlchemy usage warns on every grading; it is not the user's business.
    warnings.filterwarnings("ignore", module="nbgrader")
    parser = argparse.ArgumentParser(prog="python -m grader", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    commands.add_parser("release", help="regenerate notebooks/ from solutions/")

    score = commands.add_parser(
        "score", help="grade one notebook as autograde would, leaving the course untouched")
    score.add_argument("path", help="the notebook to grade")
    score.add_argument("--assignment", help="assignment id (default: from the notebook's name)")
    score.add_argument("--json", action="store_true", help="print one JSON object")

    for name, text in [("autograde", "autograde every submission in grader/submitted/"),
                       ("feedback", "write HTML feedback for every autograded submission")]:
        sub = commands.add_parser(name, help=text)
        sub.add_argument("--student")
        sub.add_argument("--assignment")

    commands.add_parser("grades", help="print every student's points and write grader/grades.csv")
    commands.add_parser("examples", help="rebuild the example class in grader/submitted/")
    commands.add_parser("clean", help="remove autograded copies, feedback, gradebook and CSV")

    args = parser.parse_args(argv)
    try:
        return _run(args)
    except course.GradingError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    from grader import pipeline

    if args.command == "release":
        for path in pipeline.release():
            print(f"released {path.relative_to(course.ROOT)}")
    elif args.command == "score":
        from grader.score import format_text, score

        result = score(args.path, args.assignment)
        print(json.dumps(result, indent=2) if args.json else format_text(result))
    elif args.command in ("autograde", "feedback"):
        job = getattr(pipeline, args.command)
        failures = job(student=args.student, assignment=args.assignment)
        for failure in failures:
            print(f"could not {args.command} {failure}", file=sys.stderr)
        return 1 if failures else 0
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
