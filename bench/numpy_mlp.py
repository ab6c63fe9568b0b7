"""Benchmark: notebook 02's NumPy ``MLP`` against scikit-learn's ``MLPClassifier`` on MNIST.

Both train a (784, 100, 10) ReLU network for 10 epochs of mini-batch SGD on the 60,000 training
digits and are scored on the 10,000 test digits: scikit-learn with batches of 64, learning rate
0.01 and its default Nesterov momentum; ours with plain SGD, batches of 100 and learning rate 0.3
(the notebook's recipe; ``--batch-size 64 --lr 0.2`` gives the same accuracy a little slower).
Target: ours takes at most 0.6x scikit-learn's time at >= 97.5 % test accuracy.

The ``MLP`` is the solution notebook's own: the code cells that define it are executed (picked
by their nbgrader ``grade_id``), nothing is copied here.

    python bench/numpy_mlp.py                  # BLAS threads as the libraries choose
    python bench/numpy_mlp.py --threads 1      # both limited to one BLAS thread (steadier timings)
    python bench/numpy_mlp.py --repeats 3      # best time of 3 runs of each

Small matrix products (64 x 784 x 100) gain little from several BLAS threads, and on a busy
machine spinning threads can make them several times slower: compare like with like.
"""

from __future__ import annotations

import argparse
import contextlib
import time
import warnings

import numpy as np
from _solution_code import solution_namespace

# The cells that define MLP and everything it calls, by grade_id (the first one holds the imports).
CELLS = ("imports", "relu", "sigmoid", "tanh", "softmax", "cross_entropy",
         "softmax_cross_entropy_backward", "MLP")

LAYERS, EPOCHS = (784, 100, 10), 10
SKLEARN_BATCH_SIZE, SKLEARN_LR = 64, 0.01   # as the course specifies; momentum 0.9 (its default)
OUR_BATCH_SIZE, OUR_LR = 100, 0.3           # plain SGD
TARGET_RATIO, TARGET_ACCURACY = 0.6, 0.975


def solution_mlp():
    """The ``MLP`` class defined by the solution notebook's cells."""
    return solution_namespace("02_numpy_mlp", "numpy_mlp", CELLS)["MLP"]


def train_ours(MLP, X, y, X_test, y_test, seed, batch_size=OUR_BATCH_SIZE, lr=OUR_LR):
    model = MLP(LAYERS, activation="relu", lr=lr, seed=seed)
    start = time.perf_counter()
    model.fit(X, y, epochs=EPOCHS, batch_size=batch_size)
    seconds = time.perf_counter() - start
    return seconds, float(np.mean(model.predict(X_test) == y_test))


def train_sklearn(X, y, X_test, y_test, seed):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    model = MLPClassifier(hidden_layer_sizes=LAYERS[1:-1], solver="sgd", batch_size=SKLEARN_BATCH_SIZE,
                          learning_rate_init=SKLEARN_LR, max_iter=EPOCHS, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # 10 epochs is "not converged"
        start = time.perf_counter()
        model.fit(X, y)
        seconds = time.perf_counter() - start
    return seconds, float(model.score(X_test, y_test))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=None, help="limit BLAS/OpenMP threads (threadpoolctl)")
    parser.add_argument("--repeats", type=int, default=1, help="runs of each; the best time is reported")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch-size", type=int, default=OUR_BATCH_SIZE, help="our mini-batch size")
    parser.add_argument("--lr", type=float, default=OUR_LR, help="our learning rate")
    args = parser.parse_args(argv)

    from utils.data import load_mnist

    MLP = solution_mlp()
    X, y = load_mnist("train", flatten=True)          # (60000, 784) float32, (60000,) int64
    X_test, y_test = load_mnist("test", flatten=True)  # (10000, 784), (10000,)

    limits = contextlib.nullcontext()
    if args.threads is not None:
        from threadpoolctl import threadpool_limits

        limits = threadpool_limits(limits=args.threads)
    with limits:
        ours = min(train_ours(MLP, X, y, X_test, y_test, args.seed, args.batch_size, args.lr) for _ in range(args.repeats))
        theirs = min(train_sklearn(X, y, X_test, y_test, args.seed) for _ in range(args.repeats))

    ratio = ours[0] / theirs[0]
    threads = "library default" if args.threads is None else str(args.threads)
    print(f"MNIST {LAYERS}, {EPOCHS} epochs, BLAS threads: {threads}, best of {args.repeats}")
    print(f"  ours (NumPy MLP, batch {args.batch_size}, lr {args.lr}):           "
          f"{ours[0]:6.2f} s   test accuracy {ours[1]:.2%}")
    print(f"  scikit-learn MLPClassifier (sgd, batch {SKLEARN_BATCH_SIZE}, lr {SKLEARN_LR}): "
          f"{theirs[0]:6.2f} s   test accuracy {theirs[1]:.2%}")
    ok = ratio <= TARGET_RATIO and ours[1] >= TARGET_ACCURACY
    print(f"  time ratio ours / scikit-learn: {ratio:.2f} (target <= {TARGET_RATIO}); "
          f"accuracy target >= {TARGET_ACCURACY:.1%}: {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
