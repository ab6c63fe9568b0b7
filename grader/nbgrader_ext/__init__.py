"""What nbgrader runs for the course, named in ``nbgrader_config.py``.

- ``preprocessors``  grading that survives crashes, hangs and tampering; feedback without
                     hidden tests (nbgrader's configurable preprocessor lists).
- ``sandbox``        where a grading kernel runs: its own workspace, limits, user.
- ``guard``          runs inside the kernel: puts back what answer cells changed before a test.
- ``feedback``       the summary that opens a feedback page; ``templates/`` its page.
"""
