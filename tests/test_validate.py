"""Validation as grading does it (grader/nbgrader_ext/validate.py): ``nbgrader validate``, which the
student's Validate button runs too, skips the cells tagged ``demo`` and uses the course's time
limits, both with the course's ``nbgrader_config.py`` and with nothing but README's snippet for a
JupyterHub's students' servers (their own ``~/.jupyter/nbgrader_config.py``, outside the course).

Each solution passes, a release (nothing answered) and a one-bug hand-in fail, a demo cell
that would break the tests is not run, and each validation costs well under a minute of CPU
(the validation and its kernels together, so that other work on the machine does not count).
"""

import os
import re
import resource
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import nbformat
import pytest
from traitlets.config.loader import PyFileConfigLoader

from grader import course
from grader.cells import DEMO_TAG, grade_id, is_solution
from grader.proving.cases import perceptron
from grader.proving.variants import make_submission
from tests.browser import unavailable

ROOT = course.ROOT
NBGRADER = Path(sys.executable).parent / "nbgrader"
SOLUTIONS = sorted((ROOT / "solutions").glob("*/*.ipynb"))
RELEASES = sorted((ROOT / "notebooks").glob("*/*.ipynb"))
PASSED = "Success! Your notebook passes all the tests."
FAILED = "VALIDATION FAILED ON"
CPU_SECONDS = 60  # "well under a minute": the validation and its kernels, measured as CPU time
CONFIGS = ["course", "hub"]

pytestmark = pytest.mark.slow  # each validation starts a kernel and runs the notebook's tests


def hub_snippet() -> str:
    """README's ``nbgrader_config.py`` for a hub's students' servers (the one that configures validation)."""
    readme = (ROOT / "README.md").read_text()
    blocks = [textwrap.dedent(body) for _, body in re.findall(r"(?ms)^( *)```python\n(.*?)^\1```", readme)]
    [snippet] = [block for block in blocks if "c.Validator.preprocessors" in block]
    return snippet


def validate(notebook: Path, config: str, tmp_path: Path) -> tuple[str, float, float]:
    """``nbgrader validate NOTEBOOK`` as a student's server runs it; its output, wall and CPU seconds.

    ``config`` "course": from the course folder, whose ``nbgrader_config.py`` nbgrader reads;
    "hub": from a home folder outside the course, with README's snippet as the only
    configuration (``~/.jupyter/nbgrader_config.py``) and the notebook copied there.
    """
    jupyter = tmp_path / "home" / ".jupyter"  # never the user's own ~/.jupyter
    jupyter.mkdir(parents=True, exist_ok=True)
    if config == "course":
        cwd = ROOT
    else:
        (jupyter / "nbgrader_config.py").write_text(hub_snippet())
        cwd = tmp_path / "home"
        copy = cwd / "mlp-course" / notebook.parent.name / notebook.name
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(notebook, copy)
        notebook = copy
    env = {key: value for key, value in os.environ.items() if not key.startswith(("MLP_COURSE_", "JUPYTER_"))}
    env.update(JUPYTER_CONFIG_DIR=str(jupyter), OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
               OPENBLAS_NUM_THREADS="1")
    cpu_before, start = _children_cpu(), time.monotonic()
    run = subprocess.run([str(NBGRADER), "validate", str(notebook)], cwd=cwd, env=env,
                         capture_output=True, text=True, timeout=600)
    wall, cpu = time.monotonic() - start, _children_cpu() - cpu_before
    assert "Exception while loading config file" not in run.stderr, run.stderr[-3000:]
    assert run.returncode == 0, run.stderr[-3000:]
    print(f"{config}: validated {notebook.name} in {wall:.1f} s ({cpu:.1f} s of CPU)")
    return run.stdout, wall, cpu


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _name(path: Path) -> str:
    return path.parent.name


def test_the_hub_snippet_sets_the_course_s_limits_and_validation(monkeypatch, tmp_path):
    """README's snippet and the course's nbgrader_config.py agree on what validation does."""
    for variable in ("MLP_COURSE_CELL_TIMEOUT", "MLP_COURSE_NOTEBOOK_TIMEOUT"):
        monkeypatch.delenv(variable, raising=False)
    course_config = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config()
    (tmp_path / "nbgrader_config.py").write_text(hub_snippet())
    hub_config = PyFileConfigLoader("nbgrader_config.py", path=str(tmp_path)).load_config()
    for section, key in [("Validator", "preprocessors"), ("Execute", "timeout"), ("RobustExecute", "notebook_timeout")]:
        assert hub_config[section][key] == course_config[section][key], f"{section}.{key}"


