"""Helpers of the browser tests (tests/test_browser.py): a temporary copy of the course, a
JupyterLab server on it, and what a student or an instructor does in the page (open a
notebook, Run > Run All Cells), waiting as JupyterLab's own UI tests (Galata) do.

Nothing here downloads a browser: Playwright drives the system's ``/usr/bin/chromium``.
"""

from __future__ import annotations

import ast
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
# As root Chromium needs --no-sandbox; the others keep it off the network and the GPU.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-gpu",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = ROOT / "tests" / "artifacts" / "browser"
VIEWPORT = {"width": 1400, "height": 1000}
MAX_SCREENSHOT_HEIGHT = 40_000  # px; a taller notebook is cut there (a screenshot stays a few MB)

# What a student or an instructor has in the course folder; grading state stays behind.
COURSE_FILES = ["notebooks", "solutions", "utils", "data", "grader", "nbgrader_config.py"]
LEFT_BEHIND = ["__pycache__", ".ipynb_checkpoints", "cifar-10", "gradebook.db", "autograded",
               "feedback", "reports", "grades.csv", "report.csv", ".nbgrader.log"]

# JupyterLab settings of the test server. Windowing "none": every cell is in the page (JupyterLab
# 4 otherwise attaches only the cells near the viewport); no blank space after the last cell in
# the screenshots. No news or update checks: no network, no notification over the screenshots.
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {
        "windowingMode": "none", "scrollPastEnd": False},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false", "checkForUpdates": False},
}


def unavailable() -> str | None:
    """Why the browser tests cannot run on this machine, in one line (None: they can)."""
    if not CHROMIUM.exists():
        return f"browser tests: {CHROMIUM} not found (apt install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return ("browser tests: Playwright is not installed "
                "(pip install -r requirements.txt -c constraints.txt)")
    return None


# --------------------------------------------------------------------------------------
# The course copy and its server
# --------------------------------------------------------------------------------------
def copy_course(target: Path) -> Path:
    """A copy of the course in ``target``, without the real course's grading state."""
    target.mkdir(parents=True, exist_ok=True)
    for name in COURSE_FILES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=shutil.ignore_patterns(*LEFT_BEHIND))
        else:
            shutil.copy2(source, target / name)
    return target


def course_environment(course: Path) -> dict[str, str]:
    """The environment of everything run on the copy: its own ``utils`` and ``grader`` first
    on the path, its own data and gradebook, one BLAS/torch thread (the machine is shared)."""
    env = dict(os.environ)
    env.pop("MPLBACKEND", None)  # the suite's Agg backend would keep figures out of the page
    env.pop("MLP_COURSE_DB_URL", None)
    env.update(PYTHONPATH=os.pathsep.join(filter(None, [str(course), env.get("PYTHONPATH")])),
               PATH=os.pathsep.join(filter(None, [str(Path(sys.executable).parent), env.get("PATH")])),
               MLP_COURSE_DATA=str(course / "data"), PYTHONDONTWRITEBYTECODE="1",
               OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    return env


def run_grader(course: Path, *args: str, timeout: float = 600) -> str:
    """``python -m grader ARGS`` in the copy (the course's own command line); its output."""
    done = subprocess.run([sys.executable, "-m", "grader", *args], cwd=course,
                          env=course_environment(course), capture_output=True, text=True,
                          timeout=timeout)
    assert done.returncode == 0, f"grader {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class JupyterLab:
    """JupyterLab of the project's environment on a free localhost port, serving ``course``
    from that folder (where nbgrader's formgrader reads ``nbgrader_config.py``). Its settings,
    workspaces, runtime files and log go to ``state``, never to the user's ~/.jupyter."""

    def __init__(self, course: Path, state: Path):
        self.course, self.state = course, state
        self.port, self.token = _free_port(), secrets.token_hex(16)
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = state / "jupyter.log"
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 180) -> "JupyterLab":
        settings = self.state / "lab-user-settings"
        for name, values in LAB_SETTINGS.items():
            (settings / name).parent.mkdir(parents=True, exist_ok=True)
            (settings / name).write_text(json.dumps(values))
        env = course_environment(self.course)
        for variable, folder in (("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_DATA_DIR", "data"),
                                 ("JUPYTER_RUNTIME_DIR", "runtime"), ("IPYTHONDIR", "ipython")):
            (self.state / folder).mkdir(parents=True, exist_ok=True)
            env[variable] = str(self.state / folder)
        command = [str(Path(sys.executable).parent / "jupyter"), "lab", "--no-browser",
                   "--ip=127.0.0.1", f"--port={self.port}", "--ServerApp.port_retries=0",
                   "--allow-root",  # CI runs as root; no effect otherwise
                   f"--IdentityProvider.token={self.token}",
                   f"--ServerApp.root_dir={self.course}",
                   f"--LabApp.user_settings_dir={settings}",
                   f"--LabApp.workspaces_dir={self.state / 'workspaces'}",
                   # window.jupyterapp: the tests read the notebook's outputs as JupyterLab holds them.
                   "--LabApp.expose_app_in_browser=True"]
        with open(self.log_path, "w") as log:
            # A session of its own: stopping its process group stops its kernels too.
            self.process = subprocess.Popen(command, cwd=self.course, env=env, stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"JupyterLab exited at start:\n{self.log()}")
            try:
                self.api("status")
                return self
            except OSError:
                time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"JupyterLab did not answer within {timeout:.0f} s:\n{self.log()}")

    def api(self, path: str, method: str = "GET"):
        """A call of the server's REST API; its JSON answer (None when empty)."""
        request = urllib.request.Request(f"{self.url}/api/{path}", method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=30) as answer:
            body = answer.read()
        return json.loads(body) if body else None

    def lab_url(self) -> str:
        """JupyterLab, logged in, with a fresh workspace (``reset``: no tab of an earlier test
        comes back and starts its kernel again)."""
        return f"{self.url}/lab?reset&token={self.token}"

    def shut_down_kernels(self) -> None:
        """End every notebook session and its kernel (training kernels hold memory)."""
        for session in self.api("sessions"):
            self.api(f"sessions/{session['id']}", method="DELETE")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:] if self.log_path.exists() else ""

    def stop(self) -> None:
        """Stop the server and its kernels: SIGTERM to its process group, then SIGKILL to
        whatever is left of it (a kernel that did not exit with the server)."""
        if self.process is None:
            return
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=30)


