"""The instructor's pipeline on top of nbgrader: ``python -m grader --help``.

Top level, what an instructor runs:

- ``grader.cli``       the command line (``python -m grader``).
- ``grader.course``    where the course lives, its hand-ins; nbgrader configured for it.
- ``grader.cells``     what a notebook cell is to the course (solution, test, demo).
- ``grader.score``     grade one notebook exactly as autograde would, in a scratch course.
- ``grader.pipeline``  release, autograde, feedback and grades over ``grader/submitted/``.
- ``grader.batch``     grade a whole class in parallel (local processes or a Dask cluster).
- ``grader.examples``  the example class under ``grader/submitted/``.
- ``grader.figures``   README's pictures, drawn by the notebooks' own cells.

Subpackages, by concern:

- ``grader.nbgrader_ext``  what nbgrader runs: the course's preprocessors, the kernel's
                           sandbox and guard, the feedback summary and its template.
- ``grader.insights``      the class report after autograde: what the class got wrong,
                           where the tests' messages land, hand-ins that look alike.
- ``grader.proving``       proving the tests: variants, their cases, mutants and mutation
                           operators, the in-process runner, the corpus runner.
"""

import sys

# jsonschema checks the "iri" format with rfc3987-syntax wherever that is installed (JupyterLab's
# jupyter-events asks for it), and that package builds its grammar when imported: 1.6 s of every
# grader process (each `grader score`, each batch worker), more than nbgrader's own imports. No
# schema the grader validates (nbformat's, nbgrader's) uses that format, so jsonschema goes
# without it here, as where the package is not installed.
sys.modules.setdefault("rfc3987_syntax", None)
