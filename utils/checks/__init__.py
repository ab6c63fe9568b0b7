"""What the notebooks' test cells call.

Every check raises :class:`CheckFailure` (an ``AssertionError``, so nbgrader counts it as a
failed test) with a message written for the student: what was checked, on which input, what
was expected, what came out, where they differ, and -- when the output matches a known wrong
formula or behaviour -- the likely mistake in one plain sentence.

Known mistakes are recognised by *probing* the student's function (its output is compared
with what a known bug would give, or it is called twice, or fed extreme input), never by
reading its source. A test cell passes ``mistakes={sentence: wrong_output_or_predicate}``.

Notebook-specific probes (the wrong outputs of typical bugs) live beside this module, one
module per notebook: ``utils.checks.perceptron``, ``utils.checks.numpy_mlp``, ... (04's,
``utils.checks.torch_nn``, is a package with a module per part of the notebook).
"""

from utils.checks.assertions import (
    CheckFailure,
    expect,
    expect_close,
    expect_dtype,
    expect_equal,
    expect_gradients,
    expect_no_warnings,
    expect_runs,
    expect_shape,
    expect_device,
    relative_error,
    show,
)

__all__ = [
    "CheckFailure",
    "expect",
    "expect_close",
    "expect_device",
    "expect_dtype",
    "expect_equal",
    "expect_gradients",
    "expect_no_warnings",
    "expect_runs",
    "expect_shape",
    "relative_error",
    "show",
]
