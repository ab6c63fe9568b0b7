"""The course on disk, and nbgrader set up to grade it.

Everything nbgrader needs comes from ``nbgrader_config.py`` at the course root; this module
only adds what a script must (absolute paths, so that it works from any working directory)
and lets a scratch copy of the course be graded without touching the real one.
"""

from __future__ import annotations

import functools
import os
import sys
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STUDENT = "student"  # the one student of a scratch course (``grader score``)


class GradingError(Exception):
    """Grading could not be done at all (as opposed to a submission that scored 0)."""


def assignments(root: Path = ROOT) -> list[str]:
    """The assignment ids: the folders of ``solutions/`` holding a notebook, in order."""
    return sorted(p.parent.name for p in (root / "solutions").glob("*/*.ipynb"))


def notebook_names(assignment: str, root: Path = ROOT) -> list[str]:
    """The assignment's notebooks, without ``.ipynb``."""
    return sorted(p.stem for p in (root / "solutions" / assignment).glob("*.ipynb"))


def assignment_of(notebook: Path, root: Path = ROOT) -> str:
    """The assignment a notebook belongs to, from its folder or its file name."""
    ids = assignments(root)
    if notebook.parent.name in ids:
        return notebook.parent.name
    owners = [a for a in ids if notebook.stem in notebook_names(a, root)]
    if len(owners) == 1:
        return owners[0]
    raise GradingError(
        f"cannot tell which assignment {notebook.name} belongs to; pass --assignment "
        f"(one of: {', '.join(ids)})")


def config(root: Path = ROOT, **course_directory):
    """nbgrader's configuration for the course rooted at ``root``.

    ``course_directory`` overrides ``CourseDirectory`` settings, e.g. to grade in a scratch
    folder. A relative SQLite gradebook path is made absolute (SQLite URLs are relative to the
    working directory, not to the course); another database URL (``MLP_COURSE_DB_URL``) is kept.
    """
    from traitlets.config.loader import PyFileConfigLoader

    cfg = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config()
    cfg.CourseDirectory.root = str(root)
    if cfg.CourseDirectory.db_url.startswith("sqlite:///") and not cfg.CourseDirectory.db_url.startswith("sqlite:////"):
        cfg.CourseDirectory.db_url = f"sqlite:///{root / cfg.CourseDirectory.db_url[len('sqlite:///'):]}"
    for key, value in course_directory.items():
        setattr(cfg.CourseDirectory, key, value)
    return cfg


def scratch_config(scratch: Path, source: Path):
    """The configuration of a scratch course in ``scratch`` that grades the assignments of
    ``source`` (a ``solutions/`` folder): release, submissions, autograded copies, feedback and
    the gradebook all live in ``scratch``, so the real course is never touched."""
    return config(scratch, source_directory=str(source), release_directory="release",
                  submitted_directory="submitted", autograded_directory="autograded",
                  feedback_directory="feedback", db_url=f"sqlite:///{scratch / 'gradebook.db'}")


def api(cfg):
    """An ``NbGraderAPI`` on ``cfg``: the one entry point to nbgrader's commands."""
    # nbgrader runs the `alembic` script of its own environment by name, so that environment's
    # scripts must be on PATH even when this runs as `.venv/bin/python -m grader` unactivated.
    scripts = str(Path(sys.executable).parent)
    if scripts not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = scripts + os.pathsep + os.environ.get("PATH", "")
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from sqlalchemy.exc import SAWarning

    # nbgrader's own SQLAlchemy use warns on every grading ("not in session"): not the user's
    # business. Here, because every process that grades (a batch's workers too) comes through.
    warnings.filterwarnings("ignore", category=SAWarning)

    url = cfg.CourseDirectory.db_url
    if url.startswith("sqlite:///"):  # SQLite creates the file, not the folder it goes in
        gradebook = Path(url[len("sqlite:///"):])
        gradebook.parent.mkdir(parents=True, exist_ok=True)
        if not gradebook.exists():
            stamp_gradebook(gradebook)

    return NbGraderAPI(coursedir=CourseDirectory(config=cfg), config=cfg)


def stamp_gradebook(path: Path) -> None:
    """Create the SQLite gradebook ``path`` stamped with nbgrader's schema revision.

    nbgrader stamps a new gradebook with the revision that ``alembic heads`` prints, in a
    subprocess (about 3 s, paid by every scratch course of ``grader score`` and of the batch).
    The same revision, read here with alembic's own API once per process, makes nbgrader see
    an existing gradebook: it creates its tables and stamps nothing.
    """
    import sqlite3

    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
        db.execute("INSERT INTO alembic_version (version_num) VALUES (?)", (_schema_revision(),))
    db.close()


@functools.lru_cache(maxsize=1)
def _schema_revision() -> str:
    from alembic.script import ScriptDirectory
    from nbgrader.dbutil import ALEMBIC_DIR

    return ScriptDirectory(ALEMBIC_DIR).get_current_head()


def run(result: dict, doing: str) -> dict:
    """Raise :class:`GradingError` with nbgrader's own log when one of its commands failed."""
    if not result.get("success"):
        log = (result.get("log") or "").strip()
        error = (result.get("error") or "").strip()
        raise GradingError(f"nbgrader could not {doing}:\n{log}\n{error}".rstrip())
    return result


def submissions(root: Path = ROOT) -> list[tuple[str, str]]:
    """``(assignment, student)`` for every hand-in under ``grader/submitted/``: every folder
    that holds a file (a hand-in without the notebook is reported, not skipped)."""
    found = []
    for assignment in assignments(root):
        for folder in sorted((root / "grader" / "submitted").glob(f"*/{assignment}")):
            if any(p.is_file() for p in folder.rglob("*")):
                found.append((assignment, folder.parent.name))
    return found
