"""Activations and losses as functions (``import chainrule.nn.functional as F``).

Losses compare a network's output with the target and reduce over the batch with
``reduction="mean" | "sum" | "none"``. Values and gradients follow PyTorch's
definitions. Unlike PyTorch, operands of different shapes are an error, not a
broadcast: ``mse_loss`` of a (32, 1) output against a (32,) target would otherwise
compare every output with every target and quietly train on a 32×32 matrix.

>>> import chainrule as cr
>>> import chainrule.nn.functional as F
>>> logits = cr.tensor([[2.0, 0.5, -1.0]], requires_grad=True)
>>> loss = F.cross_entropy(logits, [0])
>>> round(loss.item(), 4)
0.2413
>>> loss.backward()          # softmax - onehot
>>> [round(v, 3) for v in logits.grad.tolist()[0]]
[-0.214, 0.175, 0.039]
"""

from __future__ import annotations

import warnings

import numpy as np

from .._tensor import Tensor, as_tensor
from ..ops import composite as C
from ..ops import nn_ops
from ..ops import primitives as P
from ..ops.tensor_api import pdist as tensor_pdist
from ..random import numpy_generator

__all__ = [
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "dropout",
    "hinge_loss",
    "huber_loss",
    "l1_loss",
    "l2_penalty",
    "leaky_relu",
    "linear",
    "log_softmax",
    "mse_loss",
    "multi_margin_loss",
    "nll_loss",
    "relu",
    "sigmoid",
    "smooth_l1_loss",
    "softmax",
    "tanh",
]

# argument handling shared with the loss functions and layers (nn/arguments.py)
from .arguments import (
    _check_reduction,
    _constant,
    _constant_like,
    _dtype_mismatch,
    _input,
    _like,
    _reduce,
    _same_shape_target,
)


def _class_target(target, op: str, n: int, n_classes: int, ignore_index: int | None):
    """Integer class indices of shape (n,), each in [0, n_classes) or equal to
    ``ignore_index``. Returns the indices and the ignore_index still to look for (None
    when no target can be ignored: the fused op then skips that test)."""
    arr = target.array if isinstance(target, Tensor) else np.asarray(target)
    if arr.dtype.kind not in "iu":
        if arr.dtype.kind == "f" and arr.size and np.all(np.isfinite(arr)) and \
                np.array_equal(arr, np.round(arr)):
            hint = " (it holds whole numbers: convert with .long() or .astype(int))"
        else:
            hint = ""
        raise TypeError(f"{op}: target must hold integer class indices, got dtype "
                        f"{arr.dtype}{hint}")
    if arr.shape != (n,):
        raise ValueError(f"{op}: input with a batch of {n} needs a target of shape ({n},) "
                         f"holding one class index per sample, got shape {arr.shape}")
    if not arr.size:
        return arr, None
    if arr.min() >= 0 and arr.max() < n_classes:  # the common case: two quick reductions
        inside = ignore_index is not None and 0 <= ignore_index < n_classes
        return arr, ignore_index if inside else None
    bad = (arr < 0) | (arr >= n_classes)
    if ignore_index is not None:
        bad &= arr != ignore_index
    if bad.any():
        raise ValueError(f"{op}: target must hold class indices in [0, {n_classes}), got "
                         f"{arr[bad][0]}")
    return arr, ignore_index


def _class_dim_last(x: Tensor, target, op: str):
    """(C,) + scalar target -> (1, C); (N, C, d1, ...) -> (N·d1·..., C), as PyTorch accepts.

    Returns the 2-D input, the flat target and the shape a 'none' reduction gives back.
    """
    if x.ndim == 2:
        return x, target, None
    t = target.array if isinstance(target, Tensor) else np.asarray(target)
    if x.ndim == 1:
        if t.ndim != 0:
            raise ValueError(f"{op}: an unbatched input of shape {x.shape} needs a scalar "
                             f"target, got shape {t.shape}")
        return P.reshape(x, (1, x.shape[0])), t.reshape(1), ()
    if x.ndim == 0:
        raise ValueError(f"{op}: input must have a class dimension, got a 0-d tensor")
    n, c, rest = x.shape[0], x.shape[1], x.shape[2:]
    if t.shape != (n,) + rest:
        raise ValueError(f"{op}: input of shape {x.shape} needs a target of shape "
                         f"{(n,) + rest}, got {t.shape}")
    perm = (0,) + tuple(range(2, x.ndim)) + (1,)
    flat = P.reshape(P.transpose(x, perm), (-1, c))
    return flat, t.reshape(-1), (n,) + rest


