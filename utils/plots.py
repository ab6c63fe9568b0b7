"""Plots for the notebooks: decision boundaries, training curves, image grids, functions.

matplotlib only. Single-panel functions take ``ax=None`` and return the Axes they drew on;
multi-panel ones take ``axes=None`` (or make a figure) and return the Figure. Nothing
calls ``plt.show()``: Jupyter shows the figure of the cell, and scripts decide themselves.

Inputs may be NumPy arrays, lists or torch tensors on any device (moved to the CPU here).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap
from matplotlib.ticker import MaxNLocator

__all__ = [
    "plot_decision_boundary",
    "plot_decision_boundaries_grid",
    "plot_history",
    "integer_xticks",
    "show_images",
    "show_misclassified",
    "plot_functions",
]

# One colour per class, as in matplotlib's default cycle (tab10).
_CLASS_COLORS = plt.get_cmap("tab10").colors
RIGHT_COLOR, WRONG_COLOR = "green", "red"


def _to_numpy(x) -> np.ndarray:
    """NumPy copy or view of an array, list, number or torch tensor (any device, with grad)."""
    if hasattr(x, "detach"):  # torch.Tensor, without importing torch here
        return x.detach().cpu().numpy()
    return np.asarray(x)


def _new_axes(ax):
    if ax is None:
        _, ax = plt.subplots()
    return ax


# --------------------------------------------------------------------------------------
# Decision boundaries
# --------------------------------------------------------------------------------------
def _linear_predict(w, b) -> Callable:
    """``x -> 1 if x @ w + b > 0 else 0``: the predictor of a perceptron snapshot ``(w, b)``."""
    w, b = _to_numpy(w).astype(np.float64), float(_to_numpy(b))
    return lambda points: (points @ w + b > 0).astype(np.int64)


def _grid(X: np.ndarray, resolution: int, padding: float):
    """A ``resolution`` x ``resolution`` grid covering X's bounding box plus ``padding``.

    Returns xx, yy of shape (resolution, resolution) and the points, shape (resolution**2, 2).
    """
    (x_min, y_min), (x_max, y_max) = X.min(axis=0) - padding, X.max(axis=0) + padding
    xx, yy = np.meshgrid(np.linspace(x_min, x_max, resolution), np.linspace(y_min, y_max, resolution))
    return xx, yy, np.column_stack([xx.ravel(), yy.ravel()])


def _predict_grid(predict, X_original, points: np.ndarray) -> np.ndarray:
    """Call ``predict`` on ``points`` in the same kind (array or tensor, dtype, device) as X."""
    if hasattr(X_original, "detach"):
        query = X_original.new_tensor(points)  # same dtype and device as the training data
    else:
        X_dtype = np.asarray(X_original).dtype
        query = points.astype(X_dtype if np.issubdtype(X_dtype, np.floating) else np.float64)
    labels = _to_numpy(predict(query)).reshape(-1)
    if labels.shape[0] != points.shape[0]:
        raise ValueError(
            f"predict must return one label per row: got {labels.shape[0]} labels for {points.shape[0]} points"
        )
    return labels


MAX_CLASSES = len(_CLASS_COLORS)


def _draw_boundary(ax, xx, yy, Z, X, y, title, point_size=25):
    predicted = np.unique(Z)
    if len(predicted) > MAX_CLASSES:
        # Scores instead of labels (a step that returns z, a missing argmax): one colour band per
        # distinct value would take matplotlib minutes to draw.
        raise ValueError(
            f"predict returned {len(predicted):,} different values on the grid, e.g. "
            f"{predicted[:3].tolist()}: a classifier's predictions are class labels (0/1 or class "
            f"indices), not scores; check the function that turns scores into labels")
    classes = np.unique(np.concatenate([predicted, np.unique(y)]))
    cmap = ListedColormap([_CLASS_COLORS[i % 10] for i in range(len(classes))])
    # Map labels to 0..k-1 so that each class gets one colour band, whatever its value.
    region = np.searchsorted(classes, Z).reshape(xx.shape)
    ax.contourf(xx, yy, region, levels=np.arange(len(classes) + 1) - 0.5, cmap=cmap, alpha=0.3)
    ax.scatter(X[:, 0], X[:, 1], c=np.searchsorted(classes, y), cmap=cmap,
               vmin=-0.5, vmax=len(classes) - 0.5, s=point_size, edgecolors="k", linewidths=0.5)
    ax.set_xlim(xx.min(), xx.max())
    ax.set_ylim(yy.min(), yy.max())
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    if title is not None:
        ax.set_title(title)


def plot_decision_boundary(predict, X, y, ax=None, title=None, resolution=200, padding=0.5):
    """Colour the plane by predicted class and scatter the points coloured by true class.

    Parameters
    ----------
    predict : callable or (w, b)
        Maps points of shape (m, 2) to labels of shape (m,) (0/1 or class indices); called
        once on a ``resolution``² grid, with points of X's kind (array or tensor), float dtype
        and device. A pair ``(w, b)`` means the perceptron rule ``x @ w + b > 0``.
    X : array or tensor, shape (n, 2)
    y : array or tensor of ints, shape (n,)
    ax : matplotlib Axes, optional
    title : str, optional
    resolution : int
        Grid points per axis (200 -> 40,000 predictions; use ~100 for plots per epoch).
    padding : float
        Margin around the data, in data units.

    Returns
    -------
    matplotlib.axes.Axes
    """
    X_np, y_np = _to_numpy(X), _to_numpy(y).reshape(-1)
    if X_np.ndim != 2 or X_np.shape[1] != 2:
        raise ValueError(f"X must have shape (n, 2), got {X_np.shape}")
    if not callable(predict):
        predict = _linear_predict(*predict)
    xx, yy, points = _grid(X_np, resolution, padding)
    Z = _predict_grid(predict, X, points)
    ax = _new_axes(ax)
    _draw_boundary(ax, xx, yy, Z, X_np, y_np, title)
    return ax


def plot_decision_boundaries_grid(predicts, X, y, titles=None, ncols=4, resolution=100, padding=0.5,
                                  axes=None):
    """Small multiples of :func:`plot_decision_boundary`, e.g. the boundary after each epoch.

    Parameters
    ----------
    predicts : sequence of callables or of (w, b) pairs
        One predictor per panel (see :func:`plot_decision_boundary`). ``(w, b)`` snapshots,
        e.g. ``(model.w.copy(), model.b)`` saved after each epoch, are drawn as linear rules.
    X : array or tensor, shape (n, 2)
    y : array or tensor of ints, shape (n,)
    titles : sequence of str, optional
        One per panel; default "epoch 1", "epoch 2", ...
    ncols : int
        Panels per row.
    resolution, padding : see :func:`plot_decision_boundary`.
    axes : sequence of Axes, optional
        At least ``len(predicts)`` axes to draw on; by default a new figure.

    Returns
    -------
    matplotlib.figure.Figure
    """
    predicts = list(predicts)
    if not predicts:
        raise ValueError("predicts is empty: give at least one predictor or (w, b) snapshot")
    if titles is None:
        titles = [f"epoch {i}" for i in range(1, len(predicts) + 1)]
    if len(titles) != len(predicts):
        raise ValueError(f"got {len(titles)} titles for {len(predicts)} predictors")
    X_np, y_np = _to_numpy(X), _to_numpy(y).reshape(-1)
    xx, yy, points = _grid(X_np, resolution, padding)  # one grid, shared by every panel

    if axes is None:
        ncols = min(ncols, len(predicts))
        nrows = math.ceil(len(predicts) / ncols)
        fig, axes = plt.subplots(nrows, ncols, figsize=(3 * ncols, 3 * nrows), squeeze=False,
                                 sharex=True, sharey=True)
        axes = axes.ravel()
        for extra in axes[len(predicts):]:
            extra.set_visible(False)
    axes = list(np.ravel(axes))
    for ax, predict, title in zip(axes, predicts, titles):
        if not callable(predict):
            predict = _linear_predict(*predict)
        Z = _predict_grid(predict, X, points)
        _draw_boundary(ax, xx, yy, Z, X_np, y_np, title, point_size=12)
        ax.label_outer()
    fig = axes[0].figure
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------
# Training curves
# --------------------------------------------------------------------------------------
def integer_xticks(target):
    """Whole-number ticks on the x axis of an Axes, or of every Axes of a Figure.

    For axes that count epochs: there is no epoch 2.5. Returns ``target``, so that it can wrap
    a call: ``integer_xticks(plot_history(history))``.
    """
    for ax in [target] if isinstance(target, Axes) else target.axes:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, steps=[1, 2, 5, 10]))  # 1, 2, 5, 10, 20...
    return target


def _as_series(history) -> dict[str, np.ndarray]:
    """dict of lists, list of numbers, or list of per-epoch dicts -> {name: float array}."""
    if isinstance(history, Mapping):
        items = history.items()
    elif len(history) and isinstance(history[0], Mapping):  # [{"loss": .., "acc": ..}, ...]
        keys = list(dict.fromkeys(k for record in history for k in record))
        items = [(k, [record[k] for record in history if k in record]) for k in keys]
    else:
        items = [("loss", history)]
    # float() of each entry accepts numbers, 0-d arrays and 0-d tensors (a common student habit).
    return {name: np.array([float(_to_numpy(v)) for v in values], dtype=np.float64)
            for name, values in items if len(values)}


def plot_history(history, axes=None, title=None):
    """Training curves against epochs: losses on one panel, accuracies on a second.

    Parameters
    ----------
    history : dict of lists, list of numbers, or list of dicts
        E.g. ``{"loss": [...], "train_acc": [...], "test_acc": [...]}``. Keys containing
        "acc" go to the accuracy panel, all others (losses) to the first panel. A plain list
        is taken as losses. Entries may be floats or 0-d tensors.
    axes : Axes or sequence of two Axes, optional
        Where to draw: one Axes if there are no accuracies, else two.
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
    """
    series = _as_series(history)
    losses = {k: v for k, v in series.items() if "acc" not in k.lower()}
    accuracies = {k: v for k, v in series.items() if "acc" in k.lower()}
    panels = [(group, label) for group, label in ((losses, "loss"), (accuracies, "accuracy")) if group]
    if not panels:
        raise ValueError("history is empty")
    if axes is None:
        fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 3.5), squeeze=False)
    axes = list(np.ravel(axes))
    if len(axes) < len(panels):
        raise ValueError(f"history needs {len(panels)} axes ({', '.join(l for _, l in panels)}), got {len(axes)}")
    for ax, (group, ylabel) in zip(axes, panels):
        for name, values in group.items():
            epochs = np.arange(1, len(values) + 1)
            ax.plot(epochs, values, marker="o" if len(values) <= 30 else None, markersize=3, label=name)
        ax.set_xlabel("epoch")
        ax.set_ylabel(ylabel)
        integer_xticks(ax)
        ax.grid(alpha=0.3)
        ax.legend()
    fig = axes[0].figure
    if title is not None:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------
# Image grids
# --------------------------------------------------------------------------------------
def _as_image_batch(images) -> np.ndarray:
    """(n, H, W), (n, H*W) square, (n, 1, H, W), (n, 3, H, W), (n, H, W, 3) or one image ->
    (n, H, W) or (n, H, W, 3)."""
    x = _to_numpy(images)
    if x.ndim == 2 and x.shape[0] == x.shape[1] and math.isqrt(x.shape[1]) ** 2 != x.shape[1]:
        x = x[None]  # one (H, W) image
    if x.ndim == 2:  # flattened rows
        side = math.isqrt(x.shape[1])
        if side * side != x.shape[1]:
            raise ValueError(f"cannot reshape rows of {x.shape[1]} pixels into square images")
        return x.reshape(len(x), side, side)
    if x.ndim == 4 and x.shape[1] in (1, 3):  # channels first, as torch stores them
        x = x.transpose(0, 2, 3, 1)
    if x.ndim == 4 and x.shape[-1] == 1:
        x = x[..., 0]
    if x.ndim == 3 or (x.ndim == 4 and x.shape[-1] == 3):
        return x
    raise ValueError(f"cannot show images of shape {_to_numpy(images).shape}")


def _labels(values, n: int):
    """Class indices as an int array of length n; (n, k) scores or probabilities -> argmax."""
    if values is None:
        return None
    v = _to_numpy(values)
    if v.ndim == 2:
        v = v.argmax(axis=1)
    v = v.reshape(-1).astype(np.int64)
    if len(v) < n:
        raise ValueError(f"got {len(v)} labels for {n} images")
    return v


def show_images(images, labels=None, predictions=None, class_names=None, ncols=8, max_images=64,
                scale=1.3, axes=None, title=None):
    """A grid of images, titled with their label (and prediction, green if right, red if wrong).

    Parameters
    ----------
    images : array or tensor, shape (n, 28, 28), (n, 784), (n, 1, H, W), (n, 3, H, W) or (n, H, W, 3)
        Any device; grey images use the ``gray`` colormap.
    labels : ints, shape (n,), optional
        True classes: the title.
    predictions : ints, shape (n,), or scores, shape (n, k), optional
        Predicted classes (scores are arg-maxed); the title becomes ``"true / pred"``.
    class_names : sequence of str, optional
        Names for the class indices (e.g. ``FASHION_MNIST_CLASSES``).
    ncols : int
        Images per row.
    max_images : int
        Show at most this many (the first ones).
    scale : float
        Inches per image.
    axes : sequence of Axes, optional
        Draw on these (at least as many as images shown) instead of a new figure.
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
    """
    x = _as_image_batch(images)[:max_images]
    n = len(x)
    if n == 0:
        raise ValueError("no images to show")
    y, y_pred = _labels(labels, n), _labels(predictions, n)

    def name(index):
        return str(class_names[index]) if class_names is not None else str(index)

    if axes is None:
        ncols = min(ncols, n)
        nrows = math.ceil(n / ncols)
        # Each row needs room for its images' titles, the figure for its own: else they overlap.
        height = (scale + 0.3) * nrows + (0.3 if title is not None else 0)
        fig, axes = plt.subplots(nrows, ncols, figsize=(scale * ncols, height), squeeze=False)
    axes = list(np.ravel(axes))
    for i, ax in enumerate(axes):
        ax.axis("off")
        if i >= n:
            continue
        image = x[i]
        if image.ndim == 3 and np.issubdtype(image.dtype, np.floating):
            image = np.clip(image, 0, 1)  # imshow needs RGB floats in [0, 1]
        ax.imshow(image, cmap="gray" if image.ndim == 2 else None)
        if y is not None and y_pred is not None:
            right = y[i] == y_pred[i]
            ax.set_title(f"{name(y[i])} / {name(y_pred[i])}", fontsize=8,
                         color=RIGHT_COLOR if right else WRONG_COLOR)
        elif y is not None:
            ax.set_title(name(y[i]), fontsize=8)
        elif y_pred is not None:
            ax.set_title(f"pred {name(y_pred[i])}", fontsize=8)
    fig = axes[0].figure
    if title is not None:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def show_misclassified(images, labels, predictions, class_names=None, max_images=16, ncols=8):
    """:func:`show_images` of the first ``max_images`` images whose prediction is wrong.

    ``predictions`` may be class indices (n,) or scores (n, k). The figure title says how many
    of the n images are wrong. If none is, the figure holds just that message.

    Returns
    -------
    matplotlib.figure.Figure
    """
    x = _as_image_batch(images)
    y, y_pred = _labels(labels, len(x)), _labels(predictions, len(x))
    wrong = np.flatnonzero(y[:len(x)] != y_pred[:len(x)])
    title = f"{len(wrong)} of {len(x)} misclassified" + (
        f" (first {min(max_images, len(wrong))} shown; titles: true / predicted)" if len(wrong) else "")
    if len(wrong) == 0:
        fig, ax = plt.subplots(figsize=(4, 1))
        ax.axis("off")
        ax.text(0.5, 0.5, title, ha="center", va="center")
        return fig
    shown = wrong[:max_images]
    return show_images(x[shown], y[shown], y_pred[shown], class_names=class_names, ncols=ncols,
                       max_images=max_images, title=title)


# --------------------------------------------------------------------------------------
# Functions of one variable
# --------------------------------------------------------------------------------------
def plot_functions(xs, functions: Mapping[str, object], ax=None, title=None):
    """Plot several functions of x on one Axes, e.g. an activation and its gradient.

    Parameters
    ----------
    xs : array or tensor, shape (m,)
    functions : dict name -> values of shape (m,), or name -> callable applied to ``xs``
        E.g. ``{"relu": relu(z), "relu'": relu_grad(z)}``.
    ax : Axes, optional
    title : str, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = _new_axes(ax)
    x = _to_numpy(xs).reshape(-1)
    for name, ys in functions.items():
        values = ys(xs) if callable(ys) else ys
        ax.plot(x, _to_numpy(values).reshape(-1), label=name)
    ax.axhline(0, color="k", linewidth=0.5)
    ax.axvline(0, color="k", linewidth=0.5)
    ax.set_xlabel("z")
    ax.grid(alpha=0.3)
    ax.legend()
    if title is not None:
        ax.set_title(title)
    return ax
