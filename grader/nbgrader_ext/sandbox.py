"""Where a grading kernel runs, what it can see and what it may use.

A submission's code runs with the grader's own permissions, so by default it could write to
the course's files (the checks, the data, ``nbgrader_config.py``), for itself and for every
submission graded after it, and read the hidden tests next to it. Here, per notebook:

- :func:`make_workspace` gives the kernel a folder of its own holding a *copy* of the course's
  ``utils/`` and ``data/`` and nothing else: the kernel's working folder, first on its
  ``sys.path``, its ``HOME`` and IPython/matplotlib folders, so the checks it imports and the
  start-up files it could plant are its own. ``solutions/`` and the gradebook are not in it.
- :class:`Checkout` remembers the course's own files before the notebook runs and, after it,
  puts back any that changed and removes any that appeared (a submission that wrote to them
  by absolute path), so the instructor's checkout is what it was.
- :func:`limit_resources` caps the kernel's memory and processes (``setrlimit``), so that a
  cell that allocates far too much fails with ``MemoryError`` and a fork bomb runs out of
  processes, instead of taking the machine down with the other submissions.

Where the machine has it, the kernel also runs inside the OS boundary of
:mod:`grader.nbgrader_ext.boundary`, which sees to it that the workspace is all it can see; what
is here is then a second line, and the only one where the boundary cannot be had. What neither
defends against is written in ``grader/THREATS.md``.
"""

from __future__ import annotations

import os
import resource
import shutil
import signal
import stat
import sys
import tempfile
import time
from pathlib import Path

# The course's files that grading relies on, relative to the course root (git's hooks and
# config too: the instructor's git runs them). Inside them, what grading itself writes is left
# out. The Python environment (.venv) is not guarded: see THREATS.md.
GUARDED = ("utils", "data", "solutions", "grader", "nbgrader_config.py", "pyproject.toml",
           ".git/config", ".git/hooks")
SKIPPED = {"__pycache__", ".ipynb_checkpoints", "autograded", "feedback"}
SKIPPED_FILES = {"gradebook.db", "gradebook.db-journal", "report.csv", "grades.csv"}


def course_files(root: Path, guarded=GUARDED, skipped=SKIPPED) -> list[Path]:
    """The files under ``root``'s ``guarded`` paths, but for the ``skipped`` folders."""
    found = []
    for name in guarded:
        path = Path(root, name)
        if path.is_file():
            found.append(path)
        for folder, dirs, files in os.walk(path):
            dirs[:] = sorted(d for d in dirs if d not in skipped)
            found += [Path(folder, f) for f in sorted(files) if f not in SKIPPED_FILES]
    return found


class Checkout:
    """Files as they were when created; :meth:`restore` puts them back.

    By default the course's files that grading relies on; ``guarded=("utils",)`` with nothing
    skipped watches a kernel's own copy of the checks, compiled caches included.
    """

    def __init__(self, root: Path, guarded=GUARDED, skipped=SKIPPED):
        self.root, self.guarded, self.skipped = Path(root), guarded, skipped
        self.files = {p: p.read_bytes() for p in course_files(self.root, guarded, skipped)}

    def restore(self) -> list[str]:
        """Undo every change to the files; return what was changed (relative paths)."""
        changed = []
        now = set(course_files(self.root, self.guarded, self.skipped))
        for path in sorted(now - set(self.files)):
            path.unlink(missing_ok=True)
            changed.append(f"{path.relative_to(self.root)} (added)")
        for path, data in self.files.items():
            try:  # the bytes, not time stamps: those can be set back (os.utime)
                same = path.read_bytes() == data
            except OSError:
                same = False
            if not same:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
                changed.append(str(path.relative_to(self.root)))
        return changed


