"""The op registry: one definition per building block.

An ``Op`` holds everything chainrule knows about a building block: its name, its local
derivative (a VJP rule), what that rule reads, how the derivative is written on a
drawing, what usually makes its value non-finite, where it is exposed (Tensor method,
``cr.`` function, expression language) and the inputs its gradient check samples. The
engine, explain, the page, anomaly detection, the namespaces rules compute with and the
gradient-check test table all read this one entry.

An ``Op`` is a ``str`` (its name): a node's op compares equal to ``"mul"`` and prints
as ``mul`` wherever a name is expected, and it carries its definition besides.

Adding an elementwise op is one line here or in any ops module::

    softplus = unary("softplus", lambda x: np.logaddexp(0, x),
                     lambda F, g, ans, ctx, x: (g * F.sigmoid(x),), formula="σ({x})")

after which ``cr.softplus``, ``Tensor.softplus``, ``F.softplus`` inside rules, explain's
formula and the generated gradcheck test exist.
"""

from __future__ import annotations

import functools
import inspect
import re

import numpy as np

REGISTRY: dict[str, Op] = {}
"""Every building block, by name, in the order it was defined."""

EXPOSED: dict[str, object] = {}
"""Public functions by name (``cr.NAME``): registered ops and composites."""

METHODS: dict[str, object] = {}
"""Tensor methods by name, attached by ``chainrule.ops``."""


class ARRAYS:
    """The namespace rules compute with in an ordinary backward pass: plain arrays.
    Every registered op is here as ``ARRAYS.NAME``."""


class GRAPH:
    """The namespace rules compute with under ``create_graph=True``: chainrule ops, so
    the backward pass is itself recorded. Every registered op is here as ``GRAPH.NAME``."""


_DOMAINS = {
    "real": (-2.0, 2.0),
    "positive": (0.3, 2.0),
    "unit": (-0.9, 0.9),      # (-1, 1), away from the ends
    "nonzero": "nonzero",     # ±[0.3, 2]
    "offkink": "offkink",     # ±[0.1, 2]: away from a kink at 0
}


def _reads_default():
    return frozenset(("inputs", "output"))


class Op(str):
    """One building block. See the module docstring.

    Parameters
    ----------
    name: the op's name, as nodes, explain and errors show it.
    vjp: the rule ``vjp(F, g, ans, ctx, *inputs) -> tuple`` of input adjoints.
    reads: the saved values the rule reads, of ``"inputs"``, ``"others"`` (a product:
        each input is read only for the other inputs' gradients) and ``"output"``: the
        in-place check at backward looks only at those.
    formula: the local derivative ∂out/∂input for a drawing: a string with ``{x}``/``{a}``
        (first input), ``{y}``/``{b}`` (second) and ``{out}`` (the output) standing for the
        nodes' labels; a tuple, one per input; or a callable ``(index, labels, ctx)``.
    hint: what usually makes this op's value non-finite (anomaly messages).
    method, function: expose the public function as a Tensor method / ``cr.NAME``
        (True, or a name or tuple of names to expose it under).
    expr: number of arguments in the expression language (0: not part of it).
    domain: where the gradient check samples inputs: a name of ``_DOMAINS`` or (lo, hi);
        a list gives one per input.
    cases: gradient-check cases: ``case(shape, ..., **kwargs)`` or callables
        ``rng -> (args, kwargs)``.
    second_order: check second derivatives too.
    fuses: for a fused op, the chain of primitives it stands for (shown on drawings).
    symbol: the infix symbol a forward step is written with (``+`` for add), if any.
    array: the op on plain arrays for ``ARRAYS.NAME`` (default: its forward, or the public
        function applied to wrapped arrays).
    """

    def __new__(cls, name: str, vjp=None, *, reads=None, formula=None, hint: str | None = None,
                method=False, function=False, expr: int = 0, domain="real", cases=None,
                second_order: bool = True, fuses: str | None = None, array=None,
                symbol: str | None = None, doc: str | None = None, register: bool = True):
        self = str.__new__(cls, name)
        self.vjp = vjp
        self.reads = _reads_default() if reads is None else frozenset(reads)
        self.formula = formula
        self.hint = hint
        self.method = method
        self.function = function
        self.expr = expr
        self.domain = domain
        self.cases = cases
        self.second_order = second_order
        self.fuses = fuses
        self.symbol = symbol
        self.array = array
        self.doc = doc
        self.public = None
        if register:
            if name in REGISTRY:
                raise ValueError(f"Op {name!r} is already registered")
            REGISTRY[name] = self
        return self

    # str's own pickling would lose the definition; an op is looked up by name instead
    def __reduce__(self):
        return (_lookup, (str(self),))

    @property
    def name(self) -> str:
        return str.__str__(self)

    @property
    def grad_name(self) -> str:
        """PyTorch's name for the backward node: ``mul`` -> ``MulBackward0``."""
        given = self.__dict__.get("backward_name")
        if given:
            return given
        return "".join(p[:1].upper() + p[1:] for p in re.split(r"[_\W]+", self.name) if p) \
            + "Backward0"

    def __repr__(self) -> str:
        return f"<Op {self.name}>"

    def define(self, fn):
        """Decorator: ``fn`` is this op's public function (it records the op)."""
        self.public = fn
        fn.op = self
        if self.doc and not fn.__doc__:
            fn.__doc__ = self.doc
        _expose(fn, self.name, self.method, self.function)
        setattr(GRAPH, self.name, staticmethod(fn))
        setattr(ARRAYS, self.name, staticmethod(self.array or _on_arrays(fn)))
        return fn

    def local_text(self, index: int, labels: list, ctx=None) -> str | None:
        """The display formula of ∂out/∂input[index], in the given node labels."""
        f = self.formula
        if f is None:
            return None
        if callable(f):
            return f(index, labels, ctx)
        if isinstance(f, tuple):
            if index >= len(f):
                return None
            f = f[index]
            if f is None:
                return None
        a = labels[0] if labels else "?"
        b = labels[1] if len(labels) > 1 else "?"
        out = labels[-1] if len(labels) > 2 else "out"
        return f.format(x=a, a=a, y=b, b=b, out=out)

    def sample_cases(self):
        """The gradient-check cases: a list of ``(shapes, kwargs)`` or callables."""
        if self.cases is not None:
            return list(self.cases)
        return []


