"""The building blocks: each primitive's forward computation and its local derivative,
each one registry entry (``ops/registry.py``): name, forward, VJP rule, what the rule
reads, display formula, anomaly hint, exposure and gradient-check domain side by side.

Every rule is a vector-Jacobian product ``vjp(F, g, ans, ctx, *inputs)``: given the
adjoint ``g`` of the output (dL/d ans), it returns dL/d input for each input, i.e.
``g`` times the local derivative d ans / d input. ``F`` is the namespace the rule
computes with: plain arrays (``ARRAYS``) in an ordinary backward pass, chainrule
ops (``GRAPH``) under ``create_graph=True``, so the same line gives first and higher
derivatives; every registered op is on both. Rules may return an adjoint of the broadcast shape: the engine sums it
back to the input's shape (``autograd.sum_to``), the one place where that happens.
"""

from __future__ import annotations

import builtins
import math
import operator

import numpy as np

from .._tensor import Tensor, _unwrap_index, as_dtype, as_tensor, record
from ..autograd import sum_to
from .registry import ARRAYS, GRAPH, Op, binary, case, expose, unary

builtin_max = builtins.max


# ---------------------------------------------------------------------------
# helpers for the forward side
# ---------------------------------------------------------------------------
def _pair(a, b):
    """Make both operands Tensors; a constant takes its partner's dtype."""
    if not isinstance(a, Tensor):
        a = as_tensor(a, b) if isinstance(b, Tensor) else as_tensor(a)
    if not isinstance(b, Tensor):
        b = as_tensor(b, a)
    return a, b


_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}


def _promote(a: Tensor, b: Tensor, op: str):
    """PyTorch's type promotion where NumPy's differs: the higher category (bool < int <
    float) decides, so float32 stays float32 with int tensors and int64 scalars; within a
    category a 0-d operand does not widen a dimensioned one (float32 with a float64 0-d
    value stays float32); int / int is the default float dtype."""
    from .._tensor import get_default_dtype

    da, db = a.array.dtype, b.array.dtype
    ka, kb = _CATEGORY.get(da.kind, 4), _CATEGORY.get(db.kind, 4)
    if op == "div" and ka < 2 and kb < 2:
        target = get_default_dtype()
        return cast(a, target), cast(b, target)
    if da == db:
        return a, b
    if ka != kb:
        # the higher category's dtype: a 0-d tensor's own (float64 0-d with an int tensor
        # is float64, as PyTorch); Python and NumPy numbers arrive here already converted
        # to the default dtype by as_tensor
        hi = a if ka > kb else b
        target = hi.array.dtype
    elif (a.ndim == 0) != (b.ndim == 0):
        target = db if a.ndim == 0 else da  # the dimensioned operand's dtype
    else:
        return a, b  # same category, both dimensioned: NumPy's widening is PyTorch's too
    return (a if da == target else cast(a, target)), (b if db == target else cast(b, target))


def _broadcast_error(op: str, a: Tensor, b: Tensor) -> ValueError:
    return ValueError(
        f"{op}: shapes {a.shape} and {b.shape} cannot be broadcast together "
        "(trailing dimensions must be equal or 1)"
    )


def _axes(axis, ndim: int, op: str):
    """Normalize ``axis`` (None, int or tuple) to a sorted tuple of non-negative ints."""
    if axis is None:
        return tuple(range(ndim))
    raw = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out = []
    for a in raw:
        if not -ndim <= a < builtin_max(ndim, 1) or (ndim == 0 and a not in (0, -1)):
            raise ValueError(f"{op}: axis {a} is out of range for a tensor with {ndim} dims")
        out.append(int(a) % builtin_max(ndim, 1))
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: repeated axis in {axis}")
    return tuple(sorted(out)) if ndim else ()


def _keep_shape(shape: tuple, axes: tuple) -> tuple:
    """The shape of a reduction over ``axes`` with keepdims=True."""
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _float_only(op: str, x: Tensor) -> None:
    if x.array.dtype.kind not in "fc":
        raise TypeError(f"{op}: expected a floating-point tensor, got dtype {x.array.dtype}")


# ===========================================================================
# Arithmetic
# ===========================================================================
#               name   forward        local derivative (as a VJP)
add = binary("add", operator.add, lambda F, g, ans, ctx, a, b: (g, g),  # the add gate distributes
             reads=(), formula="1", expr=2, symbol="+", hint="inf + (-inf) or an overflow")
sub = binary("sub", operator.sub, lambda F, g, ans, ctx, a, b: (g, -g),
             reads=(), formula=("1", "-1"), symbol="−", hint="inf - inf")
# the multiply gate switches its inputs
mul = binary("mul", operator.mul, lambda F, g, ans, ctx, a, b: (g * b, g * a),
             reads=("others",), formula=("{b}", "{a}"), symbol="·",
             hint="an overflow (values too large) or 0 * inf")


def _div_vjp(F, g, ans, ctx, a, b):
    gb = g / b
    return gb, -gb * ans             # d(a/b)/db = -a/b^2 = -ans/b


div = binary("div", operator.truediv, _div_vjp, reads=("inputs", "output"),
             formula=("1/{b}", "-{a}/{b}²"), domain=["real", "nonzero"], symbol="/",
             hint="a division by zero (x/0 = inf, 0/0 = nan); add an epsilon to the divisor")
neg = unary("neg", operator.neg, lambda F, g, ans, ctx, x: (-g,), reads=(), formula="-1",
            float_only=False)


def _pow_vjp(F, g, ans, ctx, x, y=None):
    if y is None:  # a constant exponent c = ctx
        c = ctx
        if c == 2:
            return (g * (2 * x),)
        if c == 0:  # x ** 0 is constant: 0 everywhere, also at x = 0 (as PyTorch), not 0 * inf
            return (g * 0,)
        return (g * (c * x ** (c - 1)),)
    needs = ctx
    # y * x ** (y - 1) with the exponent 1 where y == 0: 0, not 0 * inf, at x = 0 (as PyTorch)
    gx = g * (y * x ** F.where(y == 0, 1, y - 1)) if needs[0] else None
    # d(x^y)/dy = x^y log x for x > 0; at x == 0 it is 0 for y >= 0 (as PyTorch) and
    # undefined (nan) for a negative base, as PyTorch's log(x) gives
    if needs[1]:
        gy = g * F.where(x > 0, ans * F.log(F.where(x > 0, x, 1)),
                         F.where((x == 0) & (y >= 0), 0, math.nan))
    else:
        gy = None
    return gx, gy


