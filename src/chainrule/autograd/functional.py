"""``torch.autograd.functional``: Jacobians, Hessians and vector products of a function,
built on ``chainrule.autograd.grad`` (one reverse pass per output element for jacobian,
reverse-over-reverse for jvp and hvp)."""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor, as_tensor, no_grad_scope, wrap


def _as_tuple(x, what: str) -> tuple[tuple, bool]:
    if isinstance(x, Tensor):
        return (x,), False
    if isinstance(x, (tuple, list)) and all(isinstance(t, Tensor) for t in x):
        return tuple(x), True
    raise TypeError(f"autograd.functional: {what} must be a Tensor or a tuple of Tensors, "
                    f"got {type(x).__name__}")


def _leaves(inputs: tuple, create_graph: bool) -> tuple:
    """Fresh leaves that require grad (the caller's tensors are not touched)."""
    out = []
    for t in inputs:
        if t.array.dtype.kind != "f":
            raise TypeError(f"autograd.functional: inputs must be floating point, got {t.dtype}")
        leaf = t if (create_graph and t.requires_grad) else wrap(t.array)
        if leaf is not t:
            leaf.requires_grad = True
        out.append(leaf)
    return tuple(out)


def _grads(output: Tensor, inputs: tuple, grad_output, create_graph: bool) -> tuple:
    from . import grad

    if not output.requires_grad:  # the output does not depend on the inputs
        return tuple(None for _ in inputs)
    return grad(output, inputs, grad_output, retain_graph=True, create_graph=create_graph,
                allow_unused=True)


def _zeros_if_none(g, like: Tensor, create_graph: bool) -> Tensor:
    if g is None:
        return wrap(np.zeros(like.shape, like.array.dtype))
    return g if create_graph else g.detach()


def jacobian(func, inputs, create_graph: bool = False, strict: bool = False,
             vectorize: bool = False, strategy: str = "reverse-mode"):
    """d func(inputs) / d inputs: for one input and one output a tensor of shape
    ``output.shape + input.shape``; tuples of those for several (as PyTorch)."""
    ins, ins_tuple = _as_tuple(inputs, "inputs")
    leaves = _leaves(ins, create_graph)
    outs, outs_tuple = _as_tuple(func(*leaves), "the function's output")
    rows = []
    for out in outs:
        per_input = []
        flat_n = out.numel()
        pieces = [[] for _ in leaves]
        for k in range(flat_n):
            seed = np.zeros(out.shape, out.array.dtype)
            seed.reshape(-1)[k] = 1
            gs = _grads(out, leaves, wrap(seed), create_graph)
            for i, (g, leaf) in enumerate(zip(gs, leaves)):
                pieces[i].append(_zeros_if_none(g, leaf, create_graph))
        from ..ops import composite as C
        from ..ops import primitives as P

        for i, leaf in enumerate(leaves):
            if flat_n:
                stacked = C.stack(pieces[i], 0)
                per_input.append(P.reshape(stacked, tuple(out.shape) + tuple(leaf.shape)))
            else:
                per_input.append(wrap(np.zeros(tuple(out.shape) + tuple(leaf.shape),
                                                leaf.array.dtype)))
        rows.append(tuple(per_input) if ins_tuple else per_input[0])
    return tuple(rows) if outs_tuple else rows[0]


def hessian(func, inputs, create_graph: bool = False, strict: bool = False,
            vectorize: bool = False, outer_jacobian_strategy: str = "reverse-mode"):
    """Second derivatives of a scalar function: shape ``input.shape + input.shape``."""
    ins, ins_tuple = _as_tuple(inputs, "inputs")

    def gradient(*xs):
        out = func(*xs)
        if not isinstance(out, Tensor) or out.numel() != 1:
            raise RuntimeError("hessian: the function must return a single-element Tensor")
        gs = _grads(out.reshape(()), xs, None, True)
        return tuple(_zeros_if_none(g, x, True) for g, x in zip(gs, xs))

    jac = jacobian(lambda *xs: gradient(*xs), ins, create_graph=create_graph)
    # jac[i][j] = d grad_i / d x_j
    return jac if ins_tuple else jac[0][0]


def vjp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """``(func(inputs), vᵀ · J)``."""
    ins, ins_tuple = _as_tuple(inputs, "inputs")
    leaves = _leaves(ins, create_graph)
    out = func(*leaves)
    if not isinstance(out, Tensor):
        raise TypeError("vjp: functions returning several outputs are not supported; "
                        "return one Tensor")
    if v is None and out.numel() != 1:
        raise RuntimeError("vjp: v can be omitted only for a single-element output")
    gs = _grads(out, leaves, None if v is None else as_tensor(v), create_graph)
    result = tuple(_zeros_if_none(g, leaf, create_graph) for g, leaf in zip(gs, leaves))
    value = out if create_graph else out.detach()
    return value, (result if ins_tuple else result[0])


def jvp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """``(func(inputs), J · v)`` by the double-vjp trick: J·v = d/du (uᵀ J) · v."""
    ins, _ = _as_tuple(inputs, "inputs")
    vs = ins if v is None else _as_tuple(v, "v")[0]
    leaves = _leaves(ins, True)
    out = func(*leaves)
    if not isinstance(out, Tensor):
        raise TypeError("jvp: functions returning several outputs are not supported")
    u = wrap(np.zeros(out.shape, out.array.dtype))
    u.requires_grad = True
    from . import grad

    gs = _grads(out, leaves, u, True)
    pairs = [(g, vi) for g, vi in zip(gs, vs) if g is not None and g.requires_grad]
    if not pairs:
        result = wrap(np.zeros(out.shape, out.array.dtype))
    else:
        (result,) = grad([g for g, _ in pairs], (u,), [vi for _, vi in pairs],
                         create_graph=create_graph, allow_unused=True)
        result = _zeros_if_none(result, u, create_graph)
    with no_grad_scope():
        value = out.detach()
    return value, result


def hvp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """``(func(inputs), H · v)`` for a scalar function (H is symmetric, so also vᵀ·H)."""
    ins, ins_tuple = _as_tuple(inputs, "inputs")
    vs = _as_tuple(v, "v")[0] if v is not None else None
    leaves = _leaves(ins, True)
    out = func(*leaves)
    if not isinstance(out, Tensor) or out.numel() != 1:
        raise RuntimeError("hvp: the function must return a single-element Tensor")
    from . import grad

    gs = _grads(out.reshape(()), leaves, None, True)
    if vs is None:
        raise RuntimeError("hvp: v is required")
    pairs = [(g, vi) for g, vi in zip(gs, vs) if g is not None and g.requires_grad]
    hv = grad([g for g, _ in pairs], leaves, [vi for _, vi in pairs],
              create_graph=create_graph, allow_unused=True) if pairs else (None,) * len(leaves)
    result = tuple(_zeros_if_none(h, leaf, create_graph) for h, leaf in zip(hv, leaves))
    return out.detach(), (result if ins_tuple else result[0])


vhp = hvp
