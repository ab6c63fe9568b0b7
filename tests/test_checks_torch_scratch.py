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


# ----------------------------------------------------------------------------- the course's versions
_TRAINING_CODE = '''
def accuracy(y_hat, y):
    return (y_hat.argmax(dim=1) == y).sum().item()

def evaluate_accuracy(net_fn, data_iter):
    right = seen = 0
    with torch.no_grad():
        for X, y in data_iter:
            right, seen = right + accuracy(net_fn(X), y), seen + len(y)
    return right / seen

def train_epoch(net_fn, train_iter, loss_fn, updater):
    loss_sum = right = seen = 0
    for X, y in train_iter:
        scores = net_fn(X)
        loss = loss_fn(scores, y)
        loss.backward()
        updater()
        loss_sum, right, seen = loss_sum + loss.item() * len(y), right + accuracy(scores, y), seen + len(y)
    return loss_sum / seen, right / seen

def train(net_fn, train_iter, test_iter, loss_fn, num_epochs, updater):
    history = {"train_loss": [], "train_acc": [], "test_acc": []}
    for _ in range(num_epochs):
        loss, acc = train_epoch(net_fn, train_iter, loss_fn, updater)
        history["train_loss"].append(loss)
        history["train_acc"].append(acc)
        history["test_acc"].append(evaluate_accuracy(net_fn, test_iter))
    return history
'''


def _notebook(**replaced):
    """A notebook's namespace with the training functions above, some replaced by wrong ones."""
    namespace = {"torch": torch}
    exec(_TRAINING_CODE, namespace)
    namespace.update(replaced)
    return namespace


def test_course_versions_agree_with_the_references_and_torch():
    X = probes.images(3, (4,), seed=1, dtype=torch.float64).requires_grad_()
    assert torch.equal(probes.relu_reference(X), F.relu(X)) and probes.relu_reference(X).requires_grad
    assert probes.relu_reference(torch.zeros(2, 3, device="meta")).device.type == "meta"
    scores, y = torch.tensor([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]]), torch.tensor([1, 1, 1])
    assert probes.accuracy_reference(scores, y) == 2 and isinstance(probes.accuracy_reference(scores, y), int)
    batches, W = probes.uneven_batches(seed=0, sizes=(4, 4, 2))
    assert probes.evaluate_accuracy_reference(lambda X: X @ W, batches) == pytest.approx(0.6)
    batches, params = probes.linear_problem(seed=0, sizes=(8, 8, 4))
    loss, acc, _ = probes.reference_train_epoch(batches, params, lr=0.5)
    got = probes.train_epoch_reference(probes.LinearScores(params), batches, probes.mean_cross_entropy,
                                       probes.RecordingUpdater(params, lr=0.5))
    assert got == pytest.approx((loss, acc), rel=1e-5)


def test_course_lists_each_dependency_with_the_test_that_grades_it():
    import json
    from pathlib import Path
    notebook = Path(__file__).parents[1] / "solutions/03_torch_scratch/torch_scratch.ipynb"
    grade_ids = {c["metadata"].get("nbgrader", {}).get("grade_id") for c in json.loads(notebook.read_text())["cells"]}
    for name, (function, test_id) in probes.COURSE.items():
        assert callable(function) and test_id in grade_ids, name
    assert set(probes.COURSE) <= set(probes.PIPELINE)


def test_train_is_graded_with_the_course_versions_and_told_which_of_its_own_differ(capsys):
    """A correct ``train`` passes with a wrong ``evaluate_accuracy`` beside it, and the note
    names that one only; with correct ones beside it, nothing is said."""
    def wrong_evaluate_accuracy(net_fn, data_iter):
        return 0.0

    for namespace, note in ((_notebook(), None), (_notebook(evaluate_accuracy=wrong_evaluate_accuracy),
                                                   "your `evaluate_accuracy` differs")):
        train_batches, params = probes.linear_problem(seed=2, sizes=(16, 16, 8))
        test_batches, _ = probes.linear_problem(seed=3, sizes=(16, 9))
        net_fn, updater = probes.LinearScores(params), probes.RecordingUpdater(params, lr=0.5)
        with probes.using_course(namespace, "train_epoch", "evaluate_accuracy", "accuracy"):
            history = namespace["train"](net_fn, train_batches, test_batches, probes.mean_cross_entropy, 4, updater)
        right = sum(int((net_fn(X).argmax(1) == y).sum()) for X, y in test_batches) / 25
        assert history["test_acc"][-1] == pytest.approx(right) and updater.calls == 12
        out = capsys.readouterr().out
        assert out == "" if note is None else (note in out and "train_epoch" not in out), out
        assert namespace["evaluate_accuracy"] is not probes.COURSE["evaluate_accuracy"][0]


def test_scores_that_require_grad_are_compared_without_a_false_note(capsys):
    """``train_epoch`` hands ``accuracy`` scores inside the graph; the student's own agreeing
    ``accuracy`` (returning a float count) is not reported."""
    namespace = _notebook(accuracy=lambda y_hat, y: float((y_hat.argmax(dim=1) == y).sum()))
    batches, params = probes.linear_problem(seed=0, sizes=(8, 8, 4))
    with probes.using_course(namespace, "accuracy"):
        namespace["train_epoch"](probes.LinearScores(params), batches, probes.mean_cross_entropy,
                                 probes.RecordingUpdater(params))
    assert capsys.readouterr().out == ""


def test_the_end_to_end_test_names_the_parts_it_ran():
    namespace = _notebook()
    with pytest.raises(CheckFailure) as failed:
        with probes.end_to_end(namespace):
            namespace["evaluate_accuracy"](lambda X: X, [(torch.eye(3), torch.arange(3))])
            raise CheckFailure("test accuracy: too low")
    assert str(failed.value).endswith("ran your `evaluate_accuracy`, `accuracy`: a mistake in any of them "
                                      "can fail it (their own tests say which)")


def test_a_crash_inside_a_course_version_points_at_the_students_call_not_the_course_code():
    """The message of a crash says where in the student's code it happened; the course's
    version run in place of theirs is not shown (it is not theirs to read)."""
    from utils.checks import expect_runs
    namespace = {}
    exec("def net(X, params):\n    return relu(X, params)\n", namespace)
    with pytest.raises(CheckFailure) as failed:
        with probes.using_course(namespace, "relu"):
            expect_runs(namespace["net"], torch.ones(2), [], what="net(X, params)")
    message = str(failed.value)
    assert "relu() takes 1 positional argument" in message and "of `net`" in message
    assert "relu_reference" not in message and "clamp" not in message