def _pow_formula(i, labels, c):
    a = labels[0]
    if len(labels) > 1 and not isinstance(c, (int, float)):  # a tensor exponent
        b = labels[1]
        return f"{b}·{a}^({b}-1)" if i == 0 else f"{labels[-1]}·log({a})"
    if not isinstance(c, (int, float)):
        return None
    n = int(c) if float(c).is_integer() else c
    m = n - 1
    c_text, m_text = format(n, "g"), format(m, "g")
    if m == 1:
        return f"{c_text}·{a}"
    if m == 0:
        return "1"
    if m_text.startswith("-"):
        m_text = f"({m_text})"
    return f"{c_text}·{a}^{m_text}"


POW = Op("pow", _pow_vjp, reads=("inputs", "output"), formula=_pow_formula, expr=2,
         method=True, function=True, domain=["positive", "real"],
         cases=[case((3,), (3,)), case((2, 3), (3,)), case((), ()),
                lambda rng: ((rng.uniform(0.3, 2, (3, 2)),), {"exponent": 3}),
                lambda rng: ((rng.uniform(0.3, 2, (4,)),), {"exponent": -1.5})],
         hint="an overflow (values too large), a negative base with a fractional exponent "
              "(nan) or 0 to a negative power (inf)")


@POW.define
def pow(x, exponent) -> Tensor:
    """``x ** exponent``; a constant exponent records a cheaper rule than a tensor exponent."""
    if not isinstance(exponent, Tensor):
        x = as_tensor(x)
        if isinstance(exponent, (int, float, np.integer, np.floating)):
            c = exponent.item() if isinstance(exponent, np.generic) else exponent
            data = x.array * x.array if c == 2 else x.array ** c
            if data.dtype != x.array.dtype and x.array.dtype.kind == "f":
                data = data.astype(x.array.dtype)
            elif x.array.dtype.kind in "biu" and isinstance(c, float):
                from .._tensor import get_default_dtype

                data = data.astype(get_default_dtype())  # int ** 0.5: float32, as PyTorch
            return record(data, POW, (x,), c)
        exponent = as_tensor(exponent, x)
    x, y = _pair(x, exponent)
    if x.array.dtype != y.array.dtype:
        x, y = _promote(x, y, "pow")
    try:
        data = x.array ** y.array
    except ValueError:
        raise _broadcast_error("pow", x, y) from None
    return record(data, POW, (x, y), (x.requires_grad, y.requires_grad))


# ===========================================================================
# Elementwise functions
# ===========================================================================
def _sigmoid_forward(x):
    """1 / (1 + e^-x), with no overflow warning and no NaN for any x."""
    if x.ndim == 0:  # a scalar: Python math, sparing the ~1 µs of entering np.errstate
        v = float(x)
        e = math.exp(-v if v >= 0 else v)  # e^-|x| never overflows
        return x.dtype.type(1 / (1 + e) if v >= 0 else e / (1 + e))
    with np.errstate(over="ignore"):  # e^-x = inf for x < -88 (float32) gives exactly 0
        out = np.negative(x)
        np.exp(out, out=out)
        out += 1
        return np.reciprocal(out, out=out)


def _softplus_forward(x):
    """log(1 + e^x) without overflow: max(x, 0) + log1p(e^-|x|)."""
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


def _erf_forward(x):
    """The error function: SciPy's where it is installed, else math.erf per element."""
    try:
        from scipy.special import erf
    except ImportError:  # the core depends on NumPy only
        out = np.frompyfunc(math.erf, 1, 1)(x)
        return np.asarray(out, dtype=x.dtype)[()] if np.ndim(x) == 0 else out.astype(x.dtype)
    out = erf(x)
    return out.astype(x.dtype, copy=False) if isinstance(out, np.ndarray) else x.dtype.type(out)


_SQRT_2_OVER_PI = math.sqrt(2 / math.pi)
_TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)

# Each line is one building block: name, forward on arrays, local derivative as a VJP rule
# (F is the namespace the rule computes with), what the rule reads, the derivative as a
# drawing writes it, and where its gradient check samples.
#            name      forward          local derivative (as a VJP)
exp = unary("exp", np.exp, lambda F, g, ans, c, x: (g * ans,), reads=("output",),
            formula="exp({x})", expr=1,
            hint="exp overflows to inf above ~88 (float32) or ~709 (float64); use logsumexp "
                 "or log_softmax instead of exp followed by log")
log = unary("log", np.log, lambda F, g, ans, c, x: (g / x,), formula="1/{x}", expr=1,
            domain="positive",
            hint="log(0) = -inf and log(x < 0) = nan; add a small epsilon or clamp the input")
sqrt = unary("sqrt", np.sqrt, lambda F, g, ans, c, x: (g / (2 * ans),), reads=("output",),
             formula="1/(2·sqrt({x}))", expr=1, domain="positive",
             hint="sqrt(x < 0) = nan; clamp the input to >= 0")
# √x whose gradient is 0 where the value is 0: the last step of a 2-norm and of std, whose
# derivative at the origin PyTorch defines as 0 (a subgradient) instead of inf·0 = nan
sqrt_masked = unary("sqrt_masked", np.sqrt,
                    lambda F, g, ans, c, x: (g * F.where(ans > 0,
                                                         0.5 / F.where(ans > 0, ans, 1.0),
                                                         0.0),),
                    reads=("output",), formula="1/(2·sqrt({x})), 0 at 0", domain="positive",
                    method=False, function=False,
                    hint="sqrt(x < 0) = nan; clamp the input to >= 0")
tanh = unary("tanh", np.tanh, lambda F, g, ans, c, x: (g * (1 - ans * ans),),
             reads=("output",), formula="1 - tanh({x})²", expr=1)
sigmoid = unary("sigmoid", _sigmoid_forward,
                lambda F, g, ans, c, x: (g * (ans * (1 - ans)),), reads=("output",),
                formula="σ({x})·(1 - σ({x}))", expr=1)
