"""Small synthetic data sets for the first notebooks: separable blobs and XOR.

Every function takes a ``seed`` and returns ``(X, y)`` with ``X`` of shape ``(n, 2)``
(float64) and ``y`` of shape ``(n,)`` (int64 labels 0/1).
"""

from __future__ import annotations

import numpy as np


def two_blobs(n: int = 100, distance: float = 4.0, std: float = 1.0, margin: float = 0.5,
              seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two Gaussian blobs, ``n // 2`` points each, guaranteed linearly separable.

    The centres are ``distance`` apart along a random direction. Points that would fall
    within ``margin`` of the perpendicular bisector are redrawn, so a perceptron can
    always reach 100 % (the convergence theorem needs a positive margin).
    """
    rng = np.random.default_rng(seed)
    angle = rng.uniform(0, 2 * np.pi)
    direction = np.array([np.cos(angle), np.sin(angle)])          # (2,) unit vector
    centre = rng.uniform(-1, 1, size=2)                            # (2,) midpoint
    y = np.repeat([0, 1], [n // 2, n - n // 2])                    # (n,)
    X = np.empty((n, 2))
    for i, label in enumerate(y):
        sign = 1.0 if label == 1 else -1.0
        while True:
            point = centre + sign * distance / 2 * direction + rng.normal(0, std, size=2)
            if sign * (point - centre) @ direction > margin:       # on its side, clear of it
                break
        X[i] = point
    order = rng.permutation(n)
    return X[order], y[order]


def xor(n: int = 200, noise: float = 0.15, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The XOR problem: points near the corners of the unit square, label = x1 XOR x2.

    No line separates the classes, whatever the noise: the perceptron's counter-example.
    """
    rng = np.random.default_rng(seed)
    corners = rng.integers(0, 2, size=(n, 2))                      # (n, 2) in {0, 1}
    y = (corners[:, 0] ^ corners[:, 1]).astype(np.int64)           # (n,)
    X = corners + rng.normal(0, noise, size=(n, 2))
    return X, y
