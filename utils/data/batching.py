"""Mini-batches of in-memory arrays or tensors: :class:`ArrayLoader`, a re-iterable,
seedable stand-in for ``DataLoader`` that gathers each batch in one indexing operation, and
:func:`batches`, one epoch of it."""

from __future__ import annotations

import sys

import numpy as np


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
