"""The small expression language of ``chainrule explain`` and ``chainrule graph``.

Numbers, named variables, ``+ - * / **``, unary minus, parentheses and the
functions of :data:`FUNCTIONS`: every op the registry marks for the language
(``Op(expr=N)``: ``exp``, ``log``, ``sigmoid``, ``maximum``, ...; ``max``/``min`` are the
notes' names for ``maximum``/``minimum``). The text is parsed with Python's :mod:`ast`
(``mode="eval"``) and the tree is walked here, node type by node type, building
chainrule ops: it is never compiled or evaluated as Python. Anything else is an :class:`ExprError` whose
message points at the offending token.

>>> f, leaves = build("(x+y)*z", {"x": -2, "y": 5, "z": -4})
>>> float(f.array), sorted(leaves)
(-12.0, ['x', 'y', 'z'])
>>> build("x.__class__", {"x": 1})
Traceback (most recent call last):
...
chainrule.viz.expr.ExprError: unsupported syntax at column 2: '.__class__' (attribute access)
"""

from __future__ import annotations

import ast
import math

import numpy as np

from ..ops.registry import REGISTRY

__all__ = ["FUNCTIONS", "ExprError", "build", "parse_assignments"]

# The notes' names for two gates whose ops are called maximum and minimum.
_ALIASES = {"max": "maximum", "min": "minimum"}


def _functions() -> dict:
    """name -> the registered op: every op the registry exposes to the language
    (``Op(expr=N)``), under its name and, for max/min, the notes' short names."""
    table = {name: op for name, op in REGISTRY.items() if op.expr and op.public is not None}
    for short, name in _ALIASES.items():
        if name in table:
            table[short] = table[name]
    return dict(sorted(table.items()))


_OPS = _functions()
# name -> number of arguments
FUNCTIONS = {name: op.expr for name, op in _OPS.items()}
MAX_LENGTH = 2000   # a command-line expression; longer text is refused before parsing
MAX_DEPTH = 100     # nesting depth of the tree we walk

_BINOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}

# what to call the node types people most often try, for the error message
_DESCRIBE = {
    ast.Attribute: "attribute access", ast.Subscript: "subscript", ast.Lambda: "lambda",
    ast.Compare: "comparison", ast.BoolOp: "boolean operator", ast.IfExp: "conditional",
    ast.List: "list", ast.Tuple: "tuple", ast.Dict: "dict", ast.Set: "set",
    ast.ListComp: "comprehension", ast.GeneratorExp: "generator", ast.DictComp: "comprehension",
    ast.SetComp: "comprehension", ast.Starred: "starred argument", ast.JoinedStr: "f-string",
    ast.NamedExpr: "assignment expression", ast.Await: "await", ast.Slice: "slice",
}


class ExprError(ValueError):
    """A rejected expression; ``column`` is 1-based, ``token`` the offending text."""

    def __init__(self, message: str, text: str = "", column: int | None = None,
                 token: str = ""):
        super().__init__(message)
        self.text = text
        self.column = column
        self.token = token

    def caret(self) -> str:
        """The expression with a caret under the offending column (two lines)."""
        if self.column is None or not self.text:
            return ""
        return f"  {self.text}\n  {' ' * (self.column - 1)}^"


def _error(text: str, node: ast.AST | None, what: str, *, detail: str = "") -> ExprError:
    col = getattr(node, "col_offset", None)
    end = getattr(node, "end_col_offset", None)
    token = ""
    if col is not None:
        token = text[col:end] if end is not None else text[col:]
        if isinstance(node, ast.Attribute):   # point at the attribute, not the object
            start = text.find("." + node.attr, getattr(node.value, "end_col_offset", col))
            if start >= 0:
                col, token = start, "." + node.attr
        elif isinstance(node, ast.Call):      # the function name is the token
            token = text[col:getattr(node.func, "end_col_offset", end)]
        elif isinstance(node, ast.Subscript):  # point at the brackets
            col = node.value.end_col_offset or col
            token = text[col:end]
        elif isinstance(node, ast.Lambda):
            token = "lambda"
        elif isinstance(node, ast.UnaryOp):   # the operator, not the operand
            token = text[col:node.operand.col_offset].strip()
        elif isinstance(node, ast.BoolOp):
            col = _op_column(text, node.values[0])
            token = text[col:].split()[0] if text[col:].split() else ""
        if len(token) > 30:
            token = token[:27] + "..."
    column = None if col is None else col + 1
    where = f" at column {column}" if column is not None else ""
    msg = f"{what}{where}" + (f": {token!r}" if token else "") + (f" ({detail})" if detail else "")
    return ExprError(msg, text, column, token)


