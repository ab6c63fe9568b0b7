"""The Colab setup cell that opens every notebook (utils.colab).

It is the same in every notebook and made from the course's one URL, as are README's "Open in
Colab" badges. On a (fake) Colab it clones the course, installs what Colab lacks, and the rest
of the notebook imports ``utils`` and finds the data in the clone; anywhere else it does nothing.

The Colab run is real apart from three stand-ins: ``google.colab`` is an empty package, git
fetches the course from a local repository instead of GitHub (git's ``url.<base>.insteadOf``
rewrites the address, so the cell runs exactly as committed), and ``pip`` is a stub that
records its arguments. It runs in a fresh ``python -I -S``, with the course's own (editable)
install out of sight, so ``import utils`` can only succeed through the clone.
"""

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import nbformat
import pytest

from utils import colab

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted((ROOT / "solutions").glob("*/*.ipynb"))
RELEASES = sorted((ROOT / "notebooks").glob("*/*.ipynb"))
REFRESH = "the cell is made from utils/colab.py: `python -m utils.colab` prints it"


def _code_cells(path):
    return [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]


# --------------------------------------------------------------------------------------
# One URL, one cell
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", SOURCES + RELEASES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_notebook_starts_with_the_setup_cell(path):
    first, second = _code_cells(path)[:2]
    assert first.source == colab.SETUP_CELL, f"{path.name}: the first code cell is not the setup cell; {REFRESH}"
    meta = first.metadata["nbgrader"]  # a release adds nbgrader's checksum
    assert {key: meta[key] for key in ("grade", "grade_id", "locked", "solution", "task")} == \
        {"grade": False, "grade_id": "colab_setup", "locked": True, "solution": False, "task": False}
    assert "from utils" in second.source, "the imports cell comes right after the setup cell"


def test_the_cell_clones_the_course_url_and_readme_badges_use_it_too():
    assert colab.COURSE_URL in colab.SETUP_CELL
    readme = (ROOT / "README.md").read_text()
    for path in RELEASES:
        notebook = path.relative_to(ROOT).as_posix()
        assert colab.colab_badge(notebook) in readme, f"README has no Colab badge for {notebook}"
    links = [part.split(")")[0] for part in readme.split("(https://colab.research.google.com/github/")[1:]]
    expected = {colab.colab_url(p.relative_to(ROOT).as_posix()) for p in RELEASES}
    assert {"https://colab.research.google.com/github/" + link for link in links} == expected, \
        "README links to Colab with another address than utils.colab.COURSE_URL"
    folder = colab.COURSE_URL.rsplit("/", 1)[1]
    assert f"git clone --depth 1 {colab.COURSE_URL} && cd {folder}" in readme, "README's set-up commands"


def test_what_colab_installs_is_pinned_as_in_requirements():
    requirements = (ROOT / "requirements.txt").read_text().split()
    for package in colab.COLAB_PACKAGES:
        assert package in requirements, f"{package} differs from requirements.txt"


# --------------------------------------------------------------------------------------
# Not on Colab: nothing
# --------------------------------------------------------------------------------------
def test_outside_colab_the_cell_does_nothing_and_prints_nothing(tmp_path, monkeypatch, capfd):
    with pytest.raises(ImportError):
        import google.colab  # noqa: F401 -- the premise: this is not Colab
    monkeypatch.chdir(tmp_path)

    def no_process(*args, **kwargs):
        raise AssertionError(f"the cell started a process outside Colab: {args}")

    monkeypatch.setattr(subprocess, "run", no_process)
    path_before, namespace = list(sys.path), {}
    exec(compile(colab.SETUP_CELL, "<colab_setup>", "exec"), namespace)
    assert capfd.readouterr() == ("", "")
    assert list(tmp_path.iterdir()) == [] and sys.path == path_before
    assert set(namespace) == {"__builtins__"}


