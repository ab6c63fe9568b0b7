"""Reading the IDX files into arrays: decode a verified payload, keep decoded files in an
in-process cache, and check every file on disk."""

from __future__ import annotations

import functools
import os
from pathlib import Path

import numpy as np

from utils.data.files import (
    DATASETS,
    SPLITS,
    DatasetCorruptError,
    DatasetMissingError,
    _how_to_fix,
    _read_payload,
    data_root,
    dataset_files,
)

_IMAGE_SHAPE = (28, 28)


def _parse_idx(payload: bytes, path: Path) -> np.ndarray:
    """Decode an IDX payload of unsigned bytes: 4-byte magic (0, 0, 0x08, ndim), ndim big-endian
    uint32 sizes, then the data. Returns a uint8 array with those sizes."""
    ndim = payload[3]
    if payload[:3] != b"\x00\x00\x08" or len(payload) < 4 + 4 * ndim:
        raise DatasetCorruptError(f"not an IDX file of unsigned bytes: {path}")
    shape = tuple(int(s) for s in np.frombuffer(payload, dtype=">u4", count=ndim, offset=4))
    # frombuffer makes no copy; the array stays read-only because `payload` is immutable bytes.
    return np.frombuffer(payload, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


@functools.lru_cache(maxsize=16)
def _load_idx_cached(path_str: str, mtime_ns: int, size: int, name: str, root_str: str) -> np.ndarray:
    # The key includes mtime and size so that a file restored or replaced on disk is re-read.
    path = Path(path_str)
    return _parse_idx(_read_payload(path, name, Path(root_str)), path)


def _load_idx(path: Path, name: str, root: Path) -> np.ndarray:
    """Read-only uint8 array of one verified IDX ``.gz`` file (cached)."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise DatasetMissingError(f"Dataset file not found: {path}\n{_how_to_fix(name, root)}") from None
    return _load_idx_cached(str(path), stat.st_mtime_ns, stat.st_size, name, str(root))


def _load_raw(name: str, split: str, root: str | os.PathLike | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Verified, cached, **read-only** ``(images, labels)``: uint8 (n, 28, 28) and uint8 (n,).

    Callers that hand arrays to users must copy them (``astype`` does), so that nobody can
    write into the cache.
    """
    root_path = data_root(root)
    images_path, labels_path = dataset_files(name, split, root_path)
    images = _load_idx(images_path, name, root_path)
    labels = _load_idx(labels_path, name, root_path)
    if images.ndim != 3 or images.shape[1:] != _IMAGE_SHAPE or labels.shape != images.shape[:1]:
        # Only reachable if the checksums above were edited; kept as a cheap sanity check.
        raise DatasetCorruptError(
            f"unexpected shapes {images.shape} in {images_path} and {labels.shape} in {labels_path}"
        )
    return images, labels


def clear_cache() -> None:
    """Forget the decoded files (frees about 110 MB when both datasets were loaded)."""
    _load_idx_cached.cache_clear()


def check_files(names=DATASETS, root=None) -> list[tuple[Path, str]]:
    """Verify every file of the given datasets.

    Returns a list of ``(path, status)`` with status ``"ok"``, ``"missing"`` or ``"corrupt: ..."``.
    Reads from disk, not from the cache.
    """
    root_path = data_root(root)
    results = []
    for name in names:
        for split in SPLITS:
            for path in dataset_files(name, split, root_path):
                try:
                    _parse_idx(_read_payload(path, name, root_path), path)
                    status = "ok"
                except DatasetMissingError:
                    status = "missing"
                except DatasetCorruptError as err:
                    status = "corrupt: " + str(err).splitlines()[0]
                results.append((path, status))
    return results
