"""Probes for 04_torch_nn's tests: small scenarios whose right answer is known, run on the
student's ``nn.Module``s and training functions, and the wrong answers of typical bugs.

Nothing here reads the student's source. Each ``expect_*`` function builds a scenario, calls
the student's code and observes what it did from the outside:

- **Modules** (``MyLinear``, ``MLP``) are compared with a float64 reference computed from
  their own parameters. The MLP's layers are found by their shapes (a chain
  ``d_in -> h1 -> ... -> d_out`` of weights ``(out, in)`` and biases ``(out,)``), so an MLP
  built with ``nn.Sequential``, an ``nn.ModuleList``, one attribute per layer, ``nn.Linear`` or
  ``MyLinear`` is all the same to the tests. Device bugs show on PyTorch's ``meta`` device.
- **Training functions** get a :class:`ProbeNet`, a tiny classifier that records, for every
  forward call, whether it was in train mode, whether autograd was on and whether its input
  had been moved with ``.to(device)``; a :class:`RecordingSGD` that records the gradients it
  sees at each ``step()``; and loaders of hand-made batches.
- **Checkpoints** are opened with ``torch.load(..., weights_only=True)`` and searched for a
  model and an optimizer state, and restored into a fresh model and optimizer that must then
  take exactly the same next step as the originals.

How "the batches are moved to ``device``" is seen without a GPU
    The probe loaders yield :class:`Unmoved` tensors: a ``torch.Tensor`` subclass that stays
    ``Unmoved`` through every operation except a ``.to(...)``, ``.cuda()`` or ``.cpu()`` call
    that names a device (via ``__torch_function__``), which returns a plain tensor. The
    :class:`ProbeNet` and the probe loss then see whether what reaches them went through such
    a call. This accepts every way of writing the move (``X.to(device)``,
    ``X.to(device=device)``, ``X.to(device, non_blocking=True)``, ``X.to(device, torch.float32)``,
    a list comprehension over the batch, ``.to`` before or after other operations) and only
    rejects code that never moves the batch, which is wrong on a GPU even when it happens to
    work on the CPU. A ``.to(dtype)`` alone does not count as a move.

Known limits: a hard-coded ``.to("cpu")`` passes on a CPU-only machine (the tests also run on
``cuda`` where one exists, and catch it there); ``torch.as_tensor(X, device=device)`` is not
seen as a move (it bypasses ``__torch_function__``), which the notebook's wording ("move each
batch with ``.to(device)``") steers students away from.
"""

from __future__ import annotations

import contextlib
import copy
import math
import numbers
import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from utils.checks.assertions import expect, expect_close, expect_equal, expect_runs, show

__all__ = [
    "Unmoved",
    "ProbeNet",
    "RecordingSGD",
    "ProbeLoss",
    "BatchLoader",
    "probe_batches",
    "linear_reference",
    "linear_mistakes",
    "expect_parameters",
    "expect_linear_gradients",
    "expect_random_init",
    "mlp_layers",
    "mlp_reference",
    "mlp_mistakes",
    "parameter_count",
    "count_mistakes",
    "expect_mlp_forward",
    "expect_on_meta",
    "expect_epoch_loss",
    "expect_gradients_reset",
    "expect_train_mode",
    "expect_batches_moved",
    "expect_training_progress",
    "expect_evaluation",
    "expect_fit_history",
    "expect_best_state",
    "expect_fit_learns",
    "expect_checkpoint_file",
    "expect_checkpoint_roundtrip",
    "expect_load_maps_to_device",
    "expect_load_refuses_pickled_objects",
    "accuracy",
]

