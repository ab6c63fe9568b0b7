"""The solution notebooks' own code, for the benchmarks: cells executed by their nbgrader
``grade_id``, so that a benchmark measures exactly what the course teaches (nothing copied)."""

from __future__ import annotations

from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]


def solution_namespace(assignment: str, notebook: str, cells: tuple[str, ...]) -> dict:
    """Run the code cells ``cells`` (grade_ids, in this order) of ``solutions/assignment/notebook``
    in a fresh namespace and return it."""
    path = ROOT / "solutions" / assignment / f"{notebook}.ipynb"
    nb = nbformat.read(path, as_version=4)
    by_id = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in nb.cells if c.cell_type == "code"}
    missing = [gid for gid in cells if gid not in by_id]
    if missing:
        raise SystemExit(f"{path} has no code cells with grade_id {missing}")
    namespace: dict = {"__name__": f"{notebook}_solution"}
    for gid in cells:
        exec(compile(by_id[gid].source, f"<{path.name}:{gid}>", "exec"), namespace)
    return namespace
