"""The backward pass: reverse-mode automatic differentiation.

Starting at the root with dL/dL = 1, walk the nodes in reverse topological order;
each node hands every parent (its adjoint x local derivative), which the parent
sums over its children. That is the chain rule with dynamic programming:
O(|V| + |E|), every node visited once.
"""

from __future__ import annotations

import contextlib
import functools
import threading
import weakref

import numpy as np

from .. import _tensor as _t
from .._tensor import Tensor


class _Watchers(threading.local):
    """Per-thread functions called as ``fn(node, g, grads)`` after each node's rule runs
    (``grads`` = () for a leaf): ``detect_anomaly``'s check and ``observe``'s watchers.
    Empty outside them: an ordinary backward reads it once and pays one test per node."""

    fns = ()
    # callbacks queued (queue_callback) during this thread's running backward pass, run
    # when it ends; None outside a backward
    end_of_backward: list | None = None


_watchers = _Watchers()


@contextlib.contextmanager
def observe(fn):
    """Call ``fn(node, g, grads)`` for every node the backward passes of this thread visit,
    right after its rule ran: ``g`` is the node's adjoint ∂L/∂node, ``grads`` what the rule
    sent to each parent (adjoint × local derivative; () for a leaf). This is how drawings
    and explanations watch the one engine instead of running a backward of their own.
    """
    previous = _watchers.fns
    _watchers.fns = previous + (fn,)
    try:
        yield fn
    finally:
        _watchers.fns = previous


# Hooks called with a leaf after backward has added into its .grad (PyTorch's
# register_post_accumulate_grad_hook), by id of the leaf; empty for almost every program,
# so the engine pays one dict test per leaf. DistributedDataParallel starts its gradient
# reductions from them.
_post_accumulate_hooks: dict[int, dict] = {}
_tensor_hooks: dict[int, dict] = {}  # id(tensor) -> {handle id: hook(grad)}


class _HookHandle:
    """``handle.remove()`` unregisters a hook."""

    _next_id = 0

    def __init__(self, hooks: dict, key: int, table: dict | None = None) -> None:
        self._hooks = hooks
        self._key = key
        self._table = _post_accumulate_hooks if table is None else table
        self.id = _HookHandle._next_id
        _HookHandle._next_id += 1

    def remove(self) -> None:
        self._hooks.pop(self.id, None)
        if not self._hooks and self._table.get(self._key) is self._hooks:
            del self._table[self._key]  # no hooks left: the plain order again

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.remove()


def register_hook(tensor: Tensor, hook) -> _HookHandle:
    """Call ``hook(grad)`` with the tensor's gradient each time backward computes it; a
    hook may return a Tensor that replaces the gradient (PyTorch's ``Tensor.register_hook``)."""
    if not tensor.requires_grad:
        raise RuntimeError("register_hook: cannot register a hook on a tensor that doesn't "
                           "require gradient")
    return _add_hook(_tensor_hooks, tensor, hook)


def _add_hook(table: dict, tensor: Tensor, hook) -> _HookHandle:
    """Add ``hook`` to ``tensor``'s entry of ``table`` (keyed by id: the entry goes with the
    tensor, so a new tensor that reuses the id starts with none); returns its handle."""
    key = id(tensor)
    hooks = table.get(key)
    if hooks is None:
        hooks = table[key] = {}
        weakref.finalize(tensor, table.pop, key, None)
    handle = _HookHandle(hooks, key, table)
    hooks[handle.id] = hook
    return handle


def _run_tensor_hooks(node: Tensor, g, create_graph: bool):
    """The gradient of ``node`` after its hooks (each may replace it)."""
    from .._tensor import wrap

    for hook in tuple(_tensor_hooks[id(node)].values()):
        wrapped = g if create_graph else wrap(g)
        out = hook(wrapped)
        if out is not None:
            if not isinstance(out, Tensor):
                raise TypeError(f"register_hook: a hook must return None or a Tensor, got "
                                f"{type(out).__name__}")
            if tuple(out.shape) != tuple(np.shape(g)):
                raise RuntimeError(f"register_hook: the hook returned a gradient of shape "
                                   f"{tuple(out.shape)} for a tensor of shape {np.shape(g)}")
            g = out if create_graph else out.array
    return g


