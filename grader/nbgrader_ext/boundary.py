"""The OS boundary around a grading kernel: bubblewrap namespaces that the kernel cannot see past.

A hand-in is hostile code. Whatever the kernel is told not to do, it can do what its process
may do; so here it is given a process that may do almost nothing. Each grading kernel runs
inside `bubblewrap <https://github.com/containers/bubblewrap>`_ (``bwrap``) with

- a user namespace mapped to an unprivileged user (the grader's own user, or ``nobody`` when
  grading runs as root), every capability dropped, no new privileges, no nested namespaces;
- a mount namespace whose whole view is: read-only the system's programs and libraries
  (``/usr`` and its links), the Python environment and a few files of ``/etc``; the kernel's
  workspace at ``/workspace`` (writable; its ``utils/`` and ``data/`` read-only); an empty
  private ``/tmp`` and ``/dev/shm``; its own ``/proc`` and a minimal ``/dev``; its ipc socket
  folder. Not the course, ``solutions/``, ``grader/``, a gradebook, the scratch course, another
  kernel's workspace, ``/root``, ``/home``;
- no network (a network namespace with a loopback of its own: the client talks to the kernel
  over Jupyter's ipc transport, unix sockets in the socket folder);
- its own process tree (``--unshare-pid``, ``--die-with-parent``): every process the notebook
  started ends with its kernel;
- an environment built from an allowlist (:data:`ALLOWED_VARIABLES`), nothing else of the
  grader's;
- on a machine with NVIDIA GPUs, their device nodes and ``/sys`` (read-only), so that grading on
  ``cuda`` still works.

Where the boundary cannot be had (no ``bwrap``, user namespaces switched off, not Linux),
:func:`unavailable` says why and how to fix it; grading then runs with the workspace and limits
of :mod:`grader.nbgrader_ext.sandbox` alone, unless isolation is required.
"""

from __future__ import annotations

import functools
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

MODES = ("auto", "require", "off")   # RobustExecute.isolation, `--isolation`
WORKSPACE = Path("/workspace")       # where the kernel's workspace is, inside the boundary
SOCKETS = Path("/run/kernel")        # where its ipc socket folder is, inside
KERNEL_NAME = "student"              # the kernel's user name, inside
TMPFS_BYTES = 1 << 30                # each of /tmp and /dev/shm: memory, so bounded
# The environment a kernel gets: these names (and the course's own MLP_COURSE_*), where set.
ALLOWED_VARIABLES = (
    "PATH", "LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE", "LC_NUMERIC", "TZ", "TERM",
    "HOME", "IPYTHONDIR", "MPLCONFIGDIR", "MPLBACKEND", "PYTHONPATH", "PYTHONNOUSERSITE",
    "PYTHONDONTWRITEBYTECODE", "PYTHONHASHSEED", "PYTHONUNBUFFERED",
    "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE",
    "CUDA_VISIBLE_DEVICES", "CUBLAS_WORKSPACE_CONFIG",
)
ALLOWED_PREFIXES = ("MLP_COURSE_",)
# System files the kernel's programs read; the rest of /etc (passwd, shadow, ssh, the machine's
# configuration) stays outside. passwd and group are written for the kernel's one user.
ETC_FILES = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "alternatives", "fonts",
             "nsswitch.conf", "mime.types")
SYSTEM_LINKS = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")   # symbolic links into /usr, or folders
FIX = {
    "missing": "install it: `apt install bubblewrap` (Debian, Ubuntu), `dnf install bubblewrap` (Fedora)",
    "userns": "allow user namespaces: `sysctl -w kernel.unprivileged_userns_clone=1` (Debian), "
              "`sysctl -w kernel.apparmor_restrict_unprivileged_userns=0` (Ubuntu 24.04), "
              "`sysctl -w user.max_user_namespaces=15000`; in a container, run it with "
              "`--security-opt seccomp=unconfined` or grade on the host",
    "platform": "grade on Linux (a VM or a Linux container on this machine)",
}


class IsolationUnavailable(RuntimeError):
    """Isolation is required (``--isolation require``) and this machine cannot give it."""

    def __init__(self, reason: str):
        super().__init__(f"isolation is required, but {reason}")
        self.reason = reason