sin = unary("sin", np.sin, lambda F, g, ans, c, x: (g * F.cos(x),), formula="cos({x})", expr=1)
cos = unary("cos", np.cos, lambda F, g, ans, c, x: (-g * F.sin(x),), formula="-sin({x})",
            expr=1)
tan = unary("tan", np.tan, lambda F, g, ans, c, x: (g * (1 + ans * ans),), reads=("output",),
            formula="1 + tan({x})²", domain="unit", expr=1)
# |x|: derivative sign(x), 0 at the kink (as PyTorch)
abs = unary("abs", np.abs, lambda F, g, ans, c, x: (g * F.sign(x),), float_only=False,
            formula="sign({x})", expr=1, domain="offkink")
# relu = max(0, x): the max gate routes the gradient where x > 0; 0 at x == 0
relu = unary("relu", lambda x: np.maximum(x, 0), lambda F, g, ans, c, x: (g * (ans > 0),),
             float_only=False, reads=("output",), formula="[{x} > 0]", expr=1,
             domain="offkink")
def _sign(x):
    if x.dtype == np.bool_:  # as PyTorch: the sign of a bool is the bool
        return x.copy()
    out = np.sign(x)
    if out.dtype.kind == "f":  # PyTorch: sign(nan) is 0, not nan
        out = np.where(np.isnan(out), out.dtype.type(0), out)
    return out


sign = unary("sign", _sign, lambda F, g, ans, c, x: (g * 0,), float_only=False, reads=(),
             formula="0", domain="offkink", expr=1)
log1p = unary("log1p", np.log1p, lambda F, g, ans, c, x: (g / (1 + x),),
              formula="1/(1 + {x})", expr=1, domain="positive",
              hint="log1p(x <= -1) is -inf or nan; keep the input above -1")
expm1 = unary("expm1", np.expm1, lambda F, g, ans, c, x: (g * (ans + 1),), reads=("output",),
              formula="exp({x})", hint="expm1 overflows to inf above ~88 (float32)", expr=1)
log2 = unary("log2", np.log2, lambda F, g, ans, c, x: (g / (x * math.log(2)),),
             formula="1/({x}·ln 2)", domain="positive",
             hint="log2(0) = -inf and log2(x < 0) = nan; clamp the input", expr=1)
log10 = unary("log10", np.log10, lambda F, g, ans, c, x: (g / (x * math.log(10)),),
              formula="1/({x}·ln 10)", domain="positive",
              hint="log10(0) = -inf and log10(x < 0) = nan; clamp the input", expr=1)
exp2 = unary("exp2", np.exp2, lambda F, g, ans, c, x: (g * (ans * math.log(2)),),
             reads=("output",), formula="2^{x}·ln 2", hint="exp2 overflows above ~128 (float32)", expr=1)
reciprocal = unary("reciprocal", np.reciprocal, lambda F, g, ans, c, x: (-g * (ans * ans),),
                   reads=("output",), formula="-1/{x}²", domain="nonzero",
                   hint="1/0 = inf; add an epsilon", expr=1)
rsqrt = unary("rsqrt", lambda x: np.reciprocal(np.sqrt(x)),
              lambda F, g, ans, c, x: (g * (-0.5 * ans * ans * ans),), reads=("output",),
              formula="-1/(2·{x}^1.5)", domain="positive",
              hint="rsqrt(0) = inf and rsqrt(x < 0) = nan; add an epsilon", expr=1)
def _square(x):
    return np.square(x.astype(np.int64) if x.dtype == np.bool_ else x)  # bool² is int64


square = unary("square", _square, lambda F, g, ans, c, x: (g * (2 * x),),
               formula="2·{x}", float_only=False, expr=1)
erf = unary("erf", _erf_forward,
            lambda F, g, ans, c, x: (g * (_TWO_OVER_SQRT_PI * F.exp(-x * x)),),
            formula="2/√π·exp(-{x}²)", expr=1)
silu = unary("silu", lambda x: x * _sigmoid_forward(x),
             lambda F, g, ans, c, x: (g * (F.sigmoid(x) * (1 + x * (1 - F.sigmoid(x)))),),
             formula="σ({x})·(1 + {x}·(1 - σ({x})))", expr=1)
mish = unary("mish", lambda x: x * np.tanh(_softplus_forward(x)),
             lambda F, g, ans, c, x: (g * (F.tanh(F.softplus(x)) + x * F.sigmoid(x)
                                          * (1 - F.tanh(F.softplus(x)) ** 2)),),
             formula="tanh(sp) + {x}·σ({x})·(1 - tanh(sp)²), sp = softplus({x})", expr=1)
softsign = unary("softsign", lambda x: x / (1 + np.abs(x)),
                 lambda F, g, ans, c, x: (g / ((1 + F.abs(x)) ** 2),),
                 formula="1/(1 + |{x}|)²", domain="offkink", expr=1)
logsigmoid = unary("logsigmoid", lambda x: -_softplus_forward(-x),
                   lambda F, g, ans, c, x: (g * F.sigmoid(-x),), formula="σ(-{x})", expr=1)
# rounding: piecewise constant, so the local derivative is 0 (as PyTorch)
_ZERO = {"float_only": False, "reads": (), "formula": "0", "domain": "offkink",
         "second_order": False, "expr": 1}
floor = unary("floor", np.floor, lambda F, g, ans, c, x: (g * 0,), **_ZERO)
ceil = unary("ceil", np.ceil, lambda F, g, ans, c, x: (g * 0,), **_ZERO)
round = unary("round", np.round, lambda F, g, ans, c, x: (g * 0,), **_ZERO)
trunc = unary("trunc", np.trunc, lambda F, g, ans, c, x: (g * 0,), **_ZERO)
frac = unary("frac", lambda x: x - np.trunc(x), lambda F, g, ans, c, x: (g,), reads=(),
             formula="1", expr=1)


def _softplus_vjp(F, g, ans, ctx, x):
    beta, threshold = ctx
    return (F.where(x * beta > threshold, g, g * F.sigmoid(x * beta)),)


def _softplus_formula(i, labels, ctx):
    beta = 1.0 if ctx is None else ctx[0]
    return f"σ({labels[0]})" if beta == 1 else f"σ({beta:g}·{labels[0]})"


