"""tests/corpora/independent: the independently written corpora are well formed (the runner that
grades them, ``grader.proving.corpus``, is a tool run when the tests change; their findings are
variants in grader/proving/cases)."""

from pathlib import Path

import pytest

from grader.course import assignments
from grader.proving import corpus
from grader.proving.variants import defines

CORPORA = sorted(Path(__file__).with_name("corpora").joinpath("independent").glob("[!_]*.py"))


@pytest.mark.parametrize("path", CORPORA, ids=lambda p: p.stem)
def test_every_entry_defines_what_it_replaces_and_is_labelled(path):
    module = corpus.load(path)
    assert module.ASSIGNMENT in assignments()
    found = corpus.entries(module)
    assert len({e["name"] for e in found}) == len(found), "entry names are unique"
    kinds = [e["kind"] for e in found]
    assert kinds.count("correct") >= 10 and kinds.count("bug") >= 25
    for entry in found:
        assert entry["kind"] in ("correct", "bug", "ambiguous") and entry["description"]
        for name, source in entry["functions"].items():
            assert defines(source, name), f"{entry['name']}: its source does not define {name}"


def test_the_runner_grades_one_entry_in_its_own_process():
    """The runner's verdict line for one correct entry of 03 (the quickest: a few seconds)."""
    import subprocess, sys
    path = next(p for p in CORPORA if p.stem == "torch_scratch")
    name = next(e["name"] for e in corpus.entries(corpus.load(path)) if e["kind"] == "correct")
    run = subprocess.run([sys.executable, "-m", "grader.proving.corpus", str(path), name],
                         capture_output=True, text=True, timeout=600, cwd=corpus.ROOT)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.startswith("ok ") and "0 verdict(s)" in run.stdout
