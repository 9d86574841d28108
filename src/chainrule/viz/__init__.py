"""Seeing the chain rule: drawings, explanations and an interactive page.

>>> import chainrule as cr
>>> x = cr.tensor(3.0, requires_grad=True, name="x")
>>> e = cr.explain(x * x + x)
>>> e.gradients["x"]
7.0

- :func:`draw` renders the graph with Graphviz (values, gradients, local derivatives);
- :func:`explain` writes out the forward pass, the backward pass and the paths;
- :func:`html` writes a self-contained page that steps through both passes.
"""

from .explain import Explanation, explain
from .graph import Graph, build, fmt, local_derivative, summarize
from .notation import rule_text

__all__ = [
    "Explanation",
    "Graph",
    "GraphvizMissing",
    "build",
    "draw",
    "explain",
    "fmt",
    "html",
    "local_derivative",
    "rule_text",
    "summarize",
    "to_dot",
]


def __getattr__(name):
    # dot.py imports the graphviz package and page.py builds a template: load on use
    if name in ("draw", "to_dot", "GraphvizMissing"):
        from . import dot

        return getattr(dot, name)
    if name == "html":
        from .page import html

        return html
    raise AttributeError(f"module 'chainrule.viz' has no attribute {name!r}")