SOFTPLUS = Op("softplus", _softplus_vjp, reads=("inputs",), formula=_softplus_formula,
              method=True,
              function=True, expr=1, cases=[case((3, 4)), case(()),
                                            case((5,), beta=2.0, threshold=1.0)])


@SOFTPLUS.define
def softplus(x, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + e^(βx))/β, and x itself where βx > threshold (as PyTorch), without overflow."""
    x = as_tensor(x)
    _float_only("softplus", x)
    xd = x.array
    z = xd * beta if beta != 1 else xd
    out = _softplus_forward(z)
    if beta != 1:
        out = out / beta
    out = np.where(z > threshold, xd, out).astype(xd.dtype, copy=False)
    return record(out[()] if out.ndim == 0 else out, SOFTPLUS, (x,), (beta, threshold))


def _gelu_vjp(F, g, ans, approximate, x):
    if approximate == "tanh":
        k = _SQRT_2_OVER_PI
        t = F.tanh(k * (x + 0.044715 * x * x * x))
        return (g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * k * (1 + 3 * 0.044715 * x * x)),)
    cdf = 0.5 * (1 + F.erf(x * (1 / math.sqrt(2))))
    pdf = F.exp(-0.5 * x * x) * (1 / math.sqrt(2 * math.pi))
    return (g * (cdf + x * pdf),)


def _gelu_formula(i, labels, approximate):
    if approximate == "tanh":
        return (f"½(1 + t) + ½·{labels[0]}·(1 - t²)·k·(1 + 0.134145·{labels[0]}²), "
                f"t = tanh(k·({labels[0]} + 0.044715·{labels[0]}³)), k = √(2/π)")
    return f"Φ({labels[0]}) + {labels[0]}·φ({labels[0]})"


GELU = Op("gelu", _gelu_vjp, reads=("inputs",), formula=_gelu_formula, expr=1, method=True,
          function=True, cases=[case((3, 4)), case(()), case((5,), approximate="tanh")])


@GELU.define
def gelu(x, approximate: str = "none") -> Tensor:
    """x·Φ(x) (``approximate='none'``) or its tanh form (``'tanh'``), as PyTorch."""
    x = as_tensor(x)
    _float_only("gelu", x)
    xd = x.array
    if approximate == "tanh":
        out = 0.5 * xd * (1 + np.tanh(_SQRT_2_OVER_PI * (xd + 0.044715 * xd ** 3)))
    elif approximate == "none":
        out = 0.5 * xd * (1 + _erf_forward(xd * xd.dtype.type(1 / math.sqrt(2))))
    else:
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return record(out.astype(xd.dtype, copy=False), GELU, (x,), approximate)


def _elu_vjp(F, g, ans, ctx, x):
    alpha, scale = ctx
    return (F.where(x > 0, g * scale, g * (scale * alpha) * F.exp(x)),)


def _elu_formula(i, labels, ctx):
    alpha, scale = (1.0, 1.0) if ctx is None else ctx
    x = labels[0]
    core = f"[{x} > 0] + {alpha:g}·exp({x})·[{x} ≤ 0]"
    return core if scale == 1 else f"{scale:.6g}·([{x} > 0] + {alpha:.6g}·exp({x})·[{x} ≤ 0])"


ELU = Op("elu", _elu_vjp, reads=("inputs",), formula=_elu_formula,
         expr=1, method=True, function=True, domain="offkink",
         cases=[case((3, 4)), case(()), case((5,), alpha=0.5)])


@ELU.define
def elu(x, alpha: float = 1.0) -> Tensor:
    """x for x > 0, α(e^x − 1) otherwise."""
    x = as_tensor(x)
    _float_only("elu", x)
    xd = x.array
    out = np.where(xd > 0, xd, alpha * np.expm1(np.minimum(xd, 0))).astype(xd.dtype, copy=False)
    return record(out[()] if out.ndim == 0 else out, ELU, (x,), (alpha, 1.0))


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


@expose
def selu(x) -> Tensor:
    """scale·elu(x, α) with the self-normalizing constants (as PyTorch); one elu node."""
    x = as_tensor(x)
    _float_only("selu", x)
    xd = x.array
    out = _SELU_SCALE * np.where(xd > 0, xd, _SELU_ALPHA * np.expm1(np.minimum(xd, 0)))
    out = out.astype(xd.dtype, copy=False)
    return record(out[()] if out.ndim == 0 else out, ELU, (x,), (_SELU_ALPHA, _SELU_SCALE))


HARDTANH = Op("hardtanh", lambda F, g, ans, b, x: (F.where((x > b[0]) & (x < b[1]), g, 0),),
              reads=("inputs",), formula="[min < {x} < max]", expr=1, method=True, function=True,
              domain=(-3.0, 3.0), second_order=False,
              cases=[case((3, 4)), case((6,), min_val=-0.5, max_val=2.0)])


@HARDTANH.define
def hardtanh(x, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """Clamp into [min_val, max_val]; the gradient passes strictly inside (as PyTorch)."""
    x = as_tensor(x)
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val {min_val} is greater than max_val {max_val}")
    return record(np.clip(x.array, min_val, max_val), HARDTANH, (x,),
                  (min_val, max_val))


@expose
def relu6(x) -> Tensor:
    """min(max(0, x), 6): a hardtanh node with bounds 0 and 6."""
    return hardtanh(x, 0.0, 6.0)


def _leaky_relu_vjp(F, g, ans, slope, x):
    return (F.where(x > 0, g, g * slope),)


LEAKY_RELU = Op("leaky_relu", _leaky_relu_vjp, reads=("inputs",),
                formula="[{x} > 0] + slope·[{x} ≤ 0]", expr=1, method=True, function=True,
                domain="offkink", cases=[case((3, 4)), case((5,), negative_slope=0.2)])


@LEAKY_RELU.define
def leaky_relu(x, negative_slope: float = 0.01) -> Tensor:
    x = as_tensor(x)
    return record(np.where(x.array > 0, x.array, x.array * negative_slope), LEAKY_RELU, (x,),
                  negative_slope)


def _maximum_vjp(F, g, ans, ctx, a, b):
    # route to the larger input; on a tie each input gets half (as PyTorch)
    half = g * 0.5
    return F.where(a > b, g, F.where(a == b, half, 0)), F.where(b > a, g, F.where(a == b, half, 0))


# ties split the gradient evenly, as the engine (and PyTorch) do
maximum = binary("maximum", np.maximum, _maximum_vjp, expr=2, domain=["real", "real"],
                 formula=("[{a} > {b}] + ½[{a} = {b}]", "[{b} > {a}] + ½[{b} = {a}]"),
                 doc="Elementwise max; the gradient goes to the larger input, split evenly "
                     "on ties.")


def _minimum_vjp(F, g, ans, ctx, a, b):
    half = g * 0.5
    return F.where(a < b, g, F.where(a == b, half, 0)), F.where(b < a, g, F.where(a == b, half, 0))


minimum = binary("minimum", np.minimum, _minimum_vjp, expr=2,
                 formula=("[{a} < {b}] + ½[{a} = {b}]", "[{b} < {a}] + ½[{b} = {a}]"),
                 doc="Elementwise min; the gradient goes to the smaller input, split evenly "
                     "on ties.")


def _clip_by_tensors(x, low, high) -> Tensor:
    """Clamp with tensor bounds (broadcast): the gradient goes to x where low ≤ x ≤ high,
    else to the bound that was taken (PyTorch's rule; high wins where low > high)."""
    out = x
    if low is not None:
        low = as_tensor(low, x)
        out = where(out < low, low, out)
    if high is not None:
        high = as_tensor(high, x)
        out = where(out > high, high, out)
    return out


def _clip_vjp(F, g, ans, bounds, x):
    low, high = bounds
    inside = True
    if low is not None:
        inside = x >= low
    if high is not None:
        inside = (x <= high) & inside if low is not None else x <= high
    return (F.where(inside, g, 0),)


CLIP = Op("clip", _clip_vjp, reads=("inputs",), formula="[min ≤ {x} ≤ max]",
          method=("clip", "clamp"), function=("clip", "clamp"), domain=(-3.0, 3.0),
          cases=[case((3, 4), min=-1.0, max=1.0), case((5,), min=0.5), case((), max=0.0)])


@CLIP.define
def clip(x, min=None, max=None) -> Tensor:
    """Clamp into [min, max]; the gradient passes where min <= x <= max."""
    x = as_tensor(x)
    if min is None and max is None:
        raise ValueError("clip: at least one of min and max must be given")
    if (isinstance(min, Tensor) and (min.ndim or min.requires_grad)) or (
            isinstance(max, Tensor) and (max.ndim or max.requires_grad)):
        return _clip_by_tensors(x, min, max)
    low = min.item() if isinstance(min, Tensor) else min
    high = max.item() if isinstance(max, Tensor) else max
    if x.array.dtype.kind in "biu" and any(isinstance(v, float) for v in (low, high)):
        from .._tensor import get_default_dtype

        x = cast(x, get_default_dtype())  # an int tensor clamped to 0.5: float32, as PyTorch
    return record(np.clip(x.array, low, high), CLIP, (x,), (low, high))


clamp = clip


def _where_vjp(F, g, ans, cond, a, b):
    return F.where(cond, g, 0), F.where(cond, 0, g)


WHERE = Op("where", _where_vjp, reads=(), formula=("[cond]", "[not cond]"), method=False,
           function=True,
           cases=[lambda rng: ((rng.random((3, 4)) > 0.5, rng.normal(size=(3, 4)),
                                rng.normal(size=(4,))), {})])


@WHERE.define
def where(cond, a, b) -> Tensor:
    """``a`` where ``cond`` holds, else ``b``; each gets the adjoint where it was chosen."""
    cond_arr = cond.array if isinstance(cond, Tensor) else np.asarray(cond)
    if cond_arr.dtype != np.bool_:
        cond_arr = cond_arr.astype(bool)
    if not (isinstance(a, Tensor) and isinstance(b, Tensor)):
        a, b = _pair(a, b)
    if a.array.dtype != b.array.dtype:  # PyTorch's promotion, not NumPy's (int32 + 2.5)
        a, b = _promote(a, b, "where")
    try:
        data = np.where(cond_arr, a.array, b.array)
    except ValueError:
        raise ValueError(
            f"where: shapes cond {cond_arr.shape}, a {a.shape} and b {b.shape} cannot be "
            "broadcast together") from None
    return record(data, WHERE, (a, b), cond_arr)


# ===========================================================================
# Reductions
# ===========================================================================
def _reduction_cases():
    return [case((3, 4)), case((3, 4), axis=1), case((2, 3, 4), axis=(0, 2), keepdims=True),
            case(())]


def _sum_vjp(F, g, ans, ctx, x):
    shape, keep = ctx
    return (F.broadcast_to(g.reshape(keep), shape),)


SUM = Op("sum", _sum_vjp, reads=(), formula="1", method=True, function=True,
         cases=_reduction_cases())


@SUM.define
def sum(x, axis=None, keepdims: bool = False, *, dtype=None) -> Tensor:
    x = as_tensor(x)
    if dtype is not None:  # PyTorch casts the input first
        x = cast(x, dtype)
    axes = _axes(axis, x.ndim, "sum")
    data = np.sum(x.array, axis=axes, keepdims=keepdims)
    if x.array.dtype.kind in "bu" and data.dtype == np.uint64:
        data = data.astype(np.int64)  # bool and uint8 sums are int64, as PyTorch's
    return record(data, SUM, (x,), (x.shape, _keep_shape(x.shape, axes)))


def _mean_vjp(F, g, ans, ctx, x):
    shape, keep, n = ctx
    return (F.broadcast_to(g.reshape(keep) / n, shape),)


MEAN = Op("mean", _mean_vjp, reads=(), method=True, function=True, cases=_reduction_cases(),
          formula=lambda i, labels, ctx: f"1/{ctx[-1]}" if isinstance(ctx, tuple) else None)


@MEAN.define
def mean(x, axis=None, keepdims: bool = False, *, dtype=None) -> Tensor:
    x = as_tensor(x)
    if dtype is not None:
        x = cast(x, dtype)
    _float_only("mean", x)
    axes = _axes(axis, x.ndim, "mean")
    n = 1
    for a in axes:
        n *= x.shape[a]
    if n == 0:
        raise ValueError(f"mean: reducing over an empty dimension of shape {x.shape}")
    return record(np.mean(x.array, axis=axes, keepdims=keepdims), MEAN, (x,),
                  (x.shape, _keep_shape(x.shape, axes), n))


def _extreme_vjp(F, g, ans, keep, x):
    # the gradient goes to the arg-max (split evenly among ties, as torch.amax)
    hit = x == ans.reshape(keep)
    count = hit.sum(axis=tuple(i for i, n in enumerate(keep) if n == 1), keepdims=True)
    return (F.where(hit, g.reshape(keep) / count.astype(g.dtype), 0),)


def _extreme(name: str, fn):
    """amax / amin: the largest (smallest) value over ``axis``; ties share the gradient.
    The op is named max / min (as the nodes and errors show it); ``cr.max`` and
    ``Tensor.max`` add PyTorch's (values, indices) form (ops/composite.py)."""
    op = Op(name[1:], _extreme_vjp, method=name, function=name, cases=_reduction_cases(),
            formula=f"[{{x}} is the {name[1:]}]", second_order=False)

    def public(x, axis=None, keepdims: bool = False) -> Tensor:
        x = as_tensor(x)
        axes = _axes(axis, x.ndim, op.name)
        if x.array.size == 0:
            raise ValueError(f"{op.name}: reduction of an empty tensor of shape {x.shape}")
        return record(fn(x.array, axis=axes, keepdims=keepdims), op, (x,),
                      _keep_shape(x.shape, axes))

    public.__name__ = public.__qualname__ = name
    return op.define(public)


amax = _extreme("amax", np.max)
amin = _extreme("amin", np.min)


def _logsumexp_vjp(F, g, ans, keep, x):
    return (g.reshape(keep) * F.exp(x - ans.reshape(keep)),)


LOGSUMEXP = Op("logsumexp", _logsumexp_vjp, formula="softmax({x})", method=True, function=True,
               cases=_reduction_cases())


@LOGSUMEXP.define
def logsumexp(x, axis=None, keepdims: bool = False) -> Tensor:
    """log(sum(exp(x))), computed stably by shifting with the max."""
    x = as_tensor(x)
    if x.array.dtype.kind in "biu":  # as PyTorch: integers in the default float dtype
        from .._tensor import get_default_dtype

        x = cast(x, get_default_dtype())
    _float_only("logsumexp", x)
    axes = _axes(axis, x.ndim, "logsumexp")
    m = np.max(x.array, axis=axes, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    out = np.log(np.sum(np.exp(x.array - m), axis=axes, keepdims=True)) + m
    keep = out.shape
    if not keepdims:
        out = out.reshape(tuple(n for i, n in enumerate(x.shape) if i not in axes))
    return record(out, LOGSUMEXP, (x,), keep)


def _softmax_vjp(F, g, ans, axis, x):
    return (ans * (g - (g * ans).sum(axis=axis, keepdims=True)),)


_AXIS_CASES = [case((3, 4)), case((3, 4), axis=0), case((5,)), case((2, 3, 2), axis=1)]
SOFTMAX = Op("softmax", _softmax_vjp, reads=("output",), formula="s·(δ - sᵀ), s = softmax",
             method=True, function=True, cases=_AXIS_CASES)


@SOFTMAX.define
def softmax(x, axis: int = -1, dtype=None) -> Tensor:
    """exp(x) / sum(exp(x)) along ``axis``, shifted by the max so it never overflows;
    ``dtype`` casts the input first (as PyTorch)."""
    x = as_tensor(x)
    if dtype is not None:
        x = cast(x, dtype)
    _float_only("softmax", x)
    (axis,) = _axes(axis, x.ndim, "softmax") or (0,)
    e = np.exp(x.array - np.max(x.array, axis=axis, keepdims=True))
    e /= np.sum(e, axis=axis, keepdims=True)
    return record(e, SOFTMAX, (x,), axis)


def _log_softmax_vjp(F, g, ans, axis, x):
    return (g - F.exp(ans) * g.sum(axis=axis, keepdims=True),)


LOG_SOFTMAX = Op("log_softmax", _log_softmax_vjp, reads=("output",),
                 formula="δ - softmax({x})", method=True, function=True, cases=_AXIS_CASES)


@LOG_SOFTMAX.define
def log_softmax(x, axis: int = -1, dtype=None) -> Tensor:
    """x - logsumexp(x) along ``axis``, stable for logits in the thousands."""
    x = as_tensor(x)
    if dtype is not None:
        x = cast(x, dtype)
    _float_only("log_softmax", x)
    (axis,) = _axes(axis, x.ndim, "log_softmax") or (0,)
    shifted = x.array - np.max(x.array, axis=axis, keepdims=True)
    out = shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))
    return record(out, LOG_SOFTMAX, (x,), axis)


