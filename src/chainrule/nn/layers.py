"""Layers: Linear, activations, Dropout, and the containers Sequential, ModuleList, MLP."""

from __future__ import annotations

import itertools
import math
from collections import OrderedDict
from collections.abc import Iterable, Iterator

import numpy as np

from .._tensor import Tensor, as_dtype, as_tensor, get_default_dtype
from ..ops import composite as C
from ..ops import nn_ops
from ..ops import primitives as P
from ..random import numpy_generator
from . import functional as F
from . import init
from . import module as _module_mod
from .arguments import _dtype_mismatch
from .layers_conv import Conv2d, MaxPool2d
from .module import Module, Parameter, _assign_paths, _join


# Sequential runs a Linear followed by a ReLU as one fused node (see _forward_fused);
# set_fusion(False) keeps one node per layer, e.g. to look at every layer's output.
def set_fusion(enabled: bool) -> bool:
    """Let ``Sequential`` fuse Linear + ReLU pairs into one graph node (the default), or
    not, in this thread; returns the previous setting. Fusion never changes values or
    gradients; it is off while ``detect_anomaly`` tracks module paths."""
    previous = _module_mod._mode.fuse
    _module_mod._mode.fuse = bool(enabled)
    return previous

__all__ = [
    "MLP",
    "Bilinear",
    "Dropout",
    "Flatten",
    "Identity",
    "LeakyReLU",
    "Linear",
    "LogSoftmax",
    "ModuleList",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Softmax",
    "Tanh",
    "Unflatten",
    "set_fusion",
]


class Identity(Module):
    """Returns its input (arguments are accepted and ignored, as PyTorch)."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, x):
        return x


class Linear(Module):
    """y = x Wᵀ + b, with W of shape (out_features, in_features).

    Weights start as small random noise scaled by the fan-in, as PyTorch:
    W, b ~ U(-1/√in, 1/√in) (kaiming_uniform with a = √5). A Tensor input must have the
    layer's dtype (float32 by default), as in PyTorch: a float64 batch is an error, not
    a silent conversion; lists and arrays are converted. Any leading batch dimensions
    are allowed.

    >>> import chainrule as cr
    >>> layer = cr.nn.Linear(3, 2)
    >>> layer(cr.ones(4, 3)).shape
    (4, 2)
    >>> layer.weight.shape
    (2, 3)
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, device=None,
                 dtype=None):
        super().__init__()
        if int(in_features) <= 0 or int(out_features) <= 0:
            raise ValueError(f"Linear: in_features and out_features must be positive, got "
                             f"{in_features} and {out_features}")
        self.in_features = int(in_features)
        self.out_features = int(out_features)
        dt = get_default_dtype() if dtype is None else as_dtype(dtype)
        # Row-major (out, in). (A column-major W, i.e. the rows of Wᵀ, makes x Wᵀ a plain
        # row-major product, but measured over whole training steps it is slower: g W
        # then runs on the transposed kernel. See nn_ops.linear for the small-batch case.)
        self.weight = Parameter(np.empty((self.out_features, self.in_features), dtype=dt))
        self.bias = Parameter(np.empty(self.out_features, dtype=dt)) if bias else None
        self.reset_parameters()
        if device is not None:  # PyTorch's factory argument: made here, then moved
            self.to(device)

    def reset_parameters(self) -> None:
        """Re-draw the weights: U(-1/√fan_in, 1/√fan_in) for W and b, as PyTorch."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features)
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x):
        return nn_ops.linear(self._check_input(x), self.weight, self.bias)

    def _check_input(self, x) -> Tensor:
        """x as a Tensor of the weight's dtype, its last dimension checked."""
        if not isinstance(x, Tensor):
            x = as_tensor(x, self.weight)
        shape = x.array.shape
        if not shape or shape[-1] != self.in_features:
            got = shape[-1] if shape else "a 0-d tensor"
            raise ValueError(f"{self._describe()}: expected input with last dimension "
                             f"{self.in_features}, got {got} (input of shape {shape})")
        if x.array.dtype != self.weight.array.dtype:
            raise RuntimeError(_dtype_mismatch(self._describe(), x.array.dtype,
                                               self.weight.array.dtype))
        return x

    def _forward_relu(self, x):
        """relu(x Wᵀ + b) as one node (Sequential's fusion of Linear + ReLU)."""
        return nn_ops.linear_relu(self._check_input(x), self.weight, self.bias)

    def _short_name(self) -> str:
        return f"Linear {self.in_features}→{self.out_features}"

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


