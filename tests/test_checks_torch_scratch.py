"""utils.checks.torch_scratch: the references agree with torch's own functions, every wrong
output it describes differs from the right one on the tests' inputs, and the stand-ins
(recording updater, grad-mode spy) record what they claim."""

import math

import pytest
import torch
import torch.nn.functional as F

from utils.checks import CheckFailure
from utils.checks import torch_scratch as probes


def _right(expected, mistakes, tol=1e-6):
    """No mistake matches the right answer (a probe that did would blame correct code)."""
    for sentence, wrong in mistakes.items():
        if callable(wrong):
            assert not wrong(expected), sentence
        else:
            assert not torch.allclose(torch.as_tensor(wrong, dtype=torch.float64),
                                      torch.as_tensor(expected, dtype=torch.float64), rtol=tol), sentence


def test_references_agree_with_torch():
    O = probes.images(4, (5,), seed=0, dtype=torch.float64)
    assert torch.allclose(probes.softmax64(O), F.softmax(O, dim=1))
    y = torch.tensor([0, 4, 2, 1])
    assert torch.isclose(probes.cross_entropy64(probes.softmax64(O), y), F.cross_entropy(O, y))
    params = probes.small_params(6, 5, 3, dtype=torch.float64)
    X = probes.images(2, (2, 3), dtype=torch.float64)
    W1, b1, W2, b2 = params
    expected = F.relu(X.reshape(2, 6) @ W1 + b1) @ W2 + b2
    assert torch.allclose(probes.mlp_scores(X, params), expected)


def test_no_mistake_matches_the_right_answer_on_the_tests_inputs():
    params = probes.small_params(6, 5, 3, seed=0)
    X = probes.images(4, (2, 3), seed=0)
    _right(probes.mlp_scores(X, params), probes.net_mistakes(X, params), tol=1e-4)
    for O in (torch.tensor([[1.0, 2.0, 3.0, 4.0], [1.0, 1.0, 1.0, 1.0], [-1.0, 0.0, 5.0, 2.0]]),
              probes.images(3, (3,), seed=4) * 3):
        _right(probes.softmax64(O), probes.softmax_mistakes(O))
    y_hat = torch.tensor([[0.1, 0.2, 0.3, 0.4], [0.3, 0.2, 0.4, 0.1], [0.25, 0.5, 0.05, 0.2]])
    y = torch.tensor([0, 2, 1])
    _right(probes.cross_entropy64(y_hat, y), probes.cross_entropy_mistakes(y_hat, y))
    scores = torch.tensor([[2.0, -1.0, 0.5, 0.0], [-3.0, -1.0, -2.0, -4.0], [0.0, 0.1, 0.2, 0.3], [5.0, 4.0, 3.0, 6.0]])
    labels = torch.tensor([0, 1, 3, 0])
    for sentence, wrong in probes.accuracy_mistakes(scores, labels).items():
        assert not (wrong(3) if callable(wrong) else wrong == 3), sentence


def test_init_statistics_accept_any_seed_and_name_the_usual_slips():
    for seed in range(20):                  # a right init never fails, whatever the draw
        torch.manual_seed(seed)
        params = [torch.randn(784, 256) * 0.01, torch.zeros(256), torch.randn(256, 10) * 0.01, torch.zeros(10)]
        probes.expect_init_statistics(params, "init")
    for weights, hint in ((torch.randn(784, 256), "standard deviation 1"),
                          (torch.rand(784, 256) * 0.01, "torch.rand"),
                          (torch.full((784, 256), 0.01), "all equal")):
        with pytest.raises(CheckFailure, match=hint):
            probes.expect_init_statistics([weights, torch.zeros(256), torch.randn(256, 10) * 0.01,
                                           torch.zeros(10)], "init")
    with pytest.raises(CheckFailure, match="all zeros"):
        probes.expect_init_statistics([torch.randn(784, 256) * 0.01, torch.ones(256),
                                       torch.randn(256, 10) * 0.01, torch.zeros(10)], "init")


def test_param_list_shapes_name_transposes_and_matrix_biases():
    right = [torch.zeros(4, 3), torch.zeros(3), torch.zeros(3, 2), torch.zeros(2)]
    probes.expect_param_list(right, (4, 3, 2), "init")
    with pytest.raises(CheckFailure, match="transposed"):
        probes.expect_param_list([torch.zeros(3, 4)] + right[1:], (4, 3, 2), "init")
    with pytest.raises(CheckFailure, match="vectors of shape"):
        probes.expect_param_list([right[0], torch.zeros(1, 3)] + right[2:], (4, 3, 2), "init")
    with pytest.raises(CheckFailure, match="float32"):
        probes.expect_param_list([p.double() for p in right], (4, 3, 2), "init")
    with pytest.raises(CheckFailure, match="list"):
        probes.expect_param_list(right[:3], (4, 3, 2), "init")


def test_scalar_tensor_and_number_checks():
    probes.expect_scalar_tensor(torch.tensor(1.0), "loss")
    with pytest.raises(CheckFailure, match="turned into a number"):
        probes.expect_scalar_tensor(1.0, "loss")
    with pytest.raises(CheckFailure, match="mean over the batch"):
        probes.expect_scalar_tensor(torch.ones(3), "loss")
    probes.expect_number(3, "count")
    probes.expect_number(2.0, "count")
    with pytest.raises(CheckFailure, match=r"\.item\(\)"):
        probes.expect_number(torch.tensor(3), "count")
    with pytest.raises(CheckFailure):
        probes.expect_number(True, "count")


