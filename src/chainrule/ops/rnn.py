"""The LSTM cell's pointwise part as one node: gates (N, 4H) = x Wᵢₕᵀ + bᵢₕ + h Wₕₕᵀ + bₕₕ
and the previous cell state c (N, H) give [h' | c'] (N, 2H):

    i, f, o = σ(gates_i, gates_f, gates_o),  g = tanh(gates_g)
    c' = f c + i g,  h' = o tanh(c')

Composed from primitives this is ~12 nodes per time step; on the small arrays of a
recurrent step the per-node bookkeeping costs more than the arithmetic.
"""

from __future__ import annotations

import numpy as np

from .. import backend
from .._tensor import Tensor, is_grad_enabled, record
from .primitives import ARRAYS
from .registry import Op, case


def _sigmoid(z):
    # σ(z) = (1 + tanh(z/2)) / 2: no overflow for any z, and 3 passes instead of 5
    xp = backend.namespace(z)
    s = xp.tanh(z * z.dtype.type(0.5))
    s += 1
    s *= z.dtype.type(0.5)
    return s


def _lstm_cell_vjp(F, g, ans, ctx, gates, c):
    size = c.shape[-1]
    g_h, g_c = g[:, :size], g[:, size:]
    if F is ARRAYS:
        i, f, gg, o, tc = ctx
        dc = g_c + g_h * o * (1 - tc * tc)
        d = np.empty(gates.shape, dtype=gates.dtype) if isinstance(gates, np.ndarray) else \
            backend.namespace(gates).empty(gates.shape, dtype=gates.dtype)
        d[:, :size] = dc * gg * i * (1 - i)
        d[:, size:2 * size] = dc * c * f * (1 - f)
        d[:, 2 * size:3 * size] = dc * i * (1 - gg * gg)
        d[:, 3 * size:] = g_h * tc * o * (1 - o)
        return d, dc * f
    # GRAPH: the same formula from the inputs, with differentiable ops
    i = F.sigmoid(gates[:, :size])
    f = F.sigmoid(gates[:, size:2 * size])
    gg = F.tanh(gates[:, 2 * size:3 * size])
    o = F.sigmoid(gates[:, 3 * size:])
    tc = F.tanh(f * c + i * gg)
    dc = g_c + g_h * o * (1 - tc * tc)
    d = F.concatenate([dc * gg * i * (1 - i), dc * c * f * (1 - f), dc * i * (1 - gg * gg),
                       g_h * tc * o * (1 - o)], axis=1)
    return d, dc * f


LSTM_CELL = Op("lstm_cell", _lstm_cell_vjp, reads=("inputs",),
               fuses="sigmoid/tanh gates, c' = f·c + i·g, h' = o·tanh(c')",
               formula=("σ'/tanh' of the gates times the cell's products",
                        "[o·tanh'(c')·f, f]"),
               hint="an overflow in the gates (exploding weights or inputs)",
               cases=[case((3, 8), (3, 2)), case((1, 12), (1, 3))])


@LSTM_CELL.define
def lstm_cell(gates: Tensor, c: Tensor) -> Tensor:
    """[h' | c'] (N, 2H) from the pre-activation gates (N, 4H, order i, f, g, o) and the
    cell state c (N, H)."""
    z, cd = gates.array, c.array
    size = cd.shape[-1]
    xp = backend.namespace(z)
    sig = _sigmoid(z)
    i, f, o = sig[:, :size], sig[:, size:2 * size], sig[:, 3 * size:]
    gg = xp.tanh(z[:, 2 * size:3 * size])
    out = xp.empty((z.shape[0], 2 * size), dtype=z.dtype)
    c_new = out[:, size:]
    xp.multiply(f, cd, out=c_new)
    c_new += i * gg
    tc = xp.tanh(c_new)
    xp.multiply(o, tc, out=out[:, :size])
    keep = is_grad_enabled() and (gates.requires_grad or c.requires_grad)
    return record(out, LSTM_CELL, (gates, c), (i, f, gg, o, tc) if keep else None)