# --------------------------------------------------------------------------------------
# On Colab: clone, install, and the notebook runs from the clone
# --------------------------------------------------------------------------------------
# Runs in `python -I -S`: no site-packages, so no .pth file puts the course on sys.path.
DRIVER = r'''
import json, os, sys
fake_colab, colab_home, cells_file, site_dirs = sys.argv[1:5]
sys.path.extend(json.loads(site_dirs))          # numpy, torch, ...: what Colab ships
import importlib.util
assert importlib.util.find_spec("utils") is None, "the course is importable before the clone"
sys.path.insert(0, fake_colab)                  # google/colab/__init__.py
os.chdir(colab_home)                            # Colab's /content

setup_cell, imports_cell = json.load(open(cells_file))
namespace = {"__name__": "__main__"}
exec(compile(setup_cell, "<colab_setup>", "exec"), namespace)
exec(compile(setup_cell, "<colab_setup, again>", "exec"), namespace)   # re-running is harmless
exec(compile(imports_cell, "<imports>", "exec"), namespace)

import utils, utils.data
images, labels = utils.data.load_mnist("test")
print(json.dumps({"utils": utils.__file__, "data_root": str(utils.data.data_root()),
                  "images": list(images.shape), "labels": int(labels.shape[0])}))
'''

FAKE_PIP = '''import json, os, sys
with open(os.environ["FAKE_PIP_LOG"], "a") as log:
    log.write(json.dumps(sys.argv[1:]) + "\\n")
'''


def _git(*args, cwd):
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def course_repo(tmp_path_factory):
    """A git repository with what the clone needs: utils/ and a little of data/ (MNIST's test split)."""
    repo = tmp_path_factory.mktemp("published") / "mlp-from-scratch"
    shutil.copytree(ROOT / "utils", repo / "utils", ignore=shutil.ignore_patterns("__pycache__"))
    (repo / "data" / "mnist").mkdir(parents=True)
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        shutil.copy(ROOT / "data" / "mnist" / name, repo / "data" / "mnist" / name)
    _git("init", "--quiet", cwd=repo)
    _git("add", ".", cwd=repo)
    _git("-c", "user.name=course", "-c", "user.email=course@example.org", "commit", "--quiet", "-m", "course",
         cwd=repo)
    return repo


@pytest.fixture
def fake_colab(tmp_path):
    """Folders for the stand-ins: the google.colab package, pip, and Colab's working directory."""
    (tmp_path / "fake_colab" / "google" / "colab").mkdir(parents=True)
    (tmp_path / "fake_colab" / "google" / "__init__.py").write_text("")
    (tmp_path / "fake_colab" / "google" / "colab" / "__init__.py").write_text("")
    (tmp_path / "fake_pip" / "pip").mkdir(parents=True)
    (tmp_path / "fake_pip" / "pip" / "__init__.py").write_text("")
    (tmp_path / "fake_pip" / "pip" / "__main__.py").write_text(FAKE_PIP)
    (tmp_path / "content").mkdir()
    return tmp_path


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.parent.name)
def test_on_colab_the_cell_fetches_the_course_and_the_notebook_runs_from_it(path, course_repo, fake_colab):
    setup_cell, imports_cell = (c.source for c in _code_cells(path)[:2])
    (fake_colab / "cells.json").write_text(json.dumps([setup_cell, imports_cell]))
    (fake_colab / "driver.py").write_text(DRIVER)
    site_dirs = sorted({sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]})
    env = {key: value for key, value in os.environ.items() if not key.startswith(("MLP_COURSE_", "GIT_"))}
    env.update({
        # git fetches the course from the local repository, and could not reach the network anyway
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": f"url.{course_repo.as_uri()}.insteadOf",
        "GIT_CONFIG_VALUE_0": colab.COURSE_URL,
        "GIT_ALLOW_PROTOCOL": "file",
        # the cell's `python -m pip` finds the stub first (the driver itself, under -I, ignores this)
        "PYTHONPATH": str(fake_colab / "fake_pip"),
        "FAKE_PIP_LOG": str(fake_colab / "pip.log"),
        "MPLBACKEND": "Agg",
        "MLP_COURSE_DEVICE": "cpu",
    })
    run = subprocess.run([sys.executable, "-I", "-S", str(fake_colab / "driver.py"), str(fake_colab / "fake_colab"),
                          str(fake_colab / "content"), str(fake_colab / "cells.json"), json.dumps(site_dirs)],
                         env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]

    clone = (fake_colab / "content" / colab.CLONE_DIR).resolve()
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert Path(result["utils"]).resolve().is_relative_to(clone), result
    assert Path(result["data_root"]) == clone / "data"
    assert result["images"] == [10000, 28, 28] and result["labels"] == 10000
    assert (clone / ".git" / "shallow").exists(), "the clone is not shallow"
    installs = [json.loads(line) for line in (fake_colab / "pip.log").read_text().splitlines()]
    assert installs == [["install", "--quiet", *colab.COLAB_PACKAGES]] * 2
    assert f"Colab: the course's utils/ and data/ are in {clone}" in run.stdout