# Every notebook with the course's configuration; under README's hub snippet (which the test
# above shows sets the same preprocessors and limits), the notebook that loads the most from
# outside itself (04: MNIST, checkpoints), copied outside the course. 01's solution passes under
# both in test_a_demo_cell_is_not_run below (with a demo cell added). 04 with the course's
# configuration is validated by the Validate button in test_browser.py (the same validation,
# through the server); here only where the browser tests cannot run.
NO_BROWSER = unavailable() is not None
VALIDATIONS = [("course", notebook) for notebook in SOLUTIONS[1:-1]] + [("hub", SOLUTIONS[-1])]
if NO_BROWSER:
    VALIDATIONS.append(("course", SOLUTIONS[-1]))


@pytest.mark.parametrize("config, notebook", VALIDATIONS, ids=[f"{_name(n)}-{c}" for c, n in VALIDATIONS])
def test_each_solution_passes_validation_in_well_under_a_minute(notebook, config, tmp_path):
    output, wall, cpu = validate(notebook, config, tmp_path)
    assert PASSED in output, output[-3000:]
    assert cpu < CPU_SECONDS, f"validating {notebook.name} took {cpu:.0f} s of CPU ({wall:.0f} s)"


# Every release's tests fail on its blank answers (carol's hand-ins in test_grading score 0 on
# each) with "not answered yet" (each release run in JupyterLab, test_browser.py): here the
# validation's verdict on one release, and on every release only where the browser cannot run.
RELEASES_VALIDATED = RELEASES if NO_BROWSER else RELEASES[:1]


@pytest.mark.parametrize("notebook", RELEASES_VALIDATED, ids=_name)
def test_a_release_fails_validation(notebook, tmp_path):
    output, wall, cpu = validate(notebook, "course", tmp_path)
    assert FAILED in output and "not answered yet" in output, output[-3000:]
    assert cpu < CPU_SECONDS, f"validating {notebook.name} took {cpu:.0f} s of CPU ({wall:.0f} s)"


def _perceptron_notebooks():
    name = f"{perceptron.NOTEBOOK}.ipynb"
    return (nbformat.read(ROOT / "notebooks" / perceptron.ASSIGNMENT / name, as_version=4),
            nbformat.read(ROOT / "solutions" / perceptron.ASSIGNMENT / name, as_version=4))


@pytest.mark.parametrize("config", CONFIGS)
def test_a_hand_in_with_one_bug_fails_validation_on_its_test(config, tmp_path):
    bug = next(v for v in perceptron.VARIANTS if v.is_bug)
    release, solution = _perceptron_notebooks()
    hand_in = tmp_path / perceptron.ASSIGNMENT / f"{perceptron.NOTEBOOK}.ipynb"
    hand_in.parent.mkdir()
    nbformat.write(make_submission(release, solution, [bug]), hand_in)
    output, _, _ = validate(hand_in, config, tmp_path)
    assert re.search(rf"{FAILED} 1 CELL", output), output[-3000:]
    assert bug.hint in output, f"the failed test does not say {bug.hint!r}:\n{output[-3000:]}"


@pytest.mark.parametrize("config", CONFIGS)
def test_a_demo_cell_is_not_run(config, tmp_path):
    """A demo cell that would break the next test (it undoes the answer above it): validation
    passes only because it skips the cell, as grading does."""
    release, solution = _perceptron_notebooks()
    nb = make_submission(release, solution)
    first_answer = next(i for i, cell in enumerate(nb.cells) if is_solution(cell))
    function = re.search(r"^def (\w+)", nb.cells[first_answer].source, re.M)[1]
    demo = nbformat.v4.new_code_cell(f"{function} = None  # a demonstration that must not run while validating")
    demo.metadata["tags"] = [DEMO_TAG]
    nb.cells.insert(first_answer + 1, demo)
    assert grade_id(nb.cells[first_answer + 2]), "the demo sits right before the answer's test"
    hand_in = tmp_path / perceptron.ASSIGNMENT / f"{perceptron.NOTEBOOK}.ipynb"
    hand_in.parent.mkdir()
    nbformat.write(nb, hand_in)
    output, _, _ = validate(hand_in, config, tmp_path)
    assert PASSED in output, output[-3000:]
