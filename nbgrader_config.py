"""nbgrader's configuration for the course (read by `nbgrader ...` and `python -m grader ...`).

Paths are relative to this folder, the course root:
  solutions/<assignment>/   nbgrader's *source*: solutions, visible and hidden tests
  notebooks/<assignment>/   nbgrader's *release*: what students open (generated, committed)
  grader/submitted/         students' hand-ins, nbgrader's layout <student>/<assignment>/
  grader/autograded/, grader/feedback/, grader/gradebook.db   made by grading, not committed

The assignments are the folders of solutions/, in name order (01_..., 02_...); generating an
assignment (`python -m grader release`, or autograde) registers it in the gradebook.
"""

import os
from pathlib import Path

from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import (
    AssignLatePenalties, ClearOutput, DeduplicateIds, GetGrades, IgnorePattern, OverwriteKernelspec,
    SaveAutoGrades)

from grader.nbgrader_ext.feedback import TEMPLATE as FEEDBACK_TEMPLATE, FeedbackExporter, FeedbackSummary
from grader.nbgrader_ext.preprocessors import (
    CheckCellMetadata, HideHiddenTests, LimitOutputSize, RestoreCells, RobustExecute)
from grader.nbgrader_ext.validate import PREPROCESSORS as VALIDATE_PREPROCESSORS
from grader import time_limits

c = get_config()  # noqa: F821 -- provided by traitlets when it loads this file

c.CourseDirectory.course_id = "mlp-from-scratch"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "notebooks"
c.CourseDirectory.submitted_directory = "grader/submitted"
c.CourseDirectory.autograded_directory = "grader/autograded"
c.CourseDirectory.feedback_directory = "grader/feedback"
# The gradebook: SQLite in the course folder, or any database nbgrader supports for a large
# class, e.g. MLP_COURSE_DB_URL=postgresql+psycopg2://grader@dbhost/gradebook (README, instructors).
c.CourseDirectory.db_url = os.environ.get("MLP_COURSE_DB_URL", "sqlite:///grader/gradebook.db")

# A cell that runs longer than this many seconds is interrupted and counts as failed; grading
# goes on. Generous enough for the bounded training runs inside the notebooks' tests.
c.Execute.timeout = int(os.environ.get("MLP_COURSE_CELL_TIMEOUT", 90))
# ... and a whole notebook that runs longer than this stops there: the cells after the limit
# fail without running, the points earned before it are kept.
c.RobustExecute.notebook_timeout = int(os.environ.get("MLP_COURSE_NOTEBOOK_TIMEOUT", 600))
# A cell of the course's code (a test, the set-up, a cell between exercises) stops sooner: at 20 x
# its time on the course's solution + 30 s, as measured at release (grader/time_limits.json,
# grader/time_limits.py), so that a function that never returns costs about 30 s per cell that
# calls it, not 90. An answer, a cell changed since it was measured, and every cell of a
# validation get the cell limit above.
c.RobustExecute.solution_seconds = time_limits.load(Path(__file__).parent)
c.RobustExecute.time_limit_factor = float(os.environ.get("MLP_COURSE_TIME_LIMIT_FACTOR", 20))
c.RobustExecute.time_limit_margin = float(os.environ.get("MLP_COURSE_TIME_LIMIT_MARGIN", 30))
# Each grading kernel may use this much memory ("6G"; default a quarter of the machine, at least
# 4 GiB; "0": no limit): over it, allocations fail with MemoryError and the other submissions
# graded beside it are unaffected. See grader/THREATS.md for what else a kernel is kept from.
c.RobustExecute.kernel_memory = os.environ.get("MLP_COURSE_KERNEL_MEMORY", "")
# Each grading kernel runs inside an OS boundary (bubblewrap): it sees its workspace and the Python
# environment, nothing of the course, the grader or another kernel, and has no network. "auto": where
# the machine has it, else without it, saying so in every report; "require": an error where it
# cannot be had; "off". `--isolation` of `grader score`/`autograde` sets it (grader/THREATS.md).
c.RobustExecute.isolation = os.environ.get("MLP_COURSE_ISOLATION", "auto")
# The grading kernels' own start-up notices (e.g. about local TCP transport) are noise here.
c.Execute.extra_arguments = ["--IPKernelApp.log_level=ERROR"]

# Validation (`nbgrader validate`, the Validate button) runs a notebook as grading does: the cells
# tagged `demo` skipped, the time limits above. A hub's students' servers need these lines too
# (README, JupyterHub); grader/nbgrader_ext/validate.py says why.
c.Validator.preprocessors = VALIDATE_PREPROCESSORS

# Test cells are restored from the gradebook before grading (nbgrader's OverwriteCells); a test
# cell renamed to an unknown grade_id would make nbgrader reject the whole notebook, so
# RestoreCells turns it into an ordinary cell (the test it was scores 0, as if deleted).
c.Autograde.sanitize_preprocessors = [
    ClearOutput, DeduplicateIds, OverwriteKernelspec, RestoreCells, CheckCellMetadata]

# A crash costs only what it breaks: nbgrader drops a whole notebook whose kernel dies, so
# RobustExecute takes the place of nbgrader's Execute; LimitOutputSize extends nbgrader's
# LimitOutput to long lines. The course's CheckCellMetadata is nbgrader's, with the metadata's
# schema compiled once (the other steps are nbgrader's own).
c.Autograde.autograde_preprocessors = [
    RobustExecute, IgnorePattern, ClearMetadataPreprocessor, LimitOutputSize, SaveAutoGrades,
    AssignLatePenalties, CheckCellMetadata]

# Feedback must never give hidden tests away: nbgrader's shows them, so HideHiddenTests
# removes them (and cuts tracebacks, which quote test code, to their message). The page opens
# with a summary (points and status of each graded part, linked to it): FeedbackSummary reads
# it from the gradebook, and the course's template, which extends nbgrader's, shows it.
c.GenerateFeedback.preprocessors = [
    GetGrades, HideHiddenTests, CSSHTMLHeaderPreprocessor, FeedbackSummary]
c.GenerateFeedback.HTMLExporter.template_file = FEEDBACK_TEMPLATE  # nested: feedback pages only
# Formulas as MathML, made with the page: nbgrader's MathJax would come from a CDN, and a page
# opened offline would show raw LaTeX.
c.GenerateFeedback.exporter_class = FeedbackExporter