NONLINEARITIES = {"relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid}

DEVICE_HINT = ("a tensor is made on the CPU inside the module: register every tensor the "
               "module owns as an nn.Parameter (or a buffer) so that .to(device) moves it, and "
               "create new tensors on the input's device (device=X.device)")
DEVICE_ERRORS = {"same device": DEVICE_HINT, "meta": DEVICE_HINT, "device type": DEVICE_HINT}


def _fail(what: str, detail: str, hint: str | None = None) -> None:
    expect(False, what, detail, hint=hint)


def _f64(t: torch.Tensor) -> torch.Tensor:
    return t.detach().to("cpu", torch.float64)


def _tolerance(device) -> dict:
    """Float32 on the CPU agrees with a float64 reference to ~1e-6; on a GPU, TF32 matmuls
    (when switched on) only to ~1e-3."""
    if torch.device(device).type == "cpu":
        return {"rtol": 1e-4, "atol": 1e-5}
    return {"rtol": 2e-3, "atol": 2e-3}


# ============================================================================ recording tools
def _plain(t: Any) -> Any:
    """``t`` as a plain ``torch.Tensor`` (a view, no copy); anything else unchanged."""
    if isinstance(t, Unmoved):
        with torch._C.DisableTorchFunctionSubclass():
            return t.as_subclass(torch.Tensor)
    return t


def _names_a_device(func, args, kwargs) -> bool:
    name = getattr(func, "__name__", "")
    if name in ("cuda", "cpu", "mps") or kwargs.get("device") is not None:
        return True
    if name != "to":
        return False
    return any(isinstance(a, (str, torch.device, torch.Tensor)) or
               (isinstance(a, int) and not isinstance(a, bool)) for a in args[1:])


class Unmoved(torch.Tensor):
    """A batch tensor as the probe loaders yield it.

    Every operation keeps it ``Unmoved`` except ``.to(...)``/``.cuda()``/``.cpu()`` with a
    device, which returns a plain tensor: whoever receives the batch can tell whether it was
    moved to a device first.
    """

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if _names_a_device(func, args, kwargs):
            with torch._C.DisableTorchFunctionSubclass():
                out = func(*args, **kwargs)
                return out.as_subclass(torch.Tensor) if isinstance(out, torch.Tensor) else out
        return super().__torch_function__(func, types, args, kwargs)


def unmoved(t: torch.Tensor) -> Unmoved:
    return t.as_subclass(Unmoved)


@dataclass
class ForwardCall:
    """What :class:`ProbeNet` saw in one forward call."""

    training: bool
    grad_enabled: bool
    moved: bool
    batch_size: int


class ProbeNet(nn.Module):
    """``log_softmax(Linear(dropout(X)))``: a tiny classifier of ``(N, d_in)`` inputs that
    records every forward call (:class:`ForwardCall`) in ``self.calls``.

    With ``p_drop > 0`` its output depends on the mode: in train mode a random half of the
    inputs is dropped, in eval mode none.
    """

    def __init__(self, d_in: int = 4, n_classes: int = 3, p_drop: float = 0.0, seed: int = 0):
        super().__init__()
        generator = torch.Generator().manual_seed(seed)
        self.linear = nn.Linear(d_in, n_classes)
        with torch.no_grad():
            self.linear.weight.copy_(torch.randn(n_classes, d_in, generator=generator))
            self.linear.bias.copy_(0.5 * torch.randn(n_classes, generator=generator))
        self.dropout = nn.Dropout(p_drop)
        self.calls: list[ForwardCall] = []

    def forward(self, X):                                   # (N, d_in) -> (N, n_classes)
        self.calls.append(ForwardCall(self.training, torch.is_grad_enabled(),
                                      not isinstance(X, Unmoved), len(X)))
        X = _plain(X)
        return F.log_softmax(self.linear(self.dropout(X.flatten(1))), dim=1)


class ProbeLoss:
    """``loss_fn(log_probs, y)``: the mean negative log-likelihood (plus ``offset``), recording
    whether each target ``y`` was moved with ``.to(device)``."""

    def __init__(self, offset: float = 0.0):
        self.offset = offset
        self.targets_moved: list[bool] = []

    def __call__(self, log_probs, y):
        self.targets_moved.append(not isinstance(y, Unmoved))
        return F.nll_loss(_plain(log_probs), _plain(y)) + self.offset


class RecordingSGD(torch.optim.SGD):
    """SGD that records, at every ``step()``, a copy of each parameter's gradient (or None)."""

    def __init__(self, params, lr: float = 0.0, **kwargs):
        super().__init__(params, lr=lr, **kwargs)
        self.seen: list[list[torch.Tensor | None]] = []

    @torch.no_grad()
    def step(self, closure=None):
        self.seen.append([None if p.grad is None else p.grad.detach().clone()
                          for group in self.param_groups for p in group["params"]])
        return super().step(closure)


class ScriptedOptimizer(torch.optim.SGD):
    """An "optimizer" whose k-th ``step()`` sets the parameters to ``states[k]``: a training
    run whose validation results are known in advance."""

    def __init__(self, model: nn.Module, states: Sequence[Mapping[str, torch.Tensor]]):
        super().__init__(model.parameters(), lr=0.0)
        self.model, self.states, self.steps = model, list(states), 0

    @torch.no_grad()
    def step(self, closure=None):
        state = self.states[min(self.steps, len(self.states) - 1)]
        for name, p in self.model.named_parameters():
            p.copy_(state[name].to(p.device))
        self.steps += 1


class BatchLoader:
    """A re-iterable list of ``(X, y)`` batches with ``len()``, like a ``DataLoader``."""

    def __init__(self, batches: Sequence[tuple[torch.Tensor, torch.Tensor]]):
        self.batches = list(batches)

    def __iter__(self):
        return iter(self.batches)

    def __len__(self):
        return len(self.batches)

    def __repr__(self):
        return f"BatchLoader(batch sizes {[len(X) for X, _ in self.batches]})"


def _blobs(n: int, d_in: int = 4, n_classes: int = 3, seed: int = 0, spread: float = 1.0):
    """``X (n, d_in)`` float32 around one centre per class, ``y (n,)`` int64."""
    # Offset from ProbeNet's seeds: the same stream would make its weights point at the centres.
    generator = torch.Generator().manual_seed(1000 + seed)
    centres = 2.0 * torch.randn(n_classes, d_in, generator=generator)
    y = torch.arange(n) % n_classes
    y = y[torch.randperm(n, generator=generator)]
    X = centres[y] + spread * torch.randn(n, d_in, generator=generator)
    return X, y


def probe_batches(sizes: Sequence[int], d_in: int = 4, n_classes: int = 3, seed: int = 0,
                  moved: bool = False, device="cpu", spread: float = 1.0):
    """Batches of the given sizes from :func:`_blobs`: ``Unmoved`` CPU tensors (``moved=False``,
    for code that must move them) or plain tensors on ``device``."""
    X, y = _blobs(sum(sizes), d_in, n_classes, seed, spread)
    batches, start = [], 0
    for size in sizes:
        Xb, yb = X[start:start + size], y[start:start + size]
        batches.append((Xb.to(device), yb.to(device)) if moved else (unmoved(Xb), unmoved(yb)))
        start += size
    return BatchLoader(batches)


def _reference_losses(model, loader, loss_fn, device) -> tuple[list[float], list[int], list[int]]:
    """Per batch: the loss, the batch size and the number of correct predictions, computed
    with the model as it is now (no grad, mode unchanged)."""
    losses, sizes, correct = [], [], []
    with torch.no_grad():
        for X, y in loader:
            X, y = _plain(X).to(device), _plain(y).to(device)
            out = model(X)
            losses.append(float(loss_fn(out, y)))
            sizes.append(len(X))
            correct.append(int((out.argmax(dim=1) == y).sum()))
    return losses, sizes, correct


def _as_number(result, what: str, grad_hint: str) -> float:
    if isinstance(result, torch.Tensor):
        if result.requires_grad:
            _fail(what, "returned a tensor that is still part of the computation graph "
                  f"({show(result)})", grad_hint)
        if result.numel() != 1:
            _fail(what, f"expected one number, got a tensor of shape {tuple(result.shape)}")
        return float(result)
    if isinstance(result, numbers.Real) and not isinstance(result, bool):
        return float(result)
    if result is None:
        _fail(what, "got None. Is a `return` statement missing?")
    _fail(what, f"expected a number, got {show(result)} ({type(result).__name__})")


# ============================================================================ MyLinear
def linear_reference(X, W, b) -> torch.Tensor:
    """``X @ W.T + b`` in float64 on the CPU."""
    return _f64(X) @ _f64(W).T + _f64(b)


def linear_mistakes(X, W, b) -> dict:
    X, W, b = _f64(X), _f64(W), _f64(b)
    mistakes = {
        "the bias is not added: the layer computes X @ W.T + b": X @ W.T,
        "the bias is subtracted: the layer computes X @ W.T + b": X @ W.T - b,
    }
    if W.shape[0] == W.shape[1]:
        mistakes["the layer multiplies by W instead of W.T: W has shape (out_features, "
                 "in_features), so the layer computes X @ W.T + b"] = X @ W + b
    return mistakes


def expect_parameters(module: nn.Module, shapes: Mapping[str, tuple], what: str) -> dict:
    """``module`` registers exactly the parameters ``shapes`` (name -> shape), as float32
    ``nn.Parameter``s; returns ``dict(module.named_parameters())``."""
    named = dict(module.named_parameters())
    listing = ", ".join(f"{k} {tuple(v.shape)}" for k, v in named.items()) or "nothing"
    for name, shape in shapes.items():
        if name not in named:
            attribute = module.__dict__.get(name)
            if isinstance(attribute, torch.Tensor):
                _fail(what, f"self.{name} is a plain tensor, not a registered parameter "
                      f"(named_parameters() gives: {listing})",
                      f"self.{name} is not an nn.Parameter, so the module does not register it: "
                      "parameters(), the optimizer and .to(device) never see it. Wrap it: "
                      f"self.{name} = nn.Parameter(...)")
            _fail(what, f"has no parameter named {name!r} (named_parameters() gives: {listing})")
        got = tuple(named[name].shape)
        if got != tuple(shape):
            hint = None
            if got == tuple(shape)[::-1]:
                hint = (f"{name} is transposed: like nn.Linear's weight it has shape "
                        "(out_features, in_features), and the layer computes X @ W.T + b")
            _fail(what, f"parameter {name!r} should have shape {tuple(shape)}, got {got}", hint)
        if named[name].dtype != torch.float32:
            _fail(what, f"parameter {name!r} has dtype {named[name].dtype}, expected torch.float32",
                  "make the parameters float32 (the default of torch.randn, torch.empty, "
                  "torch.zeros): a float64 weight rejects the float32 inputs every model gets")
    extra = [k for k in named if k not in shapes]
    if extra:
        _fail(what, f"has parameters {extra} besides {list(shapes)} (named_parameters() gives: "
              f"{listing})")
    return named


def expect_linear_gradients(layer: nn.Module, X: torch.Tensor, what: str) -> None:
    """After ``layer(X).sum().backward()``: ``W.grad == ones(out, N) @ X`` and ``b.grad == N``."""
    layer.zero_grad(set_to_none=True)
    out = layer(X)
    expect(isinstance(out, torch.Tensor) and out.requires_grad, what,
           "the output does not require grad: it is cut off from the parameters",
           hint="the forward pass uses a detached copy of the parameters (.data, .detach(), "
                "torch.tensor(...)): compute with self.W and self.b themselves")
    out.sum().backward()
    for name, expected in (("W", torch.ones(layer.W.shape[0], len(X), dtype=torch.float64) @ _f64(X)),
                           ("b", torch.full((layer.b.shape[0],), float(len(X)), dtype=torch.float64))):
        grad = getattr(layer, name).grad
        expect(grad is not None, f"{what}: {name}.grad after backward()", "is None",
               hint=f"no gradient reached {name}: the forward pass uses a detached copy of it "
                    "(.data, .detach(), torch.tensor(...)); compute with the parameter itself")
        expect_close(grad, expected, f"{what}: {name}.grad after backward() of the output's sum",
                     rtol=1e-4, atol=1e-5)


def expect_random_init(weight: torch.Tensor, in_features: int, what: str) -> None:
    """Weights that differ from each other (symmetry broken), of nn.Linear's scale or below."""
    W = _f64(weight)
    std = float(W.std())
    expect(std > 0, what, f"every weight is {show(float(W.flatten()[0]))}",
           hint="all weights are equal (e.g. zeros): every output unit would compute the same "
                "thing and get the same gradient forever. Initialise W randomly")
    bound = 2.0 / math.sqrt(in_features)
    expect(std <= bound, what, f"the weights' standard deviation is {std:.3g}, larger than "
           f"2/sqrt(in_features) = {bound:.3g}",
           hint="the initial weights are too large: like nn.Linear, draw them from "
                "U(-1/sqrt(in_features), 1/sqrt(in_features)), or scale torch.randn by "
                "1/sqrt(in_features)")


# ============================================================================ MLP
def mlp_layers(model: nn.Module, d_in: int, hidden_dims: Sequence[int], d_out: int,
               what: str) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """The ``(W, b)`` of each linear layer of an MLP, in order, found by their shapes.

    Needs distinct layer sizes (the tests choose them so); any module structure works.
    """
    dims = [d_in, *hidden_dims, d_out]
    params = list(model.parameters())
    shapes = [tuple(p.shape) for p in params]
    if not params:
        _fail(what, "the model has no parameters",
              "the layers are not registered: layers kept in a plain Python list or dict are "
              "invisible to PyTorch. Use nn.ModuleList, nn.Sequential or one attribute per layer")
    layers = []
    for a, b in zip(dims[:-1], dims[1:]):
        weights = [p for p in params if tuple(p.shape) == (b, a)]
        biases = [p for p in params if tuple(p.shape) == (b,)]
        if len(weights) == 1 and len(biases) == 1:
            layers.append((weights[0], biases[0]))
            continue
        hint = None
        if any(tuple(p.shape) == (a, b) for p in params):
            hint = "a weight is transposed: a layer from a to b inputs has a weight of shape (b, a)"
        elif weights and not biases:
            hint = "the linear layers have no bias: use nn.Linear(a, b) (bias=True is its default)"
        _fail(what, f"expected a linear layer {a} -> {b} (weight {(b, a)}, bias {(b,)}) in an "
              f"MLP of sizes {dims}; its parameters have shapes {shapes}", hint)
    expected = sum(b * a + b for a, b in zip(dims[:-1], dims[1:]))
    if sum(p.numel() for p in params) != expected:
        _fail(what, f"expected exactly the layers {dims}, but its parameters have shapes {shapes}")
    return layers


def mlp_reference(X, layers, nonlin: str | None, *, after_last: bool = False,
                  output: str = "log_softmax", dim: int = 1) -> torch.Tensor:
    """The MLP's output in float64, or that of a bug (other ``nonlin``, an activation
    ``after_last`` layer, ``output`` ``"logits"``/``"softmax"``, normalised over ``dim``)."""
    A = _f64(X).flatten(1)
    f = NONLINEARITIES[nonlin] if nonlin else (lambda z: z)
    for index, (W, b) in enumerate(layers):
        A = A @ _f64(W).T + _f64(b)
        if index < len(layers) - 1 or after_last:
            A = f(A)
    if output == "logits":
        return A
    return torch.softmax(A, dim=dim) if output == "softmax" else torch.log_softmax(A, dim=dim)


def mlp_mistakes(X, layers, nonlin: str) -> dict:
    ref = lambda **kw: mlp_reference(X, layers, kw.pop("nonlin", nonlin), **kw)  # noqa: E731
    mistakes = {
        "the output is the scores (logits), not log-probabilities: end with "
        "F.log_softmax(scores, dim=1) (nn.NLLLoss expects log-probabilities)": ref(output="logits"),
        "the output is probabilities (softmax), not log-probabilities: use F.log_softmax, "
        "which also computes log(softmax) stably": ref(output="softmax"),
        "log_softmax is taken over the wrong dimension: dim=1 (the classes), not dim=0 "
        "(the batch)": ref(dim=0),
        "the non-linearity is also applied after the last layer: the output layer's scores "
        "go straight into log_softmax": ref(after_last=True),
        f"the hidden layers have no non-linearity: apply {nonlin} after every hidden "
        "linear layer": ref(nonlin=None),
    }
    for other in NONLINEARITIES:
        if other != nonlin:
            mistakes[f"nonlin={nonlin!r} is mapped to the wrong function: the output matches "
                     f"{other}"] = ref(nonlin=other)
    return mistakes


def parameter_count(d_in: int, hidden_dims: Sequence[int], d_out: int) -> int:
    dims = [d_in, *hidden_dims, d_out]
    return sum(a * b + b for a, b in zip(dims[:-1], dims[1:]))


def count_mistakes(d_in: int, hidden_dims: Sequence[int], d_out: int) -> dict:
    dims = [d_in, *hidden_dims, d_out]
    full = parameter_count(d_in, hidden_dims, d_out)
    mistakes = {
        "the model has no registered parameters: layers kept in a plain Python list or dict are "
        "invisible to PyTorch; use nn.ModuleList, nn.Sequential or one attribute per layer": 0,
        "the linear layers have no biases": sum(a * b for a, b in zip(dims[:-1], dims[1:])),
        "the output layer (last hidden size -> d_out) is missing": full - dims[-2] * d_out - d_out,
        "there is a layer too many: the layers go d_in -> hidden_dims[0] -> ... -> hidden_dims[-1] "
        "-> d_out": full + dims[-2] * dims[-2] + dims[-2],
    }
    if len(hidden_dims) > 1:
        mistakes["only the first hidden size is used: there is one hidden layer per entry of "
                 "hidden_dims"] = parameter_count(d_in, hidden_dims[:1], d_out)
    return mistakes


def expect_mlp_forward(model: nn.Module, X: torch.Tensor, d_in: int, hidden_dims, d_out: int,
                       nonlin: str, what: str, device="cpu") -> None:
    """``model(X)`` on ``device`` is the MLP's log-probabilities, up to float32 rounding."""
    layers = mlp_layers(model, d_in, hidden_dims, d_out, what)
    X = X.to(device)
    out = expect_runs(model, X, what=f"{what}(X) for X of shape {tuple(X.shape)}", hints={
        "mat1 and mat2": "the shapes do not fit: flatten the input to (N, d_in) first, keeping "
                         "the batch dimension (X.flatten(1), X.reshape(len(X), -1) or nn.Flatten()), "
                         "and feed each layer's output into the next",
        "Dimension out of range": "a tensor lost its batch dimension: flatten with X.flatten(1) "
                                  "or X.reshape(len(X), -1), not X.flatten(), so that every "
                                  "layer sees (N, features)",
        "Expected all tensors": DEVICE_HINT})
    expect(isinstance(out, torch.Tensor), what, f"expected a tensor, got {type(out).__name__}")
    expect_equal(tuple(out.shape), (len(X), d_out), f"the shape of {what}(X) for X of shape "
                 f"{tuple(X.shape)}", mistakes={
                     "the batch dimension is flattened away: use X.flatten(1) (or "
                     "X.reshape(len(X), -1)), not X.flatten()": lambda s: len(s) == 1})
    expect(out.device.type == torch.device(device).type, what,
           f"expected the output on {device}, got it on {out.device}", hint=DEVICE_HINT)
    expect_close(out, mlp_reference(X, layers, nonlin),
                 f"{what}(X) for X of shape {tuple(X.shape)}, compared with the layers' own "
                 "weights (log-probabilities)", **_tolerance(device),
                 mistakes=mlp_mistakes(X, layers, nonlin))
    expect(out.requires_grad, what, "the output does not require grad",
           hint="the output is cut off from the parameters (.detach(), .item(), torch.tensor)")


def expect_on_meta(module: nn.Module, X: torch.Tensor, out_shape: tuple, what: str) -> None:
    """``module.to("meta")(X.to("meta"))`` works and gives a meta tensor of ``out_shape``:
    every tensor of the forward pass follows the module's device."""
    module = module.to("meta")
    out = expect_runs(module, X.to("meta"), what=f"{what} on the meta device (model and input "
                      "moved with .to('meta'))", hints=DEVICE_ERRORS)
    expect(isinstance(out, torch.Tensor), what, f"expected a tensor, got {type(out).__name__}")
    expect(out.device.type == "meta", f"{what} on the meta device",
           f"expected the output on meta, got it on {out.device}", hint=DEVICE_HINT)
    expect_equal(tuple(out.shape), tuple(out_shape), f"the shape of {what} on the meta device")


# ============================================================================ train_epoch
_NOT_MOVED = ("the batches are not moved to `device`: call X.to(device) and y.to(device) on "
              "every batch before the forward pass (the loader yields them on the CPU)")
_NO_GRAPH = ("loss.backward() fails because no graph was recorded: do not run the training "
             "loop under torch.no_grad() (and keep the loss a tensor until backward)")
_SUM_AS_TENSOR = ("the losses are added up as tensors, which keeps every batch's computation "
                  "graph in memory: accumulate loss.item() (a Python float) instead")
_RUN_HINTS = {
    "same device": _NOT_MOVED,
    "does not require grad": _NO_GRAPH,
    "must match the size": "the predictions and the labels have different shapes: the predicted "
                           "class is the argmax over dim=1 (the classes), one per sample",
}


def _epoch_mean_mistakes(losses, sizes) -> dict:
    n, k = sum(sizes), len(sizes)
    weighted = sum(l * s for l, s in zip(losses, sizes))
    return {
        "the batch losses are averaged with equal weights: weight each batch's mean loss by its "
        "size (the last batch is smaller), i.e. sum loss.item() * len(X) and divide by the "
        "number of samples": sum(losses) / k,
        "the batch losses are summed, not averaged over the samples": sum(losses),
        "the loss is summed over the samples: divide the total by the number of samples": weighted,
        "the total is divided by the number of batches, not by the number of samples":
            weighted / k,
        "only the last batch's loss is returned: return the mean over the whole epoch": losses[-1],
        "only the first batch's loss is returned: return the mean over the whole epoch": losses[0],
    }


def expect_epoch_loss(train_epoch: Callable, device, sizes=(5, 5, 2), offset: float = 0.0,
                      seed: int = 0) -> None:
    """``train_epoch`` returns the mean loss over the epoch's samples. The optimizer is SGD
    with lr = 0, so the model never changes and that mean is known in advance."""
    model = ProbeNet(seed=seed).to(device)
    loader = probe_batches(sizes, seed=seed)
    loss_fn = ProbeLoss(offset)
    losses, batch_sizes, _ = _reference_losses(model, loader, loss_fn, device)
    optimizer = RecordingSGD(model.parameters(), lr=0.0)
    scenario = (f"train_epoch(model, loader, loss_fn, optimizer, device) on {sum(sizes)} samples "
                f"in batches of {', '.join(map(str, sizes))} (SGD with lr=0, so the loss of each "
                f"batch is known{'; loss_fn adds %g to the usual loss' % offset if offset else ''})")
    result = expect_runs(train_epoch, model, loader, loss_fn, optimizer, device, what=scenario,
                         hints=_RUN_HINTS)
    value = _as_number(result, scenario, _SUM_AS_TENSOR)
    expected = sum(l * s for l, s in zip(losses, batch_sizes)) / sum(batch_sizes)
    mistakes = _epoch_mean_mistakes(losses, batch_sizes)
    if offset:
        mistakes["loss_fn is not used: compute each batch's loss with the loss_fn argument"] = (
            lambda got: abs(got - (expected - offset)) < 1e-4)
    expect_close(value, expected, f"the mean training loss returned by {scenario}",
                 rtol=1e-4, atol=1e-5, mistakes=mistakes)


def expect_gradients_reset(train_epoch: Callable, device, repeats: int = 3) -> None:
    """The optimizer sees, at each ``step()``, the gradient of the current batch only: the same
    batch given ``repeats`` times must give the same gradient each time."""
    model = ProbeNet(seed=3).to(device)
    batch = probe_batches([6], seed=3).batches[0]
    loader = BatchLoader([batch] * repeats)
    loss_fn = ProbeLoss()
    reference = copy.deepcopy(model)
    reference.calls = []
    loss_fn(reference(_plain(batch[0]).to(device)), _plain(batch[1]).to(device)).backward()
    expected = [p.grad for p in reference.parameters()]
    optimizer = RecordingSGD(model.parameters(), lr=0.0)
    scenario = (f"train_epoch on a loader that yields the same batch {repeats} times "
                "(SGD with lr=0)")
    expect_runs(train_epoch, model, loader, loss_fn, optimizer, device, what=scenario,
                hints=_RUN_HINTS)
    steps = len(optimizer.seen)
    expect(steps > 0, scenario, "optimizer.step() was never called",
           hint="the update is missing: call optimizer.step() after loss.backward() for every batch")
    expect(steps == repeats, scenario, f"optimizer.step() was called {steps} times for "
           f"{repeats} batches", hint="take exactly one optimizer step per batch")
    names = [name for name, _ in model.named_parameters()]
    for k, grads in enumerate(optimizer.seen, start=1):
        for name, grad, right in zip(names, grads, expected):
            what = f"{scenario}: the gradient of {name!r} seen by optimizer.step() at batch {k}"
            expect(grad is not None and bool(grad.abs().sum() > 0), what,
                   "there is no gradient at the time of the step (None or all zeros)",
                   hint="the gradient is missing when the optimizer steps: the order is "
                        "optimizer.zero_grad(), loss.backward(), optimizer.step() (zero_grad "
                        "must not come between backward and step, and backward must come first)")
            expect_close(grad, right, what, **_tolerance(device), mistakes={
                "the gradients are not reset, so they accumulate across steps: call "
                "optimizer.zero_grad() before loss.backward() for every batch": k * _f64(right),
            })


def expect_train_mode(train_epoch: Callable, device) -> None:
    """A model left in eval mode (as ``evaluate`` leaves it) is trained in train mode."""
    model = ProbeNet(p_drop=0.5, seed=1).to(device)
    model.eval()
    loader = probe_batches([4, 4], seed=1)
    expect_runs(train_epoch, model, loader, ProbeLoss(), RecordingSGD(model.parameters(), lr=0.1),
                device, what="train_epoch on a model with dropout, left in eval mode by an "
                             "earlier evaluation", hints=_RUN_HINTS)
    expect(model.calls, "train_epoch", "the model was never called")
    expect(all(call.training for call in model.calls),
           "the model's mode during train_epoch (after an evaluation left it in eval mode)",
           "the forward passes ran in eval mode, so dropout was off during training",
           hint="model.train() is not called at the start of train_epoch: after evaluate() the "
                "model stays in eval mode (no dropout) unless you switch it back")


def _expect_moved(model: ProbeNet, loss_fn: ProbeLoss, what: str) -> None:
    expect(bool(model.calls), what, "the model was never called")
    expect(all(call.moved for call in model.calls), what,
           "the model received a batch that was never moved with .to(device)", hint=_NOT_MOVED)
    expect(all(loss_fn.targets_moved), what,
           "loss_fn received labels y that were never moved with .to(device)",
           hint="the labels are not moved to `device`: call y.to(device) too (on a GPU the loss "
                "needs the labels on the same device as the scores)")


def expect_batches_moved(fn: Callable, device, *, evaluation: bool = False) -> None:
    """``fn`` (``train_epoch`` or, with ``evaluation``, ``evaluate``) moves every batch, inputs
    and labels, with ``.to(device)`` before using it."""
    model = ProbeNet(seed=2).to(device)
    loader, loss_fn = probe_batches([3, 3], seed=2), ProbeLoss()
    name = "evaluate" if evaluation else "train_epoch"
    what = f"{name}(..., device={str(device)!r}) on a loader that yields CPU batches"
    if evaluation:
        expect_runs(fn, model, loader, loss_fn, device, what=what, hints=_RUN_HINTS)
    else:
        expect_runs(fn, model, loader, loss_fn, RecordingSGD(model.parameters(), lr=0.1), device,
                    what=what, hints=_RUN_HINTS)
    _expect_moved(model, loss_fn, what)


def expect_training_progress(train_epoch: Callable, device, epochs: int = 4) -> None:
    """A few epochs of ``train_epoch`` with SGD on separable blobs: the loss falls well below
    that of the untrained model, and the model fits the blobs."""
    from utils.data import ArrayLoader

    torch.manual_seed(0)
    X, y = _blobs(90, seed=5, spread=0.6)
    model = ProbeNet(seed=5).to(device)
    with torch.no_grad():
        model.linear.weight.mul_(-1.0)                   # start far from the solution
    loader = ArrayLoader(X.to(device), y.to(device), 16, seed=0)
    before = F.nll_loss(model(X.to(device)), y.to(device)).item()
    model.calls.clear()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.2)
    what = f"{epochs} epochs of train_epoch with SGD (lr=0.2) on 90 samples of 3 separable blobs"
    losses = []
    for _ in range(epochs):
        result = expect_runs(train_epoch, model, loader, nn.NLLLoss(), optimizer, device, what=what)
        losses.append(_as_number(result, what, _SUM_AS_TENSOR))
    after = F.nll_loss(model(X.to(device)), y.to(device)).item()
    expect(after < 0.25 * before, what, f"the loss of the model on the data went from {before:.3f} "
           f"before training to {after:.3f} after; it should fall below a quarter "
           f"(train_epoch returned {show(losses)})",
           hint="check the three lines of a step: optimizer.zero_grad(), loss.backward(), "
                "optimizer.step(), with the loss of the model's output on this batch")
    expect(losses[-1] < losses[0], f"the losses returned by {what}",
           f"did not fall: {show(losses)}")
    expect(accuracy(model, X, y, device) > 0.9, what, "the model does not fit the blobs after "
           "training (training accuracy below 90 %)")


