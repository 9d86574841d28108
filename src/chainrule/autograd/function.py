"""Users' own building blocks: ``Function`` (PyTorch's form) and ``custom_vjp`` (JAX's).

"As long as we know the local gradient of a function, we can use it as a node." A user's
block becomes an ``Op`` like every built-in one, named after its class, so the one
backward engine runs it, and explain, draw, anomaly detection, ``gradcheck`` and the
in-place check treat it as any other node.

>>> import chainrule as cr
>>> class Cube(cr.autograd.Function):
...     formula = "3·{x}²"
...     @staticmethod
...     def forward(ctx, x):
...         ctx.save_for_backward(x)
...         return x ** 3
...     @staticmethod
...     def backward(ctx, g):
...         (x,) = ctx.saved_tensors
...         return g * 3 * x ** 2
>>> x = cr.tensor(2.0, requires_grad=True)
>>> y = Cube.apply(x)
>>> y.backward()
>>> x.grad.item(), y.grad_fn.name()
(12.0, 'CubeBackward')
"""

from __future__ import annotations

import functools
import threading

import numpy as np

from .. import _tensor as _t
from .._tensor import Tensor, as_tensor, no_grad_scope, record, wrap
from ..ops.registry import GRAPH, Op

__all__ = ["Function", "FunctionCtx", "custom_vjp", "once_differentiable"]


class FunctionCtx:
    """The ``ctx`` a ``Function``'s forward and backward share: saved tensors, flags, and
    any attributes the user sets."""

    def __init__(self, block: str, needs_input_grad: tuple):
        self._block = block
        self._saved: tuple = ()
        self._saved_stamp = 0
        self._non_differentiable: set = set()
        self.needs_input_grad = needs_input_grad
        self.materialize_grads = True

    def save_for_backward(self, *tensors) -> None:
        """Keep tensors (or None) for backward; changing one in place afterwards makes
        ``saved_tensors`` raise instead of giving a wrong gradient."""
        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(f"{self._block}.save_for_backward: argument {i} is a "
                                f"{type(t).__name__}; only tensors (or None) can be saved; "
                                "keep other values as attributes of ctx")
        self._saved = tensors
        self._saved_stamp = _t._mutation_stamp

    @property
    def saved_tensors(self) -> tuple:
        changed = [i for i, t in enumerate(self._saved)
                   if t is not None and t.changed_since(self._saved_stamp)]
        if changed:
            desc = ", ".join(f"saved tensor {i} of shape {self._saved[i].shape}"
                             for i in changed)
            raise RuntimeError(
                f"backward of {self._block}: {desc} was modified in place after "
                "save_for_backward; its gradient would be wrong. Save a copy (.clone()), "
                "or change the value only after backward().")
        return self._saved

    def mark_non_differentiable(self, *outputs) -> None:
        """These outputs get no gradient (integer indices, masks): they stay leaves."""
        self._non_differentiable.update(id(o) for o in outputs)

    def mark_dirty(self, *tensors) -> None:
        """Accepted for PyTorch programs; in-place changes are tracked by version stamps."""

    def set_materialize_grads(self, value: bool) -> None:
        """With False, backward receives None (not zeros) for outputs that got no gradient."""
        self.materialize_grads = bool(value)


def once_differentiable(backward):
    """Mark a ``backward`` that cannot itself be differentiated (it leaves chainrule ops,
    e.g. for NumPy): a second derivative through it raises a clear error instead of a
    silently wrong zero."""

    @functools.wraps(backward)
    def wrapper(ctx, *grads):
        return backward(ctx, *grads)

    wrapper.once_differentiable = True
    return wrapper


class _FunctionMeta(type):
    """Gives each ``Function`` subclass its own registry entry (not in the built-in table)."""

    def __init__(cls, name, bases, namespace):
        super().__init__(name, bases, namespace)
        # (the rule is defined below: looked up when backward runs)
        op = Op(name, lambda *args: _function_vjp(*args), reads=(), formula=namespace.get("formula"),
                hint=namespace.get("hint"), register=False)
        op.backward_name = f"{name}Backward"
        op.function_class = cls
        cls._op = op