# ===========================================================================
# Linear algebra
# ===========================================================================
def _matmul_vjp(F, g, ans, needs, a, b):
    # Treat 1-D operands as a row (a) or a column (b), as matmul does, then
    # dA = G B^T and dB = A^T G, summed back over broadcast batch dimensions.
    a1, b1 = a.ndim == 1, b.ndim == 1
    a2 = a.reshape((1,) + a.shape) if a1 else a
    b2 = b.reshape(b.shape + (1,)) if b1 else b
    batch = g.shape[: g.ndim - (0 if a1 else 1) - (0 if b1 else 1)]
    g2 = g.reshape(batch + (a2.shape[-2], b2.shape[-1]))
    ga = gb = None
    if needs[0]:
        ga = sum_to(g2 @ b2.swapaxes(-1, -2), a2.shape).reshape(a.shape)
    if needs[1]:
        gb = sum_to(a2.swapaxes(-1, -2) @ g2, b2.shape).reshape(b.shape)
    return ga, gb


MATMUL = Op("matmul", _matmul_vjp, reads=("others",), method=True, function=True,
            # as the notes write it: ∂L/∂A = ∂L/∂Y · Bᵀ and ∂L/∂B = Aᵀ · ∂L/∂Y
            formula=("(·) · {b}ᵀ", "{a}ᵀ · (·)"),
            hint="an overflow: the values grew too large (exploding activations or weights)",
            cases=[case((3, 4), (4, 2)), case((4,), (4, 2)), case((3, 4), (4,)),
                   case((4,), (4,)), case((2, 3, 4), (4, 5)), case((2, 1, 3, 4), (3, 4, 2))])