def register_post_accumulate_grad_hook(tensor: Tensor, hook) -> _HookHandle:
    """Call ``hook(tensor)`` each time a backward pass has added into ``tensor.grad``
    (leaves only, as PyTorch's ``Tensor.register_post_accumulate_grad_hook``)."""
    if not tensor.requires_grad or tensor._vjp is not None:
        raise RuntimeError("register_post_accumulate_grad_hook: only leaf tensors that "
                           "require grad accumulate gradients")
    return _add_hook(_post_accumulate_hooks, tensor, hook)


def queue_callback(fn) -> None:
    """Run ``fn()`` once the running backward pass has finished (every .grad written),
    as PyTorch's ``Variable._execution_engine.queue_callback``; only inside a backward."""
    if _watchers.end_of_backward is None:
        raise RuntimeError("queue_callback: no backward pass is running")
    _watchers.end_of_backward.append(fn)


_SEEN, _DONE = object(), object()  # visit marks, parked in the _adj slot during the sort


def topological_order(roots) -> list:
    """Nodes that lead to ``roots`` (a Tensor or a list) and require grad, parents first.

    Iterative depth-first search, so a chain of 100,000 nodes needs no recursion.
    A node is pushed once to open it and met again, marked, to close it.
    """
    if _post_accumulate_hooks:
        return _order_leaves_late(roots)
    order = []
    last_rebase = _t._last_rebase
    stack = [roots] if isinstance(roots, Tensor) else list(roots)[::-1]
    while stack:
        node = stack.pop()
        mark = node._adj
        if mark is _SEEN:  # all its parents are placed: place it
            node._adj = _DONE
            order.append(node)
        elif mark is None:
            node._adj = _SEEN
            stack.append(node)
            for p in (node._parents if node._saved_version >= last_rebase
                      else resolved_parents(node)):
                if p.requires_grad and p._adj is None:
                    stack.append(p)
    for node in order:
        node._adj = None
    return order


def _order_leaves_late(roots) -> list:
    """``topological_order`` with every leaf placed right before its first consumer, so
    that backward finishes a leaf's gradient (and runs its post-accumulate hooks) as soon
    as the rules that feed it have run, not after the rest of the graph: what lets
    DistributedDataParallel start reducing the last layers' gradients while backward
    works on the first layers. Used only while such hooks exist (its ordering costs
    ~50% more per node than the plain search)."""
    order = []
    last_rebase = _t._last_rebase
    stack = [roots] if isinstance(roots, Tensor) else list(roots)[::-1]
    while stack:
        node = stack.pop()
        mark = node._adj
        if mark is _SEEN:
            node._adj = _DONE
            order.append(node)
        elif mark is None:
            node._adj = _SEEN
            stack.append(node)
            below = len(stack)
            for p in (node._parents if node._saved_version >= last_rebase
                      else resolved_parents(node)):
                if p.requires_grad and p._adj is None:
                    if p._vjp is None:  # below the other inputs: closed last, just before node
                        stack.insert(below, p)
                    else:
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


def _seed(root: Tensor, grad, create_graph: bool):
    """The adjoint the pass starts from: dL/dL = 1 for a scalar root, else ``grad``."""
    if not root.requires_grad:
        raise RuntimeError(
            "backward: the tensor does not require grad and has no grad_fn; did you set "
            "requires_grad=True on an input, or compute it under cr.no_grad()?"
        )
    if grad is None:
        if root.array.size != 1:
            raise RuntimeError(
                f"backward: grad can be implicitly created only for scalar outputs, but the "
                f"root has shape {root.shape}; pass grad=... of that shape (or call .sum() "
                "first)"
            )
        g = np.ones_like(root.array)
    else:
        g = grad.array if isinstance(grad, Tensor) else np.asarray(grad, dtype=root.dtype)
        if g.shape != root.shape:
            raise ValueError(
                f"backward: grad has shape {g.shape} but the root has shape {root.shape}"
            )
    if create_graph:
        return grad if isinstance(grad, Tensor) else Tensor(g)
    return g


