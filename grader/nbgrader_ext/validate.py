"""Validation as grading does it: what nbgrader's Validate button and ``nbgrader validate`` run.

nbgrader's ``Validator`` runs a notebook with nbgrader's own ``Execute``: every cell, the
ungraded demonstrations too (04's full training runs, the optimizer and architecture sweeps, the
baselines), under nbgrader's 30 s cell limit wherever the course's ``nbgrader_config.py`` is not
read (a student's server on a JupyterHub). On a busy laptop a demo cell runs past it and a correct
notebook "FAILS" validation. Grading skips those cells and has its own limits.

:data:`PREPROCESSORS` is nbgrader's own list for the ``Validator`` with the course's
:class:`~grader.nbgrader_ext.preprocessors.RobustExecute` in the place of ``Execute``: cells tagged
``demo`` are skipped (never a test or an answer cell), a cell is interrupted after
``Execute.timeout`` seconds and the notebook stops after ``RobustExecute.notebook_timeout``, and the
kernel is set up as for grading; the course's ``CheckCellMetadata`` (nbgrader's checks, its
schema compiled once) takes the place of nbgrader's. (A student's notebook holds only the visible
tests: the hidden ones run at grading.)

nbgrader declares ``Validator.preprocessors`` without marking it configurable, unlike the lists
of its converters (``Autograde.autograde_preprocessors``...); importing this module marks it, so
that an ``nbgrader_config.py`` can say::

    from grader.nbgrader_ext.validate import PREPROCESSORS
    c.Validator.preprocessors = PREPROCESSORS

The course's ``nbgrader_config.py`` does; README's JupyterHub section gives a hub's students'
servers the same lines.
"""

from __future__ import annotations

import warnings

from nbgrader import preprocessors as nbgrader_preprocessors
from nbgrader.validator import Validator

from grader.nbgrader_ext.preprocessors import CheckCellMetadata, RobustExecute

_VALIDATOR_PREPROCESSORS = Validator.class_traits()["preprocessors"]

# nbgrader's list (CheckCellMetadata, ClearOutput, Execute), with grading's execution and its
# metadata check (nbgrader's, the schema compiled once) in it.
_COURSE_STEPS = {nbgrader_preprocessors.Execute: RobustExecute,
                 nbgrader_preprocessors.CheckCellMetadata: CheckCellMetadata}
PREPROCESSORS = [_COURSE_STEPS.get(step, step) for step in _VALIDATOR_PREPROCESSORS.default()]
if RobustExecute not in PREPROCESSORS:
    # A later nbgrader that no longer runs its Execute. Say so, but do not raise: nbgrader would
    # then skip the whole nbgrader_config.py that imports this, grading settings included.
    warnings.warn(f"nbgrader's Validator runs {PREPROCESSORS}, without its Execute: validation runs as "
                  "nbgrader's own (grader/nbgrader_ext/validate.py needs updating)", stacklevel=1)

_VALIDATOR_PREPROCESSORS.tag(config=True)
