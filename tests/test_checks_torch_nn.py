"""utils.checks.torch_nn: its recording tools see what they claim to see, its scenarios have the
right answers they claim and tell the known bugs apart from them, and its checks pass on
reference implementations written here (the notebook's own are tested through the variants)."""

import copy
import math
import os

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from utils.checks import CheckFailure
from utils.checks import torch_nn as probes


# ----------------------------------------------------------------------------- references
def train_epoch(model, loader, loss_fn, optimizer, device):
    model.train()
    total, count = 0.0, 0
    for X, y in loader:
        X, y = X.to(device), y.to(device)
        optimizer.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(X)
        count += len(X)
    return total / count


def _eval_loop(model, loader, loss_fn, device):
    total, correct, count = 0.0, 0, 0
    for X, y in loader:
        X, y = X.to(device), y.to(device)
        out = model(X)
        total += loss_fn(out, y).item() * len(X)
        correct += (out.argmax(1) == y).sum().item()
        count += len(X)
    return total / count, correct / count


def evaluate(model, loader, loss_fn, device):
    model.eval()
    with torch.no_grad():
        return _eval_loop(model, loader, loss_fn, device)


def fit(model, train_loader, val_loader, loss_fn, optimizer, epochs, device, keep=copy.deepcopy):
    history = {"train_loss": [], "val_loss": [], "val_acc": []}
    best, best_state = -1.0, None
    for _ in range(epochs):
        history["train_loss"].append(train_epoch(model, train_loader, loss_fn, optimizer, device))
        loss, acc = evaluate(model, val_loader, loss_fn, device)
        history["val_loss"].append(loss)
        history["val_acc"].append(acc)
        if acc > best:
            best, best_state = acc, keep(model.state_dict())
    return history, best_state


def save_checkpoint(model, optimizer, path):
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict()}, path)


def load_checkpoint(model, optimizer, path):
    checkpoint = torch.load(path, map_location=next(model.parameters()).device, weights_only=True)
    model.load_state_dict(checkpoint["model"])
    optimizer.load_state_dict(checkpoint["optimizer"])


def _fails(check, *args, hint, **kwargs):
    with pytest.raises(CheckFailure) as failure:
        check(*args, **kwargs)
    assert hint in str(failure.value), str(failure.value)


# ----------------------------------------------------------------------------- Unmoved
@pytest.mark.parametrize("move", [
    lambda t: t.to("cpu"), lambda t: t.to(torch.device("cpu")), lambda t: t.to(device="cpu"),
    lambda t: t.to("cpu", non_blocking=True), lambda t: t.to("cpu", torch.float64),
    lambda t: t.cpu(), lambda t: t.to(torch.zeros(1)), lambda t: t.float().to("cpu"),
    lambda t: torch.Tensor.to(t, "cpu"), lambda t: t.view(2, 3).to("cpu"),
], ids=["str", "device", "kwarg", "non_blocking", "with dtype", "cpu()", "like tensor",
        "after float()", "Tensor.to", "after view"])
def test_a_move_to_a_device_makes_a_plain_tensor(move):
    batch = probes.unmoved(torch.arange(6.0))
    moved = move(batch)
    assert type(moved) is torch.Tensor
    assert torch.equal(moved.double().flatten(), torch.arange(6.0, dtype=torch.float64))


@pytest.mark.parametrize("op", [lambda t: t.to(torch.float64), lambda t: t * 2,
                                lambda t: t.view(2, 3), lambda t: t[:3], lambda t: t.float()],
                         ids=["to dtype", "mul", "view", "slice", "float"])
def test_other_operations_keep_the_batch_unmoved(op):
    assert isinstance(op(probes.unmoved(torch.arange(6.0))), probes.Unmoved)


def test_probe_net_and_loss_record_what_they_receive():
    net, loss_fn = probes.ProbeNet(), probes.ProbeLoss()
    X, y = probes.probe_batches([3]).batches[0]
    loss_fn(net(X), y)
    loss_fn(net(X.to("cpu")), y.to("cpu"))
    net.eval()
    with torch.no_grad():
        net(X)
    assert [(c.moved, c.training, c.grad_enabled) for c in net.calls] == [
        (False, True, True), (True, True, True), (False, False, False)]
    assert loss_fn.targets_moved == [False, True]


