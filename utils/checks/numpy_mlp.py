"""Probes for 02_numpy_mlp's tests: what the typical bugs would output.

The test cells pass these as ``mistakes=`` so that a failure names its likely cause. This
module holds no backward pass: every gradient here, right or wrong, is the *numerical*
gradient (centred differences) of a loss written down in the notebook's markdown, changed
the way a bug changes it. To see what a backward pass with a wrong ReLU mask computes, the
network's hidden activations are replaced by their linearisation around the current point
with that wrong mask as the slope (:func:`_linearised_mlp`): its exact gradient is what
the chain rule computes with that mask, and its numerical gradient is exact up to rounding.

Everything works in float64, whatever the student's dtype.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

__all__ = [
    "regression_problem",
    "classification_problem",
    "mlp_params",
    "regression_gradients",
    "backward_mistakes",
    "mse_l2_value",
    "mse_l2_mistakes",
    "sigmoid_grad_mistakes",
    "tanh_grad_mistakes",
    "softmax_mistakes",
    "ce_gradient",
    "ce_backward_mistakes",
    "mlp_logits",
    "mlp_gradients",
    "mlp_loss",
    "mlp_backward_mistakes",
]


# ----------------------------------------------------------------------------- inputs
def regression_problem(n=5, d_in=4, d_hidden=6, d_out=3, reg=0.1, seed=0):
    """``X (n, d_in), y (n, d_out), params, reg`` in float64, with non-zero biases (so that a
    regularised bias shows), no hidden pre-activation near a ReLU kink, and outputs of both
    signs (so that a ReLU wrongly applied to the output shows)."""
    rng = np.random.default_rng(seed)
    while True:
        params = {"W1": rng.normal(0, 0.7, (d_hidden, d_in)), "b1": rng.normal(0, 0.5, d_hidden),
                  "W2": rng.normal(0, 0.7, (d_out, d_hidden)), "b2": rng.normal(0, 0.5, d_out)}
        X = rng.normal(0, 1, (n, d_in))
        Z1 = X @ params["W1"].T + params["b1"]
        Y_hat = np.maximum(Z1, 0) @ params["W2"].T + params["b2"]
        if (np.abs(Z1).min() > 1e-2 and (Z1 > 0).any() and (Z1 < 0).any()
                and (Y_hat > 0).any() and (Y_hat < 0).any()):
            break
    y = rng.normal(0, 1, (n, d_out))
    return X, y, params, reg


def classification_problem(n=6, dims=(5, 4, 3, 3), seed=0):
    """``X (n, dims[0]), y (n,)`` integer labels in ``range(dims[-1])``, float64."""
    rng = np.random.default_rng(seed)
    return rng.normal(0, 1, (n, dims[0])), rng.integers(0, dims[-1], n)


def mlp_params(dims, seed=0, scale=0.8):
    """Random float64 parameters ``W1, b1, ...`` (non-zero biases) for an MLP of ``dims``."""
    rng = np.random.default_rng(seed)
    params = {}
    for layer, (d_in, d_out) in enumerate(zip(dims[:-1], dims[1:]), start=1):
        params[f"W{layer}"] = rng.normal(0, scale, (d_out, d_in))
        params[f"b{layer}"] = rng.normal(0, 0.3, d_out)
    return params


def _f64(params: Mapping) -> dict:
    return {name: np.array(value, dtype=np.float64) for name, value in params.items()}


# ----------------------------------------------------------------------------- numerics
def _centred(f: Callable[[dict], float], params: dict, h: float = 1e-5) -> dict:
    """Centred differences of ``f(params)`` with respect to every entry of every array."""
    grads = {}
    for name, value in params.items():
        grad = np.zeros_like(value)
        for index in np.ndindex(value.shape):
            shifted = {}
            for sign in (+1, -1):
                moved = value.copy()
                moved[index] += sign * h
                shifted[sign] = f({**params, name: moved})
            grad[index] = (shifted[+1] - shifted[-1]) / (2 * h)
        grads[name] = grad
    return grads


_ACTIVATIONS = {
    "relu": lambda z: np.maximum(z, 0.0),
    "sigmoid": lambda z: 0.5 * (1.0 + np.tanh(0.5 * z)),
    "tanh": np.tanh,
}


def _slope(activation: str, z: np.ndarray) -> np.ndarray:
    """The activation's derivative at ``z``, numerically (away from ReLU's kink)."""
    f, h = _ACTIVATIONS[activation], 1e-6
    return (f(z + h) - f(z - h)) / (2 * h)


def _linearised_mlp(X, params, activation, slopes):
    """Pre-activations of each layer when each hidden activation ``f(Z)`` is replaced by
    ``f(Z0) + slopes[l] * (Z - Z0)`` around the pre-activations ``Z0`` at ``params``, and
    the output ``Z_L`` by ``Z_L0 + slopes[L] * (Z_L - Z_L0)`` if ``slopes`` has an entry for
    it. With the true slopes this is the network itself near ``params``."""
    f = _ACTIVATIONS[activation]
    n_layers = len(params) // 2
    zs0 = _pre_activations(X, params, activation)

    def run(p):
        a = X
        for layer in range(1, n_layers + 1):
            z = a @ p[f"W{layer}"].T + p[f"b{layer}"]
            z0 = zs0[layer - 1]
            if layer < n_layers:
                a = f(z0) + slopes[layer - 1] * (z - z0)
            elif len(slopes) == n_layers:
                a = z0 + slopes[-1] * (z - z0)
            else:
                a = z
        return a

    return run


def _pre_activations(X, params, activation):
    f = _ACTIVATIONS[activation]
    n_layers = len(params) // 2
    zs, a = [], X
    for layer in range(1, n_layers + 1):
        z = a @ params[f"W{layer}"].T + params[f"b{layer}"]
        zs.append(z)
        a = f(z)
    return zs


# ----------------------------------------------------------------------------- activations
def _logistic(z):
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(z, dtype=np.float64)))


def sigmoid_grad_mistakes(z) -> dict:
    """``sigmoid_grad`` evaluated as if ``z`` were already ``σ(z)``."""
    z = np.asarray(z, dtype=np.float64)
    s = _logistic(_logistic(z))
    return {
        "sigmoid_grad looks like it was computed from σ(z) instead of z: it takes the "
        "pre-activation z, so compute s = σ(z) first, then s·(1 − s)": z * (1 - z),
        "sigmoid_grad looks like it was computed from σ(z) instead of z: σ was applied "
        "twice (once here, once by the caller?); it takes the pre-activation z": s * (1 - s),
    }


def tanh_grad_mistakes(z) -> dict:
    """``tanh_grad`` evaluated as if ``z`` were already ``tanh(z)``."""
    z = np.asarray(z, dtype=np.float64)
    return {
        "tanh_grad looks like it was computed from tanh(z) instead of z: it takes the "
        "pre-activation z, so compute tanh(z) first": 1 - z ** 2,
        "tanh_grad looks like it was computed from tanh(z) instead of z: tanh was applied "
        "twice; it takes the pre-activation z": 1 - np.tanh(np.tanh(z)) ** 2,
    }


# ----------------------------------------------------------------------------- regression
def mse_l2_value(y_hat, y, params, reg, *, half=True, per_sample=True, reg_half=True,
                 reg_biases=False, with_reg=True) -> float:
    """The notebook's loss ``0.5/N Σ‖ŷᵢ − yᵢ‖² + reg/2 (‖W1‖² + ‖W2‖²)``, or a buggy
    version of it (each flag set to the wrong value is one bug)."""
    y_hat, y = np.asarray(y_hat, dtype=np.float64), np.asarray(y, dtype=np.float64)
    squares = np.sum((y_hat - y) ** 2)
    data = squares / (len(y) if per_sample else y.size)
    data *= 0.5 if half else 1.0
    names = [k for k in params if k.startswith("W") or (reg_biases and k.startswith("b"))]
    penalty = sum(np.sum(np.asarray(params[k], dtype=np.float64) ** 2) for k in names)
    penalty *= (reg / 2 if reg_half else reg) if with_reg else 0.0
    return float(data + penalty)


def mse_l2_mistakes(y_hat, y, params, reg) -> dict:
    args = (y_hat, y, params, reg)
    return {
        "the squared error is averaged over all N·d_out entries: divide by the number of "
        "samples N only": mse_l2_value(*args, per_sample=False),
        "the factor 0.5 in front of the squared error is missing": mse_l2_value(*args, half=False),
        "the L2 penalty is missing (or reg is ignored)": mse_l2_value(*args, with_reg=False),
        "the biases are penalised too: the L2 term covers W1 and W2 only": mse_l2_value(*args, reg_biases=True),
        "the L2 penalty lacks its factor 1/2: it is reg/2 · (‖W1‖² + ‖W2‖²)": mse_l2_value(*args, reg_half=False),
        "the squared error is summed, not averaged over the N samples": mse_l2_value(*args, per_sample=False) * y.size,
    }


def _regression_loss(X, y, params, reg, hidden_slope=None, output_slope=None,
                     data_scale=1.0, reg_biases=False):
    """``p -> loss`` of the 2-layer ReLU network near ``params``: the notebook's loss, or one
    changed by a bug (a data term scaled, biases penalised, wrong ReLU slopes)."""
    X, y = np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if hidden_slope is None:
        hidden_slope = (_pre_activations(X, params, "relu")[0] > 0).astype(np.float64)
    slopes = [hidden_slope] + ([output_slope] if output_slope is not None else [])
    net = _linearised_mlp(X, params, "relu", slopes)

    def loss(p):
        data = 0.5 / len(y) * np.sum((net(p) - y) ** 2) * data_scale
        names = [k for k in p if k.startswith("W") or (reg_biases and k.startswith("b"))]
        return data + reg / 2 * sum(np.sum(p[k] ** 2) for k in names)

    return loss


def regression_gradients(X, y, params, reg) -> dict:
    """The gradients of the notebook's MSE + L2 loss, by centred differences."""
    params = _f64(params)
    return _centred(_regression_loss(X, y, params, reg), params)


