"""Probes for 03_torch_scratch's tests: reference results in float64, the outputs of typical
bugs, and stand-ins (a recording updater, a grad-mode spy) that watch a training loop from
the outside; and the course's versions of the functions that other graded functions call
(:data:`COURSE`), which a test runs its function with (one bug, one deduction: see
:mod:`utils.checks.isolation`).

The notebook's convention (d2l's): a layer computes ``X @ W + b`` with ``W`` of shape
``(inputs, outputs)``. Every reference here is computed in float64 on the CPU, whatever the
student's dtype and device, so tolerances only have to absorb the student's own rounding
(float32, or TF32 matmuls on a GPU).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence

import torch

from utils.checks import isolation
from utils.checks.assertions import _raise, expect, expect_close, show
from utils.checks.tensors import forbidding

__all__ = [
    "PARAM_NAMES",
    "LIBRARY_RELU",
    "RELU_HINTS",
    "NET_HINTS",
    "SGD_HINTS",
    "forbidding_library_relu",
    "expect_param_list",
    "expect_init_statistics",
    "small_params",
    "images",
    "mlp_scores",
    "net_mistakes",
    "softmax64",
    "softmax_mistakes",
    "cross_entropy64",
    "cross_entropy_mistakes",
    "cross_entropy_with_zeros",
    "ZERO_PROBABILITY_HINT",
    "expect_scalar_tensor",
    "expect_number",
    "params_with_grads",
    "expect_sgd_step",
    "accuracy_mistakes",
    "ACCURACY_HINTS",
    "uneven_batches",
    "GradModeSpy",
    "RecordingUpdater",
    "linear_problem",
    "reference_train_epoch",
    "train_epoch_mistakes",
    "expect_epoch_result",
    "expect_history",
    "mean_cross_entropy",
    "OVERFLOW_HINT",
    "GLOBAL_MAX_HINT",
    "KEEPDIM_HINT",
    "has_nan_or_inf",
    "LinearScores",
    "relu_reference",
    "accuracy_reference",
    "evaluate_accuracy_reference",
    "train_epoch_reference",
    "COURSE",
    "PIPELINE",
    "using_course",
    "end_to_end",
]

PARAM_NAMES = ["W1", "b1", "W2", "b2"]


def _f64(x) -> torch.Tensor:
    return torch.as_tensor(x).detach().to("cpu", torch.float64)


# ----------------------------------------------------------------------------- init_params
def expect_param_list(params, dims: Sequence[int], what: str) -> None:
    """``params`` is ``[W1, b1, W2, b2]``: float32 tensors of shapes ``(i, h), (h,), (h, o), (o,)``."""
    n_in, n_hidden, n_out = dims
    if not isinstance(params, (list, tuple)) or len(params) != 4:
        _raise(what, f"expected a list [W1, b1, W2, b2] of 4 tensors, got {show(params)}")
    shapes = {"W1": (n_in, n_hidden), "b1": (n_hidden,), "W2": (n_hidden, n_out), "b2": (n_out,)}
    for name, p in zip(PARAM_NAMES, params):
        if not isinstance(p, torch.Tensor):
            _raise(what, f"{name} should be a tensor, got {type(p).__name__}")
        wanted = shapes[name]
        got = tuple(p.shape)
        if got != wanted:
            hint = None
            if got == wanted[::-1] and len(wanted) == 2:
                hint = ("W is transposed: in this notebook a layer computes X @ W + b, so W has "
                        "shape (inputs, outputs)")
            elif len(got) == 2 and 1 in got and math.prod(got) == math.prod(wanted):
                hint = "the biases are vectors of shape (outputs,), not matrices with a dimension of 1"
            _raise(what, f"{name} should have shape {wanted}, got {got}", hint)
        if p.dtype != torch.float32:
            _raise(what, f"{name} should be float32 (torch's default), got {p.dtype}",
                   "pass dtype=torch.float32 or leave the dtype at its default")


def expect_init_statistics(params, what: str) -> None:
    """Weights look like draws of N(0, 0.01²); biases are zeros (for large enough layers)."""
    W1, b1, W2, b2 = (p.detach().to("cpu", torch.float64) for p in params)
    for name, W in (("W1", W1), ("W2", W2)):
        n = W.numel()
        std, mean = float(W.std()), float(W.mean())
        # Sampling error of the std of n normal draws is about std / sqrt(2n); allow 6 of them.
        slack = 6 * 0.01 / math.sqrt(2 * n)
        hint = None
        if std == 0:
            hint = "the weights are all equal: they must be random, or every hidden unit learns the same thing"
        elif abs(std - 1) < 0.1:
            hint = "the weights have standard deviation 1: scale torch.randn(...) by 0.01"
        elif abs(std - 1e-4) < 2e-5:
            hint = ("the standard deviation is 0.0001, the variance 0.01² of N(0, 0.01²): its "
                    "standard deviation is 0.01, so scale torch.randn(...) by 0.01")
        elif mean > 0.002 and std < 0.005:
            hint = ("the weights are uniform in [0, 0.01) (torch.rand): draw them from a normal "
                    "distribution, torch.randn(...) * 0.01")
        if not abs(std - 0.01) <= slack or hint:
            _raise(what, f"{name} should be drawn from N(0, 0.01²); its values have standard "
                   f"deviation {std:.4g} and mean {mean:.3g}", hint)
        if abs(mean) > 6 * 0.01 / math.sqrt(n):
            _raise(what, f"{name} should have mean 0, got mean {mean:.3g}")
    for name, b in (("b1", b1), ("b2", b2)):
        if torch.count_nonzero(b):
            _raise(what, f"{name} should be all zeros, got {show(b)}",
                   "the biases start at zero: torch.zeros(n, requires_grad=True)")


# ----------------------------------------------------------------------------- relu and net
LIBRARY_RELU = {path: path for path in (
    "torch.relu", "torch.relu_", "torch.Tensor.relu", "torch.Tensor.relu_",
    "torch.nn.functional.relu", "torch.nn.functional.relu_", "torch.nn.functional.threshold",
    "torch.clamp", "torch.clamp_min", "torch.clip", "torch.Tensor.clamp", "torch.Tensor.clamp_",
    "torch.Tensor.clamp_min", "torch.Tensor.clip")}
_BY_HAND = ("write relu by hand this time, e.g. with torch.maximum(X, torch.zeros_like(X)) or a "
            "mask X * (X > 0)")
RELU_HINTS = {
    "ForbiddenCall": _BY_HAND,
    "leaf Variable": "relu modified its input in place: return a new tensor instead",
}


def forbidding_library_relu():
    """A context in which torch's own ReLU and clamp functions refuse to run."""
    return forbidding(LIBRARY_RELU, _BY_HAND)


