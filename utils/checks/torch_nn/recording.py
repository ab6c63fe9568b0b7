"""The instruments the 04_torch_nn scenarios hand to the student's code and read back:
batches that show whether they were moved to a device, a tiny classifier and a loss that
record how they were called, optimizers that record or script their steps, and loaders of
hand-made batches.

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

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn


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

    def __deepcopy__(self, memo):
        """An ``Unmoved`` copy (torch's default copy needs ``new_empty`` to keep the subclass):
        a test that records a call (:mod:`utils.checks.isolation`) replays it on copies."""
        plain = _plain(self)
        copied = plain.detach().clone().requires_grad_(plain.requires_grad).as_subclass(Unmoved)
        memo[id(self)] = copied
        return copied


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


class _KeepsItsAttributes:
    """A copy of an optimizer keeps only ``Optimizer.__getstate__``'s state; this keeps the
    attributes ``_KEPT`` a subclass adds too (a test that records a call replays it on copies,
    see :mod:`utils.checks.isolation`)."""

    _KEPT: tuple[str, ...] = ()

    def __getstate__(self):
        return {**super().__getstate__(), **{name: getattr(self, name) for name in self._KEPT}}


class RecordingSGD(_KeepsItsAttributes, torch.optim.SGD):
    """SGD that records, at every ``step()``, a copy of each parameter's gradient (or None)."""

    _KEPT = ("seen",)

    def __init__(self, params, lr: float = 0.0, **kwargs):
        super().__init__(params, lr=lr, **kwargs)
        self.seen: list[list[torch.Tensor | None]] = []

    @torch.no_grad()
    def step(self, closure=None):
        self.seen.append([None if p.grad is None else p.grad.detach().clone()
                          for group in self.param_groups for p in group["params"]])
        return super().step(closure)


class ScriptedOptimizer(_KeepsItsAttributes, torch.optim.SGD):
    """An "optimizer" whose k-th ``step()`` sets the parameters to ``states[k]``: a training
    run whose validation results are known in advance."""

    _KEPT = ("model", "states", "steps")

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
