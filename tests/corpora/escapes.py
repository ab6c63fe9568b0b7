"""Attempts to climb the OS boundary around a grading kernel (grader/nbgrader_ext/boundary.py).

Each :class:`Escape` is something a hostile student would try from a hand-in of 01: read the
hidden tests or another student's work, reach the neighbour's kernel, plant code for a later
grading, outlive the batch, talk to the network, read the grader's secrets. Its ``code`` is the
body of a function that makes the attempt and returns what it got (anything truthy: the wall
was climbed) or raises (the wall held). The escapes of one ``group`` go into one hand-in, at the
end of the answer cell of ``accuracy`` (whose code is the solution's), and each prints one line:

    ESCAPE <name>: blocked: <what stopped it>
    ESCAPE <name>: REACHED: <what it got>
    ESCAPE <name>: outside: <what it did>     (the test checks the host after grading)

``tests/test_escapes.py`` grades every group with the boundary required, as root and as an
ordinary user, through ``grader autograde --jobs 2``: every line must say ``blocked`` (or the
host must show nothing of an ``outside`` one), every hand-in keeps the full marks it earns
alone, and no feedback page or score holds a line of a hidden test. Escapes marked
``reaches_unsandboxed`` are also run in a plain process against a fake course, where they must
reach it: an attempt that cannot succeed anywhere proves nothing.

Placeholders the test fills in: ``COURSE_ROOT``, ``TCP_PORT``, ``UDP_PORT``, ``ABSTRACT_NAME``
(an abstract unix socket), ``SECRET_NAME`` (a variable of the grader's environment), ``MARK``
(digits unique to the run, in the names of what an attempt leaves behind).
"""

from __future__ import annotations

from dataclasses import dataclass

import nbformat

from grader.proving.variants import make_submission

ASSIGNMENT, NOTEBOOK, TARGET = "01_perceptron", "perceptron", "accuracy"
PLACEHOLDERS = ("COURSE_ROOT", "TCP_PORT", "UDP_PORT", "ABSTRACT_NAME", "SECRET_NAME", "MARK")


@dataclass(frozen=True)
class Escape:
    name: str
    group: str
    description: str
    code: str                          # the body of the attempt: returns what it got, or raises
    outside: bool = False              # what it did is checked on the host after grading
    reaches_unsandboxed: bool = False  # in a plain process it reaches the fake course (safe to try)


PRELUDE = '''
def _escape(name, attempt, outside=False):
    """Make one attempt and say how it went (tests/corpora/escapes.py)."""
    try:
        got = attempt()
    except BaseException as exc:   # noqa: the attempt's failure is the point
        print(f"ESCAPE {name}: blocked: {type(exc).__name__}: {exc}"[:240])
        return
    if outside:
        print(f"ESCAPE {name}: outside: {got!r}"[:240])
    elif got:
        print(f"ESCAPE {name}: REACHED: {got!r}"[:240])
    else:
        print(f"ESCAPE {name}: blocked: nothing there ({got!r})"[:240])


def _own_processes():
    """This kernel, its ancestors, its descendants and their threads (ids as this kernel sees them)."""
    import os
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                status = open(f"/proc/{entry}/status").read()
                parents[int(entry)] = int(status.split("PPid:")[1].split()[0])
            except (OSError, IndexError, ValueError):
                pass
    own, pid = set(), os.getpid()
    while pid:
        own.add(pid)
        pid = parents.get(pid, 0)
    grown = True
    while grown:
        grown = False
        for child, parent in parents.items():
            if parent in own and child not in own and parent != 0 and parent >= os.getpid():
                own.add(child)
                grown = True
    for pid in list(own):   # and their threads, whose ids are process ids to kill(2)
        try:
            own |= {int(t) for t in os.listdir(f"/proc/{pid}/task")}
        except OSError:
            pass
    return own
'''

