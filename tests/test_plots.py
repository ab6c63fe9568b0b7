"""Tests of utils.plots, drawn off-screen with the Agg backend."""

import matplotlib

matplotlib.use("Agg")  # before pyplot is imported anywhere: no window, no display needed

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402
from matplotlib.contour import QuadContourSet  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.image import AxesImage  # noqa: E402

from utils.plots import (  # noqa: E402
    integer_xticks,
    plot_decision_boundaries_grid,
    plot_decision_boundary,
    plot_functions,
    plot_history,
    show_images,
    show_misclassified,
)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture
def blobs():
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal(-2, 0.5, (20, 2)), rng.normal(2, 0.5, (20, 2))])
    y = np.repeat([0, 1], 20)
    return X, y


def _contours(ax):
    return [c for c in ax.collections if isinstance(c, QuadContourSet)]


def _visible_images(fig):
    return [im for ax in fig.axes if ax.get_visible() for im in ax.get_images()]


# --------------------------------------------------------------------------------------
# Decision boundaries
# --------------------------------------------------------------------------------------
def test_decision_boundary_draws_regions_and_points(blobs):
    X, y = blobs
    calls = []

    def predict(points):
        calls.append(points.shape)
        return (points[:, 0] > 0).astype(int)

    ax = plot_decision_boundary(predict, X, y, title="perceptron", resolution=50)
    assert isinstance(ax, Axes)
    assert calls == [(2500, 2)]  # one vectorised call on the whole grid: cheap per epoch
    assert len(_contours(ax)) == 1
    scatter = [c for c in ax.collections if not isinstance(c, QuadContourSet)]
    assert len(scatter) == 1 and len(scatter[0].get_offsets()) == 40
    assert ax.get_title() == "perceptron"
    x_min, x_max = ax.get_xlim()
    assert x_min <= X[:, 0].min() - 0.5 + 1e-9 and x_max >= X[:, 0].max() + 0.5 - 1e-9


def test_decision_boundary_on_a_given_axes_with_multiclass_and_tensors():
    fig, ax = plt.subplots()
    X = torch.tensor([[0.0, 0.0], [1.0, 1.0], [2.0, 0.0]])
    y = torch.tensor([0, 1, 2])

    def predict(points):  # receives a tensor, like the training data
        assert isinstance(points, torch.Tensor) and points.dtype == torch.float32
        return torch.cdist(points, X).argmin(dim=1)

    assert plot_decision_boundary(predict, X, y, ax=ax, resolution=30) is ax
    assert len(_contours(ax)) == 1


def test_decision_boundary_from_a_weight_snapshot(blobs):
    X, y = blobs
    ax = plot_decision_boundary((np.array([1.0, 1.0]), -0.5), X, y, resolution=20)
    assert len(_contours(ax)) == 1


def test_decision_boundary_rejects_a_predict_with_the_wrong_length(blobs):
    X, y = blobs
    with pytest.raises(ValueError, match="one label per row"):
        plot_decision_boundary(lambda points: np.zeros(3), X, y, resolution=10)


def test_decision_boundary_says_so_when_predict_returns_scores_not_labels(blobs):
    # A step that returns z: 400 distinct values, which contourf would draw for minutes.
    X, y = blobs
    with pytest.raises(ValueError, match="class labels .* not scores"):
        plot_decision_boundary(lambda points: points.sum(axis=1), X, y, resolution=20)
    ax = plot_decision_boundary(lambda points: (points.sum(axis=1) > 0).astype(float), X, y, resolution=20)
    assert len(_contours(ax)) == 1   # float 0.0/1.0 labels are labels


def test_decision_boundaries_grid_has_one_panel_per_snapshot(blobs):
    X, y = blobs
    snapshots = [(np.array([1.0, 0.0]), 0.0), (np.array([0.0, 1.0]), 0.0), lambda p: (p.sum(1) > 0).astype(int)]
    fig = plot_decision_boundaries_grid(snapshots, X, y, ncols=2, resolution=20)
    assert isinstance(fig, Figure)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 3 and len(fig.axes) == 4
    assert [ax.get_title() for ax in visible] == ["epoch 1", "epoch 2", "epoch 3"]
    assert all(len(_contours(ax)) == 1 for ax in visible)
    with pytest.raises(ValueError, match="titles"):
        plot_decision_boundaries_grid(snapshots, X, y, titles=["a"])


