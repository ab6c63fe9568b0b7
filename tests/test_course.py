"""grader.course: the course on disk and nbgrader set up for it."""

import sqlite3

import nbgrader.api
import pytest

from grader import course


def test_a_stamped_gradebook_is_opened_by_nbgrader_without_the_alembic_subprocess(tmp_path, monkeypatch):
    def no_subprocess():
        raise AssertionError("nbgrader ran `alembic heads`")
    monkeypatch.setattr(nbgrader.api, "get_alembic_version", no_subprocess)
    path = tmp_path / "gradebook.db"
    course.stamp_gradebook(path)
    with nbgrader.api.Gradebook(f"sqlite:///{path}") as gb:
        gb.update_or_create_assignment("a1")
    with sqlite3.connect(path) as db:
        (revision,) = db.execute("SELECT version_num FROM alembic_version").fetchone()
    assert revision == course._schema_revision()


def test_the_stamp_is_the_revision_alembic_heads_prints(monkeypatch):
    import os, sys
    from pathlib import Path
    monkeypatch.setenv("PATH", str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"])
    assert course._schema_revision() == nbgrader.api.get_alembic_version()


def test_hand_ins_are_every_folder_with_a_file(tmp_path):
    for a in ("01_a", "02_b"):
        (tmp_path / "solutions" / a).mkdir(parents=True)
        (tmp_path / "solutions" / a / "nb.ipynb").write_text("{}")
    (tmp_path / "grader/submitted/ann/01_a").mkdir(parents=True)
    (tmp_path / "grader/submitted/ann/01_a/notes.txt").write_text("no notebook")
    (tmp_path / "grader/submitted/bo/02_b").mkdir(parents=True)  # empty: nothing handed in
    assert course.submissions(tmp_path) == [("01_a", "ann")]
