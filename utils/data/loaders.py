"""``load_mnist``, ``load_fashion_mnist`` and ``load_dataset``: one split of a dataset as float
pixels in [0, 1] and int64 labels (NumPy arrays, or tensors on a device), and the class names."""

from __future__ import annotations

import numpy as np

from utils.data.files import _check_name, _check_split
from utils.data.idx import _load_raw

MNIST_CLASSES = [str(digit) for digit in range(10)]
FASHION_MNIST_CLASSES = [
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
]
_CLASSES = {"mnist": MNIST_CLASSES, "fashion-mnist": FASHION_MNIST_CLASSES}


def load_dataset(name, split="train", *, flatten=False, as_tensor=False, device=None, root=None):
    """Load one split of MNIST or Fashion-MNIST as floats in [0, 1] and integer labels.

    Parameters
    ----------
    name : {"mnist", "fashion-mnist"}
    split : {"train", "test"}
        60,000 training or 10,000 test images.
    flatten : bool
        If True, ``X`` has shape (n, 784) (rows of pixels, row-major); else (n, 28, 28).
    as_tensor : bool
        Return ``torch.Tensor`` instead of ``numpy.ndarray``. Implied by ``device``.
    device : str or torch.device, optional
        Put the tensors on this device (e.g. ``"cuda"``, or ``get_device()``).
    root : path, optional
        Folder holding ``mnist/`` and ``fashion-mnist/`` (default: see :func:`data_root`).

    Returns
    -------
    X : float32 array or tensor, shape (n, 28, 28) or (n, 784)
        Pixel intensities divided by 255 (the same values as torchvision's ``ToTensor``).
    y : int64 array or tensor, shape (n,)
        Class indices in 0..9 (names in ``MNIST_CLASSES`` / ``FASHION_MNIST_CLASSES``).

    Raises
    ------
    DatasetMissingError, DatasetCorruptError
        With the file's path and how to restore it.
    ValueError
        For an unknown ``name`` or ``split``.

    The arrays are fresh copies: modifying them does not affect later calls.
    """
    _check_name(name)
    _check_split(split)
    images, labels = _load_raw(name, split, root)
    X = images.astype(np.float32)  # a new, writable array: the cache stays untouched
    X /= 255  # divide (not multiply by 1/255) so the values equal ToTensor's bit for bit
    if flatten:
        X = X.reshape(len(X), -1)
    y = labels.astype(np.int64)
    if as_tensor or device is not None:
        import torch

        X, y = torch.from_numpy(X), torch.from_numpy(y)
        if device is not None:
            X, y = X.to(device), y.to(device)
    return X, y


def load_mnist(split="train", *, flatten=False, as_tensor=False, device=None, root=None):
    """MNIST digits: ``load_dataset("mnist", ...)``; see :func:`load_dataset`.

    Returns ``(X, y)``: X float32 in [0, 1] of shape (n, 28, 28), or (n, 784) if ``flatten``;
    y int64 of shape (n,). n = 60,000 ("train") or 10,000 ("test").
    """
    return load_dataset("mnist", split, flatten=flatten, as_tensor=as_tensor, device=device, root=root)


def load_fashion_mnist(split="train", *, flatten=False, as_tensor=False, device=None, root=None):
    """Fashion-MNIST: ``load_dataset("fashion-mnist", ...)``; see :func:`load_dataset`.

    Returns ``(X, y)``: X float32 in [0, 1] of shape (n, 28, 28), or (n, 784) if ``flatten``;
    y int64 of shape (n,), names in ``FASHION_MNIST_CLASSES``.
    """
    return load_dataset("fashion-mnist", split, flatten=flatten, as_tensor=as_tensor, device=device, root=root)
