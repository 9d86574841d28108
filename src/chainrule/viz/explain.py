"""``cr.explain``: the chain rule, written out with the numbers filled in.

>>> import chainrule as cr
>>> x = cr.tensor(-2.0, requires_grad=True, name="x")
>>> y = cr.tensor(5.0, requires_grad=True, name="y")
>>> z = cr.tensor(-4.0, requires_grad=True, name="z")
>>> e = cr.explain((x + y) * z)
>>> e.gradients["x"], e.gradients["z"]
(-4.0, 3.0)
>>> print(e)                                   # doctest: +ELLIPSIS
Explanation of f = -12
<BLANKLINE>
1. Forward pass (topological order)
...
  ∂f/∂add1 = ∂f/∂f · z = 1 · (-4) = -4
...
"""

from __future__ import annotations

import html as _html
from dataclasses import dataclass, field

import numpy as np

from .._tensor import Tensor
from .graph import Edge, Graph, Node, check_root, fmt, shape_text
from .notation import local_symbol, num, op_text, rule_text, tensor_rule

__all__ = ["Explanation", "explain"]


_ARG = "₁₂₃₄₅₆₇₈₉"


def _multi(e: Edge) -> bool:
    """Does the edge's parent feed the same child more than once (x * x)?"""
    return sum(1 for p in e.dst.parents if p is e.src) > 1


def _factor(formula: str) -> str:
    """A local-derivative formula as a factor: compound ones in parentheses."""
    if formula.startswith("-") or " " in formula:
        return f"({formula})"
    return formula


@dataclass
class ForwardRow:
    node: str
    node_id: int
    op: str
    inputs: str
    value: str
    shape: str


@dataclass
class BackwardRow:
    node: str
    node_id: int          # the node's position in the graph: labels are for reading
    formula: str          # ∂f/∂a = ∂f/∂c · (local) + ...
    numbers: str          # 1 · (-4) + ...
    result: str


@dataclass
class PathRow:
    nodes: list           # labels leaf -> root
    factors: str          # formulas of the local derivatives along the path
    numbers: str          # their values
    product: str          # what the path carries


@dataclass
class PathSection:
    leaf: str
    total: int            # all paths, counted by dynamic programming
    rows: list = field(default_factory=list)
    omitted: int = 0
    path_sum: str | None = None
    gradient: str | None = None
    matches: bool | None = None
    finite: bool = True   # False: the sum or the gradient has inf/nan, nothing to compare


