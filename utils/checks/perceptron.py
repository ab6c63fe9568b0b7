"""Probes for 01_perceptron's tests: watch a student's training loop from the outside, and the
course's versions of the functions that other graded functions call.

``train_perceptron`` may shuffle however it likes, so its exact mistake counts cannot be
predicted. What can be checked, whatever the order: the counts it reports agree with the
updates it made. :func:`record_updates` wraps ``model.update`` to see them.

``update`` calls ``predict``, which calls ``step``; ``train_perceptron`` calls ``update``. A test
runs its function with the course's versions of those (:data:`COURSE`, :func:`using_course`:
one bug, one deduction, see :mod:`utils.checks.isolation`), so that a wrong ``step`` costs
``test_step`` only.
"""

from __future__ import annotations

import numpy as np

from utils.checks import isolation


def record_updates(model) -> list:
    """Wrap ``model.update`` so that every error it returns is appended to the returned list.

    A loop that applies the rule inline, without calling ``update``, leaves the list empty;
    the tests then fall back to checks that need no recording.
    """
    errors: list = []
    update = model.update

    def recording_update(*args, **kwargs):
        error = update(*args, **kwargs)
        errors.append(error)
        return error

    model.update = recording_update
    return errors


def mistakes_per_epoch(errors: list, n_samples: int) -> list[int]:
    """The number of non-zero errors in each block of ``n_samples`` consecutive updates."""
    flat = [float(np.ravel(e)[0]) for e in errors]
    return [int(np.count_nonzero(flat[i:i + n_samples]))
            for i in range(0, len(flat), n_samples)]


def miscounts(errors: list, n_samples: int) -> dict[str, list]:
    """What the reported history would be under typical counting bugs."""
    flat = [float(np.ravel(e)[0]) for e in errors]
    epochs = [flat[i:i + n_samples] for i in range(0, len(flat), n_samples)]
    right = [int(np.count_nonzero(e)) for e in epochs]
    return {
        "the count is not reset at the start of each epoch: "
        "report each epoch's own number of mistakes": list(np.cumsum(right)),
        "the count adds up the errors y − ŷ, where +1 and −1 cancel: "
        "count the samples that were predicted wrong": [int(sum(e)) for e in epochs],
    }


# ----------------------------------------------------------------------------- one bug, one deduction
# The course's versions of the graded functions that other graded functions call, written plainly.
def step_reference(z):
    """1 where z > 0, else 0 (integers), for an array of any shape."""
    return (np.asarray(z) > 0).astype(int)


def predict_reference(self, X):
    """``Perceptron.predict``: step(X · w + b), for X of shape (n, d) or (d,)."""
    return step_reference(np.asarray(X) @ self.w + self.b)


def update_reference(self, x, y, lr):
    """``Perceptron.update``: the perceptron rule on one sample; returns the error y − ŷ."""
    error = y - predict_reference(self, x)
    self.w = self.w + lr * error * np.asarray(x)
    self.b = self.b + lr * error
    return error


# Each dependency with the test that grades it.
COURSE = {
    "step": (step_reference, "test_step"),
    "Perceptron.predict": (predict_reference, "test_predict"),
    "Perceptron.update": (update_reference, "test_update"),
}
# What the end-to-end test (test_blobs) runs of the student's.
PIPELINE = ("step", "Perceptron", "train_perceptron")


def using_course(namespace, *names):
    """Run the block with the course's versions of ``names`` (keys of :data:`COURSE`)."""
    return isolation.using_course(namespace, COURSE, *names)


def end_to_end(namespace):
    """Run the end-to-end test's block; a failure names the student's functions it ran."""
    return isolation.end_to_end(namespace, *PIPELINE)