def test_recording_sgd_records_the_gradients_at_each_step():
    w = nn.Parameter(torch.ones(2))
    opt = probes.RecordingSGD([w], lr=0.0)
    opt.step()
    (w * 3).sum().backward()
    opt.step()
    assert opt.seen[0] == [None] and torch.equal(opt.seen[1][0], torch.full((2,), 3.0))


# ----------------------------------------------------------------------------- scenarios
def test_scripted_run_has_the_accuracies_and_losses_it_claims():
    states = probes._scripted_states()
    X, y = torch.eye(4), probes._VAL_Y
    accs, losses = [], []
    for state in states:
        logits = X @ state["linear.weight"].T
        accs.append((logits.argmax(1) == y).float().mean().item())
        losses.append(F.cross_entropy(logits, y).item())
    assert accs == [0.5, 1.0, 0.75, 0.5]
    assert losses == pytest.approx([probes._nll(m) for m in probes._MARGINS])
    best, lowest, last = accs.index(max(accs)), losses.index(min(losses)), len(accs) - 1
    assert len({best, lowest, last, 0}) == 4, "the wrong choices must give different states"


@pytest.mark.parametrize("sizes, offset, seed", [((5, 5, 2), 0.0, 0), ((3, 7, 7, 1), 1.5, 2)])
def test_epoch_loss_scenarios_tell_each_mistake_from_the_right_mean(sizes, offset, seed):
    model = probes.ProbeNet(seed=seed)
    losses, batch_sizes, _ = probes._reference_losses(model, probes.probe_batches(sizes, seed=seed),
                                                      probes.ProbeLoss(offset), "cpu")
    right = sum(l * s for l, s in zip(losses, batch_sizes)) / sum(batch_sizes)
    for sentence, wrong in probes._epoch_mean_mistakes(losses, batch_sizes).items():
        assert abs(wrong - right) > 1e-3 * max(1.0, abs(right)), sentence


@pytest.mark.parametrize("sizes, seed", [((5, 5, 2), 4), ((7, 2, 7, 4), 9), ((16,), 5)])
def test_evaluation_scenarios_have_accuracies_a_mistake_cannot_match(sizes, seed):
    model = probes.ProbeNet(p_drop=0.5, seed=seed).eval()
    _, batch_sizes, correct = probes._reference_losses(model, probes.probe_batches(sizes, seed=seed),
                                                       probes.ProbeLoss(), "cpu")
    n, right = sum(batch_sizes), sum(correct) / sum(batch_sizes)
    assert 0 < right < 1
    if len(sizes) > 1:
        batch_mean = sum(c / s for c, s in zip(correct, batch_sizes)) / len(sizes)
        assert abs(batch_mean - right) > 1e-3
    # With dropout on, the evaluation differs (so a missing model.eval() shows in the values too).
    torch.manual_seed(0)
    model.train()
    train_mode, *_ = probes._reference_losses(model, probes.probe_batches(sizes, seed=seed),
                                              probes.ProbeLoss(), "cpu")
    model.eval()
    eval_mode, *_ = probes._reference_losses(model, probes.probe_batches(sizes, seed=seed),
                                             probes.ProbeLoss(), "cpu")
    assert train_mode != pytest.approx(eval_mode)


# ----------------------------------------------------------------------------- checks pass on references
def test_training_checks_pass_on_reference_implementations():
    probes.expect_epoch_loss(train_epoch, "cpu")
    probes.expect_epoch_loss(train_epoch, "cpu", sizes=(3, 7, 7, 1), offset=1.5, seed=2)
    probes.expect_gradients_reset(train_epoch, "cpu")
    probes.expect_train_mode(train_epoch, "cpu")
    probes.expect_batches_moved(train_epoch, "cpu")
    probes.expect_training_progress(train_epoch, "cpu")
    probes.expect_evaluation(evaluate, "cpu")
    probes.expect_batches_moved(evaluate, "cpu", evaluation=True)
    probes.expect_fit_history(fit, "cpu")
    probes.expect_best_state(fit, "cpu")
    probes.expect_fit_learns(fit, "cpu")