class Explanation:
    """Forward table, backward pass and path decomposition of one root tensor.

    ``str(e)`` is the text; ``e.to_markdown()`` and ``e.to_html()`` (used by
    notebooks through ``_repr_html_``) say the same. ``e.gradients`` maps leaf
    labels to their gradients (floats for scalars, arrays otherwise); ``e.graph``
    is the underlying :class:`chainrule.viz.graph.Graph`.
    """

    def __init__(self, root: Tensor, wrt=None, max_paths: int = 10, digits: int = 6):
        self.graph = Graph(root)
        self.max_paths = int(max_paths)
        self.digits = digits
        g = self.graph
        self.root = g.root
        if wrt is None:
            targets = g.leaves
        else:
            items = wrt if isinstance(wrt, (list, tuple)) else [wrt]
            targets = [g.node(w) for w in items]
        self.targets: list[Node] = targets
        self.notes: list[str] = self._notes()
        self.forward = self._forward_rows()
        self.backward = self._backward_rows()
        self.paths = [self._path_section(n) for n in targets]

    # -- the numbers --------------------------------------------------------
    @property
    def gradients(self) -> dict:
        """``{leaf label: gradient}`` as the backward pass found it."""
        out = {}
        for n in self.graph.leaves:
            if n.adjoint is not None:
                out[n.label] = float(n.adjoint) if n.is_scalar else np.asarray(n.adjoint)
        return out

    def _d(self, node: Node) -> str:
        return f"∂{self.root.label}/∂{node.label}"

    def _notes(self) -> list:
        g, notes = self.graph, []
        if not g.root.requires_grad:
            notes.append("The root does not require grad: there is no backward pass to "
                         "explain (set requires_grad=True on an input).")
        elif g.released:
            notes.append("backward() has released this graph's rules, so local derivatives "
                         "and intermediate adjoints are gone; leaves show their .grad. Call "
                         "explain before backward(), or use backward(retain_graph=True).")
        if g.root.requires_grad and not g.root.is_scalar:
            notes.append(f"The root has shape {g.root.shape}: it is explained as its sum "
                         "(the backward pass starts from ones).")
        if g.stale:
            notes.append("Values used by " + ", ".join(g.stale) + " were changed in place "
                         "after they were used: backward() would refuse this graph, so no "
                         "gradients are shown.")
        return notes

    def _forward_rows(self) -> list:
        rows = []
        for n in self.graph.nodes:
            if n.kind == "op":
                op = op_text(n)
                inputs = ", ".join(p.label for p in n.parents)
            else:
                op = n.role
                inputs = ""
            rows.append(ForwardRow(n.label, n.id, op, inputs, fmt(n.value, self.digits),
                                   shape_text(n.shape)))
        return rows

    def _backward_rows(self) -> list:
        g = self.graph
        if not g.root.requires_grad:
            return []
        if g.released:
            return [BackwardRow(n.label, n.id, f"{self._d(n)} (from .grad)", "",
                                fmt(n.adjoint, self.digits))
                    for n in reversed(g.nodes) if n.adjoint is not None]
        rows = []
        for n in reversed(g.nodes):
            if not n.requires_grad:
                continue
            if n is g.root:
                rows.append(BackwardRow(n.label, n.id, f"{self._d(n)} = {fmt(g.seed)}", "seed",
                                        fmt(g.seed)))
                continue
            edges = g.grad_edges(n)
            if not edges or n.adjoint is None:
                rows.append(BackwardRow(n.label, n.id, f"{self._d(n)} = 0", "no path to the root", "0"))
                continue
            terms, nums = [], []
            scalar = all(e.src.is_scalar and e.dst.is_scalar for e in edges)
            for e in edges:
                if scalar:
                    local = rule_text(e) or local_symbol(e, g.root)
                    terms.append(f"{self._d(e.dst)} · {_factor(local)}")
                else:   # the notes' matrix form where there is one: Xᵀ · ∂f/∂h
                    terms.append(tensor_rule(e, self._d(e.dst)) or
                                 f"{self._d(e.dst)} · {local_symbol(e, g.root)}")
                if scalar:
                    nums.append(f"{num(e.dst.adjoint)} · {num(e.local)}")
                else:
                    # a vector-Jacobian product has no short "upstream · local" in numbers:
                    # show what each child sends back (nothing more when there is one)
                    nums.append(fmt(e.contrib, self.digits))
            numbers = " + ".join(nums) if scalar or len(nums) > 1 else ""
            formula = f"{self._d(n)} = " + " + ".join(terms)
            rows.append(BackwardRow(n.label, n.id, formula, numbers, fmt(n.adjoint, self.digits)))
        return rows

    def _path_section(self, leaf: Node) -> PathSection:
        g = self.graph
        counts = g.count_paths() if g.root.requires_grad else {n.id: 0 for n in g.nodes}
        sec = PathSection(leaf.label, counts.get(leaf.id, 0))
        if not sec.total:
            return sec
        paths = g.paths(leaf, self.max_paths)
        sec.omitted = sec.total - len(paths)
        total = None
        for p in paths:
            # "a →₂ f": the arrow names the argument when a node feeds one child twice
            labels = [leaf.label] + [
                (_ARG[e.index] if _multi(e) else "") + " " + e.dst.label for e in p]
            scalar = all(e.src.is_scalar and e.dst.is_scalar for e in p)
            contrib = g.path_contribution(p)
            if scalar and not g.released:
                factors = " · ".join(_factor(rule_text(e) or local_symbol(e, g.root)) for e in p)
                numbers = " · ".join(num(e.local) for e in p) if len(p) > 1 else ""
            else:
                factors = " · ".join(local_symbol(e, g.root) for e in p)
                numbers = ""
            sec.rows.append(PathRow(labels, factors, numbers,
                                    fmt(contrib, self.digits) if contrib is not None else "?"))
            if contrib is not None:
                total = contrib if total is None else total + contrib
        if total is not None:
            sec.path_sum = fmt(total, self.digits)
        if leaf.adjoint is not None:
            sec.gradient = fmt(leaf.adjoint, self.digits)
            if total is not None and not sec.omitted:
                a = np.asarray(total, dtype=np.float64)
                b = np.asarray(leaf.adjoint, dtype=np.float64)
                sec.finite = bool(np.isfinite(a).all() and np.isfinite(b).all())
                if sec.finite:
                    sec.matches = bool(np.allclose(a, b, rtol=1e-5, atol=1e-6))
        return sec

    # -- text ---------------------------------------------------------------------
    def _title(self) -> str:
        r = self.root
        return f"Explanation of {r.label} = {fmt(r.value, self.digits)}" + \
            ("" if r.is_scalar else f" (shape {r.shape})")

    def __str__(self) -> str:
        out = [self._title(), ""]
        for note in self.notes:
            out.append(f"Note: {note}")
        if self.notes:
            out.append("")
        out.append("1. Forward pass (topological order)")
        head = ("node", "op", "inputs", "value")
        rows = [(r.node, r.op, r.inputs, r.value) for r in self.forward]
        widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
        for i, row in enumerate([head, tuple("-" * w for w in widths)] + rows):
            out.append("  " + "  ".join(str(x).ljust(w) for x, w in zip(row, widths)).rstrip())
        out.append("")
        f = self.root.label
        out.append(f"2. Backward pass: each adjoint ∂{f}/∂a is the sum over a's children c of "
                   f"∂{f}/∂c · ∂c/∂a (upstream · local)")
        for r in self.backward:
            if r.numbers == "seed":
                out.append(f"  {r.formula}  (seed)")
            elif r.numbers in ("", "no path to the root"):
                out.append(f"  {r.formula} = {r.result}" if r.numbers == "" else
                           f"  {r.formula}  ({r.numbers})")
            else:
                out.append(f"  {r.formula} = {r.numbers} = {r.result}")
        if not self.backward:
            out.append("  (nothing to explain)")
        out.append("")
        out.append(f"3. Paths: ∂{f}/∂leaf is the sum over every path from the leaf to {f} "
                   "of the product of the local derivatives along it")
        for sec in self.paths:
            out.extend(self._path_text(sec))
        return "\n".join(out).rstrip() + "\n"

    def _path_text(self, sec: PathSection) -> list:
        f = self.root.label
        s = "" if sec.total == 1 else "s"
        out = [f"  {sec.leaf}: {sec.total} path{s} to {f}"]
        for r in sec.rows:
            chain = r.nodes[0] + "".join(f" →{x}" for x in r.nodes[1:])
            if r.numbers:
                out.append(f"    {chain}:  {r.factors} = {r.numbers} = {r.product}")
            else:
                out.append(f"    {chain}:  {r.factors} = {r.product}")
        if sec.omitted:
            out.append(f"    ... {sec.omitted} more path{'s' * (sec.omitted > 1)} not listed "
                       f"({sec.total} in all, counted by dynamic programming)")
        if not sec.finite:
            out.append(f"    sum over paths = {sec.path_sum}, backward pass: "
                       f"∂{f}/∂{sec.leaf} = {sec.gradient}: ✗ not finite, cannot check")
        elif sec.matches is not None:
            mark = "✓ matches" if sec.matches else "✗ differs from"
            out.append(f"    sum over paths = {sec.path_sum} {mark} the backward pass: "
                       f"∂{f}/∂{sec.leaf} = {sec.gradient}")
        elif sec.gradient is not None:
            listed = f"listed paths sum to {sec.path_sum}; " if sec.path_sum else ""
            out.append(f"    {listed}backward pass: ∂{f}/∂{sec.leaf} = {sec.gradient}")
        return out

    def __repr__(self) -> str:
        return str(self)

    # -- Markdown ------------------------------------------------------------------
    def to_markdown(self) -> str:
        f = self.root.label
        out = [f"### {self._title()}", ""]
        for note in self.notes:
            out += [f"> {note}", ""]
        out += ["**1. Forward pass** (topological order)", "",
                "| node | op | inputs | value |", "| --- | --- | --- | --- |"]
        out += [f"| `{r.node}` | {r.op} | {r.inputs} | {r.value} |" for r in self.forward]
        out += ["", f"**2. Backward pass**: ∂{f}/∂a = Σ over children c of ∂{f}/∂c · ∂c/∂a", ""]
        for r in self.backward:
            nums = "" if r.numbers in ("seed", "", "no path to the root") else f" = {r.numbers}"
            if r.numbers == "seed":
                out.append(f"- `{r.node}`: {r.formula} (seed)")
            else:
                out.append(f"- `{r.node}`: {r.formula}{nums} = **{r.result}**")
        out += ["", f"**3. Paths** from each leaf to `{f}`", ""]
        for sec in self.paths:
            out.extend("- " + line.strip() if i == 0 else "  - " + line.strip()
                       for i, line in enumerate(self._path_text(sec)))
        return "\n".join(out) + "\n"

    # -- HTML ----------------------------------------------------------------------
    def to_html(self) -> str:
        esc = _html.escape
        f = self.root.label
        parts = ['<div class="chainrule-explain" style="font-family:sans-serif">',
                 f"<h4>{esc(self._title())}</h4>"]
        for note in self.notes:
            parts.append(f'<p style="color:#a60"><b>Note:</b> {esc(note)}</p>')
        parts.append("<p><b>1. Forward pass</b> (topological order)</p>"
                     '<table class="forward"><tr><th>node</th><th>op</th><th>inputs</th>'
                     "<th>value</th></tr>")
        for r in self.forward:
            parts.append(f'<tr data-node="{esc(r.node)}"><td><code>{esc(r.node)}</code></td>'
                         f"<td>{esc(r.op)}</td><td>{esc(r.inputs)}</td>"
                         f"<td>{esc(r.value)}</td></tr>")
        parts.append("</table>")
        parts.append(f"<p><b>2. Backward pass</b>: ∂{esc(f)}/∂a = Σ<sub>c</sub> "
                     f"∂{esc(f)}/∂c · ∂c/∂a</p><ul class=\"backward\">")
        for r in self.backward:
            nums = "" if r.numbers in ("seed", "", "no path to the root") else \
                f" = {esc(r.numbers)}"
            parts.append(f'<li data-node="{esc(r.node)}">{esc(r.formula)}{nums} = '
                         f"<b>{esc(r.result)}</b></li>")
        parts.append(f"</ul><p><b>3. Paths</b> from each leaf to <code>{esc(f)}</code></p>")
        for sec in self.paths:
            lines = self._path_text(sec)
            parts.append(f'<div class="paths" data-leaf="{esc(sec.leaf)}"><p>{esc(lines[0].strip())}'
                         "</p><ul>")
            parts.extend(f"<li>{esc(line.strip())}</li>" for line in lines[1:])
            parts.append("</ul></div>")
        parts.append("</div>")
        return "\n".join(parts)

    def _repr_html_(self) -> str:
        return self.to_html()


def explain(tensor: Tensor, wrt=None, max_paths: int = 10) -> Explanation:
    """Explain how backpropagation computes the gradients of ``tensor``.

    ``wrt`` limits the path decomposition to one node (a tensor or a label) or a
    list of them; ``max_paths`` caps the paths listed per leaf (the rest are
    counted). Call it before ``backward()`` (or after ``backward(retain_graph=True)``):
    a plain backward releases the rules it needs. It never changes any ``.grad``.
    """
    check_root(tensor, "explain")
    return Explanation(tensor, wrt=wrt, max_paths=max_paths)