def small_params(n_in: int, n_hidden: int, n_out: int, seed: int = 0,
                 dtype=torch.float32, device="cpu") -> list[torch.Tensor]:
    """``[W1, b1, W2, b2]`` with scale-1 weights and non-zero biases (so that every term of the
    network shows in its output), leaf tensors requiring grad."""
    g = torch.Generator().manual_seed(seed)
    shapes = [(n_in, n_hidden), (n_hidden,), (n_hidden, n_out), (n_out,)]
    scales = [1 / math.sqrt(n_in), 0.5, 1 / math.sqrt(n_hidden), 0.5]
    return [(torch.randn(s, generator=g, dtype=torch.float64) * c).to(device, dtype).requires_grad_()
            for s, c in zip(shapes, scales)]


def images(n: int, shape: Sequence[int], seed: int = 0, dtype=torch.float32, device="cpu") -> torch.Tensor:
    """``n`` random "images" of ``shape``, values of both signs, shape ``(n, *shape)``."""
    g = torch.Generator().manual_seed(seed)
    return torch.randn((n, *shape), generator=g, dtype=torch.float64).to(device, dtype)


def relu_reference(X):
    """The course's ReLU: ``max(X, 0)``, same shape, dtype and device, differentiable."""
    return X.clamp_min(0)


def mlp_scores(X, params, hidden: Callable = relu_reference, output: Callable = lambda o: o):
    """The scores ``relu(X_flat @ W1 + b1) @ W2 + b2`` in float64, shape ``(n, outputs)``."""
    W1, b1, W2, b2 = (_f64(p) for p in params)
    X = _f64(X).reshape(len(X), -1)
    return output(hidden(X @ W1 + b1) @ W2 + b2)