def parse(text: str) -> ast.Expression:
    """Parse ``text`` into an :mod:`ast` tree and check every node against the whitelist."""
    if not isinstance(text, str):
        raise ExprError(f"expected an expression string, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ExprError(f"expression too long ({len(text)} characters, at most {MAX_LENGTH})")
    if not text.strip():
        raise ExprError("empty expression")
    if "\n" in text or "\r" in text:
        raise ExprError("the expression must be one line", text)
    # a leading space is how a shell user keeps "-x*y" from looking like an option
    text = text.strip()
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as e:
        col = e.offset or 0
        if not 0 < col <= len(text):   # Python points past the end: the text stopped early
            col = len(text) + 1
        token = text[col - 1:col] if col <= len(text) else ""
        if not token:
            raise ExprError(f"syntax error at column {col}: the expression ends too early "
                            f"({e.msg})", text, col) from None
        where = f" at column {col}"
        raise ExprError(f"syntax error{where}" + (f": {token!r}" if token else "") +
                        f" ({e.msg})", text, col, token) from None
    except (RecursionError, MemoryError, ValueError) as e:
        raise ExprError(f"cannot parse the expression: {e}", text) from None
    _check(tree.body, text, 0)
    return tree


def _check(node: ast.AST, text: str, depth: int) -> None:
    """Reject everything outside the language, before any value is computed.

    Every offending node is collected and the leftmost is reported, so
    ``__import__('os').system('id')`` is refused at ``__import__``.
    """
    problems: list[ExprError] = []
    _problems(node, text, depth, problems)
    if problems:
        raise min(problems, key=lambda e: e.column if e.column is not None else 1 << 30)


def _problems(node: ast.AST, text: str, depth: int, out: list) -> None:
    if depth > MAX_DEPTH:
        raise _error(text, node, "expression nested too deeply")
    children = list(ast.iter_child_nodes(node))
    if isinstance(node, ast.BinOp):
        children = [node.left, node.right]
        if type(node.op) not in _BINOPS:
            op_col = _op_column(text, node.left)
            tok = _op_token(text, op_col)
            out.append(ExprError(f"unsupported operator at column {op_col + 1}: {tok!r} "
                                 f"(allowed: + - * / **)", text, op_col + 1, tok))
    elif isinstance(node, ast.UnaryOp):
        children = [node.operand]
        if not isinstance(node.op, (ast.USub, ast.UAdd)):
            out.append(_error(text, node, "unsupported operator",
                              detail="allowed: unary - and +"))
    elif isinstance(node, ast.Constant):
        v = node.value
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            out.append(_error(text, node, "unsupported syntax", detail="only numbers are allowed"))
    elif isinstance(node, ast.Name):
        if node.id in FUNCTIONS:
            out.append(_error(text, node, f"function {node.id!r} must be called"))
    elif isinstance(node, ast.Call):
        func = node.func
        children = list(node.args) + [k.value for k in node.keywords]
        if not isinstance(func, ast.Name) or func.id not in FUNCTIONS:
            allowed = " ".join(FUNCTIONS)
            out.append(_error(text, func if not isinstance(func, ast.Name) else node,
                              "unsupported syntax", detail=f"functions: {allowed}"))
            if not isinstance(func, ast.Name):
                children.insert(0, func)
        elif node.keywords:
            out.append(_error(text, node.keywords[0], "unsupported syntax",
                              detail="keyword arguments are not allowed"))
        elif len(node.args) != FUNCTIONS[func.id]:
            want = FUNCTIONS[func.id]
            out.append(_error(text, node, f"{func.id} takes {want} argument"
                              f"{'s' * (want > 1)}, got {len(node.args)}"))
    elif isinstance(node, ast.Compare):
        col = _op_column(text, node.left)
        tok = _op_token(text, col)
        out.append(ExprError(f"unsupported syntax at column {col + 1}: {tok!r} (comparison)",
                             text, col + 1, tok))
    elif isinstance(node, ast.IfExp):
        col = _op_column(text, node.body)
        out.append(ExprError(f"unsupported syntax at column {col + 1}: 'if' (conditional)",
                             text, col + 1, "if"))
    else:
        what = _DESCRIBE.get(type(node), type(node).__name__)
        out.append(_error(text, node, "unsupported syntax", detail=what))
    for child in children:
        if isinstance(child, (ast.expr_context, ast.operator, ast.unaryop, ast.cmpop,
                              ast.boolop)):
            continue
        if isinstance(child, (ast.expr, ast.keyword, ast.comprehension, ast.arguments)):
            _problems(child, text, depth + 1, out)


def _op_column(text: str, left: ast.AST) -> int:
    """0-based column of an operator: the first non-space after its left operand."""
    i = left.end_col_offset or 0
    while i < len(text) and text[i] in " )":
        i += 1
    return i


def _op_token(text: str, col: int) -> str:
    j = col
    while j < len(text) and text[j] in "%/@<>=!&|^*":
        j += 1
    return text[col:j] or text[col:col + 1]


def parse_assignments(items) -> dict:
    """``["x=-2", "y=5"]`` -> ``{"x": -2.0, "y": 5.0}``, with one-line errors.

    >>> parse_assignments(["x=-2", "w0=1e-3"])
    {'x': -2.0, 'w0': 0.001}
    """
    out: dict[str, float] = {}
    for item in items:
        name, sep, value = item.partition("=")
        name, value = name.strip(), value.strip()
        if not sep or not name:
            raise ExprError(f"expected NAME=VALUE, got {item!r}")
        if not name.isidentifier() or name in FUNCTIONS:
            raise ExprError(f"{name!r} cannot be a variable name (in {item!r})")
        try:
            number = float(value)
        except ValueError:
            raise ExprError(f"the value of {name} is not a number: {value!r}") from None
        if math.isinf(number) and "inf" not in value.lower():
            raise ExprError(f"the value of {name} overflows to inf: {value!r} (write inf "
                            "for an infinite value)")
        if name in out:
            raise ExprError(f"{name} is given twice")
        out[name] = number
    return out


def build(text: str, values: dict, dtype="float64"):
    """Build the graph of ``text`` with the leaves set to ``values``.

    Returns ``(root, leaves)``: the output tensor (named ``f`` unless a variable is
    called f) and ``{name: leaf tensor}`` for the variables, which require grad.
    A variable used twice is one leaf (so ``x*x`` has two paths to x).
    """
    import chainrule as cr

    text = text.strip() if isinstance(text, str) else text
    tree = parse(text)
    dt = cr.as_dtype(dtype)
    funcs = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    used = [n for n in ast.walk(tree) if isinstance(n, ast.Name) and id(n) not in funcs]
    for n in used:
        if n.id not in values:
            given = ", ".join(sorted(values)) or "none"
            raise _error(text, n, "undefined variable",
                         detail=f"give it a value as {n.id}=VALUE; given: {given}")
    unused = [name for name in values if not any(n.id == name for n in used)]
    if unused:
        names = sorted({n.id for n in used})
        raise ExprError(f"{', '.join(f'{u}={values[u]:g}' for u in unused)}: not used by "
                        f"the expression (its variables: {', '.join(names) or 'none'})", text)
    with np.errstate(over="ignore"):   # an overflow to float32 is reported just below
        leaves = {name: cr.tensor(float(v), dtype=dt, requires_grad=True, name=name)
                  for name, v in values.items() if any(n.id == name for n in used)}
    for name, t in leaves.items():
        if math.isfinite(values[name]) and not np.isfinite(t.array).all():
            raise ExprError(f"the value of {name} overflows to inf in {dt.name}: "
                            f"{values[name]!r}")

    def walk(node):
        if isinstance(node, ast.Constant):
            try:
                return cr.tensor(float(node.value), dtype=dt)
            except OverflowError:
                raise _error(text, node, "number too large") from None
        if isinstance(node, ast.Name):
            return leaves[node.id]
        if isinstance(node, ast.UnaryOp):
            x = walk(node.operand)
            out = -x if isinstance(node.op, ast.USub) else x
        elif isinstance(node, ast.BinOp):
            a, b = walk(node.left), walk(node.right)
            op = type(node.op)
            if op is ast.Pow and not b.requires_grad:
                # a constant exponent records the cheaper rule (c·x^(c-1), no log x)
                c = float(b.array)
                out = a ** (int(c) if c.is_integer() else c)
            else:
                out = {ast.Add: cr.add, ast.Sub: cr.sub, ast.Mult: cr.mul, ast.Div: cr.div,
                       ast.Pow: cr.pow}[op](a, b)
        else:  # ast.Call, checked by _check
            args = [walk(a) for a in node.args]
            fn = node.func.id
            out = _OPS[fn].public(*args)
        return out

    with np.errstate(all="ignore"):   # inf/nan are shown, not raised
        root = walk(tree.body)
    if not root.requires_grad:
        raise ExprError("the expression has no variables: nothing to differentiate", text)
    if root._parents:
        root.name = "f" if "f" not in values else None   # the notes call the output f
    return root, leaves
