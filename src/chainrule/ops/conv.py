"""Convolution and pooling on BLAS: im2col by strided slices, one matrix product per layer.

Layout. The public layout is PyTorch's NCHW. Internally every kernel works channels-last
(NHWC): a window of the input is then ``kh·kw`` runs of C contiguous values, the matrix
product ``cols (N·Ho·Wo, kh·kw·C) @ W (kh·kw·C, O)`` writes its result directly in NHWC,
and the bias is one contiguous add. The output handed back is the NCHW *view*
``out.transpose(0, 3, 1, 2)`` of that NHWC array (no copy): elementwise ops keep its
memory order, the next convolution or pooling reads it as NHWC for free, and only a
reshape into a flat vector (``Flatten``) makes one copy in NCHW order, as it must.

The three array kernels (one GEMM each) serve both convolution and its transpose:

* ``_conv_forward``     x, W -> y          im2col then GEMM (plus bias)
* ``_conv_input_grad``  g, W -> dx         GEMM then col2im (slice-adds)
* ``_conv_weight_grad`` cols(x), g -> dW   GEMM

``conv_transpose2d`` is ``_conv_input_grad`` run forward, so its backward is
``_conv_forward`` (input) and ``_conv_weight_grad`` (weight) with the roles swapped.

im2col without a padded copy: for each kernel tap (i, j) the output positions whose
input pixel lies inside the image form one rectangle, found by arithmetic
(``_taps``); the tap's column block is one strided slice assignment from the input,
and only the rectangle's complement (the padding) is zeroed. col2im is the same slices
read backwards, as ``+=``.

Arrays may be NumPy or CuPy (every call here dispatches on the array type; new arrays
come from ``backend.namespace``).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .. import backend
from .._tensor import Tensor, is_grad_enabled, record
from . import primitives as P
from .primitives import ARRAYS
from .registry import Op

# the tensor module itself: its grad-mode flag must be read live


class Geometry(NamedTuple):
    """Kernel size, stride, padding (before, after) and dilation along H and W, and
    the number of groups: everything that maps output positions to input positions."""

    kh: int
    kw: int
    sh: int
    sw: int
    ph: tuple  # (top, bottom)
    pw: tuple  # (left, right)
    dh: int
    dw: int
    groups: int = 1

    def out_size(self, h: int, w: int) -> tuple[int, int]:
        """Output height and width of a convolution of an h×w input (may be ≤ 0)."""
        ho = (h + self.ph[0] + self.ph[1] - self.dh * (self.kh - 1) - 1) // self.sh + 1
        wo = (w + self.pw[0] + self.pw[1] - self.dw * (self.kw - 1) - 1) // self.sw + 1
        return ho, wo


def _taps(n_in: int, n_out: int, k: int, stride: int, pad: int, dil: int) -> list:
    """Per kernel tap i: (out_lo, out_hi, in_lo), the output positions o in
    [out_lo, out_hi) whose input o·stride - pad + i·dil lies inside [0, n_in), and the
    input position of out_lo. Positions outside are padding (zeros)."""
    spans = []
    for i in range(k):
        off = i * dil - pad
        lo = 0 if off >= 0 else (-off + stride - 1) // stride
        hi = min(n_out, (n_in - 1 - off) // stride + 1) if n_in - 1 - off >= 0 else 0
        hi = max(hi, lo)
        spans.append((lo, hi, lo * stride + off))
    return spans


def _src(lo: int, hi: int, start: int, stride: int) -> slice:
    """The input slice read by output positions [lo, hi)."""
    return slice(start, start + (hi - lo - 1) * stride + 1, stride)


def im2col(x: np.ndarray, geom: Geometry, ho: int, wo: int) -> np.ndarray:
    """Windows of ``x`` (N, H, W, G, Cg) as an array (N, Ho, Wo, G, kh, kw, Cg): element
    [n, oh, ow, g, i, j, c] is the input pixel tap (i, j) of output (oh, ow) reads,
    0 in the padding."""
    n, h, w, groups, cg = x.shape
    xp = backend.namespace(x)
    cols = xp.empty((n, ho, wo, groups, geom.kh, geom.kw, cg), dtype=x.dtype)
    rows = _taps(h, ho, geom.kh, geom.sh, geom.ph[0], geom.dh)
    columns = _taps(w, wo, geom.kw, geom.sw, geom.pw[0], geom.dw)
    for i, (r_lo, r_hi, r_in) in enumerate(rows):
        for j, (c_lo, c_hi, c_in) in enumerate(columns):
            tap = cols[:, :, :, :, i, j, :]
            # zero the padding: the rows and columns outside this tap's rectangle
            if r_lo > 0:
                tap[:, :r_lo] = 0
            if r_hi < ho:
                tap[:, r_hi:] = 0
            if c_lo > 0:
                tap[:, r_lo:r_hi, :c_lo] = 0
            if c_hi < wo:
                tap[:, r_lo:r_hi, c_hi:] = 0
            if r_hi > r_lo and c_hi > c_lo:
                tap[:, r_lo:r_hi, c_lo:c_hi] = x[:, _src(r_lo, r_hi, r_in, geom.sh),
                                                   _src(c_lo, c_hi, c_in, geom.sw)]
    return cols


def col2im(cols: np.ndarray, geom: Geometry, h: int, w: int) -> np.ndarray:
    """The adjoint of ``im2col``: each window entry of ``cols`` (N, Ho, Wo, G, kh, kw,
    Cg) is added back onto the input pixel it was read from; returns (N, H, W, G, Cg)."""
    n, ho, wo, groups, _, _, cg = cols.shape
    xp = backend.namespace(cols)
    out = xp.zeros((n, h, w, groups, cg), dtype=cols.dtype)
    rows = _taps(h, ho, geom.kh, geom.sh, geom.ph[0], geom.dh)
    columns = _taps(w, wo, geom.kw, geom.sw, geom.pw[0], geom.dw)
    for i, (r_lo, r_hi, r_in) in enumerate(rows):
        for j, (c_lo, c_hi, c_in) in enumerate(columns):
            if r_hi > r_lo and c_hi > c_lo:
                out[:, _src(r_lo, r_hi, r_in, geom.sh), _src(c_lo, c_hi, c_in, geom.sw)] += \
                    cols[:, r_lo:r_hi, c_lo:c_hi, :, i, j, :]
    return out


# ---------------------------------------------------------------------------
# the three GEMM kernels (NHWC arrays; weights in PyTorch's (O, Cg, kh, kw) layout)
# ---------------------------------------------------------------------------
def _weight_matrix(w: np.ndarray, groups: int) -> np.ndarray:
    """(O, Cg, kh, kw) -> (G, kh·kw·Cg, O/G): the kernel as the right factor of the GEMM
    (a small copy; the kernel is tiny next to the activations)."""
    o, cg, kh, kw = w.shape
    return w.reshape(groups, o // groups, cg, kh, kw).transpose(0, 3, 4, 2, 1).reshape(
        groups, kh * kw * cg, o // groups)


def _gemm_groups(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(M, G, K) @ (G, K, P) -> (M, G, P): one plain GEMM when G = 1."""
    m, groups, k = a.shape
    if groups == 1:
        return (a.reshape(m, k) @ b[0]).reshape(m, 1, b.shape[2])
    xp = backend.namespace(a)
    return xp.matmul(a.transpose(1, 0, 2), b).transpose(1, 0, 2)


