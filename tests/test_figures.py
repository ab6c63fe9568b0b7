"""grader.figures: README's pictures, drawn by the solutions' own cells, in seconds."""

import shutil
import struct

from grader import figures


def _png_size(path):
    """(width, height) of a PNG, read from its header."""
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path.name} is not a PNG"
    return struct.unpack(">II", header[16:24])


def test_the_script_draws_one_small_picture_per_notebook(tmp_path, capsys):
    assert figures.main(["--out", str(tmp_path / "images")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(figures.PICTURES) == 4
    for picture, line in zip(figures.PICTURES, lines):
        path = tmp_path / "images" / picture.file
        if picture.file.startswith("04") and shutil.which("dot") is None:
            assert line == f"{picture.file}: skipped (Graphviz's `dot` program is not installed)"
            assert not path.exists()
            continue
        assert line == str(path)
        width, height = _png_size(path)
        assert 100 < width <= 1000 and 100 < height <= 1000, (picture.file, width, height)
        assert path.stat().st_size < 150_000, f"{picture.file} is not small"


def test_readme_shows_every_committed_picture():
    readme = (figures.course.ROOT / "README.md").read_text()
    for picture in figures.PICTURES:
        assert (figures.DEFAULT_OUT / picture.file).exists(), f"run `python -m grader.figures`: {picture.file}"
        assert f'src="notebooks/images/{picture.file}"' in readme
