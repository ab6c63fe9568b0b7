"""The Colab setup cell that opens every notebook (utils.colab).

It is the same in every notebook and made from the course's one URL, as are README's "Open in
Colab" badges. On a (fake) Colab it clones the repository the notebook was opened from (a fork's,
on its branch) or else the course, installs what Colab lacks, and the rest of the notebook
imports ``utils`` and finds the data in the clone; anywhere else it does nothing.

The Colab run is real apart from three stand-ins: ``google.colab`` is a package whose
``output.eval_js`` (when it has one) answers with a page address or raises, git fetches the
course and a fork from local repositories instead of GitHub (git's ``url.<base>.insteadOf``
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
from types import ModuleType

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
# On Colab: which repository (in process, git and pip recorded instead of run)
# --------------------------------------------------------------------------------------
FORK_URL = "https://github.com/a-teacher/mlp-fork"
FORK_BRANCH = "spring/2026"  # a branch's name may hold slashes
COLAB_GITHUB = "https://colab.research.google.com/github/"


def _eval_js_returning(address):
    def eval_js(script):
        assert script == "window.location.href", script
        return address
    return eval_js


def _eval_js_raising(script):
    raise RuntimeError("no page to ask")  # what an unreachable front end looks like to the cell


@pytest.mark.parametrize("eval_js, url, branch", [
    (_eval_js_returning(f"{COLAB_GITHUB}a-teacher/mlp-fork/blob/main/notebooks/01_perceptron/perceptron.ipynb"),
     FORK_URL, "main"),
    (_eval_js_returning(f"{COLAB_GITHUB}a-teacher/mlp-fork/blob/{FORK_BRANCH}/notebooks/04_torch_nn/torch_nn.ipynb"
                        "#scrollTo=Xb2v&line=3"), FORK_URL, FORK_BRANCH),
    (_eval_js_returning(f"{COLAB_GITHUB}a-teacher/mlp-fork/blob/v2/solutions/02_numpy_mlp/numpy_mlp.ipynb"),
     FORK_URL, "v2"),
    (_eval_js_returning("https://colab.research.google.com/drive/1aBcDeFgHiJkLmNoPqRsTuVwXyZ"),  # a copy in Drive
     colab.COURSE_URL, colab.BRANCH),
    (_eval_js_returning("https://colab.research.google.com/#create=true"),  # uploaded
     colab.COURSE_URL, colab.BRANCH),
    (_eval_js_returning(None), colab.COURSE_URL, colab.BRANCH),
    (_eval_js_raising, colab.COURSE_URL, colab.BRANCH),
    (None, colab.COURSE_URL, colab.BRANCH),  # a google.colab without its output module
], ids=["fork", "fork-branch-with-slash", "fork-solutions", "drive", "uploaded", "no-address", "eval_js-raises",
        "no-output-module"])
def test_on_colab_the_cell_clones_the_repository_the_notebook_was_opened_from(
        eval_js, url, branch, tmp_path, monkeypatch, capsys):
    google = ModuleType("google")
    google.colab = ModuleType("google.colab")
    google.colab.__path__ = []  # a package, so that `from google.colab.output import ...` looks for the module
    monkeypatch.setitem(sys.modules, "google", google)
    monkeypatch.setitem(sys.modules, "google.colab", google.colab)
    if eval_js is not None:
        output = ModuleType("google.colab.output")
        output.eval_js = eval_js
        monkeypatch.setitem(sys.modules, "google.colab.output", output)
    else:
        monkeypatch.setitem(sys.modules, "google.colab.output", None)  # importing it raises ImportError
    commands = []
    monkeypatch.setattr(subprocess, "run", lambda command, **kwargs: commands.append(command))
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.chdir(tmp_path)

    exec(compile(colab.SETUP_CELL, "<colab_setup>", "exec"), {"__name__": "__main__"})

    assert commands[0] == ["git", "clone", "--quiet", "--depth", "1", "--branch", branch, url, colab.CLONE_DIR]
    printed = capsys.readouterr().out
    assert f"{url} (branch {branch})" in printed, printed
    if url == FORK_URL:
        assert "the repository this notebook was opened from" in printed
    else:
        assert "not opened from GitHub" in printed


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

# google.colab.output of a notebook opened on Colab from the fork's branch, and of one whose page cannot be asked
FORK_PAGE = f"{COLAB_GITHUB}a-teacher/mlp-fork/blob/{FORK_BRANCH}/notebooks/01_perceptron/perceptron.ipynb"
OUTPUT_OF_THE_FORK = f"def eval_js(script):\n    return {FORK_PAGE!r}\n"
OUTPUT_RAISING = "def eval_js(script):\n    raise RuntimeError('no page to ask')\n"


def _git(*args, cwd):
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def _commit(repo, message):
    _git("add", ".", cwd=repo)
    _git("-c", "user.name=course", "-c", "user.email=course@example.org", "commit", "--quiet", "-m", message,
         cwd=repo)


@pytest.fixture(scope="module")
def course_repo(tmp_path_factory):
    """A git repository with what the clone needs: utils/ and a little of data/ (MNIST's test split)."""
    repo = tmp_path_factory.mktemp("published") / "mlp-from-scratch"
    shutil.copytree(ROOT / "utils", repo / "utils", ignore=shutil.ignore_patterns("__pycache__"))
    (repo / "data" / "mnist").mkdir(parents=True)
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        shutil.copy(ROOT / "data" / "mnist" / name, repo / "data" / "mnist" / name)
    _git("init", "--quiet", f"--initial-branch={colab.BRANCH}", cwd=repo)
    _commit(repo, "course")
    return repo


@pytest.fixture(scope="module")
def fork_repo(course_repo, tmp_path_factory):
    """A teacher's fork of the course, whose branch FORK_BRANCH has a file the course lacks."""
    fork = tmp_path_factory.mktemp("fork") / "mlp-fork"
    _git("clone", "--quiet", str(course_repo), str(fork), cwd=course_repo.parent)
    _git("checkout", "--quiet", "-b", FORK_BRANCH, cwd=fork)
    (fork / "FORK.md").write_text("the teacher's own version\n")
    _commit(fork, "fork")
    return fork


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


def _run_on_colab(path, fake_colab, repositories):
    """Run a notebook's setup and imports cells on the fake Colab; git fetches each URL from its local repository."""
    setup_cell, imports_cell = (c.source for c in _code_cells(path)[:2])
    (fake_colab / "cells.json").write_text(json.dumps([setup_cell, imports_cell]))
    (fake_colab / "driver.py").write_text(DRIVER)
    site_dirs = sorted({sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]})
    env = {key: value for key, value in os.environ.items() if not key.startswith(("MLP_COURSE_", "GIT_"))}
    # git fetches the course from the local repository, and could not reach the network anyway
    env["GIT_CONFIG_COUNT"] = str(len(repositories))
    for i, (url, repo) in enumerate(repositories.items()):
        env[f"GIT_CONFIG_KEY_{i}"] = f"url.{repo.as_uri()}.insteadOf"
        env[f"GIT_CONFIG_VALUE_{i}"] = url
    env.update({
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
    return clone, run.stdout


def _branch_of(clone):
    return subprocess.run(["git", "rev-parse", "--abbrev-ref", "HEAD"], cwd=clone, check=True,
                          capture_output=True, text=True).stdout.strip()


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.parent.name)
def test_on_colab_the_cell_fetches_the_course_and_the_notebook_runs_from_it(path, course_repo, fake_colab):
    clone, printed = _run_on_colab(path, fake_colab, {colab.COURSE_URL: course_repo})
    assert _branch_of(clone) == colab.BRANCH
    assert f"Cloned from the course's repository, {colab.COURSE_URL} (branch {colab.BRANCH})" in printed


def test_opened_from_a_fork_the_cell_clones_the_fork_and_its_branch(course_repo, fork_repo, fake_colab):
    (fake_colab / "fake_colab" / "google" / "colab" / "output.py").write_text(OUTPUT_OF_THE_FORK)
    clone, printed = _run_on_colab(SOURCES[0], fake_colab, {colab.COURSE_URL: course_repo, FORK_URL: fork_repo})
    assert (clone / "FORK.md").exists(), "the clone is not the fork's branch"
    assert _branch_of(clone) == FORK_BRANCH
    assert f"Cloned from {FORK_URL} (branch {FORK_BRANCH}), the repository this notebook was opened from" in printed


def test_when_the_page_cannot_be_asked_the_cell_falls_back_to_the_course(course_repo, fork_repo, fake_colab):
    (fake_colab / "fake_colab" / "google" / "colab" / "output.py").write_text(OUTPUT_RAISING)
    clone, printed = _run_on_colab(SOURCES[0], fake_colab, {colab.COURSE_URL: course_repo, FORK_URL: fork_repo})
    assert not (clone / "FORK.md").exists() and _branch_of(clone) == colab.BRANCH
    assert f"Cloned from the course's repository, {colab.COURSE_URL} (branch {colab.BRANCH})" in printed