# --------------------------------------------------------------------------------------
# History
# --------------------------------------------------------------------------------------
def test_history_puts_losses_and_accuracies_on_separate_panels():
    history = {"loss": [1.0, 0.5, 0.3], "train_acc": [0.7, 0.8, 0.9], "test_acc": [0.6, 0.7, 0.8]}
    fig = plot_history(history, title="run")
    loss_ax, acc_ax = fig.axes
    assert [line.get_label() for line in loss_ax.get_lines()] == ["loss"]
    assert [line.get_label() for line in acc_ax.get_lines()] == ["train_acc", "test_acc"]
    assert loss_ax.get_xlabel() == acc_ax.get_xlabel() == "epoch"
    np.testing.assert_array_equal(loss_ax.get_lines()[0].get_xdata(), [1, 2, 3])


def test_history_from_a_list_of_numbers_or_tensors_uses_one_panel():
    fig = plot_history([torch.tensor(2.0), torch.tensor(1.0, requires_grad=True) * 1, 0.5])
    (ax,) = fig.axes
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), [2.0, 1.0, 0.5])


def _xticks(ax):
    """The x tick positions matplotlib draws, within the axis' limits."""
    ax.figure.canvas.draw()
    low, high = ax.get_xlim()
    return [t for t in ax.get_xticks() if low <= t <= high]


def test_history_labels_its_panels_and_ticks_only_whole_epochs():
    fig = plot_history({"train_loss": [1.0, 0.5, 0.4], "val_loss": [1.1, 0.7, 0.6], "val_acc": [0.7, 0.8, 0.9]},
                       title="run")
    assert fig._suptitle.get_text() == "run"
    for ax, ylabel in zip(fig.axes, ["loss", "accuracy"]):
        assert ax.get_ylabel() == ylabel and ax.get_legend() is not None
        ticks = _xticks(ax)
        assert ticks and all(float(t).is_integer() for t in ticks), ticks  # no epoch 1.5


def test_integer_xticks_on_an_axes_or_a_whole_figure():
    fig, (left, right) = plt.subplots(1, 2)
    for ax in (left, right):
        ax.plot([1, 2, 3], [3.0, 2.0, 1.0])
    assert any(not float(t).is_integer() for t in _xticks(left))  # matplotlib's default: 1.25, 1.5...
    assert integer_xticks(left) is left
    assert all(float(t).is_integer() for t in _xticks(left))
    assert integer_xticks(fig) is fig
    assert all(float(t).is_integer() for t in _xticks(right))


def test_history_from_per_epoch_records_on_given_axes():
    fig, axes = plt.subplots(1, 2)
    records = [{"loss": 1.0, "acc": 0.5}, {"loss": 0.5, "acc": 0.75}]
    assert plot_history(records, axes=axes) is fig
    assert axes[1].get_lines()[0].get_ydata().tolist() == [0.5, 0.75]


# --------------------------------------------------------------------------------------
# Images
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(10, 28, 28), (10, 784), (10, 1, 28, 28)])
def test_show_images_accepts_the_usual_shapes(shape):
    images = np.random.default_rng(0).random(shape, dtype=np.float32)
    fig = show_images(images, labels=np.arange(10), ncols=4)
    shown = _visible_images(fig)
    assert len(shown) == 10 and all(isinstance(im, AxesImage) for im in shown)
    assert shown[0].get_array().shape == (28, 28)
    titled = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titled == [str(i) for i in range(10)]


