"""utils.checks.numpy_mlp: its numerical gradients, right and wrong, agree with the chain rule
written out by hand here (the probes compare with numerical gradients only; the course's
versions of the graded functions are tested in test_checks_course_versions.py), and every
known mistake it describes is distinguishable from the right answer."""

import numpy as np
import pytest

from utils.checks import numpy_mlp as probes
from utils.checks.assertions import relative_error


# ----------------------------------------------------------------------------- references
def _softmax(Z):
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)


def _onehot(y, k):
    out = np.zeros((len(y), k))
    out[np.arange(len(y)), y] = 1.0
    return out


def _regression_backward(X, Y, p, reg, mask=None, output_mask=None, scale=1.0, reg_b=False):
    """The chain rule for the 2-layer network, with hooks for the bugs."""
    n = len(X)
    Z1 = X @ p["W1"].T + p["b1"]
    A1 = np.maximum(Z1, 0)
    Y_hat = A1 @ p["W2"].T + p["b2"]
    dY = scale * (Y_hat - Y) / n
    if output_mask is not None:
        dY = dY * output_mask(Y_hat)
    dA1 = dY @ p["W2"]
    dZ1 = dA1 * (mask(Z1, dA1) if mask else (Z1 > 0))
    grads = {"W1": dZ1.T @ X + reg * p["W1"], "b1": dZ1.sum(0),
             "W2": dY.T @ A1 + reg * p["W2"], "b2": dY.sum(0)}
    if reg_b:
        grads["b1"] = grads["b1"] + reg * p["b1"]
        grads["b2"] = grads["b2"] + reg * p["b2"]
    return grads


_F = {"relu": (lambda z: np.maximum(z, 0), lambda z: (z > 0).astype(float)),
      "tanh": (np.tanh, lambda z: 1 - np.tanh(z) ** 2),
      "sigmoid": (lambda z: 1 / (1 + np.exp(-z)), lambda z: np.exp(-z) / (1 + np.exp(-z)) ** 2)}


def _mlp_backward(X, y, p, activation, at_activation=False, mask_output=False):
    f, df = _F[activation]
    n_layers = len(p) // 2
    A, As, Zs = X, [X], []
    for layer in range(1, n_layers + 1):
        Z = A @ p[f"W{layer}"].T + p[f"b{layer}"]
        Zs.append(Z)
        if layer < n_layers:
            A = f(Z)
            As.append(A)
    dZ = (_softmax(Zs[-1]) - _onehot(y, Zs[-1].shape[1])) / len(X)
    if mask_output:
        dZ = dZ * df(Zs[-1])
    grads = {}
    for layer in range(n_layers, 0, -1):
        grads[f"W{layer}"] = dZ.T @ As[layer - 1]
        grads[f"b{layer}"] = dZ.sum(0)
        if layer > 1:
            z = Zs[layer - 2]
            dZ = (dZ @ p[f"W{layer}"]) * df(f(z) if at_activation else z)
    return grads


def _close(a, b, tol=1e-7):
    return all(np.shape(a[k]) == np.shape(b[k]) and relative_error(a[k], b[k]) < tol for k in b)


# ----------------------------------------------------------------------------- inputs
def test_regression_problem_is_reproducible_and_kink_free():
    X, Y, params, reg = probes.regression_problem(seed=3)
    X2, Y2, params2, _ = probes.regression_problem(seed=3)
    assert np.array_equal(X, X2) and np.array_equal(Y, Y2)
    assert all(np.array_equal(params[k], params2[k]) for k in params)
    Z1 = X @ params["W1"].T + params["b1"]
    assert np.abs(Z1).min() > 1e-2 and (Z1 > 0).any() and (Z1 < 0).any()
    assert np.all(params["b1"] != 0) and np.all(params["b2"] != 0)
    assert X.dtype == np.float64 and reg == 0.1