@MATMUL.define
def matmul(a, b) -> Tensor:
    """Matrix product with NumPy's rules: 1-D, 2-D and batched N-D operands."""
    a, b = _pair(a, b)
    sa, sb = a.shape, b.shape
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: both operands need at least 1 dimension, got shapes {sa} "
                         f"and {sb}; use * for scalars")
    ka = sa[-1]
    kb = sb[0] if b.ndim == 1 else sb[-2]
    if ka != kb:
        raise ValueError(f"matmul: shapes {sa} and {sb} are not aligned: {ka} != {kb}")
    try:
        data = a.array @ b.array
    except ValueError:
        raise ValueError(f"matmul: batch dimensions of shapes {sa} and {sb} cannot be "
                         "broadcast together") from None
    return record(data, MATMUL, (a, b), (a.requires_grad, b.requires_grad))


def _transpose_vjp(F, g, ans, axes, x):
    return (g.transpose(tuple(np.argsort(axes))),)


TRANSPOSE = Op("transpose", _transpose_vjp, reads=(), formula="1", method=True, function=True,
               cases=[case((3, 4)),
                    lambda rng: ((rng.normal(size=(2, 3, 4)), 0, 2), {}),
                    lambda rng: ((rng.normal(size=(2, 3, 4)), (2, 0, 1)), {})])


