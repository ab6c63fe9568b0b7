"""Checks for torch code, shared by the torch notebooks (03, 04): devices, graphs, parameters.

Device bugs (a tensor made on the CPU inside a function that was handed tensors on another
device) are caught without a GPU: the test runs the function on PyTorch's ``meta`` device,
where tensors have shapes and dtypes but no data. A tensor created without ``device=`` lands
on the CPU and either breaks the computation ("Expected all tensors to be on the same
device") or comes out on the wrong device; both are reported with the tensor's name and
device. On a machine with a GPU the tests also run on ``cuda`` (:func:`grading_devices`).

    >>> import torch
    >>> grading_devices()[0]
    device(type='cpu')
    >>> expect_on_device([torch.zeros(2, device="meta")], "meta", "zeros", names=["z"])
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import torch

from utils.checks.assertions import CheckFailure, _raise, expect_close, show

__all__ = [
    "DEVICE_HINT",
    "DEVICE_ERRORS",
    "grading_devices",
    "tensors_in",
    "expect_on_device",
    "expect_leaf_parameters",
    "expect_differentiable",
    "forbidding",
    "on_meta",
    "expect_device_consistent",
    "ForbiddenCall",
]

DEVICE_HINT = ("a tensor was created on the CPU inside the function: make new tensors on the "
               "input's device, e.g. torch.zeros(..., device=X.device) or torch.zeros_like(X)")
# Pieces of torch's error messages that mean "two tensors on different devices": for expect_runs
# hints, and for expect_device_consistent.
DEVICE_ERRORS = {"same device": DEVICE_HINT, "expected device": DEVICE_HINT,
                 "device type": DEVICE_HINT}
# ... and those that mean "this needs the data, which a meta tensor does not have" (.item(),
# float(), .tolist(), .cpu(), .numpy()): where a run on the meta device has to stop.
_NEEDS_DATA = ("cannot be called on meta tensors", "Cannot copy out of meta tensor",
               "can't convert meta device")


def grading_devices() -> list[torch.device]:
    """The devices the tests run on: the CPU, and the GPU when this kernel has one.

    ``MLP_COURSE_DEVICE=cpu`` keeps the tests on the CPU; ``MLP_COURSE_DEVICE=cuda`` on a
    machine without CUDA is an error (see :func:`utils.device.get_device`).
    """
    from utils.device import get_device

    chosen = get_device()
    devices = [torch.device("cpu")]
    if chosen.type != "cpu" and os.environ.get("MLP_COURSE_DEVICE", "").strip() != "cpu":
        devices.append(chosen)
    return devices


def tensors_in(obj: Any, name: str = "the result") -> list[tuple[str, torch.Tensor]]:
    """Every tensor in ``obj`` (a tensor, or nested lists, tuples and dicts of them), with a
    name that says where it is: ``"the result[1]"``, ``"the result['W1']"``."""
    if isinstance(obj, torch.Tensor):
        return [(name, obj)]
    if isinstance(obj, Mapping):
        return [t for key, value in obj.items() for t in tensors_in(value, f"{name}[{key!r}]")]
    if isinstance(obj, (list, tuple)):
        return [t for i, value in enumerate(obj) for t in tensors_in(value, f"{name}[{i}]")]
    return []


def _same_device(got: torch.device, wanted: torch.device) -> bool:
    return got.type == wanted.type and (wanted.index is None or got.index == wanted.index)


def expect_on_device(got: Any, device: str | torch.device, what: str, *,
                     names: Iterable[str] | None = None, hint: str | None = None) -> None:
    """Every tensor in ``got`` lives on ``device``; the message names each one that does not.

    ``names`` labels the items of a list or tuple result (e.g. ``["W1", "b1", "W2", "b2"]``).
    """
    wanted = torch.device(device)
    if names is not None and isinstance(got, (list, tuple)):
        found = [t for label, item in zip(names, got) for t in tensors_in(item, label)]
    else:
        found = tensors_in(got)
    if not found:
        _raise(what, f"expected tensors, got {show(got)}")
    wrong = [(label, t.device) for label, t in found if not _same_device(t.device, wanted)]
    if wrong:
        listing = ", ".join(f"{label} is on {dev}" for label, dev in wrong)
        _raise(what, f"expected every tensor on {wanted}, but {listing}", hint or DEVICE_HINT)


def on_meta(x: Any) -> Any:
    """``x`` with every tensor moved to the ``meta`` device (shapes and dtypes, no data);
    ``requires_grad`` is kept."""
    if isinstance(x, torch.Tensor):
        return x.detach().to("meta").requires_grad_(x.requires_grad)
    if isinstance(x, Mapping):
        return {key: on_meta(value) for key, value in x.items()}
    if isinstance(x, (list, tuple)):
        return type(x)(on_meta(value) for value in x)
    return x


def expect_leaf_parameters(params: Iterable[Any], names: Iterable[str], what: str) -> None:
    """Each of ``params`` is a float tensor that requires grad and is a leaf of the graph
    (so that ``backward()`` fills its ``.grad``)."""
    for name, p in zip(names, params):
        if not isinstance(p, torch.Tensor):
            _raise(what, f"{name} should be a tensor, got {type(p).__name__}")
        if not p.requires_grad:
            _raise(what, f"{name}.requires_grad is False",
                   "the parameters must be created with requires_grad=True (or call "
                   ".requires_grad_() on them), or backward() cannot compute their gradients")
        if not p.is_leaf:
            _raise(what, f"{name} is not a leaf tensor (it has grad_fn={type(p.grad_fn).__name__})",
                   "the tensor was computed from another one that requires grad (e.g. "
                   "torch.randn(..., requires_grad=True) * 0.01), so backward() fills the "
                   "gradient of that other tensor, not this one's: scale first, then call "
                   ".requires_grad_()")


def expect_differentiable(out: Any, wrt: torch.Tensor, expected_grad: Any, what: str, *,
                          weights: torch.Tensor | None = None, rtol: float = 1e-4,
                          atol: float = 1e-6) -> None:
    """Back-propagating ``(out * weights).sum()`` gives ``wrt.grad == expected_grad``.

    Catches outputs cut off from the graph (``.detach()``, ``.item()``, ``torch.tensor(...)``,
    a detour through NumPy) and wrong gradients.
    """
    if not isinstance(out, torch.Tensor):
        _raise(what, f"expected a tensor, got {type(out).__name__}")
    if not out.requires_grad:
        _raise(what, "the output does not require grad: it was cut off from the computation graph",
               "the result was detached (.detach(), .item(), torch.tensor(...) or a detour "
               "through NumPy): compute it with torch operations on the input so gradients flow")
    wrt.grad = None
    total = (out * weights).sum() if weights is not None else out.sum()
    total.backward()
    expect_close(wrt.grad, expected_grad, f"{what}: the gradient that flows back to the input",
                 rtol=rtol, atol=atol)


@contextlib.contextmanager
def forbidding(functions: Mapping[str, str], reason: str):
    """Within the block, calling any of ``functions`` (``{"torch.relu": "torch.relu", ...}``:
    dotted path -> the name shown to the student) fails the check with ``reason``.

    For exercises that ask for code "by hand": the student's function is *run* with these
    library functions unavailable; its source is never read.
    """
    saved = []
    try:
        for path, label in functions.items():
            owner_path, _, attr = path.rpartition(".")
            owner = _resolve(owner_path)
            if owner is None or not hasattr(owner, attr):
                continue
            saved.append((owner, attr, getattr(owner, attr)))
            setattr(owner, attr, _refuser(label, reason))
        yield
    finally:
        for owner, attr, original in reversed(saved):
            setattr(owner, attr, original)


class ForbiddenCall(Exception):
    """Raised by a library function that an exercise asks the student not to use."""


def _refuser(label: str, reason: str) -> Callable:
    def refuse(*args, **kwargs):
        raise ForbiddenCall(f"{label} is not allowed here: {reason}")
    return refuse


def _resolve(dotted: str):
    import importlib

    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr, None)
        return obj
    return None


def expect_device_consistent(fn: Callable, *args: Any, what: str) -> None:
    """Run ``fn`` on ``meta`` copies of its tensor arguments and fail if it mixes devices:
    torch raises "not on the expected device", or a tensor it returns is not on ``meta``.

    A meta tensor has no values, so code that reads one (``.item()``, ``float()``, a Python
    loop over a tensor, boolean-mask indexing, whose result's size depends on the values) must
    stop there, and that stop counts as a pass: it is correct code, and everything computed
    before it ran on the arguments' device. Any other error is not a device problem; the
    tests on real data report it. (A CPU tensor that only meets the meta ones in a matrix
    product is not detected there; the tests on ``cuda`` catch it where a GPU is present.)
    """
    try:
        result = fn(*on_meta(list(args)))
    except CheckFailure:
        raise
    except Exception as exc:  # noqa: BLE001 -- classify whatever the student's code raised
        text = f"{type(exc).__name__}: {exc}"
        hint = next((h for needle, h in DEVICE_ERRORS.items() if needle in text), None)
        if hint is None or any(needle in text for needle in _NEEDS_DATA):
            return
        _raise(f"{what} on the meta device", f"raised {text}", hint)
    if tensors_in(result):
        expect_on_device(result, "meta", f"{what} for inputs on the meta device")
