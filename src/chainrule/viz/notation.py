"""One notation for every renderer: how an op, a local derivative and a chain-rule
term are written, shared by explain, the Graphviz drawing and the page.

- an edge's local derivative is ``∂c/∂a`` for a child ``c``, and ``∂(op)/∂a`` into the
  root, where ``∂f/∂a`` would read as the gradient itself (:func:`local_symbol`);
- a number inside a formula is parenthesized when negative: ``(-1) ** 2``;
- a compound local derivative is shown with its values filled in and its factors
  evaluated: ``σ(1)·(1 - σ(1)) = 0.731059·0.268941 = 0.196612`` (:func:`filled`).

>>> import chainrule as cr
>>> from chainrule.viz.graph import build
>>> b = cr.tensor(-1.0, requires_grad=True, name="b")
>>> g = build(b ** 2)
>>> forward_text(g.root)
'f = b ** 2 = (-1) ** 2 = 1'
>>> local_symbol(g.edges[0], g.root), rule_text(g.edges[0])
('∂(**2)/∂b', '2·b')
"""

from __future__ import annotations

import ast
import math
import re

import numpy as np

from ..ops.registry import ARRAYS, REGISTRY
from .graph import Edge, Node, fmt, shape_text

__all__ = ["filled", "forward_text", "local_symbol", "num", "op_text", "rule_text",
           "tensor_rule", "wrap"]

def _is_number(s: str) -> bool:
    try:
        float(s)
        return not s.startswith("-")
    except ValueError:
        return False


def wrap(label: str) -> str:
    """Parenthesize labels that would read wrong inside a formula (-3, 1e-5, h′ is fine)."""
    plain = label.replace("_", "a").replace(".", "a").rstrip("′″‴")
    if label.startswith("-") or not (plain.isalnum() or _is_number(label)):
        return f"({label})"
    return label


def num(v) -> str:
    """A number inside a product: negative ones in parentheses, as on paper."""
    s = fmt(v)
    return f"({s})" if s.startswith("-") else s


def _exponent(n: Node):
    """pow's constant exponent (recorded in the node's context), or None."""
    ctx = n.tensor._ctx
    if n.op == "pow" and len(n.parents) == 1 and isinstance(ctx, (int, float, np.number)):
        return int(ctx) if float(ctx).is_integer() else float(ctx)
    return None


def op_text(n: Node) -> str:
    """The op as a reader names it: ``add``; pow with its exponent, ``**2``."""
    e = _exponent(n)
    if e is not None:
        return f"**{fmt(e)}"
    return n.op


def local_symbol(e: Edge, root: Node) -> str:
    """``∂c/∂a``; into the root ``∂(op)/∂a`` (``∂f/∂a`` would read as the gradient)."""
    c = f"({op_text(e.dst)})" if e.dst is root else e.dst.label
    return f"∂{c}/∂{e.src.label}"


def forward_text(n: Node) -> str:
    """``add1 = x + y = (-2) + 5 = 3``: the op with its inputs' names and numbers."""
    ps = n.parents
    v = fmt(n.value)
    if n.kind != "op":
        return f"{n.label} = {v} ({n.role})"
    vals = [fmt(p.value) for p in ps]
    neg = [f"({s})" if s.startswith("-") else s for s in vals]
    sym = getattr(n.tensor._op, "symbol", None)  # the op's registry entry: + − · /
    if sym and len(ps) == 2:
        return f"{n.label} = {ps[0].label} {sym} {ps[1].label} = {neg[0]} {sym} {neg[1]} = {v}"
    e = _exponent(n)
    if e is not None:
        c = num(e)
        return f"{n.label} = {wrap(ps[0].label)} ** {c} = {neg[0]} ** {c} = {v}"
    if n.op == "pow" and len(ps) == 2:
        return (f"{n.label} = {wrap(ps[0].label)} ** {wrap(ps[1].label)} = "
                f"{neg[0]} ** {neg[1]} = {v}")
    if n.op == "neg":
        return f"{n.label} = −{wrap(ps[0].label)} = −{neg[0]} = {v}"
    names = ", ".join(p.label for p in ps)
    return f"{n.label} = {n.op}({names}) = {n.op}({', '.join(vals)}) = {v}"


def rule_text(edge: Edge) -> str | None:
    """The local derivative ∂child/∂parent as a formula in the nodes' labels, from the
    child's ``Op`` (its ``formula``); None for an op that gives none.

    >>> import chainrule as cr
    >>> from chainrule.viz.graph import build
    >>> a = cr.tensor(1.5, requires_grad=True, name="a")
    >>> g = build((a ** 2) ** 2)
    >>> [rule_text(e) for e in g.edges]
    ['2·a', '2·pow1']
    """
    c = edge.dst
    local_text = getattr(c.tensor._op, "local_text", None)
    if local_text is None:
        return None
    labels = [wrap(p.label) for p in c.parents] + [wrap(c.label)]
    return local_text(edge.index, labels, c.tensor._ctx)


