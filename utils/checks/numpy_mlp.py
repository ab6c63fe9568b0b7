"""Probes for 02_numpy_mlp's tests: what the typical bugs would output, and the course's
versions of the functions that other graded functions call.

The test cells pass the probes as ``mistakes=`` so that a failure names its likely cause.
Every gradient a probe compares with, right or wrong, is the *numerical* gradient (centred
differences) of a loss written down in the notebook's markdown, changed the way a bug changes
it. To see what a backward pass with a wrong ReLU mask computes, the network's hidden
activations are replaced by their linearisation around the current point with that wrong
mask as the slope (:func:`_linearised_mlp`): its exact gradient is what the chain rule
computes with that mask, and its numerical gradient is exact up to rounding.

``forward`` calls ``relu``, ``backward`` calls ``relu_grad``, the student's ``gradient_check``
calls ``forward``, ``backward``, ``mse_l2_loss`` and ``numerical_gradient``, ``MLP.backward``
calls ``softmax``, ``cross_entropy``... A test runs its function with the course's versions of
those (:data:`COURSE`, :func:`using_course`: one bug, one deduction, see
:mod:`utils.checks.isolation`), written plainly at the end of this module.

Everything works in float64, whatever the student's dtype.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import contextmanager

import numpy as np

from utils.checks import isolation
from utils.checks.assertions import expect, expect_close, relative_error

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
    "cache_for_backward",
    "forward_for_backward",
    "expect_check_errors",
    "wrong_backward",
    "COURSE",
    "ACTIVATION_FUNCTIONS",
    "using_course",
    "end_to_end",
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


# ----------------------------------------------------------------------------- one bug, one deduction
# The course's versions of the graded functions that other graded functions call, written plainly.
def relu_reference(z):
    return np.maximum(z, 0)


def relu_grad_reference(z):
    return (np.asarray(z) > 0).astype(np.float64)


def sigmoid_reference(z):
    return _logistic(z)  # through tanh: no overflow for any z


def sigmoid_grad_reference(z):
    s = sigmoid_reference(z)
    return s * (1 - s)


def tanh_reference(z):
    return np.tanh(z)


def tanh_grad_reference(z):
    return 1 - np.tanh(z) ** 2


def forward_reference(X, params):
    """The 2-layer ReLU network: ``(Y_hat, cache)``, the cache under the notebook's names."""
    Z1 = X @ params["W1"].T + params["b1"]
    A1 = relu_reference(Z1)
    Y_hat = A1 @ params["W2"].T + params["b2"]
    return Y_hat, {"Z1": Z1, "A1": A1, "Y_hat": Y_hat}


def mse_l2_loss_reference(Y_hat, Y, params, reg):
    return mse_l2_value(Y_hat, Y, params, reg)


def backward_reference(X, Y, params, cache, reg, relu_mask=True):
    """The gradients of ``mse_l2_loss`` by the chain rule, from the cache of
    :func:`forward_reference` (the course's backward goes with the course's forward);
    ``relu_mask=False`` is a deliberately wrong backward (see :func:`wrong_backward`)."""
    Z1, A1 = cache["Z1"], cache["A1"]
    dY = (cache["Y_hat"] - Y) / len(X)
    dZ1 = dY @ params["W2"]
    if relu_mask:
        dZ1 = dZ1 * relu_grad_reference(Z1)
    return {"W1": dZ1.T @ X + reg * params["W1"], "b1": dZ1.sum(axis=0),
            "W2": dY.T @ A1 + reg * params["W2"], "b2": dY.sum(axis=0)}


def backward_without_mask(X, Y, params, cache, reg):
    """A wrong backward: the ReLU derivative is left out, so W1 and b1 are wrong, W2 and b2 right."""
    return backward_reference(X, Y, params, cache, reg, relu_mask=False)


