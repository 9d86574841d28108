"""``chainrule.nn.utils.prune``: zeroing parts of a parameter through a mask, as PyTorch.

Pruning ``module.weight`` moves the parameter to ``weight_orig``, adds the buffer
``weight_mask`` (1 = kept, 0 = pruned) and makes ``module.weight`` the product
``weight_orig * weight_mask``, recomputed by a forward pre-hook before every call, so
pruned entries stay zero while training goes on (their gradient is zero). Pruning the
same parameter again prunes among the entries (or channels) still kept. ``remove``
makes the pruning permanent: ``weight`` becomes a plain parameter again.

>>> import chainrule as cr
>>> layer = cr.nn.Linear(4, 2)
>>> with cr.no_grad():
...     _ = layer.weight.copy_(cr.tensor([[1.0, -5.0, 0.5, 3.0], [2.0, 0.1, 4.0, 0.2]]))
>>> _ = l1_unstructured(layer, "weight", amount=0.5)
>>> layer.weight.tolist()
[[0.0, -5.0, 0.0, 3.0], [2.0, 0.0, 4.0, 0.0]]
>>> [n for n, _ in layer.named_buffers()], is_pruned(layer)
(['weight_mask'], True)
"""

from __future__ import annotations

import numbers
from abc import ABC, abstractmethod

import numpy as np

from .._tensor import Tensor
from ..autograd import no_grad
from ..ops import primitives as P
from ..random import numpy_generator
from .module import Module

__all__ = ["BasePruningMethod", "CustomFromMask", "Identity", "L1Unstructured",
           "LnStructured", "PruningContainer", "RandomStructured", "RandomUnstructured",
           "custom_from_mask", "global_unstructured", "identity", "is_pruned",
           "l1_unstructured", "ln_structured", "random_structured", "random_unstructured",
           "remove"]


def _count(amount, size: int, op: str) -> int:
    """How many of ``size`` units to prune: an int as given, a float in [0, 1] as a
    fraction (rounded as Python's round, as PyTorch)."""
    if isinstance(amount, bool) or not isinstance(amount, numbers.Real):
        raise TypeError(f"{op}: amount must be an int or a float, got {type(amount).__name__}")
    if isinstance(amount, numbers.Integral):
        if amount < 0:
            raise ValueError(f"{op}: amount={amount} must be ≥ 0")
        if amount > size:
            raise ValueError(f"{op}: amount={amount} is larger than the {size} units there are")
        return int(amount)
    if not 0.0 <= amount <= 1.0:
        raise ValueError(f"{op}: a fractional amount must be in [0, 1], got {amount}")
    return round(amount * size)


def _channel_norms(t: np.ndarray, n, dim: int) -> np.ndarray:
    """The ``n``-norm of each slice of ``t`` along ``dim`` ('fro' is 2)."""
    flat = np.moveaxis(t, dim, 0).reshape(t.shape[dim], -1)
    return np.linalg.norm(flat, ord=2 if n == "fro" else n, axis=1)


class BasePruningMethod(ABC):
    """A way of choosing what to prune: ``compute_mask(t, default_mask)`` returns the new
    mask (as an array) for the values ``t`` given the mask so far."""

    PRUNING_TYPE = "unstructured"
    _tensor_name: str = ""

    @abstractmethod
    def compute_mask(self, t: np.ndarray, default_mask: np.ndarray) -> np.ndarray:
        ...

    def __call__(self, module: Module, inputs) -> None:
        object.__setattr__(module, self._tensor_name, self.apply_mask(module))

    def apply_mask(self, module: Module) -> Tensor:
        orig = getattr(module, self._tensor_name + "_orig")
        mask = getattr(module, self._tensor_name + "_mask")
        return P.mul(orig, mask)

    @classmethod
    def apply(cls, module: Module, name: str, *args, importance_scores=None, **kwargs):
        """Prune ``module.<name>`` with a method of this class built from the arguments
        (combined with an earlier pruning of the same tensor)."""
        old = None
        for key, hook in list(module._forward_pre_hooks.items()):
            if isinstance(hook, BasePruningMethod) and hook._tensor_name == name:
                old = hook
                del module._forward_pre_hooks[key]
        method = cls(*args, **kwargs)
        method._tensor_name = name
        if old is not None:
            container = old if isinstance(old, PruningContainer) else PruningContainer(old)
            container.add_pruning_method(method)
            method = container
            orig = getattr(module, name + "_orig")
            current = getattr(module, name)  # the pruned values: what importance is read from
        else:
            orig = current = module._parameters.get(name)
            if orig is None:
                raise ValueError(f"prune: {type(module).__name__} has no parameter '{name}'")
        values = current.detach().numpy() if importance_scores is None else \
            _array(importance_scores)
        if values.shape != orig.shape:
            raise ValueError(f"prune: importance_scores of shape {values.shape} for "
                             f"'{name}' of shape {orig.shape}")
        default = getattr(module, name + "_mask").numpy() if old is not None else \
            np.ones(orig.shape, dtype=orig.array.dtype)
        mask = method.compute_mask(values, default).astype(orig.array.dtype)
        if old is None:
            delattr(module, name)
            module.register_parameter(name + "_orig", orig)
            module.register_buffer(name + "_mask", Tensor(mask))
        else:
            buffer = getattr(module, name + "_mask")
            buffer.array[...] = mask
            buffer._version += 1
        object.__setattr__(module, name, method.apply_mask(module))
        module.register_forward_pre_hook(method)
        return method

    def remove(self, module: Module) -> None:
        """Make the pruning permanent: ``<name>`` becomes a parameter holding orig·mask."""
        name = self._tensor_name
        with no_grad():
            value = self.apply_mask(module)
        orig = getattr(module, name + "_orig")
        delattr(module, name + "_orig")
        delattr(module, name + "_mask")
        if name in module.__dict__:
            object.__delattr__(module, name)
        # the same Parameter object (as PyTorch): an optimizer holding it, and its .grad,
        # carry on
        orig.array[...] = value.array
        orig._version += 1
        module.register_parameter(name, orig)


