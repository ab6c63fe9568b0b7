"""utils.graphs.draw_graph: a Digraph when Graphviz's `dot` is installed, otherwise the DOT text
and how to install Graphviz, never an error (simulated by controlling the PATH)."""

import os
import stat

import graphviz
import torch

from utils.graphs import draw_graph, dot_available


def _output():
    w = torch.ones(3, requires_grad=True)
    return torch.tanh(w * 2).sum(), {"w": w}


def test_without_dot_the_graph_is_printed_as_dot_text(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))            # an empty folder: no `dot` anywhere
    assert not dot_available()
    out, params = _output()
    assert draw_graph(out, params) is None
    printed = capsys.readouterr().out
    first, _, source = printed.partition("\n")
    assert "not installed" in first and "install Graphviz" in first
    assert source.lstrip().startswith("digraph") and "TanhBackward0" in source
    assert "w\n (3)" in source                           # the parameter is labelled with its name


def test_with_dot_a_digraph_is_returned_for_jupyter_to_draw(tmp_path, monkeypatch, capsys):
    dot = tmp_path / "dot"                               # a stand-in: drawing is not called here
    dot.write_text("#!/bin/sh\nexit 0\n")
    dot.chmod(dot.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ.get('PATH', '')}")
    assert dot_available()
    out, params = _output()
    graph = draw_graph(out, params)
    assert isinstance(graph, graphviz.Digraph) and "TanhBackward0" in graph.source
    assert capsys.readouterr().out == ""


def test_names_are_optional(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))
    out, _ = _output()
    draw_graph(out)
    assert "AccumulateGrad" in capsys.readouterr().out