def numerical_gradient_reference(f, x, h=1e-5):
    """Centred differences of ``f`` at every entry of ``x``; ``x`` is put back as it was."""
    grad = np.zeros(x.shape)
    for index in np.ndindex(x.shape):
        old = x[index]
        x[index] = old + h
        f_plus = f(x)
        x[index] = old - h
        f_minus = f(x)
        x[index] = old
        grad[index] = (f_plus - f_minus) / (2 * h)
    return grad


def softmax_reference(Z):
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)


def cross_entropy_reference(P, y):
    return float(-np.mean(np.log(P[np.arange(len(y)), y])))


def softmax_cross_entropy_backward_reference(Z, y):
    dZ = softmax_reference(Z)
    dZ[np.arange(len(y)), y] -= 1
    return dZ / len(y)


# Each dependency with the test that grades it.
COURSE = {
    "relu": (relu_reference, "test_relu"),
    "relu_grad": (relu_grad_reference, "test_relu_grad"),
    "sigmoid": (sigmoid_reference, "test_sigmoid"),
    "sigmoid_grad": (sigmoid_grad_reference, "test_sigmoid_grad"),
    "tanh": (tanh_reference, "test_tanh"),
    "tanh_grad": (tanh_grad_reference, "test_tanh_grad"),
    "forward": (forward_reference, "test_forward"),
    "mse_l2_loss": (mse_l2_loss_reference, "test_mse_l2_loss"),
    "backward": (backward_reference, "test_backward"),
    "numerical_gradient": (numerical_gradient_reference, "test_numerical_gradient"),
    "softmax": (softmax_reference, "test_softmax"),
    "cross_entropy": (cross_entropy_reference, "test_cross_entropy"),
    "softmax_cross_entropy_backward": (softmax_cross_entropy_backward_reference,
                                       "test_softmax_cross_entropy_backward"),
}
# What an MLP is made with: each activation and its derivative.
ACTIVATION_FUNCTIONS = ("relu", "relu_grad", "sigmoid", "sigmoid_grad", "tanh", "tanh_grad")
# What the end-to-end tests (test_MLP_fit, test_MLP_accuracy) run of the student's.
PIPELINE = (*ACTIVATION_FUNCTIONS, "softmax", "cross_entropy", "softmax_cross_entropy_backward", "MLP")


def using_course(namespace, *names):
    """Run the block with the course's versions of ``names`` (keys of :data:`COURSE`)."""
    return isolation.using_course(namespace, COURSE, *names)


def end_to_end(namespace):
    """Run the end-to-end test's block; a failure names the student's functions it ran."""
    return isolation.end_to_end(namespace, *PIPELINE)


def _right_arrays(own_cache, course_cache: dict):
    """The course's arrays under the notebook's names, over a student's dict cache (whose other
    entries stay: names of their own keep their own arrays)."""
    return {**own_cache, **course_cache} if isinstance(own_cache, dict) else course_cache


def cache_for_backward(forward, X, params):
    """The cache to hand the student's ``backward``: their ``forward``'s own (the cache's format
    is theirs), where it computes the right ``Y_hat``; else the course's arrays (``Z1``, ``A1``,
    ``Y_hat``, the notebook's names) over theirs, with a note that ``forward`` differs."""
    Y_hat, course_cache = forward_reference(np.asarray(X, dtype=np.float64), _f64(params))
    own_cache = None
    try:
        own_Y_hat, own_cache = forward(X, params)
        if np.allclose(np.asarray(own_Y_hat, dtype=np.float64), Y_hat, rtol=1e-5, atol=1e-8):
            return own_cache
    except Exception:  # noqa: BLE001 -- a forward that crashes or returns no pair: theirs differs
        pass
    print(isolation.differs_note("forward", "test_forward"))
    return _right_arrays(own_cache, course_cache)


def _mlp_cache(X, params, activation) -> dict:
    """What the course's ``MLP.forward`` remembers: ``A0`` = X, then ``Z1``, ``A1``, ..., ``Z_L``."""
    cache, a = {"A0": X}, X
    zs = _pre_activations(np.asarray(X, dtype=np.float64), _f64(params), activation)
    for layer, z in enumerate(zs, start=1):
        cache[f"Z{layer}"] = z
        if layer < len(zs):
            a = _ACTIVATIONS[activation](z)
            cache[f"A{layer}"] = a
    return cache


