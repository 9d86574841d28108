"""``Module`` and ``Parameter``: the containers a network is built from.

A layer f_l(x_{l-1}, θ_l) is a Module whose ``forward`` computes f_l and whose
``Parameter`` attributes are θ_l. Assigning a Parameter or a Module as an attribute
registers it, so ``model.parameters()`` finds every weight of a nested network and
``state_dict()`` names each one by its path (``layers.0.weight``).

Every module knows its own path (``"2"``, ``"layers.0"``; ``""`` for the root), set
when it is registered in a parent, so error messages, graphs and anomaly reports can
name the layer. ``Module.__call__`` tags the Tensor returned by ``forward`` with that
path (``out._module``; the innermost module wins when nested forwards return the same
tensor) and is otherwise kept as cheap as a function call.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterator
from types import MappingProxyType
from typing import Any, NamedTuple

import numpy as np

from .. import backend
from .._tensor import (
    Tensor,
    _init_leaf,
    as_dtype,
    float32,
    float64,
    get_default_dtype,
    is_grad_enabled,
    record,
    wrap,
)


# ---------------------------------------------------------------------------
# nn's mode flags, per thread as grad mode is. "Which module is running?" is tracked only
# when someone asks (detect_anomaly sets track_path), so an ordinary forward pays one read;
# Sequential fuses Linear/Conv2d + ReLU pairs unless fusion is off (set_fusion).
# ---------------------------------------------------------------------------
class _NnMode(threading.local):
    track_path = False
    fuse = True
    loading = 0  # > 0 inside load_state_dict (Module._load_from_state_dict then only plans)

    def __init__(self):
        self.path_stack: list = []


_mode = _NnMode()


def set_track_path(flag: bool) -> bool:
    """Turn this thread's current-module-path stack on or off; returns the previous setting."""
    previous = _mode.track_path
    _mode.track_path = bool(flag)
    if not _mode.track_path:
        _mode.path_stack.clear()
    return previous


def current_module_path() -> str | None:
    """Path of the innermost module whose forward is running (``""`` for the root), or
    None outside any forward or when tracking is off (see ``set_track_path``)."""
    stack = _mode.path_stack
    return stack[-1] if stack else None


# ---------------------------------------------------------------------------
# "Which module holds this parameter?" -- recorded when a Parameter is registered, so
# that drawings and explanations can name it by its path (``layers.0.weight``) without
# being handed the model. Weak both ways: it keeps neither the module nor the weight.
# ---------------------------------------------------------------------------
# id(param) -> [weakref to param, weakref to module, attribute name, path when last seen]
_owners: dict = {}


def _record_owner(param: Tensor, module: Module, name: str) -> None:
    """The first module that registers ``param`` names it, as in ``named_parameters``
    (a shared weight keeps its first name while that module still holds it)."""
    key = id(param)
    entry = _owners.get(key)
    if entry is not None and entry[0]() is param:
        holder = entry[1]()
        if holder is not None and holder.__dict__["_parameters"].get(entry[2]) is param:
            return

    def forget(ref, key=key):
        entry = _owners.get(key)
        if entry is not None and entry[0] is ref:
            del _owners[key]

    _owners[key] = [weakref.ref(param, forget), weakref.ref(module), name,
                    _join(module._path, name)]


def _update_owned_paths(module: Module) -> None:
    """``module`` has a new path: so have the parameters it named."""
    for name, param in module.__dict__.get("_parameters", {}).items():
        entry = _owners.get(id(param)) if param is not None else None
        if entry is not None and entry[0]() is param and entry[1]() is module:
            entry[3] = _join(module._path, name)


def parameter_path(param: Tensor) -> str | None:
    """``"layers.0.weight"``: the path of ``param`` under the root of the module tree
    that holds it, or None for a tensor that no live module holds.

    >>> import chainrule as cr
    >>> net = cr.nn.Sequential(cr.nn.Linear(2, 3), cr.nn.ReLU())
    >>> parameter_path(net[0].bias)
    '0.bias'
    """
    entry = _owners.get(id(param))
    if entry is None or entry[0]() is not param:
        return None
    module = entry[1]()
    if module is None:     # a model that is gone: the path it had (a graph outlives it)
        return entry[3]
    if module.__dict__.get("_parameters", {}).get(entry[2]) is not param:
        return None
    return _join(module._path, entry[2])


