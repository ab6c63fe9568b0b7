"""The OS boundary holds: every attempt of tests/corpora/escapes.py is blocked, not only flagged.

Each group of attempts is a hand-in of 01 (the solution's code plus the attempts), graded with
alice's honest hand-in through ``grader autograde --jobs 2 --isolation require`` in a copy of the
course: as root, and as an ordinary user. Every attempt must print ``blocked``; what an attempt
did outside its kernel (a daemon, a datagram, a file in /dev/shm, a .pth) must be gone or never
have arrived; every hand-in keeps the 12 points it earns alone; no feedback page, autograded
notebook or score holds a line of a hidden test. The attempts that can be made safely without
the boundary are made so, against a fake course, and reach it: none is a wall nobody could climb.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
import pytest

from grader import course
from grader.nbgrader_ext import boundary, sandbox
from tests.browser import copy_course, course_environment
from tests.corpora import escapes

ROOT = course.ROOT
ORDINARY_UID = 4242   # a user id no account has: the ordinary user grading (no home, no groups)
FULL_MARKS = 12.0


def _unavailable() -> str | None:
    if os.getuid() == 0:
        return boundary.unavailable(sandbox.kernel_owner("nobody", boundary.python_prefixes()))
    return boundary.unavailable()


def _skip_or_fail_without_the_boundary():
    reason = _unavailable()
    if reason is None:
        return
    if os.environ.get("MLP_COURSE_ISOLATION") == "require":
        pytest.fail(f"isolation is required (MLP_COURSE_ISOLATION=require), but {reason}")
    pytest.skip(f"no OS boundary on this machine: {reason}")


def _hidden_test_lines() -> set[str]:
    """Every line of a hidden test of 01 long enough to be telling (12 characters or more)."""
    lines, hidden = set(), False
    for path in (ROOT / "solutions" / escapes.ASSIGNMENT).glob("*.ipynb"):
        for cell in nbformat.read(path, as_version=4).cells:
            for line in cell.source.splitlines():
                if "BEGIN HIDDEN TESTS" in line:
                    hidden = True
                elif "END HIDDEN TESTS" in line:
                    hidden = False
                elif hidden and len(line.strip()) >= 12:
                    lines.add(line.strip())
    assert len(lines) >= 5, "01 has hidden tests to keep hidden"
    return lines


class HostWatch:
    """What the attempts aim at on the grader's side: a TCP listener, a UDP socket, an abstract
    unix socket on the loopback, a secret in the environment, a file in /dev/shm; and what they
    may leave behind, looked for afterwards."""

    def __init__(self):
        self.mark = str(27182 + os.getpid())
        self.tcp = socket.socket()
        self.tcp.bind(("127.0.0.1", 0))
        self.tcp.listen()
        self.tcp.setblocking(False)
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", 0))
        self.udp.setblocking(False)
        self.abstract_name = f"mlp-escape-{self.mark}"
        self.abstract = socket.socket(socket.AF_UNIX)
        self.abstract.bind("\0" + self.abstract_name)
        self.abstract.listen()
        self.abstract.setblocking(False)
        self.secret_name, self.secret = "MLP_ESCAPE_TEST_SECRET", f"secret-{self.mark}"
        self.shm = Path(f"/dev/shm/{self.mark}-host")
        self.shm.write_text("the grader's own")

    def values(self, course_root: Path) -> dict[str, str]:
        return {"COURSE_ROOT": repr(str(course_root)), "TCP_PORT": str(self.tcp.getsockname()[1]),
                "UDP_PORT": str(self.udp.getsockname()[1]), "ABSTRACT_NAME": repr(self.abstract_name),
                "SECRET_NAME": repr(self.secret_name), "MARK": self.mark}

    def arrived(self) -> list[str]:
        """What reached the grader's side: connections, datagrams."""
        found = []
        for name, sock in (("tcp", self.tcp), ("abstract", self.abstract)):
            try:
                sock.accept()
                found.append(f"a {name} connection")
            except BlockingIOError:
                pass
        try:
            found.append(f"a datagram {self.udp.recv(100)!r}")
        except BlockingIOError:
            pass
        return found

    def left_behind(self) -> list[str]:
        """What an attempt left on the host: processes, files."""
        found = []
        for pid in (p for p in os.listdir("/proc") if p.isdigit()):
            try:
                argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if argv[:1] == [b"sleep"] and any(self.mark.encode() in a for a in argv[1:]):
                found.append(f"process {pid}: {b' '.join(argv).decode()}")
        for prefix in boundary.python_prefixes():
            found += [str(p) for p in prefix.rglob(f"*{self.mark}*")]
        found += [str(p) for p in Path("/dev/shm").glob(f"{self.mark}-kernel*")]
        return found

    def close(self):
        for sock in (self.tcp, self.udp, self.abstract):
            sock.close()
        self.shm.unlink(missing_ok=True)