def forward_for_backward(model, X):
    """``model.forward(X)``, so that ``model.backward`` finds its cache; where the student's
    forward computes other scores, the course's arrays (``A0``, ``Z1``, ``A1``, ...) go into
    ``model.cache`` over theirs, with a note that ``MLP.forward`` differs."""
    expected = mlp_logits(X, model.params, model.activation)
    try:
        scores = model.forward(X)
        if np.allclose(np.asarray(scores, dtype=np.float64), expected, rtol=1e-5, atol=1e-8):
            return
    except Exception:  # noqa: BLE001 -- a forward that crashes: theirs differs
        pass
    print(isolation.differs_note("MLP.forward", "test_MLP_forward"))
    model.cache = _right_arrays(getattr(model, "cache", None), _mlp_cache(X, model.params, model.activation))


@contextmanager
def wrong_backward(namespace):
    """Run the block with :func:`backward_without_mask` as the notebook's ``backward``, to see that
    the student's gradient check reports it; their own is put back afterwards."""
    own = namespace.get("backward", _MISSING)
    namespace["backward"] = backward_without_mask
    try:
        yield
    finally:
        if own is _MISSING:
            namespace.pop("backward", None)
        else:
            namespace["backward"] = own


_MISSING = object()


def _check_errors(X, Y, params, reg, backward=backward_reference, h=1e-5, loss_reg=None,
                  error=relative_error):
    """What a gradient check reports of ``backward``: per parameter, ``error`` between its
    gradient and the centred differences (step ``h``) of the loss (with ``loss_reg`` if given:
    a check whose loss is not the one ``backward`` differentiates)."""
    X, Y, params = np.asarray(X, dtype=np.float64), np.asarray(Y, dtype=np.float64), _f64(params)
    analytic = backward(X, Y, params, forward_reference(X, params)[1], reg)
    numeric = _centred(lambda p: mse_l2_value(forward_reference(X, p)[0], Y, p,
                                              reg if loss_reg is None else loss_reg), params, h)
    return {name: error(analytic[name], numeric[name]) for name in params}


def expect_check_errors(errors, X, Y, params, reg, what, backward=backward_reference, h=1e-5) -> None:
    """``errors`` (a gradient check's report, with step ``h``) is a dict with one relative error per
    parameter, those of ``backward``: tiny where it is right, the same large numbers where it is
    wrong. (A large ``h`` steps over ReLU kinks, so that its errors show whether ``h`` was used.)"""
    expect(isinstance(errors, Mapping) and set(errors) == set(params), what,
           f"should be a dict with one error per parameter {sorted(params)}, got {errors!r}"[:300])
    expected = _check_errors(X, Y, params, reg, backward, h)
    names = sorted(params)

    def absolute(a, b):
        return float(np.linalg.norm(np.asarray(a) - np.asarray(b)))

    no_reg = _check_errors(X, Y, params, reg, backward, h, loss_reg=0.0)
    not_relative = _check_errors(X, Y, params, reg, backward, h, error=absolute)
    mistakes = {
        "the loss in the check leaves out the L2 penalty: it must be the loss that backward "
        "differentiates, mse_l2_loss(..., reg)": [no_reg[k] for k in names],
        "the error is not relative: divide ‖a − b‖ by ‖a‖ + ‖b‖ (relative_error does it)":
            [not_relative[k] for k in names]}
    if h != 1e-5:
        default_h = _check_errors(X, Y, params, reg, backward)
        mistakes["h is not passed on: give numerical_gradient the check's own h"] = [default_h[k] for k in names]
    expect_close([float(errors[k]) for k in names], [expected[k] for k in names],
                 f"{what}, for {', '.join(names)}", rtol=1e-3, atol=1e-7, mistakes=mistakes)
