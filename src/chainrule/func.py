"""``torch.func``: function transforms built on chainrule's one reverse-mode engine.

``grad``, ``grad_and_value``, ``vjp``, ``jvp``, ``jacrev``, ``jacfwd``, ``hessian``,
``vmap`` and ``functional_call`` with PyTorch's signatures. The arguments they
differentiate may be pytrees (tensors in tuples, lists and dicts, as a model's
parameter dict); the gradients come back in the same structure. Transforms nest
(``grad(grad(f))``, ``vmap(grad(f))`` for per-sample gradients): inside another
transform the graph of every derivative is kept so the outer one can differentiate it.

How they differ from PyTorch's (docs/pytorch.md): ``vmap`` calls the function once per
batch element and stacks the results (the same numbers; no batching rules, so random ops
inside draw per element instead of raising), and ``jacfwd``/``jvp`` compute in reverse
mode (the double-vjp construction), with the same values.
"""

from __future__ import annotations

import contextlib
import functools
import threading

import numpy as np

from . import autograd
from ._tensor import Tensor, wrap
from .autograd import enable_grad
from .ops import composite as _C
from .ops import primitives as _P
from .ops import tensor_api as _api

__all__ = ["functional_call", "grad", "grad_and_value", "hessian", "jacfwd", "jacrev",
           "jvp", "stack_module_state", "vjp", "vmap"]

_state = threading.local()


def _level() -> int:
    return getattr(_state, "level", 0)


@contextlib.contextmanager
def _transform():
    _state.level = _level() + 1
    try:
        with enable_grad():
            yield
    finally:
        _state.level -= 1


# ---------------------------------------------------------------------------
# pytrees: tensors inside tuples, lists and dicts
# ---------------------------------------------------------------------------
def _flatten(tree) -> tuple[list, object]:
    """The leaves of ``tree`` (depth first) and a spec to rebuild it."""
    if isinstance(tree, (tuple, list)):
        leaves, specs = [], []
        for item in tree:
            sub, spec = _flatten(item)
            leaves += sub
            specs.append((len(sub), spec))
        return leaves, (type(tree), specs)
    if isinstance(tree, dict):
        leaves, specs = [], []
        for key, item in tree.items():
            sub, spec = _flatten(item)
            leaves += sub
            specs.append((key, len(sub), spec))
        return leaves, (dict, specs)
    return [tree], None


def _unflatten(leaves: list, spec):
    if spec is None:
        return leaves[0]
    kind, specs = spec
    out, at = [], 0
    if kind is dict:
        result = {}
        for key, n, sub in specs:
            result[key] = _unflatten(leaves[at:at + n], sub)
            at += n
        return result
    for n, sub in specs:
        out.append(_unflatten(leaves[at:at + n], sub))
        at += n
    return kind(out) if kind is tuple else out


def _tree_map(fn, tree):
    leaves, spec = _flatten(tree)
    return _unflatten([fn(x) for x in leaves], spec)


def _argnums(argnums, n_args: int, where: str) -> tuple[tuple, bool]:
    many = isinstance(argnums, (tuple, list))
    nums = tuple(argnums) if many else (argnums,)
    for a in nums:
        if not isinstance(a, int) or not -n_args <= a < n_args:
            raise ValueError(f"{where}: argnums {argnums!r} out of range for {n_args} "
                             "positional arguments")
    return tuple(a % n_args for a in nums), many