# ----------------------------------------------------------------------------- regression
@pytest.mark.parametrize("seed, d_out, reg", [(0, 3, 0.1), (7, 1, 0.02), (2, 2, 0.0)])
def test_regression_gradients_match_the_chain_rule(seed, d_out, reg):
    X, Y, params, _ = probes.regression_problem(n=6, d_in=3, d_hidden=5, d_out=d_out, seed=seed)
    numeric = probes.regression_gradients(X, Y, params, reg)
    assert _close(numeric, _regression_backward(X, Y, params, reg), tol=1e-8)


def test_backward_mistakes_are_what_the_bugs_compute():
    X, Y, p, reg = probes.regression_problem(n=5, d_in=4, d_hidden=6, d_out=3, seed=0)
    n = len(X)
    m = probes.backward_mistakes(X, Y, p, reg)
    by_word = {word: next(v for k, v in m.items() if word in k) for word in
               ("not divided by N", "L2 term reg·W is missing", "biases got the L2", "doubled",
                "wrong tensor", "wrong layer", "ReLU derivative is missing", "inverted", "wrong sign",
                "transposed", "not summed")}
    assert _close(by_word["not divided by N"], _regression_backward(X, Y, p, reg, scale=n))
    assert _close(by_word["L2 term reg·W is missing"], _regression_backward(X, Y, p, 0.0))
    assert _close(by_word["biases got the L2"], _regression_backward(X, Y, p, reg, reg_b=True))
    doubled = _regression_backward(X, Y, p, reg)
    doubled = {k: g + (reg * p[k] if k.startswith("W") else 0) for k, g in doubled.items()}
    assert _close(by_word["doubled"], doubled)
    assert _close(by_word["wrong tensor"], _regression_backward(X, Y, p, reg, mask=lambda z, d: d > 0))
    assert _close(by_word["wrong layer"], _regression_backward(X, Y, p, reg, output_mask=lambda y: y > 0))
    assert _close(by_word["ReLU derivative is missing"], _regression_backward(X, Y, p, reg, mask=lambda z, d: 1.0))
    assert _close(by_word["inverted"], _regression_backward(X, Y, p, reg, mask=lambda z, d: z <= 0))
    right = _regression_backward(X, Y, p, reg)
    assert _close(by_word["wrong sign"], {k: -g for k, g in right.items()})
    transposed = {**right, "W1": right["W1"].T}
    assert by_word["transposed"](transposed) and not by_word["transposed"](right)
    unsummed = {**right, "b2": np.ones((n, 3))}
    assert by_word["not summed"](unsummed) and not by_word["not summed"](right)


def test_every_wrong_backward_differs_from_the_right_one():
    X, Y, p, reg = probes.regression_problem(n=5, d_in=4, d_hidden=6, d_out=3, seed=0)
    right = probes.regression_gradients(X, Y, p, reg)
    for sentence, wrong in probes.backward_mistakes(X, Y, p, reg).items():
        if callable(wrong):
            assert not wrong(right), sentence
        else:
            assert max(relative_error(wrong[k], right[k]) for k in right) > 1e-3, sentence


def test_mse_l2_value_and_mistakes():
    Y_hat = np.array([[1.0, 2.0], [3.0, 4.0], [0.0, 0.0]])
    Y = np.array([[1.0, 1.0], [1.0, 1.0], [1.0, -1.0]])
    params = {"W1": np.array([[1.0, 2.0]]), "b1": np.array([5.0]),
              "W2": np.array([[2.0], [1.0]]), "b2": np.array([-3.0, 1.0])}
    assert probes.mse_l2_value(Y_hat, Y, params, 0.1) == pytest.approx(16 / 6 + 0.5)
    values = list(probes.mse_l2_mistakes(Y_hat, Y, params, 0.1).values())
    assert len(set(np.round(values + [16 / 6 + 0.5], 6))) == len(values) + 1  # all distinct


