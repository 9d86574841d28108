"""``cr.viz.html``: one self-contained page that steps through both passes.

The page holds everything inline (SVG, CSS, a little JavaScript, the numbers as
JSON): it opens from a file with no network. A learner presses Next (or →) to
compute the graph node by node, forward, then to send the gradient back node by
node; the node being computed is highlighted and the numbers travel along the
edges: values on the forward steps, adjoint contributions ∂f/∂c · ∂c/∂a on the
backward ones. At the end every leaf shows its gradient.

Layout is done here, not by Graphviz: columns by depth (inputs on the left, the
output on the right, as in the notes' circuits), rows ordered by the barycenter
of the neighbours so edges cross little.

Stable hooks for tests and for styling: ``#chainrule-graph``, ``g.node`` with
``id="node-N"``, ``data-label``, ``data-kind`` (param / const / op / group),
``data-fwd`` / ``data-bwd`` (the step that computes it), text elements
``.value`` and ``.grad``; edges ``g.edge`` with ``id="edge-N"``; buttons
``#prev``, ``#next``, ``#reset``, ``#end``; ``#step-index`` / ``#step-count``
and ``#step-text``; ``document.body.dataset.step``.

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

from ..tensor import Tensor
from ._template import TEMPLATE
from .explain import Explanation
from .graph import Node, count, fmt, shape_text, summarize

__all__ = ["html", "page_model"]

BOX_W, BOX_H = 150, 66
COL_GAP, ROW_GAP = 110, 34
PAD = 30
TOP = PAD + 70     # room above the first row for edges that arch over a column
_SYMBOL = {"add": "+", "sub": "−", "mul": "·", "div": "/"}


def _forward_text(n: Node) -> str:
    """``add1 = x + y = -2 + 5 = 3``: the op with its inputs' names and numbers."""
    ps = n.parents
    v = fmt(n.value)
    if n.kind != "op":
        return f"{n.label} = {v}" + (" (input)" if n.kind == "param" else " (constant)")
    vals = [fmt(p.value) for p in ps]
    vals_p = [f"({s})" if s.startswith("-") and len(ps) > 1 else s for s in vals]
    if n.op in _SYMBOL and len(ps) == 2:
        sym = _SYMBOL[n.op]
        return (f"{n.label} = {ps[0].label} {sym} {ps[1].label} = "
                f"{vals_p[0]} {sym} {vals_p[1]} = {v}")
    if n.op == "pow" and len(ps) == 1:
        c = fmt(n.tensor._ctx) if isinstance(n.tensor._ctx, (int, float)) else "c"
        return f"{n.label} = {ps[0].label}^{c} = {vals_p[0]}^{c} = {v}"
    if n.op == "neg":
        return f"{n.label} = −{ps[0].label} = −({vals[0]}) = {v}"
    names = ", ".join(p.label for p in ps)
    return f"{n.label} = {n.op}({names}) = {n.op}({', '.join(vals)}) = {v}"


def _layout(boxes: list, edges: list) -> tuple[int, int]:
    """Columns by depth, rows by barycenter; writes x, y into each box dict and returns
    (columns, boxes in the tallest column)."""
    by_id = {b["id"]: b for b in boxes}
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
    pos = {}
    for col in cols:
        for i, bid in enumerate(col):
            pos[bid] = float(i)

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
    tallest = max(len(c) for c in cols) if cols else 1
    for c, col in enumerate(cols):
        offset = (tallest - len(col)) * (BOX_H + ROW_GAP) / 2
        for i, bid in enumerate(col):
            by_id[bid]["x"] = PAD + c * (BOX_W + COL_GAP)
            by_id[bid]["y"] = TOP + offset + i * (BOX_H + ROW_GAP)
    return ncols, tallest


