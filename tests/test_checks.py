"""The test helpers that notebook test cells call: they pass what is right, fail what is wrong,
and their messages say what differs, where, and the likely mistake."""

import numpy as np
import pytest
import torch

from utils.checks import (
    CheckFailure,
    expect,
    expect_close,
    expect_device,
    expect_dtype,
    expect_equal,
    expect_gradients,
    expect_no_warnings,
    expect_runs,
    expect_shape,
    relative_error,
    show,
)
from utils.checks.perceptron import miscounts, mistakes_per_epoch, record_updates


def failure(fn, *args, **kwargs) -> str:
    with pytest.raises(CheckFailure) as info:
        fn(*args, **kwargs)
    return str(info.value)


# ----------------------------------------------------------------------------- expect_close
def test_close_accepts_equal_values_of_any_numeric_type_and_container():
    expect_close(np.array([0, 1, 1]), [0.0, 1.0, 1.0], "ints vs floats")
    expect_close(np.float32([0.1, 0.2]), [0.1, 0.2], "float32", rtol=1e-6)
    expect_close(torch.tensor([1.0, 2.0]), np.array([1.0, 2.0]), "tensor")
    expect_close(0.5, 0.5, "scalar")


def test_close_names_count_index_expected_and_got():
    message = failure(expect_close, np.array([0, 1, 1]), [0, 0, 1], "step(z) for z = [-2, 0, 3]")
    assert message.startswith("step(z) for z = [-2, 0, 3]: 1 of 3 values differ")
    assert "at index 1: expected 0, got 1" in message
    assert "Likely mistake" not in message


def test_close_names_matching_mistake_only():
    mistakes = {"used >=": [0, 1, 1], "inverted": [1, 1, 0]}
    message = failure(expect_close, np.array([0, 1, 1]), [0, 0, 1], "step", mistakes=mistakes)
    assert message.endswith("Likely mistake: used >=")
    message = failure(expect_close, np.array([5, 5, 5]), [0, 0, 1], "step", mistakes=mistakes)
    assert "Likely mistake" not in message


def test_close_predicate_mistakes_and_broken_predicates_do_not_crash():
    mistakes = {"boom": lambda got: 1 / 0, "negative": lambda got: np.all(np.asarray(got) < 0)}
    message = failure(expect_close, np.array([-1.0]), [1.0], "x", mistakes=mistakes)
    assert message.endswith("Likely mistake: negative")


def test_close_reports_shape_mismatch_and_none_and_nan():
    assert "expected shape (3,), got shape (3, 1)" in failure(
        expect_close, np.zeros((3, 1)), np.zeros(3), "b")
    assert "Is a `return` statement missing?" in failure(expect_close, None, [1], "f(x)")
    assert "1 of 2 values differ" in failure(expect_close, np.array([1.0, np.nan]), [1.0, 2.0], "x")
    assert "expected numbers" in failure(expect_close, "abc", [1.0], "x")


def test_close_shows_big_arrays_compactly():
    message = failure(expect_close, np.zeros(1000), np.ones(1000), "big")
    assert "(shape (1000,))" in message and len(message) < 500


def test_close_compares_gpu_style_tensors_on_cpu():
    tensor = torch.tensor([[1.0, 2.0]], requires_grad=True) * 1
    expect_close(tensor, [[1.0, 2.0]], "a tensor that requires grad")


# ----------------------------------------------------------------------------- others
def test_equal_for_lists_and_scalars():
    expect_equal([1, 0], [1, 0], "history")
    expect_equal(np.array([1, 0]), [1, 0], "history as an array")
    message = failure(expect_equal, [np.int64(1), np.int64(1)], [1, 0], "history",
                      mistakes={"not reset": [1, 1]})
    assert "expected [1, 0], got [1, 1]" in message and message.endswith("not reset")
    assert "got None" in failure(expect_equal, None, [1], "history")


def test_expect_with_detail_and_hint():
    expect(True, "anything")
    message = failure(expect, False, "accuracy", "got 1.5", hint="divide by n")
    assert message == "accuracy: got 1.5\nLikely mistake: divide by n"


def test_shape_with_wildcards():
    expect_shape(np.zeros((4, 3)), (None, 3), "X")
    assert "expected shape (any, 2), got shape (4, 3)" in failure(expect_shape, np.zeros((4, 3)), (None, 2), "X")
    expect_shape(torch.zeros(2, 5), (2, 5), "tensor")


def test_dtype_kinds():
    expect_dtype(np.array([1, 0]), "number", "step")
    expect_dtype(np.array([1.0]), "float", "x")
    expect_dtype(torch.tensor([1]), "integer", "labels")
    message = failure(expect_dtype, np.array([True]), "number", "step", hint="use 0/1")
    assert "got dtype bool" in message and "Likely mistake: use 0/1" in message
    assert "got dtype torch.bool" in failure(expect_dtype, torch.tensor([True]), "number", "step")
    assert "got dtype int64" in failure(expect_dtype, np.array([1]), "float", "x")


