"""Checks with messages for students.

Each ``expect_*`` function returns quietly when the check holds and raises
:class:`CheckFailure` otherwise. Arguments shared by all of them:

what
    What was checked, with its input, as the student would say it:
    ``"step(z) for z = [-2, 0, 3]"``. It starts the failure message.
mistakes
    ``{sentence: wrong}``, the known bugs to recognise when the check fails. ``wrong`` is
    either the output the bug would give (compared with the same tolerance as the expected
    value) or a predicate ``wrong(got) -> bool``. The first match is named as the likely
    mistake. Only consulted on failure, so a wrong formula that happens to agree with the
    right one on some input never fails a correct solution.

Arrays may be NumPy arrays, torch tensors on any device (compared on the CPU), Python
numbers or nested lists.
"""

from __future__ import annotations

import os
import traceback
import warnings
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np


_CHECKS_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


class CheckFailure(AssertionError):
    """A test failed; the message says what was expected, what came out and, if known, why."""


Mistakes = Mapping[str, Any] | None


# ----------------------------------------------------------------------------- formatting
def show(x: Any, precision: int = 4, max_items: int = 12) -> str:
    """A compact, one-line rendering of a number, array or tensor for a message."""
    if _is_tensor(x):
        device = f", device={x.device}" if x.device.type != "cpu" else ""
        if x.device.type == "meta":
            return f"tensor(shape={tuple(x.shape)}, dtype={x.dtype}{device})"
        return f"tensor({show(x.detach().cpu().numpy(), precision, max_items)}{device})"
    if isinstance(x, np.ndarray):
        if x.dtype == object:
            return repr(x.tolist())
        if x.size > max_items:
            flat = np.array2string(x.ravel()[:max_items], precision=precision, separator=", ")
            return f"{flat[:-1]}, ...] (shape {x.shape})"
        return np.array2string(x, precision=precision, separator=", ").replace("\n", "")
    if isinstance(x, (float, np.floating)):
        return f"{float(x):.{precision}g}"
    if isinstance(x, np.integer):
        return str(int(x))
    if isinstance(x, (list, tuple)) and len(x) <= max_items:
        items = ", ".join(show(v, precision, max_items) for v in x)
        return f"[{items}]" if isinstance(x, list) else f"({items}{',' if len(x) == 1 else ''})"
    return repr(x)


def _is_tensor(x: Any) -> bool:
    # Checked by module name so that NumPy-only notebooks never pay for importing torch.
    return type(x).__module__.startswith("torch") and hasattr(x, "detach")


def _to_array(x: Any) -> np.ndarray:
    if _is_tensor(x):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def _raise(what: str, detail: str = "", hint: str | None = None) -> None:
    """Raise the failure ``what: detail``, followed by the likely mistake if one is known."""
    message = f"{what}: {detail}" if detail else what
    if hint:
        message += f"\nLikely mistake: {hint}"
    raise CheckFailure(message)


def _fail(what: str, detail: str, got: Any = None, mistakes: Mistakes = None,
          match: Callable[[Any, Any], bool] | None = None) -> None:
    _raise(what, detail, _likely_mistake(got, mistakes, match))


def _likely_mistake(got: Any, mistakes: Mistakes,
                    match: Callable[[Any, Any], bool] | None) -> str | None:
    for sentence, wrong in (mistakes or {}).items():
        try:
            if callable(wrong):
                hit = bool(wrong(got))
            else:
                hit = match(got, wrong) if match else False
        except Exception:  # a probe that cannot even be evaluated simply does not match
            hit = False
        if hit:
            return sentence
    return None


def _returned_none(what: str) -> None:
    _raise(what, "got None. Is a `return` statement missing?")


# ----------------------------------------------------------------------------- values
def _same_values(got: Any, wanted: Any, rtol: float, atol: float) -> bool:
    g, w = _to_array(got), _to_array(wanted)
    if g.shape != w.shape or g.dtype == object:
        return False
    return bool(np.allclose(g.astype(np.float64), w.astype(np.float64), rtol=rtol, atol=atol))


def expect_close(got: Any, expected: Any, what: str, *, rtol: float = 1e-5,
                 atol: float = 1e-8, mistakes: Mistakes = None) -> None:
    """``got`` has ``expected``'s shape and its values up to ``rtol``/``atol`` (NaN never matches)."""
    if got is None:
        _returned_none(what)
    g, e = _to_array(got), _to_array(expected)

    def match(got_, wrong):
        return _same_values(got_, wrong, rtol, atol)

    if g.dtype == object or not (np.issubdtype(g.dtype, np.number) or g.dtype == bool):
        _fail(what, f"expected numbers, got {show(got)} ({type(got).__name__})", got, mistakes, match)
    if g.shape != e.shape:
        _fail(what, f"expected shape {e.shape}, got shape {g.shape}", got, mistakes, match)
    g64, e64 = g.astype(np.float64), e.astype(np.float64)
    close = np.isclose(g64, e64, rtol=rtol, atol=atol)
    if close.all():
        return
    if g.size == 1:
        _fail(what, f"expected {show(e.ravel()[0])}, got {show(g.ravel()[0])}", got, mistakes, match)
    wrong = np.argwhere(~close)
    first = tuple(int(i) for i in wrong[0])
    where = list(first) if len(first) > 1 else first[0]
    detail = (f"{len(wrong)} of {g.size} values differ; first at index {where}: "
              f"expected {show(e64[first])}, got {show(g64[first])}"
              f"\n  expected: {show(e)}\n  got:      {show(g)}")
    _fail(what, detail, got, mistakes, match)