def backward_mistakes(X, y, params, reg) -> dict:
    """``{sentence: wrong gradients or predicate}`` for ``backward``'s typical bugs."""
    X, y, params = np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64), _f64(params)
    n = len(X)
    data = _centred(_regression_loss(X, y, params, 0.0), params)
    right = regression_gradients(X, y, params, reg)
    weights = [k for k in params if k.startswith("W")]

    def plus_reg(grads, factor=1.0, biases=False):
        return {k: g + (factor * reg * params[k] if k in weights or biases else 0) for k, g in grads.items()}

    # What the chain rule gives with the ReLU mask taken from the wrong tensor:
    z1 = _pre_activations(X, params, "relu")[0]
    residual = _pre_activations(X, params, "relu")[1] - y
    upstream = (residual / n) @ params["W2"]          # ∂L/∂A1: the gradient arriving at A1
    from_gradient = (upstream > 0).astype(np.float64)  # mask of the gradient, not of Z1
    relu_mask = (z1 > 0).astype(np.float64)

    def with_slopes(hidden, output=None):
        return _centred(_regression_loss(X, y, params, reg, hidden, output), params)

    y_hat = _pre_activations(X, params, "relu")[1]
    hidden_shape = z1.shape
    return {
        "the gradient is not divided by N (the batch size): the data part is N times too large":
            plus_reg({k: n * g for k, g in data.items()}),
        "the L2 term reg·W is missing from the weight gradients":
            data,
        "the biases got the L2 term too (reg·b): only the weights are regularised":
            plus_reg(data, biases=True),
        "the L2 gradient is doubled: the derivative of reg/2·‖W‖² is reg·W":
            plus_reg(data, factor=2.0),
        "a weight gradient is transposed: dW must have the shape of W, (d_out, d_in) of its layer":
            lambda g: any(np.shape(g[k]) == params[k].T.shape != params[k].shape for k in weights),
        "a bias gradient is not summed over the batch: db has one row per sample; sum over axis 0":
            lambda g: any(np.shape(g[f"b{l}"]) == (n, params[f"b{l}"].shape[0]) for l in (1, 2)),
        "the ReLU mask is taken from the wrong tensor: it must be Z1 > 0 (the hidden "
        "pre-activation), not the incoming gradient":
            with_slopes(from_gradient),
        "the ReLU mask is applied on the wrong layer: the output layer of this regression "
        "network is linear, so its gradient (ŷ − y)/N must not be masked":
            with_slopes(relu_mask, (y_hat > 0).astype(np.float64)),
        "the ReLU derivative is missing: the gradient reaching the hidden layer must be "
        "zeroed where Z1 ≤ 0":
            with_slopes(np.ones(hidden_shape)),
        "the ReLU mask is inverted: it must be 1 where Z1 > 0 and 0 elsewhere":
            with_slopes(1.0 - relu_mask),
        "the gradient has the wrong sign: it should point uphill (the update subtracts it)":
            {k: -g for k, g in right.items()},
    }