def allowed_environment(env: dict[str, str]) -> dict[str, str]:
    """The variables of ``env`` that a kernel inside the boundary gets."""
    return {k: v for k, v in env.items() if k in ALLOWED_VARIABLES or k.startswith(ALLOWED_PREFIXES)}


def unavailable(owner: tuple[int, int] | None = None) -> str | None:
    """Why the boundary cannot be had on this machine, with the fix (``None``: it can); see
    :func:`_unavailable`."""
    return _unavailable(owner, _bwrap())


@functools.lru_cache(maxsize=None)
def _unavailable(owner: tuple[int, int] | None, program: str) -> str | None:
    """Why the boundary cannot be had on this machine, with the fix (``None``: it can).

    A real sandbox is started once per process (about 5 ms) with the same namespaces a kernel
    gets, as the user kernels run as (``owner``, when grading runs as root)."""
    if not sys.platform.startswith("linux"):
        return f"isolation needs Linux's namespaces (bubblewrap); this is {sys.platform}: {FIX['platform']}"
    if shutil.which(program) is None:
        return f"bubblewrap (`{program}`) is not installed: {FIX['missing']}"
    boundary = Boundary(workspace=Path(tempfile.mkdtemp(prefix="grader-probe-")), readonly={},
                        sockets=None, owner=owner)
    if owner and os.getuid() == 0:
        os.chown(boundary.workspace, *owner)
    try:
        result = subprocess.run(boundary.wrap(["/bin/true"], {}), capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bubblewrap could not start a sandbox ({exc}): {FIX['userns']}"
    finally:
        boundary.remove()
        shutil.rmtree(boundary.workspace, ignore_errors=True)
    if result.returncode != 0:
        reason = result.stderr.strip().splitlines()[-1:] or [f"exit status {result.returncode}"]
        return f"bubblewrap could not start a sandbox ({reason[0]}): {FIX['userns']}"
    return None


def check(mode: str, kernel_user: str = "nobody") -> str | None:
    """Before grading with isolation ``mode`` (:data:`MODES`): the one line to print when
    grading will run without the boundary (``None``: it runs inside). Raises
    :class:`IsolationUnavailable` when it is required and cannot be had."""
    from grader.nbgrader_ext import sandbox

    if mode not in MODES:
        raise ValueError(f"isolation must be one of {', '.join(MODES)}, not {mode!r}")
    if mode == "off":
        return fallback_line("switched off (isolation = 'off')")
    reason = unavailable(sandbox.kernel_owner(kernel_user, python_prefixes()))
    if reason is not None and mode == "require":
        raise IsolationUnavailable(reason)
    return None if reason is None else fallback_line(reason)


def fallback_line(reason: str) -> str:
    """The one line grading prints when it runs without the boundary."""
    return (f"isolation off: {reason}. Grading kernels ran without the OS boundary (workspace and "
            "limits only: a hand-in can read what the grader's user can read; grader/THREATS.md)")


def python_prefixes() -> list[Path]:
    """The folders of the Python environment a kernel needs: the environment's and its base's."""
    candidates = {Path(p) for p in (sys.prefix, sys.exec_prefix, sys.base_prefix, sys.base_exec_prefix)}
    candidates.add(Path(os.path.realpath(sys.executable)).parent.parent)
    real = sorted({Path(os.path.realpath(p)) for p in candidates} | candidates)
    # One bind per tree: a prefix inside another is already in the view.
    return [p for p in real if p.is_dir() and not any(q != p and q in p.parents for q in real)]


def gpu_devices() -> list[str]:
    """The NVIDIA device nodes of this machine (``/dev/nvidia0``, ``/dev/nvidiactl``, ...)."""
    return sorted(glob.glob("/dev/nvidia*"))


@dataclass
class Boundary:
    """One kernel's sandbox: what it sees, and the command that starts it inside.

    ``workspace`` (the kernel's folder on the host) is mounted writable at :data:`WORKSPACE`;
    ``readonly`` maps names inside it (``utils``, ``data``) to host folders mounted read-only;
    ``sockets`` (a host folder) is mounted at :data:`SOCKETS`; ``owner`` is the unprivileged
    ``(uid, gid)`` the kernel runs as when this process is root (``None``: as this user).
    ``hidden`` are host paths that must stay out of the view even where a bound folder holds
    them (the course, when the Python environment lives inside it).
    """

    workspace: Path
    readonly: dict[str, Path]
    sockets: Path | None
    owner: tuple[int, int] | None = None
    hidden: list[Path] = field(default_factory=list)

    @property
    def uid_gid(self) -> tuple[int, int]:
        if os.getuid() == 0:
            return self.owner or (65534, 65534)
        return os.getuid(), os.getgid()

    def inside(self, path: Path) -> Path:
        """Where the host ``path`` (in the workspace or the socket folder) is inside."""
        path = Path(path)
        for host, inner in ((self.workspace, WORKSPACE), (self.sockets, SOCKETS)):
            if host is not None and (path == host or host in path.parents):
                return inner / path.relative_to(host)
        return path

    def wrap(self, argv: list[str], env: dict[str, str]) -> list[str]:
        """The command that runs ``argv`` inside the boundary, with ``env``'s allowed variables.

        Two sandboxes, one inside the other. The first makes the view, the process, network,
        ipc and host-name namespaces and the environment; as root it runs as root (it can reach
        a Python under /root) and hands over to the kernel's user (setpriv: no capabilities, no
        new privileges); as any other user it makes a user namespace of its own. The second
        makes the kernel's user namespace, with nested ones disabled, over the same view: the
        sandbox's first processes are in the first one's namespace or root's, so the kernel
        cannot debug them (ptrace needs a capability there), and the view's mounts, inherited
        by a less privileged namespace, are locked read-only.
        """
        uid, gid = self.uid_gid
        first = ["--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
                 "--unshare-cgroup-try", "--hostname", "grading", "--die-with-parent"]
        # The kernel's parent, in its own process tree, is the sandbox's first process: pid 1,
        # which ipykernel neither watches (bwrap's --die-with-parent does) nor warns about.
        first += ["--clearenv", "--setenv", "JPY_PARENT_PID", "1"]
        for name, value in sorted(allowed_environment(env).items()):
            first += ["--setenv", name, value]
        first += [*self._view(uid, gid), "--chdir", str(WORKSPACE)]
        second = [_program("bwrap"), "--unshare-user", "--uid", str(uid), "--gid", str(gid),
                  "--disable-userns", "--new-session", "--die-with-parent", "--dev-bind", "/", "/",
                  "--chdir", str(WORKSPACE), "--", *argv]
        if os.getuid() == 0 and self.owner:
            drop = [_program("setpriv"), f"--reuid={uid}", f"--regid={gid}", "--clear-groups",
                    "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--"]
            return [_program("bwrap"), *first, "--", *drop, *second]
        own_user = ["--unshare-user", "--uid", str(uid), "--gid", str(gid), "--cap-drop", "ALL"]
        return [_program("bwrap"), *own_user, *first, "--", *second]

    def _view(self, uid: int, gid: int) -> list[str]:
        return with_parents(self._mounts(uid, gid))

    def _mounts(self, uid: int, gid: int) -> list[str]:
        view = ["--ro-bind", "/usr", "/usr"]
        for name in SYSTEM_LINKS:
            path = Path("/", name)
            if path.is_symlink():
                view += ["--symlink", os.readlink(path), str(path)]
            elif path.is_dir():
                view += ["--ro-bind", str(path), str(path)]
        for name in ETC_FILES:
            view += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
        etc = self._identity(uid, gid)
        view += ["--ro-bind", str(etc / "passwd"), "/etc/passwd", "--ro-bind", str(etc / "group"), "/etc/group"]
        view += ["--proc", "/proc", "--dev", "/dev",
                 "--perms", "1777", "--size", str(TMPFS_BYTES), "--tmpfs", "/tmp",
                 "--perms", "1777", "--size", str(TMPFS_BYTES), "--tmpfs", "/dev/shm",
                 "--ro-bind-try", "/sys/devices/system/cpu", "/sys/devices/system/cpu"]
        devices = gpu_devices()
        if devices:   # CUDA reads the PCI topology and the driver's files under /sys
            view += ["--ro-bind", "/sys", "/sys"]
            for device in devices:
                view += ["--dev-bind", device, device]
        bound = [Path("/usr")] + [Path("/", n) for n in SYSTEM_LINKS]
        for path in self.hidden:   # a folder of the course inside /usr (say) is hidden under an empty one
            if any(b == path or b in Path(path).parents for b in bound):
                view += ["--tmpfs", str(path)]
        for prefix in python_prefixes():
            if not any(b == prefix or b in prefix.parents for b in bound):
                view += ["--ro-bind", str(prefix), str(prefix)]
        for program in ("bwrap", "setpriv"):
            path = Path(_program(program))
            if not any(b in path.parents for b in bound):
                view += ["--ro-bind", str(path), str(path)]
        view += ["--bind", str(self.workspace), str(WORKSPACE)]
        for name, host in sorted(self.readonly.items()):
            view += ["--ro-bind", str(host), str(WORKSPACE / name)]
        if self.sockets is not None:
            view += ["--bind", str(self.sockets), str(SOCKETS)]
        return view

    def _identity(self, uid: int, gid: int) -> Path:
        """``passwd`` and ``group`` naming the kernel's one user (torch and getpass look it up)."""
        folder = self.workspace.parent / f"{self.workspace.name}-etc"
        folder.mkdir(exist_ok=True)
        (folder / "passwd").write_text(f"{KERNEL_NAME}:x:{uid}:{gid}::{WORKSPACE / 'home'}:/bin/sh\n")
        (folder / "group").write_text(f"{KERNEL_NAME}:x:{gid}:\n")
        return folder

    def remove(self) -> None:
        """Remove what this boundary made beside the workspace: its socket folder, its ``/etc`` files."""
        shutil.rmtree(self.workspace.parent / f"{self.workspace.name}-etc", ignore_errors=True)
        if self.sockets is not None:
            shutil.rmtree(self.sockets, ignore_errors=True)

    def connection_file(self, host_file: Path) -> Path:
        """Write the kernel's own copy of the connection file ``host_file`` (which names the
        sockets by their host paths), naming them by their paths inside; return its host path."""
        info = json.loads(Path(host_file).read_text())
        info["ip"] = str(self.inside(Path(info["ip"])))
        inner = Path(host_file).with_name(Path(host_file).stem + "-inside.json")
        inner.write_text(json.dumps(info))
        if os.getuid() == 0 and self.owner:
            os.chown(inner, *self.owner)
        return inner


# bwrap's options that take a source and a destination, and those that take a destination alone
_TWO = {"--bind", "--ro-bind", "--ro-bind-try", "--dev-bind", "--symlink"}
_ONE = {"--proc", "--dev", "--tmpfs", "--dir"}


def with_parents(view: list[str]) -> list[str]:
    """``view`` with every mount point's missing parent folders made first, readable and
    searchable by everyone: bwrap run as root makes them private to root, and the kernel's
    user could not reach ``/root/.pyenv/...`` through them."""
    made, out, i = {Path("/")}, [], 0
    while i < len(view):
        option = view[i]
        width = 3 if option in _TWO else 2 if option in _ONE | {"--perms", "--size"} else 1
        if option in _TWO or option in _ONE:
            destination = Path(view[i + width - 1])
            for parent in reversed(destination.parents):
                if parent not in made:
                    out += ["--perms", "0755", "--dir", str(parent)]
                    made.add(parent)
            made.add(destination)
        out += view[i:i + width]
        i += width
    return out


def _bwrap() -> str:
    """The bubblewrap program: ``MLP_COURSE_BWRAP`` (a name or a path), else ``bwrap``."""
    return os.environ.get("MLP_COURSE_BWRAP") or "bwrap"


def _program(name: str) -> str:
    if name == "bwrap":
        name = _bwrap()
    return shutil.which(name) or (name if "/" in name else f"/usr/bin/{name}")
