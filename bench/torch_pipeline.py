"""Benchmark: notebook 03's training loop on Fashion-MNIST, against the seeds' input pipeline and
against the same loop written with torch's fused ops.

Prints, in one run on this machine (784-256-10, batch 256, SGD lr 0.1, standardised inputs):
- seconds per epoch with torchvision's ``DataLoader`` + ``ToTensor`` (+ ``Normalize``), the seeds'
  pipeline, and with the course's in-memory ``ArrayLoader``; their ratio (target >= 10x);
- the achieved GFLOP/s of the course's training loop, counting the five matrix products of each
  step (forward ``X W1``, ``H W2``; backward ``H^T dO``, ``dO W2^T``, ``X^T dZ``), against the
  same loop with torch's fused pieces in place of the from-scratch ones (``torch.addmm``,
  ``torch.relu``, ``F.cross_entropy`` on scores, ``add_`` with ``alpha``), timed side by side in
  the same run (COURSE.md's target: the course's loop at >= 75 % of the fused loop's speed);
- for information only, the rate of plain ``torch.mm`` calls of the same shapes (no eager loop
  reaches it on 2 cores: the fused loop itself measures 46-71 % of it);
- the test accuracy after 10 epochs (target >= 0.85).

The training functions are the solution notebook's own cells (``bench/_solution_code.py``).
The three epoch timings take turns, best of ``--repeats`` rounds each, so that a burst of
load on the machine slows one round of all three rather than one of them.

    python bench/torch_pipeline.py             # torch's default thread count
    python bench/torch_pipeline.py --threads 1
"""

from __future__ import annotations

import argparse
import time

import torch
import torch.nn.functional as F
from _solution_code import solution_namespace
from torch.utils.data import DataLoader
from torchvision.transforms import Compose, Normalize, ToTensor

from utils.data import ArrayLoader, fashion_mnist_dataset, load_fashion_mnist

CELLS = ("imports", "init_params", "relu", "net", "softmax", "cross_entropy", "sgd", "accuracy",
         "train_epoch", "train")
SIZES, BATCH, LR, EPOCHS = (784, 256, 10), 256, 0.1, 10
TARGET_SPEEDUP, TARGET_FUSED_SHARE, TARGET_ACCURACY = 10, 0.75, 0.85


def step_flops(batch: int) -> int:
    """Multiply-adds x 2 of one training step's matrix products for a batch of ``batch``."""
    n_in, n_hidden, n_out = SIZES
    forward = n_in * n_hidden + n_hidden * n_out
    backward = n_hidden * n_out * 2 + n_in * n_hidden          # dW2, dH; dW1 (no dX: X is data)
    return 2 * batch * (forward + backward)


def batch_sizes(n: int) -> list[int]:
    return [min(BATCH, n - start) for start in range(0, n, BATCH)]


def matmul_epoch(n: int):
    """One epoch's matrix products as bare ``torch.mm`` calls; returns a function timing one epoch."""
    n_in, n_hidden, n_out = SIZES
    W1, W2 = torch.randn(n_in, n_hidden), torch.randn(n_hidden, n_out)
    shapes = {}
    for b in set(batch_sizes(n)):
        shapes[b] = (torch.randn(b, n_in), torch.randn(b, n_hidden), torch.randn(b, n_out))

    def run() -> float:
        start = time.perf_counter()
        for b in batch_sizes(n):
            X, H, dO = shapes[b]
            torch.mm(X, W1), torch.mm(H, W2)                       # forward
            torch.mm(H.T, dO), torch.mm(dO, W2.T), torch.mm(X.T, H)  # backward
        return time.perf_counter() - start
    return run


def course_epoch(ns: dict, batches):
    """One epoch of the solution's ``train_epoch`` with its own ``net``, ``softmax``,
    ``cross_entropy`` and ``sgd``, from fresh parameters; returns a function timing one epoch."""
    def run() -> float:
        params = ns["init_params"](*SIZES)
        start = time.perf_counter()
        ns["train_epoch"](lambda X: ns["net"](X, params), batches(),
                          lambda O, y: ns["cross_entropy"](ns["softmax"](O), y), lambda: ns["sgd"](params, LR))
        return time.perf_counter() - start
    return run


