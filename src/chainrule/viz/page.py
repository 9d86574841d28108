"""``cr.viz.html``: one self-contained page that steps through both passes.

The page holds everything inline (SVG, CSS, a little JavaScript, the numbers as
JSON): it opens from a file with no network. A learner presses Next (or →) to
compute the graph node by node, forward, then to send the gradient back node by
node. The node being computed is highlighted and scrolled to the middle of the
screen; forward steps show the values arriving along the edges, backward steps
show the chain rule on each lit edge, ``upstream × local = contribution`` with
the numbers, and the node's gradient as the sum of what its children sent. Every
edge can be focused (Tab) or tapped to show its local derivative ∂c/∂a, so
nothing needs a mouse hover.

Layout is done here, not by Graphviz: columns by depth (inputs on the left, the
output on the right, as in the notes' circuits), rows ordered by the barycenter of
the neighbours so edges cross little. Boxes are as wide as their text; each edge's
numbers sit in the gap before its destination's column, in a lane of their own, so
they never overlap a box or each other.

Stable hooks for tests and for styling: ``#chainrule-graph``, ``g.node`` with
``id="node-N"``, ``data-label``, ``data-kind`` (param / const / op / group),
``data-role`` (parameter / input / constant / op / module), ``data-fwd`` /
``data-bwd`` (the step that computes it), elements ``.value`` and ``.grad``; edges
``g.edge`` with ``id="edge-N"``, ``.evalue``, ``.egrad`` (what it carries after
its step) and ``.elit`` (the chain rule while lit); buttons ``#prev``, ``#next``,
``#reset``, ``#end``, ``#zoom-in``, ``#zoom-out``, ``#fit``; ``#step-index`` /
``#step-count``, ``#step-text`` and ``#edge-info``; ``document.body.dataset.step``.

>>> import chainrule as cr
>>> x = cr.tensor(3.0, requires_grad=True, name="x")
>>> page = cr.viz.html(x * x + x)
>>> page.startswith("<!DOCTYPE html>") and 'src="http' not in page and 'href="http' not in page
True
"""

from __future__ import annotations

import html as _html
import json
from pathlib import Path

import numpy as np

from .._tensor import Tensor
from ..files import atomic_write
from ._template import TEMPLATE
from .explain import Explanation
from .graph import Edge, Node, check_root, check_size, count, fmt, shape_text, summarize
from .notation import filled, forward_text, local_symbol, op_text, rule_text, tensor_rule

__all__ = ["html", "page_model"]

# geometry (px). Text widths are estimated from character counts with the widths of
# the page's fonts at these sizes, rounded up; the Chromium tests measure the result.
CHAR_W = {"label": 8.4, "sub": 7.0, "mono": 7.6, "small": 6.4}
LINE_H = 18
CELL_H = 14                  # a row of a small matrix
THUMB = 6                    # px per heat-map cell
THUMB_CELLS = 16             # heat maps are reduced to at most 16 x 16 cells
PAD_X, PAD_Y = 10, 8
MIN_BOX_W = 96
ROW_GAP = 30
MIN_GAP = 70
LANE_PAD = 14                # space between an edge label and the boxes beside it
PAD = 24
FULL = 6                     # arrays up to 6 x 6 are shown in full
WIRE_DIGITS = 4              # significant digits of the numbers on the edges


# ---------------------------------------------------------------------------
# how a value is shown in a box
# ---------------------------------------------------------------------------
def _as_matrix(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a)
    if a.ndim == 0:
        return a.reshape(1, 1)
    if a.ndim == 1:
        return a.reshape(1, -1)
    return a.reshape(a.shape[0], -1)


def _cell(v) -> str:
    """A matrix entry: three significant digits, integers as integers."""
    f = float(v)
    return str(int(f)) if f.is_integer() and abs(f) < 1e6 else f"{f:.3g}"