# --------------------------------------------------------------------------------------
# In the page
# --------------------------------------------------------------------------------------
NOTEBOOK = ".jp-NotebookPanel:not(.lm-mod-hidden)"  # the notebook on show
CELLS = f"{NOTEBOOK} .jp-Notebook .jp-Cell"


def load_lab(page, server: JupyterLab, timeout_ms: float = 180_000) -> None:
    """JupyterLab in ``page``, started and restored, with no notebook open. Loading it is most
    of what the browser spends on a notebook (about 11 CPU seconds, against about 2 for opening
    one more notebook in it), so the tests load it once and open their notebooks in it."""
    page.goto(server.lab_url())
    page.wait_for_function("() => window.jupyterapp !== undefined", timeout=timeout_ms)
    page.evaluate("async () => { await window.jupyterapp.restored; return true; }")


def open_notebook(page, server: JupyterLab, path: str, timeout_ms: float = 180_000) -> None:
    """Open ``path`` (relative to the course) in the JupyterLab of ``page`` as File > Open does,
    loading JupyterLab first if the page has none; wait until its kernel is idle."""
    if not page.evaluate("() => window.jupyterapp !== undefined"):
        load_lab(page, server, timeout_ms)
    page.evaluate("async path => { await window.jupyterapp.commands.execute('docmanager:open', {path}); "
                  "return true; }", path)
    page.locator(CELLS).first.wait_for(timeout=timeout_ms)
    wait_for_kernel_idle(page, timeout_ms)


def close_everything(page, server: JupyterLab) -> None:
    """Leave JupyterLab in ``page`` as it was after :func:`load_lab`: dialogs dismissed, every
    tab closed without saving (the course copy keeps its files as they were), every kernel shut
    down. A page in any other state is loaded afresh."""
    try:
        for _ in range(5):
            if page.locator(".jp-Dialog").count() == 0:
                break
            page.keyboard.press("Escape")
            page.wait_for_timeout(200)
        page.evaluate("() => { for (const w of Array.from(window.jupyterapp.shell.widgets('main'))) "
                      "w.dispose(); return true; }")
        clean = page.locator(".jp-Dialog").count() == 0
    except Exception:  # noqa: BLE001 -- a page that cannot be tidied is replaced
        clean = False
    server.shut_down_kernels()
    if not clean:
        load_lab(page, server)


def wait_for_kernel_idle(page, timeout_ms: float) -> None:
    """Wait, as Galata's ``waitForRun`` does, for "Idle" in the status bar."""
    page.locator("#jp-main-statusbar").get_by_text("Idle").first.wait_for(timeout=timeout_ms)


