"""Run a notebook's code cells in this Python process (see :mod:`grader.proving.inprocess`, where
this lives now, so that ``grader mutants`` can use it too)."""

from grader.cells import is_test
from grader.proving.inprocess import ROOT, Outcome, read, run_cells

__all__ = ["ROOT", "Outcome", "is_test", "read", "run_cells"]
