"""MNIST and Fashion-MNIST from the repository's ``data/`` folder, and fast batching.

The four IDX files of each dataset live gzip-compressed in ``<root>/<name>/``::

    data/mnist/train-images-idx3-ubyte.gz      data/fashion-mnist/train-images-idx3-ubyte.gz
    data/mnist/train-labels-idx1-ubyte.gz      data/fashion-mnist/train-labels-idx1-ubyte.gz
    data/mnist/t10k-images-idx3-ubyte.gz       data/fashion-mnist/t10k-images-idx3-ubyte.gz
    data/mnist/t10k-labels-idx1-ubyte.gz       data/fashion-mnist/t10k-labels-idx1-ubyte.gz

``root`` is, in order of precedence: the ``root=`` argument, the environment variable
``MLP_COURSE_DATA``, or ``data/`` in the repository's root (next to ``utils/``).

Every file is checked against the SHA-256 of its *decompressed* payload when it is
first read (the gzip container differs between mirrors, the payload does not).
Decoded files are cached in-process, so the second ``load_mnist()`` is nearly free.

Typical use::

    from utils.data import load_mnist, ArrayLoader
    X_train, y_train = load_mnist("train", flatten=True)         # (60000, 784) float32, (60000,) int64
    for X_batch, y_batch in ArrayLoader(X_train, y_train, 256, seed=0):
        ...

Command line::

    python -m utils.data check                  # verify every file, print a table
    python -m utils.data download fashion-mnist  # fetch a missing dataset (needs network)

torch and torchvision are imported only by the functions that need them, so the
NumPy-only notebooks do not pay for them.

This package re-exports everything; the code lives in one module per concern:

- ``files``     dataset names, paths, checksums, and the errors that say how to fix a file
- ``idx``       decoding the IDX files, the in-process cache, ``check_files``
- ``loaders``   ``load_mnist``, ``load_fashion_mnist``, ``load_dataset``, the class names
- ``batching``  ``ArrayLoader`` and ``batches``
- ``datasets``  ``mnist_dataset`` and ``fashion_mnist_dataset`` (torchvision ``VisionDataset``)
- ``fetch``     ``download`` (online, through torchvision)
- ``cifar``     CIFAR-10 for 04_torch_nn's optional last section
- ``cli``       the command line (``__main__`` runs it)
"""

from utils.data.batching import ArrayLoader, batches
from utils.data.cifar import CIFAR10_CLASSES, CIFAR10_FOLDER, cifar10_root, load_cifar10
from utils.data.cli import _main
from utils.data.datasets import fashion_mnist_dataset, mnist_dataset
from utils.data.fetch import download
from utils.data.files import (
    DATASETS,
    SHA256,
    SPLITS,
    DatasetCorruptError,
    DatasetError,
    DatasetMissingError,
    _default_root,
    data_root,
    dataset_files,
)
from utils.data.idx import _load_raw, check_files, clear_cache
from utils.data.loaders import (
    FASHION_MNIST_CLASSES,
    MNIST_CLASSES,
    load_dataset,
    load_fashion_mnist,
    load_mnist,
)

# The private names above (_main, _default_root, _load_raw) are called through the package by
# the tests; a test that patches a name must patch the module that defines it.

__all__ = [
    "DATASETS",
    "SPLITS",
    "MNIST_CLASSES",
    "FASHION_MNIST_CLASSES",
    "SHA256",
    "DatasetError",
    "DatasetMissingError",
    "DatasetCorruptError",
    "data_root",
    "dataset_files",
    "load_dataset",
    "load_mnist",
    "load_fashion_mnist",
    "check_files",
    "clear_cache",
    "download",
    "ArrayLoader",
    "batches",
    "mnist_dataset",
    "fashion_mnist_dataset",
    "CIFAR10_CLASSES",
    "cifar10_root",
    "load_cifar10",
]
