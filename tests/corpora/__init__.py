"""Corpora only the test suite reads: hostile hand-ins (``hostile``) and student code written
independently of the tests (``independent/``, graded by ``python -m grader.proving.corpus``)."""