# ----------------------------------------------------------------------------- activations
def test_activation_mistakes():
    z = np.array([-2.0, 0.0, 3.0])
    s = 1 / (1 + np.exp(-z))
    wrong = list(probes.sigmoid_grad_mistakes(z).values())
    assert np.allclose(wrong[0], z * (1 - z))
    ss = 1 / (1 + np.exp(-s))
    assert np.allclose(wrong[1], ss * (1 - ss))
    assert not np.allclose(wrong[1], s * (1 - s))
    wrong = list(probes.tanh_grad_mistakes(z).values())
    assert np.allclose(wrong[0], 1 - z ** 2)
    assert np.allclose(wrong[1], 1 - np.tanh(np.tanh(z)) ** 2)


# ----------------------------------------------------------------------------- classification
def test_softmax_mistake_normalises_columns():
    Z = np.log(np.array([[1.0, 2.0], [3.0, 4.0]]))
    (wrong,) = probes.softmax_mistakes(Z).values()
    assert np.allclose(wrong, [[0.25, 2 / 6], [0.75, 4 / 6]])


def test_ce_gradient_and_mistakes():
    rng = np.random.default_rng(0)
    Z, y = rng.normal(size=(5, 4)), np.array([1, 2, 0, 1, 2])
    right = (_softmax(Z) - _onehot(y, 4)) / 5
    assert np.allclose(probes.ce_gradient(Z, y), right, atol=1e-9)
    m = probes.ce_backward_mistakes(Z, y)
    columns = _softmax(Z)
    columns[:, y] -= 1
    wrong = {"not divided by N": right * 5, "wrong classes": columns / 5, "sign is flipped": -right,
             "one-hot term is missing": _softmax(Z) / 5}
    for word, value in wrong.items():
        probe = next(v for k, v in m.items() if word in k)
        assert np.allclose(probe, value, atol=1e-9), word
        assert not np.allclose(probe, right, atol=1e-6), word


# ----------------------------------------------------------------------------- deep MLP
@pytest.mark.parametrize("activation, dims", [("relu", (5, 4, 3, 3)), ("tanh", (4, 5, 5, 3)),
                                              ("sigmoid", (3, 6, 4)), ("relu", (4, 3))])
def test_mlp_gradients_match_the_chain_rule(activation, dims):
    X, y = probes.classification_problem(n=7, dims=dims, seed=2)
    p = probes.mlp_params(dims, seed=2)
    assert _close(probes.mlp_gradients(X, y, p, activation), _mlp_backward(X, y, p, activation), tol=1e-7)
    logits = probes.mlp_logits(X, p, activation)
    P = _softmax(logits)
    assert probes.mlp_loss(X, y, p, activation) == pytest.approx(-np.mean(np.log(P[np.arange(7), y])))


@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
def test_mlp_mistakes_are_what_the_bugs_compute(activation):
    dims = (4, 5, 5, 3)
    X, y = probes.classification_problem(n=6, dims=dims, seed=1)
    p = probes.mlp_params(dims, seed=1)
    m = probes.mlp_backward_mistakes(X, y, p, activation)
    at_activation = next(v for k, v in m.items() if "at the activation" in k)
    assert _close(at_activation, _mlp_backward(X, y, p, activation, at_activation=True))
    on_output = next(v for k, v in m.items() if "output layer" in k)
    assert _close(on_output, _mlp_backward(X, y, p, activation, mask_output=True))
    right = _mlp_backward(X, y, p, activation)
    for sentence, wrong in m.items():
        if callable(wrong):
            assert not wrong(right), sentence
        else:
            assert max(relative_error(wrong[k], right[k]) for k in right) > 1e-3, sentence


def test_mlp_relu_has_no_at_activation_probe():
    dims = (5, 4, 3)
    X, y = probes.classification_problem(n=6, dims=dims, seed=0)
    m = probes.mlp_backward_mistakes(X, y, probes.mlp_params(dims), "relu")
    assert not any("at the activation" in k for k in m)
