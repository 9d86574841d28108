"""The backward pass: reverse-mode automatic differentiation.

Starting at the root with dL/dL = 1, walk the nodes in reverse topological order;
each node hands every parent (its adjoint x local derivative), which the parent
sums over its children. That is the chain rule with dynamic programming:
O(|V| + |E|), every node visited once.
"""

from __future__ import annotations

import functools

import numpy as np

from . import tensor as _t
from .tensor import Tensor

# Set by ``detect_anomaly`` to ``check(node, g, grads)``, called after each rule runs with
# the node, its adjoint and the adjoints the rule returned for its parents. None otherwise:
# an ordinary backward reads it once per call and pays one local test per node.
_backward_check = None


_SEEN, _DONE = object(), object()  # visit marks, parked in the _adj slot during the sort


def topological_order(root: Tensor) -> list:
    """Nodes that lead to ``root`` and require grad, parents before children.

    Iterative depth-first search, so a chain of 100,000 nodes needs no recursion.
    A node is pushed once to open it and met again, marked, to close it.
    """
    order = []
    stack = [root]
    while stack:
        node = stack.pop()
        mark = node._adj
        if mark is _SEEN:  # all its parents are placed: place it
            node._adj = _DONE
            order.append(node)
        elif mark is None:
            node._adj = _SEEN
            stack.append(node)
            for p in node._parents:
                if p.requires_grad and p._adj is None:
                    stack.append(p)
    for node in order:
        node._adj = None
    return order


def sum_to(g, shape):
    """Undo broadcasting: sum the adjoint ``g`` back to an input's ``shape``.

    The one place where broadcasting is undone; works on arrays and, for
    create_graph, on Tensors (both have ``.sum`` and ``.reshape``).
    """
    gshape = g.shape
    if gshape == shape:
        return g
    lead = len(gshape) - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and gshape[lead + i] != 1
    )
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    return g.reshape(shape)


def _seed(root: Tensor, grad):
    if grad is None:
        if root.data.size != 1:
            raise RuntimeError(
                f"backward: grad can be implicitly created only for scalar outputs, but the "
                f"root has shape {root.shape}; pass grad=... of that shape (or call .sum() "
                "first)"
            )
        return np.ones_like(root.data)
    g = grad.data if isinstance(grad, Tensor) else np.asarray(grad, dtype=root.dtype)
    if g.shape != root.shape:
        raise ValueError(
            f"backward: grad has shape {g.shape} but the root has shape {root.shape}"
        )
    return g


def backward(root: Tensor, grad=None, retain_graph: bool = False, create_graph: bool = False,
             inputs=None) -> None:
    """Accumulate d(root)/d(leaf) into ``leaf.grad`` for every leaf that requires grad.

    ``retain_graph`` keeps the rules usable for a second backward;
    ``create_graph`` records the backward pass itself, for higher derivatives.
    ``inputs`` limits accumulation to the given leaves.
    """
    if not root.requires_grad:
        raise RuntimeError(
            "backward: the tensor does not require grad and has no grad_fn; did you set "
            "requires_grad=True on an input, or compute it under cr.no_grad()?"
        )
    from .ops import ARRAYS, GRAPH  # the two namespaces the rules are written against

    seed = _seed(root, grad)
    order = topological_order(root)
    if create_graph:
        F = GRAPH
        root._adj = seed if isinstance(grad, Tensor) else Tensor(seed)
    else:
        F = ARRAYS
        root._adj = seed
    only = None if inputs is None else {id(t) for t in inputs}
    shared = {id(root._adj)}  # ids of adjoint arrays that others may also hold
    stamp = _t._mutation_stamp
    released = _t._released_vjp
    check = _backward_check
    previous = _t._set_grad_enabled(create_graph)
    try:
        for node in reversed(order):
            g = node._adj
            if g is None:  # no path from this node to the root carried a gradient
                continue
            node._adj = None
            vjp = node._vjp
            if vjp is None:  # a leaf: its adjoint is final
                if only is None or id(node) in only:
                    _accumulate(node, g, create_graph, id(g) in shared)
                continue
            if node._retain:
                _accumulate(node, g, create_graph, True)
            parents = node._parents
            if node._saved_version != stamp:  # something changed in place since recording
                _check_version(node, parents)
            # adjoint x local derivative, for every input
            if create_graph:
                grads = vjp(F, g, node, node._ctx, *parents)
            elif len(parents) == 2:
                grads = vjp(F, g, node.data, node._ctx, parents[0].data, parents[1].data)
            elif len(parents) == 1:
                grads = vjp(F, g, node.data, node._ctx, parents[0].data)
            else:
                grads = vjp(F, g, node.data, node._ctx, *[p.data for p in parents])
            if check is not None:
                check(node, g, grads)
            # ... summed over each input's children
            for p, pg in zip(parents, grads):
                if pg is None or not p.requires_grad:
                    continue
                if pg.shape != p.data.shape:
                    pg = sum_to(pg, p.data.shape)
                adj = p._adj
                if adj is None:
                    p._adj = pg
                    # Rules pass adjoints through (add: g to both inputs) or return views
                    # (reshape); such arrays are shared, everything else is private to p.
                    if create_graph or pg is g or pg.base is not None:
                        shared.add(id(pg))
                elif id(adj) in shared:
                    p._adj = adj + pg
                else:
                    adj += pg  # in place for a private array: no allocation
                    p._adj = adj  # (NumPy scalars are immutable: += made a new one)
            if not retain_graph:
                node._vjp = released
                node._ctx = None
    finally:
        _t._set_grad_enabled(previous)
        for node in order:  # leave no half-built adjoints behind after an error
            node._adj = None


