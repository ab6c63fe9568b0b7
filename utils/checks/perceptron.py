"""Probes for 01_perceptron's tests: watch a student's training loop from the outside.

``train_perceptron`` may shuffle however it likes, so its exact mistake counts cannot be
predicted. What can be checked, whatever the order: the counts it reports agree with the
updates it made. :func:`record_updates` wraps ``model.update`` to see them.
"""

from __future__ import annotations

import numpy as np


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