def _enter(x, where: str):
    """A tensor to differentiate with respect to: connected to ``x``'s own graph when an
    outer transform (or the caller) differentiates ``x`` too, else a fresh leaf."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{where}: the differentiated arguments must be Tensors (or tuples, "
                        f"lists and dicts of them), got {type(x).__name__}")
    if x.array.dtype.kind not in "fc":
        raise TypeError(f"{where}: can differentiate only floating-point tensors, got "
                        f"{x.dtype}")
    if x.requires_grad:
        return _api.clone(x)
    leaf = wrap(x.array)
    leaf.requires_grad = True
    return leaf


def _keep_graph(originals) -> bool:
    return _level() > 1 or any(isinstance(t, Tensor) and t.requires_grad for t in originals)


def _finish(t, keep: bool):
    return t if keep or not isinstance(t, Tensor) else t.detach()


def _grads(outputs, inputs, cotangents, keep: bool) -> list:
    grads = autograd.grad(outputs, inputs, cotangents, retain_graph=True, create_graph=keep,
                          allow_unused=True)
    return [wrap(np.zeros(x.shape, x.array.dtype)) if g is None else _finish(g, keep)
            for g, x in zip(grads, inputs)]


# ---------------------------------------------------------------------------
# grad, grad_and_value, vjp, jvp
# ---------------------------------------------------------------------------
def grad_and_value(func, argnums=0, has_aux: bool = False):
    """``func``'s gradient with respect to ``args[argnums]`` and its value:
    ``(grad, value)``, or ``(grad, (value, aux))`` with ``has_aux``."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        nums, many = _argnums(argnums, len(args), "grad")
        args = list(args)
        entered, specs, originals = [], [], []
        for a in nums:
            leaves, spec = _flatten(args[a])
            originals += leaves
            with enable_grad():
                fresh = [_enter(x, "grad") for x in leaves]
            entered.append(fresh)
            specs.append(spec)
            args[a] = _unflatten(fresh, spec)
        with _transform():
            result = func(*args, **kwargs)
            aux = None
            if has_aux:
                if not (isinstance(result, tuple) and len(result) == 2):
                    raise TypeError("grad: with has_aux=True the function must return a pair "
                                    "(output, aux)")
                result, aux = result
            if not isinstance(result, Tensor) or result.numel() != 1:
                shape = getattr(result, "shape", type(result).__name__)
                raise RuntimeError(f"grad: the function must return a single-element Tensor "
                                   f"(a scalar loss), got {shape}")
            keep = _keep_graph(originals)
            flat = [x for group in entered for x in group]
            grads = _grads(result.reshape(()), flat, None, keep)
        out, at = [], 0
        for group, spec in zip(entered, specs):
            out.append(_unflatten(grads[at:at + len(group)], spec))
            at += len(group)
        gradient = tuple(out) if many else out[0]
        value = _finish(result, keep)
        if has_aux:
            return gradient, (value, _tree_map(lambda t: _finish(t, keep), aux))
        return gradient, value

    return wrapper


def grad(func, argnums=0, has_aux: bool = False):
    """The gradient of the scalar ``func`` with respect to ``args[argnums]`` (a pytree of
    tensors comes back as the same pytree); ``(grad, aux)`` with ``has_aux``."""
    both = grad_and_value(func, argnums, has_aux)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        gradient, value = both(*args, **kwargs)
        return (gradient, value[1]) if has_aux else gradient

    return wrapper


def vjp(func, *primals, has_aux: bool = False):
    """``(func(*primals), vjp_fn)``: ``vjp_fn(cotangents)`` gives the vector-Jacobian
    product for each primal (and ``aux`` third with ``has_aux``)."""
    leaves_in, specs, originals = [], [], []
    entered_args = []
    with enable_grad():
        for p in primals:
            leaves, spec = _flatten(p)
            originals += leaves
            fresh = [_enter(x, "vjp") for x in leaves]
            leaves_in.append(fresh)
            specs.append(spec)
            entered_args.append(_unflatten(fresh, spec))
    with _transform():
        result = func(*entered_args)
        aux = None
        if has_aux:
            result, aux = result
        keep = _keep_graph(originals)
    out_leaves, out_spec = _flatten(result)

    def vjp_fn(cotangents):
        cots, _ = _flatten(cotangents)
        if len(cots) != len(out_leaves):
            raise ValueError(f"vjp: {len(cots)} cotangents for {len(out_leaves)} outputs")
        flat = [x for group in leaves_in for x in group]
        with _transform():
            grads = _grads(out_leaves, flat, cots, keep or _level() > 1)
        back, at = [], 0
        for group, spec in zip(leaves_in, specs):
            back.append(_unflatten(grads[at:at + len(group)], spec))
            at += len(group)
        return tuple(back)

    value = _unflatten([_finish(t, keep) for t in out_leaves], out_spec)
    if has_aux:
        return value, vjp_fn, _tree_map(lambda t: _finish(t, keep), aux)
    return value, vjp_fn


def jvp(func, primals, tangents, *, strict: bool = False, has_aux: bool = False):
    """``(func(*primals), J · tangents)``, through two reverse passes (the Jacobian-vector
    product is the derivative, with respect to a dummy cotangent u, of uᵀJ)."""
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TypeError("jvp: primals and tangents must be tuples (one entry per argument)")
    if len(primals) != len(tangents):
        raise ValueError(f"jvp: {len(primals)} primals but {len(tangents)} tangents")
    with enable_grad():
        fresh = [_enter(p, "jvp") for p in primals]
    originals = list(primals)
    with _transform():
        result = func(*fresh)
        aux = None
        if has_aux:
            result, aux = result
        outs, out_spec = _flatten(result)
        keep = _keep_graph(originals)
        dummies = []
        for o in outs:
            u = wrap(np.zeros(o.shape, o.array.dtype))
            u.requires_grad = True
            dummies.append(u)
        first = autograd.grad(outs, fresh, dummies, retain_graph=True, create_graph=True,
                              allow_unused=True)
        used = [(g, t) for g, t in zip(first, tangents) if g is not None]
        if used:
            tangent_out = autograd.grad([g for g, _ in used], dummies,
                                        [t for _, t in used], retain_graph=True,
                                        create_graph=keep, allow_unused=True)
        else:
            tangent_out = [None] * len(outs)
    jv = [wrap(np.zeros(o.shape, o.array.dtype)) if t is None else _finish(t, keep)
          for t, o in zip(tangent_out, outs)]
    value = _unflatten([_finish(o, keep) for o in outs], out_spec)
    pair = (value, _unflatten(jv, out_spec))
    return pair + (_tree_map(lambda t: _finish(t, keep), aux),) if has_aux else pair