def _lookup(name: str) -> Op:
    return REGISTRY[name]


def case(*shapes, **kwargs):
    """One gradient-check case: a shape per tensor input, and keyword arguments."""
    return (tuple(tuple(s) for s in shapes), kwargs)


def _torch_keywords(fn):
    """``fn`` also taking PyTorch's ``dim=``/``keepdim=`` where it takes NumPy's
    ``axis=``/``keepdims=`` (both spellings work; internal callers use ``fn`` itself)."""
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return fn
    axis = "axis" in params and "dim" not in params
    keep = "keepdims" in params and "keepdim" not in params
    if not (axis or keep):
        return fn

    @functools.wraps(fn)
    def torch_keywords(*args, **kwargs):
        if kwargs:
            if axis and "dim" in kwargs:
                if "axis" in kwargs:
                    raise TypeError(f"{fn.__name__}: give dim (PyTorch) or axis (NumPy), "
                                    "not both")
                kwargs["axis"] = kwargs.pop("dim")
            if keep and "keepdim" in kwargs:
                kwargs["keepdims"] = kwargs.pop("keepdim")
        return fn(*args, **kwargs)

    return torch_keywords


def write_out(result, out, name: str):
    """PyTorch's ``out=t``: write ``result`` into ``t`` (resized if its shape differs) and
    return ``t``; refused where gradients are recorded, as PyTorch."""
    from .._tensor import Tensor, is_grad_enabled

    if not isinstance(out, Tensor) or not isinstance(result, Tensor):
        raise TypeError(f"{name}: out= must be a Tensor (and the result one)")
    if is_grad_enabled() and (result.requires_grad or out.requires_grad):
        raise RuntimeError(f"{name}(): functions with out=... arguments don't "
                           "support automatic differentiation; call it without out= or "
                           "under no_grad()")
    if out.shape == result.shape and isinstance(out.array, np.ndarray) \
            and out.array.flags.writeable:
        out.array[...] = result.array
    else:
        out.array = np.array(result.array, dtype=out.dtype)
    out._version += 1
    return out


def _with_out(fn):
    """``cr.NAME(..., out=t)`` for a function without an ``out`` parameter of its own (the
    generated elementwise ops take it directly, sparing their callers this wrapper)."""
    try:
        if "out" in inspect.signature(fn).parameters:
            return fn
    except (TypeError, ValueError):
        return fn

    @functools.wraps(fn)
    def with_out(*args, out=None, **kwargs):
        result = fn(*args, **kwargs)
        return result if out is None else write_out(result, out, fn.__name__)

    return with_out


def _expose(fn, name: str, method, function) -> None:
    fn = _torch_keywords(fn)
    for flag, table in ((function, EXPOSED), (method, METHODS)):
        if not flag:
            continue
        if table is EXPOSED:
            fn_out = _with_out(fn)
            names = (name,) if flag is True else ((flag,) if isinstance(flag, str) else flag)
            for n in names:
                table[n] = fn_out
            continue
        names = (name,) if flag is True else ((flag,) if isinstance(flag, str) else flag)
        for n in names:
            table[n] = fn


