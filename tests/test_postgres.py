"""A PostgreSQL gradebook (``MLP_COURSE_DB_URL``) holds exactly what the SQLite one holds after
the same parallel autograde. Starts a real PostgreSQL server on localhost (Debian's
``postgresql``, which ``.ci/run`` installs); skips with one line where there is none."""

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

from grader import batch, course
from tests.test_batch import ASSIGNMENT, _course

pytestmark = pytest.mark.slow


def _binary(name):
    found = shutil.which(name) or sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found if isinstance(found, str) else (found[-1] if found else None)


def _as_server_user(command):
    # PostgreSQL refuses to run as root: run it as the `postgres` account Debian creates.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def postgres():
    initdb, pg_ctl = _binary("initdb"), _binary("pg_ctl")
    if not initdb or not pg_ctl:
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql; .ci/run does)")
    pytest.importorskip("psycopg2")
    # Not under pytest's tmp_path: its folders are private to this user, and the server runs as another.
    data = Path(tempfile.mkdtemp(prefix="course-pg-"))
    if os.geteuid() == 0:
        shutil.chown(data, "postgres", "postgres")
    port = _free_port()
    run = lambda *cmd: subprocess.run(_as_server_user(list(cmd)), check=True, capture_output=True, text=True)
    run(initdb, "-D", str(data / "db"), "-A", "trust", "-U", "grader", "--no-sync")
    run(pg_ctl, "-D", str(data / "db"), "-w", "-l", str(data / "log"),
        "-o", f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c fsync=off", "start")
    try:
        run(_binary("createdb") or "createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "grader", "gradebook")
        yield f"postgresql+psycopg2://grader@127.0.0.1:{port}/gradebook"
    finally:
        subprocess.run(_as_server_user([pg_ctl, "-D", str(data / "db"), "-m", "immediate", "stop"]),
                       capture_output=True)
        shutil.rmtree(data, ignore_errors=True)


def _gradebook(root):
    from nbgrader.api import Gradebook

    with Gradebook(course.config(root).CourseDirectory.db_url) as gb:
        return {(s.student.id, g.notebook.name, g.name): (float(g.score), float(g.max_score))
                for s in gb.assignment_submissions(ASSIGNMENT) for nb in s.notebooks for g in nb.grades}


def test_postgres_gradebook_equals_sqlite(postgres, tmp_path, monkeypatch):
    sqlite_root = _course(tmp_path / "sqlite")
    batch.autograde(root=sqlite_root, jobs=2, progress=False)
    expected = _gradebook(sqlite_root)

    monkeypatch.setenv("MLP_COURSE_DB_URL", postgres)
    pg_root = _course(tmp_path / "postgres")
    rows = batch.autograde(root=pg_root, jobs=2, progress=False)
    assert all(r.status == "graded" for r in rows)
    assert not (Path(pg_root) / "grader" / "gradebook.db").exists(), "graded into SQLite after all"
    assert _gradebook(pg_root) == expected and expected