def backward(root, grad=None, retain_graph: bool | None = None,
             create_graph: bool = False, inputs=None, *, grad_tensors=None) -> None:
    """Accumulate d(root)/d(leaf) into ``leaf.grad`` for every leaf that requires grad.

    ``root`` may be a sequence of tensors (PyTorch's ``torch.autograd.backward(tensors,
    grad_tensors)``): one pass from all of them. ``retain_graph`` (default:
    ``create_graph``) keeps the rules usable for another backward; ``create_graph`` records
    the backward pass itself, for higher derivatives; ``inputs`` limits accumulation to the
    given tensors.
    """
    if grad_tensors is not None:
        grad = grad_tensors
    if isinstance(root, Tensor):
        _run([root], [grad], retain_graph, create_graph, inputs, capture=False)
        return
    roots = list(root)
    grads = [None] * len(roots) if grad is None else (
        [grad] if isinstance(grad, Tensor) else list(grad))
    if len(grads) != len(roots):
        raise ValueError(f"backward: {len(grads)} grad_tensors for {len(roots)} tensors")
    if isinstance(inputs, Tensor):
        inputs = (inputs,)
    _run(roots, grads, retain_graph, create_graph, inputs, capture=False)


def _run(roots, grads, retain_graph, create_graph, inputs, capture: bool):
    """One reverse pass from several roots at once.

    With ``capture`` the adjoints of ``inputs`` are returned (a dict by id) and no
    ``.grad`` is touched; otherwise they are accumulated into ``.grad``.
    """
    from ..ops import ARRAYS, GRAPH  # the two namespaces the rules are written against

    if retain_graph is None:
        retain_graph = create_graph
    seeds = [_seed(r, g, create_graph) for r, g in zip(roots, grads)]
    order = topological_order(roots)
    F = GRAPH if create_graph else ARRAYS
    shared = set()  # ids of adjoint arrays that others may also hold
    for root, seed in zip(roots, seeds):
        root._adj = seed if root._adj is None else root._adj + seed
        shared.add(id(root._adj))
    only = None if inputs is None else {id(t) for t in inputs}
    captured = {}
    hooks = _post_accumulate_hooks
    tensor_hooks = _tensor_hooks

    def finish(node, g):
        """A node's adjoint is complete: hand it out (capture) or add it into .grad."""
        if capture:
            if id(node) in only:
                captured[id(node)] = _owned(g, create_graph, id(g) in shared, node)
        elif (node._vjp is None or node._retain) if only is None else id(node) in only:
            _accumulate(node, g, create_graph, id(g) in shared)
            if hooks and node._vjp is None and id(node) in hooks:
                for hook in tuple(hooks[id(node)].values()):
                    hook(node)

    watch_inner = capture or only is not None  # must non-leaf adjoints be looked at?
    stamp = _t._mutation_stamp
    last_rebase = _t._last_rebase
    released = _t._released_vjp
    watchers = _watchers.fns
    outer_callbacks, _watchers.end_of_backward = _watchers.end_of_backward, []
    previous = _t.set_grad_mode(create_graph)
    try:
        for node in reversed(order):
            g = node._adj
            if g is None:  # no path from this node to the roots carried a gradient
                continue
            node._adj = None
            if tensor_hooks and id(node) in tensor_hooks and (
                    only is None or node._vjp is not None or id(node) in only):
                # (a leaf left out of inputs= gets no gradient here: its hooks stay quiet)
                g = _run_tensor_hooks(node, g, create_graph)
                shared.add(id(g))
            vjp = node._vjp
            if vjp is None:  # a leaf: nothing above it
                finish(node, g)
                if watchers:
                    for fn in watchers:
                        fn(node, g, ())
                continue
            if watch_inner or node._retain:
                finish(node, g)
            parents = node._parents
            if node._saved_version != stamp:  # something changed in place since recording
                if node._saved_version < last_rebase:
                    parents = resolved_parents(node)
                _check_version(node, parents)
            # adjoint x local derivative, for every input
            n = len(parents)
            if create_graph:
                grads = vjp(F, g, node, node._ctx, *parents)
            elif n == 2:
                grads = vjp(F, g, node.array, node._ctx, parents[0].array, parents[1].array)
            elif n == 1:
                grads = vjp(F, g, node.array, node._ctx, parents[0].array)
            else:
                grads = vjp(F, g, node.array, node._ctx, *[p.array for p in parents])
            if len(grads) != n:
                raise RuntimeError(
                    f"backward: the rule of '{node._op}' returned {len(grads)} gradients for "
                    f"{n} inputs")
            if watchers:
                for fn in watchers:
                    fn(node, g, grads)
            # ... summed over each input's children
            for p, pg in zip(parents, grads):
                if pg is None or not p.requires_grad:
                    continue
                if pg.shape != p.array.shape:
                    pg = sum_to(pg, p.array.shape)
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
        callbacks = _watchers.end_of_backward
        while callbacks:  # a callback may queue another
            callbacks.pop(0)()
    except BaseException:
        for node in order:  # leave no half-built adjoints behind
            node._adj = None
        raise
    finally:
        _watchers.end_of_backward = outer_callbacks
        _t.set_grad_mode(previous)
    return captured


