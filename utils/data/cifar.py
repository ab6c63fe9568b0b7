"""CIFAR-10 for the optional last section of 04_torch_nn (online only): where it lives, and
its python-pickle batches loaded as flattened float tensors, downloaded by torchvision if asked."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from utils.data.files import DatasetMissingError, _check_split, data_root

CIFAR10_CLASSES = ["airplane", "automobile", "bird", "cat", "deer",
                   "dog", "frog", "horse", "ship", "truck"]
CIFAR10_FOLDER = "cifar-10-batches-py"   # what torchvision's CIFAR10 unpacks
_CIFAR10_FILES = {"train": [f"data_batch_{i}" for i in range(1, 6)], "test": ["test_batch"]}
_CIFAR10_HOST = ("www.cs.toronto.edu", 443)


def cifar10_root(root=None) -> Path:
    """The folder that holds (or will hold) ``cifar-10-batches-py/``: ``<data root>/cifar-10``."""
    return data_root(root) / "cifar-10"


def _online(host: tuple[str, int], timeout: float) -> bool:
    import socket

    try:
        with socket.create_connection(host, timeout=timeout):
            return True
    except OSError:
        return False


def load_cifar10(split="train", *, root=None, download=False, device=None, timeout=5.0):
    """CIFAR-10 as flattened float tensors: ``X (n, 3072)`` float32 in [0, 1], ``y (n,)`` int64.

    Each row holds an image's red, then green, then blue 32x32 plane (as
    ``ToTensor()(image).flatten()`` would); n = 50,000 ("train") or 10,000 ("test").
    Class names are in ``CIFAR10_CLASSES``.

    The python-pickle batches of ``cifar-10-batches-py/`` are read from ``cifar10_root(root)``.
    If they are missing and ``download`` is true, torchvision downloads them there (170 MB,
    checked by torchvision's MD5 sums); without a network (a connection to the host is tried
    first, for at most ``timeout`` seconds), or with ``download=False``, a
    :class:`DatasetMissingError` says so in one line.
    """
    import pickle

    import torch

    _check_split(split)
    folder = cifar10_root(root)
    files = [folder / CIFAR10_FOLDER / name for name in _CIFAR10_FILES[split]]
    if not all(path.is_file() for path in files):
        if not download:
            raise DatasetMissingError(f"CIFAR-10 is not in {folder}; call load_cifar10(..., download=True) "
                                      "with network access to fetch it (170 MB)")
        if not _online(_CIFAR10_HOST, timeout):
            raise DatasetMissingError(f"CIFAR-10 is not in {folder} and this machine is offline, "
                                      "so it cannot be downloaded (170 MB)")
        import torchvision.datasets

        torchvision.datasets.CIFAR10(str(folder), train=split == "train", download=True)
    images, labels = [], []
    for path in files:
        with open(path, "rb") as f:
            # The batches are Python 2 pickles: latin1 decodes their byte strings.
            batch = pickle.load(f, encoding="latin1")
        batch = {k.decode() if isinstance(k, bytes) else k: v for k, v in batch.items()}
        images.append(np.asarray(batch["data"], dtype=np.uint8).reshape(-1, 3072))
        labels.append(np.asarray(batch["labels"], dtype=np.int64))
    X = torch.from_numpy(np.concatenate(images).astype(np.float32) / 255)
    y = torch.from_numpy(np.concatenate(labels))
    if device is not None:
        X, y = X.to(device), y.to(device)
    return X, y
