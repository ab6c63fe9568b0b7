"""Helpers for the MLP course notebooks.

One home for the code that several notebooks share, as in d2l's ``d2l`` package:

- ``utils.data``    MNIST / Fashion-MNIST from ``data/``, checksummed; in-memory batch iterator.
- ``utils.device``  device choice (cuda > mps > cpu, ``MLP_COURSE_DEVICE`` overrides) and seeding.
- ``utils.plots``   decision boundaries, training curves, image grids.
- ``utils.checks``  what the notebooks' test cells call: closeness, shape, dtype, device and
                    gradient checks whose failures say what differs, where, and the likely mistake.

Nothing is imported eagerly, so ``import utils`` stays cheap (no torch unless asked for).
"""