def net_mistakes(X, params) -> dict:
    right = mlp_scores(X, params)
    return {
        "net returned probabilities (softmax applied): it returns the raw scores, the softmax "
        "belongs to the loss": lambda s: bool(torch.allclose(_f64(s).sum(1), torch.ones(len(right),
                                                              dtype=torch.float64), atol=1e-4)),
        "the hidden layer has no ReLU: H = relu(X @ W1 + b1)": mlp_scores(X, params, hidden=lambda h: h),
        "a ReLU was applied to the output scores too: only the hidden layer has one":
            right.clamp_min(0),
        "b1 was added after the ReLU: H = relu(X @ W1 + b1), the bias goes inside":
            _bias_after_relu(X, params),
        "a bias is missing: each layer computes X @ W + b": lambda s: any(
            torch.allclose(_f64(s), v, rtol=1e-4, atol=1e-5) for v in _without_biases(X, params)),
    }


def _bias_after_relu(X, params):
    W1, b1, W2, b2 = params
    return mlp_scores(X, [W1, torch.zeros_like(_f64(b1)), W2, b2], hidden=lambda h: h.clamp_min(0) + _f64(b1))


def _without_biases(X, params):
    W1, b1, W2, b2 = params
    zero1, zero2 = torch.zeros_like(_f64(b1)), torch.zeros_like(_f64(b2))
    return [mlp_scores(X, [W1, zero1, W2, b2]), mlp_scores(X, [W1, b1, W2, zero2])]


NET_HINTS = {
    "is invalid for input of size": "net flattens X to a fixed size: use W1.shape[0], the number "
                                    "of inputs the parameters expect",
    "cannot be multiplied": "flatten X to (n, num_inputs) with X.reshape(-1, W1.shape[0]) before "
                            "the first layer; a layer computes X @ W + b",
    "ForbiddenCall": _BY_HAND,
}


# ----------------------------------------------------------------------------- softmax
def softmax64(O) -> torch.Tensor:
    return torch.softmax(_f64(O), dim=1)


def softmax_mistakes(O) -> dict:
    O = _f64(O)
    E = torch.exp(O - O.max(dim=1, keepdim=True).values)
    out = {
        "softmax normalised over the wrong dimension: each row (one sample's scores) must sum "
        "to 1, so sum over dim=1": torch.softmax(O, dim=0),
    }
    if O.shape[0] == O.shape[1]:  # square: a missing keepdim broadcasts instead of failing
        out["a row max or row sum was taken without keepdim=True, so it broadcast across columns "
            "instead of rows: use O.max(dim=1, keepdim=True) and .sum(dim=1, keepdim=True)"] = \
            lambda P: any(torch.allclose(_f64(P), wrong, rtol=1e-4, atol=1e-6) for wrong in (
                torch.exp(O - O.max(dim=1).values) / torch.exp(O - O.max(dim=1).values).sum(1, keepdim=True),
                E / E.sum(dim=1)))
    return out


OVERFLOW_HINT = ("softmax overflows for logits of 1000 (exp(1000) is inf, inf/inf is nan): "
                 "subtract each row's max first")
GLOBAL_MAX_HINT = ("each row needs its own max subtracted: one max over the whole batch still "
                   "underflows rows whose scores are far below it")
KEEPDIM_HINT = ("a row max or row sum was taken without keepdim=True, so it cannot line up with "
                "the rows: use O.max(dim=1, keepdim=True)")


def has_nan_or_inf(P) -> bool:
    return not bool(torch.isfinite(_f64(P)).all())


# ----------------------------------------------------------------------------- cross-entropy
def cross_entropy64(y_hat, y) -> torch.Tensor:
    P, y = _f64(y_hat), torch.as_tensor(y).cpu().long()
    return -torch.log(P[torch.arange(len(y)), y]).mean()


def cross_entropy_mistakes(y_hat, y) -> dict:
    P, labels = _f64(y_hat), torch.as_tensor(y).cpu().long()
    n = len(labels)
    right = cross_entropy64(P, labels)
    return {
        "the loss is summed over the batch: take the mean, so that the learning rate does not "
        "depend on the batch size": right * n,
        "y_hat[:, y] picks every label's column for every row (an n × n matrix): index rows and "
        "labels together, y_hat[range(n), y]": -torch.log(P[:, labels]).mean(),
        "the mean is over every entry of y_hat: only the probability of each sample's true "
        "class counts, y_hat[range(n), y]": -torch.log(P).mean(),
        "the log of (1 - probability) or of the wrong class was taken: use -log y_hat[i, y[i]]":
            -torch.log(1 - P[torch.arange(n), labels]).mean(),
        "the minus sign is missing: the loss is -log y_hat[i, y[i]], a positive number": -right,
        "the logarithm is base 10 (or 2): cross-entropy uses the natural log, torch.log":
            lambda got: any(math.isclose(float(got), float(right) / math.log(base), rel_tol=1e-5)
                            for base in (10, 2)),
        "softmax was applied to y_hat again: cross_entropy receives probabilities already":
            cross_entropy64(torch.softmax(P, dim=1), labels),
        "the probability of the predicted class (the row max) was used: use the true class, "
        "y_hat[i, y[i]]": -torch.log(P.max(dim=1).values).mean(),
    }


