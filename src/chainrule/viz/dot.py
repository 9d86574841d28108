"""``cr.viz.draw``: the graph as Graphviz draws it, with values, gradients, local derivatives.

Nodes run left to right from the inputs to the output, as in the notes' circuit
diagrams. Each box shows the node's name, op, shape, value and gradient; each
edge shows the local derivative ∂child/∂parent. Graphs whose tensors carry
``nn.Module`` tags are drawn as one box per module (``expand=True`` shows every op).

>>> import chainrule as cr
>>> x = cr.tensor(3.0, requires_grad=True, name="x")
>>> src = cr.viz.to_dot(x * x)
>>> "∂(mul)/∂x = x = 3" in src
True
"""

from __future__ import annotations

import html
import shutil
import subprocess
from pathlib import Path

from .._tensor import Tensor
from ..files import atomic_write
from .graph import Graph, Node, check_root, check_size, count, shape_text, summarize
from .notation import local_symbol, op_text, rule_text, tensor_rule

__all__ = ["INSTALL_HINT", "GraphvizMissing", "draw", "to_dot"]

INSTALL_HINT = ("install Graphviz: `apt-get install graphviz` (Debian/Ubuntu), "
                "`brew install graphviz` (macOS) or `conda install graphviz`, "
                "and the Python package with `pip install graphviz` (or `make test`)")

_COLORS = {
    "param": ("#e8f5e9", "#2e7d32"),   # leaves with a gradient: green
    "const": ("#f5f5f5", "#9e9e9e"),   # constants: grey
    "op": ("#e3f2fd", "#1565c0"),      # ops: blue
    "group": ("#fff8e1", "#ef6c00"),   # collapsed nn.Module: orange
}


class GraphvizMissing(RuntimeError):
    """Graphviz's ``dot`` is not installed; the DOT text was written to ``dot_path``."""

    def __init__(self, message: str, dot_path: Path | None = None):
        super().__init__(message)
        self.dot_path = dot_path


def _e(s) -> str:
    return html.escape(str(s), quote=True)


def _node_label(n: Node, released: bool) -> str:
    """A Graphviz HTML-like label: name and op, shape, value, gradient."""
    title = f"<B>{_e(n.label)}</B>"
    what = op_text(n) if n.kind == "op" else n.role
    if n.kind != "op" or what != n.label:
        title += f"  <FONT POINT-SIZE=\"10\">{_e(what)}</FONT>"
    rows = [title]
    fuses = getattr(n.tensor._op, "fuses", None) if n.kind == "op" else None
    if fuses:                  # a fused op says what it stands for
        rows.append(f'<FONT POINT-SIZE="10">fuses {_e(fuses)}</FONT>')
    if not n.is_scalar:
        rows.append(f'<FONT POINT-SIZE="10">shape {_e(shape_text(n.shape))}</FONT>')
    rows.append(f"value {_e(n.value_text())}")
    if n.adjoint is not None:
        src = " (.grad)" if n.grad_source == "leaf .grad" else ""
        rows.append(f'<FONT COLOR="#c62828">grad {_e(n.grad_text())}{src}</FONT>')
    elif released and n.kind == "op":
        rows.append('<FONT COLOR="#9e9e9e" POINT-SIZE="10">grad released</FONT>')
    cells = "".join(f"<TR><TD>{r}</TD></TR>" for r in rows)
    return f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">{cells}</TABLE>>'


def _edge_label(e, root: Node) -> str:
    """The local derivative, in the one notation: ``∂(mul)/∂add1 = z = -4``; for tensors
    what the edge sends back, as the notes write it: ``sends Xᵀ · ∂f/∂h = (3, 2) ...``."""
    if not (e.src.is_scalar and e.dst.is_scalar):
        rule = tensor_rule(e, f"∂{root.label}/∂{e.dst.label}")
        if rule is not None and e.contrib is not None:
            return f"sends {rule}\n= {summarize(e.contrib)}"
    text = e.local_text()
    if text is None:
        return ""
    rule = rule_text(e) if e.src.is_scalar and e.dst.is_scalar else None
    shown = f" = {rule}" if rule is not None and rule != text else ""
    return f"{local_symbol(e, root)}{shown} = {text}"