def tensor_rule(edge: Edge, upstream: str) -> str | None:
    """What a tensor op sends back to its input, as the notes write it, with
    ``upstream`` the child's gradient symbol: for ``h = X @ W``,
    ``∂f/∂W = Xᵀ · ∂f/∂h``; for an elementwise op, ``∂f/∂c ⊙ (local)``; for a
    reduction, the upstream gradient spread back. The op's formula writes the
    upstream gradient as ``(·)`` where it is not simply multiplied in. None where
    the op gives no formula (then ∂c/∂a is named).
    """
    c = edge.dst
    local = rule_text(edge)
    if local is None:
        return None
    u = upstream
    if "(·)" in local:                      # matrix rules: Xᵀ · (·), (·)ᵀ · x, Σ (·)
        bare = u if " " not in u else f"({u})"
        return local.replace("(·)ᵀ", f"({u})ᵀ" if "/" in u else f"{u}ᵀ").replace("(·)", bare)
    src_shape = edge.src.shape
    # a local derivative that names no input (1, 1/N) is the same for every element:
    # the upstream gradient is spread back over the input's shape
    uniform = not any(wrap(p.label) in local for p in c.parents)
    spread = "" if c.shape == src_shape or not src_shape or not uniform else \
        f" broadcast to {shape_text(src_shape)}"
    if local == "1":
        return u + spread
    factor = local if wrap(local) == local or _is_number(local) else f"({local})"
    times = "⊙" if c.shape == src_shape and src_shape else "·"
    return f"{u} {times} {factor}{spread}"


# ---------------------------------------------------------------------------
# compound local derivatives with their numbers: σ(1)·(1 - σ(1)) = 0.731·0.269 = 0.197
# ---------------------------------------------------------------------------
def _evaluate(text: str) -> float | None:
    """A formula of numbers (``σ(1)·(1 - σ(1))``) as a float, None when it is outside
    the arithmetic understood here: numbers, + - * / ** and the registered ops of one
    argument. Parsed, never executed as Python."""
    src = (text.replace("σ", "sigmoid").replace("·", "*").replace("−", "-")
           .replace("²", "**2").replace("^", "**"))
    try:
        tree = ast.parse(src, mode="eval")
    except SyntaxError:
        return None

    def ev(node):
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return float(node.value)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -ev(node.operand)
        if isinstance(node, ast.BinOp):
            a, b = ev(node.left), ev(node.right)
            if isinstance(node.op, ast.Add):
                return a + b
            if isinstance(node.op, ast.Sub):
                return a - b
            if isinstance(node.op, ast.Mult):
                return a * b
            if isinstance(node.op, ast.Div):
                return a / b
            if isinstance(node.op, ast.Pow):
                return a ** b
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id in REGISTRY and len(node.args) == 1 and not node.keywords):
            # any registered op, on a plain number (σ is the notes' sigmoid)
            return float(getattr(ARRAYS, node.func.id)(np.float64(ev(node.args[0]))))
        raise ValueError("outside the formula arithmetic")

    try:
        with np.errstate(all="ignore"):   # log(-1) is nan: no formula shown, no warning
            v = ev(tree.body)
    except (ValueError, ArithmeticError, TypeError, AttributeError):
        return None
    # (-0.7) ** 0.5 is complex in Python: not a value a learner's formula can show
    if isinstance(v, complex) or not math.isfinite(v):
        return None
    return v


def _top_factors(text: str) -> list:
    """Split ``a·(b - c)`` at the products outside parentheses."""
    out, depth, start = [], 0, 0
    for k, ch in enumerate(text):
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif ch == "·" and depth == 0:
            out.append(text[start:k])
            start = k + 1
    out.append(text[start:])
    return out


def filled(edge: Edge) -> str | None:
    """The local derivative with the inputs' values in place of their labels, and
    each factor of a compound rule evaluated: ``σ(1)·(1 - σ(1)) = 0.731·0.269``.
    The final value is not included (the caller has it from the engine). None for
    tensors and for rules that are a bare label or number (nothing to fill in).
    """
    formula = rule_text(edge)
    if formula is None or not (edge.src.is_scalar and edge.dst.is_scalar):
        return None
    if _is_number(formula.lstrip("-")) or wrap(formula) == formula:
        return None                          # a bare label or number: nothing to fill in
    values = {p.label: num(p.value) for p in edge.dst.parents}
    if edge.dst.label not in values:
        values[edge.dst.label] = num(edge.dst.value)
    names = sorted(values, key=len, reverse=True)
    # a label stands alone: not inside a longer name (x in x0), but x² is x squared
    pattern = re.compile("|".join(r"(?<![A-Za-z0-9_.′″‴])" + re.escape(n) +
                                  r"(?![A-Za-z0-9_′″‴])" for n in names))
    text = pattern.sub(lambda m: values[m.group(0)], formula)
    text = re.sub(r"\(\((-[^()]+)\)\)", r"(\1)", text)   # σ((-2)) -> σ(-2)
    factors = _top_factors(text)
    if len(factors) > 1:
        vals = [_evaluate(f) for f in factors]
        if all(v is not None for v in vals):
            return f"{text} = " + "·".join(num(fmt(v, 3)) for v in vals)
    return text