def _owned(g, create_graph: bool, shared: bool, node: Tensor) -> Tensor:
    """A final adjoint as a Tensor that aliases no other array, in ``node``'s dtype (a
    float32 leaf that met float64 values gets a float32 gradient, as in PyTorch)."""
    dtype = node.array.dtype
    if isinstance(g, Tensor):
        return g if g.array.dtype == dtype else g.astype(dtype)
    if g.dtype != dtype:
        return _t.wrap(g.astype(dtype))  # a new array: aliases nothing
    return _t.wrap(g.copy() if shared else g)


def _accumulate(node: Tensor, g, create_graph: bool, shared: bool) -> None:
    """Add a final adjoint into ``node.grad``; a leaf's .grad never aliases another array."""
    g = _owned(g, create_graph, shared, node)
    if node.grad is None:
        node.grad = g
    else:
        node.grad = node.grad + g if create_graph else _t.wrap(node.grad.array + g.array)


def resolved_parents(node: Tensor) -> tuple:
    """``node``'s inputs as they were when it was recorded: an input changed since by an
    in-place op recorded on the graph (``x.relu_()``, ``h[0] = v``) is that tensor's former
    self, which holds the value the node saw and the graph that produced it (PyTorch's
    children keep pointing at the old grad_fn in the same way)."""
    recorded = node._saved_version
    out = None
    for i, p in enumerate(node._parents):
        log = getattr(p, "_rebased", None)
        if log and log[-1][0] > recorded:
            for stamp, former in log:
                if stamp > recorded:
                    if out is None:
                        out = list(node._parents)
                    out[i] = former
                    break
    return node._parents if out is None else tuple(out)


def _check_version(node: Tensor, parents: tuple) -> None:
    """Raise if an input or the output of ``node`` was changed in place after recording."""
    recorded = node._saved_version
    reads = getattr(node._op, "reads", ("inputs", "output"))  # what the rule will read
    if "inputs" in reads:
        saved = parents
    elif "others" in reads:  # a product: input i is read only for the others' gradients
        saved = tuple(p for i, p in enumerate(parents)
                      if any(q.requires_grad for j, q in enumerate(parents) if j != i))
    else:
        saved = ()
    saved += (node,) if "output" in reads else ()
    changed = [t for t in saved if t.changed_since(recorded)]
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

    def __new__(cls, fn=None):
        self = super().__new__(cls)
        return self(fn) if callable(fn) else self  # bare decorator: @cr.no_grad

    def __enter__(self):
        self._previous = _t.set_grad_mode(self._mode)
        return self

    def __exit__(self, *exc):
        _t.set_grad_mode(self._previous)
        return False

    def __call__(self, fn):
        mode = self._mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            previous = _t.set_grad_mode(mode)
            try:
                return fn(*args, **kwargs)
            finally:
                _t.set_grad_mode(previous)

        return wrapper


class no_grad(_GradMode):
    """Ops inside are not recorded: ``with cr.no_grad(): ...``, ``@cr.no_grad()`` or
    ``@cr.no_grad``."""

    _mode = False


class enable_grad(_GradMode):
    """Ops inside are recorded again, even within ``no_grad``."""

    _mode = True


class set_grad_enabled(_GradMode):
    """``with cr.set_grad_enabled(mode):``, or called alone, as PyTorch's: the mode is set
    at once (``torch.set_grad_enabled(False)`` as a statement switches recording off)."""

    def __init__(self, mode: bool):
        self._mode = bool(mode)
        self._previous = _t.set_grad_mode(self._mode)

    def __enter__(self):
        return self