class Function(metaclass=_FunctionMeta):
    """A building block with its own forward and local derivative, as PyTorch's.

    Subclass it with static ``forward(ctx, *args)`` and ``backward(ctx, *grads)``, then
    call ``.apply(*args)``. ``backward`` returns one gradient per forward argument (None
    for non-tensors and for inputs that need none). Written with chainrule ops, backward
    is itself differentiable (``create_graph=True``). Optional class attributes:
    ``formula`` (the local derivative as drawings show it, e.g. ``"3·{x}²"``) and
    ``hint`` (what makes its value non-finite, for ``detect_anomaly``).
    """

    # custom_vjp records its forward (residuals may be differentiated); Function does not
    _record_forward = False

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("Function subclasses must define a static forward(ctx, ...)")

    @staticmethod
    def backward(ctx, *grads):
        raise NotImplementedError("Function subclasses must define a static backward(ctx, ...)")

    @staticmethod
    def setup_context(ctx, inputs, output):
        """PyTorch 2's split form: a subclass that defines it has ``forward(*args)`` without
        ctx, and fills ctx here from the inputs and the output."""
        raise NotImplementedError

    @classmethod
    def apply(cls, *args, **kwargs):
        block = cls.__name__
        needs = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        ctx = FunctionCtx(block, needs)
        split = cls.setup_context is not Function.setup_context
        forward = cls.forward if split else functools.partial(cls.forward, ctx)
        if cls._record_forward and any(needs) and _t.is_grad_enabled():
            result = forward(*args, **kwargs)
        else:
            with no_grad_scope():
                result = forward(*args, **kwargs)
        if split:
            with no_grad_scope():
                cls.setup_context(ctx, args, result)
        single = not isinstance(result, (tuple, list))
        outputs = (result,) if single else tuple(result)
        for i, out in enumerate(outputs):
            if not isinstance(out, Tensor):
                where = "" if single else f" (output {i})"
                raise TypeError(f"{block}.forward returned a {type(out).__name__}{where}; a "
                                "Function's forward must return a Tensor or a tuple of "
                                "Tensors (wrap numbers with cr.tensor)")
        if not (_t.is_grad_enabled() and any(needs)):
            return result
        parents = tuple(a for a in args if isinstance(a, Tensor))
        positions = tuple(i for i, a in enumerate(args) if isinstance(a, Tensor))
        differentiable = [i for i, out in enumerate(outputs)
                          if out.dtype.kind in "fc" and id(out) not in ctx._non_differentiable]
        outputs = list(outputs)
        for i in differentiable:  # a returned input, or a value still on a graph: a new node
            out = outputs[i]
            if out._vjp is not None or out.requires_grad or any(out is a for a in parents):
                outputs[i] = wrap(out.array)
        specs = tuple((outputs[i].shape, outputs[i].dtype) for i in range(len(outputs)))
        fixed = (ctx, cls, positions, len(args), specs, tuple(differentiable))
        if len(differentiable) == 1 and len(outputs) == 1:
            _become_node(outputs[0], cls._op, parents, fixed + (None,))
        elif differentiable:
            _pack(outputs, differentiable, cls._op, parents, fixed)
        return outputs[0] if single else tuple(outputs)


def _become_node(t: Tensor, op: Op, parents: tuple, ctx) -> None:
    """Turn a fresh output tensor into the graph node of ``op`` (it keeps its identity, so
    a saved output is the node itself)."""
    t._op = op
    t._parents = parents
    t._vjp = op.vjp
    t._ctx = ctx
    t._saved_version = _t._mutation_stamp
    t.requires_grad = True


_UNPACK = Op("unpack", lambda F, g, ans, ctx, packed: (
    F.scatter_add(g.reshape(-1), (ctx[2],), slice(ctx[0], ctx[1])),), reads=(),
    formula="1", register=False)


def _pack(outputs: list, differentiable: list, op: Op, parents: tuple, fixed) -> None:
    """Several outputs: one node holds them all, flattened end to end, and each output is a
    slice of it, so backward hands the block all its output gradients in one call."""
    dtype = np.result_type(*[outputs[i].dtype for i in differentiable])
    pieces = [np.ravel(outputs[i].array).astype(dtype, copy=False) for i in differentiable]
    bounds, start = [], 0
    for p in pieces:
        bounds.append((start, start + p.size))
        start += p.size
    packed = record(np.concatenate(pieces), op, parents, fixed + (tuple(bounds),))
    for (lo, hi), i in zip(bounds, differentiable):
        _become_node(outputs[i], _UNPACK, (packed,), (lo, hi, start))