# ============================================================================ evaluate
def expect_evaluation(evaluate: Callable, device, sizes=(5, 5, 2), seed: int = 4) -> None:
    """``evaluate`` returns ``(mean loss, accuracy)`` over the samples, computed in eval mode
    (the model has dropout) and without building a graph."""
    model = ProbeNet(p_drop=0.5, seed=seed).to(device)
    loader, loss_fn = probe_batches(sizes, seed=seed), ProbeLoss()
    model.eval()
    losses, batch_sizes, correct = _reference_losses(model, loader, loss_fn, device)
    model.train()                         # as train_epoch leaves it
    model.calls.clear()
    loss_fn.targets_moved.clear()
    scenario = (f"evaluate(model, loader, loss_fn, device) for a model with dropout (left in train "
                f"mode by training), on {sum(sizes)} samples in batches of "
                f"{', '.join(map(str, sizes))}")
    result = expect_runs(evaluate, model, loader, loss_fn, device, what=scenario,
                         hints=_RUN_HINTS)
    expect(isinstance(result, (tuple, list)) and len(result) == 2, scenario,
           f"should return a pair (mean loss, accuracy), got {show(result)}")
    expect(bool(model.calls), scenario, "the model was never called")
    expect(not any(call.training for call in model.calls), scenario,
           "the model ran in train mode, so dropout dropped random inputs",
           hint="model.eval() is not called: dropout stays active, so the evaluation is random "
                "and too pessimistic. Call model.eval() first")
    no_grad = ("evaluate builds a computation graph for every batch: wrap the loop in "
               "`with torch.no_grad():` (nothing is trained here, so no gradients are needed)")
    expect(not any(call.grad_enabled for call in model.calls), scenario,
           "autograd was on during the forward passes", hint=no_grad)
    loss = _as_number(result[0], f"the mean loss returned by {scenario}", no_grad)
    n = sum(batch_sizes)
    expected_loss = sum(l * s for l, s in zip(losses, batch_sizes)) / n
    swapped = {"the pair is (accuracy, loss): return (loss, accuracy), in this order":
               lambda got: abs(got - sum(correct) / n) < 1e-6}
    expect_close(loss, expected_loss, f"the mean loss returned by {scenario}", rtol=1e-4,
                 atol=1e-5, mistakes={**swapped, **_epoch_mean_mistakes(losses, batch_sizes)})
    acc = _as_number(result[1], f"the accuracy returned by {scenario}", no_grad)
    batch_acc = [c / s for c, s in zip(correct, batch_sizes)]
    expect_close(acc, sum(correct) / n, f"the accuracy returned by {scenario} "
                 f"({sum(correct)} of {n} correct)", rtol=1e-6, atol=1e-6, mistakes={
                     "the accuracy is the number of correct predictions: divide by the number "
                     "of samples": sum(correct),
                     "the accuracy is in percent: return a fraction in [0, 1]": 100 * sum(correct) / n,
                     "the batch accuracies are averaged with equal weights: count the correct "
                     "predictions over all batches and divide by the number of samples":
                         sum(batch_acc) / len(batch_acc),
                     "only the last batch's accuracy is returned": batch_acc[-1],
                 })
    _expect_moved(model, loss_fn, scenario)


