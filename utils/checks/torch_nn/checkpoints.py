"""Probes for the checkpoints of 04_torch_nn: the file ``save_checkpoint`` writes is opened with
``torch.load(..., weights_only=True)`` and searched for a model and an optimizer state; it is
restored with ``load_checkpoint`` into a fresh model and optimizer that must then take exactly
the same next step as the originals, also when it was written on a GPU this machine lacks; and
a checkpoint that smuggles in a pickled object must be refused."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Mapping
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from utils.checks.assertions import expect, expect_close, expect_runs
from utils.checks.torch_nn._common import _fail
from utils.checks.torch_nn.recording import _blobs, _plain


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
