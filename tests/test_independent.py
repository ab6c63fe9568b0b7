"""grader/independent: the independently written corpora are well formed (the runner that
grades them is a tool, run when the tests change; their findings are variants in grader/cases)."""

import pytest

from grader.independent.__main__ import CORPORA, entries
from grader.variants import defines


@pytest.mark.parametrize("which", sorted(CORPORA))
def test_every_entry_defines_what_it_replaces_and_is_labelled(which):
    found = entries(which)
    assert len({e["name"] for e in found}) == len(found), "entry names are unique"
    kinds = [e["kind"] for e in found]
    assert kinds.count("correct") >= 10 and kinds.count("bug") >= 25
    for entry in found:
        assert entry["kind"] in ("correct", "bug", "ambiguous") and entry["description"]
        for name, source in entry["functions"].items():
            assert defines(source, name), f"{entry['name']}: its source does not define {name}"
