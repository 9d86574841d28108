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

import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterator
from types import MappingProxyType
from typing import Any, NamedTuple

import numpy as np

from ..tensor import Tensor, _init_leaf, as_dtype, float32, float64, get_default_dtype

# ---------------------------------------------------------------------------
# "Which module is running?" -- tracked only when someone asks (detect_anomaly sets
# _TRACK_PATH), so that an ordinary forward pays a single global read.
# ---------------------------------------------------------------------------
_TRACK_PATH = False
_path_stack: list = []


def set_track_path(flag: bool) -> bool:
    """Turn the current-module-path stack on or off; returns the previous setting."""
    global _TRACK_PATH
    previous = _TRACK_PATH
    _TRACK_PATH = bool(flag)
    if not _TRACK_PATH:
        _path_stack.clear()
    return previous


def current_module_path() -> str | None:
    """Path of the innermost module whose forward is running (``""`` for the root), or
    None outside any forward or when tracking is off (see ``set_track_path``)."""
    return _path_stack[-1] if _path_stack else None


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
            _init_leaf(self, data.data)
            self.name = data.name
        else:
            Tensor.__init__(self, data)
        if self.data.dtype.kind not in "fc":
            raise TypeError(f"Parameter: weights must be floating point, got dtype "
                            f"{self.data.dtype}; convert with .float() first")
        self.requires_grad = bool(requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + Tensor.__repr__(self)


class RemovableHandle:
    """Returned by ``register_forward_hook``: ``handle.remove()`` unregisters the hook."""

    _next_id = 0

    def __init__(self, hooks: dict):
        self._hooks = hooks
        self.id = RemovableHandle._next_id
        RemovableHandle._next_id += 1

    def remove(self) -> None:
        self._hooks.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()
        return False


class IncompatibleKeys(NamedTuple):
    """What ``load_state_dict(strict=False)`` skipped."""

    missing_keys: list
    unexpected_keys: list


class StateDictError(RuntimeError):
    """``load_state_dict`` found missing, unexpected or wrongly shaped entries."""


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
    _forward_hooks = _forward_pre_hooks = MappingProxyType({})

    def __init__(self) -> None:
        d = self.__dict__
        d["training"] = True
        d["_parameters"] = OrderedDict()
        d["_buffers"] = OrderedDict()
        d["_non_persistent"] = set()
        d["_modules"] = OrderedDict()
        d["_forward_hooks"] = OrderedDict()
        d["_forward_pre_hooks"] = OrderedDict()
        d["_path"] = ""

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    # -- calling ----------------------------------------------------------------
    def __call__(self, *args, **kwargs):
        if _TRACK_PATH or self._forward_hooks or self._forward_pre_hooks:
            return self._call_slow(args, kwargs)
        out = self.forward(*args, **kwargs)
        if isinstance(out, Tensor) and getattr(out, "_module", None) is None:
            out._module = self._path
        return out

    def _call_slow(self, args, kwargs):
        for hook in tuple(self._forward_pre_hooks.values()):
            result = hook(self, args)
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)
        tracking = _TRACK_PATH
        if tracking:
            _path_stack.append(self._path)
        try:
            out = self.forward(*args, **kwargs)
        finally:
            if tracking and _path_stack:
                _path_stack.pop()
        for hook in tuple(self._forward_hooks.values()):
            result = hook(self, args, out)
            if result is not None:
                out = result
        if isinstance(out, Tensor) and getattr(out, "_module", None) is None:
            out._module = self._path
        return out

    def register_forward_hook(self, hook: Callable) -> RemovableHandle:
        """Call ``hook(module, inputs, output)`` after every forward (as PyTorch); a
        non-None return value replaces the output. Returns a handle with ``remove()``."""
        self._check_init()
        handle = RemovableHandle(self._forward_hooks)
        self._forward_hooks[handle.id] = hook
        return handle

    def register_forward_pre_hook(self, hook: Callable) -> RemovableHandle:
        """Call ``hook(module, inputs)`` before every forward; a non-None return value
        replaces the inputs."""
        self._check_init()
        handle = RemovableHandle(self._forward_pre_hooks)
        self._forward_pre_hooks[handle.id] = hook
        return handle

    # -- registration -------------------------------------------------------------
    def _check_init(self) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"{type(self).__name__}: call super().__init__() at the start of __init__ "
                "before assigning parameters, modules or hooks")

    def __setattr__(self, name: str, value: Any) -> None:
        d = self.__dict__
        params = d.get("_parameters")
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
    def named_modules(self, prefix: str = "", memo: set | None = None
                      ) -> Iterator[tuple[str, Module]]:
        """(name, module) for this module and all below it, each module once."""
        memo = set() if memo is None else memo
        if id(self) in memo:
            return
        memo.add(id(self))
        yield prefix, self
        for name, child in self._modules.items():
            if child is not None:
                yield from child.named_modules(_join(prefix, name), memo)

    def modules(self) -> Iterator[Module]:
        for _, m in self.named_modules():
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

    def named_parameters(self, prefix: str = "", recurse: bool = True
                         ) -> Iterator[tuple[str, Parameter]]:
        """(path, parameter) pairs such as ``("layers.0.weight", W)``; a parameter shared
        between modules is listed once, under its first name."""
        return self._named_members("_parameters", prefix, recurse)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Every trainable weight, each once: what an optimizer takes."""
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True
                      ) -> Iterator[tuple[str, Tensor]]:
        return self._named_members("_buffers", prefix, recurse)

    def _named_members(self, registry: str, prefix: str, recurse: bool) -> Iterator:
        """(path, tensor) for each entry of ``registry`` ("_parameters" or "_buffers") of
        this module (and those below it with ``recurse``), each tensor once."""
        seen = set()
        modules = self.named_modules(prefix) if recurse else [(prefix, self)]
        for mod_name, module in modules:
            for name, t in getattr(module, registry).items():
                if t is not None and id(t) not in seen:
                    seen.add(id(t))
                    yield _join(mod_name, name), t

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def num_parameters(self, trainable_only: bool = False) -> int:
        """Total number of weights (each shared parameter counted once)."""
        return sum(p.data.size for p in self.parameters()
                   if p.requires_grad or not trainable_only)

    def get_submodule(self, path: str) -> Module:
        """The module at ``path`` (``"layers.2"``); ``""`` is this module."""
        module = self
        for part in filter(None, path.split(".")):
            child = module._modules.get(part)
            if child is None:
                raise AttributeError(f"get_submodule: {type(module).__name__} has no "
                                     f"submodule '{part}' (in path '{path}')")
            module = child
        return module

    # -- state ---------------------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        """Training mode (Dropout active); returns self."""
        for m in self.modules():
            m.__dict__["training"] = bool(mode)
        return self

    def eval(self) -> Module:
        """Evaluation mode (Dropout passes inputs through); returns self."""
        return self.train(False)

    def requires_grad_(self, flag: bool = True) -> Module:
        """Freeze (False) or unfreeze every parameter."""
        for p in self.parameters():
            p.requires_grad = bool(flag)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget accumulated gradients: ``p.grad = None`` (or zeros)."""
        for p in self.parameters():
            if set_to_none or p.grad is None:
                p.grad = None
            else:
                p.grad = Tensor(np.zeros_like(p.data))

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call ``fn`` on every sub-module (children first) and on self, as PyTorch;
        e.g. ``model.apply(init_weights)``."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    def to(self, dtype) -> Module:
        """Convert every floating parameter and buffer (and gradient) to ``dtype`` in
        place: ``model.to(cr.float64)``. Devices are not supported here yet."""
        if isinstance(dtype, str) and dtype.split(":")[0] in ("cpu", "cuda"):
            if dtype.split(":")[0] == "cpu":
                return self
            raise NotImplementedError("Module.to: moving modules to a GPU is not supported yet")
        dt = as_dtype(dtype)
        if dt.kind != "f":
            raise TypeError(f"Module.to: expected a floating dtype, got {dt}")
        for t in list(self.parameters()) + list(self.buffers()):
            if t.data.dtype.kind == "f" and t.data.dtype != dt:
                t.data = t.data.astype(dt)
                t._version += 1
                if t.grad is not None:
                    t.grad = Tensor(t.grad.data.astype(dt))
        return self

    def float(self) -> Module:
        return self.to(float32)

    def double(self) -> Module:
        return self.to(float64)

    def state_dict(self, prefix: str = "", keep_vars: bool = False) -> OrderedDict:
        """Every parameter and persistent buffer by path, e.g. ``{"0.weight": W, ...}``.

        The values are detached Tensors sharing the modules' arrays (as PyTorch): copy
        them (``{k: v.numpy().copy() ...}``) to keep a snapshot while training goes on.
        """
        out = OrderedDict()
        seen = set()
        for mod_name, module in self.named_modules(prefix):
            for name, p in module._parameters.items():
                if p is not None and id(p) not in seen:
                    seen.add(id(p))
                    out[_join(mod_name, name)] = p if keep_vars else p.detach()
            for name, b in module._buffers.items():
                if b is not None and name not in module._non_persistent and id(b) not in seen:
                    seen.add(id(b))
                    out[_join(mod_name, name)] = b if keep_vars else b.detach()
        return out

    def load_state_dict(self, state_dict, strict: bool = True) -> IncompatibleKeys:
        """Copy values (Tensors or NumPy arrays) into the parameters and buffers, in place.

        Every entry is checked before anything is written, so a failed load leaves the
        model unchanged. Shapes must match; values are converted to each parameter's
        dtype. With ``strict`` (the default) missing and unexpected keys are errors;
        otherwise they are returned as ``(missing_keys, unexpected_keys)``.
        """
        if not hasattr(state_dict, "keys"):
            raise TypeError(f"load_state_dict: expected a mapping of names to arrays, got "
                            f"{type(state_dict).__name__}")
        own = self.state_dict(keep_vars=True)
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        problems = []
        plan = []
        for key, target in own.items():
            if key not in state_dict:
                continue
            value = state_dict[key]
            value = value.data if isinstance(value, Tensor) else value
            try:
                arr = np.asarray(value)
            except Exception as e:  # noqa: BLE001 - report any unconvertible entry by key
                problems.append(f"'{key}': cannot convert {type(value).__name__} to an "
                                f"array ({e})")
                continue
            if arr.shape != target.shape:
                problems.append(f"size mismatch for '{key}': the checkpoint has shape "
                                f"{arr.shape}, the model expects {target.shape}")
                continue
            if arr.dtype.kind not in "biuf":
                problems.append(f"'{key}': expected numbers, got dtype {arr.dtype}")
                continue
            plan.append((target, arr))
        if strict:
            if missing:
                problems.append("missing key(s): " + ", ".join(f"'{k}'" for k in missing))
            if unexpected:
                problems.append("unexpected key(s): " + ", ".join(f"'{k}'" for k in unexpected))
        if problems:
            raise StateDictError(f"load_state_dict for {type(self).__name__}: "
                                 + "; ".join(problems))
        for target, arr in plan:
            if isinstance(target.data, np.ndarray) and target.data.flags.writeable:
                target.data[...] = arr  # in place: optimizers keep referring to the same array
            else:
                target.data = np.array(arr, dtype=target.data.dtype)
            target._version += 1
        return IncompatibleKeys(missing, unexpected)

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

    def __repr__(self) -> str:
        extra = self.extra_repr()
        n = self.num_parameters() if self._parameters or self._modules else 0
        count = f"  # {_format_count(n)}" if n else ""
        if not self._modules:
            return f"{type(self).__name__}({extra}){count}"
        lines = [f"  {line}" for line in extra.split("\n")] if extra else []
        for name, child in self._modules.items():
            body = repr(child).split("\n")
            lines.append(f"  ({name}): " + body[0])
            lines.extend("  " + line for line in body[1:])
        return f"{type(self).__name__}({count}\n" + "\n".join(lines) + "\n)"


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
