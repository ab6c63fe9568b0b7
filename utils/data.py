"""MNIST and Fashion-MNIST from the repository's ``data/`` folder, and fast batching.

The four IDX files of each dataset live gzip-compressed in ``<root>/<name>/``::

    data/mnist/train-images-idx3-ubyte.gz      data/fashion-mnist/train-images-idx3-ubyte.gz
    data/mnist/train-labels-idx1-ubyte.gz      data/fashion-mnist/train-labels-idx1-ubyte.gz
    data/mnist/t10k-images-idx3-ubyte.gz       data/fashion-mnist/t10k-images-idx3-ubyte.gz
    data/mnist/t10k-labels-idx1-ubyte.gz       data/fashion-mnist/t10k-labels-idx1-ubyte.gz

``root`` is, in order of precedence: the ``root=`` argument, the environment variable
``MLP_COURSE_DATA``, or ``data/`` next to this package.

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
"""

from __future__ import annotations

import argparse
import functools
import gzip
import hashlib
import os
import shutil
import sys
import tempfile
import zlib
from pathlib import Path

import numpy as np

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

DATASETS = ("mnist", "fashion-mnist")
SPLITS = ("train", "test")

MNIST_CLASSES = [str(digit) for digit in range(10)]
FASHION_MNIST_CLASSES = [
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
]
_CLASSES = {"mnist": MNIST_CLASSES, "fashion-mnist": FASHION_MNIST_CLASSES}

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

# torchvision's class for each dataset; it downloads into <tmp>/<class name>/raw/.
_TORCHVISION_CLASS = {"mnist": "MNIST", "fashion-mnist": "FashionMNIST"}

_IMAGE_SHAPE = (28, 28)


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
    return Path(__file__).resolve().parents[1] / "data"


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
# Reading and verifying IDX files
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


# --------------------------------------------------------------------------------------
# Loaders
# --------------------------------------------------------------------------------------
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


# --------------------------------------------------------------------------------------
# Download (online only)
# --------------------------------------------------------------------------------------
def download(name: str, root=None, *, verbose: bool = True) -> list[Path]:
    """Download one dataset with torchvision and install its four ``.gz`` files under ``root``.

    torchvision fetches the files into a temporary folder (``<tmp>/MNIST/raw/`` or
    ``<tmp>/FashionMNIST/raw/``); each one is checked against the payload checksum before
    it replaces the file in ``<root>/<name>/``. Needs network access.

    Returns
    -------
    list of Path
        The four installed files.
    """
    _check_name(name)
    import torchvision.datasets

    # Looked up at call time, so that tests can replace it with an offline fake.
    dataset_class = getattr(torchvision.datasets, _TORCHVISION_CLASS[name])
    root_path = data_root(root)
    target_dir = root_path / name
    target_dir.mkdir(parents=True, exist_ok=True)
    installed = []
    with tempfile.TemporaryDirectory(prefix="mlp-course-download-") as tmp:
        dataset_class(root=tmp, train=True, download=True)  # fetches all four files
        raw_dir = Path(tmp) / _TORCHVISION_CLASS[name] / "raw"
        for split in SPLITS:
            for final_path in dataset_files(name, split, root_path):
                fetched = raw_dir / final_path.name
                if not fetched.is_file():
                    raise DatasetMissingError(
                        f"torchvision did not produce {fetched.name} in {raw_dir}; "
                        f"found {sorted(p.name for p in raw_dir.glob('*'))}")
                # Verify under the final name's checksum, before touching the installed file.
                staged = target_dir / (final_path.name + ".part")
                shutil.copyfile(fetched, staged)
                try:
                    _parse_idx(_read_payload(staged, name, root_path, key=_checksum_key(final_path)), staged)
                except BaseException:
                    staged.unlink(missing_ok=True)
                    raise
                os.replace(staged, final_path)  # atomic: a crash never leaves a half-written file
                installed.append(final_path)
                if verbose:
                    print(f"ok  {final_path}")
    return installed


# --------------------------------------------------------------------------------------
# Batching
# --------------------------------------------------------------------------------------
def _is_tensor(x) -> bool:
    # If torch was never imported, x cannot be a tensor: no need to import it here.
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(x, torch.Tensor)


def _cpu_numpy_view(x):
    """A NumPy view sharing memory with CPU tensor ``x``, or None (arrays, other devices,
    dtypes NumPy lacks such as bfloat16)."""
    if not _is_tensor(x) or x.device.type != "cpu":
        return None
    try:
        return x.detach().numpy()
    except (TypeError, RuntimeError):
        return None