# ============================================================================ fit
# A run whose validation results are scripted: 4 validation samples with one-hot inputs, so
# that the weight column i is sample i's scores. Margins (correct minus wrong score) per epoch:
_MARGINS = [[1.0, 1.0, -1.0, -1.0],    # accuracy 0.50, loss 0.813
            [0.2, 0.2, 0.2, 0.2],      # accuracy 1.00, loss 0.598  <- the best accuracy
            [8.0, 8.0, 8.0, -0.5],     # accuracy 0.75, loss 0.244  <- the lowest loss
            [3.0, -2.0, 3.0, -2.0]]    # accuracy 0.50, loss 1.088  <- the last epoch
_VAL_Y = torch.tensor([0, 0, 1, 1])


class _OneHotNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(4, 2)
        with torch.no_grad():
            self.linear.weight.zero_()
            self.linear.bias.zero_()
        self.moved: list[bool] = []     # per forward call: was the batch moved to a device?

    def forward(self, X):                                   # (N, 4) -> (N, 2)
        self.moved.append(not isinstance(X, Unmoved))
        return F.log_softmax(self.linear(_plain(X)), dim=1)


def _scripted_states() -> list[dict[str, torch.Tensor]]:
    states = []
    for margins in _MARGINS:
        W = torch.zeros(2, 4)
        for i, (m, label) in enumerate(zip(margins, _VAL_Y.tolist())):
            W[label, i] = m
        states.append({"linear.weight": W, "linear.bias": torch.zeros(2)})
    return states