# ----------------------------------------------------------------------------- classification
def softmax_mistakes(Z) -> dict:
    """Softmax normalised over the wrong axis (each column sums to one)."""
    Z = np.asarray(Z, dtype=np.float64)
    E = np.exp(Z - Z.max(axis=0, keepdims=True))
    return {"softmax is normalised over the wrong axis: each row (one sample's scores) must "
            "sum to 1, so sum over axis=1": E / E.sum(axis=0, keepdims=True)}


def _mean_ce(Z, y):
    Z = Z - Z.max(axis=1, keepdims=True)
    log_p = Z - np.log(np.exp(Z).sum(axis=1, keepdims=True))
    return -np.mean(log_p[np.arange(len(y)), y])


def ce_gradient(Z, y) -> np.ndarray:
    """The gradient of the mean cross-entropy of softmax(Z), by centred differences."""
    Z, y = np.asarray(Z, dtype=np.float64), np.asarray(y)
    return _centred(lambda p: _mean_ce(p["Z"], y), {"Z": Z})["Z"]


def ce_backward_mistakes(Z, y) -> dict:
    Z, y = np.asarray(Z, dtype=np.float64), np.asarray(y)
    n, k = Z.shape
    right = ce_gradient(Z, y)
    onehot = np.zeros((n, k))
    onehot[np.arange(n), y] = 1.0
    columns = np.zeros((n, k))
    columns[:, np.unique(y)] = 1.0  # what P[:, y] -= 1 subtracts from
    return {
        "the gradient is not divided by N: the loss is the mean over the batch": n * right,
        "the one-hot matrix marks the wrong classes: subtract 1 only at [i, y[i]] for each "
        "row i (P[:, y] changes whole columns)": right + (onehot - columns) / n,
        "the sign is flipped: the gradient is (P − onehot(y)) / N": -right,
        "the one-hot term is missing: the gradient is (P − onehot(y)) / N":
            right + onehot / n,
    }


