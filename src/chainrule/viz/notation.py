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

from .graph import Edge, Node, fmt

__all__ = ["filled", "forward_text", "local_symbol", "num", "op_text", "rule_text",
           "tensor_rule", "wrap"]

_SYMBOL = {"add": "+", "sub": "−", "mul": "·", "div": "/"}


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
    if n.op in _SYMBOL and len(ps) == 2:
        sym = _SYMBOL[n.op]
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
    """The local derivative ∂child/∂parent as a formula in the nodes' labels.

    >>> import chainrule as cr
    >>> from chainrule.viz.graph import build
    >>> a = cr.tensor(1.5, requires_grad=True, name="a")
    >>> g = build((a ** 2) ** 2)
    >>> [rule_text(e) for e in g.edges]
    ['2·a', '2·pow1']
    """
    c, i = edge.dst, edge.index
    args = [wrap(p.label) for p in c.parents]
    a = args[0] if args else "?"
    b = args[1] if len(args) > 1 else "?"
    op, ctx = c.op, c.tensor._ctx
    if op == "add":
        return "1"
    if op == "sub":
        return "1" if i == 0 else "-1"
    if op == "mul":
        return b if i == 0 else a
    if op == "div":
        return f"1/{b}" if i == 0 else f"-{a}/{b}²"
    if op == "neg":
        return "-1"
    if op == "pow" and len(args) == 1:
        n = _exponent(c)
        if n is None:
            return None
        m = n - 1
        if m == 1:
            return f"{fmt(n)}·{a}"
        if m == 0:
            return "1"
        return f"{fmt(n)}·{a}^{wrap(fmt(m))}"
    if op == "pow":
        return f"{b}·{a}^({b}-1)" if i == 0 else f"{wrap(c.label)}·log({a})"
    return {
        "exp": f"exp({a})", "log": f"1/{a}", "sqrt": f"1/(2·sqrt({a}))",
        "tanh": f"1 - tanh({a})²", "sigmoid": f"σ({a})·(1 - σ({a}))",
        "relu": f"[{a} > 0]", "abs": f"sign({a})",
        # ties split the gradient evenly, as the engine (and PyTorch) do
        "maximum": f"[{a} > {b}] + ½[{a} = {b}]" if i == 0 else f"[{b} > {a}] + ½[{b} = {a}]",
        "minimum": f"[{a} < {b}] + ½[{a} = {b}]" if i == 0 else f"[{b} < {a}] + ½[{b} = {a}]",
        "sum": "1", "cast": "1", "reshape": "1",
        "mean": None if not isinstance(ctx, tuple) else f"1/{ctx[-1]}",
    }.get(op)


def tensor_rule(edge: Edge, upstream: str) -> str | None:
    """What a tensor op sends back to its input, as the notes write it, with
    ``upstream`` the child's gradient symbol: for ``h = X @ W``,
    ``∂f/∂W = Xᵀ · ∂f/∂h``; for ``y = linear(x, W, b)`` (``x Wᵀ + b``),
    ``∂f/∂W = (∂f/∂y)ᵀ · x``; for cross-entropy of logits, ``(p − y)/N``.
    None where the rule has no short matrix form (then ∂c/∂a is named).
    """
    c, i = edge.dst, edge.index
    args = [wrap(p.label) for p in c.parents]
    u = upstream
    ut = f"({u})ᵀ" if "/" in u or " " in u else f"{u}ᵀ"
    if c.op == "matmul" and len(args) == 2:
        return f"{u} · {args[1]}ᵀ" if i == 0 else f"{args[0]}ᵀ · {u}"
    if c.op in ("linear", "linear_relu") and len(args) >= 2:
        if c.op == "linear_relu":
            u = f"({u} ⊙ [{wrap(c.label)} > 0])"   # the fused ReLU gates the gradient first
            ut = f"{u}ᵀ"
        return {0: f"{u} · {args[1]}", 1: f"{ut} · {args[0]}",
                2: f"Σ_rows {u}"}.get(i)
    if c.op == "cross_entropy" and i == 0:
        n = c.parents[0].shape[0] if c.parents[0].shape else 1
        mean = not c.shape or c.is_scalar
        scale = f"/{n}" if mean and n > 1 else ""
        target = wrap(c.parents[1].label) if len(c.parents) > 1 else "y"
        return f"{u} · (softmax({args[0]}) − onehot({target})){scale}"
    if c.op == "sum":
        return f"{u} broadcast to {c.parents[0].shape}" if c.parents[0].shape else u
    if c.op == "mean":
        size = int(np.prod(c.parents[0].shape)) // max(1, c.tensor.data.size)
        return f"{u}/{size} broadcast"
    local = rule_text(edge)
    if local is None:
        return None
    if local == "1":
        return u
    return f"{u} ⊙ {local if ' ' not in local and not local.startswith('-') else f'({local})'}"


# ---------------------------------------------------------------------------
# compound local derivatives with their numbers: σ(1)·(1 - σ(1)) = 0.731·0.269 = 0.197
# ---------------------------------------------------------------------------
_FUNCS = {"σ": lambda v: 1.0 / (1.0 + math.exp(-v)), "exp": math.exp, "log": math.log,
          "sqrt": math.sqrt, "tanh": math.tanh, "sign": lambda v: float(np.sign(v)),
          "abs": abs}


def _evaluate(text: str) -> float | None:
    """A formula of numbers (``σ(1)·(1 - σ(1))``) as a float, None when it is outside
    the little arithmetic understood here. Parsed, never executed as Python."""
    src = (text.replace("σ", "sig_").replace("·", "*").replace("−", "-")
           .replace("²", "**2").replace("^", "**"))
    try:
        tree = ast.parse(src, mode="eval")
    except SyntaxError:
        return None
    funcs = {"sig_": _FUNCS["σ"], **{k: f for k, f in _FUNCS.items() if k != "σ"}}

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
                and node.func.id in funcs and len(node.args) == 1 and not node.keywords):
            return funcs[node.func.id](ev(node.args[0]))
        raise ValueError("outside the formula arithmetic")

    try:
        v = ev(tree.body)
    except (ValueError, ArithmeticError, TypeError):
        return None
    return v if math.isfinite(v) else None


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
    pattern = re.compile("|".join(r"(?<![\w.′″‴])" + re.escape(n) + r"(?![\w′″‴])"
                                  for n in names))
    text = pattern.sub(lambda m: values[m.group(0)], formula)
    text = re.sub(r"\(\((-[^()]+)\)\)", r"(\1)", text)   # σ((-2)) -> σ(-2)
    factors = _top_factors(text)
    if len(factors) > 1:
        vals = [_evaluate(f) for f in factors]
        if all(v is not None for v in vals):
            return f"{text} = " + "·".join(num(fmt(v, 3)) for v in vals)
    return text