def cross_entropy_with_zeros():
    """``(y_hat, y, loss)``: probabilities with exact zeros off the true class (softmax gives
    them for scores ~100 apart), where ``0 * log(0)`` is nan; the right loss is finite."""
    y_hat = torch.tensor([[0.5, 0.5, 0.0], [0.0, 0.25, 0.75], [1.0, 0.0, 0.0]])
    y = torch.tensor([0, 2, 0])
    return y_hat, y, cross_entropy64(y_hat, y)


ZERO_PROBABILITY_HINT = ("the loss is nan when a probability off the true class is 0: "
                         "0 * log(0) is nan. Pick y_hat[i, y[i]] first, then take its log")


def expect_scalar_tensor(got, what: str) -> None:
    """``got`` is a 0-dim float tensor (``loss.backward()`` needs a tensor with one value)."""
    if isinstance(got, numbers.Number):
        _raise(what, f"expected a 0-dim tensor, got the Python number {show(got)}",
               "the loss was turned into a number (.item() or float()): return the tensor, "
               "so that loss.backward() can run")
    if not isinstance(got, torch.Tensor):
        _raise(what, f"expected a 0-dim tensor, got {type(got).__name__}")
    if got.dim() != 0:
        _raise(what, f"expected a 0-dim tensor (one number), got shape {tuple(got.shape)}",
               "the loss of each sample was returned: take the mean over the batch" if got.dim() == 1
               else None)


def expect_number(got, what: str, hint: str | None = None) -> None:
    """``got`` is a plain Python (or NumPy) number, not a tensor."""
    if isinstance(got, torch.Tensor):
        _raise(what, f"expected a Python number, got a tensor {show(got)}",
               hint or "convert the count to a Python number with .item()")
    if not isinstance(got, numbers.Real) or isinstance(got, bool):
        _raise(what, f"expected a number, got {show(got)} ({type(got).__name__})")


# ----------------------------------------------------------------------------- sgd
# A new tensor assigned to p.grad must match p's dtype and device (torch 2.x words it the first
# way below, torch 2.1 the second).
_GRAD_REPLACED = ("the gradient was replaced by a new tensor of another dtype or device: reset it "
                  "with p.grad.zero_() or p.grad = None")
SGD_HINTS = {
    "leaf Variable that requires grad": "the update ran outside torch.no_grad(): autograd refuses "
                                        "to change a parameter in place while recording",
    "NoneType": "a gradient was None: zero the gradients after the update, not before it",
    "assign a gradient": _GRAD_REPLACED,
    "assigned grad has data of a different": _GRAD_REPLACED,
}


def params_with_grads(seed: int = 0, dtype=torch.float32, device="cpu"):
    """``(params, grads)``: four leaf parameters requiring grad whose ``.grad`` holds ``grads``."""
    params = small_params(3, 4, 2, seed=seed, dtype=dtype, device=device)
    g = torch.Generator().manual_seed(seed + 100)
    grads = [torch.randn(p.shape, generator=g, dtype=torch.float64).to(device, dtype) for p in params]
    for p, grad in zip(params, grads):
        p.grad = grad.clone()
    return params, grads