def _scripted_run(fit: Callable, device):
    """Run ``fit`` for 4 epochs with the scripted optimizer; return (result, model, states)."""
    model = _OneHotNet().to(device)
    states = _scripted_states()
    X, y = unmoved(torch.eye(4)), unmoved(_VAL_Y.clone())          # CPU batches, to be moved
    train_loader = BatchLoader([(X, 1 - y)])    # other labels than validation; one step per epoch
    val_loader = BatchLoader([(X[:3], y[:3]), (X[3:], y[3:])])
    optimizer = ScriptedOptimizer(model, states)
    result = expect_runs(fit, model, train_loader, val_loader, nn.NLLLoss(), optimizer,
                         len(states), device, what=_SCRIPT)
    expect(isinstance(result, (tuple, list)) and len(result) == 2, _SCRIPT,
           f"should return a pair (history, best_state), got {show(result)}")
    history, best_state = result
    if isinstance(best_state, Mapping) and "train_loss" in best_state:
        _fail(_SCRIPT, "returned (best_state, history)", "return (history, best_state), in this order")
    expect(all(model.moved), _SCRIPT, "the model received batches that were never moved to "
           f"device={str(device)!r}", hint="fit does not hand its `device` argument on to "
           "train_epoch and evaluate, so the batches are never moved to it")
    return history, best_state, model, states