CORPUS = [
    # -- files: the course, other students, the grader's scratch folders, the machine's secrets
    Escape("hidden_tests_by_path", "files", "opens the source notebook (hidden tests) by absolute path",
           'return open(COURSE_ROOT + "/solutions/01_perceptron/perceptron.ipynb").read()[:60]',
           reaches_unsandboxed=True),
    Escape("another_students_hand_in", "files", "reads alice's hand-in in the course",
           'return open(COURSE_ROOT + "/grader/submitted/alice/01_perceptron/perceptron.ipynb").read()[:60]',
           reaches_unsandboxed=True),
    Escape("gradebook", "files", "reads the course's gradebook",
           'return open(COURSE_ROOT + "/grader/gradebook.db", "rb").read(16)', reaches_unsandboxed=True),
    Escape("symlink_out", "files", "a symbolic link in its own folder to the course's solutions",
           'import os\nos.symlink(COURSE_ROOT + "/solutions", "solutions_link")\nreturn os.listdir("solutions_link")',
           reaches_unsandboxed=True),
    Escape("scratch_courses", "files", "lists the grader's scratch courses and other kernels' workspaces "
           "in the temporary folder",
           'import glob, tempfile\nreturn sorted(set(glob.glob(tempfile.gettempdir() + "/grader-*") + glob.glob("/tmp/grader-*")))'),
    Escape("root_home", "files", "lists root's home, beyond the path to the Python environment",
           'import os, sys\n'
           'keep = [os.path.realpath(p) for p in (sys.prefix, sys.base_prefix)]\n'
           'if not os.path.isdir("/root"):\n'
           '    raise FileNotFoundError("/root")\n'
           'found = []\n'
           'for folder, dirs, files in os.walk("/root"):\n'
           '    towards = [d for d in dirs if any(k == os.path.join(folder, d) or k.startswith(os.path.join(folder, d) + "/") for k in keep)]\n'
           '    found += [os.path.join(folder, n) for n in files] + [os.path.join(folder, d) for d in dirs if d not in towards]\n'
           '    dirs[:] = [d for d in towards if os.path.join(folder, d) not in keep]\n'
           'return found'),
    Escape("home_folders", "files", "lists /home", 'import os\nreturn os.listdir("/home")'),
    Escape("etc_shadow", "files", "reads /etc/shadow", 'return open("/etc/shadow").read()[:30]'),
    Escape("proc_pid_root", "files", "looks for the course through every process's /proc/PID/root",
           'import os\n'
           'for pid in [p for p in os.listdir("/proc") if p.isdigit()]:\n'
           '    try:\n'
           '        return pid, os.listdir(f"/proc/{pid}/root" + COURSE_ROOT + "/solutions")\n'
           '    except OSError:\n'
           '        pass'),
    Escape("mountinfo_paths", "files", "takes every host path /proc/self/mountinfo names and looks "
           "beside and above it for the course",
           'import os\n'
           'paths = set()\n'
           'for line in open("/proc/self/mountinfo"):\n'
           '    for field in line.split():\n'
           '        if field.startswith("/"):\n'
           '            paths.add(field)\n'
           'found = []\n'
           'for path in paths:\n'
           '    while path not in ("/", ""):\n'
           '        for name in ("solutions", "grader/gradebook.db", "source"):\n'
           '            if os.path.exists(os.path.join(path, name)):\n'
           '                found.append(os.path.join(path, name))\n'
           '        path = os.path.dirname(path)\n'
           'return found'),
    Escape("print_every_file", "files", "prints every file it can open that holds an nbgrader test",
           'import os, sys\n'
           'skip = ("/proc", "/sys", "/dev", "/usr", os.path.realpath(sys.prefix), os.path.realpath(sys.base_prefix))\n'
           'found = []\n'
           'for folder, dirs, files in os.walk("/"):\n'
           '    dirs[:] = [d for d in dirs if not os.path.join(folder, d).startswith(skip)]\n'
           '    for name in files:\n'
           '        path = os.path.join(folder, name)\n'
           '        try:\n'
           '            data = open(path, "rb").read(2_000_000)\n'
           '        except OSError:\n'
           '            continue\n'
           '        if b"HIDDEN TESTS" in data or b"SQLite format" in data[:16]:\n'
           '            print(path, data.decode(errors="replace"))\n'
           '            found.append(path)\n'
           'return found'),
    # -- persistence: code planted for a later kernel or grading
    Escape("pth_in_environment", "persistence", "writes a .pth file into the Python environment's "
           "site-packages (its import lines run in every later Python)",
           'import site\npath = site.getsitepackages()[0] + "/zz_MARK.pth"\n'
           'open(path, "w").write("import os\\n")\nreturn path'),
    Escape("pyc_in_environment", "persistence", "plants a compiled module in NumPy's __pycache__",
           'import numpy, os\nfolder = os.path.join(os.path.dirname(numpy.__file__), "__pycache__")\n'
           'os.makedirs(folder, exist_ok=True)\npath = os.path.join(folder, "MARK.cpython-311.pyc")\n'
           'open(path, "wb").write(b"planted")\nreturn path'),
    Escape("checks_for_the_next_kernel", "persistence", "rewrites its workspace's copy of the checks, "
           "which a replacement kernel (after a crash) would import",
           'import os, utils\npath = os.path.join(os.path.dirname(utils.__file__), "checks", "assertions.py")\n'
           'open(path, "a").write("\\ndef expect_close(*a, **k):\\n    return None\\n")\nreturn path'),
    Escape("pyc_for_the_checks", "persistence", "plants a compiled module beside its checks",
           'import os, utils\nfolder = os.path.join(os.path.dirname(utils.__file__), "checks", "__pycache__")\n'
           'os.makedirs(folder, exist_ok=True)\nopen(os.path.join(folder, "assertions.cpython-311.pyc"), "wb").write(b"x")\n'
           'return folder'),
    Escape("host_dev_shm", "persistence", "reads a file the grader's side left in /dev/shm, and "
           "leaves one there itself (the test checks the host's /dev/shm)",
           'open("/dev/shm/MARK-kernel", "w").write("left behind")\nreturn open("/dev/shm/MARK-host").read()',
           reaches_unsandboxed=True),
    Escape("core_pattern", "persistence", "sets the kernel's core dump handler to a program (run as "
           "root on the next crash)",
           'open("/proc/sys/kernel/core_pattern", "w").write("|/bin/sh -c true")\nreturn "written"'),
    Escape("leave_the_cgroup", "persistence", "moves itself into the root cgroup, out of its process limit",
           'import os\nopen("/sys/fs/cgroup/cgroup.procs", "w").write(str(os.getpid()))\nreturn "moved"'),
    # -- processes: the neighbour, and outliving the kernel
    Escape("neighbour_kernel", "processes", "waits for another grading kernel (its process or its "
           "connection file), then runs code in it that breaks `step`",
           'import glob, json, os, time\n'
           'own = _own_processes()\n'
           'deadline = time.monotonic() + 6\n'
           'while time.monotonic() < deadline:\n'
           '    files = set(glob.glob("/tmp/grader-*/kernel*.json") + glob.glob("/tmp/grader-*/*/kernel*.json"))\n'
           '    for pid in [int(p) for p in os.listdir("/proc") if p.isdigit()]:\n'
           '        try:\n'
           '            argv = open(f"/proc/{pid}/cmdline").read().split("\\0")\n'
           '        except OSError:\n'
           '            continue\n'
           '        if pid not in own and "-f" in argv:\n'
           '            files.add(argv[argv.index("-f") + 1])\n'
           '    for path in files:\n'
           '        try:\n'
           '            from jupyter_client import BlockingKernelClient\n'
           '            client = BlockingKernelClient(connection_file=path)\n'
           '            client.load_connection_file()\n'
           '            client.start_channels()\n'
           '            client.execute("def step(z):\\n    return 0 * z", store_history=False)\n'
           '            return path\n'
           '        except Exception:\n'
           '            pass\n'
           '    time.sleep(0.2)'),
    Escape("signal_the_others", "processes", "asks every process id whether it exists (signal 0): "
           "any that is not this kernel's own could be killed or stopped",
           'import os\nown = _own_processes()\nfound = []\n'
           'for pid in range(1, 1 << 16):\n'
           '    if pid in own:\n'
           '        continue\n'
           '    try:\n'
           '        os.kill(pid, 0)\n'
           '        found.append(pid)\n'
           '    except ProcessLookupError:\n'
           '        pass\n'
           '    except PermissionError:\n'
           '        found.append(pid)\n'
           'return [p for p in found if p not in _own_processes()]'),
    Escape("neighbour_cpu_times", "processes", "reads the CPU times of every process not its own "
           "(timing the neighbour)",
           'import os\nown = _own_processes()\nfound = {}\n'
           'for pid in [int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) not in own]:\n'
           '    try:\n'
           '        found[pid] = open(f"/proc/{pid}/stat").read().split()[13:15]\n'
           '    except OSError:\n'
           '        pass\n'
           'return {p: t for p, t in found.items() if p not in _own_processes()}'),
    Escape("ptrace_the_sandbox", "processes", "attaches a debugger (ptrace) to every process it "
           "sees but its own children: the sandbox's first processes hold the host's view",
           'import ctypes, os\nlibc = ctypes.CDLL(None, use_errno=True)\n'
           'mine, attached = os.getpid(), []\n'
           'children = _own_processes() - {mine}\n'
           'for pid in sorted(int(p) for p in os.listdir("/proc") if p.isdigit()):\n'
           '    ancestor = pid < mine   # the sandbox started before this kernel\n'
           '    if pid == mine or (pid in children and not ancestor):\n'
           '        continue\n'
           '    if libc.ptrace(16, pid, 0, 0) == 0:   # PTRACE_ATTACH\n'
           '        attached.append(pid)\n'
           '        libc.ptrace(17, pid, 0, 0)         # PTRACE_DETACH\n'
           'return attached'),
    Escape("setsid_survivor", "processes", "starts a process in a session of its own, to outlive "
           "the kernel (the test looks for it afterwards)",
           'import subprocess\nreturn subprocess.Popen(["sleep", "3MARK"], start_new_session=True).pid',
           outside=True),
    Escape("double_fork_daemon", "processes", "a daemon by double fork and setsid (the test looks "
           "for it afterwards)",
           'import os\n'
           'if os.fork() == 0:\n'
           '    os.setsid()\n'
           '    if os.fork() == 0:\n'
           '        os.execvp("sleep", ["sleep", "4MARK"])\n'
           '    os._exit(0)\n'
           'os.wait()\nreturn "forked"', outside=True),
    # -- network
    Escape("tcp_to_the_host", "network", "connects to a TCP server of the grader's machine on the loopback",
           'import socket\nreturn socket.create_connection(("127.0.0.1", TCP_PORT), timeout=3).getpeername()',
           reaches_unsandboxed=True),
    Escape("loopback_listeners", "network", "lists every listening TCP socket it can see that is "
           "not its own process's",
           'import os\n'
           'own = set()\n'
           'for pid in _own_processes():\n'
           '    try:\n'
           '        fds = os.listdir(f"/proc/{pid}/fd")\n'
           '    except OSError:\n'
           '        continue\n'
           '    for fd in fds:\n'
           '        try:\n'
           '            own.add(os.readlink(f"/proc/{pid}/fd/{fd}"))\n'
           '        except OSError:\n'
           '            pass\n'
           'found = []\n'
           'for name in ("/proc/net/tcp", "/proc/net/tcp6"):\n'
           '    for line in open(name).readlines()[1:]:\n'
           '        fields = line.split()\n'
           '        if fields[3] == "0A" and f"socket:[{fields[9]}]" not in own:\n'
           '            found.append(fields[1])\n'
           'return found', reaches_unsandboxed=True),
    Escape("udp_to_the_host", "network", "sends a datagram to a UDP socket of the grader's machine "
           "(the test checks that nothing arrived)",
           'import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n'
           'return s.sendto(b"MARK", ("127.0.0.1", UDP_PORT))', outside=True),
    Escape("raw_socket", "network", "opens a raw socket (to craft packets, sniff the loopback)",
           'import socket\nreturn socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)'),
    Escape("packet_socket", "network", "opens a packet socket (every frame of an interface)",
           'import socket\nreturn socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 3)'),
    Escape("abstract_unix_socket", "network", "connects to an abstract unix socket of the grader's machine",
           'import socket\ns = socket.socket(socket.AF_UNIX)\ns.connect("\\0" + ABSTRACT_NAME)\nreturn "connected"',
           reaches_unsandboxed=True),
    Escape("network_interfaces", "network", "lists its network interfaces other than the loopback",
           'import socket\nreturn [name for _, name in socket.if_nameindex() if name != "lo"]'),
    # -- privileges and the environment
    Escape("grader_environment", "privileges", "reads a secret from the grader's environment",
           'import os\nreturn os.environ.get(SECRET_NAME)', reaches_unsandboxed=True),
    Escape("become_root", "privileges", "sets its user id to 0", 'import os\nos.setuid(0)\nreturn os.getuid() == 0'),
    Escape("nested_user_namespace", "privileges", "makes a user namespace of its own (to get "
           "capabilities in it and remount its view writable), from a single-threaded child",
           'import ctypes, os\n'
           'pid = os.fork()\n'
           'if pid == 0:\n'
           '    libc = ctypes.CDLL(None, use_errno=True)\n'
           '    os._exit(0 if libc.unshare(0x10000000) == 0 else ctypes.get_errno())\n'
           'code = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])\n'
           'if code:\n'
           '    raise OSError(code, os.strerror(code))\n'
           'return "unshared"'),
    Escape("remount_writable", "privileges", "remounts the Python environment writable",
           'import ctypes, os, sys\nlibc = ctypes.CDLL(None, use_errno=True)\n'
           'target = os.path.realpath(sys.prefix).encode()\n'
           'if libc.mount(None, target, None, 0x20 | 0x1000, None) != 0:   # MS_REMOUNT | MS_BIND\n'
           '    raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))\nreturn "remounted"'),
    Escape("fill_tmp", "privileges", "fills /tmp (memory: a tmpfs) until it is refused",
           'import errno, os\nwritten = 0\nchunk = b"x" * (64 << 20)\n'
           'try:\n'
           '    with open("/tmp/MARK-fill", "wb") as f:\n'
           '        for _ in range(40):\n'
           '            f.write(chunk)\n'
           '            f.flush()\n'
           '            written += 64\n'
           'finally:\n'
           '    if os.path.exists("/tmp/MARK-fill"):\n'
           '        os.remove("/tmp/MARK-fill")\n'
           'return f"{written} MiB written"'),
]

