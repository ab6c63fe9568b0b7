"""Where the OS boundary cannot be had, grading says so in one line with the fix, and
``--isolation require`` turns that into a clear error (grader/nbgrader_ext/boundary.py).

Machines without the boundary are played by ``MLP_COURSE_BWRAP``: a bubblewrap that is not
installed, or one that fails as bwrap does where user namespaces are switched off.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from grader import batch, cli, course
from grader.nbgrader_ext import boundary
from grader.nbgrader_ext.preprocessors import ISOLATED

ROOT = course.ROOT
SOLUTION = ROOT / "solutions" / "01_perceptron" / "perceptron.ipynb"


@pytest.fixture
def no_bubblewrap(monkeypatch, tmp_path):
    monkeypatch.setenv("MLP_COURSE_BWRAP", str(tmp_path / "not-installed" / "bwrap"))
    # `--isolation` sets this variable for the process: put back what the suite runs with
    monkeypatch.setenv("MLP_COURSE_ISOLATION", os.environ.get("MLP_COURSE_ISOLATION", "auto"))


@pytest.fixture
def no_user_namespaces(monkeypatch, tmp_path):
    fake = tmp_path / "bwrap"
    fake.write_text("#!/bin/sh\necho 'bwrap: setting up uid map: Permission denied' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("MLP_COURSE_BWRAP", str(fake))


def test_a_machine_without_bubblewrap_is_told_how_to_install_it(no_bubblewrap):
    reason = boundary.unavailable()
    assert "is not installed" in reason and "apt install bubblewrap" in reason
    line = boundary.check("auto")
    assert line.startswith("isolation off: ") and "apt install bubblewrap" in line and "\n" not in line
    with pytest.raises(boundary.IsolationUnavailable, match="isolation is required, but bubblewrap"):
        boundary.check("require")


def test_a_machine_without_user_namespaces_is_told_the_sysctl(no_user_namespaces):
    reason = boundary.unavailable()
    assert "setting up uid map: Permission denied" in reason
    assert "kernel.unprivileged_userns_clone" in reason and "apparmor_restrict_unprivileged_userns" in reason


def test_other_systems_are_told_to_grade_on_linux(monkeypatch):
    monkeypatch.setattr(sys, "platform", "darwin")
    assert "grade on Linux" in boundary.unavailable()


def test_isolation_off_is_said_and_an_unknown_mode_refused():
    assert "switched off" in boundary.check("off")
    with pytest.raises(ValueError, match="auto, require, off"):
        boundary.check("sometimes")


def test_score_refuses_to_grade_without_the_boundary_when_it_is_required(no_bubblewrap, capsys):
    assert cli.main(["score", str(SOLUTION), "--isolation", "require"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: isolation is required, but bubblewrap") and "apt install bubblewrap" in error


def test_autograde_refuses_too(no_bubblewrap, capsys, monkeypatch):
    monkeypatch.setattr(batch, "autograde", lambda **kwargs: pytest.fail("graded without the boundary"))
    assert cli.main(["autograde", "--isolation", "require"]) == 2
    assert "isolation is required" in capsys.readouterr().err


@pytest.mark.slow
def test_score_grades_without_the_boundary_and_says_so_in_one_line(no_bubblewrap, capsys):
    assert cli.main(["score", str(SOLUTION), "--isolation", "auto"]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].endswith("12 / 12 points")   # the same grade
    said = [line for line in printed if line.startswith("isolation off: ")]
    assert len(said) == 1 and "apt install bubblewrap" in said[0]


def test_the_batch_report_says_it_once_for_every_hand_in_graded_without():
    line = boundary.fallback_line("bubblewrap (`bwrap`) is not installed: install it")
    rows = [batch.Row("alice", "01_perceptron", 12, 12, 3.0, "graded", isolation=line),
            batch.Row("bob", "01_perceptron", 7, 12, 3.0, "graded", isolation=line),
            batch.Row("carol", "01_perceptron", 0, 12, 3.0, "graded")]
    report = batch.format_report(rows)
    assert report.count("isolation off: ") == 1
    assert f"{line} (2 of 3 hand-ins)" in report
    assert "isolation off" not in batch.format_report(rows[2:])


def test_the_kernel_environment_is_an_allowlist():
    env = {"PATH": "/usr/bin", "HOME": "/workspace/home", "OMP_NUM_THREADS": "1", "MLP_COURSE_DATA": "/d",
           "AWS_SECRET_ACCESS_KEY": "x", "SSH_AUTH_SOCK": "/tmp/agent", "JPY_PARENT_PID": "42",
           "LD_PRELOAD": "/tmp/evil.so", "PYTHONSTARTUP": "/tmp/evil.py", "MLP_COURSEWORK": "x"}
    assert boundary.allowed_environment(env) == {"PATH": "/usr/bin", "HOME": "/workspace/home",
                                                 "OMP_NUM_THREADS": "1", "MLP_COURSE_DATA": "/d"}


def test_the_sandbox_command_nests_two_sandboxes_and_drops_root(tmp_path, monkeypatch):
    box = boundary.Boundary(tmp_path / "ws", {"utils": tmp_path / "utils"}, tmp_path / "ipc", owner=(65534, 65534))
    (tmp_path / "ws").mkdir()
    argv = box.wrap(["python", "-m", "ipykernel_launcher"], {"SECRET": "x", "LANG": "C.UTF-8"})
    assert argv[-3:] == ["python", "-m", "ipykernel_launcher"]
    bwraps = [i for i, part in enumerate(argv) if Path(part).name == "bwrap"]
    assert len(bwraps) == 2, "a sandbox inside the first one"
    second = argv[bwraps[1]:]
    assert "--disable-userns" in second and "--unshare-user" in second
    first = argv[:bwraps[1]]
    for option in ("--unshare-pid", "--unshare-net", "--unshare-ipc", "--clearenv", "--die-with-parent"):
        assert option in first
    assert "SECRET" not in argv and "LANG" in argv
    assert ["--ro-bind", str(tmp_path / "utils"), "/workspace/utils"] == argv[argv.index(str(tmp_path / "utils")) - 1:][:3]
    monkeypatch.setattr(os, "getuid", lambda: 0)
    as_root = box.wrap(["true"], {})
    assert any(Path(p).name == "setpriv" for p in as_root) and "--reuid=65534" in as_root
    monkeypatch.setattr(os, "getuid", lambda: 1000)
    assert not any(Path(p).name == "setpriv" for p in box.wrap(["true"], {}))


def test_every_mount_point_gets_its_parents_made_searchable():
    made = boundary.with_parents(["--ro-bind", "/root/.pyenv/versions/3.11", "/root/.pyenv/versions/3.11",
                                  "--proc", "/proc", "--bind", "/a", "/workspace", "--ro-bind", "/u", "/workspace/utils"])
    dirs = [made[i + 1] for i, part in enumerate(made) if part == "--dir"]
    assert dirs == ["/root", "/root/.pyenv", "/root/.pyenv/versions"]
    assert all(made[made.index(d) - 3:made.index(d)] == ["--perms", "0755", "--dir"] for d in dirs)


def test_the_course_is_hidden_where_a_mounted_folder_holds_it(tmp_path, monkeypatch):
    box = boundary.Boundary(tmp_path, {}, None, hidden=[Path("/usr/src/course")])
    argv = box.wrap(["true"], {})
    assert ["--tmpfs", "/usr/src/course"] == argv[argv.index("/usr/src/course") - 1:][:2]
    assert "/work/elsewhere" not in boundary.Boundary(tmp_path, {}, None, hidden=[Path("/work/elsewhere")]).wrap(["true"], {})


def test_isolation_is_recorded_in_the_executed_notebook_for_the_reports():
    from grader.score import isolation

    import nbformat

    executed = nbformat.v4.new_notebook()
    assert isolation(executed).startswith("isolation unknown")
    executed.metadata["mlp_course"] = {"isolation": ISOLATED}
    assert isolation(executed) == ISOLATED


def _has_cuda() -> bool:
    import torch

    return torch.cuda.is_available()


@pytest.mark.skipif(not _has_cuda(), reason="needs a CUDA GPU (the boundary binds /dev/nvidia* for it)")
def test_a_kernel_inside_the_boundary_computes_on_the_gpu(tmp_path):
    import subprocess

    from grader.nbgrader_ext import sandbox

    if boundary.check("auto"):
        pytest.skip(boundary.check("auto"))
    owner = sandbox.kernel_owner("nobody", boundary.python_prefixes())
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    if owner:
        sandbox.hand_over(tmp_path, owner)
    box = boundary.Boundary(workspace, {}, None, owner)
    code = "import torch; x = torch.ones(3, device='cuda'); print(float((x @ x).cpu()))"
    done = subprocess.run(box.wrap([sys.executable, "-c", code], dict(os.environ)), capture_output=True, text=True,
                          timeout=300)
    box.remove()
    assert done.returncode == 0 and done.stdout.strip() == "3.0", done.stderr