# ----------------------------------------------------------------------------- deep MLP
def mlp_logits(X, params, activation="relu") -> np.ndarray:
    """Output scores of an MLP with the notebook's layout (``W_l`` of shape (d_l, d_{l-1}))."""
    return _pre_activations(np.asarray(X, dtype=np.float64), _f64(params), activation)[-1]


def _mlp_grads(X, y, params, activation, slopes):
    net = _linearised_mlp(X, params, activation, slopes)
    return _centred(lambda p: _mean_ce(net(p), y), params)


def mlp_gradients(X, y, params, activation="relu") -> dict:
    """Gradients of the mean cross-entropy of the MLP, by centred differences."""
    X, params = np.asarray(X, dtype=np.float64), _f64(params)
    zs = _pre_activations(X, params, activation)
    return _mlp_grads(X, y, params, activation, [_slope(activation, z) for z in zs[:-1]])


def mlp_backward_mistakes(X, y, params, activation="relu") -> dict:
    X, params = np.asarray(X, dtype=np.float64), _f64(params)
    n = len(X)
    f = _ACTIVATIONS[activation]
    zs = _pre_activations(X, params, activation)
    right = mlp_gradients(X, y, params, activation)
    weights = [k for k in params if k.startswith("W")]
    biases = [k for k in params if k.startswith("b")]
    mistakes = {
        "the gradients are N times too large: the loss is the mean over the batch":
            {k: n * g for k, g in right.items()},
        "a weight gradient is transposed: dW must have the shape of W, (d_out, d_in) of its layer":
            lambda g: any(np.shape(g[k]) == params[k].T.shape != params[k].shape for k in weights),
        "a bias gradient is not summed over the batch: db has one row per sample; sum over axis 0":
            lambda g: any(np.shape(g[k]) == (n, params[k].shape[0]) for k in biases),
        "the gradients have the wrong sign":
            {k: -g for k, g in right.items()},
    }
    if activation != "relu":  # for ReLU the two coincide
        mistakes["the activation's derivative is evaluated at the activation A = f(Z) instead "
                 "of at the pre-activation Z"] = _mlp_grads(
                     X, y, params, activation, [_slope(activation, f(z)) for z in zs[:-1]])
    mistakes["the activation's derivative is also applied to the output layer: the scores "
             "Z_L go straight into softmax"] = _mlp_grads(
                 X, y, params, activation, [_slope(activation, z) for z in zs])
    return mistakes


def mlp_loss(X, y, params, activation="relu") -> float:
    """The mean cross-entropy of the MLP's softmax output on ``(X, y)``."""
    return float(_mean_ce(mlp_logits(X, params, activation), np.asarray(y)))