def _block(a, kind: str) -> dict:
    """A value or gradient as the page draws it: one number, a small matrix in full,
    or a heat-map thumbnail with its min and max."""
    a = np.asarray(a)
    if a.size == 1:
        return {"type": "scalar", "text": f"{kind} {fmt(a)}"}
    m = _as_matrix(a)
    if a.ndim <= 2 and m.shape[0] <= FULL and m.shape[1] <= FULL and a.dtype.kind != "b":
        rows = [" ".join(f"{_cell(v):>7}" for v in row) for row in m]
        return {"type": "matrix", "title": f"{kind} {shape_text(a.shape)}", "rows": rows}
    vals = m.astype(np.float64) if m.dtype.kind in "fiub" else np.abs(m).astype(np.float64)
    finite = np.isfinite(vals)
    lo = float(vals[finite].min()) if finite.any() else float("nan")
    hi = float(vals[finite].max()) if finite.any() else float("nan")
    r = -(-m.shape[0] // THUMB_CELLS)
    c = -(-m.shape[1] // THUMB_CELLS)
    rows, cols = -(-m.shape[0] // r), -(-m.shape[1] // c)
    scale = max(abs(lo), abs(hi)) if finite.any() else 1.0
    cells = []
    for i in range(rows):
        row = []
        for j in range(cols):
            part = vals[i * r:(i + 1) * r, j * c:(j + 1) * c]
            ok = np.isfinite(part)
            v = float(part[ok].mean()) if ok.any() else float("nan")
            row.append(None if not np.isfinite(v) or scale == 0 else round(v / scale, 3))
        cells.append(row)
    return {"type": "heat", "title": f"{kind} {shape_text(a.shape)}", "cells": cells,
            "range": f"min {fmt(lo, 3)} max {fmt(hi, 3)}"}


def _block_size(b: dict | None) -> tuple[float, float]:
    if b is None:
        return 0.0, 0.0
    if b["type"] == "scalar":
        return len(b["text"]) * CHAR_W["mono"], LINE_H
    if b["type"] == "matrix":
        w = max(len(b["title"]) * CHAR_W["small"],
                max(len(r) for r in b["rows"]) * CHAR_W["small"])
        return w, LINE_H + CELL_H * len(b["rows"])
    cols = len(b["cells"][0])
    w = max(len(b["title"]) * CHAR_W["small"], len(b["range"]) * CHAR_W["small"],
            cols * THUMB)
    return w, LINE_H + len(b["cells"]) * THUMB + 4 + CELL_H


# ---------------------------------------------------------------------------
# the model: boxes, edges, steps
# ---------------------------------------------------------------------------
def _wire(v, grad: bool = False) -> str:
    """A number on an edge: short. An array travels as its shape (its numbers are in the
    boxes at both ends), a gradient with its norm; a few numbers are shown in full."""
    a = np.asarray(v)
    if a.size == 1:
        return fmt(a, WIRE_DIGITS)
    if a.ndim == 1 and a.size <= 4:
        return summarize(a, 3)
    if not grad or a.dtype.kind not in "fiu":
        return shape_text(a.shape)
    norm = float(np.linalg.norm(a.astype(np.float64)))
    return f"{shape_text(a.shape)}, norm {fmt(norm, 3)}"


def _paren(s: str) -> str:
    return f"({s})" if s.startswith("-") else s


def _lit_text(e: Edge) -> str | None:
    """``1 × z(-4) = -4``: upstream × local = contribution, with the numbers."""
    if e.contrib is None:
        return None
    if not (e.src.is_scalar and e.dst.is_scalar) or e.local is None:
        return "grad " + _wire(e.contrib, grad=True)
    rule = rule_text(e)
    local = _paren(fmt(e.local, WIRE_DIGITS))
    if rule is not None and rule.replace("_", "a").rstrip("′″‴").isalnum() \
            and not rule[0].isdigit():
        local = f"{rule}{local if local.startswith('(') else f'({local})'}"
    up = _paren(fmt(e.dst.adjoint, WIRE_DIGITS))
    return f"{up} × {local} = {fmt(e.contrib, WIRE_DIGITS)}"


def _edge_info(e: Edge, root: Node) -> str:
    """Everything about an edge's local derivative, for the focus/tap panel."""
    sym = local_symbol(e, root)
    if e.local is None:
        return f"{sym}: {'no gradient flows here' if not e.carries_grad else 'unknown'}"
    if e.src.is_scalar and e.dst.is_scalar:
        rule = rule_text(e)
        parts = [sym]
        if rule is not None and rule != fmt(e.local):
            parts.append(rule)
        fill = filled(e)
        if fill is not None:
            parts.append(fill)
        parts.append(fmt(e.local))
        return " = ".join(parts)
    rule = tensor_rule(e, f"∂{root.label}/∂{e.dst.label}")
    if rule is not None and e.contrib is not None:
        return f"{sym}: sends {rule} = {summarize(e.contrib)}"
    return f"{sym}: summed over the output (1ᵀJ) {summarize(e.local)}"


def _backward_text(row, g, n: Node) -> str | None:
    if row is None:
        return None
    if row.numbers == "seed":
        r = g.root.label
        return f"{row.formula}: the seed, ∂{r}/∂{r} = 1"
    text = row.formula + ("" if row.numbers in ("seed", "", "no path to the root")
                          else f" = {row.numbers}") + f" = {row.result}"
    # compound local derivatives, with their values filled in
    extra = []
    for e in g.grad_edges(n):
        fill = filled(e)
        if fill is not None and e.local is not None:
            extra.append(f"{local_symbol(e, g.root)} = {fill} = {fmt(e.local)}")
    return text + ("; where " + "; ".join(extra) if extra else "")


def _sum_text(g, n: Node) -> str | None:
    """The node's gradient as the sum of what its children sent: ``-4 + 3 = -1``."""
    edges = [e for e in g.grad_edges(n) if e.contrib is not None]
    if len(edges) < 2 or not n.is_scalar or n.adjoint is None:
        return None
    terms = " + ".join(_paren(fmt(e.contrib, WIRE_DIGITS)) for e in edges)
    return f"grad {terms} = {fmt(n.adjoint, WIRE_DIGITS)}"


def _size_box(b: dict) -> None:
    """Width and height from the text the box will ever show."""
    widths = [len(b["label"]) * CHAR_W["label"]]
    if b["sub"]:
        widths.append(len(b["sub"]) * CHAR_W["sub"])
    h = PAD_Y + LINE_H + (LINE_H if b["sub"] else 0)
    for extra in b["extras"]:
        widths.append(len(extra) * CHAR_W["small"])
        h += CELL_H
    for key in ("vblock", "gblock"):
        w, bh = _block_size(b[key])
        widths.append(w)
        h += bh
    if b.get("sum"):
        widths.append(len(b["sum"]) * CHAR_W["mono"])
    b["w"] = round(max(MIN_BOX_W, max(widths) + 2 * PAD_X))
    b["h"] = round(h + PAD_Y)


def page_model(tensor: Tensor, expand: bool = False, title: str | None = None,
               max_nodes: int = 300) -> dict:
    """Boxes, edges and steps for the page (plain data: also handy for tests)."""
    ex = Explanation(tensor, max_paths=10)
    g = ex.graph
    rows = {r.node_id: r for r in ex.backward}
    groups = [] if expand else g.groups()
    owner = {n.id: k for k, grp in enumerate(groups) for n in grp.nodes}
    check_size(sum(1 for n in g.nodes if n.id not in owner) + len(groups), max_nodes, "html")

    boxes, box_of_node, exit_box, links = [], {}, {}, []
    handed_on = {id(grp.fused_into): grp.module for grp in groups if grp.fused_into}
    for n in g.nodes:
        if n.id in owner and n is not groups[owner[n.id]].output:
            continue
        if n.id in owner:
            chain = [grp for grp in groups if grp.output is n]
            made = [_group_box(grp, g, handed_on.get(id(grp))) for grp in chain]
        else:
            sub = op_text(n) if n.kind == "op" else n.role
            if not n.is_scalar:
                sub += " " + shape_text(n.shape)
            fuses = getattr(n.tensor._op, "fuses", None) if n.kind == "op" else None
            made = [{"key": f"n{n.id}", "label": n.label, "kind": n.kind, "role": n.role,
                     "sub": sub, "extras": [f"fuses {fuses}"] if fuses else [], "value": fmt(n.value), "grad": n.grad_text(),
                     "node": n, "fwd_text": forward_text(n),
                     "bwd_text": _backward_text(rows.get(n.id), g, n), "sum": _sum_text(g, n),
                     "shows_output": True}]
        for k, box in enumerate(made):
            out = box["node"]
            box["vblock"] = _block(out.value, "value") if box["shows_output"] else None
            box["gblock"] = None if out.adjoint is None or not box["shows_output"] else \
                _block(out.adjoint, "grad")
            box["id"] = len(boxes)
            _size_box(box)
            if k:                          # a fused node's work passes from box to box
                links.append((boxes[-1]["id"], box["id"], out))
            boxes.append(box)
        for m in (groups[owner[n.id]].nodes if n.id in owner else [n]):
            box_of_node[m.id] = made[0]["id"]
        exit_box[n.id] = made[-1]["id"]

    edges, seen = [], set()
    for a, b, out in links:
        edges.append({"id": len(edges), "src": a, "dst": b, "port": 0, "nports": 1,
                      "value": "fused", "contrib": None, "lit": None, "grad": False,
                      "info": f"{boxes[a]['label']} and {boxes[b]['label']} run as one "
                              f"fused node ({op_text(out)})"})
    for e in g.edges:
        if e.src.id in owner and owner[e.src.id] == owner.get(e.dst.id):
            continue                       # inside one module's box
        a, b = exit_box[e.src.id], box_of_node[e.dst.id]
        if a == b:
            continue
        grouped = boxes[a]["kind"] == "group" or boxes[b]["kind"] == "group"
        if grouped and (a, b) in seen:
            continue
        seen.add((a, b))
        if grouped:
            contrib = None if e.src.adjoint is None else \
                "grad " + _wire(e.src.adjoint, grad=True)
            lit = contrib
            info = f"{e.src.label} → {boxes[b]['label']}: {shape_text(e.src.shape)}"
        else:
            contrib = None if e.contrib is None else "grad " + _wire(e.contrib, grad=True)
            lit, info = _lit_text(e), _edge_info(e, g.root)
        nin = len(e.dst.in_edges) if not grouped else 1
        edges.append({"id": len(edges), "src": a, "dst": b,
                      "port": e.index if not grouped else 0, "nports": nin,
                      "value": _wire(e.src.value), "contrib": contrib, "lit": lit,
                      "grad": e.carries_grad, "info": info})
    pairs: dict = {}
    for e in edges:
        pairs.setdefault((e["src"], e["dst"]), []).append(e)
    for same in pairs.values():
        for k, e in enumerate(same):
            e["bend"] = (k - (len(same) - 1) / 2) * 40.0
    width, height = _layout(boxes, edges)

    # steps: the inputs, each op forward, the seed, each node backward, the summary
    starts = [b for b in boxes if b["kind"] in ("param", "const")]
    steps = [{"kind": "start", "box": None,
              "text": "The inputs: " + "; ".join(
                  f"{b['label']} = {b['value']}" + ("" if b["role"] != "parameter" else
                                                    " (parameter)") for b in starts)
              + ". Press Next (→) to run the forward pass."}]
    for b in boxes:
        if b["kind"] in ("param", "const"):
            b["fwd"] = 0
        else:
            b["fwd"] = len(steps)
            steps.append({"kind": "forward", "box": b["id"], "text": b["fwd_text"]})
    backward_ok = g.root.requires_grad and not g.released
    for b in reversed(boxes):
        b["bwd"] = None
        n = b["node"]
        if not backward_ok or not n.requires_grad or b["grad"] is None or not b["bwd_text"]:
            continue
        b["bwd"] = len(steps)
        steps.append({"kind": "backward", "box": b["id"], "text": b["bwd_text"]})
    steps.append({"kind": "done", "box": None, "text": _done_text(g, groups)})
    for b in boxes:
        del b["node"]
    return {"title": title or f"How backpropagation computes the gradient of {g.root.label}",
            "root": g.root.label, "boxes": boxes, "edges": edges, "steps": steps,
            "width": width, "height": height, "notes": ex.notes,
            "explanation": ex.to_html()}


def _group_box(grp, g, handed_to: str | None) -> dict:
    """A collapsed nn.Module: its ops and parameters (with their gradient norms)."""
    out = grp.output
    label = grp.module or "model"
    if grp.fused_into is not None:
        base = grp.fused_into
        sub = f"fused into {base.module}'s {base.fuses or op_text(out)} node"
        extras = []
    else:
        sub = f"{count(grp.n_ops, 'op')} · {count(grp.n_params, 'param')}"
        if grp.fuses:
            sub += f" · fuses {grp.fuses}"
        extras = []
        for p in grp.params:   # each parameter's gradient norm, once backward is done
            name = p.label[len(grp.module) + 1:] if p.label.startswith(grp.module + ".") \
                else p.label
            norm = "–" if p.adjoint is None else \
                fmt(float(np.linalg.norm(np.asarray(p.adjoint, dtype=np.float64))), 3)
            extras.append(f"‖∂{g.root.label}/∂{name}‖ = {norm}")
    shows = handed_to is None
    fwd = (f"{label}: output {shape_text(out.shape)} = {summarize(out.value)}" if shows else
           f"{label}: computes its part of the fused {op_text(out)} node; the output is "
           f"{handed_to}'s")
    bwd = (f"gradient at the output of {label}: {out.grad_text() or '–'}" if shows else
           f"{label}: its parameters' gradients come from the fused node's rule")
    if extras:
        bwd += "; parameter gradient norms: " + ", ".join(extras)
    return {"key": f"g{id(grp)}", "label": label, "kind": "group", "role": "module",
            "sub": sub, "extras": extras, "value": summarize(out.value),
            "grad": out.grad_text(), "node": out, "fwd_text": fwd, "bwd_text": bwd,
            "shows_output": shows}


def _done_text(g, groups) -> str:
    if g.released:
        return ("Done. (backward() released this graph: draw it before backward, or use "
                "retain_graph=True)")
    leaves = [n for n in g.leaves if n.adjoint is not None]
    if not leaves:
        return "Done."
    f = g.root.label
    params = [n for n in leaves if n.role == "parameter"]
    inputs = [n for n in leaves if n.role != "parameter"]
    parts = []
    if inputs:
        parts.append("The gradients of the inputs: " + ", ".join(
            f"∂{f}/∂{n.label} = {fmt(n.adjoint)}" for n in inputs))
    if params:
        parts.append("The gradients of the parameters: " + ", ".join(
            f"∂{f}/∂{n.label} = {fmt(n.adjoint)}" if n.is_scalar else
            f"∂{f}/∂{n.label} = {summarize(n.adjoint, 3)} "
            f"(norm {fmt(float(np.linalg.norm(np.asarray(n.adjoint, np.float64))), 3)})"
            for n in params))
    return "Done. " + "; ".join(parts)


# ---------------------------------------------------------------------------
# layout
# ---------------------------------------------------------------------------
def _columns(boxes: list, edges: list) -> list:
    """Columns by depth, each ordered by the barycenter of its neighbours."""
    parents = {b["id"]: [] for b in boxes}
    children = {b["id"]: [] for b in boxes}
    for e in edges:
        parents[e["dst"]].append(e["src"])
        children[e["src"]].append(e["dst"])
    depth = {}
    for b in boxes:                      # boxes come in topological order
        ps = parents[b["id"]]
        depth[b["id"]] = 1 + max(depth[p] for p in ps) if ps else 0
    for b in reversed(boxes):            # inputs sit just left of their first consumer
        if not parents[b["id"]] and children[b["id"]]:
            depth[b["id"]] = max(0, min(depth[c] for c in children[b["id"]]) - 1)
    ncols = max(depth.values()) + 1 if depth else 1
    cols = [[] for _ in range(ncols)]
    for b in boxes:
        cols[depth[b["id"]]].append(b["id"])
    pos = {bid: float(i) for col in cols for i, bid in enumerate(col)}

    def sweep(neigh, order):
        for c in order:
            col = cols[c]
            keys = {}
            for bid in col:
                ns = [pos[n] for n in neigh[bid]]
                keys[bid] = sum(ns) / len(ns) if ns else pos[bid]
            col.sort(key=lambda b: keys[b])
            for i, bid in enumerate(col):
                pos[bid] = float(i)

    for _ in range(3):
        sweep(parents, range(1, ncols))
        sweep(children, range(ncols - 2, -1, -1))
    for b in boxes:
        b["col"] = depth[b["id"]]
    return cols


def _label_size(e: dict) -> tuple[float, float]:
    texts = [e["value"], e["contrib"] or "", e["lit"] or ""]
    return max(len(t) for t in texts) * CHAR_W["mono"], 2 * LINE_H


def _layout(boxes: list, edges: list) -> tuple[int, int]:
    """Place boxes (x, y) and edge labels (lx, ly); returns the picture's size.

    Each edge's label goes in the gap just before its destination's column (a value
    used by many later nodes spreads its labels over their gaps), which is made wide
    enough for the widest label in it; within a gap the labels are stacked where their
    curves pass, pushed apart so that none overlaps another.
    """
    cols = _columns(boxes, edges)
    by_id = {b["id"]: b for b in boxes}
    ncols = len(cols)
    col_w = [max((by_id[i]["w"] for i in col), default=MIN_BOX_W) for col in cols]
    lanes: list[list] = [[] for _ in range(ncols)]
    for e in edges:
        lanes[by_id[e["dst"]]["col"] - 1].append(e)
    gap = [max([MIN_GAP] + [_label_size(e)[0] + 2 * LANE_PAD for e in lanes[c]])
           for c in range(ncols)]
    heights = [sum(by_id[i]["h"] for i in col) + ROW_GAP * (len(col) - 1) for col in cols]
    tallest = max(heights) if heights else 0
    # room above the boxes for edges that arch over a column
    top = PAD + (60 if any(by_id[e["dst"]]["col"] - by_id[e["src"]]["col"] > 1
                           for e in edges) else 0)
    x = PAD
    col_x = []
    for c, col in enumerate(cols):
        col_x.append(x)
        y = top + (tallest - heights[c]) / 2
        for bid in col:
            b = by_id[bid]
            b["x"] = round(x + (col_w[c] - b["w"]) / 2)
            b["y"] = round(y)
            y += b["h"] + ROW_GAP
        x += col_w[c] + gap[c]
    width = x - gap[-1] + PAD if cols else 2 * PAD
    bottom = top + tallest
    for c, lane in enumerate(lanes):
        if not lane:
            continue
        cx = col_x[c] + col_w[c] + gap[c] / 2
        wanted = []
        for e in lane:
            pts = _curve_points(by_id[e["src"]], by_id[e["dst"]], e)
            _, py = min(pts, key=lambda p: abs(p[0] - cx))
            wanted.append((py, e))
        wanted.sort(key=lambda t: t[0])
        _, h = _label_size(lane[0])
        prev = -1e9
        for py, e in wanted:
            y = max(py, prev + h + 4)
            e["lx"], e["ly"] = round(cx, 1), round(y, 1)
            prev = y
            bottom = max(bottom, y + h / 2 + 4)
    return int(width), int(bottom + PAD)


def _edge_curve(a: dict, b: dict, e: dict) -> tuple:
    """The cubic Bézier of an edge, as (P0, P1, P2, P3).

    Edges that skip a column arch above the boxes between (they would run behind
    them), and parallel edges (``x * x``) bend apart.
    """
    x1, y1 = a["x"] + a["w"], a["y"] + a["h"] / 2
    x2 = b["x"]
    y2 = b["y"] + b["h"] * (e["port"] + 1) / (e["nports"] + 1)
    dx = max(40.0, (x2 - x1) / 2)
    bend = e.get("bend", 0.0)
    lift = 0.0
    if b["col"] - a["col"] > 1:
        lift = -(min(y1, y2) - PAD + 10)      # up into the band above the boxes
    c1 = (x1 + dx, y1 + bend + lift)
    c2 = (x2 - dx, y2 + bend + lift)
    return (x1, y1), c1, c2, (x2, y2)


def _curve_points(a: dict, b: dict, e: dict, n: int = 40) -> list:
    p0, p1, p2, p3 = _edge_curve(a, b, e)
    out = []
    for k in range(n + 1):
        t = k / n
        u = 1 - t
        out.append(tuple(u ** 3 * q0 + 3 * u * u * t * q1 + 3 * u * t * t * q2 + t ** 3 * q3
                         for q0, q1, q2, q3 in zip(p0, p1, p2, p3)))
    return out


def _edge_path(a: dict, b: dict, e: dict) -> str:
    p0, p1, p2, p3 = _edge_curve(a, b, e)
    return (f"M{p0[0]:.1f},{p0[1]:.1f} C{p1[0]:.1f},{p1[1]:.1f} {p2[0]:.1f},{p2[1]:.1f} "
            f"{p3[0]:.1f},{p3[1]:.1f}")


# ---------------------------------------------------------------------------
# the SVG
# ---------------------------------------------------------------------------
def _heat_colour(v: float | None) -> str:
    """Diverging: blue for negative, white for 0, red for positive (v in [-1, 1])."""
    if v is None:
        return "#9e9e9e"
    t = max(-1.0, min(1.0, v))
    if t >= 0:
        return f"rgb(255,{round(255 * (1 - t))},{round(255 * (1 - t))})"
    return f"rgb({round(255 * (1 + t))},{round(255 * (1 + t))},255)"


def _svg_block(blk: dict | None, cls: str, cx: float, y: float, w: float) -> tuple[str, float]:
    """One value/gradient block at height ``y``; returns (svg, height)."""
    e_ = _html.escape
    if blk is None:
        return f'<g class="{cls}"></g>', 0.0
    if blk["type"] == "scalar":
        text = f'<text class="num" x="{cx}" y="{y + 13}">{e_(blk["text"])}</text>'
        return f'<g class="{cls}">{text}</g>', LINE_H
    title = f'<text class="small" x="{cx}" y="{y + 13}">{e_(blk["title"])}</text>'
    out = [f'<g class="{cls}">{title}']
    h = LINE_H
    if blk["type"] == "matrix":
        for row in blk["rows"]:
            out.append(f'<text class="small cells" x="{cx}" y="{y + h + 11}" '
                       f'xml:space="preserve">{e_(row)}</text>')
            h += CELL_H
    else:
        cells = blk["cells"]
        x0 = cx - len(cells[0]) * THUMB / 2
        for i, row in enumerate(cells):
            for j, v in enumerate(row):
                out.append(f'<rect class="heat" x="{x0 + j * THUMB:.1f}" '
                           f'y="{y + h + i * THUMB:.1f}" width="{THUMB}" height="{THUMB}" '
                           f'fill="{_heat_colour(v)}"/>')
        h += len(cells) * THUMB + 4
        out.append(f'<text class="small" x="{cx}" y="{y + h + 11}">{e_(blk["range"])}</text>')
        h += CELL_H
    out.append("</g>")
    return "".join(out), h


def _svg(model: dict) -> str:
    """The static picture; the script only toggles classes and texts on it."""
    e_ = _html.escape
    boxes = model["boxes"]
    out = [(f'<svg id="chainrule-graph" xmlns="http://www.w3.org/2000/svg" '
            f'width="{model["width"]}" height="{model["height"]}" '
            f'viewBox="0 0 {model["width"]} {model["height"]}" role="img" '
            f'aria-label="computation graph">'),
           ('<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="9" '
            'markerHeight="9" markerUnits="userSpaceOnUse" orient="auto-start-reverse">'
            '<path d="M0,0 L10,5 L0,10 z" fill="#546e7a"/></marker></defs>')]
    labels = []
    for e in model["edges"]:
        a, b = boxes[e["src"]], boxes[e["dst"]]
        out.append(
            f'<g class="edge{"" if e["grad"] else " nograd"}" id="edge-{e["id"]}" '
            f'data-src="{e["src"]}" data-dst="{e["dst"]}" tabindex="0" role="button" '
            f'aria-label="{e_(e["info"])}"><title>{e_(e["info"])}</title>'
            f'<path class="hit" d="{_edge_path(a, b, e)}"/>'
            f'<path class="line" id="edge-path-{e["id"]}" d="{_edge_path(a, b, e)}" '
            f'marker-end="url(#arrow)"/></g>')
        lx, ly = e["lx"], e["ly"]
        labels.append(
            f'<g class="elabel" id="elabel-{e["id"]}" data-edge="{e["id"]}">'
            f'<text class="evalue" x="{lx}" y="{ly - 5}"></text>'
            f'<text class="egrad" x="{lx}" y="{ly + 13}"></text>'
            f'<text class="elit" x="{lx}" y="{ly + 13}"></text></g>')
    for b in boxes:
        w, h = b["w"], b["h"]
        cx = w / 2
        rx = min(18, h / 3) if b["kind"] in ("param", "const") else 6
        bwd = "" if b["bwd"] is None else str(b["bwd"])
        y = PAD_Y
        parts = [f'<rect class="box" width="{w}" height="{h}" rx="{rx:.0f}" ry="{rx:.0f}"/>',
                 f'<text class="label" x="{cx}" y="{y + 14}">{e_(b["label"])}</text>']
        y += LINE_H
        if b["sub"]:
            parts.append(f'<text class="sub" x="{cx}" y="{y + 13}">{e_(b["sub"])}</text>')
            y += LINE_H
        for extra in b["extras"]:
            parts.append(f'<text class="small norm" x="{cx}" y="{y + 11}">{e_(extra)}</text>')
            y += CELL_H
        svg, bh = _svg_block(b["vblock"], "value", cx, y, w)
        parts.append(svg)
        if b["vblock"] is not None:
            parts.append(f'<text class="unknown" x="{cx}" y="{y + 13}">value ?</text>')
        y += bh
        svg, _ = _svg_block(b["gblock"], "grad", cx, y, w)
        parts.append(svg)
        if b.get("sum"):
            parts.append(f'<text class="num sum" x="{cx}" y="{y + 13}">{e_(b["sum"])}</text>')
        out.append(
            f'<g class="node {b["kind"]}" id="node-{b["id"]}" data-id="{b["id"]}" '
            f'data-label="{e_(b["label"])}" data-kind="{b["kind"]}" data-role="{b["role"]}" '
            f'data-fwd="{b["fwd"]}" data-bwd="{bwd}" transform="translate({b["x"]},{b["y"]})">'
            f'<title>{e_(b["label"])}: {e_(b["sub"])}</title>' + "".join(parts) + "</g>")
    out.extend(labels)        # on top of everything
    out.append("</svg>")
    return "".join(out)


def html(tensor: Tensor, path=None, expand: bool = False, title: str | None = None,
         max_nodes: int = 300) -> str:
    """Write (and return) the interactive page for the graph behind ``tensor``.

    ``path=None`` only returns the HTML text. Build the page before ``backward()``
    (or after ``backward(retain_graph=True)``) so the backward steps can be shown.
    Graphs over ``max_nodes`` boxes are refused, as by :func:`chainrule.viz.draw`.
    """
    check_root(tensor, "html")
    model = page_model(tensor, expand=expand, title=title, max_nodes=max_nodes)
    keep = ("boxes", "edges", "steps", "root")
    slim = {k: model[k] for k in keep}
    slim["boxes"] = [{k: v for k, v in b.items() if k not in ("vblock", "gblock")}
                     for b in model["boxes"]]
    data = json.dumps(slim, ensure_ascii=False).replace("</", "<\\/")
    notes = "".join(f'<p class="note">{_html.escape(n)}</p>' for n in model["notes"])
    page = (TEMPLATE.replace("%%TITLE%%", _html.escape(model["title"]))
            .replace("%%NOTES%%", notes)
            .replace("%%SVG%%", _svg(model))
            .replace("%%EXPLANATION%%", model["explanation"])
            .replace("%%DATA%%", data))
    if path is not None:
        with atomic_write(Path(path), "wb") as fh:
            fh.write(page.encode("utf-8"))
    return page
