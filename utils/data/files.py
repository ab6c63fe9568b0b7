"""Where the dataset files live and whether they are intact: dataset and split names, paths,
the checksum of every file, and the errors that say how to restore a missing or corrupt one."""

from __future__ import annotations

import gzip
import hashlib
import os
import zlib
from pathlib import Path

DATASETS = ("mnist", "fashion-mnist")
SPLITS = ("train", "test")

# The IDX files use "t10k" for the test split.
_FILE_PREFIX = {"train": "train", "test": "t10k"}

# SHA-256 of each decompressed IDX payload (data/SHA256SUMS.decompressed of the course).
SHA256 = {
    "mnist/train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "mnist/train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "mnist/t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "mnist/t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    "fashion-mnist/train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    "fashion-mnist/train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    "fashion-mnist/t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    "fashion-mnist/t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
}


# --------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------
class DatasetError(Exception):
    """Base class: a dataset file is missing or corrupt. The message says how to fix it."""


class DatasetMissingError(DatasetError, FileNotFoundError):
    """A dataset file does not exist (also a ``FileNotFoundError``)."""


class DatasetCorruptError(DatasetError, ValueError):
    """A dataset file exists but is unreadable or fails its checksum (also a ``ValueError``)."""


def _how_to_fix(name: str, root: Path, what: str = "the file") -> str:
    root_flag = "" if root == _default_root() else f" --root {root}"
    return (
        f"To fix it, restore {what} from the repository (in the repository root: "
        "`git checkout -- data/`), or, when online, download it again with "
        f"`python -m utils.data download {name}{root_flag}`."
    )


# --------------------------------------------------------------------------------------
# Paths
# --------------------------------------------------------------------------------------
def _default_root() -> Path:
    # utils/data/files.py -> the repository root, which holds data/ beside utils/.
    return Path(__file__).resolve().parents[2] / "data"


def data_root(root: str | os.PathLike | None = None) -> Path:
    """The folder holding ``mnist/`` and ``fashion-mnist/``.

    ``root`` if given, else ``$MLP_COURSE_DATA`` if set, else ``<repo>/data``.
    """
    if root is None:
        root = os.environ.get("MLP_COURSE_DATA") or _default_root()
    return Path(root).expanduser().resolve()


def _check_name(name: str) -> str:
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; valid names are {', '.join(map(repr, DATASETS))}")
    return name


def _check_split(split: str) -> str:
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; valid splits are {', '.join(map(repr, SPLITS))}")
    return split


def dataset_files(name: str, split: str, root: str | os.PathLike | None = None) -> tuple[Path, Path]:
    """Paths of the ``(images, labels)`` ``.gz`` files of one split of one dataset."""
    _check_name(name)
    _check_split(split)
    folder = data_root(root) / name
    prefix = _FILE_PREFIX[split]
    return (folder / f"{prefix}-images-idx3-ubyte.gz", folder / f"{prefix}-labels-idx1-ubyte.gz")


# --------------------------------------------------------------------------------------
# Verified contents
# --------------------------------------------------------------------------------------
def _checksum_key(path: Path) -> str:
    """``"mnist/train-images-idx3-ubyte"`` for ``.../mnist/train-images-idx3-ubyte.gz``."""
    return f"{path.parent.name}/{path.name.removesuffix('.gz')}"


def _read_payload(path: Path, name: str, root: Path, key: str | None = None) -> bytes:
    """Decompress ``path`` and check its SHA-256 (that of ``SHA256[key]``, by default the
    file's own key); raise a ``DatasetError`` that names the file and how to fix it."""
    if not path.is_file():
        raise DatasetMissingError(f"Dataset file not found: {path}\n{_how_to_fix(name, root)}")
    try:
        payload = gzip.decompress(path.read_bytes())
    except (OSError, EOFError, zlib.error) as err:  # BadGzipFile is an OSError; truncation is EOFError
        raise DatasetCorruptError(
            f"Dataset file is not a readable gzip file: {path} ({err})\n{_how_to_fix(name, root)}"
        ) from err
    expected = SHA256[key or _checksum_key(path)]
    actual = hashlib.sha256(payload).hexdigest()
    if actual != expected:
        raise DatasetCorruptError(
            f"Dataset file is corrupt: {path}\n"
            f"SHA-256 of its decompressed contents is {actual}, expected {expected}.\n"
            f"{_how_to_fix(name, root)}"
        )
    return payload
