"""Probes for the training loops of 04_torch_nn: ``train_epoch``, ``evaluate`` and ``fit``, run
on a recording model, loss and optimizer (see :mod:`.recording`) in scenarios whose right
answer is known in advance, with the wrong answers of typical bugs; and the course's
``train_epoch`` and ``evaluate``, which ``fit``'s test runs it with (one bug, one deduction)."""

from __future__ import annotations

import copy
import math
import numbers
from collections.abc import Callable, Mapping

import torch
import torch.nn.functional as F
from torch import nn

from utils.checks.assertions import expect, expect_close, expect_runs, show
from utils.checks.torch_nn._common import _f64, _fail, _tolerance, accuracy
from utils.checks.torch_nn.recording import (
    BatchLoader,
    ProbeLoss,
    ProbeNet,
    RecordingSGD,
    ScriptedOptimizer,
    Unmoved,
    _blobs,
    _plain,
    probe_batches,
    unmoved,
)


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


# ============================================================================ the course's versions
def train_epoch_reference(model, loader, loss_fn, optimizer, device) -> float:
    """The course's ``train_epoch``: train mode, each batch moved to ``device``, one step per
    batch; the mean loss over the samples."""
    model.train()
    loss_sum, seen = 0.0, 0
    for X, y in loader:
        X, y = X.to(device), y.to(device)   # a device of None leaves a probe batch "unmoved"
        optimizer.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
        loss_sum += float(loss.detach()) * len(y)
        seen += len(y)
    return loss_sum / seen


def evaluate_reference(model, loader, loss_fn, device) -> tuple[float, float]:
    """The course's ``evaluate``: eval mode, no graph; ``(mean loss, accuracy)`` over the samples."""
    model.eval()
    loss_sum, right, seen = 0.0, 0, 0
    with torch.no_grad():
        for X, y in loader:
            X, y = X.to(device), y.to(device)
            out = model(X)
            loss_sum += float(loss_fn(out, y)) * len(y)
            right += int((out.argmax(dim=1) == y).sum())
            seen += len(y)
    return loss_sum / seen, right / seen