def menu(page, *path: str) -> None:
    """Click through the menu bar, e.g. ``menu(page, "Run", "Run All Cells")``."""
    page.locator("#jp-menu-panel").get_by_role("menuitem", name=path[0], exact=True).click()
    for item in path[1:]:
        page.locator(".lm-Menu:visible").last.get_by_role("menuitem", name=item, exact=True).click()


def run_all_cells(page, timeout_ms: float) -> None:
    """Run > Run All Cells, then wait until the run is over: the first code cell has its
    execution count (so the run began), no prompt says ``[*]`` (queued or running), and the
    kernel is idle. After an error the later cells stay unrun, as they do for a student."""
    menu(page, "Run", "Run All Cells")
    page.wait_for_function(
        """selector => {
            const prompts = [...document.querySelectorAll(selector)].map(p => p.textContent.trim());
            return prompts.length > 0 && /^\\[\\d+\\]:$/.test(prompts[0])
                && !prompts.some(p => p.includes("*"));
        }""", arg=f"{NOTEBOOK} .jp-CodeCell .jp-InputPrompt", timeout=timeout_ms, polling=500)
    wait_for_kernel_idle(page, timeout_ms)


def notebook_content(page) -> dict:
    """The notebook on show as JupyterLab holds it (nbformat JSON, outputs included)."""
    return page.evaluate("() => window.jupyterapp.shell.currentWidget.content.model.toJSON()")


def screenshot_path(name: str) -> Path:
    """Where the screenshot called ``name`` goes: ``tests/artifacts/browser/<name>.png``."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS / f"{name}.png"


def screenshot(page, name: str) -> Path:
    """A full-page screenshot, ``tests/artifacts/browser/<name>.png``."""
    path = screenshot_path(name)
    page.screenshot(path=str(path), full_page=True)
    return path


def screenshot_notebook(page, name: str) -> Path:
    """A screenshot of the whole notebook on show: JupyterLab scrolls the notebook inside a
    page of the window's size, so the window is made as tall as the notebook first."""
    scroller = page.locator(f"{NOTEBOOK} .jp-WindowedPanel-outer")
    overflow = scroller.evaluate("node => { node.scrollTop = 0; return node.scrollHeight - node.clientHeight; }")
    size = page.viewport_size
    page.set_viewport_size({"width": size["width"],
                            "height": min(size["height"] + overflow, MAX_SCREENSHOT_HEIGHT)})
    page.wait_for_timeout(500)  # let JupyterLab lay the taller page out
    try:
        return screenshot(page, name)
    finally:
        page.set_viewport_size(size)


# --------------------------------------------------------------------------------------
# Which cells plot
# --------------------------------------------------------------------------------------
def _calls(node) -> list[ast.Call]:
    return [n for n in ast.walk(node) if isinstance(n, ast.Call)]


def _called_name(call: ast.Call) -> str:
    """``plt.show`` for ``plt.show()``, ``plot_history`` for ``plot_history(...)``."""
    parts, func = [], call.func
    while isinstance(func, ast.Attribute):
        parts.append(func.attr)
        func = func.value
    if isinstance(func, ast.Name):
        parts.append(func.id)
    return ".".join(reversed(parts))


def plotting_cells(cells: list[dict], helpers: set[str]) -> list[int]:
    """The indices of the code cells of ``cells`` (nbformat cells) that draw a figure when they
    run: outside a function or class definition they call ``plt.*``, one of ``helpers`` (the
    course's plotting helpers), or a function the notebook defines that does."""
    from IPython.core.inputtransformer2 import TransformerManager

    def source(cell):
        text = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        return TransformerManager().transform_cell(text)  # IPython syntax (magics) to Python

    trees = {i: ast.parse(source(c)) for i, c in enumerate(cells) if c["cell_type"] == "code"}

    def plots(call, plotting):
        name = _called_name(call)
        return name.startswith("plt.") or name.rpartition(".")[2] in plotting

    # The notebook's own functions that plot, to a fixed point (one may call another).
    plotting = set(helpers)
    functions = [node for tree in trees.values() for node in ast.walk(tree)
                 if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]
    while more := {f.name for f in functions
                   if f.name not in plotting and any(plots(c, plotting) for c in _calls(f))}:
        plotting |= more

    def runs_when_the_cell_runs(tree):
        for statement in tree.body:
            if not isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                yield from _calls(statement)

    return [i for i, tree in trees.items()
            if any(plots(c, plotting) for c in runs_when_the_cell_runs(tree))]