def _function_vjp(F, g, ans, ctx, *inputs):
    """The rule of every user block: call its backward with the output gradients and check
    what comes back (count and shapes) before the engine uses it."""
    fctx, cls, positions, n_args, specs, differentiable, bounds = ctx
    block = cls.__name__
    graph = F is GRAPH
    if bounds is None:
        grads_out = [g]
    else:
        grads_out = [None] * len(specs)
        for (lo, hi), i in zip(bounds, differentiable):
            grads_out[i] = g[lo:hi].reshape(specs[i][0])
    for i, (shape, dtype) in enumerate(specs):
        if grads_out[i] is None and fctx.materialize_grads:
            grads_out[i] = np.zeros(shape, dtype=dtype)
    if not graph:
        grads_out = [None if x is None else wrap(x) for x in grads_out]
    else:
        grads_out = [None if x is None else as_tensor(x) for x in grads_out]
    once = getattr(cls.backward, "once_differentiable", False)
    if graph and once:
        with no_grad_scope():
            result = cls.backward(fctx, *[None if x is None else x.detach() for x in grads_out])
    else:
        result = cls.backward(fctx, *grads_out)
    result = result if isinstance(result, (tuple, list)) else (result,)
    if len(result) != n_args:
        raise RuntimeError(
            f"backward of {block}: returned {len(result)} gradient"
            f"{'s' if len(result) != 1 else ''}, but forward took {n_args} argument"
            f"{'s' if n_args != 1 else ''}; return one per forward argument (None for "
            "non-tensors and inputs that need no gradient)")
    out = []
    for k, i in enumerate(positions):
        r = result[i]
        if r is None:
            out.append(None)
            continue
        if not isinstance(r, Tensor):
            r = as_tensor(np.asarray(r, dtype=inputs[k].dtype))
        want = tuple(inputs[k].shape)
        if tuple(r.shape) != want:
            try:  # an input that broadcast against the gradient: summed back, as PyTorch
                fits = np.broadcast_shapes(want, tuple(r.shape)) == tuple(r.shape)
            except ValueError:
                fits = False
            if not fits:
                raise RuntimeError(
                    f"backward of {block}: the gradient for input {i} has shape "
                    f"{tuple(r.shape)}, but that input has shape {want} (nor does it "
                    "broadcast to that shape)")
            from . import sum_to

            r = sum_to(r, want)
        if graph and once and r.requires_grad is False and any(
                p.requires_grad for p in (*inputs, *[x for x in grads_out if x is not None])):
            r = record(r.array, _ONCE, tuple(p for p in inputs if p.requires_grad), block)
        out.append(r if graph else r.array)
    return tuple(out)


def _once_vjp(F, g, ans, block, *inputs):
    raise RuntimeError(
        f"backward of {block} is marked @once_differentiable: its gradient cannot be "
        "differentiated again (create_graph=True through it); write backward with chainrule "
        "ops and drop the decorator to get second derivatives")


_ONCE = Op("once_differentiable", _once_vjp, reads=(), register=False)


# ---------------------------------------------------------------------------
# JAX's custom_vjp
# ---------------------------------------------------------------------------
class custom_vjp:
    """A function with a hand-written vector-Jacobian product, as JAX's ``custom_vjp``.

    ``f = custom_vjp(fun)``; ``f.defvjp(fwd, bwd)`` where ``fwd(*args)`` returns
    ``(output, residuals)`` and ``bwd(residuals, g)`` returns a tuple with one cotangent per
    argument. Works with ``cr.grad``, ``backward`` and second derivatives (the residuals
    keep their own graph).

    >>> import chainrule as cr
    >>> @cr.custom_vjp
    ... def clip_gradient(x):
    ...     return x
    >>> clip_gradient.defvjp(lambda x: (x, None), lambda res, g: (g.clamp(-1, 1),))
    >>> cr.grad(lambda x: (3 * clip_gradient(x)).sum())(cr.tensor([1.0, 2.0])).tolist()
    [1.0, 1.0]
    """

    def __init__(self, fun):
        functools.update_wrapper(self, fun)
        self.fun = fun
        self.fwd = self.bwd = None
        self._function = None
        self._inside_fwd = threading.local()  # fwd may call f itself (JAX's own examples do)

    def defvjp(self, fwd, bwd) -> None:
        owner = self
        name = getattr(self.fun, "__name__", "custom_vjp")

        def forward(ctx, *args):
            owner._inside_fwd.active = True
            try:
                out, ctx.residuals = fwd(*args)
            finally:
                owner._inside_fwd.active = False
            ctx.single = not isinstance(out, (tuple, list))
            return out

        def backward(ctx, *grads):
            cotangents = bwd(ctx.residuals, grads[0] if ctx.single else tuple(grads))
            if not isinstance(cotangents, (tuple, list)):
                raise TypeError(f"custom_vjp {name}: bwd must return a tuple with one "
                                f"cotangent per argument, got {type(cotangents).__name__}")
            return tuple(cotangents)

        self.fwd, self.bwd = fwd, bwd
        self._function = _FunctionMeta(name, (Function,), {
            "forward": staticmethod(forward), "backward": staticmethod(backward),
            "_record_forward": True, "formula": getattr(owner.fun, "formula", None)})

    def __call__(self, *args):
        differentiating = _t.is_grad_enabled() and any(
            isinstance(a, Tensor) and a.requires_grad for a in args)
        if self._function is None or not differentiating or \
                getattr(self._inside_fwd, "active", False):
            # no rule given, nothing to differentiate, or fwd calling f: f's own body (JAX)
            return self.fun(*args)
        args = tuple(as_tensor(a) if isinstance(a, (float, int, np.ndarray)) else a
                     for a in args)
        return self._function.apply(*args)