_SCRIPT = ("fit(model, train_loader, val_loader, loss_fn, optimizer, epochs=4, device) on a "
           "run whose validation accuracy per epoch is known to be [0.5, 1.0, 0.75, 0.5]")


def _nll(margins) -> float:
    return sum(math.log1p(math.exp(-m)) for m in margins) / len(margins)


def expect_fit_history(fit: Callable, device) -> None:
    """``history`` has one entry per epoch under ``"train_loss"``, ``"val_loss"``, ``"val_acc"``,
    with the values of that epoch (validation after the epoch's training)."""
    history, _, _, _ = _scripted_run(fit, device)
    expect(isinstance(history, Mapping), _SCRIPT, f"history should be a dict, got {show(history)}")
    for key in ("train_loss", "val_loss", "val_acc"):
        expect(key in history, f"the history returned by {_SCRIPT}",
               f"has no key {key!r} (keys: {sorted(history)})")
        expect(len(history[key]) == 4, f"history[{key!r}] returned by {_SCRIPT}",
               f"should have 4 entries (one per epoch), got {len(history[key])}")
    val_acc = [_as_number(v, "history['val_acc']", "store accuracy.item()") for v in history["val_acc"]]
    expect_close(val_acc, [0.5, 1.0, 0.75, 0.5], f"history['val_acc'] returned by {_SCRIPT}",
                 atol=1e-6, mistakes={
                     "the validation is run before each epoch's training: evaluate after "
                     "train_epoch": [0.5, 0.5, 1.0, 0.75],
                     "the validation uses the training data: evaluate on val_loader":
                         [0.5, 0.0, 0.25, 0.5]})
    expected_val = [_nll(m) for m in _MARGINS]
    val_loss = [_as_number(v, "history['val_loss']", "store loss.item()") for v in history["val_loss"]]
    expect_close(val_loss, expected_val, f"history['val_loss'] returned by {_SCRIPT}",
                 **_tolerance(device))
    # Training loss of epoch k: the loss on the training batch (whose labels are the other
    # class) of the parameters before its step: zeros, then the states of epochs 1, 2, 3.
    expected_train = [math.log(2)] + [_nll([-m for m in margins]) for margins in _MARGINS[:3]]
    train_loss = [_as_number(v, "history['train_loss']", _SUM_AS_TENSOR) for v in history["train_loss"]]
    expect_close(train_loss, expected_train, f"history['train_loss'] returned by {_SCRIPT} "
                 "(each the value returned by train_epoch)", **_tolerance(device))