@TRANSPOSE.define
def transpose(x, *axes) -> Tensor:
    """``transpose(x)`` reverses the axes (``x.T``); ``transpose(x, d0, d1)`` swaps two
    (as PyTorch); ``transpose(x, (2, 0, 1))`` applies a permutation (as NumPy)."""
    x = as_tensor(x)
    if not axes:
        perm = tuple(range(x.ndim))[::-1]
    elif len(axes) == 1 and isinstance(axes[0], (tuple, list)):
        perm = tuple(int(a) % builtin_max(x.ndim, 1) for a in axes[0])
    elif len(axes) == 2:
        d0, d1 = (_axes(a, x.ndim, "transpose")[0] for a in axes)
        swapped = list(range(x.ndim))
        swapped[d0], swapped[d1] = d1, d0
        perm = tuple(swapped)
    else:
        perm = tuple(int(a) % x.ndim for a in axes)
    if sorted(perm) != list(range(x.ndim)):
        raise ValueError(f"transpose: axes {axes} are not a permutation of {x.ndim} dims "
                         f"(shape {x.shape})")
    return record(x.array.transpose(perm), TRANSPOSE, (x,), perm)


@expose
def permute(x, *axes) -> Tensor:
    """Reorder the dimensions: ``permute(x, 2, 0, 1)`` or ``permute(x, (2, 0, 1))``."""
    if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
        axes = tuple(axes[0])
    return transpose(x, tuple(axes))


# ===========================================================================
# Shape
# ===========================================================================
def _reshape_vjp(F, g, ans, shape, x):
    return (g.reshape(shape),)


RESHAPE = Op("reshape", _reshape_vjp, reads=(), formula="1", method=("reshape", "view"),
             function=True,
             cases=[lambda rng: ((rng.normal(size=(3, 4)), (2, 6)), {}),
                    lambda rng: ((rng.normal(size=(2, 3)), -1), {}),
                    lambda rng: ((rng.normal(size=()), (1, 1)), {})])


@RESHAPE.define
def reshape(x, *shape) -> Tensor:
    x = as_tensor(x)
    if len(shape) == 1:
        if isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        elif isinstance(shape[0], (np.dtype, type)):  # view(dtype): the bits reinterpreted
            return _view_as_dtype(x, shape[0])
    try:
        data = x.array.reshape(shape)
    except ValueError:
        raise ValueError(f"reshape: cannot reshape a tensor of shape {x.shape} "
                         f"({x.array.size} elements) into shape {shape}") from None
    return record(data, RESHAPE, (x,), x.shape)


def _view_as_dtype(x: Tensor, dtype) -> Tensor:
    """``x.view(dtype)``: the same memory read as ``dtype`` (the last dim rescaled when the
    item sizes differ, as PyTorch); not differentiable."""
    from .._tensor import is_grad_enabled, wrap

    dt = as_dtype(dtype)
    if x.requires_grad and is_grad_enabled():
        raise RuntimeError(f"view(dtype): reinterpreting the bits of a tensor that requires "
                           f"grad ({x.dtype} as {dt}) is not differentiable; detach() first")
    arr = np.asarray(x.array)
    if arr.ndim == 0 and dt.itemsize != arr.dtype.itemsize:
        raise RuntimeError(f"view(dtype): a 0-d {arr.dtype} tensor cannot be viewed as {dt} "
                           "(the item sizes differ)")
    try:
        return wrap(arr.view(dt))
    except ValueError as e:
        raise RuntimeError(f"view(dtype): cannot view shape {x.shape} {arr.dtype} as {dt}: "
                           f"{e}") from None


BROADCAST_TO = Op("broadcast_to", lambda F, g, ans, ctx, x: (g,),  # the engine sums it back
                  reads=(), formula="1", method=True, function=True,
                  cases=[lambda rng: ((rng.normal(size=(3, 1)), (2, 3, 4)), {}),
                         lambda rng: ((rng.normal(size=()), (3,)), {})])


@BROADCAST_TO.define
def broadcast_to(x, shape) -> Tensor:
    x = as_tensor(x)
    shape = tuple(shape)
    try:
        data = np.broadcast_to(x.array, shape)
    except ValueError:
        raise ValueError(f"broadcast_to: cannot broadcast shape {x.shape} to {shape}") from None
    return record(data, BROADCAST_TO, (x,))


def _getitem_vjp(F, g, ans, ctx, x):
    shape, index = ctx
    return (F.scatter_add(g, shape, index),)