def fused_epoch(ns: dict, batches):
    """The same epoch with torch's fused pieces: ``addmm`` (bias in the product), ``torch.relu``,
    ``F.cross_entropy`` on scores (log-softmax and the pick in one), one ``add_`` per parameter."""
    def run() -> float:
        W1, b1, W2, b2 = params = ns["init_params"](*SIZES)

        def net(X):
            return torch.relu(torch.addmm(b1, X.reshape(-1, SIZES[0]), W1)) @ W2 + b2

        def sgd():
            with torch.no_grad():
                for p in params:
                    p.add_(p.grad, alpha=-LR)
                    p.grad = None
        start = time.perf_counter()
        ns["train_epoch"](net, batches(), F.cross_entropy, sgd)
        return time.perf_counter() - start
    return run


def best_of_rounds(runs: dict, rounds: int) -> dict:
    """Best time of each run over ``rounds`` rounds in which the runs take turns."""
    best = dict.fromkeys(runs, float("inf"))
    for _ in range(rounds):
        for name, run in runs.items():
            best[name] = min(best[name], run())
    return best


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads")
    parser.add_argument("--repeats", type=int, default=5,
                        help="rounds of the course, fused and matmul epochs; the best of each is kept")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)

    ns = solution_namespace("03_torch_scratch", "torch_scratch", CELLS)
    torch.set_num_threads(args.threads or torch.get_num_threads())
    X, y = load_fashion_mnist("train")                  # (60000, 28, 28), (60000,)
    X_test, y_test = load_fashion_mnist("test")
    mean, std = X.mean(), X.std()
    X, X_test = (X - mean) / std, (X_test - mean) / std
    X, y, X_test, y_test = (torch.from_numpy(a) for a in (X, y, X_test, y_test))

    dataset = fashion_mnist_dataset(train=True, transform=Compose([ToTensor(), Normalize(float(mean), float(std))]))
    seeds = course_epoch(ns, lambda: DataLoader(dataset, batch_size=BATCH, shuffle=True))()
    best = best_of_rounds({"course": course_epoch(ns, lambda: ArrayLoader(X, y, BATCH, seed=0)),
                           "fused": fused_epoch(ns, lambda: ArrayLoader(X, y, BATCH, seed=0)),
                           "mm": matmul_epoch(len(X))}, args.repeats)
    course, fused, mm = best["course"], best["fused"], best["mm"]
    flops = sum(step_flops(b) for b in batch_sizes(len(X)))

    torch.manual_seed(0)
    params = ns["init_params"](*SIZES)
    start = time.perf_counter()
    history = ns["train"](lambda X_: ns["net"](X_, params), ArrayLoader(X, y, BATCH, seed=0),
                          ArrayLoader(X_test, y_test, 1000, shuffle=False),
                          lambda O, y_: ns["cross_entropy"](ns["softmax"](O), y_), EPOCHS, lambda: ns["sgd"](params, LR))
    ten_epochs = time.perf_counter() - start
    accuracy = history["test_acc"][-1]

    speedup, share = seeds / course, fused / course  # share: the course's speed over the fused loop's
    print(f"Fashion-MNIST 784-256-10, batch {BATCH}, torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"  DataLoader + ToTensor (seeds): {seeds:7.2f} s per epoch")
    print(f"  ArrayLoader (course):          {course:7.2f} s per epoch   -> {speedup:5.1f}x faster "
          f"(target >= {TARGET_SPEEDUP}x)")
    print(f"  course training loop:          {flops / course / 1e9:7.1f} GFLOP/s")
    print(f"  same loop, torch's fused ops:  {flops / fused / 1e9:7.1f} GFLOP/s   (addmm, relu, F.cross_entropy, "
          f"add_) -> course loop at {share:.0%} of its speed (target >= {TARGET_FUSED_SHARE:.0%})")
    print(f"  bare torch.mm, same shapes:    {flops / mm / 1e9:7.1f} GFLOP/s   (for information: course loop "
          f"at {mm / course:.0%} of it, fused loop at {mm / fused:.0%})")
    print(f"  10 epochs: {ten_epochs:.1f} s, test accuracy {accuracy:.4f} (target >= {TARGET_ACCURACY})")
    ok = speedup >= TARGET_SPEEDUP and share >= TARGET_FUSED_SHARE and accuracy >= TARGET_ACCURACY
    print(f"  targets: {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