def test_device_check_on_meta():
    expect_device(torch.zeros(2, device="meta"), "meta", "W1")
    message = failure(expect_device, torch.zeros(2), "meta", "W1")
    assert "expected a tensor on meta, got one on cpu" in message
    assert "device=" in message
    assert "expected a torch tensor" in failure(expect_device, np.zeros(2), "cpu", "W1")
    assert "shape=(2,)" in show(torch.zeros(2, device="meta"))


def test_runs_returns_result_or_explains_crash():
    assert expect_runs(lambda x: x + 1, 1, what="f(1)") == 2

    def scalar_only(z):
        if z > 0:
            return 1
        return 0

    message = failure(expect_runs, scalar_only, np.array([1.0, -1.0]), what="step(z)",
                      hints={"truth value": "compare the whole array at once"})
    assert message.startswith("step(z): raised ValueError")
    assert "at line" in message and "scalar_only" in message
    assert message.endswith("Likely mistake: compare the whole array at once")


def test_runs_says_not_answered_for_the_template():
    def template():
        raise NotImplementedError()

    assert "not answered yet" in failure(expect_runs, template, what="step(z)")


def test_runs_reports_a_library_not_implemented_error_as_a_crash():
    # torch raises NotImplementedError, with a message, for what a device cannot run: the
    # student did answer, so "not answered yet" would be wrong.
    def masked(y_hat):
        return y_hat[y_hat > 0]

    message = failure(expect_runs, masked, torch.zeros(2, device="meta"), what="masked(y_hat)")
    assert "not answered" not in message and "raised NotImplementedError" in message


def test_runs_lets_check_failures_through_unchanged():
    def inner():
        expect(False, "inner check")

    assert failure(expect_runs, inner, what="outer") == "inner check"


def test_no_warnings_catches_overflow_but_allows_underflow():
    naive = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    message = failure(expect_no_warnings, naive, np.array([-1000.0]), what="sigmoid(-1000)",
                      hint="use a stable form")
    assert "overflow" in message and message.endswith("use a stable form")
    stable = lambda z: np.exp(-np.logaddexp(0, -z))  # noqa: E731
    expect_no_warnings(stable, np.array([-1000.0, 1000.0]), what="sigmoid")
    underflow = lambda z: np.exp(-z)  # noqa: E731
    expect_no_warnings(underflow, np.array([1000.0]), what="exp(-1000)")


# ----------------------------------------------------------------------------- gradients
def test_relative_error_is_scale_free_and_zero_safe():
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert relative_error([1.0, 2.0], [1.0, 2.0]) == 0.0
    assert relative_error([1.0], [-1.0]) == pytest.approx(1.0)
    assert relative_error(1e-8 * np.ones(4), 1.0001e-8 * np.ones(4)) < 1e-4


def test_gradients_match_and_mismatch():
    expected = {"W": np.ones((2, 3)), "b": np.zeros(2)}
    expect_gradients({"W": np.ones((2, 3)), "b": np.zeros(2), "extra": 1}, expected, "backward")
    message = failure(expect_gradients, {"W": np.ones((2, 3)) * 5, "b": np.zeros(2)}, expected,
                      "backward", mistakes={"missing 1/N": {"W": np.ones((2, 3)) * 5}})
    assert "relative error above 1e-06 for W" in message and message.endswith("missing 1/N")
    assert "missing gradients for ['b']" in failure(expect_gradients, {"W": np.ones((2, 3))}, expected, "g")
    assert "should have shape (2,)" in failure(
        expect_gradients, {"W": np.ones((2, 3)), "b": np.zeros((5, 2))}, expected, "g")
    assert "expected a dict" in failure(expect_gradients, [1], expected, "g")


# ----------------------------------------------------------------------------- perceptron probes
class _Model:
    def __init__(self, errors):
        self._errors = iter(errors)

    def update(self, x, y, lr):
        return next(self._errors)


def test_record_updates_and_count_per_epoch():
    model = _Model([1, 0, -1, 0, 0, 0])
    errors = record_updates(model)
    for _ in range(6):
        model.update(None, None, 0.1)
    assert errors == [1, 0, -1, 0, 0, 0]
    assert mistakes_per_epoch(errors, 3) == [2, 0]
    wrong = miscounts(errors, 3)
    assert list(wrong.values()) == [[2, 2], [0, 0]]
    assert mistakes_per_epoch([np.array([1.0]), np.array(0.0)], 1) == [1, 0]


def test_an_unanswered_function_shows_as_one_line_naming_it():
    from utils.checks.assertions import one_line_error

    def relu(z):
        raise NotImplementedError()

    try:
        relu(1)
    except NotImplementedError as exc:
        line = one_line_error(type(exc), exc, exc.__traceback__)
    assert line == ("NotImplementedError: not answered yet: `relu` still says `raise "
                    "NotImplementedError()`; replace it with your code.")
    failure = CheckFailure("f(x): expected 1, got 2")
    assert one_line_error(CheckFailure, failure, None) == "CheckFailure: f(x): expected 1, got 2"
