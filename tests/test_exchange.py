"""nbgrader's exchange end to end, with the course's parallel autograde in the middle: the
instructor releases, two students fetch and submit (one with a bug), the instructor collects,
grades with two jobs, writes and releases feedback, and each student fetches their own
feedback page and nobody else's."""

import html
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from grader import batch, course, pipeline
from grader.proving.cases import all_cases
from grader.proving.variants import make_submission

pytestmark = pytest.mark.slow
ROOT = course.ROOT
ASSIGNMENT, NOTEBOOK = "01_perceptron", "perceptron"
COURSE_ID = "mlp-from-scratch"


def _student(name, home, exchange, *args):
    """Run an nbgrader command as student ``name`` (own home, own user name)."""
    env = dict(os.environ, HOME=str(home), USER=name, LOGNAME=name,
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    done = subprocess.run([str(Path(sys.executable).parent / "nbgrader"), *args, f"--course={COURSE_ID}",
                           f"--Exchange.root={exchange}"], cwd=home, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return done


def _text(page):
    return html.unescape(re.sub(r"<[^>]+>", "", page.read_text()))


def test_release_submit_collect_grade_and_feedback_through_the_exchange(tmp_path, monkeypatch):
    root, exchange = tmp_path / "course", tmp_path / "exchange"
    for folder in (f"solutions/{ASSIGNMENT}", f"notebooks/{ASSIGNMENT}"):
        shutil.copytree(ROOT / folder, root / folder)
    exchange.mkdir()
    exchange.chmod(0o777)

    def instructor():
        cfg = course.config(root)
        cfg.Exchange.root = str(exchange)
        return course.api(cfg)

    assert instructor().release_assignment(ASSIGNMENT)["success"]

    case = next(c for c in all_cases() if c.ASSIGNMENT == ASSIGNMENT)
    solution = nbformat.read(ROOT / "solutions" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", as_version=4)
    bug = next(v for v in case.VARIANTS if v.is_bug)
    for name, variants in (("ann", []), ("ben", [bug])):
        home = tmp_path / name
        home.mkdir()
        _student(name, home, exchange, "fetch_assignment", ASSIGNMENT)
        fetched = home / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
        nbformat.write(make_submission(nbformat.read(fetched, as_version=4), solution, variants), fetched)
        _student(name, home, exchange, "submit", ASSIGNMENT, f"--student={name}")

    collected = instructor().collect(ASSIGNMENT)
    assert collected["success"], collected
    rows = {r.student: r for r in batch.autograde(root=root, jobs=2, progress=False)}
    assert set(rows) == {"ann", "ben"} and rows["ann"].points == rows["ann"].max_points > rows["ben"].points
    assert pipeline.feedback(root=root) == []
    assert instructor().release_feedback(ASSIGNMENT)["success"]

    for name in ("ann", "ben"):
        _student(name, tmp_path / name, exchange, "fetch_feedback", ASSIGNMENT, f"--student={name}")
        pages = list((tmp_path / name / ASSIGNMENT / "feedback").rglob(f"{NOTEBOOK}.html"))
        assert len(pages) == 1, f"{name} got {pages}"
        text = pages[0].read_text()
        points = rows[name].points
        assert f"{points:g}" in text
    ann_page, ben_page = (_text(next((tmp_path / name / ASSIGNMENT / "feedback").rglob(f"{NOTEBOOK}.html")))
                          for name in ("ann", "ben"))
    # Ben's page names his mistake; Ann's (full marks) names none: each got their own.
    assert "Likely mistake:" in ben_page and bug.hint in ben_page and "Likely mistake:" not in ann_page