@pytest.mark.parametrize("optimizer", ["SGD", "Adam"])
def test_checkpoint_checks_pass_on_reference_implementations(optimizer):
    probes.expect_checkpoint_file(save_checkpoint, optimizer, "cpu")
    probes.expect_checkpoint_roundtrip(save_checkpoint, load_checkpoint, optimizer, "cpu")
    probes.expect_load_maps_to_device(save_checkpoint, load_checkpoint)
    probes.expect_load_refuses_pickled_objects(save_checkpoint, load_checkpoint)


# ----------------------------------------------------------------------------- checks catch bugs
def test_training_checks_name_typical_bugs():
    def no_zero_grad(model, loader, loss_fn, optimizer, device):
        model.train()
        for X, y in loader:
            loss_fn(model(X.to(device)), y.to(device)).backward()
            optimizer.step()
        return 0.0

    def not_moved(model, loader, loss_fn, optimizer, device):
        model.train()
        for X, y in loader:
            optimizer.zero_grad()
            loss_fn(model(X), y).backward()
            optimizer.step()
        return 0.0

    def no_eval(model, loader, loss_fn, device):
        with torch.no_grad():
            return _eval_loop(model, loader, loss_fn, device)

    def no_grad_missing(model, loader, loss_fn, device):
        model.eval()
        return _eval_loop(model, loader, loss_fn, device)

    _fails(probes.expect_gradients_reset, no_zero_grad, "cpu", hint="accumulate across steps")
    _fails(probes.expect_batches_moved, not_moved, "cpu", hint="not moved to `device`")
    _fails(probes.expect_evaluation, no_eval, "cpu", hint="model.eval() is not called")
    _fails(probes.expect_evaluation, no_grad_missing, "cpu", hint="torch.no_grad()")


@pytest.mark.parametrize("keep, hint", [(lambda sd: sd, "kept by reference"),
                                        (lambda sd: sd.copy(), "kept by reference"),
                                        (lambda sd: {k: v.detach() for k, v in sd.items()}, "kept by reference")])
def test_best_state_by_reference_is_named(keep, hint):
    _fails(probes.expect_best_state, lambda *args: fit(*args, keep=keep), "cpu", hint=hint)


def test_best_state_copied_with_clone_passes():
    probes.expect_best_state(lambda *args: fit(*args, keep=lambda sd: {k: v.clone() for k, v in sd.items()}), "cpu")


def test_checkpoint_checks_name_typical_bugs():
    def model_only(model, optimizer, path):
        torch.save(model.state_dict(), path)

    def whole_model(model, optimizer, path):
        torch.save({"model": model, "optimizer": optimizer.state_dict()}, path)

    def no_map_location(model, optimizer, path):
        checkpoint = torch.load(path, weights_only=True)
        model.load_state_dict(checkpoint["model"])
        optimizer.load_state_dict(checkpoint["optimizer"])

    def unsafe(model, optimizer, path):
        checkpoint = torch.load(path, map_location="cpu", weights_only=False)
        model.load_state_dict(checkpoint["model"])
        optimizer.load_state_dict(checkpoint["optimizer"])

    def model_state_only(model, optimizer, path):
        model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True)["model"])

    _fails(probes.expect_checkpoint_file, model_only, "SGD", "cpu", hint="no optimizer state")
    _fails(probes.expect_checkpoint_file, whole_model, "SGD", "cpu", hint="pickles whole Python objects")
    _fails(probes.expect_load_maps_to_device, save_checkpoint, no_map_location, hint="map_location")
    _fails(probes.expect_load_refuses_pickled_objects, save_checkpoint, unsafe, hint="weights_only=True")
    _fails(probes.expect_checkpoint_roundtrip, save_checkpoint, model_state_only, "Adam", "cpu",
           hint="optimizer's state is not restored")


def test_a_checkpoint_saved_as_if_on_a_missing_gpu_needs_map_location(tmp_path):
    import torch.serialization as serialization

    registry = list(serialization._package_registry)
    with probes._saved_as_if_on_cuda():
        torch.save({"w": torch.ones(2)}, tmp_path / "c.pt")
    assert serialization._package_registry == registry
    with pytest.raises(Exception, match="CUDA"):   # RuntimeError; UnpicklingError on torch 2.1
        torch.load(tmp_path / "c.pt", weights_only=True)
    assert torch.equal(torch.load(tmp_path / "c.pt", map_location="cpu", weights_only=True)["w"],
                       torch.ones(2))