def expect_best_state(fit: Callable, device) -> None:
    """``best_state`` is a copy of ``model.state_dict()`` at the epoch of the best validation
    accuracy, which nothing done to the model later can change."""
    history, best_state, model, states = _scripted_run(fit, device)
    expect(isinstance(best_state, Mapping), f"best_state returned by {_SCRIPT}",
           f"should be a dict of tensors like model.state_dict(), got {show(best_state)}",
           hint=None if best_state is not None else
           "best_state is never set: keep a copy of the state whenever val_acc improves")
    keys = list(model.state_dict())
    expect(sorted(best_state) == sorted(keys), f"best_state returned by {_SCRIPT}",
           f"should have the keys of model.state_dict() ({keys}), got {sorted(best_state)}")
    before = {k: _f64(v) for k, v in best_state.items()}
    with torch.no_grad():
        for p in model.parameters():
            p.add_(100.0)
    changed = [k for k in keys if not torch.equal(_f64(best_state[k]), before[k])]
    expect(not changed, f"best_state returned by {_SCRIPT}",
           f"changed when the model's parameters changed after fit ({', '.join(changed)})",
           hint="the best state is kept by reference: state_dict() returns the model's own "
                "tensors (and dict(...) or .copy() copy only the dict), so later training "
                "overwrites them. Store copy.deepcopy(model.state_dict()) or "
                "{k: v.clone() for k, v in model.state_dict().items()}")

    def same(state):
        return lambda got: all(torch.allclose(got[k], _f64(state[k]), atol=1e-6) for k in keys)

    right = states[1]
    wrong = {k for k in keys if not torch.allclose(before[k], _f64(right[k]), atol=1e-6)}
    if wrong:
        detail = "; ".join(f"{k}: expected {show(right[k])}, got {show(before[k])}" for k in sorted(wrong))
        mistakes = {
            "best_state is the state after the last epoch, not at the best validation accuracy":
                same(states[3]),
            "the best epoch is chosen by the lowest validation loss: choose the highest "
            "validation accuracy": same(states[2]),
            "best_state is only set at the first epoch: compare each epoch's val_acc with the "
            "best so far and copy the state when it is higher": same(states[0]),
            "best_state is the state before training: copy it after each epoch whose val_acc "
            "is the best so far": same({k: torch.zeros_like(v) for k, v in right.items()}),
        }
        hint = next((sentence for sentence, match in mistakes.items() if match(before)), None)
        _fail(f"best_state returned by {_SCRIPT}", "should be the state of epoch 2 (val_acc 1.0); "
              + detail, hint)


def expect_fit_learns(fit: Callable, device, epochs: int = 5) -> None:
    """A real run of ``fit`` with Adam on blobs: the history has ``epochs`` entries, the loss
    falls, the validation accuracy is high, and ``best_state`` reproduces the best epoch."""
    from utils.data import ArrayLoader

    torch.manual_seed(0)
    X, y = _blobs(150, seed=7, spread=0.5)
    model = ProbeNet(p_drop=0.1, seed=7).to(device)
    X, y = X.to(device), y.to(device)
    train_loader = ArrayLoader(X[:120], y[:120], 16, seed=0)
    val_loader = ArrayLoader(X[120:], y[120:], 7, shuffle=False)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    what = (f"fit(model, ..., epochs={epochs}) with Adam on 120 training and 30 validation "
            "samples of 3 blobs")
    result = expect_runs(fit, model, train_loader, val_loader, nn.NLLLoss(), optimizer, epochs,
                         device, what=what)
    expect(isinstance(result, (tuple, list)) and len(result) == 2, what,
           f"should return a pair (history, best_state), got {show(result)}")
    history, best_state = result
    for key in ("train_loss", "val_loss", "val_acc"):
        expect(isinstance(history, Mapping) and key in history and len(history[key]) == epochs,
               f"the history returned by {what}", f"needs a list of {epochs} values under {key!r}")
    best = max(float(a) for a in history["val_acc"])
    expect(best > 0.9, what, f"the best validation accuracy is {best:.3f}, expected > 0.9")
    expect_runs(model.load_state_dict, best_state, what="model.load_state_dict(best_state)")
    # Up to one of the 30 samples: a near tie may round differently in other batch sizes.
    expect_close(accuracy(model, X[120:], y[120:], device), best,
                 f"the accuracy of the model with best_state loaded, on the validation samples "
                 f"of {what}", atol=0.034)


# ============================================================================ checkpoints
class _SmallNet(nn.Module):
    def __init__(self, seed: int):
        super().__init__()
        torch.manual_seed(seed)
        self.hidden = nn.Linear(4, 6)
        self.out = nn.Linear(6, 3)

    def forward(self, X):
        return F.log_softmax(self.out(torch.tanh(self.hidden(_plain(X)))), dim=1)


_OPTIMIZERS = {
    "SGD": lambda params: torch.optim.SGD(params, lr=0.1, momentum=0.9, weight_decay=1e-3),
    "Adam": lambda params: torch.optim.Adam(params, lr=0.01),
}


def _trained(optimizer_name: str, device, steps: int = 3):
    model = _SmallNet(seed=10).to(device)
    optimizer = _OPTIMIZERS[optimizer_name](model.parameters())
    X, y = _blobs(12, seed=10)
    X, y = X.to(device), y.to(device)
    for _ in range(steps):
        optimizer.zero_grad()
        F.nll_loss(model(X), y).backward()
        optimizer.step()
    return model, optimizer, (X, y)


def _step(model, optimizer, batch):
    optimizer.zero_grad()
    F.nll_loss(model(batch[0]), batch[1]).backward()
    optimizer.step()


def _find(obj: Any, match: Callable[[Any], bool]) -> Any:
    """The first object nested in ``obj`` (dicts, lists, tuples) for which ``match`` holds."""
    if match(obj):
        return obj
    children = obj.values() if isinstance(obj, Mapping) else obj if isinstance(obj, (list, tuple)) else ()
    for child in children:
        found = _find(child, match)
        if found is not None:
            return found
    return None


def _is_optimizer_state(obj) -> bool:
    return isinstance(obj, Mapping) and "state" in obj and "param_groups" in obj


_WHOLE_OBJECT = ("the checkpoint pickles whole Python objects (the model or the optimizer "
                 "itself?), which torch.load(..., weights_only=True) refuses: save "
                 "model.state_dict() and optimizer.state_dict(), dicts of tensors and numbers")


def _load_safely(path, what):
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # the student's file: any failure to read it is the finding
        # torch's message is long (and coloured); its "Unsupported global" line names the culprit.
        culprit = next((line.strip().split(" was not")[0] for line in str(exc).splitlines()
                        if "Unsupported global" in line), "")
        _fail(what, f"torch.load(path, weights_only=True) refuses it ({type(exc).__name__}"
              f"{': ' + culprit[:200] if culprit else ''})", _WHOLE_OBJECT)


def expect_checkpoint_file(save_checkpoint: Callable, optimizer_name: str, device) -> None:
    """The file holds the model's and the optimizer's states, readable with weights_only=True."""
    model, optimizer, _ = _trained(optimizer_name, device)
    what = (f"the file written by save_checkpoint(model, optimizer, path) for a 4-6-3 model "
            f"after 3 steps of {optimizer_name}")
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "checkpoint.pt")
        expect_runs(save_checkpoint, model, optimizer, path, what="save_checkpoint(model, optimizer, path)")
        expect(os.path.isfile(path), what, "no file was written at the given path",
               hint="save to the `path` argument: torch.save(checkpoint, path)")
        content = _load_safely(path, what)
    state = model.state_dict()

    def is_model_state(obj):
        return isinstance(obj, Mapping) and all(
            k in obj and isinstance(obj[k], torch.Tensor) and torch.equal(obj[k], v.cpu())
            for k, v in state.items())

    expect(_find(content, is_model_state) is not None, what,
           "contains no dict equal to model.state_dict()",
           hint="the model's state is missing: save model.state_dict()")
    opt = _find(content, _is_optimizer_state)
    expect(opt is not None, what, "contains no optimizer state (a dict with 'state' and "
           "'param_groups', as optimizer.state_dict() returns)",
           hint="the checkpoint has no optimizer state: save optimizer.state_dict() too, or "
                "resuming restarts the momentum buffers / Adam moments from zero")
    expect(len(opt["state"]) == len(list(model.parameters())), what,
           f"the optimizer state holds {len(opt['state'])} parameters' buffers, expected "
           f"{len(list(model.parameters()))}")