def _quote(s: str) -> str:
    return '"' + str(s).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def to_dot(tensor: Tensor, expand: bool = False, graph: Graph | None = None,
           max_nodes: int = 300) -> str:
    """The DOT source of the graph behind ``tensor`` (no Graphviz needed).

    Graphs with ``nn.Module`` tags collapse to one box per module unless ``expand``.
    Ungrouped graphs above ``max_nodes`` nodes are refused with a hint, since dot
    would take minutes and the picture would be unreadable.
    """
    if graph is None:
        check_root(tensor, "to_dot")
    g = graph if graph is not None else Graph(tensor)
    lines = ["digraph chainrule {",
             '  graph [rankdir=LR, fontname="Helvetica", nodesep=0.3, ranksep=0.55];',
             '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=11];',
             '  edge [fontname="Helvetica", fontsize=9, color="#546e7a", fontcolor="#37474f"];']
    note = ""
    if g.released:
        note = ("backward() released the rules: leaves show .grad; use "
                "backward(retain_graph=True) or draw before backward for every gradient")
    if g.stale:
        note += ("; " if note else "") + "values changed in place after use (backward would refuse): " + \
            ", ".join(g.stale)
    if note:
        lines.append(f"  label={_quote(note)}; labelloc=b; fontsize=10; fontcolor=\"#ef6c00\";")

    groups = [] if expand else g.groups()
    owner: dict[int, int] = {}      # node id -> the box that holds it
    exit_box: dict[int, int] = {}   # a module's output -> the last box it passes through
    for k, grp in enumerate(groups):
        for n in grp.nodes:
            owner[n.id] = k
        exit_box[grp.output.id] = k
    shown = [n for n in g.nodes if n.id not in owner]
    check_size(len(shown) + len(groups), max_nodes, "draw")
    handed_on = {id(grp.fused_into): grp.module for grp in groups if grp.fused_into}

    for k, grp in enumerate(groups):
        out = grp.output
        fill, line = _COLORS["group"]
        if grp.fused_into is not None:
            what = (f"fused into {_e(grp.fused_into.module)}'s "
                    f"{_e(grp.fused_into.fuses or op_text(out))} node")
        else:
            what = f"{count(grp.n_ops, 'op')}, {count(grp.n_params, 'parameter')}"
            if grp.fuses:
                what += f"; fuses {_e(grp.fuses)}"
        rows = [f"<B>{_e(grp.module or 'model')}</B>", f'<FONT POINT-SIZE="10">{what}</FONT>',
                f"out {_e(shape_text(out.shape))}",
                f'<FONT POINT-SIZE="10">value {_e(summarize(out.value))}</FONT>']
        if id(grp) in handed_on:      # its output is the next box's: shown there
            rows[2:] = [(f'<FONT POINT-SIZE="10">output computed with '
                         f"{_e(handed_on[id(grp)])}</FONT>")]
        elif out.adjoint is not None:
            rows.append(f'<FONT COLOR="#c62828" POINT-SIZE="10">grad '
                        f"{_e(summarize(out.adjoint))}</FONT>")
        cells = "".join(f"<TR><TD>{r}</TD></TR>" for r in rows)
        label = f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0">{cells}</TABLE>>'
        lines.append(f"  g{k} [label={label}, fillcolor=\"{fill}\", color=\"{line}\", "
                     f"penwidth=1.6, id=\"group-{k}\"];")
        if grp.fused_into is not None:   # the fused node's work passes from box to box
            lines.append(f"  g{k - 1} -> g{k} [label=\"fused\", style=dotted];")

    for n in shown:
        fill, line = _COLORS[n.kind]
        shape = "ellipse" if n.kind != "op" else "box"
        pen = 2.4 if n is g.root else 1.2
        lines.append(f"  n{n.id} [label={_node_label(n, g.released)}, shape={shape}, "
                     f"fillcolor=\"{fill}\", color=\"{line}\", penwidth={pen}, "
                     f"id=\"node-{n.id}\"];")

    def name(n: Node, leaving: bool = False) -> str:
        k = exit_box.get(n.id) if leaving else None
        k = owner.get(n.id) if k is None else k
        return f"g{k}" if k is not None else f"n{n.id}"

    seen_group_edges = set()
    for e in g.edges:
        if e.src.id in owner and owner[e.src.id] == owner.get(e.dst.id):
            continue                  # inside one module's box
        a, b = name(e.src, leaving=True), name(e.dst)
        if a == b:
            continue                  # inside one module's box
        if a.startswith("g") or b.startswith("g"):
            if (a, b) in seen_group_edges:
                continue
            seen_group_edges.add((a, b))
            # between boxes: the tensor passed on, and the gradient that came back
            label = shape_text(e.src.shape)
            if e.src.adjoint is not None:
                label += "\ngrad " + summarize(e.src.adjoint)
            lines.append(f"  {a} -> {b} [label={_quote(label)}];")
            continue
        label = _edge_label(e, g.root)
        style = "" if e.carries_grad else ', style=dashed, color="#bdbdbd"'
        lines.append(f"  {a} -> {b} [label={_quote(label)}, id=\"edge-{e.id}\"{style}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _write_atomic(path: Path, data: bytes) -> None:
    with atomic_write(path, "wb") as fh:
        fh.write(data)


def _render(source: str, fmt_: str) -> bytes:
    """Run ``dot`` on ``source``: through the graphviz package when it is there."""
    try:
        import graphviz
    except ImportError:
        graphviz = None
    if graphviz is not None:
        return graphviz.Source(source).pipe(format=fmt_)
    proc = subprocess.run(["dot", f"-T{fmt_}"], input=source.encode(), capture_output=True,
                          check=False, timeout=120)
    if proc.returncode:
        raise RuntimeError(f"draw: dot failed: {proc.stderr.decode(errors='replace').strip()}")
    return proc.stdout


_SUFFIXES = ("svg", "png", "pdf", "dot", "gv", "jpg", "jpeg", "html", "htm")
_ALIAS = {"gv": "dot", "jpeg": "jpg", "htm": "html"}


def draw(tensor: Tensor, path=None, format: str | None = None, expand: bool = False,
         max_nodes: int = 300):
    """Draw the graph that produced ``tensor`` with Graphviz.

    - ``path=None``: return a ``graphviz.Source`` (it displays itself in notebooks;
      ``.source`` is the DOT text), or the DOT text when the graphviz package is
      missing.
    - ``path="graph.svg"`` (or .png, .pdf): render with ``dot`` and write the file;
      ``.dot`` writes the DOT text; ``.html`` writes the interactive page (as
      :func:`chainrule.viz.html`). Returns the same object as above. The suffix
      gives the format; ``format`` (default svg) is for paths without a known
      suffix, and one that contradicts the suffix is an error.

    Tensors that carry ``nn.Module`` tags are drawn as one box per module (with its
    parameter count) unless ``expand=True``; ungrouped graphs over ``max_nodes``
    boxes are refused with a hint rather than left to ``dot`` for minutes.

    Without Graphviz's ``dot`` program the DOT text is still written (``path`` with
    the suffix ``.dot``) and :class:`GraphvizMissing` says how to install Graphviz.

    Draw before ``backward()`` (or after ``backward(retain_graph=True)``) to see every
    node's gradient and every edge's local derivative: a plain backward releases
    the rules, and then only the leaves' ``.grad`` can be shown.

    >>> import chainrule as cr
    >>> w = cr.tensor(2.0, requires_grad=True, name="w")
    >>> src = cr.viz.draw(w * 3.0)
    """
    check_root(tensor, "draw")
    source = to_dot(tensor, expand=expand, max_nodes=max_nodes)
    try:
        import graphviz

        result = graphviz.Source(source)
    except ImportError:
        result = source
    if path is None:
        return result
    path = Path(path)
    suffix = path.suffix.lower().lstrip(".")
    if suffix in _SUFFIXES:
        asked = suffix if format is None else format.lower()
        if _ALIAS.get(asked, asked) != _ALIAS.get(suffix, suffix):
            raise ValueError(f"draw: format={format!r} contradicts the suffix of {path}; "
                             "give one or the other")
        fmt_ = suffix
    else:
        fmt_ = (format or "svg").lower()
        if not path.suffix:
            path = path.with_suffix("." + fmt_)
    if fmt_ in ("html", "htm"):
        from .page import html as page  # page.py builds its template: loaded on use

        page(tensor, path, expand=expand, max_nodes=max_nodes)
        return result
    if fmt_ in ("dot", "gv"):
        _write_atomic(path, source.encode())
        return result
    if shutil.which("dot") is None:
        dot_path = path.with_suffix(".dot")
        _write_atomic(dot_path, source.encode())
        raise GraphvizMissing(
            f"draw: Graphviz's `dot` program was not found, so {path} was not rendered; "
            f"the DOT text is in {dot_path} (render it later with `dot -T{fmt_} {dot_path} "
            f"-o {path}`). To render directly, {INSTALL_HINT}.", dot_path)
    _write_atomic(path, _render(source, fmt_))
    return result
