"""Containers that register what they hold: ModuleDict, ParameterList, ParameterDict.

(``Sequential`` and ``ModuleList`` are in layers.py.) Whatever a container holds is a
sub-module or parameter of it, so ``model.parameters()`` and ``state_dict()`` find it,
under the key or index as its name (``heads.cls.weight``, ``scales.0``).

>>> import chainrule as cr
>>> heads = cr.nn.ModuleDict({"cls": cr.nn.Linear(4, 3), "box": cr.nn.Linear(4, 2)})
>>> [name for name, _ in heads.named_parameters()]
['cls.weight', 'cls.bias', 'box.weight', 'box.bias']
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from .._tensor import Tensor
from .module import Module, Parameter

__all__ = ["ModuleDict", "ParameterDict", "ParameterList"]


def _pairs(values, who: str) -> Iterable[tuple]:
    """(key, value) pairs from a mapping or an iterable of pairs."""
    if isinstance(values, Mapping):
        return list(values.items())
    pairs = []
    for i, item in enumerate(values):
        if not (isinstance(item, (tuple, list)) and len(item) == 2):
            raise TypeError(f"{who}.update: element {i} should be a (key, value) pair, got "
                            f"{type(item).__name__}")
        pairs.append(tuple(item))
    return pairs


def _as_parameter(value, who: str):
    """A Parameter (a Tensor becomes one sharing its array, as PyTorch), or None."""
    if value is None or isinstance(value, Parameter):
        return value
    if isinstance(value, Tensor):
        return Parameter(value)
    raise TypeError(f"{who}: expected a Parameter or a Tensor, got {type(value).__name__}")


def _parameter_line(p) -> str:
    if p is None:
        return "None"
    size = "x".join(map(str, p.shape)) or "()"
    return f"Parameter containing: [{p.dtype} of size {size}]"


class ModuleDict(Module):
    """Sub-modules by name, in insertion order, used like a dict.

    >>> import chainrule as cr
    >>> acts = cr.nn.ModuleDict({"relu": cr.nn.ReLU()})
    >>> acts["tanh"] = cr.nn.Tanh()
    >>> list(acts), len(acts), "relu" in acts
    (['relu', 'tanh'], 2, True)
    """

    def __init__(self, modules: Mapping[str, Module] | Iterable | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        try:
            return self._modules[key]
        except KeyError:
            raise KeyError(f"ModuleDict has no module {key!r} (it has: "
                           f"{', '.join(map(repr, self._modules)) or 'none'})") from None

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, module)

    def __delitem__(self, key: str) -> None:
        self[key]  # a clear KeyError for a missing key
        delattr(self, key)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._modules))

    def __contains__(self, key: object) -> bool:
        return key in self._modules

    def keys(self):
        return self._modules.keys()

    def values(self):
        return self._modules.values()

    def items(self):
        return self._modules.items()

    def update(self, modules) -> None:
        for key, module in _pairs(modules, "ModuleDict"):
            self[key] = module

    def pop(self, key: str) -> Module:
        module = self[key]
        del self[key]
        return module

    def clear(self) -> None:
        for key in list(self._modules):
            del self[key]

    def forward(self, *args, **kwargs):
        raise NotImplementedError("ModuleDict has no forward(); call its modules: "
                                  "self.heads[name](x)")


class ParameterList(Module):
    """Parameters in a list, registered under "0", "1", ... (Tensors become Parameters).

    >>> import chainrule as cr
    >>> scales = cr.nn.ParameterList([cr.nn.Parameter(cr.ones(2)) for _ in range(3)])
    >>> len(scales), [name for name, _ in scales.named_parameters()]
    (3, ['0', '1', '2'])
    """

    def __init__(self, values: Iterable | None = None) -> None:
        super().__init__()
        if values is not None:
            self.extend(values)

    def _index(self, idx: int) -> int:
        n = len(self)
        if not isinstance(idx, int) or isinstance(idx, bool):
            raise TypeError(f"ParameterList indices must be integers or slices, got "
                            f"{type(idx).__name__}")
        if not -n <= idx < n:
            raise IndexError(f"ParameterList index {idx} is out of range for {n} parameters")
        return idx % n

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return ParameterList(list(self._parameters.values())[idx])
        return self._parameters[str(self._index(idx))]

    def __setitem__(self, idx: int, value) -> None:
        self.register_parameter(str(self._index(idx)), _as_parameter(value, "ParameterList"))

    def __len__(self) -> int:
        return len(self._parameters)

    def __iter__(self) -> Iterator:
        return iter(list(self._parameters.values()))

    def append(self, value) -> ParameterList:
        self.register_parameter(str(len(self)), _as_parameter(value, "ParameterList"))
        return self

    def extend(self, values: Iterable) -> ParameterList:
        if isinstance(values, Tensor):
            raise TypeError("ParameterList.extend: expected an iterable of Parameters, got a "
                            "single Tensor; use append")
        for v in values:
            self.append(v)
        return self

    def extra_repr(self) -> str:
        # (indented by two more than the lines of children, as PyTorch prints it)
        return "\n".join(f"  ({k}): {_parameter_line(p)}" for k, p in self._parameters.items())

    def forward(self, *args, **kwargs):
        raise NotImplementedError("ParameterList has no forward(); use its parameters")


class ParameterDict(Module):
    """Parameters by name, used like a dict (Tensors become Parameters).

    >>> import chainrule as cr
    >>> p = cr.nn.ParameterDict({"scale": cr.nn.Parameter(cr.ones(3))})
    >>> p["shift"] = cr.zeros(3)
    >>> sorted(p.keys()), type(p["shift"]).__name__
    (['scale', 'shift'], 'Parameter')
    """

    def __init__(self, parameters: Mapping | Iterable | None = None) -> None:
        super().__init__()
        if parameters is not None:
            self.update(parameters)

    def __getitem__(self, key: str):
        try:
            return self._parameters[key]
        except KeyError:
            raise KeyError(f"ParameterDict has no parameter {key!r} (it has: "
                           f"{', '.join(map(repr, self._parameters)) or 'none'})") from None

    def __setitem__(self, key: str, value) -> None:
        if not isinstance(key, str) or not key or "." in key:
            raise KeyError(f"ParameterDict: invalid key {key!r} (a non-empty string without "
                           "'.')")
        self.register_parameter(key, _as_parameter(value, "ParameterDict"))

    def __delitem__(self, key: str) -> None:
        self[key]
        delattr(self, key)

    def __len__(self) -> int:
        return len(self._parameters)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._parameters))

    def __contains__(self, key: object) -> bool:
        return key in self._parameters

    def keys(self):
        return self._parameters.keys()

    def values(self):
        return self._parameters.values()

    def items(self):
        return self._parameters.items()

    def get(self, key: str, default=None):
        return self._parameters.get(key, default)

    def update(self, parameters) -> None:
        for key, value in _pairs(parameters, "ParameterDict"):
            self[key] = value

    def pop(self, key: str):
        value = self[key]
        del self[key]
        return value

    def clear(self) -> None:
        for key in list(self._parameters):
            del self[key]

    def extra_repr(self) -> str:
        # (indented by two more than the lines of children, as PyTorch prints it)
        return "\n".join(f"  ({k}): {_parameter_line(p)}" for k, p in self._parameters.items())

    def forward(self, *args, **kwargs):
        raise NotImplementedError("ParameterDict has no forward(); use its parameters")