def _accumulate(node: Tensor, g, create_graph: bool, shared: bool) -> None:
    """Add a final adjoint into ``node.grad``; a leaf's .grad never aliases another array."""
    if not isinstance(g, Tensor):
        g = _leaf(g.copy() if shared else g)
    if node.grad is None:
        node.grad = g
    else:
        node.grad = node.grad + g if create_graph else _leaf(node.grad.data + g.data)


def _leaf(array) -> Tensor:
    t = Tensor.__new__(Tensor)
    _t._init_leaf(t, array)
    return t


def _check_version(node: Tensor, parents: tuple) -> None:
    """Raise if an input or the output of ``node`` was changed in place after recording."""
    recorded = node._saved_version
    changed = [t for t in (*parents, node) if t._ver > recorded]
    if changed:
        desc = ", ".join(
            f"{t.name or t._op or 'a leaf'} of shape {t.shape}" for t in changed
        )
        raise RuntimeError(
            f"backward: a value needed by '{node._op}' (output shape {node.shape}) was "
            f"modified in place after it was used: {desc}. Its gradient would be wrong; "
            "compute with a copy, or change the value only after backward()."
        )


# ---------------------------------------------------------------------------
# grad mode
# ---------------------------------------------------------------------------
class _GradMode:
    """Context manager and decorator that sets whether ops are recorded."""

    _mode = False

    def __enter__(self):
        self._previous = _t._set_grad_enabled(self._mode)
        return self

    def __exit__(self, *exc):
        _t._set_grad_enabled(self._previous)
        return False

    def __call__(self, fn):
        mode = self._mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            previous = _t._set_grad_enabled(mode)
            try:
                return fn(*args, **kwargs)
            finally:
                _t._set_grad_enabled(previous)

        return wrapper


class no_grad(_GradMode):
    """Ops inside are not recorded: ``with cr.no_grad(): ...`` or ``@cr.no_grad()``."""

    _mode = False


class enable_grad(_GradMode):
    _mode = True


class set_grad_enabled(_GradMode):
    def __init__(self, mode: bool):
        self._mode = bool(mode)


# ---------------------------------------------------------------------------
# PyTorch-style functional gradient
# ---------------------------------------------------------------------------
def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph: bool = False,
         allow_unused: bool = False) -> tuple:
    """d(outputs)/d(inputs) as a tuple, without touching any ``.grad`` (as torch.autograd.grad)."""
    single_out = isinstance(outputs, Tensor)
    outputs = [outputs] if single_out else list(outputs)
    inputs_t = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif isinstance(grad_outputs, Tensor) or not isinstance(grad_outputs, (list, tuple)):
        grad_outputs = [grad_outputs]
    if retain_graph is None:
        retain_graph = create_graph
    for i, t in enumerate(inputs_t):
        if not isinstance(t, Tensor) or not t.requires_grad:
            raise RuntimeError(f"autograd.grad: input {i} does not require grad")
    saved = [(t.grad, t._retain) for t in inputs_t]
    try:
        for t in inputs_t:
            t.grad = None
            t._retain = True
        for out, go in zip(outputs, grad_outputs):
            backward(out, go, retain_graph=retain_graph, create_graph=create_graph,
                     inputs=inputs_t)
        results = tuple(t.grad for t in inputs_t)
    finally:
        for t, (g, r) in zip(inputs_t, saved):
            t.grad, t._retain = g, r
    for i, r in enumerate(results):
        if r is None and not allow_unused:
            raise RuntimeError(
                f"autograd.grad: input {i} (shape {inputs_t[i].shape}) was not used to "
                "compute the outputs; pass allow_unused=True to get None for it"
            )
    return results
