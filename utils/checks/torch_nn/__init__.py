"""Probes for 04_torch_nn's tests: small scenarios whose right answer is known, run on the
student's ``nn.Module``s and training functions, and the wrong answers of typical bugs.

Nothing here reads the student's source. Each ``expect_*`` function builds a scenario, calls
the student's code and observes what it did from the outside:

- **Modules** (``MyLinear``, ``MLP``; :mod:`.layers`) are compared with a float64 reference
  computed from their own parameters. The MLP's layers are found by their shapes, so any module
  structure is all the same to the tests. Device bugs show on PyTorch's ``meta`` device.
- **Training functions** (``train_epoch``, ``evaluate``, ``fit``; :mod:`.training`) get a
  :class:`ProbeNet`, a tiny classifier that records, for every forward call, whether it was in
  train mode, whether autograd was on and whether its input had been moved with
  ``.to(device)``; a :class:`RecordingSGD` that records the gradients it sees at each
  ``step()``; and loaders of hand-made batches (all in :mod:`.recording`, which also explains
  how a move to the device is seen without a GPU).
- **Checkpoints** (``save_checkpoint``, ``load_checkpoint``; :mod:`.checkpoints`) are opened
  with ``torch.load(..., weights_only=True)`` and searched for a model and an optimizer state,
  and restored into a fresh model and optimizer that must then take exactly the same next step
  as the originals.

- **One bug, one deduction**: :data:`COURSE` lists the course's versions of the graded
  names that other graded code calls (``MyLinear`` in an MLP, ``train_epoch`` and ``evaluate``
  in ``fit``); a test runs its function with them (:func:`using_course`, see
  :mod:`utils.checks.isolation`), and the end-to-end test names the student's parts it ran
  (:func:`end_to_end`).

:mod:`._common` holds what they all use (failing a check, float64 references, tolerances per
device, :func:`accuracy`). The notebooks call everything through this package
(``from utils.checks import torch_nn as probes``), so it re-exports every name they use.
"""

from __future__ import annotations

from utils.checks import isolation
from utils.checks.torch_nn._common import accuracy
from utils.checks.torch_nn.checkpoints import (
    _TRIPPED,  # the tests clear and read it; _tripwire appends to this very list
    _saved_as_if_on_cuda,
    _Tripwire,
    expect_checkpoint_file,
    expect_checkpoint_roundtrip,
    expect_load_maps_to_device,
    expect_load_refuses_pickled_objects,
)
from utils.checks.torch_nn.layers import (
    DEVICE_ERRORS,
    DEVICE_HINT,
    NONLINEARITIES,
    LinearReference,
    count_mistakes,
    expect_linear_gradients,
    expect_mlp_forward,
    expect_on_meta,
    expect_parameters,
    expect_random_init,
    linear_mistakes,
    linear_reference,
    mlp_layers,
    mlp_mistakes,
    mlp_reference,
    parameter_count,
)
from utils.checks.torch_nn.recording import (
    BatchLoader,
    ForwardCall,
    ProbeLoss,
    ProbeNet,
    RecordingSGD,
    ScriptedOptimizer,
    Unmoved,
    _blobs,
    probe_batches,
    unmoved,
)
from utils.checks.torch_nn.training import (
    _MARGINS,
    _VAL_Y,
    _epoch_mean_mistakes,
    _nll,
    _reference_losses,
    _scripted_states,
    evaluate_reference,
    expect_batches_moved,
    expect_best_state,
    expect_epoch_loss,
    expect_evaluation,
    expect_fit_history,
    expect_fit_learns,
    expect_gradients_reset,
    expect_train_mode,
    expect_training_progress,
    train_epoch_reference,
)

# The private names above are the ones tests/test_checks_torch_nn.py reaches through the
# package; they are only read and called here. A test that patches one must patch the module
# that defines it, where the code looks it up.

__all__ = [
    "Unmoved",
    "ProbeNet",
    "RecordingSGD",
    "ProbeLoss",
    "BatchLoader",
    "probe_batches",
    "linear_reference",
    "linear_mistakes",
    "expect_parameters",
    "expect_linear_gradients",
    "expect_random_init",
    "mlp_layers",
    "mlp_reference",
    "mlp_mistakes",
    "parameter_count",
    "count_mistakes",
    "expect_mlp_forward",
    "expect_on_meta",
    "expect_epoch_loss",
    "expect_gradients_reset",
    "expect_train_mode",
    "expect_batches_moved",
    "expect_training_progress",
    "expect_evaluation",
    "expect_fit_history",
    "expect_best_state",
    "expect_fit_learns",
    "expect_checkpoint_file",
    "expect_checkpoint_roundtrip",
    "expect_load_maps_to_device",
    "expect_load_refuses_pickled_objects",
    "accuracy",
    "LinearReference",
    "train_epoch_reference",
    "evaluate_reference",
    "COURSE",
    "PIPELINE",
    "using_course",
    "end_to_end",
]

# The graded names that other graded code calls, with the test that grades each.
COURSE = {
    "MyLinear": (LinearReference, "test_MyLinear"),
    "train_epoch": (train_epoch_reference, "test_train_epoch"),
    "evaluate": (evaluate_reference, "test_evaluate"),
}
# What the end-to-end test (test_mnist_accuracy) runs of the student's.
PIPELINE = ("MLP", "MyLinear", "fit", "train_epoch", "evaluate")


def using_course(namespace, *names):
    """Run the block with the course's versions of ``names`` (keys of :data:`COURSE`)."""
    return isolation.using_course(namespace, COURSE, *names)


def end_to_end(namespace):
    """Run the end-to-end test's block; a failure names the student's parts it ran."""
    return isolation.end_to_end(namespace, *PIPELINE)
