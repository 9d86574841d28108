"""``chainrule.nn.utils.parametrize``: a module attribute computed from other parameters.

``register_parametrization(module, "weight", P())`` moves the parameter to
``module.parametrizations.weight.original`` (or ``original0``, ``original1``, ... when
``P.right_inverse`` returns several tensors) and makes ``module.weight`` a property that
returns ``P(original)`` each time it is read, on the graph, so gradients reach the
original parameters. As PyTorch, the module's class becomes a subclass named
``Parametrized<Class>`` that holds the property, and the state_dict keys are PyTorch's.

>>> import chainrule as cr
>>> class Symmetric(cr.nn.Module):
...     def forward(self, x):
...         return x.triu() + x.triu(1).transpose(0, 1)
>>> layer = register_parametrization(cr.nn.Linear(3, 3), "weight", Symmetric())
>>> bool((layer.weight == layer.weight.T).all())
True
>>> list(layer.state_dict())
['bias', 'parametrizations.weight.original']
"""

from __future__ import annotations

import contextlib
import threading

from .._tensor import Tensor
from ..autograd import no_grad
from .containers import ModuleDict
from .layers import ModuleList
from .module import Module, Parameter

__all__ = ["ParametrizationList", "cached", "is_parametrized", "register_parametrization",
           "remove_parametrizations", "type_before_parametrizations"]

_cache = threading.local()  # inside ``cached()``: {(id(module), name): value}


@contextlib.contextmanager
def cached():
    """Inside this block a parametrized attribute is computed once and reused (as
    PyTorch's ``parametrize.cached()``): for a weight read many times per step."""
    outer = getattr(_cache, "values", None)
    _cache.values = {} if outer is None else outer
    try:
        yield
    finally:
        _cache.values = outer


class ParametrizationList(ModuleList):
    """The parametrizations of one attribute, applied in order, and the parameter(s)
    they start from (``original``, or ``original0``, ``original1``, ...)."""

    def __init__(self, modules, original: Tensor, unsafe: bool = False):
        super().__init__(modules)
        self.unsafe = unsafe
        first = modules[0]
        with no_grad():
            value = first.right_inverse(original) if hasattr(first, "right_inverse") \
                else original
        if isinstance(value, Tensor):
            self.is_tensor = True
            self.ntensors = 1
            self.original = _as_parameter(value, original)
        else:
            values = tuple(value)
            if not values or not all(isinstance(v, Tensor) for v in values):
                raise ValueError(f"register_parametrization: {type(first).__name__}."
                                 f"right_inverse must return a Tensor or a sequence of "
                                 f"Tensors, got {type(value).__name__}")
            self.is_tensor = False
            self.ntensors = len(values)
            for i, v in enumerate(values):
                setattr(self, f"original{i}", _as_parameter(v, original))

    def originals(self) -> tuple:
        if self.is_tensor:
            return (self.original,)
        return tuple(getattr(self, f"original{i}") for i in range(self.ntensors))

    def right_inverse(self, value) -> None:
        """Set the original parameter(s) so that the attribute reads ``value``: the
        parametrizations' ``right_inverse`` in reverse order, written in place."""
        with no_grad():
            for module in reversed(list(self)[1:]):
                if not hasattr(module, "right_inverse"):
                    raise RuntimeError(f"parametrization {type(module).__name__} has no "
                                       "right_inverse; the attribute cannot be assigned")
                value = module.right_inverse(value)
            first = self[0]
            if hasattr(first, "right_inverse"):
                value = first.right_inverse(value)
            values = (value,) if self.is_tensor else tuple(value)
            for target, v in zip(self.originals(), values):
                v = v if isinstance(v, Tensor) else Tensor(v)
                if v.shape != target.shape:
                    raise ValueError(f"parametrization: assigning a value of shape {v.shape} "
                                     f"to an original of shape {target.shape}")
                target.copy_(v)

    def forward(self):
        modules = list(self)
        x = modules[0](*self.originals())
        for module in modules[1:]:
            x = module(x)
        return x


def _as_parameter(value: Tensor, like: Tensor) -> Parameter:
    requires = like.requires_grad if isinstance(like, Tensor) else True
    return Parameter(value.array.copy(), requires_grad=requires)


def _parametrized_class(cls: type) -> type:
    """The subclass ``Parametrized<cls>`` that holds the properties (made once per class
    and module: a property added for one module must not change another's class)."""
    return type(f"Parametrized{cls.__name__}", (cls,), {"_is_parametrized_class": True})