def test_the_tripwire_fires_only_when_unpickled_unsafely(tmp_path):
    torch.save({"note": probes._Tripwire()}, tmp_path / "c.pt")
    probes._TRIPPED.clear()
    with pytest.raises(Exception, match="weights_only|Unsupported global"):
        torch.load(tmp_path / "c.pt", weights_only=True)
    assert not probes._TRIPPED
    torch.load(tmp_path / "c.pt", weights_only=False)
    assert probes._TRIPPED


# ----------------------------------------------------------------------------- modules
class _ModuleListMLP(nn.Module):
    def __init__(self, dims):
        super().__init__()
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(dims[:-1], dims[1:]))

    def forward(self, X):
        X = X.flatten(1)
        for layer in self.layers[:-1]:
            X = torch.tanh(layer(X))
        return F.log_softmax(self.layers[-1](X), dim=1)


class _ExplicitMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.out = nn.Linear(4, 3)          # registered first: order must not matter
        self.first = nn.Linear(6, 5)
        self.second = nn.Linear(5, 4)

    def forward(self, X):
        X = torch.tanh(self.first(X.reshape(len(X), -1)))
        return F.log_softmax(self.out(torch.tanh(self.second(X))), dim=1)


@pytest.mark.parametrize("make", [lambda: _ModuleListMLP([6, 5, 4, 3]), _ExplicitMLP,
                                  lambda: nn.Sequential(nn.Flatten(), nn.Linear(6, 5), nn.Tanh(),
                                                        nn.Linear(5, 4), nn.Tanh(), nn.Linear(4, 3),
                                                        nn.LogSoftmax(dim=1))],
                         ids=["ModuleList", "explicit", "Sequential"])
def test_mlp_forward_check_accepts_any_structure(make):
    torch.manual_seed(0)
    model = make()
    probes.expect_mlp_forward(model, torch.randn(7, 2, 3), 6, [5, 4], 3, "tanh", "an MLP")
    probes.expect_on_meta(make(), torch.randn(3, 6), (3, 3), "an MLP")