def test_show_images_marks_right_and_wrong_predictions():
    images = torch.rand(4, 1, 28, 28, requires_grad=True)  # tensors with grad are fine
    labels, predictions = torch.tensor([0, 1, 2, 3]), torch.tensor([0, 1, 5, 3])
    names = ["zero", "one", "two", "three", "four", "five"]
    fig = show_images(images, labels, predictions, class_names=names)
    axes = [ax for ax in fig.axes if ax.get_images()]
    assert [ax.get_title() for ax in axes] == ["zero / zero", "one / one", "two / five", "three / three"]
    colors = [ax.title.get_color() for ax in axes]
    assert [to_rgba(c) for c in colors] == [to_rgba(c) for c in ["green", "green", "red", "green"]]


def test_show_images_limits_the_number_shown_and_takes_scores():
    images = np.zeros((100, 784), dtype=np.float32)
    scores = np.eye(10)[np.arange(100) % 10]  # (100, 10): arg-maxed to 0..9, 0..9, ...
    fig = show_images(images, np.arange(100) % 10, scores, max_images=12)
    assert len(_visible_images(fig)) == 12
    assert all(to_rgba(ax.title.get_color()) == to_rgba("green") for ax in fig.axes if ax.get_images())


@pytest.mark.parametrize("count, title", [(16, "Fashion-MNIST"), (32, None), (8, "one row")])
def test_show_images_titles_do_not_overlap_the_images(count, title):
    rng = np.random.default_rng(0)
    fig = show_images(rng.random((count, 28, 28)), np.arange(count) % 10, predictions=np.arange(count) % 7,
                      ncols=8, title=title)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    shown = [ax for ax in fig.axes if ax.get_images()]
    for above, below in zip(shown, shown[8:]):  # each image's title stays below the image above it
        assert below.title.get_window_extent(renderer).y1 < above.get_window_extent(renderer).y0
    if title is not None:  # and the figure's title above the first row's titles
        assert fig._suptitle.get_window_extent(renderer).y0 > shown[0].title.get_window_extent(renderer).y1


def test_show_misclassified_selects_the_wrong_ones():
    images = np.stack([np.full((28, 28), i / 10, dtype=np.float32) for i in range(10)])
    labels = np.arange(10)
    predictions = labels.copy()
    predictions[[2, 5, 7]] = 0
    fig = show_misclassified(images, labels, predictions, max_images=16)
    axes = [ax for ax in fig.axes if ax.get_images()]
    assert [ax.get_title() for ax in axes] == ["2 / 0", "5 / 0", "7 / 0"]
    assert all(to_rgba(ax.title.get_color()) == to_rgba("red") for ax in axes)
    assert axes[1].get_images()[0].get_array()[0, 0] == pytest.approx(0.5)
    assert "3 of 10 misclassified" in fig._suptitle.get_text()


def test_show_misclassified_with_none_wrong_says_so():
    images, labels = np.zeros((5, 28, 28)), np.arange(5)
    fig = show_misclassified(images, labels, labels)
    assert not _visible_images(fig)
    assert any("0 of 5 misclassified" in t.get_text() for ax in fig.axes for t in ax.texts)


# --------------------------------------------------------------------------------------
# Functions
# --------------------------------------------------------------------------------------
def test_plot_functions_draws_one_line_per_function():
    z = np.linspace(-3, 3, 61)
    ax = plot_functions(z, {"relu": np.maximum(z, 0), "relu'": lambda x: (x > 0) * 1.0}, title="ReLU")
    assert isinstance(ax, Axes) and ax.get_title() == "ReLU"
    labels = [line.get_label() for line in ax.get_lines() if not line.get_label().startswith("_")]
    assert labels == ["relu", "relu'"]
    np.testing.assert_array_equal(ax.get_lines()[1].get_ydata(), (z > 0) * 1.0)


def test_plot_functions_accepts_tensors_and_a_given_axes():
    fig, ax = plt.subplots()
    z = torch.linspace(-2, 2, 11, requires_grad=True)
    assert plot_functions(z, {"tanh": torch.tanh(z)}, ax=ax) is ax


def test_importing_the_module_does_not_import_torch():
    import subprocess
    import sys
    from pathlib import Path

    import utils

    code = "import sys, utils.plots; assert 'torch' not in sys.modules, 'torch was imported'"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(utils.__file__).resolve().parents[1])
