"""The course's versions of 01's and 02's graded functions (``COURSE`` in utils.checks.perceptron
and utils.checks.numpy_mlp), which a test lends the function it grades: each agrees with the
solution notebook's own on random inputs, names a test of its notebook, and lending them lets a
correct function pass beside a wrong dependency, with a note naming that dependency."""

import json
from pathlib import Path

import numpy as np
import pytest

from utils.checks import CheckFailure, relative_error
from utils.checks import numpy_mlp as mlp_probes
from utils.checks import perceptron as perceptron_probes

ROOT = Path(__file__).parents[1]
NOTEBOOKS = {perceptron_probes: "solutions/01_perceptron/perceptron.ipynb",
             mlp_probes: "solutions/02_numpy_mlp/numpy_mlp.ipynb"}


def _cells(probes):
    return json.loads((ROOT / NOTEBOOKS[probes]).read_text())["cells"]


def _solution(probes) -> dict:
    """The solution notebook's answer cells, run in a fresh namespace."""
    namespace = {"np": np, "relative_error": relative_error}
    for cell in _cells(probes):
        if cell["metadata"].get("nbgrader", {}).get("solution"):
            exec("".join(cell["source"]), namespace)
    return namespace


@pytest.mark.parametrize("probes", list(NOTEBOOKS), ids=lambda m: m.__name__.rsplit(".", 1)[-1])
def test_course_lists_each_dependency_with_the_test_that_grades_it(probes):
    cells = _cells(probes)
    grade_ids = {c["metadata"].get("nbgrader", {}).get("grade_id") for c in cells}
    namespace = _solution(probes)
    for name, (function, test_id) in probes.COURSE.items():
        assert callable(function) and test_id in grade_ids, name
        owner = name.split(".")[0]
        assert owner in namespace, name
    assert all(name in namespace for name in probes.PIPELINE)


# ----------------------------------------------------------------------------- 01_perceptron
def test_perceptron_references_agree_with_the_solution():
    ns = _solution(perceptron_probes)
    rng = np.random.default_rng(0)
    for dtype in (np.float32, np.float64):
        z = rng.normal(size=(4, 5)).astype(dtype)
        z[0, :2] = 0.0
        np.testing.assert_array_equal(perceptron_probes.step_reference(z), ns["step"](z))
    for trial in range(20):
        d = int(rng.integers(1, 5))
        ours, theirs = ns["Perceptron"](d), ns["Perceptron"](d)
        ours.w, ours.b = rng.normal(size=d), float(rng.normal())
        theirs.w, theirs.b = ours.w.copy(), ours.b
        X = rng.normal(size=(7, d))
        np.testing.assert_array_equal(perceptron_probes.predict_reference(ours, X), theirs.predict(X))
        np.testing.assert_array_equal(perceptron_probes.predict_reference(ours, X[0]), theirs.predict(X[0]))
        y, lr = int(rng.integers(0, 2)), float(rng.uniform(0.01, 1))
        assert perceptron_probes.update_reference(ours, X[0], y, lr) == theirs.update(X[0], y, lr)
        np.testing.assert_allclose(ours.w, theirs.w)
        assert ours.b == pytest.approx(theirs.b)


def test_a_correct_update_passes_beside_a_wrong_step_and_the_note_names_step(capsys):
    ns = _solution(perceptron_probes)
    ns["step"] = lambda z: np.where(z >= 0, 1, 0)  # the >= bug: ŷ = 1 at w·x + b = 0
    model = ns["Perceptron"](2)
    model.w, model.b = np.zeros(2), 0.0
    with perceptron_probes.using_course(ns, "step"):  # the solution's update and predict call it
        error = model.update(np.array([1.0, 2.0]), 1, 0.5)
    assert error == 1 and np.allclose(model.w, [0.5, 1.0])
    out = capsys.readouterr().out
    assert "your `step` differs" in out and "test_step" in out and out.count("note:") == 1