def test_sgd_step_check_passes_a_right_step_and_names_each_slip():
    def setup():
        params, grads = probes.params_with_grads(seed=0)
        return params, grads, list(params), [p.detach().clone() for p in params]

    params, grads, originals, before = setup()
    with torch.no_grad():
        for p in params:
            p -= 0.1 * p.grad
            p.grad = None
    probes.expect_sgd_step(params, originals, before, grads, 0.1, "sgd")

    params, grads, originals, before = setup()
    params[0] = params[0].detach() - 0.1 * grads[0]
    with pytest.raises(CheckFailure, match="replaced"):
        probes.expect_sgd_step(params, originals, before, grads, 0.1, "sgd")

    params, grads, originals, before = setup()
    with pytest.raises(CheckFailure, match="did not change"):
        probes.expect_sgd_step(params, originals, before, grads, 0.1, "sgd")

    params, grads, originals, before = setup()
    with torch.no_grad():
        for p in params:
            p -= 0.1 * p.grad
    with pytest.raises(CheckFailure, match="accumulate"):
        probes.expect_sgd_step(params, originals, before, grads, 0.1, "sgd")


def test_uneven_batches_give_different_answers_for_each_weighting():
    batches, W = probes.uneven_batches(seed=0, sizes=(4, 4, 2))
    rights = [int(((X @ W).argmax(1) == y).sum()) for X, y in batches]
    assert rights == [4, 1, 1]
    weighted, unweighted, by_batch_size = 6 / 10, (1 + 0.25 + 0.5) / 3, 6 / 12
    assert len({weighted, unweighted, by_batch_size}) == 3


def test_grad_mode_spy_and_recording_updater_record_what_happened():
    spy = probes.GradModeSpy(lambda X: X * 2)
    spy(torch.ones(1))
    with torch.no_grad():
        spy(torch.ones(1))
    assert spy.grad_enabled == [True, False]

    batches, params = probes.linear_problem(seed=0, sizes=(8, 4))
    updater = probes.RecordingUpdater(params, lr=0.5)
    before = params[0].detach().clone()
    loss = probes.mean_cross_entropy(batches[0][0] @ params[0] + params[1], batches[0][1])
    loss.backward()
    updater()
    assert updater.calls == 1 and updater.seen_grads[0][0] is not None
    assert params[0].grad is None and not torch.equal(params[0].detach(), before)


def test_reference_train_epoch_matches_a_plain_loop_and_its_mistakes_differ():
    batches, params = probes.linear_problem(seed=1, sizes=(8, 8, 4))
    loss, acc, details = probes.reference_train_epoch(batches, params, lr=0.5)
    W, b = (p.detach().clone().requires_grad_() for p in params)
    total, right = 0.0, 0
    for X, y in batches:
        scores = X @ W + b
        batch_loss = F.cross_entropy(scores, y)
        batch_loss.backward()
        with torch.no_grad():
            for p in (W, b):
                p -= 0.5 * p.grad
                p.grad = None
        total += batch_loss.item() * len(y)
        right += int((scores.argmax(1) == y).sum())
    assert math.isclose(loss, total / 20, rel_tol=1e-6) and acc == right / 20
    loss_mistakes, acc_mistakes = probes.train_epoch_mistakes(details)
    _right(torch.tensor(loss), loss_mistakes, tol=1e-4)
    _right(torch.tensor(acc), acc_mistakes)


def test_epoch_result_refuses_a_loss_that_still_holds_the_graph():
    W = torch.ones(2, requires_grad=True)
    probes.expect_epoch_result((0.5, 0.25), "epoch")
    probes.expect_epoch_result((torch.tensor(0.5), 0.25), "epoch")            # detached: fine
    with pytest.raises(CheckFailure, match="attached to the computation graph"):
        probes.expect_epoch_result(((W * 2).sum(), 0.25), "epoch")
    with pytest.raises(CheckFailure, match="expected \\(loss, accuracy\\)"):
        probes.expect_epoch_result([0.5, 0.25], "epoch")
    with pytest.raises(CheckFailure, match="should be a number"):
        probes.expect_epoch_result((0.5, "25%"), "epoch")


def test_history_check_names_each_malformed_history():
    good = {"train_loss": [1.0, 0.5], "train_acc": [0.5, torch.tensor(0.75)], "test_acc": [0.4, 0.6]}
    probes.expect_history(good, 2, "train")
    for wrong, match in (
            ((good["train_loss"], good["train_acc"], good["test_acc"]), "expected a dict"),
            ({**good, "test_acc": 0.6}, "append to it once per epoch"),
            ({**good, "train_loss": [1.0]}, "1 entries, expected one per epoch \\(2\\)"),
            ({**good, "train_acc": [0.5, 7.0]}, "within \\(0, 1\\)"),
            ({**good, "train_loss": [(1.0, 0.5), (0.5, 0.7)]}, "one number per epoch")):
        with pytest.raises(CheckFailure, match=match):
            probes.expect_history(wrong, 2, "train")


def test_zero_probabilities_make_one_hot_times_log_nan_but_not_the_reference():
    y_hat, y, right = probes.cross_entropy_with_zeros()
    assert torch.isfinite(right) and torch.isclose(right, probes.cross_entropy64(y_hat, y))
    one_hot = F.one_hot(y, 3).to(y_hat.dtype)
    assert probes.has_nan_or_inf(-(one_hot * torch.log(y_hat)).sum(dim=1).mean())
