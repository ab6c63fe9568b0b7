"""utils.checks.isolation: a test runs with the course's dependencies, and says when the
student's own differ, without blaming the function under test."""

import time

import numpy as np
import pytest

from utils.checks import CheckFailure, expect_close
from utils.checks.isolation import end_to_end, using_course


def course_double(x):
    return 2 * x


class Counter:
    def __init__(self):
        self.n = 0

    def bump(self, k):
        self.n += k
        return self.n


def course_bump(self, k):
    self.n += k
    return self.n


COURSE = {"double": (course_double, "test_double"), "Counter.bump": (course_bump, "test_bump")}


def test_a_function_is_swapped_for_the_block_and_put_back():
    def wrong_double(x):
        return 3 * x
    ns = {"double": wrong_double}
    with using_course(ns, COURSE, "double"):
        assert ns["double"](np.array([1.0]))[0] == 2.0
    assert ns["double"] is wrong_double


def test_put_back_also_when_the_block_raises_or_is_interrupted():
    ns = {"double": course_double}
    original = ns["double"]
    for error in (ValueError("boom"), KeyboardInterrupt()):
        with pytest.raises(type(error)):
            with using_course(ns, COURSE, "double"):
                raise error
        assert ns["double"] is original


def test_a_method_is_swapped_on_the_students_class_and_put_back():
    class Student(Counter):
        def bump(self, k):
            self.n -= k  # wrong sign
            return self.n
    own = Student.__dict__["bump"]
    with using_course({"Counter": Student}, COURSE, "Counter.bump"):
        c = Student()
        assert c.bump(2) == 2
    assert Student.__dict__["bump"] is own


def test_an_inherited_method_is_removed_again_not_left_on_the_class():
    class Student(Counter):
        pass
    with using_course({"Counter": Student}, COURSE, "Counter.bump"):
        Student().bump(1)
    assert "bump" not in Student.__dict__


def test_a_disagreeing_dependency_adds_one_line_to_a_failure():
    ns = {"double": lambda x: 3 * x}
    with pytest.raises(CheckFailure) as failed:
        with using_course(ns, COURSE, "double"):
            expect_close(ns["double"](1.0) + 1, 4.0, "f(1)")  # the function under test is wrong
    message = str(failed.value)
    assert message.startswith("f(1)") and "your `double` differs" in message and "test_double" in message


def test_a_disagreeing_dependency_is_a_printed_note_when_the_test_passes(capsys):
    ns = {"double": lambda x: 3 * x}
    with using_course(ns, COURSE, "double"):
        expect_close(ns["double"](1.0), 2.0, "f(1)")
    assert "your `double` differs" in capsys.readouterr().out


def test_a_method_that_changes_its_object_differently_disagrees(capsys):
    class Student(Counter):
        def bump(self, k):
            return self.n + k  # right result, but the count is not kept
    with using_course({"Counter": Student}, COURSE, "Counter.bump"):
        Student().bump(1)
    assert "your `bump` differs" in capsys.readouterr().out


def test_an_agreeing_correct_variant_says_nothing(capsys):
    ns = {"double": lambda x: x + x}
    with using_course(ns, COURSE, "double"):
        ns["double"](np.float32(1.5))
    assert capsys.readouterr().out == ""


def test_a_dependency_that_hangs_or_raises_is_a_disagreement_not_a_hang(capsys):
    def hangs(x):
        while True:
            time.sleep(0.01)
    for own in (hangs, lambda x: 1 / 0):
        ns = {"double": own}
        start = time.perf_counter()
        with using_course(ns, COURSE, "double"):
            ns["double"](1.0)
        assert time.perf_counter() - start < 10
        assert "your `double` differs" in capsys.readouterr().out


def test_an_unanswered_dependency_is_not_reported_as_different(capsys):
    """A dependency the student has not written yet (the template's NotImplementedError) still
    differs; the note says so in the same words, and the test under test is graded alone."""
    def unanswered(x):
        raise NotImplementedError()
    ns = {"double": unanswered}
    with using_course(ns, COURSE, "double"):
        assert ns["double"](1.0) == 2.0
    assert "see test_double" in capsys.readouterr().out


# ----------------------------------------------------------------------------- torch
torch = pytest.importorskip("torch")


def course_pick(y_hat, y):
    """A loss that needs the graph: the course's version returns a differentiable tensor."""
    return -torch.log(y_hat[torch.arange(len(y)), y]).mean()


TORCH_COURSE = {"pick": (course_pick, "test_pick"), "double": (course_double, "test_double")}