def test_the_end_to_end_test_names_the_perceptrons_parts():
    ns = _solution(perceptron_probes)
    with pytest.raises(CheckFailure) as failed:
        with perceptron_probes.end_to_end(ns):
            model = ns["Perceptron"](2)
            ns["train_perceptron"](model, np.eye(2), np.array([1, 0]), epochs=2)
            raise CheckFailure("accuracy: expected 1, got 0.5")
    assert "`step`, `Perceptron`, `train_perceptron`" in str(failed.value)


# ----------------------------------------------------------------------------- 02_numpy_mlp
def test_numpy_mlp_references_agree_with_the_solution():
    ns = _solution(mlp_probes)
    rng = np.random.default_rng(1)
    for dtype in (np.float32, np.float64):
        z = (3 * rng.normal(size=(5, 4))).astype(dtype)
        z[0, 0] = 0.0
        for name in ("relu", "relu_grad", "sigmoid", "sigmoid_grad", "tanh", "tanh_grad", "softmax"):
            np.testing.assert_allclose(mlp_probes.COURSE[name][0](z), ns[name](z), rtol=1e-6, atol=1e-7,
                                       err_msg=name)
    big = np.array([[-1000.0, 0.0, 1000.0]])
    with np.errstate(over="raise", invalid="raise"):
        for name in ("sigmoid", "sigmoid_grad", "tanh", "tanh_grad", "softmax"):
            np.testing.assert_allclose(mlp_probes.COURSE[name][0](big), ns[name](big), atol=1e-12, err_msg=name)
    for seed in range(3):
        X, Y, params, reg = mlp_probes.regression_problem(n=6, d_in=3, d_hidden=5, d_out=2, reg=0.1, seed=seed)
        (Y_ref, cache_ref), (Y_sol, cache_sol) = mlp_probes.forward_reference(X, params), ns["forward"](X, params)
        np.testing.assert_allclose(Y_ref, Y_sol)
        assert set(cache_ref) == set(cache_sol) and all(np.allclose(cache_ref[k], cache_sol[k]) for k in cache_ref)
        assert mlp_probes.mse_l2_loss_reference(Y_ref + 0.3, Y, params, reg) == pytest.approx(
            ns["mse_l2_loss"](Y_ref + 0.3, Y, params, reg))
        ours, theirs = mlp_probes.backward_reference(X, Y, params, cache_ref, reg), ns["backward"](X, Y, params, cache_sol, reg)
        assert all(np.allclose(ours[k], theirs[k]) for k in params)
        x = rng.normal(size=(2, 3))
        before = x.copy()
        np.testing.assert_allclose(mlp_probes.numerical_gradient_reference(lambda v: np.sum(v ** 3), x),
                                   ns["numerical_gradient"](lambda v: np.sum(v ** 3), x.copy()))
        np.testing.assert_array_equal(x, before)
        Z, y = rng.normal(size=(5, 4)), rng.integers(0, 4, 5)
        P = mlp_probes.softmax_reference(Z)
        assert mlp_probes.cross_entropy_reference(P, y) == pytest.approx(ns["cross_entropy"](P, y))
        np.testing.assert_allclose(mlp_probes.softmax_cross_entropy_backward_reference(Z, y),
                                   ns["softmax_cross_entropy_backward"](Z, y))


def test_the_wrong_backward_is_wrong_in_the_first_layer_only():
    X, Y, params, reg = mlp_probes.regression_problem(seed=2)
    cache = mlp_probes.forward_reference(X, params)[1]
    right = mlp_probes.backward_reference(X, Y, params, cache, reg)
    wrong = mlp_probes.backward_without_mask(X, Y, params, cache, reg)
    assert all(np.allclose(right[k], wrong[k]) for k in ("W2", "b2"))
    assert not any(np.allclose(right[k], wrong[k]) for k in ("W1", "b1"))