def page_model(tensor: Tensor, expand: bool = False, title: str | None = None) -> dict:
    """Boxes, edges and steps for the page (plain data: also handy for tests)."""
    ex = Explanation(tensor, max_paths=10)
    g = ex.graph
    rows = {r.node: r for r in ex.backward}
    groups = [] if expand else g.groups()
    owner = {n.id: k for k, grp in enumerate(groups) for n in grp.nodes}

    boxes, key_of = [], {}
    for n in g.nodes:
        if n.id in owner:
            grp = groups[owner[n.id]]
            if n is not grp.output:
                continue
            key = f"g{owner[n.id]}"
            out = grp.output
            boxes.append({
                "key": key, "label": grp.module or "model", "kind": "group",
                "sub": f"{count(grp.n_ops, 'op')} · {count(grp.n_params, 'param')}",
                "value": summarize(out.value), "grad": out.grad_text(), "node": out,
                "fwd_text": f"{grp.module}: output {shape_text(out.shape)} = "
                            f"{summarize(out.value)}",
                "bwd_text": f"gradient at the output of {grp.module}: {out.grad_text() or '–'}",
            })
        else:
            key = f"n{n.id}"
            row = rows.get(n.label)
            bwd = None
            if row is not None:
                bwd = row.formula + ("" if row.numbers in ("seed", "", "no path to the root")
                                     else f" = {row.numbers}") + f" = {row.result}"
                if row.numbers == "seed":
                    r = g.root.label
                    bwd = f"{row.formula}: the seed, ∂{r}/∂{r} = 1"
            sub = n.op if n.kind == "op" else ("input" if n.kind == "param" else "constant")
            if not n.is_scalar:
                sub += " " + shape_text(n.shape)
            boxes.append({"key": key, "label": n.label, "kind": n.kind, "sub": sub,
                          "value": fmt(n.value), "grad": n.grad_text(), "node": n,
                          "fwd_text": _forward_text(n), "bwd_text": bwd})
        key_of[n.id] = key
    for i, b in enumerate(boxes):
        b["id"] = i
    index = {b["key"]: b["id"] for b in boxes}

    def box_of(n: Node) -> int:
        if n.id in owner:
            return index[f"g{owner[n.id]}"]
        return index[key_of[n.id]]

    edges, seen = [], set()
    for e in g.edges:
        a, b = box_of(e.src), box_of(e.dst)
        if a == b:
            continue
        grouped = boxes[a]["kind"] == "group" or boxes[b]["kind"] == "group"
        if grouped and (a, b) in seen:
            continue
        seen.add((a, b))
        local = None if grouped else e.local_text()
        contrib = fmt(e.src.adjoint) if grouped and e.src.adjoint is not None else \
            e.contrib_text()
        nin = len(e.dst.in_edges) if not grouped else 1
        edges.append({"id": len(edges), "src": a, "dst": b, "port": e.index if not grouped else 0,
                      "nports": nin, "value": fmt(e.src.value) if e.src.is_scalar else
                      summarize(e.src.value), "local": local, "contrib": contrib,
                      "grad": e.carries_grad,
                      "title": (f"∂{e.dst.label}/∂{e.src.label} = {local}" if local else
                                shape_text(e.src.shape))})
    pairs: dict = {}
    for e in edges:
        pairs.setdefault((e["src"], e["dst"]), []).append(e)
    for same in pairs.values():
        for k, e in enumerate(same):
            e["bend"] = (k - (len(same) - 1) / 2) * 44.0
    ncols, tallest = _layout(boxes, edges)

    # steps: the inputs, each op forward, the seed, each node backward, the summary
    steps = [{"kind": "start", "box": None,
              "text": "The inputs: " + ", ".join(
                  f"{b['label']} = {b['value']}" for b in boxes if b["kind"] in ("param", "const")
                  and b["node"].is_scalar) + ". Press Next (→) to run the forward pass."}]
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
    leaves = [b for b in boxes if b["kind"] == "param" and b["grad"] is not None]
    steps.append({"kind": "done", "box": None, "text": (
        "Done. The gradients of the inputs: " + ", ".join(
            f"∂{g.root.label}/∂{b['label']} = {b['grad']}" for b in leaves)) if leaves else
        "Done." + (" (backward() released this graph: draw it before backward, or use "
                   "retain_graph=True)" if g.released else "")})
    for b in boxes:
        del b["node"]
    width = PAD * 2 + ncols * BOX_W + (ncols - 1) * COL_GAP
    height = TOP + PAD + tallest * BOX_H + (tallest - 1) * ROW_GAP
    return {"title": title or f"How backpropagation computes the gradient of {g.root.label}",
            "root": g.root.label, "boxes": boxes, "edges": edges, "steps": steps,
            "width": width, "height": height, "notes": ex.notes,
            "explanation": ex.to_html()}


def _edge_curve(a: dict, b: dict, e: dict) -> tuple:
    """The cubic Bézier of an edge, as (P0, P1, P2, P3).

    Edges that skip a column arch above the boxes between (they would run behind
    them), and parallel edges (``x * x``) bend apart so their numbers don't overlap.
    """
    x1, y1 = a["x"] + BOX_W, a["y"] + BOX_H / 2
    x2 = b["x"]
    y2 = b["y"] + BOX_H * (e["port"] + 1) / (e["nports"] + 1)
    dx = max(40.0, (x2 - x1) / 2)
    bend = e.get("bend", 0.0)
    span = round((x2 - x1 + COL_GAP) / (BOX_W + COL_GAP))
    lift = 0.0
    if span > 1:
        lift = -(0.75 * (BOX_H + ROW_GAP) + 12 * (span - 2))
    c1 = (x1 + dx, y1 + bend + lift)
    c2 = (x2 - dx, y2 + bend + lift)
    return (x1, y1), c1, c2, (x2, y2)