@pytest.fixture
def host():
    watch = HostWatch()
    yield watch
    watch.close()


def _class_of_escapes(folder: Path, values_for) -> Path:
    """A copy of the course whose class is alice's honest 01 and one hand-in per group of escapes."""
    root = copy_course(folder)
    submitted = root / "grader" / "submitted"
    for student in submitted.iterdir():
        if student.name != "alice":
            shutil.rmtree(student)
    for assignment in (submitted / "alice").iterdir():
        if assignment.name != escapes.ASSIGNMENT:
            shutil.rmtree(assignment)
    release = nbformat.read(root / "notebooks" / escapes.ASSIGNMENT / f"{escapes.NOTEBOOK}.ipynb", as_version=4)
    solution = nbformat.read(root / "solutions" / escapes.ASSIGNMENT / f"{escapes.NOTEBOOK}.ipynb", as_version=4)
    for group in escapes.GROUPS:
        target = submitted / f"escape_{group}" / escapes.ASSIGNMENT
        target.mkdir(parents=True)
        (target / f"{escapes.NOTEBOOK}.ipynb").write_bytes(escapes.make(group, release, solution, values_for(root)))
    return root


def _as_ordinary_user(argv: list[str], root: Path) -> list[str]:
    """``argv`` run as the ordinary user :data:`ORDINARY_UID`, from root: a mount namespace where
    root's home is an empty folder holding only the Python environment and the course's checkout
    (so that the user can run this Python, as on a machine where Python is not under /root), then
    that user with no capabilities."""
    view = ["bwrap", "--dev-bind", "/", "/", "--tmpfs", "/root"]
    for path in [*boundary.python_prefixes(), ROOT]:
        if Path("/root") in path.parents:
            view += ["--ro-bind", str(path), str(path)]
    drop = ["setpriv", f"--reuid={ORDINARY_UID}", f"--regid={ORDINARY_UID}", "--clear-groups",
            "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs"]
    return [*boundary.with_parents(view), "--chdir", str(root), "--", *drop, "--", *argv]


def _grade(root: Path, user: str, host: HostWatch) -> subprocess.CompletedProcess:
    env = course_environment(root)
    env[host.secret_name] = host.secret
    env["MLP_COURSE_TIME_LIMIT_FACTOR"], env["MLP_COURSE_TIME_LIMIT_MARGIN"] = "2", "10"
    argv = [sys.executable, "-m", "grader", "autograde", "--jobs", "2", "--force", "--isolation", "require"]
    feedback = [sys.executable, "-m", "grader", "feedback", "--jobs", "2"]
    if user == "ordinary":
        (root / ".home").mkdir()
        env.update(HOME=str(root / ".home"), USER="ordinary", LOGNAME="ordinary")
        subprocess.run(["chown", "-R", f"{ORDINARY_UID}:{ORDINARY_UID}", str(root.parent)], check=True)
        argv, feedback = _as_ordinary_user(argv, root), _as_ordinary_user(feedback, root)
    done = subprocess.run(argv, cwd=root, env=env, capture_output=True, text=True, timeout=600)
    made = subprocess.run(feedback, cwd=root, env=env, capture_output=True, text=True, timeout=600)
    assert made.returncode == 0, made.stdout + made.stderr
    return done


def _printed(notebook: Path) -> str:
    nb = nbformat.read(notebook, as_version=4)
    return "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs
                   if o.output_type == "stream")


@pytest.mark.slow
@pytest.mark.parametrize("user", ["root", "ordinary"])
def test_every_escape_is_blocked_and_costs_nothing_else(tmp_path, host, user):
    _skip_or_fail_without_the_boundary()
    if user == "root" and os.getuid() != 0:
        pytest.skip("grading as root needs root: this run is an ordinary user's (which the other case is)")
    if user == "ordinary" and os.getuid() == 0 and shutil.which("setpriv") is None:
        pytest.skip("grading as an ordinary user from root needs util-linux's setpriv")
    if user == "ordinary" and os.getuid() != 0:
        user = "root"   # this process is an ordinary user already: grade as it is
    # The ordinary user cannot enter pytest's folder (root's own): a folder of its own in /tmp.
    folder = Path(tempfile.mkdtemp(prefix="escapes-")) if user == "ordinary" else tmp_path
    try:
        _escapes_are_blocked(_class_of_escapes(folder / "course", host.values), user, host)
    finally:
        if folder != tmp_path:
            shutil.rmtree(folder, ignore_errors=True)