# ---------------------------------------------------------------------------
# Jacobians and Hessians
# ---------------------------------------------------------------------------
def jacrev(func, argnums=0, *, has_aux: bool = False, chunk_size=None):
    """The Jacobian of ``func`` with respect to ``args[argnums]``: for each output and
    input, a tensor of shape ``output.shape + input.shape`` (one reverse pass per output
    element)."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        nums, many = _argnums(argnums, len(args), "jacrev")
        args = list(args)
        with enable_grad():
            fresh = {a: _enter(args[a], "jacrev") for a in nums}
        originals = [args[a] for a in nums]
        for a in nums:
            args[a] = fresh[a]
        with _transform():
            result = func(*args, **kwargs)
            aux = None
            if has_aux:
                result, aux = result
            keep = _keep_graph(originals)
            outs, out_spec = _flatten(result)
            inputs = [fresh[a] for a in nums]
            jac_per_out = []
            for o in outs:
                rows = [[] for _ in inputs]
                for k in range(o.numel()):
                    seed = np.zeros(o.shape, o.array.dtype)
                    seed.reshape(-1)[k] = 1
                    gs = _grads([o], inputs, [wrap(seed)], keep)
                    for i, g in enumerate(gs):
                        rows[i].append(g)
                blocks = []
                for i, x in enumerate(inputs):
                    if rows[i]:
                        block = _P.reshape(_C.stack(rows[i], 0), tuple(o.shape) + tuple(x.shape))
                    else:
                        block = wrap(np.zeros(tuple(o.shape) + tuple(x.shape), x.array.dtype))
                    blocks.append(_finish(block, keep))
                jac_per_out.append(tuple(blocks) if many else blocks[0])
        jac = _unflatten(jac_per_out, out_spec)
        return (jac, _tree_map(lambda t: _finish(t, keep), aux)) if has_aux else jac

    return wrapper


def jacfwd(func, argnums=0, has_aux: bool = False, *, randomness: str = "error"):
    """The Jacobian, as ``jacrev`` computes it (reverse mode: the same values)."""
    return jacrev(func, argnums, has_aux=has_aux)


def hessian(func, argnums=0):
    """The Hessian of a scalar ``func``: ``jacfwd(jacrev(func))``."""
    return jacfwd(jacrev(func, argnums), argnums)


# ---------------------------------------------------------------------------
# vmap and functional_call
# ---------------------------------------------------------------------------
def _dims_tree(in_dims, args: tuple) -> list:
    if isinstance(in_dims, int) or in_dims is None:
        return [_tree_map(lambda _x, d=in_dims: d, a) for a in args]
    if not isinstance(in_dims, (tuple, list)) or len(in_dims) != len(args):
        raise ValueError(f"vmap: in_dims must be an int, None or a tuple with one entry per "
                         f"argument ({len(args)}), got {in_dims!r}")
    out = []
    for d, a in zip(in_dims, args):
        if isinstance(d, int) or d is None:
            out.append(_tree_map(lambda _x, d=d: d, a))
        else:
            leaves, spec = _flatten(a)
            dims, _ = _flatten(d)
            if len(dims) != len(leaves):
                raise ValueError(f"vmap: in_dims {d!r} does not match its argument's "
                                 "structure")
            out.append(_unflatten(dims, spec))
    return out


def vmap(func, in_dims=0, out_dims=0, randomness: str = "error", *, chunk_size=None):
    """``func`` mapped over a batch dim of its arguments (``in_dims``: an int, None for an
    argument that is not mapped, or a tuple/pytree of those), the results stacked along
    ``out_dims``. Runs ``func`` once per batch element."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        dims = _dims_tree(in_dims, args)
        flat_args, arg_spec = _flatten(list(args))
        flat_dims, _ = _flatten(dims)
        size = None
        for x, d in zip(flat_args, flat_dims):
            if d is None:
                continue
            if not isinstance(x, Tensor):
                raise TypeError(f"vmap: in_dims gives dim {d} for a {type(x).__name__}, "
                                 "which is not a Tensor")
            n = x.shape[d]
            if size is not None and n != size:
                raise ValueError(f"vmap: the mapped dims have different sizes ({size} and "
                                 f"{n})")
            size = n
        if size is None:
            raise ValueError("vmap: at least one argument must be mapped (in_dims all None)")
        per_element = []
        for b in range(size):
            sliced = [x if d is None else _api.select(x, d, b)
                      for x, d in zip(flat_args, flat_dims)]
            per_element.append(func(*_unflatten(sliced, arg_spec), **kwargs))
        first_leaves, out_spec = _flatten(per_element[0])
        columns = [_flatten(r)[0] for r in per_element]
        out_dim_leaves = [out_dims] * len(first_leaves) if isinstance(out_dims, int) \
            else _flatten(out_dims)[0]
        stacked = []
        for k in range(len(first_leaves)):
            items = [col[k] if isinstance(col[k], Tensor) else wrap(np.asarray(col[k]))
                     for col in columns]
            stacked.append(_C.stack(items, out_dim_leaves[k]))
        return _unflatten(stacked, out_spec)

    return wrapper