def expose(fn=None, *, method=True, function=True, name: str | None = None):
    """Register a composite (an op built from others, with no rule of its own) as a
    Tensor method and/or ``cr.`` function, beside the registered ops."""
    def mark(f):
        _expose(f, name or f.__name__, method, function)
        return f

    return mark(fn) if fn is not None else mark


def _on_arrays(fn):
    """``fn`` (which takes and returns Tensors) on plain arrays, unrecorded: the default
    ``ARRAYS.NAME`` of an op that gives no array form of its own."""
    from .._tensor import Tensor, no_grad_scope, wrap

    def on_arrays(*args, **kwargs):
        args = [wrap(a) if isinstance(a, (np.ndarray, np.generic)) else a for a in args]
        with no_grad_scope():
            out = fn(*args, **kwargs)
        if isinstance(out, Tensor):
            return out.array
        if isinstance(out, tuple):
            return tuple(o.array if isinstance(o, Tensor) else o for o in out)
        return out

    on_arrays.__name__ = getattr(fn, "__name__", "op")
    return on_arrays


# ---------------------------------------------------------------------------
# the two common shapes of an op: elementwise with one input, and with two
# ---------------------------------------------------------------------------
def unary(name: str, forward, vjp, *, float_only: bool = True, reads=("inputs",),
          method=True, function=True, **fields):
    """An elementwise op of one input from its array ``forward`` and its VJP rule; the
    public function ``op(x)`` is generated. Returns that function (``fn.op`` is the Op)."""
    from .._tensor import Tensor, as_tensor, get_default_dtype, record

    op = Op(name, vjp, reads=reads, method=method, function=function,
            array=fields.pop("array", forward), **fields)
    if op.cases is None:
        op.cases = [case(()), case((1,)), case((3, 4))]

    if float_only:
        def public(x, out=None) -> Tensor:
            if not isinstance(x, Tensor):
                x = as_tensor(x)
            if x.array.dtype.kind not in "fc":
                x = as_tensor(x.array.astype(get_default_dtype()))
            result = record(forward(x.array), op, (x,))
            return result if out is None else write_out(result, out, name)
    else:
        def public(x, out=None) -> Tensor:
            if not isinstance(x, Tensor):
                x = as_tensor(x)
            result = record(forward(x.array), op, (x,))
            return result if out is None else write_out(result, out, name)

    public.__name__ = public.__qualname__ = name
    return op.define(public)


def binary(name: str, forward, vjp, *, reads=("inputs",), method=True, function=True,
           float_only: bool = False, **fields):
    """A broadcasting op of two inputs from its array ``forward`` and its VJP rule.

    ``forward`` is an ``operator`` function where one exists: on 0-d values it takes
    NumPy's scalar fast path, where the equivalent ufunc call costs twice as much.
    ``float_only``: integer or bool inputs compute in the default float dtype (as
    PyTorch's atan2; NumPy would pick float16 or float64 by the integer width).
    """
    from .._tensor import Tensor, record
    from .primitives import _broadcast_error, _pair, _promote

    # int / int is a float division; a float-only op of integers too
    is_div = name == "div" or float_only

    op = Op(name, vjp, reads=reads, method=method, function=function,
            array=fields.pop("array", forward), **fields)
    if op.cases is None:
        op.cases = [case((), ()), case((3, 4), (3, 4)), case((3, 1), (1, 4)),
                    case((2, 3), (3,)), case((1,), ())]

    ndarray = np.ndarray

    def public(a, b, out=None) -> Tensor:
        if not (isinstance(a, Tensor) and isinstance(b, Tensor)):
            a, b = _pair(a, b)
        x, y = a.array, b.array
        kind = type(x)
        # two NumPy scalars of one type have one dtype: the 0-d fast path skips .dtype
        if kind is not type(y) or (kind is ndarray and x.dtype is not y.dtype) or \
                (is_div and x.dtype.kind in "biu"):
            a, b = _promote(a, b, "div" if is_div else name)
            x, y = a.array, b.array
        try:
            data = forward(x, y)
        except ValueError:
            raise _broadcast_error(name, a, b) from None
        result = record(data, op, (a, b))
        return result if out is None else write_out(result, out, name)

    public.__name__ = public.__qualname__ = name
    return op.define(public)


def sample(domain, shape, rng) -> np.ndarray:
    """Inputs for a gradient check, drawn from ``domain`` (see ``_DOMAINS``)."""
    d = _DOMAINS.get(domain, domain) if isinstance(domain, str) else domain
    if d in ("nonzero", "offkink"):
        low = 0.3 if d == "nonzero" else 0.1
        return np.asarray(rng.uniform(low, 2.0, shape) * rng.choice([-1.0, 1.0], shape))
    lo, hi = d
    return np.asarray(rng.uniform(lo, hi, shape))
