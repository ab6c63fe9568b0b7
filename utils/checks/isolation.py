"""One bug, one deduction: grade a function with the course's versions of the functions it calls.

``update`` calls ``predict``, which calls ``step``; a test of ``update`` that ran the student's
own ``step`` would fail a correct ``update`` whenever ``step`` is wrong, and blame the wrong
function. Inside ``using_course(namespace, course, "step", "Perceptron.predict")`` the named
dependencies are the course's: a module-level name is replaced in the notebook's namespace
(``globals()`` of the test cell), a ``Class.method`` on the student's class. Everything is put
back when the block ends, whether it returns, raises or is interrupted (a cell's time limit).

The student's own versions are not forgotten: the first few calls' inputs are kept, and at
the end of the block the student's version is run on them and compared with the course's
answers. Where they differ, one line is added -- to the failure message if the block failed,
or printed as a note if it passed -- naming the dependency and the test that grades it::

    note: your `step` differs from the course's on these inputs (see test_step); this test
    used the course's `step`, so its verdict is about `update` only

A probe module lists the course's versions as ``{name: (function, test_id)}`` (``COURSE`` in
``utils.checks.perceptron``, for instance); the course's functions there are references the
checks already compare with, never a copy of a solution cell.

Torch inputs that are part of a graph (scores that require grad) are kept detached, and
results are compared detached, on any device (on ``meta``, where there are no values, by
shape). The student's version is compared while the block's other course versions are still
in place, so a note names the dependency that differs, not one that merely calls it.

A class (``"MyLinear"``, whose course version is a class) is swapped in as it is, without
recording: its instances are random, so there is nothing to compare; its own test grades it.

An end-to-end test (training on real data) runs the student's own functions on purpose;
:func:`end_to_end` adds to its failure one line naming those the test ran.
"""

from __future__ import annotations

import copy
import signal
import threading
import types
from collections.abc import Callable, Mapping, MutableMapping
from contextlib import contextmanager
from typing import Any

import numpy as np

from utils.checks.assertions import CheckFailure, _is_tensor

Course = Mapping[str, tuple[Callable, str]]

RECORDED_CALLS = 3       # calls per dependency whose inputs are kept for the comparison
COMPARE_SECONDS = 2.0    # the student's version may take this long per recorded call


def differs_note(name: str, test_id: str) -> str:
    short = name.split(".")[-1]
    return (f"note: your `{short}` differs from the course's on these inputs (see {test_id}); "
            f"this test used the course's `{short}`, so its verdict is not about `{short}`")


class _Recorder:
    """The course's version of one dependency, keeping the inputs and outputs of its first calls."""

    def __init__(self, course_fn: Callable, is_method: bool, name: str = ""):
        self.course_fn = _named(course_fn, name) if name else course_fn
        self.is_method = is_method
        self.calls: list[tuple[tuple, dict, Any, Any]] = []  # (args, kwargs, result, self after)
        self.recording = True

    def __call__(self, *args, **kwargs):
        keep = self.recording and len(self.calls) < RECORDED_CALLS
        if keep:
            before = _copy((args, kwargs))
        result = self.course_fn(*args, **kwargs)
        if keep and before is not None:
            after = _copy(_state(args[0])) if self.is_method and args else None
            self.calls.append((*before, _copy(result), after))
        return result

    def as_method(self):
        recorder = self

        def method(this, *args, **kwargs):
            return recorder(this, *args, **kwargs)
        return method


@contextmanager
def using_course(namespace: MutableMapping[str, Any], course: Course, *names: str):
    """Run the block with the course's versions of ``names`` in ``namespace`` (see the module).

    names
        ``"step"`` (a function in ``namespace``) or ``"Perceptron.predict"`` (a method of the
        class ``namespace["Perceptron"]``). Each must be in ``course``.
    """
    undo: list[Callable[[], None]] = []
    recorders: dict[str, tuple[_Recorder, Any]] = {}
    try:
        for name in names:
            course_fn, _ = course[name]
            if "." in name:
                class_name, method = name.split(".", 1)
                cls = namespace.get(class_name)
                if not isinstance(cls, type):
                    continue  # no such class yet: the test's own checks say so
                own = cls.__dict__.get(method, _MISSING)
                recorder = _Recorder(course_fn, is_method=True, name=name)
                setattr(cls, method, recorder.as_method())
                undo.append(_restore_attribute(cls, method, own))
                recorders[name] = (recorder, own)
            elif isinstance(course_fn, type):
                own = namespace.get(name, _MISSING)
                namespace[name] = course_fn
                undo.append(_restore_item(namespace, name, own))
            else:
                own = namespace.get(name, _MISSING)
                recorder = _Recorder(course_fn, is_method=False, name=name)
                namespace[name] = recorder
                undo.append(_restore_item(namespace, name, own))
                recorders[name] = (recorder, own)
        failure: BaseException | None = None
        try:
            yield
        except CheckFailure as exc:
            failure = exc
        for recorder, _ in recorders.values():
            recorder.recording = False
        # Compared with the other course versions still in place: a student's `train` is
        # compared on its own merits, not through their `train_epoch`.
        notes = [differs_note(name, course[name][1]) for name, (recorder, own) in recorders.items()
                 if own is not _MISSING and own is not None and _disagrees(recorder, own)]
    finally:
        for put_back in reversed(undo):
            put_back()
    if failure is not None:
        if notes:
            failure.args = ("\n".join([str(failure), *notes]),)
        raise failure
    for note in notes:
        print(note)


_MISSING = object()


