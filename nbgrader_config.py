"""nbgrader's configuration for the course (read by `nbgrader ...` and `python -m grader ...`).

Paths are relative to this folder, the course root:
  solutions/<assignment>/   nbgrader's *source*: solutions, visible and hidden tests
  notebooks/<assignment>/   nbgrader's *release*: what students open (generated, committed)
  grader/submitted/         students' hand-ins, nbgrader's layout <student>/<assignment>/
  grader/autograded/, grader/feedback/, grader/gradebook.db   made by grading, not committed
"""

c = get_config()  # noqa: F821 -- provided by traitlets when it loads this file

c.CourseDirectory.course_id = "mlp-from-scratch"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "notebooks"
c.CourseDirectory.submitted_directory = "grader/submitted"
c.CourseDirectory.autograded_directory = "grader/autograded"
c.CourseDirectory.feedback_directory = "grader/feedback"
c.CourseDirectory.db_url = "sqlite:///grader/gradebook.db"

# The assignments are the folders of solutions/, in name order (01_..., 02_...);
# `python -m grader release` registers each in the gradebook as it generates it.

# A cell that runs longer than this is interrupted and counts as failed; grading goes on.
# Generous enough for the bounded training runs inside the notebooks' tests.
c.Execute.timeout = 90

# Feedback must never give hidden tests away: nbgrader's shows them, so the course's
# HideHiddenTests removes them (and cuts tracebacks, which quote test code, to their message).
from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor  # noqa: E402
from nbgrader.preprocessors import GetGrades  # noqa: E402

from grader.preprocessors import HideHiddenTests  # noqa: E402

c.GenerateFeedback.preprocessors = [GetGrades, HideHiddenTests, CSSHTMLHeaderPreprocessor]
