"""Grade a corpus of student code written independently of the tests, through the notebook's tests.

    python -m grader.proving.corpus tests/corpora/independent/torch_scratch.py [entry names]

A corpus is a Python file with ``ASSIGNMENT`` (e.g. ``"03_torch_scratch"``), ``ENTRIES`` and,
optionally, ``AMBIGUOUS``: each entry is ``{"name", "kind": "correct" | "bug", "functions":
{name: source}, "description"}``. Every entry is graded in its own subprocess through the real
test cells (the solution with the entry's functions in place, in process) and gets one verdict
line: a correct entry must pass every test, a bug must fail one, an ambiguous one may do either.
The course's corpora live in ``tests/corpora/independent/``; an instructor who changes a test
runs them again (about 20 s per entry on 2 cores).
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

from grader.course import ROOT, notebook_names


def load(path: str | Path):
    """The corpus module at ``path`` (a file, relative to the course root or absolute)."""
    path = (ROOT / path).resolve()
    spec = importlib.util.spec_from_file_location(f"corpus_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def entries(corpus) -> list[dict]:
    return corpus.ENTRIES + [dict(e, kind="ambiguous") for e in getattr(corpus, "AMBIGUOUS", [])]


def grade_one(path: str | Path, name: str) -> dict:
    """The failed tests of entry ``name``, graded in this process: ``{grade_id: message}``."""
    import torch

    from grader.proving.inprocess import read, run_cells
    from grader.proving.variants import Variant, apply_variants

    torch.set_num_threads(1)
    corpus = load(path)
    entry = next(e for e in entries(corpus) if e["name"] == name)
    assignment = corpus.ASSIGNMENT
    notebook = notebook_names(assignment)[0]
    nb = apply_variants(read(ROOT / "solutions" / assignment / f"{notebook}.ipynb"),
                        [Variant(target, source, entry["description"])
                         for target, source in entry["functions"].items()])
    return {gid: o.message for gid, o in run_cells(nb).items() if not o.passed}


def main(argv: list[str]) -> int:
    if argv[:1] == ["--one"]:
        print("RESULT" + json.dumps(grade_one(argv[1], argv[2])))
        return 0
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0 if argv else 2
    path, names = argv[0], argv[1:]
    wrong = 0
    for entry in entries(load(path)):
        if names and entry["name"] not in names:
            continue
        run = subprocess.run([sys.executable, "-m", "grader.proving.corpus", "--one", path, entry["name"]],
                             capture_output=True, text=True, cwd=ROOT, timeout=900,
                             env={**os.environ, "OMP_NUM_THREADS": "1", "MLP_COURSE_DEVICE": "cpu"})
        line = next((l[6:] for l in run.stdout.splitlines() if l.startswith("RESULT")), None)
        failed = json.loads(line) if line else {"(crashed)": run.stderr[-500:]}
        right = (not failed) if entry["kind"] == "correct" else bool(failed) or entry["kind"] == "ambiguous"
        wrong += not right
        verdict = "ok " if right else "WRONG"
        summary = " | ".join(m.splitlines()[0][:120] for m in failed.values()) or "full marks"
        print(f"{verdict} {entry['kind']:<9} {entry['name']:<34} {summary}", flush=True)
    print(f"{wrong} verdict(s) against the corpus's labels")
    return 1 if wrong else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