def _property(name: str) -> property:
    def get(self):
        values = getattr(_cache, "values", None)
        if values is not None:
            key = (id(self), name)
            if key not in values:
                values[key] = self.parametrizations[name]()
            return values[key]
        return self.parametrizations[name]()

    def set(self, value):
        self.parametrizations[name].right_inverse(value)

    return property(get, set)


def register_parametrization(module: Module, tensor_name: str, parametrization: Module,
                             *, unsafe: bool = False) -> Module:
    """Make ``module.<tensor_name>`` the output of ``parametrization`` (a Module whose
    ``forward`` maps the original tensor(s) to the value, with an optional
    ``right_inverse``); a second call on the same name chains another one. Returns the
    module."""
    if not isinstance(parametrization, Module):
        raise TypeError(f"register_parametrization: the parametrization must be an "
                        f"nn.Module, got {type(parametrization).__name__}")
    if is_parametrized(module, tensor_name):
        plist = module.parametrizations[tensor_name]
        if not unsafe:
            current = getattr(module, tensor_name)
            new = parametrization(current)
            if not isinstance(new, Tensor) or new.shape != current.shape:
                raise ValueError(f"register_parametrization: {type(parametrization).__name__}"
                                 f" changes the shape of '{tensor_name}' from "
                                 f"{current.shape} (pass unsafe=True to allow it)")
        plist.append(parametrization)
        return module
    if tensor_name in module._parameters:
        original = module._parameters[tensor_name]
    elif tensor_name in module._buffers:
        original = module._buffers[tensor_name]
    else:
        raise ValueError(f"register_parametrization: {type(module).__name__} has no "
                         f"parameter or buffer '{tensor_name}'")
    if original is None:
        raise ValueError(f"register_parametrization: '{tensor_name}' of "
                         f"{type(module).__name__} is None")
    plist = ParametrizationList([parametrization], original, unsafe=unsafe)
    if not unsafe:
        value = plist()
        if not isinstance(value, Tensor) or value.shape != original.shape:
            got = value.shape if isinstance(value, Tensor) else type(value).__name__
            raise ValueError(f"register_parametrization: {type(parametrization).__name__} "
                             f"maps '{tensor_name}' of shape {original.shape} to {got} "
                             "(pass unsafe=True to allow a change of shape)")
    delattr(module, tensor_name)
    if not getattr(type(module), "_is_parametrized_class", False):
        module.__class__ = _parametrized_class(type(module))
        module.parametrizations = ModuleDict()
    setattr(type(module), tensor_name, _property(tensor_name))
    module.parametrizations[tensor_name] = plist
    return module


def is_parametrized(module: Module, tensor_name: str | None = None) -> bool:
    """Whether ``module`` (or its attribute ``tensor_name``) is parametrized."""
    plists = module._modules.get("parametrizations")
    if not getattr(type(module), "_is_parametrized_class", False) or plists is None:
        return False
    return len(plists) > 0 if tensor_name is None else tensor_name in plists


def type_before_parametrizations(module: Module) -> type:
    """The module's class before ``register_parametrization`` changed it."""
    cls = type(module)
    return cls.__bases__[0] if getattr(cls, "_is_parametrized_class", False) else cls


def remove_parametrizations(module: Module, tensor_name: str,
                            leave_parametrized: bool = True) -> Module:
    """Undo ``register_parametrization``: the attribute becomes a plain parameter again,
    holding its current (parametrized) value, or the original with
    ``leave_parametrized=False``."""
    if not is_parametrized(module, tensor_name):
        raise ValueError(f"remove_parametrizations: {type(module).__name__} has no "
                         f"parametrization on '{tensor_name}'")
    plist = module.parametrizations[tensor_name]
    if leave_parametrized:
        with no_grad():
            value = getattr(module, tensor_name)
        first = plist.originals()[0]
        if plist.is_tensor and first.shape == value.shape:
            # the original Parameter itself takes the value (as PyTorch's set_), so an
            # optimizer holding it carries on
            first.array = value.array.astype(first.array.dtype, copy=True)
            first._version += 1
            param = first
        else:
            param = Parameter(value.array.copy(), requires_grad=first.requires_grad)
    else:
        if not plist.is_tensor:
            raise ValueError("remove_parametrizations: leave_parametrized=False needs a "
                             "parametrization with a single original tensor")
        param = plist.original
    del module.parametrizations[tensor_name]
    delattr(type(module), tensor_name)
    module.register_parameter(tensor_name, param)
    if len(module.parametrizations) == 0:
        del module.parametrizations
        module.__class__ = type_before_parametrizations(module)
    return module
