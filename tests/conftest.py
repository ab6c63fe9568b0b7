import os
import shutil
import tempfile
from pathlib import Path

import pytest

# Plots render off-screen and nothing in the suite may reach the network or a GPU by chance.
os.environ.setdefault("MPLBACKEND", "Agg")

# Two xdist workers on two cores: one BLAS thread each, or they slow each other down manyfold
# (measured: a 3 s training cell took 103 s). Kernels started by nbgrader inherit this too.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")


@pytest.fixture(scope="session")
def graded_course_copy():
    """A temporary copy of the course in which the instructor's steps ran with the course's own
    command line: release, the example class, autograde of every hand-in (which writes the
    insights report) and everyone's feedback (two pages at a time). ``(root, what autograde printed)``.

    Made once per test run and shared by the tests that read a graded class (one xdist group,
    "graded_course", so one worker grades it): the browser tests and the pipeline's test."""
    from tests.browser import copy_course, run_grader

    folder = Path(tempfile.mkdtemp(prefix="course-graded-"))
    try:
        root = copy_course(folder / "course")
        run_grader(root, "release")
        run_grader(root, "examples")  # the copy's example class, as grader/examples.py makes it now
        printed = run_grader(root, "autograde")   # exits 1 when a hand-in could not be graded
        run_grader(root, "feedback", "--jobs", "2")   # 2 workers; exits 1 when a page could not be written
        yield root, printed
    finally:
        shutil.rmtree(folder, ignore_errors=True)