# ---------------------------------------------------------------------------
# layers and activations
# ---------------------------------------------------------------------------
def linear(input, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``input @ weight.T + bias`` as one graph node; weight has shape (out, in).

    A Tensor input of another dtype than the weight's is an error (as in PyTorch);
    lists and arrays are converted.
    """
    if not isinstance(weight, Tensor):
        weight = _input(weight)
    if bias is not None and not isinstance(bias, Tensor):
        bias = _like(bias, weight)
    if weight.ndim != 2:
        raise ValueError(f"linear: weight must be 2-D (out_features, in_features), got shape "
                         f"{weight.shape}")
    x = input if isinstance(input, Tensor) else as_tensor(input, weight)
    if x.ndim == 0 or x.shape[-1] != weight.shape[-1]:
        got = x.shape[-1] if x.ndim else "a 0-d tensor"
        raise ValueError(f"linear: expected input with last dimension {weight.shape[-1]}, "
                         f"got {got} (input of shape {x.shape}, weight of shape "
                         f"{weight.shape})")
    if bias is not None and bias.shape != (weight.shape[0],):
        raise ValueError(f"linear: bias must have shape ({weight.shape[0]},), got {bias.shape}")
    if x.array.dtype != weight.array.dtype:
        raise RuntimeError(_dtype_mismatch("linear", x.array.dtype, weight.array.dtype))
    return nn_ops.linear(x, weight, bias)


def relu(x, inplace: bool = False) -> Tensor:
    """max(0, x); ``inplace=True`` changes x itself (recorded on the graph, as PyTorch)."""
    if inplace and isinstance(x, Tensor):
        return x.relu_()
    return nn_ops.relu(x if isinstance(x, Tensor) else as_tensor(x))


def _in_place(x, inplace: bool, name: str, fn) -> Tensor:
    """``fn(x)``, written into x itself when ``inplace`` (as PyTorch's inplace=True)."""
    if inplace and isinstance(x, Tensor):
        return x._inplace(name + "_", fn)
    return fn(x)


def leaky_relu(x, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """x for x > 0, negative_slope·x otherwise."""
    return _in_place(x, inplace, "leaky_relu", lambda t: P.leaky_relu(t, negative_slope))


def sigmoid(x) -> Tensor:
    """1 / (1 + e^-x), computed without overflow."""
    return P.sigmoid(x)


def tanh(x) -> Tensor:
    return P.tanh(x)


def _implicit_dim(name: str, x, stacklevel: int) -> int:
    """PyTorch's choice when softmax is called without ``dim`` (deprecated there, with
    this warning): 0 for 0-, 1- and 3-dimensional input, else 1. Not the last axis: a
    (C, H, W) or (N, C, H, W) input is normalized over its channels, as in PyTorch."""
    ndim = x.ndim if hasattr(x, "ndim") else np.ndim(x)
    dim = 0 if ndim in (0, 1, 3) else 1
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the "
                  f"call to include dim={dim}.", UserWarning, stacklevel=stacklevel)
    return dim


def softmax(x, dim: int | None = None, _stacklevel: int = 3, dtype=None, *,
            axis: int | None = None) -> Tensor:
    """exp(x) / Σ exp(x) along ``dim`` (``axis`` is accepted as NumPy's name); ``dtype``
    casts the input first, as PyTorch. Without ``dim``, PyTorch's implicit choice (with
    its deprecation warning)."""
    if dim is None and axis is None:
        dim = _implicit_dim("softmax", x, _stacklevel)
    return P.softmax(x, axis=dim if axis is None else axis, dtype=dtype)


def log_softmax(x, dim: int | None = None, _stacklevel: int = 3, dtype=None, *,
                axis: int | None = None) -> Tensor:
    """x - logsumexp(x) along ``dim``, stable for large logits (without ``dim``: as
    :func:`softmax`)."""
    if dim is None and axis is None:
        dim = _implicit_dim("log_softmax", x, _stacklevel)
    return P.log_softmax(x, axis=dim if axis is None else axis, dtype=dtype)


def dropout(x, p: float = 0.5, training: bool = True, inplace: bool = False,
            generator=None) -> Tensor:
    """Zero elements with probability ``p`` and scale the rest by 1/(1-p) while
    ``training``; the identity otherwise. Draws from ``cr.manual_seed``'s generator
    unless a ``generator`` (``cr.Generator`` or NumPy Generator) is given."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: probability p must be in [0, 1], got {p}")
    x = x if isinstance(x, Tensor) else as_tensor(x)
    if not training or p == 0.0:
        return x
    rng = numpy_generator(generator)
    return _in_place(x, inplace, "dropout", lambda t: nn_ops.dropout(t, float(p), rng))


# ---------------------------------------------------------------------------
# regression losses
# ---------------------------------------------------------------------------
def mse_loss(input, target, reduction: str = "mean") -> Tensor:
    """Squared error (x - y)², averaged: mean over all elements by default.

    >>> import chainrule as cr
    >>> cr.nn.functional.mse_loss(cr.tensor([1.0, 2.0]), cr.tensor([1.0, 4.0])).item()
    2.0
    """
    _check_reduction(reduction, "mse_loss")
    x, t = _same_shape_target(input, target, "mse_loss")
    d = P.sub(x, t)
    return _reduce(P.mul(d, d), reduction)


def l1_loss(input, target, reduction: str = "mean") -> Tensor:
    """Absolute error |x - y| (mean absolute error by default); gradient sign(x - y),
    0 where they are equal (as PyTorch)."""
    _check_reduction(reduction, "l1_loss")
    x, t = _same_shape_target(input, target, "l1_loss")
    return _reduce(P.abs(P.sub(x, t)), reduction)


def huber_loss(input, target, reduction: str = "mean", delta: float = 1.0) -> Tensor:
    """½ d² where |d| < δ, δ (|d| - ½ δ) elsewhere (d = x - y): quadratic near the
    target, linear (robust to outliers) far from it."""
    _check_reduction(reduction, "huber_loss")
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta}")
    x, t = _same_shape_target(input, target, "huber_loss")
    d = P.sub(x, t)
    ad = P.abs(d)
    quadratic = P.mul(P.mul(d, d), 0.5)
    linear_part = P.mul(P.sub(ad, 0.5 * delta), delta)
    return _reduce(P.where(ad.array < delta, quadratic, linear_part), reduction)


def smooth_l1_loss(input, target, reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """½ d²/β where |d| < β, |d| - ½ β elsewhere (= huber_loss / β)."""
    _check_reduction(reduction, "smooth_l1_loss")
    x, t = _same_shape_target(input, target, "smooth_l1_loss")
    d = P.sub(x, t)
    ad = P.abs(d)
    if beta == 0:
        return _reduce(ad, reduction)
    quadratic = P.mul(P.mul(d, d), 0.5 / beta)
    return _reduce(P.where(ad.array < beta, quadratic, P.sub(ad, 0.5 * beta)), reduction)


# ---------------------------------------------------------------------------
# binary classification
# ---------------------------------------------------------------------------
def binary_cross_entropy(input, target, weight=None, reduction: str = "mean") -> Tensor:
    """-w [y log p + (1 - y) log(1 - p)] on probabilities p in [0, 1], each log clamped
    at -100 (as PyTorch, so p = 0 or 1 gives a finite loss). Prefer
    ``binary_cross_entropy_with_logits`` on raw scores: it is stable."""
    op = "binary_cross_entropy"
    _check_reduction(reduction, op)
    x, t = _same_shape_target(input, target, op)
    # as PyTorch: both must lie in [0, 1] (NaN included in "outside")
    for name, values, advice in (
            ("input", x.array, ("apply sigmoid first, or use "
                               "binary_cross_entropy_with_logits on the raw scores")),
            ("target", t.array, "targets are probabilities or 0/1 labels")):
        outside = ~((values >= 0) & (values <= 1))
        if outside.any():
            raise ValueError(f"{op}: {name} must hold probabilities in [0, 1], got "
                             f"{float(values[outside].flat[0]):.4g} at index "
                             f"{tuple(int(i) for i in np.argwhere(outside)[0])}; {advice}")
    return nn_ops.binary_cross_entropy(x, t, _constant(weight, x, "weight", op), reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, reduction: str = "mean",
                                     pos_weight=None) -> Tensor:
    """Sigmoid + binary cross-entropy in one stable step:
    (1 - y) x + l·log(1 + e^-x) with l = 1 + (pos_weight - 1) y. Gradient σ(x) - y."""
    op = "binary_cross_entropy_with_logits"
    _check_reduction(reduction, op)
    x, t = _same_shape_target(input, target, op)
    return nn_ops.binary_cross_entropy_with_logits(
        x, t, _constant(weight, x, "weight", op), _constant(pos_weight, x, "pos_weight", op),
        reduction)


def hinge_loss(input, target, reduction: str = "mean", margin: float = 1.0) -> Tensor:
    """max(0, margin - y·s) for labels y = ±1 and scores s: the linear SVM loss.

    >>> import chainrule as cr
    >>> loss = cr.nn.functional.hinge_loss(cr.tensor([2.0, 0.5, -1.0]), [1, 1, 1])
    >>> round(loss.item(), 4)        # (0 + 0.5 + 2) / 3
    0.8333
    """
    op = "hinge_loss"
    _check_reduction(reduction, op)
    x, y = _same_shape_target(input, target, op)
    labels = y.array
    if labels.size and not np.all((labels == 1) | (labels == -1)):
        bad = labels[(labels != 1) & (labels != -1)][0]
        raise ValueError(f"{op}: labels must be -1 or +1, got {bad:g} (for 0/1 labels pass "
                         "2 * y - 1)")
    return _reduce(nn_ops.relu(P.sub(margin, P.mul(y, x))), reduction)


# ---------------------------------------------------------------------------
# multiclass classification
# ---------------------------------------------------------------------------
def cross_entropy(input, target, weight=None, reduction: str = "mean",
                  label_smoothing: float = 0.0, ignore_index: int = -100) -> Tensor:
    """Softmax cross-entropy of logits (N, C) against class indices (N,): the mean of
    -log softmax(x_i)[y_i]. Fused (one node, gradient (softmax - onehot)/N) and stable
    for logits in the thousands.

    Also as PyTorch: unbatched (C,) input with a scalar target, (N, C, d1, ...) input
    with (N, d1, ...) targets, class probabilities as a float target of the input's
    shape, ``weight`` per class, ``ignore_index`` and ``label_smoothing``.
    """
    op = "cross_entropy"
    _check_reduction(reduction, op)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{op}: label_smoothing must be in [0, 1], got {label_smoothing}")
    x = _input(input)
    t_arr = target.array if isinstance(target, Tensor) else np.asarray(target)
    if t_arr.dtype.kind == "f" and t_arr.shape == x.shape and x.ndim >= 1:
        return _soft_cross_entropy(x, target, weight, reduction, label_smoothing)
    return _class_index_loss(nn_ops.cross_entropy, x, target, weight, reduction, ignore_index,
                             op, label_smoothing=float(label_smoothing))


def _class_index_loss(kernel, x: Tensor, target, weight, reduction: str, ignore_index, op: str,
                      **options) -> Tensor:
    """Run a fused class-index loss (``nn_ops.cross_entropy`` / ``nll_loss``) on ``x``
    flattened to (N, C), after checking the targets and the class weights; a 'none'
    reduction gets the input's batch shape back."""
    x2, t2, out_shape = _class_dim_last(x, target, op)
    n, c = x2.shape
    t2, ignore = _class_target(t2, op, n, c, ignore_index)
    w = _constant(weight, x2, "weight", op, shape=(c,))
    loss = kernel(x2, t2, w, reduction, ignore_index=ignore, **options)
    if reduction == "none" and out_shape is not None:
        loss = P.reshape(loss, out_shape)
    return loss


def _soft_cross_entropy(x: Tensor, target, weight, reduction: str, label_smoothing: float):
    """-Σ_c w_c t_c log softmax(x)_c with probability targets (differentiable in both)."""
    op = "cross_entropy"
    axis = 1 if x.ndim >= 2 else 0
    t = _like(target, x)
    if label_smoothing:
        t = P.add(P.mul(t, 1.0 - label_smoothing), label_smoothing / x.shape[axis])
    logp = P.log_softmax(x, axis=axis)
    if weight is not None:
        w = _constant(weight, x, "weight", op, shape=(x.shape[axis],))
        logp = P.mul(logp, w.reshape((-1,) + (1,) * (x.ndim - axis - 1)))
    loss = P.neg(P.sum(P.mul(t, logp), axis=axis))
    return _reduce(loss, reduction)


def nll_loss(input, target, weight=None, reduction: str = "mean",
             ignore_index: int = -100) -> Tensor:
    """Negative log-likelihood -w[y_i]·logp[i, y_i] of log-probabilities (e.g. from
    ``log_softmax``); the mean divides by Σ w[y_i] (as PyTorch)."""
    op = "nll_loss"
    _check_reduction(reduction, op)
    return _class_index_loss(nn_ops.nll_loss, _input(input), target, weight, reduction,
                             ignore_index, op)


def multi_margin_loss(input, target, p: int = 1, margin: float = 1.0, weight=None,
                      reduction: str = "mean") -> Tensor:
    """The multiclass SVM loss, as PyTorch defines it:
    loss_i = Σ_{j≠y_i} max(0, margin - x_i[y_i] + x_i[j])^p / C  (times weight[y_i])."""
    op = "multi_margin_loss"
    _check_reduction(reduction, op)
    if p not in (1, 2):
        raise ValueError(f"{op}: only p = 1 and p = 2 are supported, got {p}")
    x = _input(input)
    unbatched = x.ndim == 1
    if unbatched:
        x = P.reshape(x, (1, x.shape[0]))
        target = np.asarray(target.array if isinstance(target, Tensor) else target).reshape(1)
    if x.ndim != 2:
        raise ValueError(f"{op}: expected input of shape (N, C) or (C,), got {x.shape}")
    n, c = x.shape
    y, _ = _class_target(target, op, n, c, None)
    rows = np.arange(n)
    correct = P.reshape(P.getitem(x, (rows, y)), (n, 1))            # s_y
    margins = nn_ops.relu(P.add(P.sub(x, correct), margin))          # max(0, margin - s_y + s_j)
    if p == 2:
        margins = P.mul(margins, margins)
    others = np.ones((n, c), dtype=x.array.dtype)                     # leave out j = y
    others[rows, y] = 0
    if weight is not None:
        w = _constant(weight, x, "weight", op, shape=(c,))
        others *= w[y][:, None]
    loss = P.div(P.sum(P.mul(margins, others), axis=1), float(c))
    if unbatched and reduction == "none":
        loss = P.reshape(loss, ())
    return _reduce(loss, reduction)


# ---------------------------------------------------------------------------
# regularization
# ---------------------------------------------------------------------------
def l2_penalty(parameters, weight_decay: float = 1.0) -> Tensor:
    """The L2 regularization term (λ/2)·Σ‖w‖² over ``parameters`` (a Module or an
    iterable of tensors), to add to a loss.

    The ½ makes its gradient λ·w, the same update as an optimizer's
    ``weight_decay=λ`` (PyTorch's convention), so the two ways of regularizing agree.
    Pass only the weights (not the biases) to leave the biases unpenalized:
    ``l2_penalty([m.weight for m in model.modules() if isinstance(m, nn.Linear)], 1e-4)``.
    """
    if hasattr(parameters, "parameters") and callable(parameters.parameters):
        parameters = parameters.parameters()
    total = None
    for w in parameters:
        term = P.sum(P.mul(w, w))
        total = term if total is None else P.add(total, term)
    if total is None:
        raise ValueError("l2_penalty: no parameters given")
    return P.mul(total, 0.5 * weight_decay)


# ---------------------------------------------------------------------------
# convolution and pooling (kernels in chainrule.ops.conv)
# ---------------------------------------------------------------------------
def _ints(value, n: int, name: str, op: str, minimum: int = 1) -> tuple:
    """An int or a sequence of ``n`` ints (kernel_size=3 or (3, 5)), each ≥ ``minimum``."""
    vals = (value,) * n if isinstance(value, (int, np.integer)) else tuple(value)
    if len(vals) != n or not all(isinstance(v, (int, np.integer)) for v in vals):
        raise ValueError(f"{op}: {name} must be an int or a tuple of {n} ints, got {value!r}")
    if any(v < minimum for v in vals):
        raise ValueError(f"{op}: {name} must be ≥ {minimum}, got {value!r}")
    return tuple(int(v) for v in vals)


def _conv_padding(padding, kernel: tuple, dilation: tuple, stride: tuple, op: str) -> tuple:
    """Padding as ((before, after), ...) per spatial dim: an int, a tuple, 'valid' (none)
    or 'same' (output size = input size; the odd extra on the far side, as PyTorch)."""
    n = len(kernel)
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * n
        if padding == "same":
            if any(s != 1 for s in stride):
                raise ValueError(f"{op}: padding='same' is not supported for strided "
                                 f"convolutions (stride={stride})")
            total = [d * (k - 1) for k, d in zip(kernel, dilation)]
            return tuple((t // 2, t - t // 2) for t in total)
        raise ValueError(f"{op}: padding must be an int, a tuple, 'same' or 'valid', got "
                         f"{padding!r}")
    return tuple((p, p) for p in _ints(padding, n, "padding", op, minimum=0))


def _spatial_input(input, ndim: int, weight: Tensor | None, op: str, layout: str):
    """The input as a batched floating Tensor of the weight's dtype, and whether it came
    unbatched (PyTorch accepts (C, ...) for one sample)."""
    x = input if isinstance(input, Tensor) else as_tensor(input, weight)
    if x.array.dtype.kind != "f" or (weight is not None and x.array.dtype != weight.array.dtype):
        x = _like(x, weight) if weight is not None else _input(x)
    if x.ndim == ndim + 1:
        return P.reshape(x, (1,) + x.shape), True
    if x.ndim != ndim + 2:
        raise ValueError(f"{op}: expected a {ndim + 2}-D input {layout} (or {ndim + 1}-D "
                         f"without the batch), got shape {x.shape}")
    return x, False


def _conv_geometry(op: str, in_hw: tuple, kernel: tuple, stride, padding, dilation,
                   groups: int):
    from ..ops.conv import Geometry

    stride = _ints(stride, 2, "stride", op)
    dilation = _ints(dilation, 2, "dilation", op)
    pads = _conv_padding(padding, kernel, dilation, stride, op)
    geom = Geometry(kernel[0], kernel[1], stride[0], stride[1], pads[0], pads[1],
                    dilation[0], dilation[1], int(groups))
    ho, wo = geom.out_size(*in_hw)
    if ho < 1 or wo < 1:
        eff = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
        padded = (in_hw[0] + sum(pads[0]), in_hw[1] + sum(pads[1]))
        raise ValueError(f"{op}: the kernel ({eff[0]}×{eff[1]} with dilation) is larger than "
                         f"the padded input ({padded[0]}×{padded[1]})")
    return geom, (ho, wo)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1,
           groups: int = 1) -> Tensor:
    """2-D convolution (cross-correlation, as PyTorch) of input (N, C, H, W) with weight
    (O, C/groups, kh, kw), plus bias (O,). ``padding``: int, pair, 'same' or 'valid'.

    Runs as im2col + one matrix product on BLAS, channels-last inside
    (see ``chainrule.ops.conv``).

    >>> import chainrule as cr
    >>> import chainrule.nn.functional as F
    >>> F.conv2d(cr.ones(1, 1, 4, 4), cr.ones(2, 1, 3, 3), padding=1).shape
    (1, 2, 4, 4)
    """
    return _conv2d(input, weight, bias, stride, padding, dilation, groups, "conv2d")


def _conv2d(input, weight, bias, stride, padding, dilation, groups, op: str,
            relu: bool = False) -> Tensor:
    from ..ops import conv as K

    weight = weight if isinstance(weight, Tensor) else _input(weight)
    if weight.ndim != 4:
        raise ValueError(f"{op}: weight must be 4-D (out_channels, in_channels/groups, kh, "
                         f"kw), got shape {weight.shape}")
    x, unbatched = _spatial_input(input, 2, weight, op, "(N, C, H, W)")
    o, cg, kh, kw = weight.shape
    groups = int(groups)
    if groups < 1 or x.shape[1] % groups or o % groups:
        raise ValueError(f"{op}: groups={groups} must divide the input channels "
                         f"({x.shape[1]}) and the output channels ({o})")
    if x.shape[1] != cg * groups:
        raise ValueError(f"{op}: expected input with {cg * groups} channels (weight of shape "
                         f"{weight.shape}, groups={groups}), got {x.shape[1]} (input of shape "
                         f"{x.shape})")
    if bias is not None:
        bias = bias if isinstance(bias, Tensor) else _like(bias, weight)
        if bias.shape != (o,):
            raise ValueError(f"{op}: bias must have shape ({o},), got {bias.shape}")
    geom, _ = _conv_geometry(op, x.shape[2:], (kh, kw), stride, padding, dilation, groups)
    y = K.conv2d(x, weight, bias, geom, relu=relu)
    return P.reshape(y, y.shape[1:]) if unbatched else y


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1,
           groups: int = 1) -> Tensor:
    """1-D convolution of input (N, C, L) with weight (O, C/groups, k): the 2-D kernel on
    a height-1 image."""
    op = "conv1d"
    weight = weight if isinstance(weight, Tensor) else _input(weight)
    if weight.ndim != 3:
        raise ValueError(f"{op}: weight must be 3-D (out_channels, in_channels/groups, k), "
                         f"got shape {weight.shape}")
    x, unbatched = _spatial_input(input, 1, weight, op, "(N, C, L)")
    pad = padding if isinstance(padding, str) else (0, _ints(padding, 1, "padding", op, 0)[0])
    y = _conv2d(P.reshape(x, (x.shape[0], x.shape[1], 1, x.shape[2])),
                P.reshape(weight, (weight.shape[0], weight.shape[1], 1, weight.shape[2])),
                bias, (1, _ints(stride, 1, "stride", op)[0]), pad,
                (1, _ints(dilation, 1, "dilation", op)[0]), groups, op)
    y = P.reshape(y, (y.shape[0], y.shape[1], y.shape[3]))
    return P.reshape(y, y.shape[1:]) if unbatched else y


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups: int = 1, dilation=1) -> Tensor:
    """Transposed convolution of input (N, C_in, H, W) with weight (C_in, C_out/groups,
    kh, kw): the gradient of ``conv2d`` with the same geometry, so that it maps a
    conv2d's output size back to its input size; H_out = (H - 1)·stride - 2·padding +
    dilation·(kh - 1) + output_padding + 1."""
    from ..ops import conv as K
    from ..ops.conv import Geometry

    op = "conv_transpose2d"
    weight = weight if isinstance(weight, Tensor) else _input(weight)
    if weight.ndim != 4:
        raise ValueError(f"{op}: weight must be 4-D (in_channels, out_channels/groups, kh, "
                         f"kw), got shape {weight.shape}")
    x, unbatched = _spatial_input(input, 2, weight, op, "(N, C, H, W)")
    cin, og, kh, kw = weight.shape
    groups = int(groups)
    if groups < 1 or cin % groups:
        raise ValueError(f"{op}: groups={groups} must divide the input channels ({cin})")
    if x.shape[1] != cin:
        raise ValueError(f"{op}: expected input with {cin} channels (weight of shape "
                         f"{weight.shape}), got {x.shape[1]} (input of shape {x.shape})")
    stride = _ints(stride, 2, "stride", op)
    dilation = _ints(dilation, 2, "dilation", op)
    pad = _ints(padding, 2, "padding", op, minimum=0)
    extra = _ints(output_padding, 2, "output_padding", op, minimum=0)
    if any(e >= max(s, d) for e, s, d in zip(extra, stride, dilation)):
        raise ValueError(f"{op}: output_padding {extra} must be smaller than the stride "
                         f"{stride} or the dilation {dilation}")
    h, w = x.shape[2:]
    out_hw = tuple((n - 1) * s - 2 * p + d * (k - 1) + e + 1
                   for n, s, p, d, k, e in zip((h, w), stride, pad, dilation, (kh, kw), extra))
    if min(out_hw) < 1:
        raise ValueError(f"{op}: the output size {out_hw} is not positive (input {h}×{w}, "
                         f"stride {stride}, padding {pad})")
    # the forward convolution this is the gradient of: out_hw -> (h, w), weight viewed
    # as (C_in = its output channels, C_out/groups, kh, kw)
    geom = Geometry(kh, kw, stride[0], stride[1], (pad[0], pad[0]), (pad[1], pad[1]),
                    dilation[0], dilation[1], groups)
    if bias is not None:
        bias = bias if isinstance(bias, Tensor) else _like(bias, weight)
        if bias.shape != (og * groups,):
            raise ValueError(f"{op}: bias must have shape ({og * groups},), got {bias.shape}")
    y = K.conv_transpose2d(x, weight, bias, geom, out_hw)
    return P.reshape(y, y.shape[1:]) if unbatched else y


def _pool_size(n: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    span = n + 2 * p - d * (k - 1) - 1
    out = (span + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= n + p:  # the last window must start inside the input
        out -= 1
    return out


def _pool_geometry(op: str, x: Tensor, kernel_size, stride, padding, dilation, ceil_mode):
    from ..ops.conv import Geometry

    kernel = _ints(kernel_size, 2, "kernel_size", op)
    stride = kernel if stride is None or (not isinstance(stride, int) and len(stride) == 0) \
        else _ints(stride, 2, "stride", op)
    pad = _ints(padding, 2, "padding", op, minimum=0)
    dil = _ints(dilation, 2, "dilation", op)
    if any(p > k // 2 for p, k in zip(pad, kernel)):
        raise ValueError(f"{op}: padding {pad} must be at most half the kernel size "
                         f"{kernel}")
    h, w = x.shape[2:]
    out = tuple(_pool_size(n, k, s, p, d, ceil_mode)
                for n, k, s, p, d in zip((h, w), kernel, stride, pad, dil))
    if min(out) < 1:
        raise ValueError(f"{op}: the pooling window {kernel[0]}×{kernel[1]} (dilation {dil}, "
                         f"padding {pad}) is larger than the input {h}×{w}")
    geom = Geometry(kernel[0], kernel[1], stride[0], stride[1], (pad[0], pad[0]),
                    (pad[1], pad[1]), dil[0], dil[1])
    return geom, out


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1,
               ceil_mode: bool = False, return_indices: bool = False):
    """The maximum of each kernel_size window of input (N, C, H, W) (stride defaults to
    the kernel size); the gradient goes to each window's first arg-max, as PyTorch.

    >>> import chainrule as cr
    >>> import chainrule.nn.functional as F
    >>> F.max_pool2d(cr.arange(16.0).reshape(1, 1, 4, 4), 2).tolist()
    [[[[5.0, 7.0], [13.0, 15.0]]]]
    """
    from ..ops import conv as K

    op = "max_pool2d"
    x, unbatched = _spatial_input(input, 2, None, op, "(N, C, H, W)")
    geom, out_hw = _pool_geometry(op, x, kernel_size, stride, padding, dilation, ceil_mode)
    result = K.max_pool2d(x, geom, out_hw, return_indices)
    if unbatched:
        if return_indices:
            return P.reshape(result[0], result[0].shape[1:]), \
                P.reshape(result[1], result[1].shape[1:])
        return P.reshape(result, result.shape[1:])
    return result


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1,
               ceil_mode: bool = False, return_indices: bool = False):
    """The maximum of each window of input (N, C, L): max_pool2d on a height-1 image."""
    op = "max_pool1d"
    x, unbatched = _spatial_input(input, 1, None, op, "(N, C, L)")
    k = _ints(kernel_size, 1, "kernel_size", op)[0]
    s = k if stride is None else _ints(stride, 1, "stride", op)[0]
    result = max_pool2d(P.reshape(x, (x.shape[0], x.shape[1], 1, x.shape[2])), (1, k),
                        (1, s), (0, _ints(padding, 1, "padding", op, 0)[0]),
                        (1, _ints(dilation, 1, "dilation", op)[0]), ceil_mode, return_indices)
    outs = result if return_indices else (result,)
    outs = tuple(P.reshape(t, t.shape[1:2] + t.shape[3:] if unbatched else
                           t.shape[:2] + t.shape[3:]) for t in outs)
    return outs if return_indices else outs[0]


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override=None) -> Tensor:
    """The mean of each window of input (N, C, H, W), with PyTorch's divisors: the
    window size (padding counted unless ``count_include_pad=False``; windows that
    ceil_mode adds are clipped), or ``divisor_override``."""
    from ..ops import conv as K

    op = "avg_pool2d"
    x, unbatched = _spatial_input(input, 2, None, op, "(N, C, H, W)")
    geom, (ho, wo) = _pool_geometry(op, x, kernel_size, stride, padding, 1, ceil_mode)
    if divisor_override is not None:
        if int(divisor_override) == 0:
            raise ValueError(f"{op}: divisor_override must not be 0")
        divisor = x.array.dtype.type(divisor_override)
    else:
        h, w = x.shape[2:]
        counts = []
        for n, no, k, s, p in ((h, ho, geom.kh, geom.sh, geom.ph[0]),
                               (w, wo, geom.kw, geom.sw, geom.pw[0])):
            start = np.arange(no) * s - p
            end = np.minimum(start + k, n + p)  # clipped to the padded input
            if not count_include_pad:
                start, end = np.maximum(start, 0), np.minimum(end, n)
            counts.append(end - start)
        divisor = np.outer(counts[0], counts[1]).astype(x.array.dtype)
        if np.all(divisor == divisor.flat[0]):
            divisor = divisor.dtype.type(divisor.flat[0])
        elif not isinstance(x.array, np.ndarray):
            from .. import backend

            divisor = backend.to_device(divisor, "cuda")
    y = K.avg_pool2d(x, geom, (ho, wo), divisor)
    return P.reshape(y, y.shape[1:]) if unbatched else y


def _adaptive_matrix(n_in: int, n_out: int, dtype) -> np.ndarray:
    """(n_out, n_in): row i averages the inputs [⌊i·n/m⌋, ⌈(i+1)·n/m⌉), PyTorch's bins."""
    a = np.zeros((n_out, n_in), dtype=dtype)
    for i in range(n_out):
        lo, hi = (i * n_in) // n_out, -((-(i + 1) * n_in) // n_out)
        a[i, lo:hi] = 1.0 / (hi - lo)
    return a


def _adaptive_size(output_size, x: Tensor, op: str, n: int = 2) -> tuple:
    """The output size of an ``n``-d adaptive pooling: an int for every dimension, or
    one per dimension (None keeps the input's)."""
    size = (output_size,) * n if isinstance(output_size, (int, np.integer)) or \
        output_size is None else tuple(output_size)
    if len(size) != n:
        raise ValueError(f"{op}: output_size must be an int or a "
                         f"{'pair' if n == 2 else 'triple'}, got {output_size!r}")
    size = tuple(x.shape[2 + i] if s is None else int(s) for i, s in enumerate(size))
    if min(size) < 1:
        raise ValueError(f"{op}: output_size must be positive, got {output_size!r}")
    return size


def adaptive_avg_pool2d(input, output_size) -> Tensor:
    """Average over PyTorch's adaptive bins so that the output is ``output_size``
    (an int, a pair, None = keep that dim); written as A_h · x · A_wᵀ with constant
    averaging matrices, so it differentiates to any order."""
    op = "adaptive_avg_pool2d"
    x, unbatched = _spatial_input(input, 2, None, op, "(N, C, H, W)")
    ho, wo = _adaptive_size(output_size, x, op)
    h, w = x.shape[2:]
    dt = x.array.dtype
    if (ho, wo) == (1, 1):
        y = P.mean(x, axis=(2, 3), keepdims=True)
    else:
        ah = _constant_like(_adaptive_matrix(h, ho, dt), x)
        awt = _constant_like(np.ascontiguousarray(_adaptive_matrix(w, wo, dt).T), x)
        y = P.matmul(P.matmul(ah, x), awt)
    return P.reshape(y, y.shape[1:]) if unbatched else y


# ---------------------------------------------------------------------------
# normalization (kernels in chainrule.ops.norm)
# ---------------------------------------------------------------------------
def batch_norm(input, running_mean, running_var, weight=None, bias=None,
               training: bool = False, momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalize each channel (axis 1) of (N, C, ...) input by the batch statistics
    (``training``; the running statistics, when given, move toward them by ``momentum``,
    the variance unbiased, as PyTorch) or by the running statistics (eval)."""
    from ..ops import norm as K

    op = "batch_norm"
    x = _input(input)
    if x.ndim < 2:
        raise ValueError(f"{op}: expected input of shape (N, C, ...), got {x.shape}")
    c = x.shape[1]
    bshape = (1, c) + (1,) * (x.ndim - 2)
    weight = None if weight is None else _param_like(weight, x, (c,), "weight", op)
    bias = None if bias is None else _param_like(bias, x, (c,), "bias", op)
    if bias is not None and weight is None:
        weight = as_tensor(np.ones(c, dtype=x.array.dtype))
    axes = (0,) + tuple(range(2, x.ndim))
    if training:
        n = x.array.size // c if c else 0
        if n <= 1:
            raise ValueError(f"{op}: expected more than 1 value per channel when training, "
                             f"got input of shape {x.shape}")
        y, mean, var = K.normalize(x, axes, eps, weight, bias, bshape)
        for stat, value in ((running_mean, mean), (running_var, var * (n / (n - 1)))):
            if stat is not None:
                arr = stat.array if isinstance(stat, Tensor) else stat
                arr *= 1 - momentum
                arr += momentum * value.reshape(c).astype(arr.dtype, copy=False)
                if isinstance(stat, Tensor):
                    stat._version += 1
        return y
    if running_mean is None or running_var is None:
        raise ValueError(f"{op}: evaluation (training=False) needs running_mean and "
                         "running_var")
    rm = running_mean.array if isinstance(running_mean, Tensor) else np.asarray(running_mean)
    rv = running_var.array if isinstance(running_var, Tensor) else np.asarray(running_var)
    return K.normalize_with(x, rm, rv, eps, weight, bias, bshape)


def _param_like(p, x: Tensor, shape: tuple, name: str, op: str) -> Tensor:
    p = p if isinstance(p, Tensor) else _like(p, x)
    if p.shape != shape:
        raise ValueError(f"{op}: {name} must have shape {shape}, got {p.shape}")
    if p.array.dtype != x.array.dtype:
        p = _like(p, x)
    return p


def _trailing_shape(x: Tensor, normalized_shape, op: str) -> tuple:
    """``normalized_shape`` as a tuple, checked to be the trailing dimensions of ``x``."""
    shape = (int(normalized_shape),) if isinstance(normalized_shape, (int, np.integer)) \
        else tuple(int(s) for s in normalized_shape)
    k = len(shape)
    if k == 0 or x.ndim < k or x.shape[x.ndim - k:] != shape:
        raise ValueError(f"{op}: expected input with trailing dimensions {shape}, got "
                         f"shape {x.shape}")
    return shape


def layer_norm(input, normalized_shape, weight=None, bias=None, eps: float = 1e-5) -> Tensor:
    """Normalize over the trailing ``normalized_shape`` dimensions of each sample, then
    scale by ``weight`` and shift by ``bias`` (both of that shape)."""
    from ..ops import norm as K

    op = "layer_norm"
    x = _input(input)
    shape = _trailing_shape(x, normalized_shape, op)
    k = len(shape)
    weight = None if weight is None else _param_like(weight, x, shape, "weight", op)
    bias = None if bias is None else _param_like(bias, x, shape, "bias", op)
    if bias is not None and weight is None:
        weight = as_tensor(np.ones(shape, dtype=x.array.dtype))
    axes = tuple(range(x.ndim - k, x.ndim))
    return K.normalize(x, axes, eps, weight, bias, (1,) * (x.ndim - k) + shape,
                       kind="layer_norm")[0]


def group_norm(input, num_groups: int, weight=None, bias=None, eps: float = 1e-5) -> Tensor:
    """Normalize each group of channels of each sample of (N, C, ...) input, then scale
    and shift per channel."""
    from ..ops import norm as K

    op = "group_norm"
    x = _input(input)
    if x.ndim < 2 or x.shape[1] % num_groups:
        raise ValueError(f"{op}: expected input of shape (N, C, ...) with C divisible by "
                         f"num_groups={num_groups}, got {x.shape}")
    n, c = x.shape[:2]
    grouped = P.reshape(x, (n, num_groups, -1))
    y = K.normalize(grouped, (2,), eps, kind="group_norm")[0]
    y = P.reshape(y, x.shape)
    bshape = (1, c) + (1,) * (x.ndim - 2)
    if weight is not None:
        y = P.mul(y, P.reshape(_param_like(weight, x, (c,), "weight", op), bshape))
    if bias is not None:
        y = P.add(y, P.reshape(_param_like(bias, x, (c,), "bias", op), bshape))
    return y


# ---------------------------------------------------------------------------
# embeddings and channel dropout
# ---------------------------------------------------------------------------
def _indices(input, op: str, n_rows: int) -> np.ndarray:
    arr = input.array if isinstance(input, Tensor) else np.asarray(input)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"{op}: expected integer indices, got dtype {arr.dtype}")
    if arr.size and (arr.min() < 0 or arr.max() >= n_rows):
        bad = arr[(arr < 0) | (arr >= n_rows)].flat[0]
        raise IndexError(f"{op}: index {bad} is out of range for an embedding of "
                         f"{n_rows} rows")
    return arr


def embedding(input, weight, padding_idx: int | None = None, max_norm: float | None = None,
              norm_type: float = 2.0, scale_grad_by_freq: bool = False,
              sparse: bool = False) -> Tensor:
    """Rows of ``weight`` (num_embeddings, dim) picked by the integer ``input``: output
    shape input.shape + (dim,). The row ``padding_idx`` gets no gradient; with
    ``max_norm`` the rows looked up are first rescaled in place to norm ≤ max_norm (as
    PyTorch)."""
    from ..ops import embedding as K

    op = "embedding"
    weight = weight if isinstance(weight, Tensor) else _input(weight)
    if weight.ndim != 2:
        raise ValueError(f"{op}: weight must be 2-D (num_embeddings, embedding_dim), got "
                         f"shape {weight.shape}")
    idx = _indices(input, op, weight.shape[0])
    if padding_idx is not None:
        padding_idx = int(padding_idx) % weight.shape[0] if -weight.shape[0] <= padding_idx \
            < weight.shape[0] else _bad_padding(padding_idx, weight.shape[0], op)
    if max_norm is not None:
        _renorm_rows(weight, np.unique(idx), float(max_norm), float(norm_type))
    return K.embedding(idx, weight, padding_idx, scale_grad_by_freq)


def _bad_padding(padding_idx, n: int, op: str):
    raise ValueError(f"{op}: padding_idx must be within [-{n}, {n}), got {padding_idx}")


def _renorm_rows(weight: Tensor, rows: np.ndarray, max_norm: float, norm_type: float) -> None:
    """Scale the given rows of ``weight`` in place so that their norm is ≤ max_norm."""
    w = weight.array
    norms = np.linalg.norm(w[rows], ord=norm_type, axis=1)
    big = norms > max_norm
    if big.any():
        scale = (max_norm / (norms[big] + 1e-7)).astype(w.dtype)
        w[rows[big]] *= scale[:, None]
        weight._version += 1


def _channel_dropout(x, p: float, training: bool, spatial: int, op: str) -> Tensor:
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{op}: probability p must be in [0, 1], got {p}")
    x = x if isinstance(x, Tensor) else as_tensor(x)
    if x.ndim not in (spatial + 1, spatial + 2):
        raise ValueError(f"{op}: expected a {spatial + 2}-D (N, C, ...) or {spatial + 1}-D "
                         f"(C, ...) input, got shape {x.shape}")
    if not training or p == 0.0:
        return x
    lead = x.shape[: x.ndim - spatial]  # (N, C) or (C,)
    dt = x.array.dtype
    keep = numpy_generator().random(lead, dtype=np.float32) >= np.float32(p)
    scale = np.zeros((), dt) if p >= 1.0 else dt.type(1.0 / (1.0 - p))
    mask = (keep * scale).astype(dt).reshape(lead + (1,) * spatial)
    return P.mul(x, _constant_like(mask, x))


def dropout1d(input, p: float = 0.5, training: bool = True) -> Tensor:
    """Zero whole channels of (N, C, L) input with probability p, scale the rest by
    1/(1-p)."""
    return _channel_dropout(input, p, training, 1, "dropout1d")


def dropout2d(input, p: float = 0.5, training: bool = True) -> Tensor:
    """Zero whole channels (feature maps) of (N, C, H, W) input with probability p,
    scale the rest by 1/(1-p)."""
    return _channel_dropout(input, p, training, 2, "dropout2d")


def dropout3d(input, p: float = 0.5, training: bool = True) -> Tensor:
    """Zero whole channels of (N, C, D, H, W) input with probability p, scale the rest
    by 1/(1-p)."""
    return _channel_dropout(input, p, training, 3, "dropout3d")

# losses and tensor functions that live in their own files, part of this namespace
from .loss_functions import (
    _legacy_reduction,
    cosine_embedding_loss,
    gaussian_nll_loss,
    hinge_embedding_loss,
    kl_div,
    margin_ranking_loss,
    multilabel_soft_margin_loss,
    poisson_nll_loss,
    soft_margin_loss,
    triplet_margin_loss,
)
from .tensor_functions import (
    cosine_similarity,
    normalize,
    one_hot,
    pad,
    pairwise_distance,
)

__all__ += [
    "cosine_embedding_loss", "cosine_similarity", "gaussian_nll_loss",
    "hinge_embedding_loss", "kl_div",
    "margin_ranking_loss", "multilabel_soft_margin_loss", "normalize", "one_hot", "pad",
    "pairwise_distance", "poisson_nll_loss", "soft_margin_loss", "triplet_margin_loss",
]

__all__ += [
    "adaptive_avg_pool2d", "avg_pool2d", "batch_norm", "conv1d", "conv2d", "conv_transpose2d",
    "dropout1d", "dropout2d", "embedding", "group_norm", "layer_norm", "max_pool1d",
    "max_pool2d",
]




__all__ += ["multi_head_attention_forward", "scaled_dot_product_attention"]


# ---------------------------------------------------------------------------
# unfold / fold, adaptive max pooling, interpolation
# ---------------------------------------------------------------------------
def _window_geometry(op: str, kernel_size, dilation, padding, stride):
    from ..ops.conv import Geometry

    k = _ints(kernel_size, 2, "kernel_size", op)
    d = _ints(dilation, 2, "dilation", op)
    p = _ints(padding, 2, "padding", op, minimum=0)
    s = _ints(stride, 2, "stride", op)
    return Geometry(k[0], k[1], s[0], s[1], (p[0], p[0]), (p[1], p[1]), d[0], d[1])


def unfold(input, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """The sliding kernel_size windows of (N, C, H, W) input as columns
    (N, C·kh·kw, L), L = number of windows (im2col), as ``torch.nn.functional.unfold``."""
    from ..ops import conv as K

    op = "unfold"
    x, unbatched = _spatial_input(input, 2, None, op, "(N, C, H, W)")
    geom = _window_geometry(op, kernel_size, dilation, padding, stride)
    ho, wo = geom.out_size(*x.shape[2:])
    if ho < 1 or wo < 1:
        raise ValueError(f"{op}: the windows do not fit in the padded input {x.shape[2:]}")
    y = K.unfold(x, geom, (ho, wo))
    return P.reshape(y, y.shape[1:]) if unbatched else y


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Sum columns (N, C·kh·kw, L) back into (N, C, H, W) windows (col2im), the adjoint
    of ``unfold``, as ``torch.nn.functional.fold``."""
    from ..ops import conv as K

    op = "fold"
    x = _input(input)
    unbatched = x.ndim == 2
    if unbatched:
        x = P.reshape(x, (1,) + x.shape)
    if x.ndim != 3:
        raise ValueError(f"{op}: expected input (N, C·kh·kw, L), got shape {x.shape}")
    geom = _window_geometry(op, kernel_size, dilation, padding, stride)
    h, w = _ints(output_size, 2, "output_size", op)
    ho, wo = geom.out_size(h, w)
    k = geom.kh * geom.kw
    if x.shape[1] % k or x.shape[2] != ho * wo:
        raise ValueError(f"{op}: expected input (N, C·{k}, {ho * wo}) for output {h}×{w} and "
                         f"kernel {geom.kh}×{geom.kw}, got {x.shape}")
    y = K.fold(x, geom, (h, w), (ho, wo))
    return P.reshape(y, y.shape[1:]) if unbatched else y


def adaptive_max_pool2d(input, output_size, return_indices: bool = False):
    """Maximum over PyTorch's adaptive bins so that the output is ``output_size``; the
    gradient goes to each bin's first arg-max."""
    op = "adaptive_max_pool2d"
    x, unbatched = _spatial_input(input, 2, None, op, "(N, C, H, W)")
    ho, wo = _adaptive_size(output_size, x, op)
    h, w = x.shape[2:]
    if h % ho == 0 and w % wo == 0:  # equal bins: one pooling op
        result = max_pool2d(x, (h // ho, w // wo), return_indices=return_indices)
    else:  # bins of different sizes: pool each bin, assemble
        rows, index_rows = [], []
        for i in range(ho):
            r0, r1 = (i * h) // ho, -((-(i + 1) * h) // ho)
            cells, index_cells = [], []
            for j in range(wo):
                c0, c1 = (j * w) // wo, -((-(j + 1) * w) // wo)
                window = P.getitem(x, (slice(None), slice(None), slice(r0, r1), slice(c0, c1)))
                pooled = max_pool2d(window, (r1 - r0, c1 - c0), return_indices=return_indices)
                if return_indices:
                    pooled, idx = pooled
                    local = idx.array
                    index_cells.append((local // (c1 - c0) + r0) * w + local % (c1 - c0) + c0)
                cells.append(pooled)
            rows.append(P.concatenate(cells, axis=3))
            if return_indices:
                index_rows.append(np.concatenate(index_cells, axis=3))
        result = P.concatenate(rows, axis=2)
        if return_indices:
            result = (result, as_tensor(np.concatenate(index_rows, axis=2)))
    if unbatched:
        if return_indices:
            return tuple(P.reshape(t, t.shape[1:]) for t in result)
        return P.reshape(result, result.shape[1:])
    return result


_CUBIC_A = -0.75  # PyTorch's (and OpenCV's) cubic convolution constant


def _cubic_weights(t: np.ndarray) -> np.ndarray:
    """(len(t), 4): the weights of the inputs at offsets −1, 0, 1, 2 from floor(src)."""
    a = _CUBIC_A

    def near(d):  # |d| ≤ 1
        return ((a + 2) * d - (a + 3)) * d * d + 1

    def far(d):  # 1 < |d| < 2
        return ((a * d - 5 * a) * d + 8 * a) * d - 4 * a

    return np.stack([far(t + 1), near(t), near(1 - t), far(2 - t)], axis=1)


def _interp_matrix(n_in: int, n_out: int, mode: str, align_corners: bool | None,
                   scale: float | None, dtype) -> np.ndarray:
    """(n_out, n_in): row i holds the weights output position i takes from the inputs,
    with PyTorch's source-index formulas."""
    a = np.zeros((n_out, n_in), dtype=np.float64)
    rows = np.arange(n_out)
    step = (1.0 / scale) if scale is not None else n_in / n_out
    if mode in ("nearest", "nearest-exact"):
        offset = 0.5 if mode == "nearest-exact" else 0.0
        src = np.minimum(np.floor((rows + offset) * step).astype(np.int64), n_in - 1)
        a[rows, src] = 1.0
        return a.astype(dtype)
    if mode == "area":
        return _adaptive_matrix(n_in, n_out, dtype)
    if align_corners:
        src = rows * ((n_in - 1) / (n_out - 1)) if n_out > 1 else np.zeros(n_out)
    elif mode == "bicubic":  # not clamped at 0: the taps are clamped instead
        src = (rows + 0.5) * step - 0.5
    else:
        src = np.maximum((rows + 0.5) * step - 0.5, 0.0)
    if mode == "bicubic":
        i0 = np.floor(src).astype(np.int64)
        weights = _cubic_weights(src - i0)
        for k in range(4):  # taps outside the input read its border
            np.add.at(a, (rows, np.clip(i0 - 1 + k, 0, n_in - 1)), weights[:, k])
        return a.astype(dtype)
    i0 = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    i1 = np.minimum(i0 + 1, n_in - 1)
    lam = src - i0
    np.add.at(a, (rows, i0), 1.0 - lam)
    np.add.at(a, (rows, i1), lam)
    return a.astype(dtype)


def _antialias_filter(mode: str, d: np.ndarray) -> np.ndarray:
    d = np.abs(d)
    if mode == "bilinear":  # the triangle
        return np.maximum(1.0 - d, 0.0)
    a = -0.5  # the cubic that antialiased resizing uses (PIL's), not _CUBIC_A
    near = ((a + 2) * d - (a + 3)) * d * d + 1
    far = ((a * d - 5 * a) * d + 8 * a) * d - 4 * a
    return np.where(d < 1, near, np.where(d < 2, far, 0.0))


def _antialias_matrix(n_in: int, n_out: int, mode: str, align_corners: bool | None,
                      scale: float | None, dtype) -> np.ndarray:
    """(n_out, n_in) weights of antialiased resizing: when shrinking, the filter is
    stretched by the shrink factor so every input pixel counts (PyTorch's and PIL's
    formulas: the window around each output centre, weights normalized to sum 1)."""
    if align_corners:
        step = (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
    else:
        step = (1.0 / scale) if scale is not None and scale > 0 else n_in / n_out
    half = 1.0 if mode == "bilinear" else 2.0  # the filter's half width
    support = half * step if step >= 1.0 else half
    inv = 1.0 / step if step >= 1.0 else 1.0
    a = np.zeros((n_out, n_in), dtype=np.float64)
    for i in range(n_out):
        centre = step * (i + 0.5)
        lo = max(int(centre - support + 0.5), 0)
        hi = min(int(centre + support + 0.5), n_in)
        taps = np.arange(lo, hi)
        w = _antialias_filter(mode, (taps - centre + 0.5) * inv)
        total = w.sum()
        a[i, lo:hi] = w / total if total != 0 else w
    return a.astype(dtype)


_LINEAR_MODES = {1: "linear", 2: "bilinear", 3: "trilinear"}


def interpolate(input, size=None, scale_factor=None, mode: str = "nearest",
                align_corners: bool | None = None, recompute_scale_factor: bool | None = None,
                antialias: bool = False) -> Tensor:
    """Resize (N, C, L), (N, C, H, W) or (N, C, D, H, W) input to ``size`` or by
    ``scale_factor`` with ``mode`` 'nearest', 'nearest-exact', 'area' (adaptive average
    pooling), 'linear' / 'bilinear' / 'trilinear' (by dimension) or 'bicubic' (4-D), with
    PyTorch's index formulas (``align_corners`` both ways; ``antialias=True`` for
    'bilinear'/'bicubic' widens the filter when shrinking). Written as products with
    constant interpolation matrices, one per axis, so it differentiates to any order."""
    op = "interpolate"
    x = _input(input)
    spatial = x.ndim - 2
    if spatial not in (1, 2, 3):
        raise ValueError(f"{op}: expected a 3-D (N, C, L), 4-D (N, C, H, W) or 5-D (N, C, "
                         f"D, H, W) input, got shape {x.shape}")
    linear_mode = _LINEAR_MODES[spatial]
    allowed = ("nearest", "nearest-exact", "area", linear_mode) + \
        (("bicubic",) if spatial == 2 else ())
    if mode not in allowed:
        raise ValueError(f"{op}: mode {mode!r} is not supported for a {x.ndim}-D input; "
                         f"use one of {', '.join(map(repr, allowed))}")
    if antialias and (spatial != 2 or mode not in ("bilinear", "bicubic")):
        raise ValueError(f"{op}: antialias=True needs mode 'bilinear' or 'bicubic' and a 4-D "
                         f"(N, C, H, W) input, got mode {mode!r} and shape {x.shape}")
    if mode in ("nearest", "nearest-exact", "area") and align_corners is not None:
        raise ValueError(f"{op}: align_corners only applies to {linear_mode!r} and "
                         "'bicubic' modes")
    if (size is None) == (scale_factor is None):
        raise ValueError(f"{op}: give exactly one of size and scale_factor")
    in_sizes = x.shape[2:]
    if size is not None:
        out_sizes = _ints(size, spatial, "size", op)
        scales = (None,) * spatial
    else:
        factors = (float(scale_factor),) * spatial if isinstance(scale_factor, (int, float)) \
            else tuple(float(f) for f in scale_factor)
        if len(factors) != spatial or min(factors) <= 0:
            raise ValueError(f"{op}: scale_factor must be positive, one per spatial "
                             f"dimension, got {scale_factor!r}")
        out_sizes = tuple(int(np.floor(n * f)) for n, f in zip(in_sizes, factors))
        scales = (None,) * spatial if recompute_scale_factor else factors
    if min(out_sizes) < 1:
        raise ValueError(f"{op}: the output size {out_sizes} must be positive")
    dt = x.array.dtype
    matrix = _antialias_matrix if antialias else _interp_matrix
    mats = [matrix(n_in, n_out, mode, align_corners, sc, dt)
            for n_in, n_out, sc in zip(in_sizes, out_sizes, scales)]
    y = P.matmul(x, _constant_like(np.ascontiguousarray(mats[-1].T), x))  # last axis: x Aᵀ
    if spatial >= 2:
        y = P.matmul(_constant_like(mats[-2], x), y)  # the one before it: A y
    if spatial == 3:  # depth: (D, H·W) rows
        n, c, d, h, w = y.shape
        y = P.matmul(_constant_like(mats[0], x), P.reshape(y, (n, c, d, h * w)))
        y = P.reshape(y, (n, c, out_sizes[0], h, w))
    return y


__all__ += ["adaptive_max_pool2d", "fold", "interpolate", "unfold"]


# ---------------------------------------------------------------------------
# activations (the elementwise ones are registry ops: cr.gelu, cr.silu, ...)
# ---------------------------------------------------------------------------
def _act(x) -> Tensor:
    return x if isinstance(x, Tensor) else _input(x)


def gelu(input, approximate: str = "none") -> Tensor:
    """x·Φ(x) (``approximate='none'``) or its tanh form (``'tanh'``)."""
    return P.gelu(_act(input), approximate)


def silu(input, inplace: bool = False) -> Tensor:
    """x·σ(x) (swish)."""
    return _in_place(input, inplace, "silu", lambda t: P.silu(_act(t)))


def elu(input, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x for x > 0, α(eˣ - 1) otherwise."""
    return _in_place(input, inplace, "elu", lambda t: P.elu(_act(t), alpha))


def selu(input, inplace: bool = False) -> Tensor:
    """scale·elu(x, α) with the self-normalizing constants."""
    return _in_place(input, inplace, "selu", lambda t: P.selu(_act(t)))


def softplus(input, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + e^(βx))/β (x itself where βx > threshold)."""
    return P.softplus(_act(input), beta, threshold)


def mish(input, inplace: bool = False) -> Tensor:
    """x·tanh(softplus(x))."""
    return _in_place(input, inplace, "mish", lambda t: P.mish(_act(t)))


def hardtanh(input, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False
             ) -> Tensor:
    """x clipped to [min_val, max_val]."""
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val ({min_val}) must not exceed max_val ({max_val})")
    return _in_place(input, inplace, "hardtanh",
                     lambda t: P.hardtanh(_act(t), min_val, max_val))


def relu6(input, inplace: bool = False) -> Tensor:
    """min(max(0, x), 6)."""
    return _in_place(input, inplace, "relu6", lambda t: P.relu6(_act(t)))


def logsigmoid(input) -> Tensor:
    """log σ(x), stable for large |x|."""
    return P.logsigmoid(_act(input))


def softsign(input) -> Tensor:
    """x / (1 + |x|)."""
    return P.softsign(_act(input))


def prelu(input, weight) -> Tensor:
    """x for x > 0, a·x otherwise, with a learned slope ``weight``: one value, or one per
    channel (axis 1)."""
    x = _act(input)
    weight = weight if isinstance(weight, Tensor) else _like(weight, x)
    if weight.ndim != 1:
        raise ValueError(f"prelu: weight must be 1-D, got shape {weight.shape}")
    k = weight.shape[0]
    if k != 1:
        if x.ndim < 2 or x.shape[1] != k:
            raise ValueError(f"prelu: {k} slopes need an input with {k} channels on axis 1, "
                             f"got shape {x.shape}")
        weight = P.reshape(weight, (1, k) + (1,) * (x.ndim - 2))
    elif x.ndim == 0:
        weight = P.reshape(weight, ())
    return P.where(x.array > 0, x, P.mul(weight, x))


def glu(input, dim: int = -1) -> Tensor:
    """a·σ(b) where a, b are the two halves of ``input`` along ``dim``."""
    x = _act(input)
    axis = dim % x.ndim if x.ndim else 0
    n = x.shape[axis] if x.ndim else 0
    if n % 2:
        raise ValueError(f"glu: the size of dimension {dim} must be even, got {n} (shape "
                         f"{x.shape})")
    lead = (slice(None),) * axis
    a = P.getitem(x, lead + (slice(0, n // 2),))
    b = P.getitem(x, lead + (slice(n // 2, n),))
    return P.mul(a, P.sigmoid(b))


__all__ += ["elu", "gelu", "glu", "hardtanh", "logsigmoid", "mish", "prelu", "relu6", "selu",
            "silu", "softplus", "softsign"]

from .attention import multi_head_attention_forward, scaled_dot_product_attention


# ---------------------------------------------------------------------------
# more of PyTorch's functional surface, composed of the functions above
# ---------------------------------------------------------------------------
def hardsigmoid(input, inplace: bool = False) -> Tensor:
    """relu6(x + 3) / 6: 0 below −3, 1 above 3, linear between."""
    return _in_place(input, inplace, "hardsigmoid",
                     lambda t: P.add(P.mul(P.hardtanh(_act(t), -3.0, 3.0), 1.0 / 6.0), 0.5))


def hardswish(input, inplace: bool = False) -> Tensor:
    """x · hardsigmoid(x)."""
    return _in_place(input, inplace, "hardswish",
                     lambda t: P.mul(_act(t), hardsigmoid(t)))


def softmin(input, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """softmax(−x) along ``dim`` (without ``dim``: as :func:`softmax`)."""
    x = _act(input) if dtype is None else _act(input).to(dtype)
    if dim is None:
        dim = _implicit_dim("softmin", x, _stacklevel)
    return P.softmax(P.neg(x), dim)


def celu(input, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """max(0, x) + min(0, α(e^(x/α) − 1)) = α·elu(x/α)."""
    if alpha == 0:
        raise ValueError("celu: alpha must not be 0")
    return _in_place(input, inplace, "celu",
                     lambda t: P.mul(P.elu(P.mul(_act(t), 1.0 / alpha), 1.0), float(alpha)))


def threshold(input, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """x where x > threshold, else ``value``."""
    def fn(t):
        x = _act(t)
        return P.where(x.array > threshold, x, float(value))

    return _in_place(input, inplace, "threshold", fn)


def tanhshrink(input) -> Tensor:
    """x − tanh(x)."""
    x = _act(input)
    return P.sub(x, P.tanh(x))


def softshrink(input, lambd: float = 0.5) -> Tensor:
    """x − λ above λ, x + λ below −λ, 0 between."""
    if lambd < 0:
        raise ValueError(f"softshrink: lambd must be ≥ 0, got {lambd}")
    x = _act(input)
    return P.where(x.array > lambd, P.sub(x, float(lambd)),
                   P.where(x.array < -lambd, P.add(x, float(lambd)), 0.0))


def hardshrink(input, lambd: float = 0.5) -> Tensor:
    """x where |x| > λ, else 0."""
    x = _act(input)
    return P.where(np.abs(x.array) > lambd, x, 0.0)


def _as_1d(x: Tensor) -> Tensor:
    """(N, C, L) as (N, C, 1, L)."""
    return P.reshape(x, (x.shape[0], x.shape[1], 1, x.shape[2]))


def _from_1d(y: Tensor, unbatched: bool) -> Tensor:
    y = P.reshape(y, (y.shape[0], y.shape[1], y.shape[3]))
    return P.reshape(y, y.shape[1:]) if unbatched else y


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True) -> Tensor:
    """The mean of each window of input (N, C, L): avg_pool2d on a height-1 image."""
    op = "avg_pool1d"
    x, unbatched = _spatial_input(input, 1, None, op, "(N, C, L)")
    k = _ints(kernel_size, 1, "kernel_size", op)[0]
    s = k if stride is None else _ints(stride, 1, "stride", op)[0]
    p = _ints(padding, 1, "padding", op, 0)[0]
    return _from_1d(avg_pool2d(_as_1d(x), (1, k), (1, s), (0, p), ceil_mode,
                               count_include_pad), unbatched)


def adaptive_avg_pool1d(input, output_size) -> Tensor:
    """Average over PyTorch's adaptive bins of (N, C, L) input to ``output_size`` steps."""
    op = "adaptive_avg_pool1d"
    x, unbatched = _spatial_input(input, 1, None, op, "(N, C, L)")
    size = _ints(output_size, 1, "output_size", op)[0]
    return _from_1d(adaptive_avg_pool2d(_as_1d(x), (1, size)), unbatched)


def adaptive_max_pool1d(input, output_size, return_indices: bool = False):
    """Max over PyTorch's adaptive bins of (N, C, L) input to ``output_size`` steps."""
    op = "adaptive_max_pool1d"
    x, unbatched = _spatial_input(input, 1, None, op, "(N, C, L)")
    size = _ints(output_size, 1, "output_size", op)[0]
    result = adaptive_max_pool2d(_as_1d(x), (1, size), return_indices)
    if return_indices:
        return _from_1d(result[0], unbatched), _from_1d(result[1], unbatched)
    return _from_1d(result, unbatched)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups: int = 1, dilation=1) -> Tensor:
    """Transposed convolution of input (N, C_in, L) with weight (C_in, C_out/groups, k):
    conv_transpose2d on a height-1 image."""
    op = "conv_transpose1d"
    weight = weight if isinstance(weight, Tensor) else _input(weight)
    if weight.ndim != 3:
        raise ValueError(f"{op}: weight must be 3-D (in_channels, out_channels/groups, k), "
                         f"got shape {weight.shape}")
    x, unbatched = _spatial_input(input, 1, weight, op, "(N, C, L)")
    stride = (1, _ints(stride, 1, "stride", op)[0])
    dilation = (1, _ints(dilation, 1, "dilation", op)[0])
    padding = (0, _ints(padding, 1, "padding", op, 0)[0])
    extra = (0, _ints(output_padding, 1, "output_padding", op, 0)[0])
    y = conv_transpose2d(_as_1d(x), P.reshape(weight, weight.shape[:2] + (1, weight.shape[2])),
                         bias, stride, padding, extra, groups, dilation)
    return _from_1d(y, unbatched)


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats: bool = True, momentum: float = 0.1,
                  eps: float = 1e-5) -> Tensor:
    """Normalize each channel of each sample of (N, C, ...) input over its own spatial
    positions (``use_input_stats``; the running statistics, when given, move toward the
    mean over the batch of those statistics, the variance unbiased, as PyTorch), or by
    the running statistics; then scale and shift per channel."""
    op = "instance_norm"
    x = _input(input)
    if x.ndim < 3:
        raise ValueError(f"{op}: expected input of shape (N, C, L) or (N, C, H, W), got "
                         f"{x.shape}")
    c = x.shape[1]
    if not use_input_stats:
        if running_mean is None or running_var is None:
            raise ValueError(f"{op}: use_input_stats=False needs running_mean and "
                             "running_var")
        return batch_norm(x, running_mean, running_var, weight, bias, False, momentum, eps)
    spatial = tuple(range(2, x.ndim))
    count = int(np.prod(x.shape[2:]))
    if count <= 1:
        raise ValueError(f"{op}: expected more than 1 spatial element per channel, got "
                         f"input of shape {x.shape}")
    if running_mean is not None and running_var is not None:
        with_stats = x.array.astype(np.float64)
        mean = with_stats.mean(axis=spatial)
        var = with_stats.var(axis=spatial, ddof=1)
        for buf, value in ((running_mean, mean.mean(0)), (running_var, var.mean(0))):
            if buf.shape != (c,):
                raise ValueError(f"{op}: running statistics must have shape ({c},), got "
                                 f"{buf.shape}")
            buf.array[...] = (1 - momentum) * buf.array + momentum * value
            buf._version += 1
    return group_norm(x, c, weight, bias, eps)


def rms_norm(input, normalized_shape, weight=None, eps: float | None = None) -> Tensor:
    """x / √(mean(x²) + eps) over the trailing ``normalized_shape`` dimensions, times
    ``weight``; ``eps`` None means the dtype's machine epsilon (as PyTorch)."""
    op = "rms_norm"
    x = _input(input)
    shape = _trailing_shape(x, normalized_shape, op)
    k = len(shape)
    eps = float(np.finfo(x.array.dtype).eps) if eps is None else float(eps)
    axes = tuple(range(x.ndim - k, x.ndim))
    y = P.mul(x, P.pow(P.add(P.mean(P.mul(x, x), axes, keepdims=True), eps), -0.5))
    if weight is not None:
        y = P.mul(y, _param_like(weight, x, shape, "weight", op))
    return y


def embedding_bag(input, weight, offsets=None, max_norm: float | None = None,
                  norm_type: float = 2.0, scale_grad_by_freq: bool = False,
                  mode: str = "mean", sparse: bool = False, per_sample_weights=None,
                  include_last_offset: bool = False, padding_idx: int | None = None
                  ) -> Tensor:
    """Sum, mean or max of the embedding rows of each bag: bags are the rows of a 2-D
    ``input`` (B, n), or the stretches of a 1-D ``input`` that start at ``offsets``. An
    empty bag gives zeros; entries equal to ``padding_idx`` are left out (and not
    counted by the mean); ``per_sample_weights`` (mode 'sum' only) scale each row."""
    op = "embedding_bag"
    if mode not in ("sum", "mean", "max"):
        raise ValueError(f"{op}: mode must be 'sum', 'mean' or 'max', got {mode!r}")
    weight = weight if isinstance(weight, Tensor) else _input(weight)
    if weight.ndim != 2:
        raise ValueError(f"{op}: weight must be 2-D (num_embeddings, embedding_dim), got "
                         f"shape {weight.shape}")
    idx = _indices(input, op, weight.shape[0])
    psw = per_sample_weights
    if psw is not None:
        if mode != "sum":
            raise ValueError(f"{op}: per_sample_weights is only supported with mode='sum', "
                             f"got mode={mode!r}")
        psw = psw if isinstance(psw, Tensor) else _like(psw, weight)
        if psw.shape != idx.shape:
            raise ValueError(f"{op}: per_sample_weights must have the input's shape "
                             f"{idx.shape}, got {psw.shape}")
        psw = P.reshape(psw, (-1,))
    if idx.ndim == 2:
        if offsets is not None:
            raise ValueError(f"{op}: offsets must be None for a 2-D input (each row is a "
                             "bag)")
        starts = np.arange(0, idx.size, idx.shape[1]) if idx.shape[1] else \
            np.zeros(idx.shape[0], dtype=np.int64)
        ends = starts + idx.shape[1]
    elif idx.ndim == 1:
        if offsets is None:
            raise ValueError(f"{op}: a 1-D input needs offsets (where each bag starts)")
        off = offsets.array if isinstance(offsets, Tensor) else np.asarray(offsets)
        if off.ndim != 1 or off.dtype.kind not in "iu":
            raise ValueError(f"{op}: offsets must be a 1-D sequence of ints, got {off.dtype} "
                             f"of shape {off.shape}")
        off = off.astype(np.int64)
        if off.size and (off[0] != 0 or np.any(np.diff(off) < 0) or off[-1] > idx.size):
            raise ValueError(f"{op}: offsets must start at 0, not decrease and stay within "
                             f"the {idx.size} indices, got {off.tolist()}")
        if include_last_offset:
            starts, ends = off[:-1], off[1:]
        else:
            starts, ends = off, np.append(off[1:], idx.size)
    else:
        raise ValueError(f"{op}: expected a 1-D (with offsets) or 2-D input, got shape "
                         f"{idx.shape}")
    flat = idx.reshape(-1)
    n_rows = weight.shape[0]
    if padding_idx is not None:
        padding_idx = int(padding_idx) % n_rows if -n_rows <= padding_idx < n_rows \
            else _bad_padding(padding_idx, n_rows, op)
    if max_norm is not None:
        _renorm_rows(weight, np.unique(flat), float(max_norm), float(norm_type))
    keep = np.ones(flat.shape, dtype=bool) if padding_idx is None else flat != padding_idx
    rows = embedding(flat, weight)  # (n, D)
    if psw is not None:
        rows = P.mul(rows, P.reshape(psw, (-1, 1)))
    dt = weight.array.dtype
    if mode == "max":
        bags = []
        zeros = as_tensor(np.zeros(weight.shape[1], dtype=dt))
        for a, b in zip(starts, ends):
            members = np.flatnonzero(keep[a:b]) + a
            bags.append(P.amax(P.getitem(rows, members), axis=0) if members.size else zeros)
        return C.stack(bags, 0) if bags else as_tensor(np.zeros((0, weight.shape[1]), dt))
    member = np.zeros((len(starts), flat.size), dtype=dt)  # bag × index, 1 where it belongs
    for i, (a, b) in enumerate(zip(starts, ends)):
        member[i, a:b] = keep[a:b]
    if mode == "mean":
        counts = member.sum(axis=1, keepdims=True)
        member = member / np.maximum(counts, 1)
    return P.matmul(_constant_like(member.astype(dt), rows), rows)


def pixel_shuffle(input, upscale_factor: int) -> Tensor:
    """(*, C·r², H, W) -> (*, C, H·r, W·r): channels rearranged into space."""
    x = _act(input) if not isinstance(input, Tensor) else input
    r = int(upscale_factor)
    if x.ndim < 3 or r < 1 or x.shape[-3] % (r * r):
        raise ValueError(f"pixel_shuffle: expected input (*, C·r², H, W) with r = "
                         f"{upscale_factor}, got shape {x.shape}")
    *lead, c, h, w = x.shape
    lead = tuple(lead)
    k = len(lead)
    y = P.reshape(x, lead + (c // (r * r), r, r, h, w))
    y = P.permute(y, *range(k), k, k + 3, k + 1, k + 4, k + 2)
    return P.reshape(y, lead + (c // (r * r), h * r, w * r))


def pixel_unshuffle(input, downscale_factor: int) -> Tensor:
    """(*, C, H·r, W·r) -> (*, C·r², H, W): the inverse of ``pixel_shuffle``."""
    x = _act(input) if not isinstance(input, Tensor) else input
    r = int(downscale_factor)
    if x.ndim < 3 or r < 1 or x.shape[-1] % r or x.shape[-2] % r:
        raise ValueError(f"pixel_unshuffle: expected input (*, C, H·r, W·r) with r = "
                         f"{downscale_factor}, got shape {x.shape}")
    *lead, c, h, w = x.shape
    lead = tuple(lead)
    k = len(lead)
    y = P.reshape(x, lead + (c, h // r, r, w // r, r))
    y = P.permute(y, *range(k), k, k + 2, k + 4, k + 1, k + 3)
    return P.reshape(y, lead + (c * r * r, h // r, w // r))


def channel_shuffle(input, groups: int) -> Tensor:
    """(N, g·k, ...) -> channels regrouped as (k, g): the ShuffleNet permutation."""
    x = input if isinstance(input, Tensor) else _act(input)
    g = int(groups)
    if x.ndim < 3 or g < 1 or x.shape[1] % g:
        raise ValueError(f"channel_shuffle: expected input (N, C, ...) with C divisible by "
                         f"groups={groups}, got shape {x.shape}")
    n, c = x.shape[:2]
    rest = x.shape[2:]
    y = P.reshape(x, (n, g, c // g) + rest)
    return P.reshape(P.transpose(y, 1, 2), x.shape)


def bilinear(input1, input2, weight, bias=None) -> Tensor:
    """y_o = x1ᵀ W_o x2 + b_o for inputs (*, in1) and (*, in2), weight (out, in1, in2)."""
    op = "bilinear"
    x1, x2 = _input(input1), _input(input2)
    weight = weight if isinstance(weight, Tensor) else _like(weight, x1)
    if weight.ndim != 3:
        raise ValueError(f"{op}: weight must be 3-D (out, in1, in2), got shape "
                         f"{weight.shape}")
    _, in1, in2 = weight.shape
    if x1.ndim == 0 or x2.ndim == 0 or x1.shape[-1] != in1 or x2.shape[-1] != in2 or \
            x1.shape[:-1] != x2.shape[:-1]:
        raise ValueError(f"{op}: expected inputs (*, {in1}) and (*, {in2}) with the same "
                         f"leading shape (weight {weight.shape}), got {x1.shape} and "
                         f"{x2.shape}")
    lead = x1.shape[:-1]
    a = P.reshape(x1, (-1, x1.shape[-1]))
    b = P.reshape(x2, (-1, x2.shape[-1]))
    # (out, B, in2) = x1 (B, in1) @ W (out, in1, in2); then · x2 summed over in2
    t = P.matmul(a, weight)
    y = P.transpose(P.sum(P.mul(t, b), axis=2), 0, 1)
    if bias is not None:
        y = P.add(y, _param_like(bias, x1, (weight.shape[0],), "bias", op))
    return P.reshape(y, lead + (weight.shape[0],))


__all__ += ["adaptive_avg_pool1d", "adaptive_max_pool1d", "avg_pool1d", "bilinear", "celu",
            "channel_shuffle", "conv_transpose1d", "embedding_bag", "hardshrink",
            "hardsigmoid", "hardswish", "instance_norm", "pixel_shuffle", "pixel_unshuffle",
            "rms_norm", "softmin", "softshrink", "tanhshrink", "threshold"]


# SELU's fixed point: dropped units are set to −λα, and an affine map a·x + b keeps the
# mean and variance (PyTorch's constant and formula)
_ALPHA_PRIME = 1.7580993408473766


def _alpha_dropout(x, p: float, training: bool, feature: bool, op: str) -> Tensor:
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{op}: probability p must be in [0, 1], got {p}")
    x = x if isinstance(x, Tensor) else as_tensor(x)
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return P.mul(x, 0.0)
    if feature and x.ndim < 2:
        raise ValueError(f"{op}: expected an input of at least 2 dimensions (N, C, ...), "
                         f"got shape {x.shape}")
    dt = x.array.dtype
    shape = x.shape[:2] + (1,) * (x.ndim - 2) if feature else x.shape
    keep = (numpy_generator().random(shape) >= p).astype(dt)
    a = 1.0 / np.sqrt((_ALPHA_PRIME ** 2 * p + 1) * (1 - p))
    scale = (keep * a).astype(dt)
    shift = ((keep - 1) * _ALPHA_PRIME * a + _ALPHA_PRIME * a * p).astype(dt)
    return P.add(P.mul(x, _constant_like(scale, x)), _constant_like(shift, x))


def alpha_dropout(input, p: float = 0.5, training: bool = False,
                  inplace: bool = False) -> Tensor:
    """Dropout for SELU networks: dropped units take SELU's negative saturation and the
    result is rescaled so that mean and variance are kept; the identity unless
    ``training``."""
    return _alpha_dropout(input, p, training, False, "alpha_dropout")


def feature_alpha_dropout(input, p: float = 0.5, training: bool = False,
                          inplace: bool = False) -> Tensor:
    """``alpha_dropout`` of whole channels."""
    return _alpha_dropout(input, p, training, True, "feature_alpha_dropout")


def rrelu(input, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False,
          inplace: bool = False) -> Tensor:
    """Leaky ReLU with a random slope ~ U(lower, upper) per element while ``training``,
    the mean slope (lower + upper) / 2 otherwise."""
    if not 0 <= lower <= upper:
        raise ValueError(f"rrelu: expected 0 ≤ lower ≤ upper, got lower={lower}, "
                         f"upper={upper}")
    x = _act(input)
    if not training:
        return P.leaky_relu(x, (lower + upper) / 2)
    slopes = numpy_generator().uniform(lower, upper, x.shape).astype(x.array.dtype)
    return P.where(x.array >= 0, x, P.mul(x, _constant_like(slopes, x)))


def gumbel_softmax(logits, tau: float = 1.0, hard: bool = False, eps: float = 1e-10,
                   dim: int = -1) -> Tensor:
    """softmax((logits + g) / tau) with Gumbel noise g; with ``hard`` the one-hot of its
    arg-max in the forward pass and the soft sample's gradient (straight-through)."""
    x = _act(logits)
    gumbels = -np.log(numpy_generator().exponential(size=x.shape)).astype(x.array.dtype)
    y = P.softmax(P.div(P.add(x, _constant_like(gumbels, x)), float(tau)), dim)
    if not hard:
        return y
    axis = dim % x.ndim
    one_hot = np.zeros(x.shape, dtype=x.array.dtype)
    np.put_along_axis(one_hot, np.expand_dims(np.argmax(y.array, axis=axis), axis), 1.0,
                      axis=axis)
    return P.add(P.sub(_constant_like(one_hot, x), y.detach()), y)


def local_response_norm(input, size: int, alpha: float = 1e-4, beta: float = 0.75,
                        k: float = 1.0) -> Tensor:
    """x / (k + α·mean of x² over ``size`` neighbouring channels)^β (AlexNet's
    normalization across channels; the window is centred, zero-padded, divided by
    ``size`` as PyTorch)."""
    op = "local_response_norm"
    x = _input(input)
    if x.ndim < 3:
        raise ValueError(f"{op}: expected an input of 3 or more dimensions (N, C, ...), got "
                         f"shape {x.shape}")
    if int(size) < 1:
        raise ValueError(f"{op}: size must be positive, got {size}")
    n, c = x.shape[:2]
    offsets = np.arange(c)[None, :] - np.arange(c)[:, None]  # column − row
    band = ((offsets >= -(size // 2)) & (offsets <= (size - 1) // 2)).astype(x.array.dtype)
    sq = P.reshape(P.mul(x, x), (n, c, -1))
    window = P.reshape(P.matmul(_constant_like(band / size, x), sq), x.shape)
    return P.div(x, P.pow(P.add(P.mul(window, float(alpha)), float(k)), float(beta)))


def multilabel_margin_loss(input, target, size_average=None, reduce=None,
                           reduction: str = "mean") -> Tensor:
    """Multi-label hinge loss: ``target`` (N, C) lists each sample's classes, ended by
    −1; loss = Σ_{j listed} Σ_{i not listed} max(0, 1 − (x[j] − x[i])) / C."""
    op = "multilabel_margin_loss"
    reduction = _legacy_reduction(size_average, reduce, reduction, op)
    x = _input(input)
    y = target.array if isinstance(target, Tensor) else np.asarray(target)
    if y.dtype.kind not in "iu":
        raise TypeError(f"{op}: target must hold class indices (ints), got dtype {y.dtype}")
    if x.ndim not in (1, 2) or y.shape != x.shape:
        raise ValueError(f"{op}: expected input (N, C) or (C,) and a target of the same "
                         f"shape, got {x.shape} and {y.shape}")
    unbatched = x.ndim == 1
    if unbatched:
        x, y = P.reshape(x, (1, -1)), y.reshape(1, -1)
    n, c = x.shape
    if y.size and (y.min() < -1 or y.max() >= c):
        raise ValueError(f"{op}: target entries must be class indices in [0, {c}) or -1 "
                         f"(the end of a sample's list), got {y.min()}..{y.max()}")
    listed = np.zeros((n, c), dtype=x.array.dtype)  # how often each class is listed
    for row in range(n):
        ends = np.flatnonzero(y[row] < 0)
        for j in y[row, : ends[0] if ends.size else c]:
            listed[row, j] += 1
    others = (listed == 0).astype(x.array.dtype)
    # pairs (j listed, i not): margins[n, j, i] = max(0, 1 − x[j] + x[i])
    margins = nn_ops.relu(P.add(P.sub(P.reshape(x, (n, 1, c)), P.reshape(x, (n, c, 1))), 1.0))
    pairs = _constant_like(listed[:, :, None] * others[:, None, :], x)
    loss = P.div(P.sum(P.mul(margins, pairs), axis=(1, 2)), float(c))
    if unbatched:
        loss = P.reshape(loss, ())
    return _reduce(loss, reduction)


__all__ += ["alpha_dropout", "dropout3d", "feature_alpha_dropout", "gumbel_softmax",
            "local_response_norm", "multilabel_margin_loss", "rrelu"]


def _lengths_array(values, n: int, name: str, op: str) -> np.ndarray:
    arr = values.array if isinstance(values, Tensor) else np.asarray(values)
    arr = arr.reshape(-1) if arr.ndim == 0 else arr
    if arr.dtype.kind not in "iu" or arr.shape != (n,):
        raise ValueError(f"{op}: {name} must hold {n} ints (one per sequence), got "
                         f"{arr.dtype} of shape {arr.shape}")
    return arr.astype(np.int64)


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank: int = 0,
             reduction: str = "mean", zero_infinity: bool = False) -> Tensor:
    """Connectionist temporal classification: −log of the probability of each target
    sequence summed over all its alignments to the ``log_probs`` (T, N, C) (log_softmax
    outputs; class ``blank`` separates repeats). ``targets`` are padded (N, S) or
    concatenated (sum of target_lengths,); 'mean' divides each loss by its target length
    before averaging (as PyTorch); ``zero_infinity`` turns impossible alignments into 0."""
    from ..ops.ctc import ctc_loss as kernel

    op = "ctc_loss"
    _check_reduction(reduction, op)
    lp = _input(log_probs)
    unbatched = lp.ndim == 2
    if unbatched:
        lp = P.reshape(lp, (lp.shape[0], 1, lp.shape[1]))
    if lp.ndim != 3:
        raise ValueError(f"{op}: log_probs must be (T, N, C) or (T, C), got shape {lp.shape}")
    steps, n, classes = lp.shape
    if not 0 <= blank < classes:
        raise ValueError(f"{op}: blank={blank} is not a class index in [0, {classes})")
    t = targets.array if isinstance(targets, Tensor) else np.asarray(targets)
    if t.dtype.kind not in "iu":
        raise TypeError(f"{op}: targets must hold class indices (ints), got dtype {t.dtype}")
    in_len = _lengths_array(input_lengths, n, "input_lengths", op)
    tg_len = _lengths_array(target_lengths, n, "target_lengths", op)
    if unbatched and t.ndim == 1:
        t = t.reshape(1, -1)
    if t.ndim == 1:  # concatenated targets: cut them into rows
        if t.shape[0] != tg_len.sum():
            raise ValueError(f"{op}: {t.shape[0]} concatenated targets, but target_lengths "
                             f"sum to {int(tg_len.sum())}")
        rows = np.zeros((n, max(int(tg_len.max(initial=0)), 1)), dtype=np.int64)
        for i, start in enumerate(np.concatenate([[0], np.cumsum(tg_len)[:-1]])):
            rows[i, :tg_len[i]] = t[start:start + tg_len[i]]
        t = rows
    elif t.ndim != 2 or t.shape[0] != n:
        raise ValueError(f"{op}: targets must be (N, S) with N = {n} or 1-D concatenated, "
                         f"got shape {t.shape}")
    if np.any(in_len < 1) or np.any(in_len > steps):
        raise ValueError(f"{op}: input_lengths must be in [1, {steps}] (T of log_probs), got "
                         f"{in_len.tolist()}")
    if np.any(tg_len < 0) or np.any(tg_len > t.shape[1]):
        raise ValueError(f"{op}: target_lengths must be in [0, {t.shape[1]}] (S of targets), "
                         f"got {tg_len.tolist()}")
    used = np.concatenate([t[i, :k] for i, k in enumerate(tg_len)]) if n else t[:0, 0]
    if used.size and (used.min() < 0 or used.max() >= classes or np.any(used == blank)):
        raise ValueError(f"{op}: targets must be class indices in [0, {classes}) other than "
                         f"the blank {blank}, got {sorted(set(used.tolist()))}")
    nll = kernel(lp, t, in_len, tg_len, int(blank), bool(zero_infinity))
    if reduction == "mean":
        divisor = np.maximum(tg_len, 1).astype(nll.array.dtype)
        return P.mean(P.div(nll, _constant_like(divisor, nll)))
    if reduction == "sum":
        return P.sum(nll)
    return P.reshape(nll, ()) if unbatched else nll


__all__ += ["ctc_loss"]


# PyTorch's in-place function forms: F.relu_(x) is F.relu(x, inplace=True)
def relu_(input) -> Tensor:
    return relu(input, inplace=True)


def elu_(input, alpha: float = 1.0) -> Tensor:
    return elu(input, alpha, inplace=True)


def leaky_relu_(input, negative_slope: float = 0.01) -> Tensor:
    return leaky_relu(input, negative_slope, inplace=True)


def hardtanh_(input, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    return hardtanh(input, min_val, max_val, inplace=True)


def threshold_(input, threshold: float, value: float) -> Tensor:
    return globals()["threshold"](input, threshold, value, inplace=True)


def celu_(input, alpha: float = 1.0) -> Tensor:
    return celu(input, alpha, inplace=True)


def selu_(input) -> Tensor:
    return selu(input, inplace=True)


def pdist(input, p: float = 2.0) -> Tensor:
    """The p-norm distances between the rows of (N, M) input, for every pair i < j, in
    row-major order: N·(N−1)/2 values."""
    return tensor_pdist(_input(input), p)


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None,
                                      margin: float = 1.0, swap: bool = False,
                                      reduction: str = "mean") -> Tensor:
    """max(d(a, p) − d(a, n) + margin, 0) with any distance ``d`` (pairwise_distance by
    default); ``swap`` uses min(d(a, n), d(p, n))."""
    op = "triplet_margin_with_distance_loss"
    _check_reduction(reduction, op)
    if margin <= 0:
        raise ValueError(f"{op}: margin must be greater than 0, got {margin}")
    dist = pairwise_distance if distance_function is None else distance_function
    d_pos = dist(anchor, positive)
    d_neg = dist(anchor, negative)
    if swap:
        d_neg = P.minimum(d_neg, dist(positive, negative))
    return _reduce(P.clip(P.add(P.sub(d_pos, d_neg), float(margin)), 0.0, None), reduction)


def lp_pool1d(input, norm_type: float, kernel_size: int, stride=None,
              ceil_mode: bool = False) -> Tensor:
    """(Σ x^p over each window)^(1/p) of (N, C, L) input (see ``lp_pool2d``)."""
    k = _ints(kernel_size, 1, "kernel_size", "lp_pool1d")[0]
    return _lp_pool(_input(input), float(norm_type), (k,), stride, ceil_mode, max_pool1d,
                    avg_pool1d)


def lp_pool2d(input, norm_type: float, kernel_size, stride=None,
              ceil_mode: bool = False) -> Tensor:
    """(Σ x^p over each window)^(1/p) of (N, C, H, W) input, as PyTorch computes it: the
    root of a negative sum is NaN unless p makes it real (p = 1 gives the plain sum), a
    window whose sum is 0 gives 0 with gradient 0, and p = ±inf is the largest / smallest
    |x| of each window."""
    kernel = _ints(kernel_size, 2, "kernel_size", "lp_pool2d")
    return _lp_pool(_input(input), float(norm_type), kernel, stride, ceil_mode, max_pool2d,
                    avg_pool2d)


def lp_pool3d(input, norm_type: float, kernel_size, stride=None,
              ceil_mode: bool = False) -> Tensor:
    """(Σ x^p over each window)^(1/p) of (N, C, D, H, W) input (see ``lp_pool2d``)."""
    kernel = _ints(kernel_size, 3, "kernel_size", "lp_pool3d")
    return _lp_pool(_input(input), float(norm_type), kernel, stride, ceil_mode, max_pool3d,
                    avg_pool3d)


def _lp_pool(x: Tensor, p: float, kernel: tuple, stride, ceil_mode: bool, max_pool,
             avg_pool) -> Tensor:
    window = kernel if len(kernel) > 1 else kernel[0]
    if p == np.inf:
        return max_pool(P.abs(x), window, stride, 0, 1, ceil_mode)
    if p == -np.inf:
        return P.neg(max_pool(P.neg(P.abs(x)), window, stride, 0, 1, ceil_mode))
    total = P.mul(avg_pool(P.pow(x, p), window, stride, 0, ceil_mode),
                  float(np.prod(kernel)))
    # PyTorch's relu before the root sends no gradient through a zero sum (the root's own
    # derivative is infinite there): the root is taken of 1 instead and its result dropped
    zero = total.array == 0
    if not zero.any():
        return P.pow(total, 1.0 / p)
    root = P.pow(P.where(zero, 1.0, total), 1.0 / p)
    return P.where(zero, 0.0, root)


def _max_unpool(x, indices, kernel_size, stride, padding, output_size, dims: int,
                op: str) -> Tensor:
    """Each value of ``x`` (N, C, *spatial) put back at its flat position ``indices``
    within the spatial output; zeros elsewhere."""
    x = _input(x)
    kernel = _ints(kernel_size, dims, "kernel_size", op)
    steps = kernel if stride is None else _ints(stride, dims, "stride", op)
    pads = _ints(padding, dims, "padding", op, 0)
    idx = indices.array if isinstance(indices, Tensor) else np.asarray(indices)
    if idx.shape != x.shape or x.ndim not in (dims + 1, dims + 2):
        layout = ("N, C, L", "N, C, H, W")[dims - 1]
        raise ValueError(f"{op}: expected input ({layout}) and indices of the same shape, "
                         f"got {x.shape} and {idx.shape}")
    spatial = x.shape[-dims:]
    if output_size is None:
        out_sizes = tuple((n - 1) * s - 2 * p + k
                          for n, s, p, k in zip(spatial, steps, pads, kernel))
    else:
        out_sizes = tuple(int(s) for s in tuple(output_size)[-dims:])
    inner, out_inner = int(np.prod(spatial)), int(np.prod(out_sizes))
    flat = P.reshape(x, (-1, inner))
    rows = np.repeat(np.arange(flat.shape[0]), inner)
    where = idx.reshape(-1).astype(np.int64)
    if where.size and (where.min() < 0 or where.max() >= out_inner):
        raise ValueError(f"{op}: an index {int(where.max())} is outside the output "
                         f"{'×'.join(map(str, out_sizes))}")
    # a position named twice (overlapping pooling windows sharing a max) is written, not
    # summed: the last value stays, as PyTorch's loop leaves it. (PyTorch's backward then
    # gathers the gradient into every duplicate; here only the value kept gets it, the
    # exact derivative.)
    target = rows * out_inner + where
    _, last_from_end = np.unique(target[::-1], return_index=True)
    keep = np.sort(target.size - 1 - last_from_end)
    values = P.reshape(flat, (-1,))
    if keep.size != target.size:
        values, rows, where = P.getitem(values, keep), rows[keep], where[keep]
    out = P.scatter_add(values, (flat.shape[0], out_inner), (rows, where))
    return P.reshape(out, x.shape[:-dims] + out_sizes)


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0,
                 output_size=None) -> Tensor:
    """Put each value of (N, C, L) ``input`` back at its position from
    ``max_pool1d(..., return_indices=True)``'s ``indices``; zeros elsewhere."""
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 1,
                       "max_unpool1d")


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0,
                 output_size=None) -> Tensor:
    """Put each value of (N, C, H, W) ``input`` back at its position from
    ``max_pool2d(..., return_indices=True)``'s ``indices``; zeros elsewhere."""
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 2,
                       "max_unpool2d")


__all__ += ["celu_", "elu_", "hardtanh_", "leaky_relu_", "lp_pool1d", "lp_pool2d", "lp_pool3d",
            "max_unpool1d", "max_unpool2d", "pdist", "relu_", "selu_", "threshold_",
            "triplet_margin_with_distance_loss"]


# ---------------------------------------------------------------------------
# spatial transformers: sampling grids and sampling
# ---------------------------------------------------------------------------
def _grid_axis(n: int, align_corners: bool, dtype) -> np.ndarray:
    """The normalized coordinates (−1 .. 1) of ``n`` pixel centres (or corners)."""
    if align_corners:
        return np.linspace(-1.0, 1.0, n, dtype=np.float64).astype(dtype) if n > 1 \
            else np.zeros(1, dtype)
    return ((2 * np.arange(n) + 1) / n - 1).astype(dtype)


def affine_grid(theta, size, align_corners: bool | None = None) -> Tensor:
    """The sampling grid of an affine map: (N, H, W, 2) for ``theta`` (N, 2, 3) and
    ``size`` (N, C, H, W), (N, D, H, W, 3) for (N, 3, 4) and a 5-D size: each output
    position's normalized source coordinates (x, y[, z]) = theta · (x, y[, z], 1)."""
    op = "affine_grid"
    t = _input(theta)
    size = tuple(int(s) for s in size)
    align = bool(align_corners)
    if len(size) == 4 and t.shape[1:] == (2, 3) and t.shape[0] == size[0]:
        n, _, h, w = size
        xs, ys = _grid_axis(w, align, t.array.dtype), _grid_axis(h, align, t.array.dtype)
        base = np.stack([np.tile(xs, h), np.repeat(ys, w), np.ones(h * w, t.array.dtype)], 1)
        out_shape = (n, h, w, 2)
    elif len(size) == 5 and t.shape[1:] == (3, 4) and t.shape[0] == size[0]:
        n, _, d, h, w = size
        dt = t.array.dtype
        zs, ys, xs = np.meshgrid(_grid_axis(d, align, dt), _grid_axis(h, align, dt),
                                 _grid_axis(w, align, dt), indexing="ij")
        base = np.stack([xs.ravel(), ys.ravel(), zs.ravel(), np.ones(d * h * w, dt)], 1)
        out_shape = (n, d, h, w, 3)
    else:
        raise ValueError(f"{op}: expected theta (N, 2, 3) with size (N, C, H, W), or theta "
                         f"(N, 3, 4) with size (N, C, D, H, W); got theta of shape {t.shape} "
                         f"and size {size}")
    grid = P.matmul(_constant_like(base, t), P.transpose(t, 1, 2))  # (N, points, 2|3)
    return P.reshape(grid, out_shape)


def _unnormalize(coord: Tensor, n: int, align: bool) -> Tensor:
    if align:
        return P.mul(P.add(coord, 1.0), (n - 1) / 2.0)
    return P.sub(P.mul(P.add(coord, 1.0), n / 2.0), 0.5)


def _reflect(coord: Tensor, lo: float, hi: float) -> Tensor:
    """``coord`` mirrored back into [lo, hi] as often as needed (differentiable)."""
    span = hi - lo
    if span <= 0:
        return P.mul(coord, 0.0)
    dist = P.abs(P.sub(coord, lo))
    flips = np.floor(dist.array / span)
    extra = P.sub(dist, _constant_like(flips * span, dist))
    even = (flips % 2) == 0
    return P.where(even, P.add(extra, lo), P.sub(hi, extra))


def grid_sample(input, grid, mode: str = "bilinear", padding_mode: str = "zeros",
                align_corners: bool | None = None) -> Tensor:
    """Sample (N, C, H, W) ``input`` at the normalized positions of ``grid`` (N, Ho, Wo,
    2) (x then y, −1 .. 1): 'bilinear', 'nearest' or 'bicubic'; outside the input 'zeros', the
    'border' value or the 'reflection'. Differentiable with respect to the input and
    the grid (the spatial transformer)."""
    op = "grid_sample"
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError(f"{op}: mode must be 'bilinear', 'nearest' or 'bicubic', got "
                         f"{mode!r}")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError(f"{op}: padding_mode must be 'zeros', 'border' or 'reflection', "
                         f"got {padding_mode!r}")
    x, g = _input(input), _input(grid)
    if x.ndim == 5:
        raise NotImplementedError(f"{op}: 5-D (volumetric) input is not supported; sample "
                                  "each depth slice with a 4-D grid")
    if x.ndim != 4 or g.ndim != 4 or g.shape[0] != x.shape[0] or g.shape[3] != 2:
        raise ValueError(f"{op}: expected input (N, C, H, W) and grid (N, Ho, Wo, 2), got "
                         f"{x.shape} and {g.shape}")
    if g.array.dtype != x.array.dtype:
        g = _like(g, x)
    align = bool(align_corners)
    n, c, h, w = x.shape
    _, ho, wo, _ = g.shape
    ix = _unnormalize(P.getitem(g, (Ellipsis, 0)), w, align)
    iy = _unnormalize(P.getitem(g, (Ellipsis, 1)), h, align)
    if mode == "bicubic":  # padding applies to each of the 4×4 taps, not to the position
        return _grid_sample_bicubic(x, ix, iy, padding_mode, align)
    if padding_mode == "reflection":
        lo_x, hi_x = (0.0, w - 1.0) if align else (-0.5, w - 0.5)
        lo_y, hi_y = (0.0, h - 1.0) if align else (-0.5, h - 0.5)
        ix, iy = _reflect(ix, lo_x, hi_x), _reflect(iy, lo_y, hi_y)
    if padding_mode in ("border", "reflection"):
        ix, iy = P.clip(ix, 0.0, w - 1.0), P.clip(iy, 0.0, h - 1.0)
    pixels = P.reshape(P.transpose(P.reshape(x, (n, c, h * w)), 1, 2), (n * h * w, c))
    batch = (np.arange(n) * (h * w)).reshape(n, 1, 1)

    def gather(yy: np.ndarray, xx: np.ndarray) -> Tensor:
        """input values at integer (yy, xx) (N, Ho, Wo) as (N, Ho, Wo, C); 0 outside."""
        inside = (yy >= 0) & (yy < h) & (xx >= 0) & (xx < w)
        flat = batch + np.clip(yy, 0, h - 1) * w + np.clip(xx, 0, w - 1)
        values = P.getitem(pixels, flat.reshape(-1))
        values = P.reshape(values, (n, ho, wo, c))
        if inside.all():
            return values
        return P.mul(values, _constant_like(inside[..., None].astype(x.array.dtype), x))

    if mode == "nearest":
        out = gather(np.rint(iy.array).astype(np.int64), np.rint(ix.array).astype(np.int64))
    else:
        x0 = np.floor(ix.array).astype(np.int64)
        y0 = np.floor(iy.array).astype(np.int64)
        wx1 = P.sub(ix, _constant_like(x0.astype(x.array.dtype), ix))
        wy1 = P.sub(iy, _constant_like(y0.astype(x.array.dtype), iy))
        wx0, wy0 = P.sub(1.0, wx1), P.sub(1.0, wy1)
        out = None
        for yy, wy in ((y0, wy0), (y0 + 1, wy1)):
            for xx, wx in ((x0, wx0), (x0 + 1, wx1)):
                term = P.mul(gather(yy, xx), P.reshape(P.mul(wy, wx), (n, ho, wo, 1)))
                out = term if out is None else P.add(out, term)
    return P.permute(out, 0, 3, 1, 2)


def _cubic_tap_weights(t: Tensor) -> list:
    """The weights (Tensors, differentiable in t) of the taps at offsets −1, 0, 1, 2 from
    floor(position), t the fractional part: PyTorch's cubic convolution (A = −0.75)."""
    a = _CUBIC_A

    def near(d):  # |d| ≤ 1
        return P.add(P.mul(P.mul(P.sub(P.mul(d, a + 2), a + 3), d), d), 1.0)

    def far(d):  # 1 < |d| < 2
        return P.sub(P.mul(P.add(P.mul(P.sub(P.mul(d, a), 5 * a), d), 8 * a), d), 4 * a)

    return [far(P.add(t, 1.0)), near(t), near(P.sub(1.0, t)), far(P.sub(2.0, t))]


def _tap_coordinates(coord: np.ndarray, size: int, padding_mode: str,
                     align: bool) -> np.ndarray:
    """Integer tap positions moved in by the padding mode (PyTorch's compute_coordinates:
    clamp for 'border', mirror then clamp for 'reflection'; 'zeros' leaves them, and
    positions outside read 0)."""
    c = coord.astype(np.float64)
    if padding_mode == "reflection":
        low, span = (0.0, size - 1.0) if align else (-0.5, float(size))
        if span <= 0:
            c = np.zeros_like(c)
        else:
            dist = np.abs(c - low)
            flips = np.floor(dist / span)
            extra = np.fmod(dist, span)
            c = np.where(flips % 2 == 0, extra + low, span - extra + low)
    if padding_mode in ("border", "reflection"):
        c = np.clip(c, 0, size - 1)
    return np.trunc(c).astype(np.int64)


def _grid_sample_bicubic(x: Tensor, ix: Tensor, iy: Tensor, padding_mode: str,
                         align: bool) -> Tensor:
    n, c, h, w = x.shape
    _, ho, wo = ix.shape
    x0, y0 = np.floor(ix.array), np.floor(iy.array)
    wx = _cubic_tap_weights(P.sub(ix, _constant_like(x0.astype(x.array.dtype), ix)))
    wy = _cubic_tap_weights(P.sub(iy, _constant_like(y0.astype(x.array.dtype), iy)))
    pixels = P.reshape(P.transpose(P.reshape(x, (n, c, h * w)), 1, 2), (n * h * w, c))
    batch = (np.arange(n) * (h * w)).reshape(n, 1, 1)
    out = None
    for k in range(4):
        yy = _tap_coordinates(y0 - 1 + k, h, padding_mode, align)
        for j in range(4):
            xx = _tap_coordinates(x0 - 1 + j, w, padding_mode, align)
            inside = (yy >= 0) & (yy < h) & (xx >= 0) & (xx < w)
            flat = batch + np.clip(yy, 0, h - 1) * w + np.clip(xx, 0, w - 1)
            values = P.reshape(P.getitem(pixels, flat.reshape(-1)), (n, ho, wo, c))
            weight = P.mul(wy[k], wx[j])
            if not inside.all():
                weight = P.mul(weight, _constant_like(inside.astype(x.array.dtype), x))
            term = P.mul(values, P.reshape(weight, (n, ho, wo, 1)))
            out = term if out is None else P.add(out, term)
    return P.permute(out, 0, 3, 1, 2)


__all__ += ["affine_grid", "grid_sample"]


# ---------------------------------------------------------------------------
# volumes (N, C, D, H, W): the 2-D kernels applied per depth slice and combined over
# the kernel's depth, so every gradient comes from the 2-D ops' rules
# ---------------------------------------------------------------------------
def _slices_as_batch(x: Tensor, start: int, count: int, step: int) -> Tensor:
    """Depth slices start, start + step, ... (``count`` of them) of (N, C, D, H, W) as one
    (N·count, C, H, W) batch."""
    n, c, _, h, w = x.shape
    part = P.getitem(x, (slice(None), slice(None), slice(start, start + (count - 1) * step + 1,
                                                         step)))
    return P.reshape(P.transpose(part, 1, 2), (n * count, c, h, w))


def _batch_as_volume(y: Tensor, n: int, count: int) -> Tensor:
    """(N·count, C, H, W) back to (N, C, count, H, W)."""
    return P.transpose(P.reshape(y, (n, count) + y.shape[1:]), 1, 2)


def _pad_depth(x: Tensor, before: int, after: int, value: float) -> Tensor:
    if before == after == 0:
        return x
    n, c, _, h, w = x.shape
    parts = []
    if before:
        parts.append(_constant_like(np.full((n, c, before, h, w), value, x.array.dtype), x))
    parts.append(x)
    if after:
        parts.append(_constant_like(np.full((n, c, after, h, w), value, x.array.dtype), x))
    return P.concatenate(parts, axis=2)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1,
           groups: int = 1) -> Tensor:
    """3-D convolution of (N, C, D, H, W) input with weight (O, C/groups, kd, kh, kw):
    Σ over the kernel's depth of 2-D convolutions of the matching depth slices."""
    op = "conv3d"
    weight = weight if isinstance(weight, Tensor) else _input(weight)
    if weight.ndim != 5:
        raise ValueError(f"{op}: weight must be 5-D (out_channels, in_channels/groups, kd, "
                         f"kh, kw), got shape {weight.shape}")
    x, unbatched = _spatial_input(input, 3, weight, op, "(N, C, D, H, W)")
    kd, kh, kw = weight.shape[2:]
    stride = _ints(stride, 3, "stride", op)
    dilation = _ints(dilation, 3, "dilation", op)
    pads = _conv_padding(padding, (kd, kh, kw), dilation, stride, op)
    if x.shape[1] != weight.shape[1] * int(groups):
        raise ValueError(f"{op}: expected input with {weight.shape[1] * int(groups)} channels "
                         f"(weight of shape {weight.shape}, groups={groups}), got "
                         f"{x.shape[1]} (input of shape {x.shape})")
    x = _pad_depth(x, pads[0][0], pads[0][1], 0.0)
    n, d = x.shape[0], x.shape[2]
    out_d = (d - dilation[0] * (kd - 1) - 1) // stride[0] + 1
    if out_d < 1:
        raise ValueError(f"{op}: the kernel depth {dilation[0] * (kd - 1) + 1} (with dilation) "
                         f"is larger than the padded input depth {d}")
    inner = ((pads[1], pads[2]) if any(p[0] != p[1] for p in pads[1:])
             else (pads[1][0], pads[2][0]))
    total = None
    for k in range(kd):
        batch = _slices_as_batch(x, k * dilation[0], out_d, stride[0])
        w2 = P.getitem(weight, (slice(None), slice(None), k))
        if isinstance(inner[0], tuple):  # 'same' with an odd extra: pad here
            batch = pad(batch, (inner[1][0], inner[1][1], inner[0][0], inner[0][1]))
            y = conv2d(batch, w2, None, stride[1:], 0, dilation[1:], groups)
        else:
            y = conv2d(batch, w2, None, stride[1:], inner, dilation[1:], groups)
        total = y if total is None else P.add(total, y)
    y = _batch_as_volume(total, n, out_d)
    if bias is not None:
        b = bias if isinstance(bias, Tensor) else _like(bias, weight)
        y = P.add(y, P.reshape(b, (1, -1, 1, 1, 1)))
    return P.reshape(y, y.shape[1:]) if unbatched else y


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups: int = 1, dilation=1) -> Tensor:
    """Transposed 3-D convolution of (N, C_in, D, H, W) input with weight (C_in,
    C_out/groups, kd, kh, kw): each kernel depth's 2-D transposed convolution of every
    depth slice, added at depth d·stride + k·dilation, then cropped by ``padding``."""
    op = "conv_transpose3d"
    weight = weight if isinstance(weight, Tensor) else _input(weight)
    if weight.ndim != 5:
        raise ValueError(f"{op}: weight must be 5-D (in_channels, out_channels/groups, kd, "
                         f"kh, kw), got shape {weight.shape}")
    x, unbatched = _spatial_input(input, 3, weight, op, "(N, C, D, H, W)")
    if x.shape[1] != weight.shape[0]:
        raise ValueError(f"{op}: expected input with {weight.shape[0]} channels (weight of "
                         f"shape {weight.shape}), got {x.shape[1]}")
    kd = weight.shape[2]
    stride = _ints(stride, 3, "stride", op)
    dilation = _ints(dilation, 3, "dilation", op)
    pad3 = _ints(padding, 3, "padding", op, 0)
    extra = _ints(output_padding, 3, "output_padding", op, 0)
    n, _, d = x.shape[:3]
    full_d = (d - 1) * stride[0] + dilation[0] * (kd - 1) + 1 + extra[0]
    out_d = full_d - 2 * pad3[0]
    if out_d < 1:
        raise ValueError(f"{op}: the output depth {out_d} is not positive")
    batch = _slices_as_batch(x, 0, d, 1)
    total = None
    for k in range(kd):
        y = conv_transpose2d(batch, P.getitem(weight, (slice(None), slice(None), k)), None,
                             stride[1:], pad3[1:], extra[1:], groups, dilation[1:])
        y = _batch_as_volume(y, n, d)  # (N, O, D, Ho, Wo)
        where = np.arange(d) * stride[0] + k * dilation[0]
        shape = y.shape[:2] + (full_d,) + y.shape[3:]
        placed = P.scatter_add(y, shape, (slice(None), slice(None), where))
        total = placed if total is None else P.add(total, placed)
    out = P.getitem(total, (slice(None), slice(None), slice(pad3[0], pad3[0] + out_d)))
    if bias is not None:
        b = bias if isinstance(bias, Tensor) else _like(bias, weight)
        out = P.add(out, P.reshape(b, (1, -1, 1, 1, 1)))
    return P.reshape(out, out.shape[1:]) if unbatched else out


def _depth_windows(op: str, d: int, kernel: int, stride: int, padding: int, dilation: int,
                   ceil_mode: bool) -> tuple:
    out = _pool_size(d, kernel, stride, padding, dilation, ceil_mode)
    if out < 1:
        raise ValueError(f"{op}: the pooling window depth {dilation * (kernel - 1) + 1} is "
                         f"larger than the padded input depth {d + 2 * padding}")
    needed = (out - 1) * stride + dilation * (kernel - 1) + 1  # padded depth the windows read
    return out, max(needed - d - padding, 0)


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1,
               ceil_mode: bool = False, return_indices: bool = False) -> Tensor:
    """The maximum of each window of (N, C, D, H, W) input: 2-D max pooling of the depth
    slices, then the maximum over the window's depth."""
    op = "max_pool3d"
    if return_indices:
        raise NotImplementedError(f"{op}: return_indices is not supported for volumes")
    x, unbatched = _spatial_input(input, 3, None, op, "(N, C, D, H, W)")
    k = _ints(kernel_size, 3, "kernel_size", op)
    s = k if stride is None else _ints(stride, 3, "stride", op)
    p = _ints(padding, 3, "padding", op, 0)
    dl = _ints(dilation, 3, "dilation", op)
    out_d, after = _depth_windows(op, x.shape[2], k[0], s[0], p[0], dl[0], ceil_mode)
    x = _pad_depth(x, p[0], after, -np.inf)
    n = x.shape[0]
    best = None
    for j in range(k[0]):
        y = max_pool2d(_slices_as_batch(x, j * dl[0], out_d, s[0]), k[1:], s[1:], p[1:], dl[1:],
                       ceil_mode)
        best = y if best is None else P.maximum(best, y)
    y = _batch_as_volume(best, n, out_d)
    return P.reshape(y, y.shape[1:]) if unbatched else y


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override=None) -> Tensor:
    """The mean of each window of (N, C, D, H, W) input, with PyTorch's divisors (as
    ``avg_pool2d``)."""
    op = "avg_pool3d"
    x, unbatched = _spatial_input(input, 3, None, op, "(N, C, D, H, W)")
    k = _ints(kernel_size, 3, "kernel_size", op)
    s = k if stride is None else _ints(stride, 3, "stride", op)
    p = _ints(padding, 3, "padding", op, 0)
    d, h, w = x.shape[2:]
    out_d, after = _depth_windows(op, d, k[0], s[0], p[0], 1, ceil_mode)
    xp = _pad_depth(x, p[0], after, 0.0)
    n = x.shape[0]
    total = None
    for j in range(k[0]):
        y = avg_pool2d(_slices_as_batch(xp, j, out_d, s[0]), k[1:], s[1:], p[1:], ceil_mode,
                       True, 1)  # window sums
        total = y if total is None else P.add(total, y)
    total = _batch_as_volume(total, n, out_d)
    if divisor_override is not None:
        if int(divisor_override) == 0:
            raise ValueError(f"{op}: divisor_override must not be 0")
        y = P.div(total, float(divisor_override))
    else:
        counts = []
        for size, no, kk, ss, pp in zip((d, h, w), total.shape[2:], k, s, p):
            start = np.arange(no) * ss - pp
            end = np.minimum(start + kk, size + pp)
            if not count_include_pad:
                start, end = np.maximum(start, 0), np.minimum(end, size)
            counts.append(end - start)
        divisor = np.einsum("i,j,k->ijk", *counts).astype(x.array.dtype)
        y = P.div(total, _constant_like(divisor, total))
    return P.reshape(y, y.shape[1:]) if unbatched else y


def adaptive_avg_pool3d(input, output_size) -> Tensor:
    """Average over PyTorch's adaptive bins of (N, C, D, H, W) input."""
    op = "adaptive_avg_pool3d"
    x, unbatched = _spatial_input(input, 3, None, op, "(N, C, D, H, W)")
    size = _adaptive_size(output_size, x, op, n=3)
    y = interpolate(x, size=size, mode="area")
    return P.reshape(y, y.shape[1:]) if unbatched else y


def adaptive_max_pool3d(input, output_size, return_indices: bool = False) -> Tensor:
    """Maximum over PyTorch's adaptive bins of (N, C, D, H, W) input."""
    op = "adaptive_max_pool3d"
    if return_indices:
        raise NotImplementedError(f"{op}: return_indices is not supported for volumes")
    x, unbatched = _spatial_input(input, 3, None, op, "(N, C, D, H, W)")
    do, ho, wo = _adaptive_size(output_size, x, op, n=3)
    d = x.shape[2]
    planes = []
    for i in range(do):
        lo, hi = (i * d) // do, -((-(i + 1) * d) // do)
        best = None
        for j in range(lo, hi):
            y = adaptive_max_pool2d(P.getitem(x, (slice(None), slice(None), j)), (ho, wo))
            best = y if best is None else P.maximum(best, y)
        planes.append(best)
    y = C.stack(planes, 2)
    return P.reshape(y, y.shape[1:]) if unbatched else y


__all__ += ["adaptive_avg_pool3d", "adaptive_max_pool3d", "avg_pool3d", "conv3d",
            "conv_transpose3d", "max_pool3d"]


# PyTorch's other spellings: the *_with_indices pools (return_indices=True) and the
# deprecated upsample functions (interpolate with their modes)
def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode: bool = False, return_indices: bool = True):
    return max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode: bool = False, return_indices: bool = True):
    return max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool3d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode: bool = False, return_indices: bool = True):
    return max_pool3d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def adaptive_max_pool1d_with_indices(input, output_size, return_indices: bool = True):
    return adaptive_max_pool1d(input, output_size, True)


def adaptive_max_pool2d_with_indices(input, output_size, return_indices: bool = True):
    return adaptive_max_pool2d(input, output_size, True)


def adaptive_max_pool3d_with_indices(input, output_size, return_indices: bool = True):
    return adaptive_max_pool3d(input, output_size, True)


def upsample(input, size=None, scale_factor=None, mode: str = "nearest",
             align_corners: bool | None = None) -> Tensor:
    """PyTorch's deprecated name of ``interpolate``."""
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None) -> Tensor:
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None) -> Tensor:
    """``interpolate(mode="bilinear", align_corners=True)``, as PyTorch's."""
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


__all__ += ["adaptive_max_pool1d_with_indices", "adaptive_max_pool2d_with_indices",
            "adaptive_max_pool3d_with_indices", "max_pool1d_with_indices",
            "max_pool2d_with_indices", "max_pool3d_with_indices", "upsample",
            "upsample_bilinear", "upsample_nearest"]


# PyTorch's functional names that chainrule does not have, with the nearest thing it has
_NOT_IN_CHAINRULE = {
    "fractional_max_pool2d": "F.max_pool2d or F.adaptive_max_pool2d (fractional pooling "
                             "draws random regions)",
    "fractional_max_pool3d": "F.max_pool3d or F.adaptive_max_pool3d",
    "max_unpool3d": "F.max_unpool1d / max_unpool2d",
    "rrelu_": "F.rrelu(x, training=..., inplace=True)",
    "linear_cross_entropy": "F.cross_entropy(F.linear(x, weight, bias), target)",
    "conv_tbc": "F.conv1d on x.permute(1, 2, 0) (time-batch-channel to batch-channel-time)",
}


def missing_name(module: str, name: str, nearest: dict) -> AttributeError:
    """The error for ``chainrule.<module>.<name>``, naming the nearest thing chainrule has
    when ``nearest`` (PyTorch's names chainrule lacks) knows the name."""
    message = f"module 'chainrule.{module}' has no attribute {name!r}"
    if name in nearest:
        message += (f": PyTorch's torch.{module}.{name} is not part of chainrule; the nearest: "
                    f"{nearest[name]} (see docs/layers.md)")
    return AttributeError(message)


def __getattr__(name: str):
    raise missing_name("nn.functional", name, _NOT_IN_CHAINRULE)