class Parameter(Tensor):
    """A Tensor that is a weight of a module: it requires grad and registers itself.

    Built from a Tensor it shares that tensor's array (as PyTorch); NumPy arrays and
    lists are copied (floats become the default dtype, float32).

    >>> import chainrule as cr
    >>> w = cr.nn.Parameter(cr.zeros(2, 3))
    >>> w.requires_grad, w.shape
    (True, (2, 3))
    """

    __slots__ = ()

    def __init__(self, data=None, requires_grad: bool = True):
        if data is None:
            data = np.zeros((0,), dtype=get_default_dtype())
        if isinstance(data, Tensor):
            _init_leaf(self, data.array)
            self.name = data.name
        else:
            Tensor.__init__(self, data)
        if self.array.dtype.kind not in "fc":
            raise TypeError(f"Parameter: weights must be floating point, got dtype "
                            f"{self.array.dtype}; convert with .float() first")
        self.requires_grad = bool(requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + Tensor.__repr__(self)


class Buffer(Tensor):
    """A tensor that, assigned to a module attribute, becomes a buffer (PyTorch's
    ``nn.Buffer``): ``self.mean = nn.Buffer(cr.zeros(3))`` is
    ``self.register_buffer("mean", cr.zeros(3))``; ``persistent=False`` keeps it out of
    the state_dict. The module holds the Buffer itself (a Tensor), as PyTorch's does.

    >>> import chainrule as cr
    >>> class M(cr.nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.steps = cr.nn.Buffer(cr.zeros(()), persistent=False)
    >>> list(M().state_dict()), [n for n, _ in M().named_buffers()]
    ([], ['steps'])
    """

    __slots__ = ("persistent",)

    def __init__(self, data=None, *, persistent: bool = True):
        if data is None:
            data = np.zeros((0,), dtype=get_default_dtype())
        if isinstance(data, Tensor):
            _init_leaf(self, data.array)
            self.requires_grad = data.requires_grad
        else:
            Tensor.__init__(self, data)
        self.persistent = bool(persistent)


class RemovableHandle:
    """Returned by the ``register_*_hook`` methods: ``handle.remove()`` unregisters the
    hook (also on leaving a ``with handle:`` block)."""

    _next_id = 0

    def __init__(self, hooks: dict, extra: set | None = None):
        self._hooks = hooks
        self._extra = extra  # the module's set of hooks that take kwargs
        self.id = RemovableHandle._next_id
        RemovableHandle._next_id += 1

    def remove(self) -> None:
        self._hooks.pop(self.id, None)
        if self._extra is not None:
            self._extra.discard(self.id)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()
        return False


_EXTRA_STATE = "_extra_state"  # PyTorch's key for get_extra_state()'s value


def _has_extra_state(module) -> bool:
    return type(module).get_extra_state is not Module.get_extra_state


class IncompatibleKeys(NamedTuple):
    """What ``load_state_dict(strict=False)`` skipped."""

    missing_keys: list
    unexpected_keys: list

    def __repr__(self) -> str:  # PyTorch's text
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return (f"_IncompatibleKeys(missing_keys={self.missing_keys!r}, "
                f"unexpected_keys={self.unexpected_keys!r})")

    __str__ = __repr__


class StateDictError(RuntimeError):
    """``load_state_dict`` found missing, unexpected or wrongly shaped entries."""


# ---------------------------------------------------------------------------
# full backward hooks: identity nodes ("taps") that catch the gradients flowing out of
# and into one call of a module
# ---------------------------------------------------------------------------
def _grad_for_hook(g):
    """An adjoint as hooks see it: a Tensor (arrays are wrapped without a copy)."""
    return g if isinstance(g, Tensor) else wrap(g)


def _grad_from_hook(value, like):
    """What a hook returned, as an adjoint of the engine's kind (array or Tensor)."""
    if value is None or isinstance(like, Tensor):
        return value
    return value.array if isinstance(value, Tensor) else value


def _tap_group(tensors: list, on_grads: Callable, who: str) -> list:
    """Identity copies of ``tensors`` whose gradients, once all known, go through
    ``on_grads(list of Tensors) -> list of replacements`` in one call. Several tensors
    pass through one node (flattened and concatenated), so the call sees them together."""
    from ..ops import primitives as P  # (ops imports nn's users; loaded on first use)
    from ..ops.registry import Op

    if len({t.array.dtype for t in tensors}) > 1:
        raise NotImplementedError(
            f"{who}: backward hooks on a module whose tensor arguments (or outputs) have "
            f"different dtypes ({', '.join(str(t.dtype) for t in tensors)}) are not supported")
    shapes = [t.shape for t in tensors]
    if len(tensors) == 1:
        def one(F, g, ans, ctx, x):
            (new,) = on_grads([_grad_for_hook(g)])
            return (_grad_from_hook(new, g),)

        return [record(tensors[0].array, Op("backward_hook", one, reads=(), register=False),
                       (tensors[0],))]
    bounds = np.cumsum([0] + [int(np.prod(s)) for s in shapes])

    def many(F, g, ans, ctx, x):
        pieces = [g[a:b].reshape(shape) for a, b, shape in zip(bounds, bounds[1:], shapes)]
        new = on_grads([_grad_for_hook(p) for p in pieces])
        parts = []
        for value, piece in zip(new, pieces):
            value = _grad_from_hook(value, g)
            if value is None:
                value = piece * 0
            parts.append(value.reshape(-1))
        cat = P.concatenate if isinstance(g, Tensor) else backend.namespace(g).concatenate
        return (cat(parts, axis=0),)

    flat = P.concatenate([P.reshape(t, (-1,)) for t in tensors], axis=0)
    tapped = record(flat.array, Op("backward_hook", many, reads=(), register=False), (flat,))
    return [P.reshape(P.getitem(tapped, slice(int(a), int(b))), shape)
            for a, b, shape in zip(bounds, bounds[1:], shapes)]


class _BackwardHooks:
    """The backward hooks of one call of a module. The output taps run first in the
    backward pass (they are nearer the loss) and record ``grad_output``; the input tap
    runs once every gradient with respect to the inputs is complete and calls the hooks."""

    def __init__(self, module: Module, args: tuple):
        self.module = module
        self.args = args
        self.input_slots = [i for i, a in enumerate(args)
                            if isinstance(a, Tensor) and a.requires_grad]
        self.grad_output: tuple = ()

    def tap_inputs(self) -> tuple:
        if not self.input_slots:
            return self.args
        tapped = _tap_group([self.args[i] for i in self.input_slots], self._on_grad_input,
                            self.module._describe())
        args = list(self.args)
        for i, t in zip(self.input_slots, tapped):
            args[i] = t
        return tuple(args)

    def tap_outputs(self, out):
        outputs = [out] if isinstance(out, Tensor) else (
            list(out) if isinstance(out, (tuple, list)) else [])
        slots = [k for k, o in enumerate(outputs) if isinstance(o, Tensor) and o.requires_grad]
        if not slots:
            return out
        self.grad_output = (None,) * len(outputs)

        def on_grad_output(grads: list) -> list:
            full = list(self.grad_output)
            for k, g in zip(slots, grads):
                full[k] = g
            grad_output = tuple(full)
            for hook in tuple(self.module._backward_pre_hooks.values()):
                result = hook(self.module, grad_output)
                if result is not None:
                    grad_output = self._checked(result, len(outputs), "pre-hook", "grad_output")
            self.grad_output = grad_output
            if not self.input_slots:  # no gradient flows into the module: run the hooks now
                self._call_hooks((None,) * len(self.args))
            return [grad_output[k] for k in slots]

        tapped = _tap_group([outputs[k] for k in slots], on_grad_output, self.module._describe())
        for k, t in zip(slots, tapped):
            if getattr(outputs[k], "_module", None) is not None:
                t._module = outputs[k]._module
            outputs[k] = t
        return outputs[0] if isinstance(out, Tensor) else type(out)(outputs)

    def _on_grad_input(self, grads: list) -> list:
        full = [None] * len(self.args)
        for i, g in zip(self.input_slots, grads):
            full[i] = g
        grad_input = self._call_hooks(tuple(full))
        return [grad_input[i] for i in self.input_slots]

    def _call_hooks(self, grad_input: tuple) -> tuple:
        for hook in tuple(self.module._backward_hooks.values()):
            result = hook(self.module, grad_input, self.grad_output)
            if result is not None:
                grad_input = self._checked(result, len(grad_input), "hook", "grad_input")
        return grad_input

    def _checked(self, result, n: int, kind: str, what: str) -> tuple:
        result = tuple(result) if isinstance(result, (tuple, list)) else (result,)
        if len(result) != n:
            raise RuntimeError(f"{self.module._describe()}: a backward {kind} returned "
                               f"{len(result)} value(s) for {what}, which has {n}")
        return result


def _format_count(n: int) -> str:
    return f"{n:,} parameter" + ("" if n == 1 else "s")


class Module:
    """Base class of every layer and network.

    Subclasses call ``super().__init__()``, assign their layers and Parameters as
    attributes, and define ``forward``; calling the module runs ``forward``.

    >>> import chainrule as cr
    >>> class TwoLayer(cr.nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.hidden = cr.nn.Linear(4, 8)
    ...         self.out = cr.nn.Linear(8, 1)
    ...     def forward(self, x):
    ...         return self.out(self.hidden(x).relu())
    >>> net = TwoLayer()
    >>> [name for name, _ in net.named_parameters()]
    ['hidden.weight', 'hidden.bias', 'out.weight', 'out.bias']
    >>> net(cr.ones(2, 4)).shape
    (2, 1)
    """

    # class-level defaults, so a subclass that forgets super().__init__() fails clearly
    _path = ""
    # the format version of this module's state_dict entries, saved in state_dict's
    # ``_metadata`` and handed to ``_load_from_state_dict`` as local_metadata["version"]
    _version = 1
    _forward_hooks = _forward_pre_hooks = _backward_hooks = _backward_pre_hooks = \
        MappingProxyType({})

    def __init__(self) -> None:
        d = self.__dict__
        d["training"] = True
        d["_parameters"] = OrderedDict()
        d["_buffers"] = OrderedDict()
        d["_non_persistent"] = set()
        d["_modules"] = OrderedDict()
        d["_forward_hooks"] = OrderedDict()
        d["_forward_pre_hooks"] = OrderedDict()
        d["_backward_hooks"] = OrderedDict()
        d["_backward_pre_hooks"] = OrderedDict()
        d["_hooks_with_kwargs"] = set()  # ids of forward (pre-)hooks that take kwargs
        d["_path"] = ""

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    # -- calling ----------------------------------------------------------------
    def __call__(self, *args, **kwargs):
        if (_mode.track_path or self._forward_hooks or self._forward_pre_hooks
                or self._backward_hooks or self._backward_pre_hooks):
            return self._call_slow(args, kwargs)
        out = self.forward(*args, **kwargs)
        if isinstance(out, Tensor) and getattr(out, "_module", None) is None:
            out._module = self._path
        return out

    def _call_slow(self, args, kwargs):
        with_kwargs = self.__dict__.get("_hooks_with_kwargs", ())
        for hid, hook in tuple(self._forward_pre_hooks.items()):
            if hid in with_kwargs:
                result = hook(self, args, kwargs)
                if result is not None:
                    if not (isinstance(result, tuple) and len(result) == 2):
                        raise RuntimeError(
                            f"{self._describe()}: a forward pre-hook registered with_kwargs "
                            f"must return None or (args, kwargs), got {type(result).__name__}")
                    args, kwargs = result
            else:
                result = hook(self, args)
                if result is not None:
                    args = result if isinstance(result, tuple) else (result,)
        backward = None
        if (self._backward_hooks or self._backward_pre_hooks) and is_grad_enabled():
            backward = _BackwardHooks(self, args)
            args = backward.tap_inputs()
        tracking = _mode.track_path
        stack = _mode.path_stack
        if tracking:
            stack.append(self._path)
        try:
            out = self.forward(*args, **kwargs)
        finally:
            if tracking and stack:
                stack.pop()
        for hid, hook in tuple(self._forward_hooks.items()):
            result = hook(self, args, kwargs, out) if hid in with_kwargs else hook(self, args, out)
            if result is not None:
                out = result
        if backward is not None:
            out = backward.tap_outputs(out)
        if isinstance(out, Tensor) and getattr(out, "_module", None) is None:
            out._module = self._path
        return out

    def _add_hook(self, registry: str, hook: Callable, prepend: bool,
                  with_kwargs: bool = False) -> RemovableHandle:
        self._check_init()
        if not callable(hook):
            raise TypeError(f"{self._describe()}: a hook must be callable, got "
                            f"{type(hook).__name__}")
        hooks = self.__dict__[registry]
        handle = RemovableHandle(hooks, self.__dict__.get("_hooks_with_kwargs"))
        hooks[handle.id] = hook
        if prepend:
            hooks.move_to_end(handle.id, last=False)
        if with_kwargs:
            self._hooks_with_kwargs.add(handle.id)
        return handle

    def register_forward_hook(self, hook: Callable, *, prepend: bool = False,
                              with_kwargs: bool = False, always_call: bool = False
                              ) -> RemovableHandle:
        """Call ``hook(module, args, output)`` after every forward (as PyTorch); a
        non-None return value replaces the output. ``with_kwargs=True`` calls
        ``hook(module, args, kwargs, output)``; ``prepend`` runs it before the hooks
        already registered. Returns a handle with ``remove()``.

        >>> import chainrule as cr
        >>> layer = cr.nn.Linear(2, 3)
        >>> shapes = []
        >>> handle = layer.register_forward_hook(lambda m, args, out: shapes.append(out.shape))
        >>> _ = layer(cr.ones(4, 2)); handle.remove(); _ = layer(cr.ones(1, 2))
        >>> shapes
        [(4, 3)]
        """
        return self._add_hook("_forward_hooks", hook, prepend, with_kwargs)

    def register_forward_pre_hook(self, hook: Callable, *, prepend: bool = False,
                                  with_kwargs: bool = False) -> RemovableHandle:
        """Call ``hook(module, args)`` before every forward; a non-None return value
        (a tuple, or one value) replaces the positional arguments. ``with_kwargs=True``
        calls ``hook(module, args, kwargs)``, which may return ``(args, kwargs)``."""
        return self._add_hook("_forward_pre_hooks", hook, prepend, with_kwargs)

    def register_full_backward_hook(self, hook: Callable, prepend: bool = False
                                    ) -> RemovableHandle:
        """Call ``hook(module, grad_input, grad_output)`` when the gradients with respect
        to the module's inputs have been computed (as PyTorch's full backward hooks).

        ``grad_output`` holds the gradients of the loss with respect to the module's
        output(s), ``grad_input`` those with respect to its positional arguments (None
        for an argument that is not a Tensor requiring grad). The hook may return a
        tuple of replacement ``grad_input`` values (e.g. clipped gradients), which are
        what flows on to earlier layers.

        >>> import chainrule as cr
        >>> layer = cr.nn.Linear(2, 1)
        >>> seen = []
        >>> h = layer.register_full_backward_hook(
        ...     lambda m, gin, gout: seen.append((gin[0].shape, gout[0].shape)))
        >>> x = cr.ones(3, 2, requires_grad=True)
        >>> layer(x).sum().backward()
        >>> seen
        [((3, 2), (3, 1))]
        """
        return self._add_hook("_backward_hooks", hook, prepend)

    def register_full_backward_pre_hook(self, hook: Callable, prepend: bool = False
                                        ) -> RemovableHandle:
        """Call ``hook(module, grad_output)`` when the gradients with respect to the
        module's outputs are known, before they flow into the module; a tuple returned
        replaces ``grad_output``."""
        return self._add_hook("_backward_pre_hooks", hook, prepend)

    def register_backward_hook(self, hook: Callable) -> RemovableHandle:
        """PyTorch's deprecated form; here the same as :meth:`register_full_backward_hook`
        (gradients with respect to the module's own inputs and outputs)."""
        return self.register_full_backward_hook(hook)

    # -- registration -------------------------------------------------------------
    def _check_init(self) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"{type(self).__name__}: call super().__init__() at the start of __init__ "
                "before assigning parameters, modules or hooks")

    def __setattr__(self, name: str, value: Any) -> None:
        d = self.__dict__
        params = d.get("_parameters")
        if isinstance(value, Buffer):
            if params is not None and params.get(name) is not None:
                raise TypeError(f"{self._describe()}: cannot assign a Buffer to '{name}', a "
                                "parameter; delete the parameter first (PyTorch refuses it "
                                "too)")
            self.register_buffer(name, value, persistent=value.persistent)
            return
        if isinstance(value, Parameter):
            if params is None:
                self._check_init()
            self._forget(name, "_parameters")
            params[name] = value
            _record_owner(value, self, name)
        elif isinstance(value, Module):
            if params is None:
                self._check_init()
            self._forget(name, "_modules")
            d["_modules"][name] = value
            _assign_paths(value, _join(d["_path"], name))
        elif params is not None:
            if name in params:
                if value is not None:
                    raise TypeError(
                        f"{self._describe()}: cannot assign {type(value).__name__} as "
                        f"parameter '{name}' (a cr.nn.Parameter or None is expected); wrap "
                        f"it: self.{name} = cr.nn.Parameter(value)")
                params[name] = None
            elif name in d["_modules"]:
                if value is not None:
                    raise TypeError(
                        f"{self._describe()}: cannot assign {type(value).__name__} as child "
                        f"module '{name}' (a Module or None is expected)")
                d["_modules"][name] = None
            elif name in d["_buffers"]:
                if value is not None and not isinstance(value, Tensor):
                    value = Tensor(value)
                d["_buffers"][name] = value
        object.__setattr__(self, name, value)

    def _forget(self, name: str, keep: str = "") -> None:
        """Unregister ``name`` everywhere but the registry ``keep``, where reassigning
        keeps its position (a replaced layer stays at its index)."""
        d = self.__dict__
        for registry in ("_parameters", "_modules", "_buffers"):
            if registry != keep:
                d[registry].pop(name, None)
        d["_non_persistent"].discard(name)

    def __delattr__(self, name: str) -> None:
        if "_parameters" in self.__dict__:
            self._forget(name)
        object.__delattr__(self, name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """``self.register_parameter("w", p)`` is ``self.w = p`` (None registers a slot)."""
        self._check_init()
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter: '{name}' must be a Parameter or None, got "
                            f"{type(param).__name__}")
        self._forget(name, "_parameters")
        self._parameters[name] = param
        if param is not None:
            _record_owner(param, self, name)
        object.__setattr__(self, name, param)

    def register_buffer(self, name: str, tensor, persistent: bool = True) -> None:
        """A non-trainable tensor saved in the state_dict (unless ``persistent=False``)."""
        self._check_init()
        if tensor is not None and not isinstance(tensor, Tensor):
            tensor = Tensor(tensor)
        self._forget(name, "_buffers")
        self._buffers[name] = tensor
        if not persistent:
            self._non_persistent.add(name)
        object.__setattr__(self, name, tensor)

    def add_module(self, name: str, module: Module | None) -> None:
        """Register ``module`` under ``name`` (same as ``setattr(self, name, module)``)."""
        self._check_init()
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: '{name}' must be a Module, got {type(module).__name__}")
        if not isinstance(name, str) or not name or "." in name:
            raise KeyError(f"add_module: invalid module name {name!r} (a non-empty string "
                           "without '.')")
        self._forget(name, "_modules")
        self._modules[name] = module
        if module is not None:
            _assign_paths(module, _join(self._path, name))
        object.__setattr__(self, name, module)

    register_module = add_module

    # -- traversal -------------------------------------------------------------------
    def named_modules(self, memo: set | None = None, prefix: str = "",
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Module]]:
        """(name, module) for this module and all below it (PyTorch's argument order);
        a module reachable twice is listed once unless ``remove_duplicate=False``."""
        if isinstance(memo, str):  # named_modules("prefix"), chainrule's former order
            memo, prefix = None, memo
        memo = set() if memo is None else memo
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, child in self._modules.items():
            if child is not None:
                yield from child.named_modules(memo, _join(prefix, name), remove_duplicate)

    def modules(self, remove_duplicate: bool = True) -> Iterator[Module]:
        for _, m in self.named_modules(remove_duplicate=remove_duplicate):
            yield m

    def named_children(self) -> Iterator[tuple[str, Module]]:
        seen = set()
        for name, child in self._modules.items():
            if child is not None and id(child) not in seen:
                seen.add(id(child))
                yield name, child

    def children(self) -> Iterator[Module]:
        for _, m in self.named_children():
            yield m

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True) -> Iterator[tuple[str, Parameter]]:
        """(path, parameter) pairs such as ``("layers.0.weight", W)``; a parameter shared
        between modules is listed once, under its first name (every time with
        ``remove_duplicate=False``)."""
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Every trainable weight, each once: what an optimizer takes."""
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Tensor]]:
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def _named_members(self, registry: str, prefix: str, recurse: bool,
                       remove_duplicate: bool = True) -> Iterator:
        """(path, tensor) for each entry of ``registry`` ("_parameters" or "_buffers") of
        this module (and those below it with ``recurse``), each tensor once."""
        seen = set()
        modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) \
            if recurse else [(prefix, self)]
        for mod_name, module in modules:
            for name, t in getattr(module, registry).items():
                if t is not None and (not remove_duplicate or id(t) not in seen):
                    seen.add(id(t))
                    yield _join(mod_name, name), t

    def get_parameter(self, target: str) -> Parameter:
        """The parameter at ``target`` ("layers.0.weight")."""
        path, _, name = target.rpartition(".")
        module = self.get_submodule(path)
        if name not in module._parameters:
            raise AttributeError(f"get_parameter: {type(module).__name__} has no parameter "
                                 f"'{name}' (in path '{target}')")
        return module._parameters[name]

    def get_buffer(self, target: str) -> Tensor:
        """The buffer at ``target`` ("norm.running_mean")."""
        path, _, name = target.rpartition(".")
        module = self.get_submodule(path)
        if name not in module._buffers:
            raise AttributeError(f"get_buffer: {type(module).__name__} has no buffer "
                                 f"'{name}' (in path '{target}')")
        return module._buffers[name]

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def num_parameters(self, trainable_only: bool = False) -> int:
        """Total number of weights (each shared parameter counted once)."""
        return sum(p.array.size for p in self.parameters()
                   if p.requires_grad or not trainable_only)

    def get_submodule(self, target: str) -> Module:
        """The module at ``target`` (``"layers.2"``); ``""`` is this module."""
        module = self
        for part in filter(None, target.split(".")):
            child = module._modules.get(part)
            if child is None:
                raise AttributeError(f"get_submodule: {type(module).__name__} has no "
                                     f"submodule '{part}' (in path '{target}')")
            module = child
        return module

    def set_submodule(self, target: str, module: Module) -> None:
        """Put ``module`` at ``target`` (``"layers.2"``), replacing what is there; the
        modules above it must exist."""
        if not target:
            raise ValueError("set_submodule: target must name a submodule, got ''")
        path, _, name = target.rpartition(".")
        self.get_submodule(path).add_module(name, module)

    def share_memory(self) -> Module:
        """PyTorch moves the tensors to shared memory for worker processes; chainrule's
        workers are threads (or get pickled copies), so this changes nothing."""
        return self

    # -- state ---------------------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        """Training mode (Dropout active); returns self."""
        for m in self.modules():
            m.__dict__["training"] = bool(mode)
        return self

    def eval(self) -> Module:
        """Evaluation mode (Dropout passes inputs through); returns self."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Freeze (False) or unfreeze every parameter."""
        for p in self.parameters():
            p.requires_grad = bool(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget accumulated gradients: ``p.grad = None`` (or zeros)."""
        for p in self.parameters():
            if set_to_none or p.grad is None:
                p.grad = None
            else:
                p.grad = Tensor(np.zeros_like(p.array))

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call ``fn`` on every sub-module (children first) and on self, as PyTorch;
        e.g. ``model.apply(init_weights)``."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    def to_empty(self, *, device=None, recurse: bool = True) -> Module:
        """PyTorch moves a module built on the meta device to ``device`` with fresh,
        uninitialized storage; chainrule has no meta device, so the parameters keep their
        values and only the move happens (``to(device)``)."""
        return self if device is None else self.to(device)

    def to(self, *args, **kwargs) -> Module:
        """Convert the floating parameters and buffers (and their gradients) in place, as
        PyTorch: ``model.to(cr.float64)``, ``model.to("cpu")``, ``model.to(device, dtype)``,
        ``model.to(dtype=..., device=...)``, or ``model.to(tensor)`` (its dtype and device).
        Integer buffers keep their dtype. Returns the module.

        >>> import chainrule as cr
        >>> layer = cr.nn.Linear(2, 2).to(cr.float64)
        >>> layer.weight.dtype
        dtype('float64')
        """
        device, dtype = _to_arguments(args, kwargs)
        if dtype is not None:
            dtype = as_dtype(dtype)
            if dtype.kind not in "fc":
                raise TypeError(f"{type(self).__name__}.to: only floating dtypes are accepted "
                                f"for a module's parameters, got {dtype}")
        for t in list(self.parameters()) + list(self.buffers()):
            _convert(t, device, dtype)
            if t.grad is not None:
                _convert(t.grad, device, dtype)
        return self

    def float(self) -> Module:
        """Floating parameters and buffers to float32."""
        return self.to(float32)

    def double(self) -> Module:
        """Floating parameters and buffers to float64."""
        return self.to(float64)

    def half(self) -> Module:
        """Floating parameters and buffers to float16 (NumPy computes float16 slowly)."""
        return self.to(np.float16)

    def cpu(self) -> Module:
        """Parameters and buffers to main memory (they are there unless moved)."""
        return self.to("cpu")

    def cuda(self, device: int | str | None = None) -> Module:
        """Parameters and buffers to the GPU (needs the CuPy backend, chainrule[gpu])."""
        if device is None:
            return self.to("cuda")
        return self.to(device if isinstance(device, str) else f"cuda:{int(device)}")

    def type(self, dst_type) -> Module:
        """Floating parameters and buffers to ``dst_type``."""
        return self.to(dst_type)

    def state_dict(self, *args, destination=None, prefix: str = "",
                   keep_vars: bool = False) -> OrderedDict:
        """Every parameter and persistent buffer by path, e.g. ``{"0.weight": W, ...}``.

        The values are detached Tensors sharing the modules' arrays (as PyTorch): copy
        them (``{k: v.numpy().copy() ...}``) to keep a snapshot while training goes on.
        ``prefix`` is put before every key as it is (``"model."``); ``destination`` (a
        dict) is filled and returned instead of a new OrderedDict; positional arguments
        are PyTorch's old order (destination, prefix, keep_vars).
        """
        if args:
            if isinstance(args[0], str):  # state_dict("prefix"): chainrule's former order
                args = (None, *args)
            if len(args) > 3:
                raise TypeError(f"state_dict: at most 3 positional arguments (destination, "
                                f"prefix, keep_vars), got {len(args)}")
            values = [destination, prefix, keep_vars]
            values[:len(args)] = args
            destination, prefix, keep_vars = values
        if destination is None:
            # PyTorch's ``_metadata``: each module's path -> {"version": its _version}
            out = OrderedDict()
            out._metadata = OrderedDict()
        else:
            out = destination
        return self._save_into(out, prefix, keep_vars, hooks=True)

    def _save_into(self, out, prefix: str, keep_vars: bool, hooks: bool):
        """PyTorch's recursion: this module's pre-hooks, its parameters, persistent
        buffers and extra state, its children (every path: a tied weight or a shared
        module is listed under each of its names), then its post-hooks."""
        d = self.__dict__
        local_metadata = {"version": self._version}
        metadata = getattr(out, "_metadata", None)
        if isinstance(metadata, dict):
            metadata[prefix[:-1]] = local_metadata
        if hooks:
            for hook in tuple(d.get("_state_dict_pre_hooks", {}).values()):
                hook(self, prefix, keep_vars)
        for name, p in self._parameters.items():
            if p is not None:
                out[prefix + name] = p if keep_vars else p.detach()
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent:
                out[prefix + name] = b if keep_vars else b.detach()
        if _has_extra_state(self):
            out[prefix + _EXTRA_STATE] = self.get_extra_state()
        for name, child in self._modules.items():
            if child is not None:
                child._save_into(out, prefix + name + ".", keep_vars, hooks)
        if hooks:
            for hook, may_return in tuple(d.get("_state_dict_hooks", {}).values()):
                result = hook(self, out, prefix, local_metadata)
                if result is not None:
                    if not may_return:
                        raise RuntimeError(f"{self._describe()}: a state_dict post-hook must "
                                           "return None (change the dict in place)")
                    out = result
        return out

    def register_state_dict_pre_hook(self, hook: Callable) -> RemovableHandle:
        """``hook(module, prefix, keep_vars)`` before ``state_dict`` saves this module."""
        return self._state_hook("_state_dict_pre_hooks", hook)

    def register_state_dict_post_hook(self, hook: Callable) -> RemovableHandle:
        """``hook(module, state_dict, prefix, local_metadata)`` after this module and its
        children are saved; it changes ``state_dict`` in place (e.g. renames keys)."""
        return self._state_hook("_state_dict_hooks", (hook, False))

    def _register_state_dict_hook(self, hook: Callable) -> RemovableHandle:
        """PyTorch's older post-hook: it may also return a new dict."""
        return self._state_hook("_state_dict_hooks", (hook, True))

    def register_load_state_dict_pre_hook(self, hook: Callable) -> RemovableHandle:
        """``hook(module, state_dict, prefix, local_metadata, strict, missing_keys,
        unexpected_keys, error_msgs)`` before this module's entries are read: it may
        rename or convert entries of an old checkpoint in ``state_dict``."""
        return self._state_hook("_load_state_dict_pre_hooks", (hook, True))

    def _register_load_state_dict_pre_hook(self, hook: Callable,
                                           with_module: bool = False) -> RemovableHandle:
        """PyTorch's older form: without ``with_module`` the hook gets no module."""
        return self._state_hook("_load_state_dict_pre_hooks", (hook, bool(with_module)))

    def register_load_state_dict_post_hook(self, hook: Callable) -> RemovableHandle:
        """``hook(module, incompatible_keys)`` after loading; it may remove entries from
        ``incompatible_keys.missing_keys``/``unexpected_keys`` before strict checks them."""
        return self._state_hook("_load_state_dict_post_hooks", hook)

    def _state_hook(self, registry: str, entry) -> RemovableHandle:
        self._check_init()
        hooks = self.__dict__.setdefault(registry, OrderedDict())
        handle = RemovableHandle(hooks)
        hooks[handle.id] = entry
        return handle

    def get_extra_state(self) -> Any:
        """What a module saves besides its parameters and buffers (under the key
        ``_extra_state``): a module that overrides this (and ``set_extra_state``) has it
        in its state_dict, as in PyTorch."""
        raise RuntimeError(f"{type(self).__name__}.get_extra_state was called, but the module "
                           "does not define it; override get_extra_state and set_extra_state "
                           "together")

    def set_extra_state(self, state: Any) -> None:
        """Restore what ``get_extra_state`` returned (called by ``load_state_dict``)."""
        raise RuntimeError(f"{type(self).__name__}.set_extra_state was called, but the module "
                           "does not define it; override get_extra_state and set_extra_state "
                           "together")

    def load_state_dict(self, state_dict, strict: bool = True,
                        assign: bool = False) -> IncompatibleKeys:
        """Copy values (Tensors or NumPy arrays) into the parameters and buffers, in place.

        Every entry is checked before anything is written, so a failed load leaves the
        model unchanged. Shapes must match; values are converted to each parameter's
        dtype. With ``strict`` (the default) missing and unexpected keys are errors;
        otherwise they are returned as ``(missing_keys, unexpected_keys)``. With
        ``assign=True`` each parameter takes the checkpoint's array itself (its dtype
        too) instead of a copy into its own, as PyTorch's ``assign``.
        """
        if not hasattr(state_dict, "keys"):
            raise TypeError(f"load_state_dict: expected a mapping of names to arrays, got "
                            f"{type(state_dict).__name__}")
        own = self._save_into(OrderedDict(), "", True, hooks=False)
        problems = []
        reported_missing, reported_unexpected = [], []
        state_dict = self._prepare_load(state_dict, strict, reported_missing,
                                        reported_unexpected, problems)
        missing = [k for k in own if k not in state_dict]
        missing += [k for k in reported_missing if k not in missing]
        unexpected = [k for k in state_dict if k not in own]
        unexpected += [k for k in reported_unexpected if k not in unexpected]
        plan = []
        extra = []  # (module, value) for set_extra_state, after every check passed
        for mod_name, module in self.named_modules(remove_duplicate=False):
            key = _join(mod_name, _EXTRA_STATE)
            if _has_extra_state(module) and key in state_dict:
                extra.append((module, state_dict[key]))
        for key, target in own.items():
            if key not in state_dict or key.rpartition(".")[2] == _EXTRA_STATE:
                continue
            value = state_dict[key]
            value = value.array if isinstance(value, Tensor) else value
            try:
                arr = np.asarray(value)
            except Exception as e:  # noqa: BLE001 - report any unconvertible entry by key
                problems.append(f"'{key}': cannot convert {type(value).__name__} to an "
                                f"array ({e})")
                continue
            # a lazy layer's uninitialized parameter takes the checkpoint's shape, as PyTorch's
            waiting = hasattr(target, "materialize")
            if arr.shape != target.shape and not waiting:
                problems.append(f"size mismatch for '{key}': the checkpoint has shape "
                                f"{arr.shape}, the model expects {target.shape}")
                continue
            if arr.dtype.kind not in "biuf":
                problems.append(f"'{key}': expected numbers, got dtype {arr.dtype}")
                continue
            plan.append((target, arr))
        report = IncompatibleKeys(missing, unexpected)
        for _, module in self.named_modules():
            for hook in tuple(module.__dict__.get("_load_state_dict_post_hooks", {}).values()):
                if hook(module, report) is not None:
                    raise RuntimeError(f"{module._describe()}: a load_state_dict post-hook "
                                       "must return None (change incompatible_keys in place)")
        if strict:
            if missing:
                problems.append("missing key(s): " + ", ".join(f"'{k}'" for k in missing))
            if unexpected:
                problems.append("unexpected key(s): " + ", ".join(f"'{k}'" for k in unexpected))
            nested = [k for k in unexpected if isinstance(state_dict.get(k), dict)
                      and any(m in state_dict[k] for m in missing)]
            if missing and nested:  # a whole checkpoint given for the model's part of it
                problems.append(f"the model's entries are under {nested[0]!r}: pass "
                                f"checkpoint[{nested[0]!r}]")
        if problems:
            raise StateDictError(f"load_state_dict for {type(self).__name__}: "
                                 + "; ".join(problems))
        for target, arr in plan:
            if hasattr(target, "materialize"):
                target.materialize(np.array(arr, dtype=target.array.dtype))
            elif assign:
                target.array = arr
            elif isinstance(target.array, np.ndarray) and target.array.flags.writeable:
                target.array[...] = arr  # in place: optimizers keep referring to the same array
            else:
                target.array = np.array(arr, dtype=target.array.dtype)
            target._version += 1
        for module, value in extra:
            module.set_extra_state(value)
        return IncompatibleKeys(missing, unexpected)

    def _prepare_load(self, state_dict, strict: bool, missing: list, unexpected: list,
                      problems: list) -> OrderedDict:
        """A copy of the checkpoint after each module's ``_load_from_state_dict``, parents
        first, as PyTorch calls them: the base method runs the module's load pre-hooks; a
        subclass's override may rename or convert its entries (reading the saved format
        version from ``local_metadata``) before calling super. The values themselves are
        read afterwards by ``load_state_dict``, all or nothing."""
        metadata = getattr(state_dict, "_metadata", None)
        state_dict = OrderedDict(state_dict)
        if metadata is not None:
            state_dict._metadata = metadata
        _mode.loading += 1
        try:
            for mod_name, module in self.named_modules(remove_duplicate=False):
                prefix = mod_name + "." if mod_name else ""
                local_metadata = {} if metadata is None else metadata.get(mod_name, {})
                module._load_from_state_dict(state_dict, prefix, local_metadata, strict,
                                             missing, unexpected, problems)
        finally:
            _mode.loading -= 1
        return state_dict

    def _load_from_state_dict(self, state_dict, prefix: str, local_metadata: dict,
                              strict: bool, missing_keys: list, unexpected_keys: list,
                              error_msgs: list) -> None:
        """Read this module's own entries (``prefix + name``) from ``state_dict``.

        Override it to accept an older checkpoint format: rename or convert entries in
        ``state_dict`` (``local_metadata.get("version")`` is the saving module's
        ``_version``, None when the checkpoint has no metadata), then call super. Inside
        ``load_state_dict`` this base method runs the module's load pre-hooks and leaves
        the copying to ``load_state_dict``, which checks every entry before it writes any.
        """
        for hook, with_module in tuple(self.__dict__.get("_load_state_dict_pre_hooks",
                                                         {}).values()):
            args = (state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                    error_msgs)
            hook(self, *args) if with_module else hook(*args)
        if _mode.loading:
            return
        # called on its own (outside load_state_dict), as PyTorch's: copy what matches
        own = {name: t for registry in (self._parameters, self._buffers)
               for name, t in registry.items()
               if t is not None and name not in self._non_persistent}
        for name, target in own.items():
            key = prefix + name
            if key not in state_dict:
                missing_keys.append(key)
                continue
            value = state_dict[key]
            arr = np.asarray(value.array if isinstance(value, Tensor) else value)
            if arr.shape != target.shape:
                error_msgs.append(f"size mismatch for {key}: copying a param with shape "
                                  f"{arr.shape} from checkpoint, the shape in current model "
                                  f"is {target.shape}.")
                continue
            target.array[...] = arr
            target._version += 1
        if strict:
            for key in state_dict:
                if key.startswith(prefix) and key != prefix + _EXTRA_STATE:
                    first = key[len(prefix):].split(".", 1)[0]
                    if first not in self._modules and first not in own:
                        unexpected_keys.append(key)

    # -- display -------------------------------------------------------------------
    def extra_repr(self) -> str:
        """The arguments shown inside ``Name(...)``; layers override it."""
        return ""

    def _describe(self) -> str:
        """``'2 (Linear 64→10)'``: the path and a short description, for error messages."""
        short = self._short_name()
        return f"{self._path} ({short})" if self._path else short

    def _short_name(self) -> str:
        return type(self).__name__

    def _get_name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        """PyTorch's layout: ``Name(extra_repr)``, children indented as ``(name): ...``."""
        return self._tree(counts=False)

    def summary(self) -> str:
        """The ``repr`` tree with each module's parameter count beside it.

        >>> import chainrule as cr
        >>> print(cr.nn.Sequential(cr.nn.Linear(4, 8), cr.nn.ReLU()).summary())
        Sequential(  # 40 parameters
          (0): Linear(in_features=4, out_features=8, bias=True)  # 40 parameters
          (1): ReLU()
        )
        """
        return self._tree(counts=True)

    def _tree(self, counts: bool) -> str:
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = []
        for name, child in self._modules.items():
            body = "None" if child is None else child._tree(counts)
            child_lines.append(f"({name}): " + body.replace("\n", "\n  "))
        count = ""
        if counts and (self._parameters or self._modules):
            n = self.num_parameters()
            count = f"  # {_format_count(n)}" if n else ""
        head = self._get_name() + "("
        if len(extra_lines) == 1 and not child_lines:
            return f"{head}{extra_lines[0]}){count}"
        if not extra_lines and not child_lines:
            return f"{head}){count}"
        lines = extra_lines + child_lines
        return f"{head}{count}\n  " + "\n  ".join(lines) + "\n)"


def _device_name(value) -> str | None:
    """'cpu', 'cuda' or 'cuda:N' from a string, a device object or a GPU index; None when
    ``value`` names no device."""
    if isinstance(value, str):
        kind = value.split(":")[0]
        return value if kind in ("cpu", "cuda", "mps", "meta", "xpu") else None
    if isinstance(value, int) and not isinstance(value, bool):
        return f"cuda:{value}"
    kind = getattr(value, "type", None)
    if isinstance(kind, str):  # a device object (torch.device-like)
        index = getattr(value, "index", None)
        return kind if index is None else f"{kind}:{index}"
    return None


def _to_arguments(args: tuple, kwargs: dict) -> tuple:
    """(device or None, dtype or None) from ``Module.to``'s PyTorch forms."""
    unknown = set(kwargs) - {"device", "dtype", "non_blocking", "copy", "memory_format"}
    if unknown:
        raise TypeError(f"Module.to: unexpected keyword argument(s) {sorted(unknown)}")
    device, dtype = kwargs.get("device"), kwargs.get("dtype")
    device = None if device is None else _device_name(device) or device
    for a in args:
        if isinstance(a, Tensor):
            device, dtype = a.device, a.dtype
        elif isinstance(a, bool):
            continue  # non_blocking given by position
        elif _device_name(a) is not None:
            device = _device_name(a)
        else:
            try:
                dtype = as_dtype(a)
            except (TypeError, ValueError):
                raise TypeError(f"Module.to: expected a device, a dtype or a Tensor, got "
                                f"{a!r}") from None
    if device is not None and str(device).split(":")[0] not in ("cpu", "cuda"):
        meta = (" The 'meta' device (shapes without data) is not part of chainrule; a module "
                "used only as the template of func.functional_call (the ensembling recipe) "
                "can stay where it is: its own weights are not read."
                if str(device) == "meta" else "")
        raise ValueError(f"Module.to: device {device!r} is not available (chainrule runs on "
                         f"'cpu', and on 'cuda' with the CuPy backend).{meta}")
    return device, dtype


def _convert(t: Tensor, device: str | None, dtype) -> None:
    """Change ``t``'s array in place of the Tensor (same object, new array)."""
    data = t.array
    if dtype is not None and data.dtype.kind in "fc" and data.dtype != dtype:
        data = data.astype(dtype)
    if device is not None and backend.device_of(data) != device.split(":")[0]:
        data = backend.to_device(data, device)
    if data is not t.array:
        t.array = data
        t._version += 1


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _assign_paths(module: Module, path: str) -> None:
    """Give ``module`` and everything below it their paths under a new parent."""
    stack = [(module, path)]
    seen = set()
    while stack:
        m, p = stack.pop()
        if id(m) in seen:
            continue
        seen.add(id(m))
        m.__dict__["_path"] = p
        _update_owned_paths(m)
        for name, child in m.__dict__.get("_modules", {}).items():
            if child is not None:
                stack.append((child, _join(p, name)))