def stack_module_state(models) -> tuple[dict, dict]:
    """``(params, buffers)`` of several models of one class stacked along a new first dim,
    for ``vmap`` over ``functional_call`` (model ensembling). The stacked parameters are
    new leaves (detached from the models) that require grad when the models' do.

    >>> import chainrule as cr
    >>> models = [cr.nn.Linear(3, 2) for _ in range(4)]
    >>> params, buffers = stack_module_state(models)
    >>> params["weight"].shape, params["weight"].requires_grad
    ((4, 2, 3), True)
    """
    models = list(models)
    if not models:
        raise ValueError("stack_module_state: expected at least one model, got none")
    first = models[0]
    for m in models[1:]:
        if type(m) is not type(first):
            raise ValueError(f"stack_module_state: expected all models to be of the same "
                             f"class, got {type(first).__name__} and {type(m).__name__}")
        if m.training != first.training:
            raise ValueError("stack_module_state: expected all models to have the same "
                             "training/eval mode")

    def stacked(tensors: list) -> Tensor:
        out = _C.stack([t.detach() for t in tensors])
        if all(t.requires_grad for t in tensors):
            out.requires_grad_()
        return out

    tables = [(dict(m.named_parameters()), dict(m.named_buffers())) for m in models]
    params = {name: stacked([t[0][name] for t in tables]) for name in tables[0][0]}
    buffers = {name: _C.stack([t[1][name] for t in tables]) for name in tables[0][1]}
    return params, buffers


def functional_call(module, parameter_and_buffer_dicts, args=None, kwargs=None, *,
                    tie_weights: bool = True, strict: bool = False):
    """``module(*args, **kwargs)`` with its parameters and buffers replaced by the tensors
    of ``parameter_and_buffer_dicts`` (names as ``named_parameters`` gives them), the
    module left as it was afterwards."""
    dicts = parameter_and_buffer_dicts
    if isinstance(dicts, dict):
        dicts = (dicts,)
    merged: dict = {}
    for d in dicts:
        for name, value in d.items():
            if name in merged:
                raise ValueError(f"functional_call: {name!r} is given twice")
            merged[name] = value
    known = {n for n, _ in module.named_parameters(remove_duplicate=False)} | \
        {n for n, _ in module.named_buffers(remove_duplicate=False)}
    unknown = sorted(set(merged) - known)
    if unknown:
        raise ValueError(f"functional_call: {type(module).__name__} has no parameter or "
                         f"buffer named {', '.join(map(repr, unknown))}")
    if strict and set(merged) != known:
        missing = sorted(known - set(merged))
        raise ValueError(f"functional_call: strict=True and {', '.join(missing)} not given")
    saved = []
    try:
        for name, value in merged.items():
            path, _, leaf = name.rpartition(".")
            owner = module.get_submodule(path)
            registry = "_parameters" if leaf in owner._parameters else "_buffers"
            table = owner.__dict__[registry]
            saved.append((owner, registry, leaf, table[leaf], owner.__dict__.get(leaf)))
            table[leaf] = value
            object.__setattr__(owner, leaf, value)
        if args is None:
            args = ()
        elif not isinstance(args, tuple):
            args = (args,)
        return module(*args, **(kwargs or {}))
    finally:
        for owner, registry, leaf, old, old_attr in reversed(saved):
            owner.__dict__[registry][leaf] = old
            object.__setattr__(owner, leaf, old_attr)
