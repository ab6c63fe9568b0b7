"""Proving the tests: the course's evidence that they catch bugs and accept correct variations.

- ``variants``            student notebooks made from the solutions, one function replaced;
- ``cases/``              each assignment's variants: bugs its tests must catch, correct
                          alternatives they must accept;
- ``inprocess``           run a notebook's cells in this process (fast, for many variants);
- ``mutants``, ``mutation_operators``, ``equivalent_mutants.toml``: ``grader mutants``;
- ``corpus``              grade a corpus of independently written student code
                          (``tests/corpora/independent/``) through the notebook's tests.
"""
