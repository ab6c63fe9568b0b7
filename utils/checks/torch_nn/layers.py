"""Probes for the layers of 04_torch_nn: ``MyLinear`` and ``MLP`` compared with float64
references computed from their own parameters, the wrong outputs of typical bugs, and device
bugs shown on PyTorch's ``meta`` device.

:class:`LinearReference` is the course's ``MyLinear``, which the MLP tests swap in for the
student's (one bug, one deduction), in case their MLP is built from it.

The MLP's layers are found by their shapes (a chain ``d_in -> h1 -> ... -> d_out`` of weights
``(out, in)`` and biases ``(out,)``), so an MLP built with ``nn.Sequential``, an
``nn.ModuleList``, one attribute per layer, ``nn.Linear`` or ``MyLinear`` is all the same to
the tests.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from utils.checks.assertions import expect, expect_close, expect_equal, expect_runs, show
from utils.checks.torch_nn._common import _f64, _fail, _tolerance

NONLINEARITIES = {"relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid}

DEVICE_HINT = ("a tensor is made on the CPU inside the module: register every tensor the "
               "module owns as an nn.Parameter (or a buffer) so that .to(device) moves it, and "
               "create new tensors on the input's device (device=X.device)")
DEVICE_ERRORS = {"same device": DEVICE_HINT, "meta": DEVICE_HINT, "device type": DEVICE_HINT}


# ============================================================================ MyLinear
def linear_reference(X, W, b) -> torch.Tensor:
    """``X @ W.T + b`` in float64 on the CPU."""
    return _f64(X) @ _f64(W).T + _f64(b)


class LinearReference(nn.Module):
    """The course's ``MyLinear``: ``F.linear`` with parameters ``W (out, in)`` and ``b (out,)``,
    drawn like ``nn.Linear``'s from U(-1/sqrt(in_features), 1/sqrt(in_features))."""

    def __init__(self, in_features: int, out_features: int):
        super().__init__()
        bound = 1 / math.sqrt(in_features)
        self.W = nn.Parameter(nn.init.uniform_(torch.empty(out_features, in_features), -bound, bound))
        self.b = nn.Parameter(nn.init.uniform_(torch.empty(out_features), -bound, bound))

    def forward(self, X):
        return F.linear(X, self.W, self.b)


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