def expect_equal(got: Any, expected: Any, what: str, *, mistakes: Mistakes = None) -> None:
    """``got == expected`` exactly: for labels, counts, lists of counts, shapes, flags."""
    if got is None and expected is not None:
        _returned_none(what)

    def match(got_, wrong):
        return _equal(got_, wrong)

    if not _equal(got, expected):
        _fail(what, f"expected {show(expected)}, got {show(got)}", got, mistakes, match)


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, (np.ndarray, list, tuple)) or _is_tensor(a):
        try:
            x, y = _to_array(a), _to_array(b)
        except Exception:
            return False
        return x.shape == y.shape and bool(np.all(x == y))
    try:
        return bool(a == b)
    except Exception:
        return False


def expect(condition: bool, what: str, detail: str = "", *, hint: str | None = None) -> None:
    """A property that must hold, e.g. ``expect(0 <= acc <= 1, "accuracy", f"got {acc}")``."""
    if not condition:
        _raise(what, detail, hint)


# ----------------------------------------------------------------------------- structure
def expect_shape(got: Any, shape: tuple, what: str, *, mistakes: Mistakes = None) -> None:
    """``got.shape == shape``; ``None`` in ``shape`` accepts any size on that axis."""
    if got is None:
        _returned_none(what)
    actual = tuple(got.shape) if hasattr(got, "shape") else np.shape(got)
    ok = len(actual) == len(shape) and all(w is None or w == a for w, a in zip(shape, actual))
    if not ok:
        wanted = "(" + ", ".join("any" if s is None else str(s) for s in shape) + \
            ("," if len(shape) == 1 else "") + ")"
        _fail(what, f"expected shape {wanted}, got shape {actual}", got, mistakes)


_DTYPE_KINDS = {
    "float": ("floating-point", lambda k: k == "f"),
    "integer": ("integer", lambda k: k in "iu"),
    "number": ("integer or floating-point (not boolean)", lambda k: k in "iuf"),
}


def expect_dtype(got: Any, kind: str, what: str, *, hint: str | None = None) -> None:
    """``got``'s element type is of ``kind``: ``"float"``, ``"integer"`` or ``"number"``.

    Works for NumPy arrays and scalars, Python numbers and torch tensors.
    """
    if got is None:
        _returned_none(what)
    name, accepts = _DTYPE_KINDS[kind]
    if _is_tensor(got):
        k = "f" if got.is_floating_point() else ("b" if str(got.dtype) == "torch.bool" else "i")
        dtype_name = str(got.dtype)
    else:
        dtype = np.asarray(got).dtype
        k, dtype_name = dtype.kind, str(dtype)
    if not accepts(k):
        _raise(what, f"expected {name} values, got dtype {dtype_name}", hint)


def expect_device(got: Any, device: Any, what: str, *, hint: str | None = None) -> None:
    """The tensor ``got`` lives on ``device`` (``"cuda"`` matches any CUDA index)."""
    import torch

    if got is None:
        _returned_none(what)
    if not isinstance(got, torch.Tensor):
        _raise(what, f"expected a torch tensor, got {type(got).__name__}")
    wanted = torch.device(device)
    same = got.device.type == wanted.type and (wanted.index is None or got.device.index == wanted.index)
    if not same:
        _raise(what, f"expected a tensor on {wanted}, got one on {got.device}", hint or (
            "a tensor was created without device=...; make new tensors "
            "on the input's device (e.g. torch.zeros(..., device=X.device))."))


# ----------------------------------------------------------------------------- calling
def expect_runs(fn: Callable, *args: Any, what: str, hints: Mapping[str, str] | None = None,
                **kwargs: Any) -> Any:
    """Call ``fn(*args, **kwargs)`` and return its result; an exception becomes a failure.

    ``hints`` maps a piece of the error's text (or the exception's class name) to the
    likely mistake, e.g. ``{"truth value of an array": "step only handles scalars ..."}``.
    The message points at the line of the student's code that raised.
    """
    try:
        return fn(*args, **kwargs)
    except CheckFailure:
        raise
    except Exception as exc:  # any crash in student code is a failed check, not a broken test
        if is_unanswered(exc):
            _raise(what, "not answered yet; replace `raise NotImplementedError()` with your code.")
        text = f"{type(exc).__name__}: {exc}"
        failure = f"raised {text}{_where(exc)}"
        hint = next((sentence for needle, sentence in (hints or {}).items() if needle in text), None)
    _raise(what, failure, hint)