# ---------------------------------------------------------------------------
# PyTorch-style functional gradient
# ---------------------------------------------------------------------------
def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph: bool = False,
         allow_unused=None, *, is_grads_batched: bool = False,
         materialize_grads: bool = False, only_inputs: bool = True) -> tuple:
    """d(outputs)/d(inputs) as a tuple, touching no ``.grad`` (as torch.autograd.grad).

    Several outputs are differentiated in one pass: the result is the gradient of
    sum_k <grad_outputs[k], outputs[k]>. An input the outputs do not depend on is an
    error, or None with ``allow_unused=True``, or zeros with ``materialize_grads=True``.
    """
    if is_grads_batched:
        raise NotImplementedError("autograd.grad: is_grads_batched=True (vmap over "
                                  "grad_outputs) is not in chainrule; loop over the rows")
    if materialize_grads:
        if allow_unused is False:
            raise ValueError("autograd.grad: materialize_grads=True needs allow_unused True "
                             "or not given (as PyTorch)")
        allow_unused = True
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif isinstance(grad_outputs, Tensor) or not isinstance(grad_outputs, (list, tuple)):
        grad_outputs = [grad_outputs]
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"autograd.grad: {len(grad_outputs)} grad_outputs for "
                         f"{len(outputs)} outputs")
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor) or not t.requires_grad:
            raise RuntimeError(f"autograd.grad: input {i} does not require grad")
    captured = _run(outputs, grad_outputs, retain_graph, create_graph, inputs, capture=True)
    results = tuple(captured.get(id(t)) for t in inputs)
    if materialize_grads:
        results = tuple(_t.wrap(np.zeros_like(t.array)) if r is None else r
                        for t, r in zip(inputs, results))
    for i, r in enumerate(results):
        if r is None and not allow_unused:
            raise RuntimeError(
                f"autograd.grad: input {i} (shape {inputs[i].shape}) was not used to "
                "compute the outputs; pass allow_unused=True to get None for it"
            )
    return results


# ---------------------------------------------------------------------------
# PyTorch's grad_fn: a view of a node, built on demand
# ---------------------------------------------------------------------------
class BackwardNode:
    """``tensor.grad_fn``: the node's backward function as PyTorch shows it.

    ``name()`` is the op's backward name (``MulBackward0``); ``next_functions`` pairs each
    input's own ``grad_fn`` (an ``AccumulateGrad`` for a leaf that requires grad, None
    for a constant) with output index 0, as in PyTorch. ``op`` is the registry entry.
    """

    __slots__ = ("tensor",)

    def __init__(self, tensor: Tensor):
        self.tensor = tensor

    @property
    def op(self):
        return self.tensor._op

    def name(self) -> str:
        op = self.tensor._op
        return op.grad_name if hasattr(op, "grad_name") else f"{op}Backward0"

    @property
    def next_functions(self) -> tuple:
        out = []
        for p in self.tensor._parents:
            if p._vjp is not None:
                out.append((BackwardNode(p), 0))
            elif p.requires_grad:
                out.append((AccumulateGrad(p), 0))
            else:
                out.append((None, 0))
        return tuple(out)

    def __eq__(self, other) -> bool:
        return type(other) is type(self) and other.tensor is self.tensor

    def __hash__(self) -> int:
        return id(self.tensor)

    def __repr__(self) -> str:
        return f"<{self.name()}>"


class AccumulateGrad:
    """The ``grad_fn`` PyTorch shows for a leaf that requires grad: backward adds into
    ``variable.grad``."""

    __slots__ = ("variable",)

    def __init__(self, variable: Tensor):
        self.variable = variable

    def name(self) -> str:
        return "torch::autograd::AccumulateGrad"

    next_functions = ()

    def __repr__(self) -> str:
        return "<AccumulateGrad>"


from . import forward_ad, functional
from .function import Function, FunctionCtx, custom_vjp, once_differentiable


# ---------------------------------------------------------------------------
# PyTorch's forms of the checks and switches (torch.autograd.gradcheck(f, inputs), ...)
# ---------------------------------------------------------------------------
def _checked_call(func, inputs):
    """``inputs`` as PyTorch passes them (a Tensor or a tuple) and a function of only the
    ones that require grad, the others held fixed, as PyTorch checks only those."""
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    slots = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not slots:
        raise ValueError("gradcheck: no input requires grad; set requires_grad=True on the "
                         "inputs to check")

    def call(*xs):
        args = list(inputs)
        for i, x in zip(slots, xs):
            args[i] = x
        return func(*args)

    return call, [inputs[i] for i in slots]


def _single_outputs(call, n_out):
    from ..ops import primitives as P

    return [(lambda *xs, k=k: P.reshape(call(*xs)[k], (-1,))) for k in range(n_out)]