# ---------------------------------------------------------------------------
# activations
# ---------------------------------------------------------------------------
class ReLU(Module):
    """max(0, x); with ``inplace=True`` the input itself is changed (recorded on the graph,
    as PyTorch)."""

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, x):
        if self.inplace and isinstance(x, Tensor):
            return x.relu_()
        return nn_ops.relu(x if isinstance(x, Tensor) else as_tensor(x))

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class LeakyReLU(Module):
    """x for x > 0, negative_slope·x otherwise."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False):
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, x):
        return P.leaky_relu(x, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class Sigmoid(Module):
    """1 / (1 + e^-x)."""

    def forward(self, x):
        return P.sigmoid(x)


class Tanh(Module):
    def forward(self, x):
        return P.tanh(x)


class Softmax(Module):
    """exp(x) / Σ exp(x) along ``dim`` (``None``: PyTorch's implicit choice, with its
    deprecation warning; see ``functional.softmax``)."""

    def __init__(self, dim: int | None = None):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        if self.dim is None:
            return F.softmax(x, None, _stacklevel=5)
        return P.softmax(x, axis=self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """log softmax(x) along ``dim``, stable for large inputs; pair it with NLLLoss."""

    def __init__(self, dim: int | None = None):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        if self.dim is None:
            return F.log_softmax(x, None, _stacklevel=5)
        return P.log_softmax(x, axis=self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Flatten(Module):
    """Flatten dimensions start_dim..end_dim into one (images (N, 28, 28) -> (N, 784))."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        return C.flatten(x, self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split dimension ``dim`` into ``unflattened_size`` (the inverse of Flatten):
    (N, 784) -> (N, 1, 28, 28) with ``Unflatten(1, (1, 28, 28))``; one size may be -1.

    >>> import chainrule as cr
    >>> cr.nn.Unflatten(1, (2, -1))(cr.zeros(5, 6)).shape
    (5, 2, 3)
    """

    def __init__(self, dim: int, unflattened_size):
        super().__init__()
        self.dim = int(dim)
        self.unflattened_size = tuple(int(s) for s in unflattened_size)

    def forward(self, input):
        x = input if isinstance(input, Tensor) else as_tensor(input)
        if not -x.ndim <= self.dim < x.ndim:
            raise IndexError(f"{self._describe()}: dim {self.dim} is out of range for an "
                             f"input of shape {x.shape}")
        d = self.dim % x.ndim
        n, sizes = x.shape[d], self.unflattened_size
        known = math.prod(s for s in sizes if s != -1)
        if sizes.count(-1) > 1 or (-1 not in sizes and known != n) or \
                (-1 in sizes and (known == 0 or n % known)):
            raise ValueError(f"{self._describe()}: cannot split dimension {d} of size {n} "
                             f"(input of shape {x.shape}) into {sizes}")
        return P.reshape(x, x.shape[:d] + sizes + x.shape[d + 1:])

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


class Dropout(Module):
    """While training, zero each element with probability ``p`` and scale the others by
    1/(1-p); in ``eval()`` mode, pass the input through. The masks come from the global
    generator (``cr.manual_seed``), so a seeded run is reproducible.

    >>> import chainrule as cr
    >>> drop = cr.nn.Dropout(0.5).eval()
    >>> drop(cr.ones(3)).tolist()
    [1.0, 1.0, 1.0]
    """

    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: probability p must be in [0, 1], got {p}")
        self.p = float(p)
        self.inplace = inplace

    def forward(self, x):
        if not self.training or self.p == 0.0:
            return x
        return nn_ops.dropout(x if isinstance(x, Tensor) else as_tensor(x), self.p, numpy_generator())

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


_ACTIVATIONS = {
    "relu": ReLU, "tanh": Tanh, "sigmoid": Sigmoid, "leaky_relu": LeakyReLU,
    "identity": Identity, "linear": Identity,
}


def _activation(spec) -> Module:
    if isinstance(spec, str):
        key = spec.lower().replace("-", "_")
        if key not in _ACTIVATIONS:
            raise ValueError(f"MLP: unknown activation {spec!r}; expected one of "
                             f"{', '.join(sorted(_ACTIVATIONS))}")
        return _ACTIVATIONS[key]()
    if isinstance(spec, Module):
        raise TypeError("MLP: pass the activation's class or name (one instance is made per "
                        "layer), not a module instance")
    if callable(spec):
        module = spec()
        if not isinstance(module, Module):
            raise TypeError(f"MLP: activation factory returned {type(module).__name__}, "
                            "not a Module")
        return module
    raise TypeError(f"MLP: activation must be a name or a Module class, got {spec!r}")


# ---------------------------------------------------------------------------
# containers
# ---------------------------------------------------------------------------
class _IndexedContainer(Module):
    """Shared by Sequential and ModuleList: children named "0", "1", ... in order."""

    def _items(self) -> list:
        return list(self._modules.values())

    def _index(self, idx: int) -> int:
        n = len(self._modules)
        if not isinstance(idx, (int, np.integer)):
            raise TypeError(f"{type(self).__name__} indices must be integers or slices, got "
                            f"{type(idx).__name__}")
        if not -n <= idx < n:
            raise IndexError(f"{type(self).__name__}: index {idx} is out of range for "
                             f"{n} modules")
        return int(idx) % n

    def _renumber(self, modules: list) -> None:
        """Re-register ``modules`` as children "0".."n-1" (after insert or delete)."""
        for name in list(self._modules):
            self.__dict__.pop(name, None)
        self._modules.clear()
        for i, m in enumerate(modules):
            self._modules[str(i)] = m
            self.__dict__[str(i)] = m
            _assign_paths(m, _join(self._path, str(i)))

    def __len__(self) -> int:
        return len(self._modules)

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return self._slice(idx)
        return self._items()[self._index(idx)]

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __setitem__(self, idx: int, module: Module) -> None:
        i = self._index(idx)
        self.add_module(str(i), module)

    def __delitem__(self, idx) -> None:
        items = self._items()
        if isinstance(idx, slice):
            del items[idx]
        else:
            del items[self._index(idx)]
        self._renumber(items)

    def append(self, module: Module):
        """Add ``module`` at the end; returns self."""
        self.add_module(str(len(self._modules)), module)
        return self

    def extend(self, modules: Iterable[Module]):
        for m in modules:
            self.append(m)
        return self

    def pop(self, index: int = -1) -> Module:
        """Remove the module at ``index`` (the last by default) and return it."""
        module = self[index]
        del self[index]
        return module

    def __add__(self, other):
        """A new container of this kind holding this one's modules, then ``other``'s."""
        if not isinstance(other, _IndexedContainer):
            return NotImplemented
        return self._with(list(self) + list(other))

    def __mul__(self, times: int):
        """A new container with the modules repeated ``times`` times (the same objects,
        so repeats share parameters, as PyTorch)."""
        if not isinstance(times, (int, np.integer)) or times <= 0:
            raise ValueError(f"{type(self).__name__}: can only repeat a positive integer "
                             f"number of times, got {times!r}")
        return self._with(list(self) * int(times))

    __rmul__ = __mul__

    def _with(self, modules: list):
        return type(self)(modules)

    def insert(self, index: int, module: Module):
        """Put ``module`` before position ``index``; returns the container (as PyTorch)."""
        if not isinstance(module, Module):
            raise TypeError(f"insert: expected a Module, got {type(module).__name__}")
        items = self._items()
        items.insert(index, module)
        self._renumber(items)
        return self

    def _slice(self, idx: slice):
        """A container of the same kind holding the selected children (paths unchanged)."""
        out = type(self).__new__(type(self))
        Module.__init__(out)
        for name, m in list(self._modules.items())[idx]:
            out._modules[name] = m
            out.__dict__[name] = m
        return out


class Sequential(_IndexedContainer):
    """Modules applied one after the other: ``Sequential(Linear(784, 128), ReLU(),
    Linear(128, 10))``. Indexing, slicing, ``len``, iteration and ``append`` work as in
    PyTorch; an ``OrderedDict`` names the children.

    >>> import chainrule as cr
    >>> net = cr.nn.Sequential(cr.nn.Linear(4, 8), cr.nn.ReLU(), cr.nn.Linear(8, 2))
    >>> len(net), type(net[-1]).__name__, net(cr.ones(3, 4)).shape
    (3, 'Linear', (3, 2))
    """

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], (OrderedDict, dict)):
            for name, m in modules[0].items():
                self.add_module(name, m)
        else:
            for i, m in enumerate(modules):
                if not isinstance(m, Module):
                    raise TypeError(f"Sequential: argument {i} is {type(m).__name__}, not a "
                                    "Module")
                self.add_module(str(i), m)

    def _with(self, modules: list):
        return type(self)(*modules)

    def forward(self, x):
        mode = _module_mod._mode
        if mode.fuse and not mode.track_path:
            return self._forward_fused(x)
        for module in self._modules.values():
            x = module(x)
        return x

    def _forward_fused(self, x):
        """The same computation in fewer graph nodes and passes over the activations:

        * Linear or Conv2d directly followed by ReLU: one fused node
          (``nn_ops.linear_relu`` / ``conv2d_relu``: the ReLU in place; 6% faster MLP
          training at batch 32);
        * ReLU followed by MaxPool2d: pool first, then the ReLU on 4x fewer values.
          Max-pooling commutes with ReLU (both monotone), and so do the gradients: the
          first arg-max is the same wherever the window's maximum is positive, and the
          ReLU passes no gradient (0 at 0, as PyTorch) where it is not.

        Modules with hooks are called as usual. A fused Linear/Conv2d + ReLU output is
        tagged with both paths, ``(layer, relu)``, so that drawings show a box for each
        module; a ReLU moved behind a pool tags its output with its own path."""
        modules = list(self._modules.values())
        n = len(modules)
        i = 0
        while i < n:
            module = modules[i]
            nxt = modules[i + 1] if i + 1 < n else None
            after = modules[i + 2] if i + 2 < n else None
            if type(nxt) is ReLU and _hook_free(nxt) and _hook_free(module):
                if type(module) in _FUSES_RELU:
                    if _poolable(after):
                        x = nn_ops.relu(after(module(x)))
                        x._module = nxt._path
                        i += 3
                    else:
                        x = module._forward_relu(x)
                        x._module = (module._path, nxt._path)
                        i += 2
                    continue
                if _poolable(after):
                    x = nn_ops.relu(after(module(x)))
                    x._module = nxt._path
                    i += 3
                    continue
            x = module(x)
            i += 1
        return x


def _hook_free(module: Module) -> bool:
    return not (module._forward_hooks or module._forward_pre_hooks or
                module._backward_hooks or module._backward_pre_hooks)


def _poolable(module) -> bool:
    """A MaxPool2d that may run before the ReLU preceding it (see _forward_fused)."""
    return type(module) is MaxPool2d and _hook_free(module) and not module.return_indices


# layers whose forward can absorb a following ReLU (they define _forward_relu)
_FUSES_RELU = {Linear, Conv2d}


class ModuleList(_IndexedContainer):
    """A list of modules whose parameters are registered (a plain list's would not be)."""

    def __init__(self, modules: Iterable[Module] | None = None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def forward(self, *args, **kwargs):
        raise NotImplementedError("ModuleList has no forward(): iterate over it in your "
                                  "module's forward")

    def insert(self, index: int, module: Module) -> None:
        """Put ``module`` before position ``index`` (returns None, as PyTorch's
        ModuleList; Sequential's returns the container)."""
        super().insert(index, module)

    def _tree(self, counts: bool) -> str:
        """PyTorch's text: a run of children that print alike is one line,
        ``(0-5): 6 x Block(...)``."""
        if counts or not self._modules:
            return super()._tree(counts)
        runs = []  # [first index, last index, text]
        for i, child in enumerate(self._modules.values()):
            text = "None" if child is None else child._tree(False)
            if runs and runs[-1][2] == text:
                runs[-1][1] = i
            else:
                runs.append([i, i, text])
        lines = []
        for first, last, text in runs:
            label = f"({first}): " if first == last else \
                f"({first}-{last}): {last - first + 1} x "
            lines.append((label + text).replace("\n", "\n  "))
        return self._get_name() + "(\n  " + "\n  ".join(lines) + "\n)"


class MLP(Module):
    """A multilayer perceptron: Linear layers of the given ``sizes`` with ``activation``
    between them and none after the last (it returns logits / raw outputs).

    ``activation``: "relu" (default), "tanh", "sigmoid", "leaky_relu", "identity", or a
    Module class. ``dropout`` > 0 inserts Dropout after each hidden activation.

    >>> import chainrule as cr
    >>> net = cr.nn.MLP([64, 128, 10])
    >>> [name for name, _ in net.named_parameters()]
    ['layers.0.weight', 'layers.0.bias', 'layers.2.weight', 'layers.2.bias']
    >>> net(cr.ones(5, 64)).shape
    (5, 10)
    """

    def __init__(self, sizes, activation="relu", bias: bool = True, dropout: float = 0.0,
                 dtype=None):
        super().__init__()
        sizes = [int(s) for s in sizes]
        if len(sizes) < 2:
            raise ValueError(f"MLP: sizes needs at least an input and an output size, got "
                             f"{sizes}")
        self.sizes = sizes
        self.activation = activation if isinstance(activation, str) else \
            getattr(activation, "__name__", repr(activation))
        layers = []
        for i, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
            layers.append(Linear(n_in, n_out, bias=bias, dtype=dtype))
            if i < len(sizes) - 2:
                layers.append(_activation(activation))
                if dropout:
                    layers.append(Dropout(dropout))
        self.layers = Sequential(*layers)

    def forward(self, x):
        return self.layers(x)

    def __getitem__(self, idx):
        return self.layers[idx]

    def __len__(self) -> int:
        return len(self.layers)

    def extra_repr(self) -> str:
        return f"sizes={self.sizes}, activation={self.activation!r}"


class Bilinear(Module):
    """y = x1ᵀ W x2 + b per output feature: ``Bilinear(in1, in2, out)`` with weight
    (out, in1, in2) and bias (out,), both ~ U(±1/√in1) as PyTorch.

    >>> import chainrule as cr
    >>> cr.nn.Bilinear(3, 4, 2)(cr.ones(5, 3), cr.ones(5, 4)).shape
    (5, 2)
    """

    def __init__(self, in1_features: int, in2_features: int, out_features: int,
                 bias: bool = True, device=None, dtype=None):
        super().__init__()
        if min(int(in1_features), int(in2_features), int(out_features)) <= 0:
            raise ValueError(f"Bilinear: feature sizes must be positive, got {in1_features}, "
                             f"{in2_features}, {out_features}")
        self.in1_features, self.in2_features = int(in1_features), int(in2_features)
        self.out_features = int(out_features)
        dt = get_default_dtype() if dtype is None else as_dtype(dtype)
        self.weight = Parameter(np.empty((self.out_features, self.in1_features,
                                          self.in2_features), dtype=dt))
        self.bias = Parameter(np.empty(self.out_features, dtype=dt)) if bias else None
        self.reset_parameters()
        if device is not None:  # PyTorch's factory argument: made here, then moved
            self.to(device)

    def reset_parameters(self) -> None:
        bound = 1 / math.sqrt(self.in1_features)
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1, input2):
        try:
            return F.bilinear(input1, input2, self.weight, self.bias)
        except ValueError as e:
            raise ValueError(f"{self._describe()}: {e}") from None

    def extra_repr(self) -> str:
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")