def test_graph_inputs_and_outputs_are_compared_detached(capsys):
    """Scores that require grad (not deep-copyable) are kept detached, a differentiable result
    is compared by value: an agreeing version says nothing, the graph still works in the block."""
    ns = {"pick": lambda y_hat, y: -torch.log(y_hat.gather(1, y[:, None])).mean()}
    logits = torch.randn(4, 3, requires_grad=True)
    with using_course(ns, TORCH_COURSE, "pick"):
        loss = ns["pick"](torch.softmax(logits, dim=1), torch.tensor([0, 2, 1, 1]))
        loss.backward()
    assert logits.grad is not None
    assert capsys.readouterr().out == ""
    ns = {"pick": lambda y_hat, y: -torch.log(y_hat[torch.arange(len(y)), y]).sum()}  # summed
    with using_course(ns, TORCH_COURSE, "pick"):
        ns["pick"](torch.softmax(logits, dim=1), torch.tensor([0, 2, 1, 1]))
    assert "your `pick` differs" in capsys.readouterr().out


def test_meta_tensors_are_compared_by_shape(capsys):
    for own, differs in ((lambda x: x + x, False), (lambda x: x.sum(), True)):
        ns = {"double": own}
        with using_course(ns, TORCH_COURSE, "double"):
            ns["double"](torch.zeros(2, 3, device="meta"))
        assert ("your `double` differs" in capsys.readouterr().out) is differs


def test_the_student_version_is_compared_with_the_other_course_versions_in_place(capsys):
    """A student's `quadruple` that is right but calls their wrong `double` is not reported."""
    ns = {"double": lambda x: 3 * x}
    course = {**COURSE, "quadruple": (lambda x: 4 * x, "test_quadruple")}
    ns["quadruple"] = lambda x: ns["double"](ns["double"](x))
    with using_course(ns, course, "quadruple", "double"):
        ns["quadruple"](1.0)
    out = capsys.readouterr().out
    assert "`quadruple` differs" not in out


def test_shared_state_of_recorded_inputs_stays_shared_in_the_copies(capsys):
    """A model and an updater that share parameters (a training loop's inputs) are copied
    together, so the student's version replays the call from the same starting point."""
    class Model:
        def __init__(self, w):
            self.w = w

        def __call__(self, x):
            return x * self.w

    class Step:
        def __init__(self, w):
            self.w = w

        def __call__(self):
            with torch.no_grad():
                self.w -= 0.5 * self.w.grad
                self.w.grad = None

    def course_loop(model, step):
        loss = model(torch.ones(3)).sum()
        loss.backward()
        step()
        return float(model(torch.ones(3)).detach().sum())

    def own_loop(model, step):
        (model(torch.ones(3)) ** 1).sum().backward()
        step()
        return float(model(torch.ones(3)).detach().sum())

    w = torch.ones(3, requires_grad=True)
    ns = {"loop": own_loop}
    with using_course(ns, {"loop": (course_loop, "test_loop")}, "loop"):
        ns["loop"](Model(w), Step(w))
    assert capsys.readouterr().out == ""


def test_end_to_end_names_the_functions_it_ran_in_a_failure():
    class Model(Counter):
        pass

    class Unused:
        pass
    ns = {"Model": Model, "Unused": Unused}
    exec("def relu(x):\n    return x\n\ndef net(x):\n    return relu(x)\n\ndef unused(x):\n    return x\n", ns)
    own = dict(ns)
    with pytest.raises(CheckFailure) as failed:
        with end_to_end(ns, "Model", "Unused", "net", "relu", "unused", "missing"):
            ns["Model"]()
            expect_close(ns["net"](1.0), 2.0, "the pipeline")
    message = str(failed.value)
    assert message.startswith("the pipeline")
    assert "ran your `Model`, `net`, `relu`:" in message
    assert all(word not in message for word in ("Unused", "unused", "missing"))
    assert all(ns[name] is own[name] for name in ("net", "relu", "unused"))
    assert "__init__" not in Model.__dict__ and Model().n == 0


def test_end_to_end_leaves_a_passing_test_and_other_errors_alone(capsys):
    ns = {"double": course_double}
    with end_to_end(ns, "double"):
        ns["double"](1.0)
    with pytest.raises(ZeroDivisionError):
        with end_to_end(ns, "double"):
            ns["double"](1 / 0)
    assert ns["double"] is course_double and capsys.readouterr().out == ""


def test_a_course_class_is_swapped_in_as_it_is_and_put_back(capsys):
    """A student's model built from their own (wrong) layer class is tested with the course's."""
    class CourseLayer:
        def __init__(self, k):
            self.k = k

    class WrongLayer:
        def __init__(self, k):
            self.k = -k
    ns = {"Layer": WrongLayer}
    with using_course(ns, {"Layer": (CourseLayer, "test_Layer")}, "Layer"):
        assert isinstance(ns["Layer"](2), CourseLayer) and ns["Layer"](2).k == 2
    assert ns["Layer"] is WrongLayer and capsys.readouterr().out == ""