class PruningContainer(BasePruningMethod):
    """Successive prunings of one tensor: each new method chooses among what the
    earlier ones kept (entries for unstructured methods, channels for structured)."""

    def __init__(self, *methods: BasePruningMethod):
        self._pruning_methods: tuple = ()
        for m in methods:
            self.add_pruning_method(m)

    def add_pruning_method(self, method: BasePruningMethod) -> None:
        if not isinstance(method, BasePruningMethod):
            raise TypeError(f"PruningContainer: {type(method).__name__} is not a pruning "
                            "method")
        if self._pruning_methods and method._tensor_name != self._tensor_name:
            raise ValueError(f"PruningContainer: method for '{method._tensor_name}' added to a "
                             f"container for '{self._tensor_name}'")
        self._tensor_name = method._tensor_name
        self._pruning_methods += (method,)

    def __len__(self) -> int:
        return len(self._pruning_methods)

    def __iter__(self):
        return iter(self._pruning_methods)

    def __getitem__(self, i):
        return self._pruning_methods[i]

    def compute_mask(self, t: np.ndarray, default_mask: np.ndarray) -> np.ndarray:
        method = self._pruning_methods[-1]
        new = default_mask.astype(t.dtype).copy()
        if method.PRUNING_TYPE == "unstructured":
            keep = default_mask == 1
            new[keep] = method.compute_mask(t[keep], default_mask[keep])
        elif method.PRUNING_TYPE == "structured":
            dim = method.dim % t.ndim
            others = tuple(a for a in range(t.ndim) if a != dim)
            channels = default_mask.sum(axis=others) != 0
            index = [slice(None)] * t.ndim
            index[dim] = channels
            index = tuple(index)
            new[index] = method.compute_mask(t[index], default_mask[index])
        elif method.PRUNING_TYPE == "global":
            new = method.compute_mask(t, default_mask)
        else:
            raise ValueError(f"PruningContainer: unknown PRUNING_TYPE "
                             f"{method.PRUNING_TYPE!r}")
        return new


class Identity(BasePruningMethod):
    """Prunes nothing (adds the mask of ones)."""

    PRUNING_TYPE = "unstructured"

    def compute_mask(self, t, default_mask):
        return default_mask.copy()


class RandomUnstructured(BasePruningMethod):
    """Prunes ``amount`` entries chosen at random (chainrule's random stream)."""

    PRUNING_TYPE = "unstructured"

    def __init__(self, amount):
        self.amount = amount

    def compute_mask(self, t, default_mask):
        k = _count(self.amount, t.size, "random_unstructured")
        mask = default_mask.copy().reshape(-1)
        if k:
            mask[numpy_generator().permutation(t.size)[:k]] = 0
        return mask.reshape(t.shape)


class L1Unstructured(BasePruningMethod):
    """Prunes the ``amount`` entries of smallest magnitude."""

    PRUNING_TYPE = "unstructured"

    def __init__(self, amount):
        self.amount = amount

    def compute_mask(self, t, default_mask):
        k = _count(self.amount, t.size, "l1_unstructured")
        mask = default_mask.copy().reshape(-1)
        if k:
            mask[np.argsort(np.abs(t).reshape(-1), kind="stable")[:k]] = 0
        return mask.reshape(t.shape)


class RandomStructured(BasePruningMethod):
    """Prunes ``amount`` whole channels along ``dim``, chosen at random."""

    PRUNING_TYPE = "structured"

    def __init__(self, amount, dim: int = -1):
        self.amount, self.dim = amount, dim

    def compute_mask(self, t, default_mask):
        dim = self.dim % t.ndim
        k = _count(self.amount, t.shape[dim], "random_structured")
        chosen = numpy_generator().permutation(t.shape[dim])[k:]
        return _keep_channels(default_mask, dim, chosen)