def _escapes_are_blocked(root: Path, user: str, host: HostWatch) -> None:
    done = _grade(root, user, host)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "isolation off" not in done.stdout + done.stderr

    autograded = root / "grader" / "autograded"
    for group in escapes.GROUPS:
        printed = _printed(autograded / f"escape_{group}" / escapes.ASSIGNMENT / f"{escapes.NOTEBOOK}.ipynb")
        found = escapes.verdicts(printed)
        expected = {e.name for e in escapes.CORPUS if e.group == group}
        assert set(found) == expected, f"{group}: attempts that printed nothing: {expected - set(found)}\n{printed[-3000:]}"
        for escape in (e for e in escapes.CORPUS if e.group == group):
            verdict, detail = found[escape.name]
            assert verdict == ("outside" if escape.outside else "blocked"), (user, escape.name, verdict, detail)
    assert host.arrived() == [], "something reached the grader's side"
    assert host.left_behind() == [], "an attempt left something behind"

    from nbgrader.api import Gradebook   # every hand-in keeps what it earns alone: full marks
    with Gradebook(f"sqlite:///{root / 'grader' / 'gradebook.db'}") as gb:
        scores = {s: float(gb.find_submission(escapes.ASSIGNMENT, s).score)
                  for s in ["alice", *(f"escape_{g}" for g in escapes.GROUPS)]}
    assert scores == dict.fromkeys(scores, FULL_MARKS)

    hidden = _hidden_test_lines()
    pages = list((root / "grader" / "feedback").rglob("*.html"))
    assert len(pages) == len(scores)
    shown = [p.read_text() for p in pages] + [p.read_text() for p in autograded.rglob("*.ipynb")]
    # the autograded notebook holds the hidden tests in its test cells (nbgrader's source): only
    # what the hand-in printed counts there
    printed = [_printed(p) for p in autograded.rglob("*.ipynb")]
    for line in hidden:
        assert not any(line in page for page in shown[:len(pages)]), f"a feedback page shows {line!r}"
        assert not any(line in text for text in printed), f"a hand-in printed {line!r}"


@pytest.mark.slow
def test_grader_score_shows_no_hidden_test_of_a_hand_in_that_prints_every_file(tmp_path, host):
    _skip_or_fail_without_the_boundary()
    release = nbformat.read(ROOT / "notebooks" / escapes.ASSIGNMENT / f"{escapes.NOTEBOOK}.ipynb", as_version=4)
    solution = nbformat.read(ROOT / "solutions" / escapes.ASSIGNMENT / f"{escapes.NOTEBOOK}.ipynb", as_version=4)
    path = tmp_path / f"{escapes.NOTEBOOK}.ipynb"
    path.write_bytes(escapes.make("files", release, solution, host.values(ROOT)))
    done = subprocess.run([sys.executable, "-m", "grader", "score", str(path), "--json", "--isolation", "require"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["isolation"] == "bubblewrap" and result["score"] == FULL_MARKS
    for line in _hidden_test_lines():
        assert line not in done.stdout


def test_the_attempts_reach_a_fake_course_without_the_boundary(tmp_path, host):
    """The attempts that are safe to make in a plain process reach what they aim at there."""
    fake = tmp_path / "course"
    (fake / "solutions" / "01_perceptron").mkdir(parents=True)
    (fake / "solutions" / "01_perceptron" / "perceptron.ipynb").write_text("### BEGIN HIDDEN TESTS")
    (fake / "grader" / "submitted" / "alice" / "01_perceptron").mkdir(parents=True)
    (fake / "grader" / "submitted" / "alice" / "01_perceptron" / "perceptron.ipynb").write_text("{}")
    (fake / "grader" / "gradebook.db").write_bytes(b"SQLite format 3\0")
    chosen = [e for e in escapes.CORPUS if e.reaches_unsandboxed]
    assert len(chosen) >= 8
    env = dict(os.environ, **{host.secret_name: host.secret})
    done = subprocess.run([sys.executable, "-c", escapes.program(chosen, host.values(fake))], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=60)
    found = escapes.verdicts(done.stdout)
    try:
        assert {name: verdict for name, (verdict, _) in found.items()} == {e.name: "REACHED" for e in chosen}, done.stdout
    finally:
        Path(f"/dev/shm/{host.mark}-kernel").unlink(missing_ok=True)


def test_every_group_of_escapes_makes_a_notebook_that_runs_its_attempts():
    release = nbformat.read(ROOT / "notebooks" / escapes.ASSIGNMENT / f"{escapes.NOTEBOOK}.ipynb", as_version=4)
    solution = nbformat.read(ROOT / "solutions" / escapes.ASSIGNMENT / f"{escapes.NOTEBOOK}.ipynb", as_version=4)
    values = {name: "0" if "PORT" in name or name == "MARK" else "'x'" for name in escapes.PLACEHOLDERS}
    assert len(escapes.CORPUS) >= 30 and len(escapes.GROUPS) >= 4
    for group in escapes.GROUPS:
        nb = nbformat.reads(escapes.make(group, release, solution, values).decode(), as_version=4)
        code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
        compile(code.replace("%", "#"), group, "exec")
        assert all(f"_attempt_{e.name}" in code for e in escapes.CORPUS if e.group == group)
        assert not any(p in code for p in escapes.PLACEHOLDERS if p != "MARK")