def is_unanswered(exc: BaseException) -> bool:
    """Whether ``exc`` is the template's bare ``raise NotImplementedError()``, rather than a
    library's NotImplementedError with a message (torch raises one for an operation that a
    device cannot run, e.g. boolean-mask indexing on ``meta``)."""
    return isinstance(exc, NotImplementedError) and not str(exc)


def _where(exc: BaseException) -> str:
    """' (line N of `name`: code)' for the deepest frame outside libraries and the checks (whose
    course versions of a function, run in the student's place, are not theirs to read)."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if "site-packages" not in f.filename and "/lib/python" not in f.filename
              and not f.filename.startswith(_CHECKS_DIR)]
    if not frames:
        return ""
    frame = frames[-1]
    code = f": {frame.line.strip()}" if frame.line else ""
    return f"\n  at line {frame.lineno} of `{frame.name}`{code}"


def expect_no_warnings(fn: Callable, *args: Any, what: str, hint: str | None = None,
                       **kwargs: Any) -> Any:
    """Call ``fn`` and fail if it overflows, divides by zero or emits a RuntimeWarning.

    Underflow (``exp(-1000) == 0``) is harmless and allowed.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with np.errstate(over="warn", divide="warn", invalid="warn", under="ignore"):
            result = expect_runs(fn, *args, what=what, **kwargs)
    runtime = [w for w in caught if issubclass(w.category, RuntimeWarning)]
    if runtime:
        _raise(what, f"emitted a warning: {runtime[0].message}", hint)
    return result


# ----------------------------------------------------------------------------- gradients
def relative_error(a: Any, b: Any) -> float:
    """``‖a − b‖ / (‖a‖ + ‖b‖)``: 0 for equal arrays, 1 for opposite ones.

    Norm-based rather than entry-wise, so that entries whose true gradient is ~0 do not
    turn rounding noise into a huge "relative" error.
    """
    a, b = _to_array(a).astype(np.float64), _to_array(b).astype(np.float64)
    denominator = np.linalg.norm(a) + np.linalg.norm(b)
    return 0.0 if denominator == 0 else float(np.linalg.norm(a - b) / denominator)


def expect_gradients(got: Mapping[str, Any], expected: Mapping[str, Any], what: str, *,
                     tol: float = 1e-6, mistakes: Mistakes = None) -> None:
    """Every gradient in ``expected`` is in ``got`` with its shape, within ``tol`` relative error.

    ``mistakes`` values are dicts of wrong gradients (matched when every one given is within
    ``1e-4`` relative error of the student's) or predicates on ``got``.
    """
    if got is None:
        _returned_none(what)

    def match(got_, wrong):
        return all(name in got_ and np.shape(_to_array(got_[name])) == np.shape(_to_array(g))
                   and relative_error(got_[name], g) < 1e-4 for name, g in wrong.items())

    if not isinstance(got, Mapping):
        _fail(what, f"expected a dict of gradients, got {type(got).__name__}")
    missing = [name for name in expected if name not in got]
    if missing:
        _fail(what, f"missing gradients for {missing} (got keys {sorted(got)})", got, mistakes, match)
    for name, e in expected.items():
        g_shape, e_shape = tuple(np.shape(_to_array(got[name]))), tuple(np.shape(_to_array(e)))
        if g_shape != e_shape:
            _fail(what, f"gradient {name!r} should have shape {e_shape} (like the parameter), "
                  f"got {g_shape}", got, mistakes, match)
    errors = {name: relative_error(got[name], e) for name, e in expected.items()}
    bad = {name: err for name, err in errors.items() if not err <= tol}
    if bad:
        listing = ", ".join(f"{name}: {err:.2e}" for name, err in bad.items())
        _fail(what, f"relative error above {tol:g} for {listing}", got, mistakes, match)


# ----------------------------------------------------------------------------- notebooks
def _show_without_traceback(shell, etype, value, tb, tb_offset=None):
    # A failed check is a message for the student, not a crash to debug: the test's own
    # code (possibly hidden) is no business of the output, so show the message alone. So is a
    # function still left unanswered, whichever cell calls it. Any other NotImplementedError
    # (a library's, with a message) is a crash like any other: its usual traceback.
    if issubclass(etype, NotImplementedError) and not is_unanswered(value):
        stb = shell.InteractiveTB.structured_traceback(etype, value, tb, tb_offset=tb_offset)
    else:
        stb = [one_line_error(etype, value, tb)]
    shell._showtraceback(etype, value, stb)


def one_line_error(etype, value, tb) -> str:
    """The one line a notebook shows for a failed check or an unanswered function."""
    if issubclass(etype, NotImplementedError) and is_unanswered(value):
        frames = traceback.extract_tb(tb)
        name = f"`{frames[-1].name}` " if frames and frames[-1].name != "<module>" else ""
        return (f"{etype.__name__}: not answered yet: {name}still says `raise "
                f"NotImplementedError()`; replace it with your code.")
    return f"{etype.__name__}: {value}"


def _install_notebook_display() -> None:
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is not None and hasattr(shell, "set_custom_exc"):
        shell.set_custom_exc((CheckFailure, NotImplementedError), _show_without_traceback)


_install_notebook_display()
