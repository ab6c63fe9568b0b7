"""Google Colab: where the course lives, and what a notebook opened there needs.

A notebook opened on Colab from GitHub arrives alone, without ``utils/`` and ``data/``. So every
notebook starts with the same short cell, :data:`SETUP_CELL`: on Colab it makes a shallow
clone of the repository the notebook was opened from, puts the clone on ``sys.path`` and calls
:func:`setup`, which installs what Colab lacks and says where the files came from. Anywhere
else (a laptop, a JupyterHub, the grader) the cell does nothing and prints nothing. The working
directory stays Colab's ``/content``: nothing in the notebooks depends on it, and ``utils.data``
finds ``data/`` next to the ``utils`` package.

Which repository: Colab's address for a notebook opened from GitHub holds it
(``colab.research.google.com/github/OWNER/REPO/blob/BRANCH/notebooks/...``; the cell reads it
with ``google.colab.output.eval_js``), so a teacher's fork, on any branch, clones itself. A
notebook opened another way (uploaded, or a copy in Drive) has no such address, and the cell
falls back to :data:`COURSE_URL` and :data:`BRANCH`.

:data:`COURSE_URL` is the one place that says where the course lives. The setup cells of the
notebooks and README's "Open in Colab" badges are made from it, and ``tests/test_colab.py``
checks that they still match it. After changing it, ``python -m utils.colab`` prints the new
setup cell (paste it into each notebook of ``solutions/``, then ``make release examples``)
and the new badges for README.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

__all__ = ["COURSE_URL", "BRANCH", "CLONE_DIR", "COLAB_PACKAGES", "NOTEBOOK_FOLDERS", "SETUP_CELL",
           "setup", "colab_url", "colab_badge"]

# PLACEHOLDER until the course is published: the public GitHub repository of the course.
COURSE_URL = "https://github.com/mlp-course/mlp-from-scratch"
BRANCH = "main"

# The folder the setup cell clones into, in Colab's working directory (/content).
CLONE_DIR = "mlp-course"

# What the notebooks import that Colab does not ship, pinned as in requirements.txt. (Colab has
# torch, torchvision, numpy, matplotlib, tqdm, scikit-learn and Graphviz's `dot` program.)
COLAB_PACKAGES = ("torchviz==0.0.3",)

# Where the notebooks lie in the repository. In Colab's address of a notebook opened from GitHub
# the branch comes right before one of them (a branch's name may hold slashes).
NOTEBOOK_FOLDERS = ("notebooks", "solutions")

SETUP_CELL = f"""\
# On Google Colab only: fetch the course's utils/ and data/ and install what Colab lacks.
# Anywhere else (your computer, a JupyterHub, the grader) this cell does nothing.
try:
    import google.colab  # importable only on Colab
except ImportError:
    pass
else:
    import os, re, subprocess, sys
    # Clone the repository and branch this notebook was opened from (a fork's too), else the course's.
    try:
        from google.colab.output import eval_js
        page = str(eval_js("window.location.href"))
    except Exception:  # no page to ask
        page = ""
    found = re.search(r"/github/([^/]+/[^/]+)/blob/(.+)/(?:{'|'.join(NOTEBOOK_FOLDERS)})/[^/]+/[^/]+[.]ipynb", page)
    url = f"https://github.com/{{found[1]}}" if found else "{COURSE_URL}"
    branch = found[2] if found else "{BRANCH}"
    if not os.path.isdir("{CLONE_DIR}"):
        subprocess.run(["git", "clone", "--quiet", "--depth", "1", "--branch", branch,
                        url, "{CLONE_DIR}"], check=True)
    sys.path.insert(0, os.path.abspath("{CLONE_DIR}"))
    from utils.colab import setup
    setup(url, branch, opened_from_github=bool(found))"""


def setup(url: str | None = None, branch: str | None = None, opened_from_github: bool = False) -> None:
    """Install what Colab lacks and say where the course's files are and where they came from.

    Called by the notebooks' setup cell after it has cloned ``url`` at ``branch``, on Colab only;
    ``opened_from_github`` says whether the cell read them from the page's address (else they are
    :data:`COURSE_URL` and :data:`BRANCH`). An older setup cell (in a copy kept in Drive) passes
    nothing. Running the cell again is quick: pip finds the packages installed and does nothing.
    """
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", *COLAB_PACKAGES], check=True)
    course = Path(__file__).resolve().parents[1]
    print(f"Colab: the course's utils/ and data/ are in {course}; installed {', '.join(COLAB_PACKAGES)}.")
    if url is None:
        return
    if opened_from_github:
        print(f"Cloned from {url} (branch {branch}), the repository this notebook was opened from.")
    else:
        print(f"Cloned from the course's repository, {url} (branch {branch}): this notebook was not "
              "opened from GitHub (uploaded, or a copy in Drive), so its own repository is unknown.")


def colab_url(notebook: str) -> str:
    """Colab's address for a notebook of the course, e.g. ``notebooks/01_perceptron/perceptron.ipynb``."""
    repository = COURSE_URL.removeprefix("https://github.com/").rstrip("/")
    return f"https://colab.research.google.com/github/{repository}/blob/{BRANCH}/{notebook}"


def colab_badge(notebook: str) -> str:
    """The Markdown "Open in Colab" badge for a notebook of the course, linking to :func:`colab_url`."""
    return (f"[![Open in Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
            f"({colab_url(notebook)})")


def _main() -> None:
    root = Path(__file__).resolve().parents[1]
    print("# The setup cell, the first code cell of every notebook in solutions/:\n")
    print(SETUP_CELL)
    print("\n# README's badges:\n")
    for notebook in sorted(root.glob("notebooks/*/*.ipynb")):
        print(colab_badge(notebook.relative_to(root).as_posix()))


if __name__ == "__main__":
    _main()