class LnStructured(BasePruningMethod):
    """Prunes the ``amount`` channels along ``dim`` of smallest ``n``-norm."""

    PRUNING_TYPE = "structured"

    def __init__(self, amount, n, dim: int = -1):
        self.amount, self.n, self.dim = amount, n, dim

    def compute_mask(self, t, default_mask):
        dim = self.dim % t.ndim
        k = _count(self.amount, t.shape[dim], "ln_structured")
        norms = _channel_norms(t, self.n, dim)
        keep = np.argsort(-norms, kind="stable")[:t.shape[dim] - k]
        return _keep_channels(default_mask, dim, keep)


class CustomFromMask(BasePruningMethod):
    """Prunes where the given ``mask`` is 0."""

    PRUNING_TYPE = "global"

    def __init__(self, mask):
        self.mask = _array(mask)

    def compute_mask(self, t, default_mask):
        if self.mask.shape != default_mask.shape:
            raise ValueError(f"custom_from_mask: mask of shape {self.mask.shape} for a tensor "
                             f"of shape {default_mask.shape}")
        return default_mask * self.mask.astype(default_mask.dtype)


def _keep_channels(default_mask: np.ndarray, dim: int, keep) -> np.ndarray:
    mask = np.zeros_like(default_mask)
    index = [slice(None)] * default_mask.ndim
    index[dim] = np.asarray(keep, dtype=np.int64)
    mask[tuple(index)] = 1
    return mask * default_mask


def _array(value) -> np.ndarray:
    return value.detach().numpy() if isinstance(value, Tensor) else np.asarray(value)


def identity(module: Module, name: str) -> Module:
    Identity.apply(module, name)
    return module


def random_unstructured(module: Module, name: str, amount) -> Module:
    RandomUnstructured.apply(module, name, amount)
    return module


def l1_unstructured(module: Module, name: str, amount, importance_scores=None) -> Module:
    L1Unstructured.apply(module, name, amount, importance_scores=importance_scores)
    return module


def random_structured(module: Module, name: str, amount, dim: int) -> Module:
    RandomStructured.apply(module, name, amount, dim)
    return module


def ln_structured(module: Module, name: str, amount, n, dim: int,
                  importance_scores=None) -> Module:
    LnStructured.apply(module, name, amount, n, dim, importance_scores=importance_scores)
    return module


def custom_from_mask(module: Module, name: str, mask) -> Module:
    CustomFromMask.apply(module, name, mask)
    return module


def global_unstructured(parameters, pruning_method, importance_scores=None, **kwargs):
    """Prune across several tensors at once (``[(module, "weight"), ...]``), e.g. the
    ``amount`` smallest entries of all of them together with ``L1Unstructured``."""
    parameters = list(parameters)
    if not parameters:
        raise ValueError("global_unstructured: no parameters to prune")
    scores = importance_scores or {}
    values, masks, sizes = [], [], []
    for module, name in parameters:
        current = getattr(module, name)
        score = scores.get((module, name), current)
        values.append(_array(score).reshape(-1))
        mask = getattr(module, name + "_mask", None)
        masks.append(np.ones(current.numel(), current.array.dtype) if mask is None
                     else mask.numpy().reshape(-1))
        sizes.append(current.shape)
    method = pruning_method(**kwargs)
    method._tensor_name = "temp"
    if method.PRUNING_TYPE != "unstructured":
        raise TypeError(f"global_unstructured: {pruning_method.__name__} is "
                        f"{method.PRUNING_TYPE}; only unstructured methods prune globally")
    container = PruningContainer(method)
    final = container.compute_mask(np.concatenate(values), np.concatenate(masks))
    start = 0
    for (module, name), shape in zip(parameters, sizes):
        n = int(np.prod(shape))
        custom_from_mask(module, name, final[start:start + n].reshape(shape))
        start += n


def remove(module: Module, name: str) -> Module:
    """Make the pruning of ``module.<name>`` permanent (drop ``_orig``, ``_mask`` and the
    hook; ``<name>`` is a parameter holding the pruned values)."""
    for key, hook in list(module._forward_pre_hooks.items()):
        if isinstance(hook, BasePruningMethod) and hook._tensor_name == name:
            hook.remove(module)
            del module._forward_pre_hooks[key]
            return module
    raise ValueError(f"remove: parameter '{name}' of {type(module).__name__} is not pruned")


def is_pruned(module: Module) -> bool:
    """Whether ``module`` or any module below it has a pruned tensor."""
    return any(isinstance(hook, BasePruningMethod)
               for m in module.modules() for hook in m._forward_pre_hooks.values())