def make_workspace(course: Path, copy: bool = True) -> Path:
    """A fresh folder holding copies of ``course``'s ``utils/`` and ``data/``, for one kernel.

    ``copy=False``: empty folders in their place, where the OS boundary mounts the course's own
    read-only (a copy the kernel cannot write is no safer than the original)."""
    workspace = Path(tempfile.mkdtemp(prefix="grader-kernel-"))
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("utils", "data"):
        if not (Path(course) / name).is_dir():
            continue
        if copy:
            shutil.copytree(Path(course) / name, workspace / name, ignore=ignore)
        else:
            (workspace / name).mkdir()
    for name in ("home", "home/.ipython", "home/.matplotlib"):
        (workspace / name).mkdir()
    return workspace


def kernel_environment(workspace: Path, base: dict | None = None, isolated: bool = False) -> dict[str, str]:
    """The grading kernel's environment: the workspace's copy of the course comes first.

    ``isolated``: ``workspace`` is the path inside the OS boundary, and the grader's own
    ``PYTHONPATH`` (host paths) is not passed on."""
    env = dict(os.environ if base is None else base)
    # A Dask worker sets this for itself (to hand memory back to the OS): inherited by a kernel,
    # it makes every NumPy/torch allocation a system call (measured: twice as slow).
    env.pop("MALLOC_TRIM_THRESHOLD_", None)
    inherited = [] if isolated else [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env.update({
        "PYTHONPATH": os.pathsep.join([str(workspace)] + inherited),
        "MLP_COURSE_DATA": str(workspace / "data"),
        "HOME": str(workspace / "home"),
        "IPYTHONDIR": str(workspace / "home" / ".ipython"),
        "MPLCONFIGDIR": str(workspace / "home" / ".matplotlib"),
        "PYTHONNOUSERSITE": "1",          # no start-up code from a user site-packages
        "PYTHONDONTWRITEBYTECODE": "1",   # the checks are read from their source each time
    })
    return env


def default_memory() -> int:
    """Bytes of memory per grading kernel by default: a quarter of the machine, at least 4 GiB."""
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return max(4 << 30, total // 4)


def parse_size(text: str) -> int:
    """``"6G"``, ``"512M"`` or a number of bytes, as bytes."""
    text = text.strip().upper().removesuffix("B")
    scale = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}.get(text[-1:], 1)
    return int(float(text.rstrip("KMGT")) * scale)


def limit_resources(memory: int | None, processes: int | None, cgroup: ProcessCgroup | None = None):
    """A ``preexec_fn`` for the kernel's process that sets its limits (``None``: unlimited).

    Memory is ``RLIMIT_DATA`` (heap and private mappings): unlike ``RLIMIT_AS`` it leaves
    alone the large address-space reservations that CUDA makes. Processes is ``RLIMIT_NPROC``,
    which the kernel (root excepted) counts over all processes of the user; a kernel run as
    root joins ``cgroup`` instead.
    """
    def apply():
        if cgroup is not None:
            cgroup.join()
        if memory:
            resource.setrlimit(resource.RLIMIT_DATA, (memory, memory))
        if processes:
            resource.setrlimit(resource.RLIMIT_NPROC, (processes, processes))
    return apply


def kernel_owner(user: str, within: list[Path] | None = None) -> tuple[int, int] | None:
    """``(uid, gid)`` of ``user``, whom grading kernels run as when this process is root (an
    unprivileged user cannot write the course, read the grader's scratch folders or escape the
    process limit); ``None`` when not root or no such user: kernels then run as this user.

    The kernel's Python must be usable by that user. ``within``: the folders the OS boundary
    mounts for the kernel (the Python environment's), so the folders above them do not matter
    (a Python installed under ``/root`` is reachable inside)."""
    if not user or not hasattr(os, "getuid") or os.getuid() != 0:
        return None
    import pwd

    try:
        entry = pwd.getpwnam(user)
    except KeyError:
        return None
    owner = entry.pw_uid, entry.pw_gid
    return owner if _usable_by(Path(os.path.realpath(sys.executable)), owner, within) else None


def _usable_by(path: Path, owner: tuple[int, int], within: list[Path] | None = None) -> bool:
    """Whether ``owner`` may run the file at ``path`` (every folder above it searchable, up to
    the one of ``within`` that holds it)."""
    def allowed(p: Path, bits: tuple[int, int, int]) -> bool:
        st = p.stat()
        if st.st_uid == owner[0]:
            return bool(st.st_mode & bits[0])
        if st.st_gid == owner[1]:
            return bool(st.st_mode & bits[1])
        return bool(st.st_mode & bits[2])
    search = (stat.S_IXUSR, stat.S_IXGRP, stat.S_IXOTH)
    run = (stat.S_IXUSR | stat.S_IRUSR, stat.S_IXGRP | stat.S_IRGRP, stat.S_IXOTH | stat.S_IROTH)
    roots = [Path(r) for r in within or []]
    root = next((r for r in roots if r in path.parents), None)
    folders = [f for f in path.parents if root is None or f == root or root in f.parents]
    try:
        return allowed(path, run) and all(allowed(folder, search) for folder in folders)
    except OSError:
        return False


def hand_over(folder: Path, owner: tuple[int, int]) -> None:
    """Make ``folder`` and everything in it belong to ``owner``."""
    os.chown(folder, *owner)
    for parent, dirs, files in os.walk(folder):
        for name in dirs + files:
            os.chown(os.path.join(parent, name), *owner, follow_symlinks=False)


def process_limit_enforced(owner: tuple[int, int] | None) -> bool:
    """Whether a grading kernel run as ``owner`` can be held to a number of processes:
    ``RLIMIT_NPROC`` holds for any user but root, a pids cgroup for root too."""
    if (owner[0] if owner else os.getuid()) != 0:
        return True
    cgroup = ProcessCgroup.create(1)
    if cgroup is None:
        return False
    cgroup.remove()
    return True


class ProcessCgroup:
    """A pids cgroup that caps a kernel's processes, for a kernel that runs as root (root is
    exempt from ``RLIMIT_NPROC``). Everything in it is killed by :meth:`remove`, processes that
    left the kernel's session included. Needs a writable pids hierarchy (cgroup v1's
    ``/sys/fs/cgroup/pids``, or v2 with the pids controller enabled)."""

    ROOTS = (Path("/sys/fs/cgroup/pids"), Path("/sys/fs/cgroup"))

    def __init__(self, path: Path):
        self.path = path

    @classmethod
    def create(cls, limit: int) -> "ProcessCgroup | None":
        for root in cls.ROOTS:
            if not (root / "cgroup.procs").is_file():
                continue
            path = Path(tempfile.mkdtemp(prefix="grader-kernel-", dir=root)) if os.access(root, os.W_OK) else None
            if path is None:
                continue
            if (path / "pids.max").is_file():
                try:
                    (path / "pids.max").write_text(str(limit))
                    return cls(path)
                except OSError:
                    pass
            _rmdir(path)
        return None

    def join(self) -> None:
        """Move the calling process (the kernel, from its ``preexec_fn``) into the cgroup."""
        (self.path / "cgroup.procs").write_text(str(os.getpid()))

    def remove(self) -> None:
        """Kill every process in the cgroup, then remove it."""
        for _ in range(50):
            try:
                pids = [int(p) for p in (self.path / "cgroup.procs").read_text().split()]
            except OSError:
                return
            if not pids:
                break
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            time.sleep(0.05)
        _rmdir(self.path)


def _rmdir(path: Path) -> None:
    for _ in range(20):
        try:
            path.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:   # the last processes are still being reaped
            time.sleep(0.05)


def running_processes(uid: int | None = None) -> int:
    """How many processes ``uid`` (default: this user) has now; ``RLIMIT_NPROC`` counts them all."""
    uid = os.getuid() if uid is None else uid
    return sum(1 for p in Path("/proc").iterdir() if p.name.isdigit() and _owner(p) == uid)


def kill_group(pgid: int | None) -> None:
    """Kill what is left of a kernel's process group (processes it forked and left behind)."""
    if pgid and pgid > 1:
        try:
            os.killpg(pgid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def _owner(path: Path) -> int | None:
    try:
        return path.stat().st_uid
    except OSError:
        return None