BY_NAME = {escape.name: escape for escape in CORPUS}
assert len(BY_NAME) == len(CORPUS), "escape names must be unique"
GROUPS = sorted({escape.group for escape in CORPUS})


def program(escapes: list[Escape], values: dict[str, str]) -> str:
    """The code that makes ``escapes``' attempts, one after another, with the placeholders filled in."""
    lines = [PRELUDE]
    for escape in escapes:
        body = "".join(f"    {line}\n" for line in escape.code.splitlines())
        lines.append(f"def _attempt_{escape.name}():\n{body}\n"
                     f"_escape({escape.name!r}, _attempt_{escape.name}, outside={escape.outside})\n")
    text = "\n".join(lines)
    for name in sorted(PLACEHOLDERS, key=len, reverse=True):
        text = text.replace(name, values[name])
    return text


def make(group: str, release, solution, values: dict[str, str]) -> bytes:
    """The hand-in of 01 whose ``accuracy`` answer cell ends with ``group``'s attempts."""
    nb = make_submission(release, solution, [])
    cell = next(c for c in nb.cells if c.cell_type == "code" and f"def {TARGET}(" in c.source)
    cell.source = cell.source.rstrip("\n") + "\n\n" + program([e for e in CORPUS if e.group == group], values)
    return nbformat.writes(nb).encode()


def verdicts(text: str) -> dict[str, tuple[str, str]]:
    """``{name: (verdict, detail)}`` of the ESCAPE lines in a cell's printed ``text``."""
    found = {}
    for line in text.splitlines():
        if line.startswith("ESCAPE ") and ": " in line:
            name, rest = line[len("ESCAPE "):].split(": ", 1)
            verdict, _, detail = rest.partition(": ")
            found[name] = (verdict, detail)
    return found