def expect_sgd_step(params, originals, before, grads, lr: float, what: str) -> None:
    """After ``sgd(params, lr)``: the same tensor objects, updated in place to
    ``before - lr * grads``, still leaves requiring grad, with their gradients reset."""
    for i, (name, original) in enumerate(zip(PARAM_NAMES, originals)):
        if params[i] is not original:
            _raise(what, f"params[{i}] ({name}) is a new tensor after the update",
                   "params were replaced (params[i] = p - lr * p.grad) instead of updated in place: "
                   "write p -= lr * p.grad inside torch.no_grad(), so the tensors the model uses change")
    for name, p, old, grad in zip(PARAM_NAMES, params, before, grads):
        expected = _f64(old) - lr * _f64(grad)
        expect_close(p.detach(), expected, f"{what}: {name} after the update", rtol=1e-4, atol=1e-6,
                     mistakes={
                         "the parameters did not change: either p = p - lr * p.grad, which only "
                         "rebinds the name p (update in place, p -= lr * p.grad, inside "
                         "torch.no_grad()), or the gradients were reset before the update used "
                         "them (reset after it)": _f64(old),
                         "the update adds the gradient: gradient descent subtracts lr · grad":
                             _f64(old) + lr * _f64(grad),
                         "the learning rate lr is ignored": _f64(old) - _f64(grad),
                     })
    for name, p in zip(PARAM_NAMES, params):
        expect(p.requires_grad and p.is_leaf, what,
               f"{name} should still be a leaf tensor that requires grad after the update",
               hint="update the parameters in place inside torch.no_grad()")
    for name, p in zip(PARAM_NAMES, params):
        expect(p.grad is None or not bool(torch.count_nonzero(p.grad.detach())), what,
               f"{name}.grad still holds {show(p.grad)} after the update",
               hint="the gradients are not reset after the update, so they accumulate across "
                    "steps: p.grad.zero_() (or p.grad = None) after updating")


# ----------------------------------------------------------------------------- accuracy
def accuracy_reference(y_hat, y) -> int:
    """The course's ``accuracy``: the number of rows whose largest score is at the label."""
    return int((y_hat.argmax(dim=1) == y).sum())


def evaluate_accuracy_reference(net_fn, data_iter) -> float:
    """The course's ``evaluate_accuracy``: the fraction right over every sample, no graph."""
    right, seen = 0, 0
    with torch.no_grad():
        for X, y in data_iter:
            right += accuracy_reference(net_fn(X), y)
            seen += len(y)
    return right / seen


def accuracy_mistakes(y_hat, y) -> dict:
    scores, labels = _f64(y_hat), torch.as_tensor(y).cpu().long()
    right = accuracy_reference(scores, labels)
    out = {"accuracy returned the fraction: it returns the number of correct predictions "
           "(evaluate_accuracy divides by the number of samples)":
               lambda got: math.isclose(float(got), right / len(labels), rel_tol=1e-6)}
    out["argmax() without dim gives one index into the flattened tensor: take the argmax of "
        "each row, argmax(dim=1)"] = int((scores.argmax() == labels).sum())
    if not bool((scores.max(dim=1).values == labels).any()):
        out["the max values (scores) were compared with the labels: torch.max(..., dim=1) "
            "returns (values, indices), and the predicted class is the index"] = 0
    if scores.shape[0] == scores.shape[1]:
        out["the argmax is over the wrong dimension: the predicted class is the argmax of each "
            "row, dim=1"] = int((scores.argmax(dim=0) == labels).sum())
    return out


ACCURACY_HINTS = {"must match the size": "the argmax is over the wrong dimension: the predicted "
                                         "class is the argmax of each row, dim=1"}


def uneven_batches(seed: int = 0, sizes=(4, 4, 2), n_classes: int = 3, n_features: int = 5,
                   dtype=torch.float32, device="cpu"):
    """``(batches, W)``: a list of ``(X, y)`` batches of ``sizes`` and weights ``W`` whose linear
    scores ``X @ W`` classify the batches with very different accuracies (all, a quarter,
    none...), so that weighting by batch or by sample gives different answers."""
    g = torch.Generator().manual_seed(seed)
    W = torch.randn(n_features, n_classes, generator=g, dtype=torch.float64)
    batches = []
    right_share = [1.0, 0.25, 0.5, 0.0]
    for i, size in enumerate(sizes):
        X = torch.randn(size, n_features, generator=g, dtype=torch.float64)
        predicted = (X @ W).argmax(dim=1)
        n_right = round(right_share[i % len(right_share)] * size)
        y = predicted.clone()
        y[n_right:] = (predicted[n_right:] + 1) % n_classes
        batches.append((X.to(device, dtype), y.to(device)))
    return batches, W.to(device, dtype)


class GradModeSpy:
    """Wraps ``net_fn`` and records whether autograd was recording at each call."""

    def __init__(self, net_fn: Callable):
        self.net_fn = net_fn
        self.grad_enabled: list[bool] = []

    def __call__(self, X):
        self.grad_enabled.append(torch.is_grad_enabled())
        return self.net_fn(X)


