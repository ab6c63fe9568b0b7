"""The instructor's pipeline on top of nbgrader: ``python -m grader --help``.

- ``grader.course``    where the course lives; nbgrader configured for it.
- ``grader.score``     grade one notebook exactly as autograde would, in a scratch course.
- ``grader.pipeline``  release, autograde, feedback and grades over ``grader/submitted/``.
- ``grader.variants``  student notebooks made from the solutions (one function replaced),
                       which prove that the tests catch bugs and accept correct variations.
- ``grader.examples``  the example class under ``grader/submitted/``.
"""
