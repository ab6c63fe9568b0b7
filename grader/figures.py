"""README's pictures, one per notebook, drawn by the notebooks' own cells.

    python -m grader.figures [--out notebooks/images]

Each picture is what one cell of a solution notebook shows. It is made by running just the
cells that this one needs (named by grade_id), in this process, as a kernel would, with
matplotlib drawing off-screen. All four take a few seconds together: no long training.
The computation graph of notebook 4 needs Graphviz's ``dot`` program; without it that picture
is skipped with a line saying so, and the others are still made.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import io
from dataclasses import dataclass
from pathlib import Path

import nbformat

from grader import course
from grader.cells import grade_id

DEFAULT_OUT = course.ROOT / "notebooks" / "images"
DPI = 72  # small files: they are thumbnails in README


@dataclass(frozen=True)
class Picture:
    file: str           # PNG name in the output folder
    notebook: str       # under solutions/
    cells: tuple        # grade_ids of the cells to run, in order; the last one draws the picture


PICTURES = (
    Picture("01_perceptron.png", "01_perceptron/perceptron.ipynb",
            ("setup", "step", "perceptron", "train_perceptron", "accuracy", "blobs_demo")),
    Picture("02_numpy_mlp.png", "02_numpy_mlp/numpy_mlp.ipynb",
            ("imports", "relu", "init_params", "forward", "mse_l2_loss", "backward", "regression_demo")),
    Picture("03_torch_scratch.png", "03_torch_scratch/torch_scratch.ipynb", ("imports", "data")),
    Picture("04_torch_nn.png", "04_torch_nn/torch_nn.ipynb", ("imports", "MLP", "mlp_print", "graph")),
)


def run_cell(source: str, namespace: dict, name: str):
    """Run a cell's code in ``namespace``; return the value of its last line if that is an
    expression (what Jupyter would display), else None."""
    tree = ast.parse(source, filename=name)
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    exec(compile(tree, name, "exec"), namespace)
    if last is None:
        return None
    return eval(compile(ast.Expression(last.value), name, "eval"), namespace)


def draw(picture: Picture, out: Path) -> str | None:
    """Make one picture in ``out``; return why it was skipped, or None when it was made."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    nb = nbformat.read(course.ROOT / "solutions" / picture.notebook, as_version=4)
    sources = {grade_id(c): c.source for c in nb.cells if c.cell_type == "code"}
    namespace: dict = {"__name__": "__main__"}
    plt.close("all")
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # the cells' own printing is not wanted here
            for gid in picture.cells:
                shown = run_cell(sources[gid], namespace, f"<{picture.notebook}: {gid}>")
        if hasattr(shown, "pipe"):  # a graphviz graph: the computation graph
            shown.graph_attr.update(dpi=str(DPI))
            (out / picture.file).write_bytes(shown.pipe(format="png"))
        elif plt.get_fignums():
            plt.gcf().savefig(out / picture.file, dpi=DPI, bbox_inches="tight")
        elif picture.cells[-1] == "graph":
            return "Graphviz's `dot` program is not installed"
        else:
            raise RuntimeError(f"cell {picture.cells[-1]} of {picture.notebook} drew nothing")
    finally:
        plt.close("all")
    return None


def make_pictures(out: Path = DEFAULT_OUT) -> list[str]:
    """Make every picture in ``out`` (created if needed); return one line per picture."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    lines = []
    for picture in PICTURES:
        skipped = draw(picture, out)
        lines.append(f"{picture.file}: skipped ({skipped})" if skipped else f"{out / picture.file}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader.figures", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder for the PNGs (default: %(default)s)")
    args = parser.parse_args(argv)
    for line in make_pictures(args.out):
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