class ArrayLoader:
    """Mini-batches of in-memory arrays or tensors, re-iterable like a ``DataLoader``.

    ``for X_batch, y_batch in loader`` runs one epoch: every sample exactly once, in a new
    random order each epoch if ``shuffle``. Batches are taken with one fancy-indexing
    operation each (no per-sample Python work), so an epoch over Fashion-MNIST costs
    milliseconds of indexing rather than 60,000 ``ToTensor`` calls.

    Parameters
    ----------
    X : ndarray or Tensor, shape (n, ...)
    y : ndarray or Tensor, shape (n, ...)
        Same kind as ``X`` (both arrays, or both tensors on the same device).
    batch_size : int
        Samples per batch; the last batch holds the remaining ``n % batch_size`` if nonzero.
    shuffle : bool
        Reshuffle at the start of every epoch. If False, batches are contiguous views.
    seed : int, numpy.random.Generator, torch.Generator or None
        Seeds one generator that advances across epochs: epochs differ, and two loaders
        with the same seed give the same sequence of epochs. ``None`` draws from the global
        RNG (``np.random`` for arrays, ``torch`` for tensors), so ``seed_everything`` makes
        runs repeatable too.

    Yields
    ------
    X_batch, y_batch : slices of ``X`` and ``y`` of shapes (b, ...), same dtype and device.
    """

    def __init__(self, X, y, batch_size: int, shuffle: bool = True, seed=None):
        if _is_tensor(X) != _is_tensor(y):
            raise TypeError(f"X and y must both be NumPy arrays or both tensors, got {type(X)} and {type(y)}")
        if len(X) != len(y):
            raise ValueError(f"X and y have different lengths: {len(X)} and {len(y)}")
        if _is_tensor(X) and X.device != y.device:
            raise ValueError(f"X and y are on different devices: {X.device} and {y.device}")
        if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        self.X, self.y = X, y
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self._rng = self._make_rng(seed) if shuffle else None

    def _make_rng(self, seed):
        if not _is_tensor(self.X):
            if isinstance(seed, np.random.Generator):
                return seed
            if seed is None:  # draw a seed from the global RNG, so np.random.seed() governs it
                seed = np.random.randint(2**63 - 1, dtype=np.int64)
            return np.random.default_rng(seed)
        import torch

        if isinstance(seed, torch.Generator) or seed is None:
            return seed  # None: torch.randperm uses the global (seedable) generator
        if isinstance(seed, np.random.Generator):
            return seed  # permutations are made with NumPy and moved to the device
        try:  # generate on the tensors' device, so no permutation crosses the bus
            generator = torch.Generator(device=self.X.device)
        except RuntimeError:  # devices without generators (e.g. "meta")
            generator = torch.Generator()
        return generator.manual_seed(int(seed))

    def _permutation(self):
        """A fresh permutation of range(n): int64 array, or int64 tensor on X's device."""
        n = len(self.X)
        if not _is_tensor(self.X):
            return self._rng.permutation(n)
        import torch

        device = self.X.device
        if isinstance(self._rng, np.random.Generator):
            return torch.from_numpy(self._rng.permutation(n)).to(device)
        if self._rng is not None and self._rng.device != device:
            return torch.randperm(n, generator=self._rng).to(device)
        return torch.randperm(n, generator=self._rng, device=device)

    def __len__(self) -> int:
        """Number of batches per epoch: ceil(n / batch_size)."""
        return -(-len(self.X) // self.batch_size)

    def __iter__(self):
        n, size = len(self.X), self.batch_size
        if not self.shuffle:
            for start in range(0, n, size):
                yield self.X[start:start + size], self.y[start:start + size]
            return
        order = self._permutation()
        X_np, y_np = _cpu_numpy_view(self.X), _cpu_numpy_view(self.y)
        if X_np is not None and y_np is not None:
            # CPU tensors: gather with NumPy, then wrap. torch's own CPU gather pays a fixed
            # multi-threading cost per call (measured 8 ms per batch on a busy 2-core machine,
            # 30x NumPy's), which would dominate an epoch of small batches.
            import torch

            order = order.numpy()
            for start in range(0, n, size):
                index = order[start:start + size]
                yield (torch.from_numpy(np.take(X_np, index, axis=0)),
                       torch.from_numpy(np.take(y_np, index, axis=0)))
            return
        for start in range(0, n, size):
            index = order[start:start + size]
            yield self.X[index], self.y[index]

    def __repr__(self) -> str:
        return (f"ArrayLoader(n={len(self.X)}, batch_size={self.batch_size}, "
                f"shuffle={self.shuffle}, batches={len(self)})")


def batches(X, y, batch_size: int, shuffle: bool = True, rng=None):
    """One epoch of mini-batches ``(X_batch, y_batch)``; see :class:`ArrayLoader`.

    ``rng`` is an int seed, a ``numpy.random.Generator`` (advanced in place), a
    ``torch.Generator`` or None. Equivalent to ``iter(ArrayLoader(X, y, batch_size, shuffle, rng))``.
    """
    return iter(ArrayLoader(X, y, batch_size, shuffle=shuffle, seed=rng))


# --------------------------------------------------------------------------------------
# torchvision-style Dataset (for the notebooks that teach DataLoader)
# --------------------------------------------------------------------------------------
@functools.cache
def _vision_dataset_class():
    """Define the VisionDataset subclass on first use (imports torch and torchvision)."""
    import torch
    from PIL import Image
    from torchvision.datasets import VisionDataset

    class IdxImageDataset(VisionDataset):
        """MNIST or Fashion-MNIST read from the course's files, with torchvision's MNIST semantics.

        ``dataset[i]`` is ``(PIL.Image of mode "L", int label)``, passed through ``transform``
        and ``target_transform``. Attributes: ``data`` uint8 tensor (n, 28, 28), ``targets``
        int64 tensor (n,), ``classes`` list of 10 names, ``class_to_idx``, ``train``.
        """

        def __init__(self, name, train=True, transform=None, target_transform=None, root=None):
            root_path = data_root(root)
            super().__init__(str(root_path), transform=transform, target_transform=target_transform)
            self.name, self.train = _check_name(name), bool(train)
            images, labels = _load_raw(name, "train" if train else "test", root_path)
            # Copies: the cached arrays are read-only and shared with load_dataset().
            self.data = torch.from_numpy(images.copy())
            self.targets = torch.from_numpy(labels.astype(np.int64))
            self.classes = list(_CLASSES[name])

        @property
        def class_to_idx(self):
            return {label: index for index, label in enumerate(self.classes)}

        def __getitem__(self, index):
            image = Image.fromarray(self.data[index].numpy())  # 2-D uint8 gives mode "L"
            target = int(self.targets[index])
            if self.transform is not None:
                image = self.transform(image)
            if self.target_transform is not None:
                target = self.target_transform(target)
            return image, target

        def __len__(self):
            return len(self.data)

        def extra_repr(self):
            return f"Dataset: {self.name}\nSplit: {'Train' if self.train else 'Test'}"

    return IdxImageDataset


def mnist_dataset(train=True, transform=None, target_transform=None, root=None):
    """MNIST as a ``torchvision.datasets.VisionDataset`` (drop-in for ``torchvision.datasets.MNIST``).

    Items are ``(PIL.Image mode "L" 28x28, int)`` before transforms; with ``ToTensor()`` the
    image becomes a float32 tensor (1, 28, 28) in [0, 1]. ``.data`` uint8 (n, 28, 28),
    ``.targets`` int64 (n,), ``.classes`` = ``MNIST_CLASSES``.
    """
    return _vision_dataset_class()("mnist", train, transform, target_transform, root)


def fashion_mnist_dataset(train=True, transform=None, target_transform=None, root=None):
    """Fashion-MNIST as a ``torchvision.datasets.VisionDataset`` (like ``torchvision.datasets.FashionMNIST``).

    Items are ``(PIL.Image mode "L" 28x28, int)`` before transforms; ``.data`` uint8 (n, 28, 28),
    ``.targets`` int64 (n,), ``.classes`` = ``FASHION_MNIST_CLASSES``.
    """
    return _vision_dataset_class()("fashion-mnist", train, transform, target_transform, root)


# --------------------------------------------------------------------------------------
# CIFAR-10 (optional, online only): the last section of 04_torch_nn
# --------------------------------------------------------------------------------------
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


# --------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------
def _main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m utils.data", description=__doc__.split("\n")[0])
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--root", default=None, help="data folder (default: $MLP_COURSE_DATA or <repo>/data)")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("check", parents=[common], help="verify every dataset file and print a table")
    fetch = commands.add_parser("download", parents=[common],
                                help="download a dataset with torchvision (needs network)")
    fetch.add_argument("name", choices=[*DATASETS, "all"])
    args = parser.parse_args(argv)

    if args.command == "download":
        names = DATASETS if args.name == "all" else (args.name,)
        for name in names:
            download(name, root=args.root)
        return 0

    results = check_files(root=args.root)
    root = data_root(args.root)
    width = max(len(str(path.relative_to(root))) for path, _ in results)
    print(f"data root: {root}")
    print(f"{'file':<{width}}  status")
    for path, status in results:
        print(f"{str(path.relative_to(root)):<{width}}  {status}")
    bad = [path for path, status in results if status != "ok"]
    if bad:
        print(f"\n{len(bad)} file(s) missing or corrupt. {_how_to_fix('<name>', root, what='them')}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(_main())