def test_mlp_checks_name_structural_bugs():
    class PlainList(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = [nn.Linear(6, 5), nn.Linear(5, 3)]

    _fails(probes.mlp_layers, PlainList(), 6, [5], 3, "m", hint="plain Python list")
    _fails(probes.mlp_layers, nn.Sequential(nn.Linear(6, 5, bias=False), nn.Linear(5, 3, bias=False)),
           6, [5], 3, "m", hint="no bias")
    logits = nn.Sequential(nn.Linear(6, 5), nn.Tanh(), nn.Linear(5, 3))
    _fails(probes.expect_mlp_forward, logits, torch.randn(4, 6), 6, [5], 3, "tanh", "m",
           hint="not log-probabilities")


def test_count_mistakes_differ_from_the_right_count():
    for args in [(784, [32, 64, 128, 64], 10), (20, [7], 3), (5, [8, 6, 4], 2)]:
        right = probes.parameter_count(*args)
        wrong = list(probes.count_mistakes(*args).values())
        assert right not in wrong and len(set(wrong)) == len(wrong), args
    assert probes.parameter_count(784, [32, 64, 128, 64], 10) == 44458


def test_linear_checks():
    class Transposed(nn.Module):
        def __init__(self):
            super().__init__()
            self.W = nn.Parameter(torch.zeros(3, 2))
            self.b = nn.Parameter(torch.zeros(2))

    class PlainBias(nn.Module):
        def __init__(self):
            super().__init__()
            self.W = nn.Parameter(torch.zeros(2, 3))
            self.b = torch.zeros(2)

    _fails(probes.expect_parameters, Transposed(), {"W": (2, 3), "b": (2,)}, "l", hint="transposed")
    _fails(probes.expect_parameters, PlainBias(), {"W": (2, 3), "b": (2,)}, "l", hint="not an nn.Parameter")
    _fails(probes.expect_random_init, torch.zeros(4, 5), 5, "W", hint="all weights are equal")
    _fails(probes.expect_random_init, torch.randn(100, 400), 400, "W", hint="too large")
    probes.expect_random_init(nn.Linear(400, 100).weight, 400, "W")

    class CpuTensorInside(nn.Module):
        def __init__(self):
            super().__init__()
            self.W = nn.Parameter(torch.randn(2, 3))
            self.b = nn.Parameter(torch.zeros(2))

        def forward(self, X):
            return X @ self.W.T + self.b + torch.zeros(len(X), 2)

    _fails(probes.expect_on_meta, CpuTensorInside(), torch.randn(4, 3), (4, 2), "l", hint="made on the CPU")


def test_accuracy_restores_the_mode():
    model = probes.ProbeNet(p_drop=0.5)
    X, y = probes._blobs(30)
    assert 0 <= probes.accuracy(model, X, y) <= 1 and model.training
    assert not math.isnan(probes.accuracy(model.eval(), X, y)) and not model.training
    assert os.path.basename(os.path.dirname(probes.__file__)) == "torch_nn"   # the package


def test_fit_that_drops_its_device_is_named():
    def fit_without_device(model, train_loader, val_loader, loss_fn, optimizer, epochs, device):
        return fit(model, train_loader, val_loader, loss_fn, optimizer, epochs, None)

    _fails(probes.expect_fit_history, fit_without_device, "cpu", hint="does not hand its `device`")


# ----------------------------------------------------------------------------- the course's versions
def test_course_versions_pass_the_course_checks():
    probes.expect_epoch_loss(probes.train_epoch_reference, "cpu", sizes=(3, 7, 7, 1), offset=1.5, seed=2)
    probes.expect_gradients_reset(probes.train_epoch_reference, "cpu")
    probes.expect_train_mode(probes.train_epoch_reference, "cpu")
    probes.expect_batches_moved(probes.train_epoch_reference, "cpu")
    probes.expect_training_progress(probes.train_epoch_reference, "cpu")
    probes.expect_evaluation(probes.evaluate_reference, "cpu")
    probes.expect_batches_moved(probes.evaluate_reference, "cpu", evaluation=True)
    torch.manual_seed(0)
    layer = probes.LinearReference(3, 2)
    probes.expect_parameters(layer, {"W": (2, 3), "b": (2,)}, "LinearReference(3, 2)")
    probes.expect_random_init(probes.LinearReference(784, 100).W, 784, "W")
    probes.expect_linear_gradients(probes.LinearReference(4, 3), torch.randn(5, 4), "LinearReference(4, 3)")
    probes.expect_on_meta(probes.LinearReference(6, 4), torch.randn(3, 6), (3, 4), "LinearReference(6, 4)")
    X = torch.randn(7, 3)
    assert torch.allclose(layer(X), F.linear(X, layer.W, layer.b))


def _notebook(**replaced):
    """A notebook's namespace in which ``fit`` calls the ``train_epoch`` and ``evaluate`` found
    there, as a student's does: the references above, some replaced by wrong ones."""
    namespace = {"train_epoch": train_epoch, "evaluate": evaluate, "copy": copy, **replaced}
    exec("def fit(model, train_loader, val_loader, loss_fn, optimizer, epochs, device):\n"
         "    history = {'train_loss': [], 'val_loss': [], 'val_acc': []}\n"
         "    best, best_state = -1.0, None\n"
         "    for _ in range(epochs):\n"
         "        history['train_loss'].append(train_epoch(model, train_loader, loss_fn, optimizer, device))\n"
         "        loss, acc = evaluate(model, val_loader, loss_fn, device)\n"
         "        history['val_loss'].append(loss)\n"
         "        history['val_acc'].append(acc)\n"
         "        if acc > best:\n"
         "            best, best_state = acc, copy.deepcopy(model.state_dict())\n"
         "    return history, best_state\n", namespace)
    return namespace


def test_fit_is_graded_with_the_course_versions_and_told_which_of_its_own_differ(capsys):
    """A correct ``fit`` passes beside a wrong ``evaluate`` (no eval mode, equal batch weights),
    and the note names that one only; beside correct ones, nothing is said (the probes' model,
    loaders and scripted optimizer are copied together for the comparison)."""
    def wrong_evaluate(model, loader, loss_fn, device):
        with torch.no_grad():
            results = [_eval_loop(model, [batch], loss_fn, device) for batch in loader]
        return tuple(sum(r[i] for r in results) / len(results) for i in (0, 1))

    for namespace, note in ((_notebook(), None), (_notebook(evaluate=wrong_evaluate), "your `evaluate` differs")):
        with probes.using_course(namespace, "train_epoch", "evaluate"):
            probes.expect_fit_history(namespace["fit"], "cpu")
            probes.expect_best_state(namespace["fit"], "cpu")
        out = capsys.readouterr().out
        assert out == "" if note is None else (note in out and "train_epoch" not in out), out
        assert namespace["evaluate"] in (evaluate, wrong_evaluate)


def test_an_mlp_built_from_mylinear_is_graded_with_the_course_layer():
    class WrongLinear(nn.Module):                  # transposed weight: its own test fails
        def __init__(self, in_features, out_features):
            super().__init__()
            self.W = nn.Parameter(torch.randn(in_features, out_features))
            self.b = nn.Parameter(torch.zeros(out_features))

        def forward(self, X):
            return X @ self.W + self.b

    namespace = {"MyLinear": WrongLinear, "nn": nn, "F": F}
    exec("class MLP(nn.Module):\n"
         "    def __init__(self, d_in, hidden_dims, d_out, nonlin='relu'):\n"
         "        super().__init__()\n"
         "        dims = [d_in, *hidden_dims, d_out]\n"
         "        self.layers = nn.ModuleList(MyLinear(a, b) for a, b in zip(dims, dims[1:]))\n"
         "    def forward(self, X):\n"
         "        X = X.flatten(1)\n"
         "        for layer in self.layers[:-1]:\n"
         "            X = F.relu(layer(X))\n"
         "        return F.log_softmax(self.layers[-1](X), dim=1)\n", namespace)
    with probes.using_course(namespace, "MyLinear"):
        model = namespace["MLP"](6, [5, 4], 3)
        probes.expect_mlp_forward(model, torch.randn(8, 2, 3), 6, [5, 4], 3, "relu", "MLP(6, [5, 4], 3)")
    assert namespace["MyLinear"] is WrongLinear
    with pytest.raises(CheckFailure):
        probes.mlp_layers(namespace["MLP"](6, [5, 4], 3), 6, [5, 4], 3, "MLP(6, [5, 4], 3)")


def test_the_end_to_end_test_names_the_parts_it_ran():
    namespace = _notebook(MLP=_ExplicitMLP)
    with pytest.raises(CheckFailure) as failed:
        with probes.end_to_end(namespace):
            namespace["MLP"]()
            raise CheckFailure("the best validation accuracy: too low")
    assert "ran your `MLP`:" in str(failed.value)
    assert "__init__" in _ExplicitMLP.__dict__ and not hasattr(_ExplicitMLP.__init__, "__wrapped__")


def test_an_unmoved_batch_copies_as_an_unmoved_batch():
    batch = probes.unmoved(torch.arange(6.0))
    copied = copy.deepcopy(probes.BatchLoader([(batch, batch)]))
    X, y = copied.batches[0]
    assert type(X) is probes.Unmoved and X is y and torch.equal(X, batch) and X.data_ptr() != batch.data_ptr()


def test_the_probe_optimizers_copy_with_what_they_record_and_script():
    model = probes.ProbeNet()
    sgd = probes.RecordingSGD(model.parameters(), lr=0.1)
    sgd.seen.append(["a step"])
    copied_model, copied = copy.deepcopy((model, sgd))
    assert copied.seen == [["a step"]] and copied.param_groups[0]["params"][0] is next(copied_model.parameters())
    scripted = probes.ScriptedOptimizer(model, [dict(model.named_parameters())])
    scripted.steps = 1
    copied_model, copied = copy.deepcopy((model, scripted))
    assert copied.model is copied_model and copied.steps == 1 and len(copied.states) == 1
