"""Computation graphs of PyTorch tensors, drawn with torchviz, or shown as DOT text when
Graphviz's ``dot`` program is not installed.

torchviz builds a ``graphviz.Digraph`` of the autograd graph behind a tensor: one node per
operation that autograd will differentiate (``AddmmBackward0``, ``TanhBackward0``, ...), one
per parameter it reaches (labelled with its name and shape). Jupyter draws such a graph by
running ``dot``; where that program is missing, drawing would fail with an error, so
:func:`draw_graph` prints the graph's DOT source and how to install Graphviz instead.

    >>> import torch
    >>> w = torch.ones(2, requires_grad=True)
    >>> graph = draw_graph((w * 3).sum(), {"w": w})   # a Digraph, or None after printing DOT text
"""

from __future__ import annotations

import shutil
import warnings
from collections.abc import Iterable, Mapping

__all__ = ["dot_available", "draw_graph", "INSTALL_GRAPHVIZ"]

INSTALL_GRAPHVIZ = ("install Graphviz to see it drawn (`conda install graphviz`, "
                    "`sudo apt install graphviz` or `brew install graphviz`), then restart the kernel")


def dot_available() -> bool:
    """Whether Graphviz's ``dot`` program is on the ``PATH``."""
    return shutil.which("dot") is not None


def draw_graph(output, params: Mapping | Iterable | None = None):
    """The autograd graph that produced ``output``, for Jupyter to draw.

    Parameters
    ----------
    output : torch.Tensor
        A tensor computed with autograd on (e.g. a model's output or a loss).
    params : dict or iterable of (name, tensor), optional
        Names for the leaf tensors, e.g. ``model.named_parameters()``.

    Returns
    -------
    graphviz.Digraph or None
        The graph when ``dot`` is installed (the last expression of a cell is drawn). Otherwise
        None, after printing one line that says why and the graph's DOT source.
    """
    with warnings.catch_warnings():
        # torchviz 0.0.3 compares versions with distutils' LooseVersion, which warns.
        warnings.simplefilter("ignore", DeprecationWarning)
        from torchviz import make_dot

        graph = make_dot(output, params=dict(params) if params is not None else None)
    if dot_available():
        return graph
    print(f"Graphviz's `dot` program is not installed, so here is the graph as DOT text; "
          f"{INSTALL_GRAPHVIZ}.")
    print(graph.source)
    return None
