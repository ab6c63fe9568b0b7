"""How fast the course gets data: loading from data/, and one training epoch's batches.

Prints figures; asserts nothing. Targets (COURSE.md, issue 2):
- loading MNIST and Fashion-MNIST (train + test, checksums verified) well under 2 s;
- a Fashion-MNIST epoch of batches (batch 256) with utils.data.ArrayLoader at least 10x
  faster than torchvision's DataLoader + ToTensor pipeline on the same machine.

Run: .venv/bin/python bench/data_loading.py
"""

from __future__ import annotations

import time

import torch
from torch.utils.data import DataLoader
from torchvision.transforms import ToTensor

from utils.data import ArrayLoader, clear_cache, fashion_mnist_dataset, load_fashion_mnist, load_mnist

BATCH = 256


def seconds(fn, repeat=1):
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def load_everything():
    clear_cache()  # time the real work: read, decompress, verify, decode
    for load in (load_mnist, load_fashion_mnist):
        for split in ("train", "test"):
            load(split)


def epoch(loader):
    for X, y in loader:
        pass


def main():
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    load = seconds(load_everything, repeat=3)
    print(f"load MNIST + Fashion-MNIST (train + test, verified): {load:.2f} s  (target < 2 s)")

    X, y = load_fashion_mnist("train", flatten=True, as_tensor=True)
    ours = seconds(lambda: epoch(ArrayLoader(X, y, BATCH, seed=0)), repeat=3)
    dataset = fashion_mnist_dataset(train=True, transform=ToTensor())
    theirs = seconds(lambda: epoch(DataLoader(dataset, batch_size=BATCH, shuffle=True)))
    print(f"Fashion-MNIST epoch of batches of {BATCH}:")
    print(f"  utils.data.ArrayLoader (tensors in memory): {ours * 1000:8.1f} ms")
    print(f"  DataLoader + ToTensor (torchvision's way):  {theirs * 1000:8.1f} ms")
    print(f"  speed-up: {theirs / ours:.0f}x  (target >= 10x)")


if __name__ == "__main__":
    main()