GETITEM = Op("getitem", _getitem_vjp, reads=(), formula="1 at the index",
             cases=[lambda rng: ((rng.normal(size=(4, 3)), (slice(1, 3), 0)), {}),
                    lambda rng: ((rng.normal(size=(5,)), np.array([0, 2, 2, 4])), {}),
                    lambda rng: ((rng.normal(size=(3, 4)), rng.random((3, 4)) > 0.5), {})])


@GETITEM.define
def getitem(x, index) -> Tensor:
    """Basic and advanced indexing; the adjoint scatters back, adding repeated indices."""
    index = _unwrap_index(index)
    try:
        data = x.array[index]
    except IndexError as e:
        raise IndexError(f"getitem: index {index!r} is invalid for shape {x.shape}: {e}") \
            from None
    if not isinstance(data, np.ndarray) and isinstance(x.array, np.ndarray):
        # one element: NumPy hands out a copy, PyTorch a 0-d view (x[0].add_(1) changes x)
        data = x.array[_element_view_index(index)]
    out = record(data, GETITEM, (x,), (x.shape, index))
    if not out._parents and type(data) is np.ndarray and data.base is not None:
        # a view of a tensor off the graph: remembered, so that an in-place change
        # recorded on it later (x[:, 0].copy_(w), w requiring grad) rewrites x
        out._view_of = x
    return out


def _element_view_index(index) -> tuple:
    """An index that picks the same single element as ``index`` but makes NumPy return a
    0-d view: the integers followed by an Ellipsis (which then stands for no axis)."""
    items = index if isinstance(index, tuple) else (index,)
    return tuple(i for i in items if i is not Ellipsis) + (Ellipsis,)


def _is_advanced(index) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    return any(isinstance(i, (list, np.ndarray)) and np.asarray(i).dtype != np.bool_
               for i in items)


def _scatter_add_array(g, shape, index):
    out = np.zeros(shape, dtype=g.dtype)
    if _is_advanced(index):
        np.add.at(out, index, g)  # repeated indices accumulate
    else:
        out[index] = g
    return out


def _scatter_add_vjp(F, g, ans, ctx, x):
    _shape, index = ctx
    return (g[index],)


SCATTER_ADD = Op("scatter_add", _scatter_add_vjp, reads=(), formula="1 at the index",
                 array=_scatter_add_array,
                 cases=[lambda rng: ((rng.normal(size=(3,)), (5,), np.array([0, 2, 2])), {})])


@SCATTER_ADD.define
def scatter_add(x, shape, index) -> Tensor:
    """Zeros of ``shape`` with ``x`` added at ``index``: the transpose of indexing."""
    x = as_tensor(x)
    return record(_scatter_add_array(x.array, shape, index), SCATTER_ADD, (x,), (shape, index))


def _concatenate_vjp(F, g, ans, ctx, *xs):
    axis, bounds = ctx
    lead = (slice(None),) * axis
    return tuple(g[lead + (slice(lo, hi),)] for lo, hi in bounds)


CONCATENATE = Op("concatenate", _concatenate_vjp, reads=(), formula="1",
                 function=("concatenate", "cat", "concat"),
                 cases=[lambda rng: (([rng.normal(size=(2, 3)), rng.normal(size=(1, 3))],), {}),
                        lambda rng: (([rng.normal(size=(2, 3)), rng.normal(size=(2, 2))],),
                                     {"axis": 1})])


@CONCATENATE.define
def concatenate(tensors, axis: int = 0) -> Tensor:
    tensors = [as_tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("concatenate: expected at least one tensor")
    ndim = tensors[0].ndim
    (axis,) = _axes(axis, ndim, "concatenate") if ndim else (None,)
    if axis is None:
        raise ValueError("concatenate: 0-d tensors cannot be concatenated; use stack")
    for i, t in enumerate(tensors):
        if t.ndim != ndim or t.shape[:axis] + t.shape[axis + 1:] != \
                tensors[0].shape[:axis] + tensors[0].shape[axis + 1:]:
            raise ValueError(
                f"concatenate: tensor {i} has shape {t.shape}, but tensor 0 has shape "
                f"{tensors[0].shape}; all dimensions except axis {axis} must match")
    bounds, start = [], 0
    for t in tensors:
        bounds.append((start, start + t.shape[axis]))
        start += t.shape[axis]
    # PyTorch's promotion: the highest category (bool < int < float) decides, the widest
    # within it (float32 with int64 is float32, where NumPy gives float64)
    top = builtin_max(_CATEGORY.get(t.array.dtype.kind, 4) for t in tensors)
    dtype = np.result_type(*[t.array.dtype for t in tensors
                             if _CATEGORY.get(t.array.dtype.kind, 4) == top])
    data = np.concatenate([t.array for t in tensors], axis=axis).astype(dtype, copy=False)
    return record(data, CONCATENATE, tuple(tensors), (axis, bounds))


CAST = Op("cast", lambda F, g, ans, dtype, x: (g.astype(dtype),), reads=(), formula="1",
          function=True,
          # an up-cast, so that finite differences in float64 see no rounding
          cases=[lambda rng: ((rng.normal(size=(3,)), np.longdouble), {})], second_order=False)


@CAST.define
def cast(x, dtype) -> Tensor:
    x = as_tensor(x)
    dt = as_dtype(dtype)
    if x.array.dtype == dt:
        return x
    if x.requires_grad and dt.kind not in "fc":
        # as PyTorch: an integer or bool result carries no gradient (it is not on the graph)
        return record(x.array.astype(dt), CAST, ())
    return record(x.array.astype(dt), CAST, (x,), x.array.dtype)


def _to_device_array(g, device):
    from .. import backend

    return backend.to_device(g, device)


# no gradient-check cases: moving between devices needs a GPU (tests/test_gpu.py covers it)
TO_DEVICE = Op("to_device", lambda F, g, ans, device, x: (F.to_device(g, device),), reads=(),
               formula="1", array=_to_device_array, cases=[])


@TO_DEVICE.define
def to_device(x, device: str) -> Tensor:
    from .. import backend

    x = as_tensor(x)
    if backend.device_of(x.array) == device.split(":")[0]:
        return x
    return record(backend.to_device(x.array, device), TO_DEVICE, (x,), backend.device_of(x.array))


__all__ = ["ARRAYS", "GRAPH"]
