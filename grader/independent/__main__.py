"""Grade an independent corpus through the notebook's tests: ``python -m grader.independent 03``
(or ``04``; names after it grade only those entries). See ``grader/independent/__init__.py``."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys

from grader.course import ROOT

CORPORA = {"03": ("03_torch_scratch", "torch_scratch"), "04": ("04_torch_nn", "torch_nn")}


def entries(which: str) -> list[dict]:
    corpus = importlib.import_module(f"grader.independent.{CORPORA[which][1]}")
    return corpus.ENTRIES + [dict(e, kind="ambiguous") for e in getattr(corpus, "AMBIGUOUS", [])]


def grade_one(which: str, name: str) -> dict:
    """The failed tests of entry ``name``, graded in this process: ``{grade_id: message}``."""
    import torch

    from grader.inprocess import read, run_cells
    from grader.variants import Variant, apply_variants

    torch.set_num_threads(1)
    entry = next(e for e in entries(which) if e["name"] == name)
    assignment, notebook = CORPORA[which]
    nb = apply_variants(read(ROOT / "solutions" / assignment / f"{notebook}.ipynb"),
                        [Variant(target, source, entry["description"])
                         for target, source in entry["functions"].items()])
    return {gid: o.message for gid, o in run_cells(nb).items() if not o.passed}


def main(argv: list[str]) -> int:
    if argv[:1] == ["--one"]:
        print("RESULT" + json.dumps(grade_one(argv[1], argv[2])))
        return 0
    which, names = argv[0], argv[1:]
    wrong = 0
    for entry in entries(which):
        if names and entry["name"] not in names:
            continue
        run = subprocess.run([sys.executable, "-m", "grader.independent", "--one", which, entry["name"]],
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