def expect_checkpoint_roundtrip(save_checkpoint: Callable, load_checkpoint: Callable,
                                optimizer_name: str, device) -> None:
    """Saved from one model and optimizer, loaded into fresh ones: the parameters are equal,
    and the next step of both pairs is the same (so momentum / Adam moments were restored)."""
    model, optimizer, batch = _trained(optimizer_name, device)
    fresh = _SmallNet(seed=11).to(device)
    fresh_optimizer = _OPTIMIZERS[optimizer_name](fresh.parameters())
    what = (f"a fresh model and {optimizer_name} optimizer after load_checkpoint(model, optimizer, "
            f"path) of a checkpoint saved after 3 steps")
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "checkpoint.pt")
        expect_runs(save_checkpoint, model, optimizer, path, what="save_checkpoint(model, optimizer, path)")
        expect_runs(load_checkpoint, fresh, fresh_optimizer, path,
                    what="load_checkpoint(model, optimizer, path)",
                    hints={"weights_only": _WHOLE_OBJECT, "Unsupported global": _WHOLE_OBJECT})
    for (name, p), q in zip(model.named_parameters(), fresh.parameters()):
        expect_close(q, p, f"{what}: parameter {name!r}", rtol=0, atol=0, mistakes={
            "the model's state is not loaded into the model passed in: call "
            "model.load_state_dict(checkpoint[...]) on it (a new model made inside "
            "load_checkpoint is lost when it returns)": lambda got: True})
    _step(model, optimizer, batch)
    _step(fresh, fresh_optimizer, batch)
    for (name, p), q in zip(model.named_parameters(), fresh.parameters()):
        expect_close(q, p, f"{what}, then one more step on both: parameter {name!r}",
                     rtol=1e-6, atol=1e-7, mistakes={
                         "the optimizer's state is not restored, so the next step differs "
                         "(momentum buffers / Adam moments start from zero): save "
                         "optimizer.state_dict() and load it with optimizer.load_state_dict(...)":
                             lambda got: True})


@contextlib.contextmanager
def _saved_as_if_on_cuda():
    """Within the block, ``torch.save`` labels CPU tensors as tensors of a GPU this machine does
    not have, like a checkpoint written on another machine. Uses torch.serialization's registry
    of location tags."""
    import torch.serialization as serialization

    # A GPU this machine lacks: cuda:0 without CUDA, else the index after its last GPU.
    label = f"cuda:{torch.cuda.device_count() if torch.cuda.is_available() else 0}"

    def tag(obj):
        return label if getattr(obj, "device", torch.device("cpu")).type == "cpu" else None

    entry = (-1, tag, serialization._cpu_deserialize)
    serialization._package_registry.append(entry)
    serialization._package_registry.sort(key=lambda e: e[0])
    try:
        yield
    finally:
        serialization._package_registry.remove(entry)


def expect_load_maps_to_device(save_checkpoint: Callable, load_checkpoint: Callable) -> None:
    """A checkpoint written on a GPU this machine lacks (``cuda:0`` on a machine without CUDA,
    the GPU after its last one otherwise) loads into a model on the CPU: without
    ``map_location`` it fails, as it does for students who train on a GPU and continue on a
    laptop."""
    model, optimizer, _ = _trained("SGD", "cpu")
    fresh = _SmallNet(seed=12)
    fresh_optimizer = _OPTIMIZERS["SGD"](fresh.parameters())
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "checkpoint.pt")
        with _saved_as_if_on_cuda():
            expect_runs(save_checkpoint, model, optimizer, path,
                        what="save_checkpoint(model, optimizer, path)")
        expect_runs(load_checkpoint, fresh, fresh_optimizer, path,
                    what="load_checkpoint(model, optimizer, path) into a model on the CPU, of a "
                         "checkpoint saved on a GPU that this machine does not have", hints={
                             "CUDA": "torch.load is called without map_location: a checkpoint "
                                     "saved on a GPU cannot be loaded where that GPU is missing. "
                                     "Pass map_location=the model's device (e.g. "
                                     "next(model.parameters()).device)"})
    for (name, p), q in zip(model.named_parameters(), fresh.parameters()):
        expect_close(q, p, f"parameter {name!r} after loading a checkpoint saved on a GPU",
                     rtol=0, atol=0)


_TRIPPED: list[str] = []


def _tripwire(note: str = "unpickled") -> float:
    """Called when a pickle made by :class:`_Tripwire` is loaded by a full unpickler."""
    _TRIPPED.append(note)
    return 0.0


class _Tripwire:
    """An arbitrary Python object in a checkpoint: unpickling it calls :func:`_tripwire`
    (a stand-in for the code a malicious pickle could run). weights_only=True refuses it."""

    def __reduce__(self):
        return (_tripwire, ("unpickled",))


def expect_load_refuses_pickled_objects(save_checkpoint: Callable, load_checkpoint: Callable) -> None:
    """``load_checkpoint`` uses ``weights_only=True``: a checkpoint that smuggles in an arbitrary
    Python object is refused instead of unpickled (which could run any code)."""
    model, optimizer, _ = _trained("SGD", "cpu")
    fresh = _SmallNet(seed=13)
    fresh_optimizer = _OPTIMIZERS["SGD"](fresh.parameters())
    what = ("load_checkpoint(model, optimizer, path) of a checkpoint that contains a pickled "
            "Python object (which could run any code when unpickled)")
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "checkpoint.pt")
        expect_runs(save_checkpoint, model, optimizer, path, what="save_checkpoint(model, optimizer, path)")
        content = _load_safely(path, "the file written by save_checkpoint")
        target = _find(content, _is_optimizer_state)
        if target is not None and target["param_groups"]:
            target["param_groups"][0]["note"] = _Tripwire()
        elif isinstance(content, dict):
            content["note"] = _Tripwire()
        else:
            return  # nowhere to put it without changing the layout; the other tests decide
        torch.save(content, path)
        _TRIPPED.clear()
        try:
            load_checkpoint(fresh, fresh_optimizer, path)
        except Exception:  # refusing the file is the expected behaviour
            pass
    expect(not _TRIPPED, what, "the object was unpickled",
           hint="load_checkpoint unpickles arbitrary Python objects: use torch.load(path, "
                "map_location=..., weights_only=True), which loads only tensors and plain data")


# ============================================================================ accuracy
def accuracy(model: nn.Module, X: torch.Tensor, y: torch.Tensor, device="cpu",
             batch_size: int = 2000) -> float:
    """The fraction of ``X``'s rows that ``model`` classifies correctly (eval mode, no grad);
    computed here so that a test does not depend on the student's ``evaluate``."""
    was_training = model.training
    model.eval()
    correct = 0
    with torch.no_grad():
        for start in range(0, len(X), batch_size):
            out = model(X[start:start + batch_size].to(device))
            correct += int((out.argmax(dim=1) == y[start:start + batch_size].to(device)).sum())
    model.train(was_training)
    return correct / len(X)
