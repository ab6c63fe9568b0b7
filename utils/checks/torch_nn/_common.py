"""What every part of the 04_torch_nn probes shares: how a check fails, float64 copies for the
references, the tolerance of float32 results on each device, and a model's accuracy measured
without the student's code."""

from __future__ import annotations

import torch
from torch import nn

from utils.checks.assertions import expect


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