def _named(fn: Callable, name: str) -> Callable:
    """A copy of the function ``fn`` called ``name``: an error in calling it (a wrong number of
    arguments) then names the student's function, not the course's ``relu_reference``."""
    if not isinstance(fn, types.FunctionType):
        return fn
    named = types.FunctionType(fn.__code__, fn.__globals__, name.split(".")[-1], fn.__defaults__,
                               fn.__closure__)
    named.__kwdefaults__, named.__qualname__ = fn.__kwdefaults__, name
    return named


def _restore_item(namespace, name, own):
    def put_back():
        if own is _MISSING:
            namespace.pop(name, None)
        else:
            namespace[name] = own
    return put_back


def _restore_attribute(cls, name, own):
    def put_back():
        if own is _MISSING:
            try:
                delattr(cls, name)
            except AttributeError:
                pass
        else:
            setattr(cls, name, own)
    return put_back


def _disagrees(recorder: _Recorder, own: Callable) -> bool:
    """Whether the student's ``own`` version gives other results on the recorded calls."""
    for args, kwargs, expected, state_after in recorder.calls:
        args, kwargs = _copy((args, kwargs)) or (args, kwargs)
        try:
            with _time_limit(COMPARE_SECONDS):
                got = own(*args, **kwargs)
        except _TimeUp:
            return True
        except Exception:  # noqa: BLE001 -- any failure of theirs is a disagreement
            return True
        if not _same(got, expected):
            return True
        if recorder.is_method and args and not _same(_state(args[0]), state_after):
            return True
    return False


def _state(obj: Any) -> Any:
    """What a method may change on its object: its instance attributes."""
    return dict(vars(obj)) if hasattr(obj, "__dict__") else None


def _copy(value: Any) -> Any:
    """A deep copy; tensors inside a graph (which torch will not deep-copy) come out detached."""
    memo = {id(t): t.detach().clone() for t in _graph_tensors(value)}
    try:
        return copy.deepcopy(value, memo)
    except Exception:  # noqa: BLE001 -- an uncopyable input (a generator): no comparison for it
        return None


def _graph_tensors(value: Any, seen: set | None = None) -> list:
    """The non-leaf tensors in ``value``, through containers and objects' attributes."""
    seen = set() if seen is None else seen
    if id(value) in seen:
        return []
    seen.add(id(value))
    if _is_tensor(value):
        return [] if value.is_leaf else [value]
    if isinstance(value, Mapping):
        children = list(value.values())
    elif isinstance(value, (list, tuple, set, frozenset)):
        children = list(value)
    elif hasattr(value, "__dict__") and not isinstance(value, type) and not callable(value):
        children = list(vars(value).values())
    else:
        return []
    return [t for child in children for t in _graph_tensors(child, seen)]


def _same(a: Any, b: Any) -> bool:
    """Equal up to float tolerance, through containers, arrays and tensors of any device."""
    if _is_tensor(a) or _is_tensor(b) or isinstance(a, (np.ndarray, np.generic, float, int)) \
            or isinstance(b, (np.ndarray, np.generic, float, int)):
        if _on_meta(a) or _on_meta(b):  # no values to compare: only the shapes
            return _on_meta(a) and _on_meta(b) and tuple(a.shape) == tuple(b.shape)
        try:
            x = a.detach().cpu().numpy() if _is_tensor(a) else np.asarray(a)
            y = b.detach().cpu().numpy() if _is_tensor(b) else np.asarray(b)
            if x.shape != y.shape:
                return False
            if x.dtype.kind in "biufc" and y.dtype.kind in "biufc":
                return bool(np.allclose(x.astype(np.float64), y.astype(np.float64),
                                        rtol=1e-4, atol=1e-6, equal_nan=True))
            return bool(np.array_equal(x, y))
        except Exception:  # noqa: BLE001 -- not comparable as arrays
            return False
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001
        return False


def _on_meta(x: Any) -> bool:
    return _is_tensor(x) and x.device.type == "meta"


class _TimeUp(KeyboardInterrupt):
    """The student's version ran past :data:`COMPARE_SECONDS` on a recorded call."""


@contextmanager
def _time_limit(seconds: float):
    """Interrupt the block after ``seconds`` (main thread only; elsewhere no limit)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def time_up(signum, frame):
        raise _TimeUp()

    previous = signal.signal(signal.SIGALRM, time_up)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextmanager
def end_to_end(namespace: MutableMapping[str, Any], *names: str):
    """Run the block (an end-to-end test) with the student's own ``names``, noting which of them
    it calls (a function) or instantiates (a class); a :class:`CheckFailure` gains one line
    naming those, since a mistake in any of them may be what failed it."""
    used: dict[str, bool] = {}
    undo: list[Callable[[], None]] = []
    try:
        for name in names:
            own = namespace.get(name, _MISSING)
            if own is _MISSING or not callable(own):
                continue
            used[name] = False
            if isinstance(own, type):
                own_init = own.__dict__.get("__init__", _MISSING)
                undo.append(_restore_attribute(own, "__init__", own_init))
                own.__init__ = _counting(own.__init__, name, used)
            else:
                namespace[name] = _counting(own, name, used)
                undo.append(_restore_item(namespace, name, own))
        try:
            yield
        except CheckFailure as exc:
            ran = [f"`{name}`" for name in names if used.get(name)]
            if ran:
                exc.args = (f"{exc}\nthis end-to-end test ran your {', '.join(ran)}: a mistake in "
                            f"any of them can fail it (their own tests say which)",)
            raise
    finally:
        for put_back in reversed(undo):
            put_back()


def _counting(fn: Callable, name: str, used: dict[str, bool]) -> Callable:
    def counted(*args, **kwargs):
        used[name] = True
        return fn(*args, **kwargs)
    counted.__wrapped__ = fn
    return counted