# ----------------------------------------------------------------------------- training
def linear_problem(seed: int = 0, sizes=(8, 8, 4), n_features: int = 5, n_classes: int = 3,
                   device="cpu"):
    """``(batches, params)``: a list of ``(X, y)`` batches (the last one smaller) and leaf
    parameters ``[W, b]`` of a linear classifier (float32, requiring grad)."""
    g = torch.Generator().manual_seed(seed)
    batches = []
    for size in sizes:
        X = torch.randn(size, n_features, generator=g)
        y = torch.randint(0, n_classes, (size,), generator=g)
        batches.append((X.to(device), y.to(device)))
    W = (torch.randn(n_features, n_classes, generator=g) * 0.5).to(device).requires_grad_()
    b = torch.zeros(n_classes, device=device, requires_grad=True)
    return batches, [W, b]


def mean_cross_entropy(scores, y):
    """The batch's mean cross-entropy from scores (the loss the tests hand to ``train_epoch``)."""
    return torch.nn.functional.cross_entropy(scores, y)


class LinearScores:
    """``net_fn`` for the linear problem: ``X @ W + b`` with the parameters an updater changes.
    An object rather than a lambda, so that a copy of ``(net_fn, updater)`` (the isolation's
    record of a call) shares the copied parameters, as the originals do."""

    def __init__(self, params):
        self.params = params

    def __call__(self, X):
        W, b = self.params
        return X @ W + b


class RecordingUpdater:
    """An ``updater()`` for the tests: one SGD step on ``params`` (then grads reset), recording
    the gradients it was handed at each call."""

    def __init__(self, params, lr: float = 0.5):
        self.params, self.lr = params, lr
        self.seen_grads: list[list] = []

    @property
    def calls(self) -> int:
        return len(self.seen_grads)

    def __call__(self):
        self.seen_grads.append([None if p.grad is None else p.grad.detach().clone() for p in self.params])
        with torch.no_grad():
            for p in self.params:
                if p.grad is not None:
                    p -= self.lr * p.grad
                    p.grad = None


def reference_train_epoch(batches, params, lr: float = 0.5):
    """What ``train_epoch`` must return for the linear problem, and the per-batch details a bug
    would use instead: ``(loss, acc, details)``. ``params`` are cloned, not changed."""
    W, b = (p.detach().clone().requires_grad_() for p in params)
    losses, rights, sizes, losses_after, rights_after = [], [], [], [], []
    for X, y in batches:
        scores = X @ W + b
        loss = mean_cross_entropy(scores, y)
        loss.backward()
        with torch.no_grad():
            for p in (W, b):
                p -= lr * p.grad
                p.grad = None
            scores_after = X @ W + b            # what a second forward pass would report
        losses.append(float(loss.detach()))
        rights.append(int((scores.argmax(dim=1) == y).sum()))
        sizes.append(len(y))
        losses_after.append(float(mean_cross_entropy(scores_after, y)))
        rights_after.append(int((scores_after.argmax(dim=1) == y).sum()))
    n = sum(sizes)
    loss = sum(l * s for l, s in zip(losses, sizes)) / n
    return loss, sum(rights) / n, {"losses": losses, "rights": rights, "sizes": sizes,
                                   "losses_after": losses_after, "rights_after": rights_after}


def train_epoch_mistakes(details) -> tuple[dict, dict]:
    """``(loss_mistakes, accuracy_mistakes)`` for ``train_epoch``'s two results."""
    losses, rights, sizes = details["losses"], details["rights"], details["sizes"]
    n, k = sum(sizes), len(sizes)
    total = sum(l * s for l, s in zip(losses, sizes))           # the loss summed over the samples
    after = ("after the update (a second forward pass with the new parameters): report the "
             "scores and the loss that loss.backward() was called on")
    loss = {
        "the batch losses were averaged without weighting by batch size: add loss * len(y) "
        "and divide by the number of samples": sum(losses) / k,
        "the batch losses were added up but not divided by the number of samples":
            lambda got: any(math.isclose(float(got), summed, rel_tol=1e-4) for summed in (total, sum(losses))),
        "the batch means were added up and divided by the number of samples: each batch's "
        "mean loss counts len(y) times, add loss * len(y)": sum(losses) / n,
        f"the loss was measured {after}":
            sum(l * s for l, s in zip(details["losses_after"], sizes)) / n,
        "the loss and the accuracy are swapped: return (loss, accuracy)": sum(rights) / n,
    }
    accuracy = {
        "the training accuracy is a count: divide the number of correct predictions by the "
        "number of samples": sum(rights),
        "the batch accuracies were averaged without weighting by batch size":
            sum(r / s for r, s in zip(rights, sizes)) / k,
        f"the accuracy was measured {after}": sum(details["rights_after"]) / n,
        "the loss and the accuracy are swapped: return (loss, accuracy)": total / n,
    }
    return loss, accuracy


