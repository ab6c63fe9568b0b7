"""Student code written independently of the course's tests (graded by ``grader.proving.corpus``).

Two corpora, each written from a release notebook and COURSE.md alone (never the tests, checks,
solutions or variants), with labels checked by their authors against torch's own functions:

- ``torch_scratch.py`` (03): 12 whole correct solutions, 86 one-function bugs, 13 debatable cases
  (``AMBIGUOUS``, each saying why);
- ``torch_nn.py`` (04): 15 whole correct solutions, 70 bugs (a checkpoint bug brings its pair).

Each entry is ``{"name", "kind": "correct" | "bug", "functions": {name: source}, "description"}``.
``python -m grader.proving.corpus tests/corpora/independent/torch_scratch.py`` grades every entry through the notebook's real test cells
(the solution with the entry's functions in place, in process, one subprocess per entry) and
prints the verdicts: a correct entry must pass every test, a bug must fail one. It takes about
20 s per entry on 2 cores, so it is a tool to run when the tests change, not part of ``make test``;
``grader/proving/cases`` holds the findings as variants that ``make test`` does run.
"""