def test_cache_for_backward_keeps_a_right_cache_and_mends_a_wrong_one(capsys):
    ns = _solution(mlp_probes)
    X, _, params, _ = mlp_probes.regression_problem(seed=1)
    assert mlp_probes.cache_for_backward(ns["forward"], X, params).keys() == {"Z1", "A1", "Y_hat"}
    assert capsys.readouterr().out == ""

    def no_relu(X, params):  # forgets the ReLU, and keeps one array under a name of its own
        Z1 = X @ params["W1"].T + params["b1"]
        return Z1 @ params["W2"].T + params["b2"], {"Z1": Z1, "A1": Z1, "hidden": Z1}
    cache = mlp_probes.cache_for_backward(no_relu, X, params)
    np.testing.assert_allclose(cache["A1"], np.maximum(cache["Z1"], 0))
    assert "hidden" in cache and "your `forward` differs" in capsys.readouterr().out
    assert mlp_probes.cache_for_backward(lambda X, p: 1 / 0, X, params).keys() == {"Z1", "A1", "Y_hat"}


def test_forward_for_backward_mends_a_wrong_mlp_forward(capsys):
    ns = _solution(mlp_probes)
    dims = (4, 5, 3)
    X, y = mlp_probes.classification_problem(n=5, dims=dims, seed=0)
    model = ns["MLP"](dims, activation="tanh")
    model.params = mlp_probes.mlp_params(dims, seed=0)
    mlp_probes.forward_for_backward(model, X)
    right = dict(model.cache)
    assert capsys.readouterr().out == ""
    model.forward = lambda X: np.zeros((len(X), 3))
    model.cache = {}
    mlp_probes.forward_for_backward(model, X)
    assert model.cache.keys() == right.keys() and all(np.allclose(model.cache[k], right[k]) for k in right)
    assert "your `forward` differs" in capsys.readouterr().out


def test_expect_check_errors_passes_the_solution_and_names_a_check_without_the_penalty():
    ns = _solution(mlp_probes)
    X, Y, params, reg = mlp_probes.regression_problem(n=6, d_in=3, d_hidden=4, d_out=2, reg=0.1, seed=3)
    with mlp_probes.using_course(ns, "forward", "backward", "mse_l2_loss", "numerical_gradient"):
        mlp_probes.expect_check_errors(ns["gradient_check"](X, Y, params, reg), X, Y, params, reg, "check")
        with mlp_probes.wrong_backward(ns):
            errors = ns["gradient_check"](X, Y, params, reg)
        assert ns["backward"] is not mlp_probes.backward_without_mask
    assert min(errors["W1"], errors["b1"]) > 1e-3 and max(errors["W2"], errors["b2"]) < 1e-6
    mlp_probes.expect_check_errors(errors, X, Y, params, reg, "check", backward=mlp_probes.backward_without_mask)
    with pytest.raises(CheckFailure) as failed:
        mlp_probes.expect_check_errors(errors, X, Y, params, reg, "check")
    assert "Likely mistake" not in str(failed.value)
    no_penalty = mlp_probes._check_errors(X, Y, params, reg, loss_reg=0.0)
    with pytest.raises(CheckFailure) as failed:
        mlp_probes.expect_check_errors(no_penalty, X, Y, params, reg, "check")
    assert "leaves out the L2 penalty" in str(failed.value)
    with pytest.raises(CheckFailure, match="one error per parameter"):
        mlp_probes.expect_check_errors([0.0] * 4, X, Y, params, reg, "check")


def test_a_correct_mlp_backward_passes_beside_a_wrong_relu_grad(capsys):
    ns = _solution(mlp_probes)
    ns["relu_grad"] = lambda z: (np.asarray(z) != 0).astype(float)  # 1 for negative z too
    dims = (5, 4, 3, 3)
    X, y = mlp_probes.classification_problem(n=6, dims=dims, seed=0)
    with mlp_probes.using_course(ns, *mlp_probes.ACTIVATION_FUNCTIONS, "softmax", "cross_entropy",
                                 "softmax_cross_entropy_backward"):
        model = ns["MLP"](dims)
        model.params = mlp_probes.mlp_params(dims, seed=0)
        mlp_probes.forward_for_backward(model, X)
        model.backward(y)
    right = mlp_probes.mlp_gradients(X, y, model.params)
    assert all(np.allclose(model.grads[k], right[k], atol=1e-7) for k in right)
    out = capsys.readouterr().out
    assert "your `relu_grad` differs" in out and out.count("note:") == 1