def _edge_path(a: dict, b: dict, e: dict) -> str:
    p0, p1, p2, p3 = _edge_curve(a, b, e)
    return (f"M{p0[0]:.1f},{p0[1]:.1f} C{p1[0]:.1f},{p1[1]:.1f} {p2[0]:.1f},{p2[1]:.1f} "
            f"{p3[0]:.1f},{p3[1]:.1f}")


def _edge_mid(a: dict, b: dict, e: dict) -> tuple:
    p0, p1, p2, p3 = _edge_curve(a, b, e)
    return tuple(0.125 * q0 + 0.375 * q1 + 0.375 * q2 + 0.125 * q3
                 for q0, q1, q2, q3 in zip(p0, p1, p2, p3))


def _svg(model: dict) -> str:
    """The static picture; the script only toggles classes and texts on it."""
    e_ = _html.escape
    boxes = model["boxes"]
    out = [(f'<svg id="chainrule-graph" xmlns="http://www.w3.org/2000/svg" '
           f'width="{model["width"]}" height="{model["height"]}" '
           f'viewBox="0 0 {model["width"]} {model["height"]}" role="img" '
           f'aria-label="computation graph">'),
           ('<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="9" '
           'markerHeight="9" markerUnits="userSpaceOnUse" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
           'fill="#78909c"/></marker></defs>')]
    for e in model["edges"]:
        a, b = boxes[e["src"]], boxes[e["dst"]]
        d = _edge_path(a, b, e)
        mx, my = _edge_mid(a, b, e)
        out.append(
            f'<g class="edge{"" if e["grad"] else " nograd"}" id="edge-{e["id"]}" '
            f'data-src="{e["src"]}" data-dst="{e["dst"]}"><title>{e_(e["title"])}</title>'
            f'<path id="edge-path-{e["id"]}" d="{d}" marker-end="url(#arrow)"/>'
            f'<text class="evalue" x="{mx:.1f}" y="{my - 6:.1f}">{e_(e["value"])}</text>'
            f'<text class="egrad" x="{mx:.1f}" y="{my + 14:.1f}">'
            f'{e_(e["contrib"] or "")}</text></g>')
    for b in boxes:
        x, y = b["x"], b["y"]
        rx = 30 if b["kind"] in ("param", "const") else 8
        bwd = "" if b["bwd"] is None else str(b["bwd"])
        out.append(
            f'<g class="node {b["kind"]}" id="node-{b["id"]}" data-id="{b["id"]}" '
            f'data-label="{e_(b["label"])}" data-kind="{b["kind"]}" data-fwd="{b["fwd"]}" '
            f'data-bwd="{bwd}" transform="translate({x},{y})">'
            f'<title>{e_(b["label"])}: {e_(b["sub"])}</title>'
            f'<rect width="{BOX_W}" height="{BOX_H}" rx="{rx}" ry="{rx}"/>'
            f'<text class="label" x="{BOX_W / 2}" y="17">{e_(_clip(b["label"], 18))}'
            f'<tspan class="sub" dx="6">{e_(_clip(b["sub"], 22 - min(len(b["label"]), 14)))}'
            f'</tspan></text>'
            f'<text class="value" x="{BOX_W / 2}" y="37">{e_(_clip(b["value"], 24))}</text>'
            f'<text class="grad" x="{BOX_W / 2}" y="56">'
            f'{e_(_clip("grad " + b["grad"], 24)) if b["grad"] is not None else ""}</text>'
            f"</g>")
    out.append("</svg>")
    return "".join(out)


def _clip(s: str, n: int) -> str:
    return s if len(s) <= n else s[: max(1, n - 1)] + "…"


def html(tensor: Tensor, path=None, expand: bool = False, title: str | None = None) -> str:
    """Write (and return) the interactive page for the graph behind ``tensor``.

    ``path=None`` only returns the HTML text. Build the page before ``backward()``
    (or after ``backward(retain_graph=True)``) so the backward steps can be shown.
    """
    from .dot import _write_atomic

    model = page_model(tensor, expand=expand, title=title)
    data = json.dumps({k: model[k] for k in ("boxes", "edges", "steps", "root")},
                      ensure_ascii=False).replace("</", "<\\/")
    notes = "".join(f'<p class="note">{_html.escape(n)}</p>' for n in model["notes"])
    page = (TEMPLATE.replace("%%TITLE%%", _html.escape(model["title"]))
            .replace("%%NOTES%%", notes)
            .replace("%%SVG%%", _svg(model))
            .replace("%%EXPLANATION%%", model["explanation"])
            .replace("%%DATA%%", data))
    if path is not None:
        _write_atomic(Path(path), page.encode("utf-8"))
    return page