def gradcheck(func, inputs, *, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              raise_exception: bool = True, fast_mode: bool = False, **_ignored) -> bool:
    """PyTorch's ``torch.autograd.gradcheck(func, inputs)``: the backward pass of ``func``
    against central finite differences (in float64) for every input that requires grad.
    Raises ``GradcheckError`` on a mismatch (or returns False with raise_exception=False)."""
    from ..check import GradcheckError
    from ..check import gradcheck as check

    call, leaves = _checked_call(func, inputs)
    probe = call(*leaves)
    fns = _single_outputs(call, len(probe)) if isinstance(probe, (tuple, list)) else [call]
    try:
        for fn in fns:
            check(fn, *leaves, eps=eps, atol=atol, rtol=rtol, fast=fast_mode or None)
    except GradcheckError:
        if raise_exception:
            raise
        return False
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps: float = 1e-6, atol: float = 1e-5,
                  rtol: float = 1e-3, raise_exception: bool = True, **_ignored) -> bool:
    """Second derivatives: ``gradcheck`` of the vector-Jacobian product of ``func``
    (with fixed random output weights unless ``grad_outputs`` is given)."""
    from ..check import GradcheckError
    from ..check import gradcheck as check
    from ..ops import primitives as P

    call, leaves = _checked_call(func, inputs)
    out = call(*leaves)
    outs = list(out) if isinstance(out, (tuple, list)) else [out]
    rng = np.random.default_rng(0)
    if grad_outputs is None:
        weights = [Tensor(rng.standard_normal(o.shape)) for o in outs]
    else:
        weights = [grad_outputs] if isinstance(grad_outputs, Tensor) else list(grad_outputs)
    probes = [rng.standard_normal(t.shape) for t in leaves]

    def first_derivative(*xs):
        res = call(*xs)
        res = list(res) if isinstance(res, (tuple, list)) else [res]
        gs = grad(res, xs, weights, create_graph=True, allow_unused=True)
        total = None
        for g, p in zip(gs, probes):
            if g is None:
                continue
            term = P.sum(P.mul(g, Tensor(p, dtype=g.dtype)))
            total = term if total is None else P.add(total, term)
        if total is None:
            raise RuntimeError("gradgradcheck: the outputs do not depend on the inputs")
        return total

    try:
        check(first_derivative, *leaves, eps=eps, atol=atol, rtol=rtol)
    except GradcheckError:
        if raise_exception:
            raise
        return False
    return True


def set_detect_anomaly(mode: bool = True, check_nan: bool = True):
    """PyTorch's ``torch.autograd.set_detect_anomaly(mode)``: usable as a context manager
    (``with set_detect_anomaly(True):``) or called once to switch it on for this thread."""
    from ..anomaly import detect_anomaly

    return _AnomalySwitch(detect_anomaly, mode)


class _AnomalySwitch:
    def __init__(self, detect_anomaly, mode: bool) -> None:
        self._cm = detect_anomaly(bool(mode))
        self._cm.__enter__()  # effective at once, as PyTorch's call form
        self._entered = True

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        if self._entered:
            self._cm.__exit__(*exc)
            self._entered = False


def detect_anomaly(check_nan: bool = True):
    """PyTorch's ``torch.autograd.detect_anomaly()``: chainrule's ``cr.detect_anomaly``."""
    from ..anomaly import detect_anomaly as detect

    return detect()


_inference = threading.local()


def is_inference_mode_enabled() -> bool:
    """Whether the innermost ``inference_mode(...)`` block on this thread turned it on."""
    return getattr(_inference, "on", False)


class inference_mode(_GradMode):
    """``torch.inference_mode()``: as ``no_grad`` in chainrule (there are no separate
    inference tensors); a context manager and a decorator."""

    _mode = False

    def __init__(self, mode: bool = True) -> None:
        self._mode = not mode
        self._counts = bool(mode)

    def __enter__(self):
        self._was_on = getattr(_inference, "on", False)
        _inference.on = self._counts
        return super().__enter__()

    def __exit__(self, *exc):
        _inference.on = self._was_on
        return super().__exit__(*exc)

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with inference_mode(self._counts):
                return fn(*args, **kwargs)

        return wrapper


Variable = Tensor  # PyTorch's old name; Variable(x) gives a tensor as it does there


# the grad-mode classes under PyTorch's module path (they are all defined above)
from . import grad_mode


def __getattr__(name: str):
    # torch.autograd.profiler, loaded on first use (it imports the profiler, which
    # imports this module)
    if name == "profiler":
        import importlib

        return importlib.import_module(".profiler", __name__)
    raise AttributeError(f"module 'chainrule.autograd' has no attribute {name!r}")
