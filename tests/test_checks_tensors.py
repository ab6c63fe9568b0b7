"""utils.checks.tensors: device checks on the meta device, leaf parameters, gradients that
flow, library functions switched off, and the devices the tests run on."""

import pytest
import torch

from utils.checks import CheckFailure
from utils.checks import tensors as checks


def test_grading_devices_is_the_cpu_then_the_gpu(monkeypatch):
    monkeypatch.delenv("MLP_COURSE_DEVICE", raising=False)
    devices = checks.grading_devices()
    assert devices[0] == torch.device("cpu")
    assert len(devices) == (2 if torch.cuda.is_available() else 1)
    monkeypatch.setenv("MLP_COURSE_DEVICE", "cpu")
    assert checks.grading_devices() == [torch.device("cpu")]


def test_tensors_in_names_every_tensor_of_a_nested_result():
    a, b, c = torch.zeros(1), torch.ones(2), torch.ones(3)
    found = checks.tensors_in({"x": [a, (b, 3)], "y": c})
    assert [name for name, _ in found] == ["the result['x'][0]", "the result['x'][1][0]", "the result['y']"]
    assert checks.tensors_in(4.0) == []


def test_expect_on_device_names_the_tensor_and_its_device():
    params = [torch.zeros(2, device="meta"), torch.zeros(2)]
    checks.expect_on_device(params[:1], "meta", "init", names=["W1"])
    with pytest.raises(CheckFailure) as failure:
        checks.expect_on_device(params, "meta", "init", names=["W1", "b1"])
    assert "b1 is on cpu" in str(failure.value) and "W1" not in str(failure.value).split("but")[1]
    assert "Likely mistake" in str(failure.value)
    with pytest.raises(CheckFailure, match="expected tensors"):
        checks.expect_on_device(3, "cpu", "a number")


def test_on_meta_keeps_structure_and_requires_grad():
    moved = checks.on_meta([torch.ones(2, requires_grad=True), (torch.ones(1), "label")])
    assert moved[0].device.type == "meta" and moved[0].requires_grad and moved[0].is_leaf
    assert isinstance(moved[1], tuple) and moved[1][0].device.type == "meta" and moved[1][1] == "label"


def test_a_cpu_tensor_made_inside_a_function_is_caught_on_meta():
    def shifted(X):
        return X + torch.ones(X.shape)          # the bug: ones on the CPU
    with pytest.raises(CheckFailure, match="created on the CPU"):
        checks.expect_device_consistent(shifted, torch.zeros(2, 3), what="shifted(X)")

    def returns_cpu(X):                         # runs, but its result is on the CPU
        return torch.zeros(X.shape)
    with pytest.raises(CheckFailure, match="the result is on cpu"):
        checks.expect_device_consistent(returns_cpu, torch.zeros(2, 3), what="returns_cpu(X)")

    def right(X):
        return X + torch.ones_like(X)
    checks.expect_device_consistent(right, torch.zeros(2, 3), what="right(X)")


def test_device_consistency_stops_at_data_access_and_catches_mixing():
    def count(y_hat, y):                        # right: stops at .item() on meta
        return (y_hat.argmax(1) == y).sum().item()
    checks.expect_device_consistent(count, torch.zeros(3, 2), torch.zeros(3, dtype=torch.long), what="count")

    def mixing(y_hat, y):                       # collects in a CPU tensor
        return torch.cat([torch.zeros(0, dtype=torch.long), y_hat.argmax(1)]).eq(y).sum().item()
    with pytest.raises(CheckFailure, match="created on the CPU"):
        checks.expect_device_consistent(mixing, torch.zeros(3, 2), torch.zeros(3, dtype=torch.long), what="mixing")

    def unrelated(y_hat, y):                    # another error is the value tests' business
        raise ValueError("nope")
    checks.expect_device_consistent(unrelated, torch.zeros(1), torch.zeros(1), what="unrelated")


@pytest.mark.parametrize("picked", [
    lambda y_hat, y: torch.stack([y_hat[i, y[i]] for i in range(len(y))]),   # indexes with y[i]
    lambda y_hat, y: y_hat[torch.nn.functional.one_hot(y, y_hat.shape[1]).bool()],  # boolean mask
], ids=["loop over samples", "boolean mask"])
def test_correct_code_that_needs_the_values_passes_on_meta(picked):
    # Correct cross-entropies that a meta tensor cannot run (no values): not a device bug.
    def cross_entropy(y_hat, y):
        return -torch.log(picked(y_hat, y)).mean()
    y_hat, y = torch.full((3, 4), 0.25), torch.tensor([0, 1, 3])
    assert torch.isclose(cross_entropy(y_hat, y), torch.log(torch.tensor(4.0)))
    checks.expect_device_consistent(cross_entropy, y_hat, y, what="cross_entropy(y_hat, y)")


def test_expect_leaf_parameters_explains_requires_grad_and_non_leaves():
    checks.expect_leaf_parameters([torch.zeros(2, requires_grad=True)], ["W"], "init")
    with pytest.raises(CheckFailure, match="requires_grad=True"):
        checks.expect_leaf_parameters([torch.zeros(2)], ["W"], "init")
    scaled = torch.randn(2, requires_grad=True) * 0.01
    with pytest.raises(CheckFailure, match="not a leaf"):
        checks.expect_leaf_parameters([scaled], ["W"], "init")
    with pytest.raises(CheckFailure, match="should be a tensor"):
        checks.expect_leaf_parameters([[1.0]], ["W"], "init")


def test_expect_differentiable_checks_the_graph_and_the_gradient():
    X = torch.tensor([-1.0, 2.0], requires_grad=True)
    checks.expect_differentiable(X * 3, X, [3.0, 3.0], "3X")
    with pytest.raises(CheckFailure, match="cut off from the computation graph"):
        checks.expect_differentiable((X * 3).detach(), X, [3.0, 3.0], "3X detached")
    with pytest.raises(CheckFailure, match="gradient that flows back"):
        checks.expect_differentiable(X * 2, X, [3.0, 3.0], "2X")


def test_forbidding_switches_library_functions_off_and_restores_them():
    original = torch.relu
    with checks.forbidding({"torch.relu": "torch.relu", "torch.Tensor.clamp": "clamp",
                            "torch.no_such_function": "nothing"}, "by hand"):
        with pytest.raises(checks.ForbiddenCall, match="torch.relu is not allowed here: by hand"):
            torch.relu(torch.zeros(1))
        with pytest.raises(checks.ForbiddenCall):
            torch.zeros(1).clamp(min=0)
        assert torch.maximum(torch.zeros(1), torch.ones(1)) == 1   # everything else works
    assert torch.relu is original and torch.zeros(1).clamp(min=0) == 0