def _conv_forward(x: np.ndarray, w: np.ndarray, bias, geom: Geometry, keep_cols: bool,
                  out_hw: tuple | None = None):
    """x (N, H, W, C) NHWC, w (O, Cg, kh, kw) -> y (N, Ho, Wo, O) NHWC, and the im2col
    matrix (for the weight gradient) when ``keep_cols``. ``out_hw`` overrides the output
    size (a transposed convolution's backward: its input size, whatever the padding)."""
    n, h, wd, c = x.shape
    groups = geom.groups
    ho, wo = geom.out_size(h, wd) if out_hw is None else out_hw
    cols = im2col(x.reshape(n, h, wd, groups, c // groups), geom, ho, wo)
    m = n * ho * wo
    o = w.shape[0]
    y = _gemm_groups(cols.reshape(m, groups, -1), _weight_matrix(w, groups))
    y = y.reshape(n, ho, wo, o)
    if groups > 1:  # the batched product's (M, G, P) result is a transposed view
        y = backend.namespace(y).ascontiguousarray(y)
    if bias is not None:
        y += bias
    return y, (cols if keep_cols else None)


def _conv_input_grad(g: np.ndarray, w: np.ndarray, geom: Geometry, h: int, wd: int):
    """dL/dx (N, H, W, C) of a convolution, from g = dL/dy (N, Ho, Wo, O): dcols = g Wᵀ
    then col2im."""
    n, ho, wo, o = g.shape
    groups = geom.groups
    cg = w.shape[1]
    wm = _weight_matrix(w, groups)  # (G, K, Og)
    g3 = g.reshape(n * ho * wo, groups, o // groups)
    dcols = _gemm_groups(g3, wm.transpose(0, 2, 1))  # (M, G, K)
    dcols = dcols.reshape(n, ho, wo, groups, geom.kh, geom.kw, cg)
    return col2im(dcols, geom, h, wd).reshape(n, h, wd, groups * cg)


def _conv_weight_grad(cols: np.ndarray, g: np.ndarray, geom: Geometry, w_shape: tuple):
    """dL/dW (O, Cg, kh, kw) from the im2col matrix of x and g = dL/dy (N, Ho, Wo, O)."""
    o, cg, kh, kw = w_shape
    groups = geom.groups
    og = o // groups
    m = g.shape[0] * g.shape[1] * g.shape[2]
    g3 = g.reshape(m, groups, og)
    c3 = cols.reshape(m, groups, kh * kw * cg)
    # colsᵀ g (K, O) rather than gᵀ cols: measured 1.3-1.5x faster with OpenBLAS here
    if groups == 1:
        gw = (c3.reshape(m, -1).T @ g3.reshape(m, og)).reshape(1, -1, og)
    else:
        xp = backend.namespace(g)
        gw = xp.matmul(c3.transpose(1, 2, 0), g3.transpose(1, 0, 2))  # (G, K, Og)
    # (G, kh, kw, Cg, Og) -> (G, Og, Cg, kh, kw) = (O, Cg, kh, kw)
    return gw.reshape(groups, kh, kw, cg, og).transpose(0, 4, 3, 1, 2).reshape(
        o, cg, kh, kw).copy()


def _bias_grad(g: np.ndarray) -> np.ndarray:
    """Σ of g (N, Ho, Wo, O) over everything but the channel: a BLAS product 1ᵀ G."""
    o = g.shape[-1]
    g2 = g.reshape(-1, o)
    xp = backend.namespace(g)
    return xp.ones(g2.shape[0], dtype=g.dtype) @ g2


def nhwc(x: np.ndarray) -> np.ndarray:
    """An NCHW array as NHWC: a free view when its memory is channels-last already."""
    return x.transpose(0, 2, 3, 1)


def nchw(y: np.ndarray) -> np.ndarray:
    """An NHWC array presented in the public NCHW layout (a view, no copy)."""
    return y.transpose(0, 3, 1, 2)


def _rows_of(a: np.ndarray) -> np.ndarray:
    """NHWC ``a`` as C-contiguous memory (the GEMMs reshape it into rows)."""
    return a if a.flags.c_contiguous else backend.namespace(a).ascontiguousarray(a)


# ---------------------------------------------------------------------------
# max pooling: the first arg-max of each window (as PyTorch) gets the gradient
# ---------------------------------------------------------------------------
def pool_windows(x: np.ndarray, geom: Geometry, ho: int, wo: int, fill) -> tuple:
    """x (N, C, H, W) padded with ``fill`` where the windows reach outside it; returns the
    padded array and, per kernel tap in row-major order, the (N, C, Ho, Wo) strided view
    of the values that tap sees."""
    n, c, h, w = x.shape
    need_h = (ho - 1) * geom.sh + geom.dh * (geom.kh - 1) + 1
    need_w = (wo - 1) * geom.sw + geom.dw * (geom.kw - 1) + 1
    top, left = geom.ph[0], geom.pw[0]
    bottom = max(0, need_h - h - top)
    right = max(0, need_w - w - left)
    if top or left or bottom or right:
        xp = backend.namespace(x)
        # allocate in x's memory order (channels-last stays channels-last)
        shape_nhwc = (n, h + top + bottom, w + left + right, c)
        if x.strides[1] < x.strides[3]:  # channels are the innermost axis
            padded = nchw(xp.full(shape_nhwc, fill, dtype=x.dtype))
        else:
            padded = xp.full((n, c) + shape_nhwc[1:3], fill, dtype=x.dtype)
        padded[:, :, top:top + h, left:left + w] = x
    else:
        padded = x
    views = []
    for i in range(geom.kh):
        for j in range(geom.kw):
            views.append(padded[:, :, i * geom.dh: i * geom.dh + (ho - 1) * geom.sh + 1: geom.sh,
                                j * geom.dw: j * geom.dw + (wo - 1) * geom.sw + 1: geom.sw])
    return padded, views


def max_pool_forward(x: np.ndarray, geom: Geometry, ho: int, wo: int, want_index: bool):
    """The window maxima (NaN if the window holds a NaN, as PyTorch) and, when
    ``want_index``, the tap index (uint8/int16) of each window's first maximum."""
    _, views = pool_windows(x, geom, ho, wo, -np.inf)
    xp = backend.namespace(x)
    out = xp.empty_like(views[0])  # keeps the input's memory order
    out[...] = views[0]
    for v in views[1:]:
        xp.maximum(out, v, out=out)
    if not want_index:
        return out, None
    dt = np.uint8 if len(views) < 256 else np.uint16
    index = xp.zeros_like(out, dtype=dt)
    # index = t where tap t holds the maximum, walking the taps backwards so that the
    # first such tap wins. Written as index += hit·(t - index) in wrapping unsigned
    # arithmetic: three passes over a 1-byte array (a masked copyto is 10x slower).
    tmp = xp.empty_like(index)
    hit = xp.empty_like(out, dtype=bool)
    for t in range(len(views) - 1, -1, -1):
        xp.equal(views[t], out, out=hit)
        xp.subtract(dt(t), index, out=tmp)
        tmp *= hit
        index += tmp
    if out.dtype.kind == "f" and bool(xp.isnan(out.sum())):
        _nan_argmax(views, index, xp)
    return out, index


def _nan_argmax(views: list, index: np.ndarray, xp) -> None:
    """Where a window holds a NaN, PyTorch's scan (update on ``v > best or isnan(v)``)
    ends on the window's last NaN: set those indices (the rare, slow path)."""
    for t, v in enumerate(views):
        nan = xp.isnan(v)
        index[nan] = t


def max_pool_backward(g: np.ndarray, index: np.ndarray, geom: Geometry, in_shape: tuple
                      ) -> np.ndarray:
    """Route each window's gradient to the input of its first arg-max."""
    n, c, h, w = in_shape
    ho, wo = index.shape[2], index.shape[3]
    xp = backend.namespace(g)
    need_h = (ho - 1) * geom.sh + geom.dh * (geom.kh - 1) + 1
    need_w = (wo - 1) * geom.sw + geom.dw * (geom.kw - 1) + 1
    top, left = geom.ph[0], geom.pw[0]
    hp = max(h + top, need_h)
    wp = max(w + left, need_w)
    span_h, span_w = geom.dh * (geom.kh - 1) + 1, geom.dw * (geom.kw - 1) + 1
    overlap = geom.sh < span_h or geom.sw < span_w
    # windows that tile the input exactly (kernel = stride, no padding, no remainder)
    # write every input once: no zero fill needed
    tiles = geom.sh == span_h == geom.kh and geom.sw == span_w == geom.kw and \
        (hp, wp) == (h, w) == (ho * geom.sh, wo * geom.sw) and top == left == 0
    alloc = xp.empty if tiles else xp.zeros
    if index.strides[1] < index.strides[3]:  # channels-last, as the forward's input
        gx = nchw(alloc((n, hp, wp, c), dtype=g.dtype))
    else:
        gx = alloc((n, c, hp, wp), dtype=g.dtype)
    hit = xp.empty_like(index, dtype=bool)
    t = 0
    for i in range(geom.kh):
        for j in range(geom.kw):
            dst = gx[:, :, i * geom.dh: i * geom.dh + (ho - 1) * geom.sh + 1: geom.sh,
                     j * geom.dw: j * geom.dw + (wo - 1) * geom.sw + 1: geom.sw]
            xp.equal(index, index.dtype.type(t), out=hit)
            if overlap:
                dst += g * hit
            else:  # each input pixel lies in at most one window: write, do not add
                xp.multiply(g, hit, out=dst)
            t += 1
    return gx[:, :, top:top + h, left:left + w]


# ===========================================================================
# the recorded ops (arguments are checked by chainrule.nn.functional)
#
# Convolution, its transpose and its weight gradient are three bilinear maps, each
# the others' adjoint, so every rule is written with the other two and the whole family
# differentiates to any order (create_graph=True runs the same three ops recorded).
# ===========================================================================
def _geom_case(shape, w_shape, geom: Geometry, bias: bool = True, **kwargs):
    """A gradcheck case for conv2d: (x, w, b, geom) drawn by the registry's table."""
    def make(rng):
        args = [rng.standard_normal(shape), rng.standard_normal(w_shape)]
        args.append(rng.standard_normal(w_shape[0]) if bias else None)
        return (*args, geom), kwargs
    return make


_G1 = Geometry(3, 3, 1, 1, (1, 1), (1, 1), 1, 1)
_G2 = Geometry(3, 2, 2, 1, (1, 0), (0, 1), 1, 2, 2)  # stride, asymmetric pad, dilation, groups


def _conv2d_vjp(F, g, ans, ctx, x, w, b=None):
    # y = im2col(x) Wᵀ + b  =>  dx = col2im(g W),  dW = gᵀ im2col(x),  db = Σ g
    geom, cols, needs, mask = ctx
    if mask is not None:  # the fused ReLU: its mask scales the adjoint first
        g = g * mask
    gx = gw = gb = None
    if F is not ARRAYS:
        if needs[0]:
            gx = conv_transpose2d(g, w, None, geom, x.shape[2:])
        if needs[1]:
            gw = conv2d_weight(x, g, geom, w.shape)
        if b is not None and needs[2]:
            gb = g.sum(axis=(0, 2, 3))
        return (gx, gw) if b is None else (gx, gw, gb)
    g_nhwc = _rows_of(nhwc(g))
    if needs[0]:
        gx = nchw(_conv_input_grad(g_nhwc, w, geom, x.shape[2], x.shape[3]))
    if needs[1]:
        if cols is None:  # recorded without grad for w, asked for it now (autograd.grad)
            cols = _conv_forward(_rows_of(nhwc(x)), w, None, geom, True, g.shape[2:])[1]
        gw = _conv_weight_grad(cols, g_nhwc, geom, w.shape)
    if b is not None and needs[2]:
        gb = _bias_grad(g_nhwc)
    return (gx, gw) if b is None else (gx, gw, gb)


CONV2D = Op("conv2d", _conv2d_vjp, reads=("inputs",),
            formula=("the kernel acting on each window: Wᵀ spread back (col2im)",
                     "the windows of {x} (im2col({x}))", "1 per output position"),
            cases=[_geom_case((2, 3, 5, 4), (4, 3, 3, 3), _G1),
                   _geom_case((2, 4, 6, 5), (4, 2, 3, 2), _G2, bias=False)])
CONV2D_RELU = Op("conv2d_relu", _conv2d_vjp, reads=("inputs",), fuses="conv2d + relu",
                 formula=("[out > 0] · the kernel acting on each window (col2im)",
                          "[out > 0] · the windows of {x} (im2col({x}))", "[out > 0]"),
                 cases=[_geom_case((2, 3, 5, 4), (4, 3, 3, 3), _G1)])


def _conv2d_record(x: Tensor, w: Tensor, b: Tensor | None, geom: Geometry, relu: bool,
                   out_hw: tuple | None = None) -> Tensor:
    recording = is_grad_enabled()
    needs = (x.requires_grad, w.requires_grad, b is not None and b.requires_grad)
    keep_cols = recording and needs[1]
    y, cols = _conv_forward(nhwc(x.array), w.array, None if b is None else b.array, geom,
                            keep_cols, out_hw)
    mask = None
    if relu:
        if recording and any(needs):
            mask = y > 0
        backend.namespace(y).maximum(y, 0, out=y)
    parents = (x, w) if b is None else (x, w, b)
    return record(nchw(y), CONV2D_RELU if relu else CONV2D, parents,
                  (geom, cols, needs, None if mask is None else nchw(mask)))


@CONV2D.define
def conv2d(x: Tensor, w: Tensor, b: Tensor | None, geom: Geometry, relu: bool = False,
           out_hw: tuple | None = None) -> Tensor:
    """A 2-D convolution (cross-correlation, as PyTorch) of x (N, C, H, W) with
    w (O, C/groups, kh, kw), plus b (O,); with ``relu`` the ReLU is applied in place
    and recorded in the same node ("conv2d_relu"). ``out_hw`` overrides the output size
    (the backward of a transposed convolution)."""
    return _conv2d_record(x, w, b, geom, relu, out_hw)


@CONV2D_RELU.define
def conv2d_relu(x: Tensor, w: Tensor, b: Tensor | None, geom: Geometry) -> Tensor:
    """relu(conv2d(x, w, b)) as one node."""
    return _conv2d_record(x, w, b, geom, True)


def _conv2d_weight_vjp(F, g, ans, ctx, inp, grad):
    # dW = Σ grad ⊗ windows(inp) is bilinear: d/d inp = col2im(grad G_w) (a transposed
    # convolution of grad with G_w); d/d grad = conv(inp, G_w)
    geom, _ = ctx
    if F is not ARRAYS:
        return (conv_transpose2d(grad, g, None, geom, inp.shape[2:]),
                conv2d(inp, g, None, geom, out_hw=grad.shape[2:]))
    g_inp = nchw(_conv_input_grad(_rows_of(nhwc(grad)), g, geom, inp.shape[2], inp.shape[3]))
    g_grad = nchw(_conv_forward(_rows_of(nhwc(inp)), g, None, geom, False, grad.shape[2:])[0])
    return g_inp, g_grad


def _weight_case(shape, w_shape, geom: Geometry):
    def make(rng):
        ho, wo = geom.out_size(*shape[2:])
        return (rng.standard_normal(shape), rng.standard_normal((shape[0], w_shape[0], ho, wo)),
                geom, w_shape), {}
    return make


CONV2D_WEIGHT = Op("conv2d_weight", _conv2d_weight_vjp, reads=("inputs",),
                   formula=("{y} spread back through the kernel (col2im)",
                            "the windows of {x} (im2col({x}))"),
                   cases=[_weight_case((2, 3, 5, 4), (4, 3, 3, 3), _G1),
                          _weight_case((2, 4, 6, 5), (4, 2, 3, 2), _G2)])


@CONV2D_WEIGHT.define
def conv2d_weight(inp: Tensor, grad: Tensor, geom: Geometry, w_shape: tuple) -> Tensor:
    """The weight gradient of a convolution of ``inp`` whose output gradient is ``grad``
    (a recorded op, for second derivatives)."""
    cols = im2col(nhwc(inp.array).reshape(inp.shape[0], inp.shape[2], inp.shape[3],
                                         geom.groups, -1), geom, grad.shape[2], grad.shape[3])
    gw = _conv_weight_grad(cols, _rows_of(nhwc(grad.array)), geom, tuple(w_shape))
    return record(gw, CONV2D_WEIGHT, (inp, grad), (geom, tuple(w_shape)))


def _conv_transpose2d_vjp(F, g, ans, ctx, x, w, b=None):
    # y = col2im(x W) + b is the adjoint map of a convolution, so:
    # dx = conv(g, W) (im2col + GEMM),  dW = (conv's dW with the roles swapped)
    geom, needs = ctx
    gx = gw = gb = None
    if F is not ARRAYS:
        if needs[0]:
            gx = conv2d(g, w, None, geom, out_hw=x.shape[2:])
        if needs[1]:
            gw = conv2d_weight(g, x, geom, w.shape)
        if b is not None and needs[2]:
            gb = g.sum(axis=(0, 2, 3))
        return (gx, gw) if b is None else (gx, gw, gb)
    g_nhwc = _rows_of(nhwc(g))
    if needs[0] or needs[1]:
        dx, cols = _conv_forward(g_nhwc, w, None, geom, keep_cols=needs[1],
                                 out_hw=x.shape[2:])
        if needs[0]:
            gx = nchw(dx)
        if needs[1]:
            gw = _conv_weight_grad(cols, _rows_of(nhwc(x)), geom, w.shape)
    if b is not None and needs[2]:
        gb = _bias_grad(g_nhwc)
    return (gx, gw) if b is None else (gx, gw, gb)


def _transpose_case(shape, w_shape, geom: Geometry, out_hw: tuple):
    def make(rng):
        return (rng.standard_normal(shape), rng.standard_normal(w_shape),
                rng.standard_normal(w_shape[1] * geom.groups), geom, out_hw), {}
    return make


CONV_TRANSPOSE2D = Op("conv_transpose2d", _conv_transpose2d_vjp, reads=("inputs",),
                      formula=("the kernel read back over each window (a convolution)",
                               "the windows of the output gradient times {x}",
                               "1 per output position"),
                      cases=[_transpose_case((2, 4, 5, 4), (4, 3, 3, 3), _G1, (5, 4)),
                             _transpose_case((2, 4, 3, 3), (4, 2, 3, 2), _G2, (6, 5))])


@CONV_TRANSPOSE2D.define
def conv_transpose2d(x: Tensor, w: Tensor, b: Tensor | None, geom: Geometry,
                     out_hw: tuple[int, int]) -> Tensor:
    """The transposed convolution ("deconvolution") of x (N, C_in, H, W) with
    w (C_in, C_out/groups, kh, kw) onto an output of size ``out_hw``: the gradient of a
    convolution with the same geometry, run forward."""
    y = _conv_input_grad(_rows_of(nhwc(x.array)), w.array, geom, *out_hw)
    if b is not None:
        y += b.array
    needs = (x.requires_grad, w.requires_grad, b is not None and b.requires_grad)
    parents = (x, w) if b is None else (x, w, b)
    return record(nchw(y), CONV_TRANSPOSE2D, parents, (geom, needs))


# ---------------------------------------------------------------------------
# pooling
# ---------------------------------------------------------------------------
def _max_pool2d_vjp(F, g, ans, ctx, x):
    geom, index = ctx
    if F is ARRAYS:
        return (max_pool_backward(g, index, geom, x.shape),)
    # GRAPH: the same routing as a differentiable scatter of g onto the arg-max pixels
    return (P.scatter_add(g, x.shape, _argmax_positions(index, geom, x.shape)),)


def _argmax_positions(index: np.ndarray, geom: Geometry, in_shape: tuple) -> tuple:
    """(n, c, h, w) integer arrays: the input pixel each window's arg-max sits at."""
    n, c, ho, wo = index.shape
    xp = backend.namespace(index)
    idx = index.astype(np.int64)
    rows = (xp.arange(ho) * geom.sh - geom.ph[0]).reshape(1, 1, ho, 1) + (idx // geom.kw) * geom.dh
    cols = (xp.arange(wo) * geom.sw - geom.pw[0]).reshape(1, 1, 1, wo) + (idx % geom.kw) * geom.dw
    nn_ = xp.broadcast_to(xp.arange(n).reshape(n, 1, 1, 1), idx.shape)
    cc = xp.broadcast_to(xp.arange(c).reshape(1, c, 1, 1), idx.shape)
    return (nn_, cc, xp.clip(rows, 0, in_shape[2] - 1), xp.clip(cols, 0, in_shape[3] - 1))


_P2 = Geometry(2, 2, 2, 2, (0, 0), (0, 0), 1, 1)
_P3 = Geometry(3, 3, 2, 2, (1, 1), (1, 1), 1, 1)  # overlapping windows with padding


def _pool_case(shape, geom: Geometry, out_hw: tuple, *extra):
    def make(rng):
        return (rng.standard_normal(shape), geom, out_hw, *extra), {}
    return make


MAX_POOL2D = Op("max_pool2d", _max_pool2d_vjp, reads=("inputs",), second_order=False,
                formula="1 at each window's first arg-max, 0 elsewhere",
                cases=[_pool_case((2, 3, 4, 6), _P2, (2, 3)), _pool_case((1, 2, 5, 5), _P3, (3, 3))])


@MAX_POOL2D.define
def max_pool2d(x: Tensor, geom: Geometry, out_hw: tuple[int, int],
               return_indices: bool = False):
    """Window maxima of x (N, C, H, W); the gradient goes to each window's first
    arg-max. With ``return_indices``, also the flat H·W index of each arg-max (as
    PyTorch's ``MaxPool2d(return_indices=True)``)."""
    want = (is_grad_enabled() and x.requires_grad) or return_indices
    out, index = max_pool_forward(x.array, geom, *out_hw, want_index=want)
    y = record(out, MAX_POOL2D, (x,), (geom, index))
    if not return_indices:
        return y
    _, _, rows, cols = _argmax_positions(index, geom, x.shape)
    return y, Tensor(rows * x.shape[3] + cols)


def _avg_pool2d_vjp(F, g, ans, ctx, x):
    geom, divisor, _ = ctx
    # each output is Σ window / divisor: the adjoint spreads g / divisor over the window
    gd = g / divisor
    if F is ARRAYS:
        return (_spread(gd, geom, x.shape),)
    return (avg_pool2d_adjoint(gd, geom, x.shape),)


def _spread(gd: np.ndarray, geom: Geometry, in_shape: tuple) -> np.ndarray:
    """Σ over taps of gd placed at each tap's input positions, padding dropped."""
    n, c, h, w = in_shape
    ho, wo = gd.shape[2], gd.shape[3]
    xp = backend.namespace(gd)
    need_h = (ho - 1) * geom.sh + geom.kh
    need_w = (wo - 1) * geom.sw + geom.kw
    top, left = geom.ph[0], geom.pw[0]
    if gd.strides[1] < gd.strides[3]:
        gx = nchw(xp.zeros((n, max(h + top, need_h), max(w + left, need_w), c), dtype=gd.dtype))
    else:
        gx = xp.zeros((n, c, max(h + top, need_h), max(w + left, need_w)), dtype=gd.dtype)
    for i in range(geom.kh):
        for j in range(geom.kw):
            gx[:, :, i: i + (ho - 1) * geom.sh + 1: geom.sh,
               j: j + (wo - 1) * geom.sw + 1: geom.sw] += gd
    return gx[:, :, top:top + h, left:left + w]


def _avg_pool2d_adjoint_vjp(F, g, ans, ctx, gd):
    geom, out_hw = ctx
    # the adjoint of a spread is the window sum again
    if F is ARRAYS:
        return (_window_sum(g, geom, *out_hw),)
    return (avg_pool2d_sum(g, geom, out_hw),)


def _spread_case(in_shape, geom: Geometry, out_hw: tuple):
    def make(rng):
        return (rng.standard_normal(in_shape[:2] + out_hw), geom, in_shape), {}
    return make


AVG_POOL2D_ADJOINT = Op("avg_pool2d_adjoint", _avg_pool2d_adjoint_vjp, reads=(),
                        formula="each pixel receives the sum over the windows holding it",
                        cases=[_spread_case((2, 3, 5, 5), _P3, (3, 3))])


@AVG_POOL2D_ADJOINT.define
def avg_pool2d_adjoint(gd: Tensor, geom: Geometry, in_shape: tuple) -> Tensor:
    """The spread of ``gd`` over the windows, as a recorded op (double backward)."""
    return record(_spread(gd.array, geom, in_shape), AVG_POOL2D_ADJOINT, (gd,),
                  (geom, gd.shape[2:]))


def _avg_pool2d_sum_vjp(F, g, ans, ctx, x):
    geom, _ = ctx
    if F is ARRAYS:
        return (_spread(g, geom, x.shape),)
    return (avg_pool2d_adjoint(g, geom, x.shape),)


def _window_sum(xd: np.ndarray, geom: Geometry, ho: int, wo: int) -> np.ndarray:
    _, views = pool_windows(xd, geom, ho, wo, 0)
    xp = backend.namespace(xd)
    out = xp.empty_like(views[0])
    out[...] = views[0]
    for v in views[1:]:
        out += v
    return out


AVG_POOL2D_SUM = Op("avg_pool2d_sum", _avg_pool2d_sum_vjp, reads=(),
                    formula="1 for every pixel of the window",
                    cases=[_pool_case((2, 3, 5, 5), _P3, (3, 3))])


@AVG_POOL2D_SUM.define
def avg_pool2d_sum(x: Tensor, geom: Geometry, out_hw: tuple) -> Tensor:
    """Σ of each window (zero padding), a recorded op."""
    return record(_window_sum(x.array, geom, *out_hw), AVG_POOL2D_SUM, (x,), (geom, out_hw))


AVG_POOL2D = Op("avg_pool2d", _avg_pool2d_vjp, reads=(),
                formula="1/divisor for every pixel of the window",
                cases=[_pool_case((2, 3, 4, 6), _P2, (2, 3), 4.0),
                       _pool_case((1, 2, 5, 5), _P3, (3, 3), 9.0)])


@AVG_POOL2D.define
def avg_pool2d(x: Tensor, geom: Geometry, out_hw: tuple, divisor) -> Tensor:
    """Mean of each window: Σ window / divisor, where ``divisor`` is a number or an
    (Ho, Wo) array (count_include_pad=False, ceil_mode's clipped windows)."""
    out = _window_sum(x.array, geom, *out_hw)
    out /= divisor
    return record(out, AVG_POOL2D, (x,), (geom, divisor, out_hw))


# ===========================================================================
# unfold / fold: im2col and col2im in PyTorch's (N, C·kh·kw, L) layout
# ===========================================================================
def _unfold_array(x: np.ndarray, geom: Geometry, ho: int, wo: int) -> np.ndarray:
    n, c = x.shape[:2]
    cols = im2col(nhwc(x).reshape(n, x.shape[2], x.shape[3], 1, c), geom, ho, wo)
    # (N, Ho, Wo, 1, kh, kw, C) -> (N, C, kh, kw, Ho, Wo)
    return cols.reshape(n, ho, wo, geom.kh, geom.kw, c).transpose(0, 5, 3, 4, 1, 2).reshape(
        n, c * geom.kh * geom.kw, ho * wo)


def _fold_array(cols: np.ndarray, geom: Geometry, h: int, w: int, ho: int, wo: int):
    n = cols.shape[0]
    c = cols.shape[1] // (geom.kh * geom.kw)
    windows = cols.reshape(n, c, geom.kh, geom.kw, ho, wo).transpose(0, 4, 5, 1, 2, 3)
    windows = windows.reshape(n, ho, wo, 1, c, geom.kh, geom.kw).transpose(0, 1, 2, 3, 5, 6, 4)
    return nchw(col2im(windows, geom, h, w).reshape(n, h, w, c))


def _unfold_vjp(F, g, ans, ctx, x):
    geom, ho, wo = ctx
    if F is ARRAYS:
        return (_fold_array(g, geom, x.shape[2], x.shape[3], ho, wo),)
    return (fold(g, geom, x.shape[2:], (ho, wo)),)


UNFOLD = Op("unfold", _unfold_vjp, reads=(), formula="copies each window into a column",
            cases=[_pool_case((2, 3, 5, 4), _G1, (5, 4))])


@UNFOLD.define
def unfold(x: Tensor, geom: Geometry, out_hw: tuple) -> Tensor:
    """The sliding windows of x (N, C, H, W) as columns (N, C·kh·kw, Ho·Wo)."""
    return record(_unfold_array(x.array, geom, *out_hw), UNFOLD, (x,), (geom, *out_hw))


def _fold_vjp(F, g, ans, ctx, cols):
    geom, ho, wo = ctx
    if F is ARRAYS:
        return (_unfold_array(g, geom, ho, wo),)
    return (unfold(g, geom, (ho, wo)),)


def _fold_case(rng):
    return (rng.standard_normal((2, 3 * 9, 20)), _G1, (5, 4), (5, 4)), {}


FOLD = Op("fold", _fold_vjp, reads=(), formula="adds each column back onto its window",
          cases=[_fold_case])


@FOLD.define
def fold(cols: Tensor, geom: Geometry, hw: tuple, out_hw: tuple) -> Tensor:
    """The adjoint of unfold: columns (N, C·kh·kw, L) summed back into (N, C, H, W)."""
    return record(_fold_array(cols.array, geom, *hw, *out_hw), FOLD, (cols,), (geom, *out_hw))