def expect_epoch_result(result, what: str) -> None:
    """``train_epoch``'s ``(loss, accuracy)``: a pair of numbers, neither a tensor that still
    holds a graph (adding up ``loss`` rather than ``loss.item()`` keeps every batch's graph,
    and its activations, in memory until the epoch ends)."""
    expect(isinstance(result, tuple) and len(result) == 2, what, f"expected (loss, accuracy), got {show(result)}")
    for name, value in zip(("loss", "accuracy"), result):
        if isinstance(value, torch.Tensor) and value.requires_grad:
            _raise(what, f"the mean {name} is a tensor attached to the computation graph: {show(value)}",
                   f"add up loss.item() * len(y) (a float), not the loss tensor: the tensor keeps "
                   f"every batch's graph in memory for the whole epoch")
        if not isinstance(value, (numbers.Real, torch.Tensor)) or isinstance(value, bool):
            _raise(what, f"the mean {name} should be a number, got {show(value)}")


def expect_history(history, num_epochs: int, what: str) -> None:
    """``train``'s history: a dict with one number per epoch in ``"train_loss"`` (>= 0),
    ``"train_acc"`` and ``"test_acc"`` (in [0, 1])."""
    keys = ("train_loss", "train_acc", "test_acc")
    expect(isinstance(history, dict) and set(keys) <= set(history), what,
           f"expected a dict with the lists 'train_loss', 'train_acc' and 'test_acc', got {show(history)}")
    for key in keys:
        values = history[key]
        expect(isinstance(values, (list, tuple)), what,
               f"history[{key!r}] should be a list with one number per epoch, got {show(values)}",
               hint="start each list empty before the epochs and append to it once per epoch")
        expect(len(values) == num_epochs, what,
               f"history[{key!r}] has {len(values)} entries, expected one per epoch ({num_epochs})")
        bounds = (0, 1) if key.endswith("acc") else (0, float("inf"))
        numbers_ok = all(isinstance(v, (numbers.Real, torch.Tensor)) and not isinstance(v, bool)
                         and (not isinstance(v, torch.Tensor) or v.numel() == 1) for v in values)
        expect(numbers_ok and all(bounds[0] <= float(v) <= bounds[1] for v in values), what,
               f"history[{key!r}] should hold one number per epoch within {bounds}, got {show(values)}")


def train_epoch_reference(net_fn, train_iter, loss_fn, updater) -> tuple[float, float]:
    """The course's ``train_epoch``: one step per batch; the loss and the accuracy of the scores
    that each step was computed from, weighted by batch size."""
    loss_sum, right, seen = 0.0, 0, 0
    for X, y in train_iter:
        scores = net_fn(X)
        loss = loss_fn(scores, y)
        loss.backward()
        updater()
        loss_sum += float(loss.detach()) * len(y)
        right += accuracy_reference(scores.detach(), y)
        seen += len(y)
    return loss_sum / seen, right / seen


# ----------------------------------------------------------------------------- one bug, one deduction
# The graded functions that other graded functions call, with the test that grades each.
COURSE = {
    "relu": (relu_reference, "test_relu"),
    "accuracy": (accuracy_reference, "test_accuracy"),
    "evaluate_accuracy": (evaluate_accuracy_reference, "test_evaluate_accuracy"),
    "train_epoch": (train_epoch_reference, "test_train_epoch"),
}
# What the end-to-end test (test_fashion_accuracy) runs of the student's.
PIPELINE = ("init_params", "net", "relu", "softmax", "cross_entropy", "sgd", "train", "train_epoch",
            "evaluate_accuracy", "accuracy")


def using_course(namespace, *names):
    """Run the block with the course's versions of ``names`` (keys of :data:`COURSE`)."""
    return isolation.using_course(namespace, COURSE, *names)


def end_to_end(namespace):
    """Run the end-to-end test's block; a failure names the student's functions it ran."""
    return isolation.end_to_end(namespace, *PIPELINE)
