"""``nn.AdaptiveLogSoftmaxWithLoss``: the softmax over a large vocabulary split by
frequency (Grave et al., "Efficient softmax approximation for GPUs"): the frequent
classes (below ``cutoffs[0]``) and one entry per rarer cluster share a head softmax;
each cluster has its own smaller softmax behind a projection of width
in_features / div_value^(i+1). Parameter names, shapes and results are PyTorch's.

>>> import chainrule as cr
>>> asm = AdaptiveLogSoftmaxWithLoss(16, 10, cutoffs=[4, 7])
>>> out = asm(cr.randn(5, 16), cr.tensor([0, 3, 5, 8, 9]))
>>> out.output.shape, out.loss.shape, asm.log_prob(cr.randn(2, 16)).shape
((5,), (), (2, 10))
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._tensor import Tensor, as_tensor
from ..ops import primitives as P
from . import functional as F
from .layers import Linear, ModuleList, Sequential
from .module import Module

__all__ = ["AdaptiveLogSoftmaxWithLoss"]


class _ASMoutput(NamedTuple):
    output: Tensor
    loss: Tensor


class AdaptiveLogSoftmaxWithLoss(Module):
    """``asm(input (N, in_features), target (N,))`` -> (log-probability of each target,
    mean negative log-likelihood); ``log_prob(input)`` gives all classes,
    ``predict(input)`` the most likely one."""

    def __init__(self, in_features: int, n_classes: int, cutoffs, div_value: float = 4.0,
                 head_bias: bool = False, device=None, dtype=None):
        super().__init__()
        cutoffs = [int(c) for c in cutoffs]
        if not cutoffs or cutoffs != sorted(set(cutoffs)) or min(cutoffs) <= 0 or \
                max(cutoffs) > n_classes - 1:
            raise ValueError(f"AdaptiveLogSoftmaxWithLoss: cutoffs must be a sorted list of "
                             f"unique positive ints below n_classes - 1 = {n_classes - 1}, "
                             f"got {cutoffs}")
        self.in_features, self.n_classes = int(in_features), int(n_classes)
        self.cutoffs = cutoffs + [self.n_classes]
        self.div_value, self.head_bias = float(div_value), bool(head_bias)
        self.shortlist_size = self.cutoffs[0]
        self.n_clusters = len(self.cutoffs) - 1
        self.head_size = self.shortlist_size + self.n_clusters
        self.head = Linear(self.in_features, self.head_size, bias=self.head_bias, dtype=dtype)
        self.tail = ModuleList()
        for i in range(self.n_clusters):
            hsz = int(self.in_features // (self.div_value ** (i + 1)))
            osz = self.cutoffs[i + 1] - self.cutoffs[i]
            self.tail.append(Sequential(Linear(self.in_features, hsz, bias=False, dtype=dtype),
                                        Linear(hsz, osz, bias=False, dtype=dtype)))
        if device is not None:  # PyTorch's factory argument: made here, then moved
            self.to(device)

    def reset_parameters(self) -> None:
        self.head.reset_parameters()
        for projection in self.tail:
            for layer in projection:
                layer.reset_parameters()

    def forward(self, input, target) -> _ASMoutput:
        x = input if isinstance(input, Tensor) else as_tensor(input)
        t = target.array if isinstance(target, Tensor) else np.asarray(target)
        unbatched = x.ndim == 1
        if unbatched:
            x, t = P.reshape(x, (1, -1)), t.reshape(1)
        if x.ndim != 2 or x.shape[1] != self.in_features or t.shape != (x.shape[0],):
            raise ValueError(f"{self._describe()}: expected input (N, {self.in_features}) and "
                             f"target (N,), got {x.shape} and {t.shape}")
        if t.size and (t.min() < 0 or t.max() >= self.n_classes):
            raise ValueError(f"{self._describe()}: target values must be in [0, "
                             f"{self.n_classes - 1}], got {t.min()}..{t.max()}")
        n = x.shape[0]
        t = t.astype(np.int64)
        gather = t.copy()  # the head's column for each row: the class, or its cluster
        output = None
        bounds = [0] + self.cutoffs
        for i in range(1, len(bounds) - 1):
            rows = np.flatnonzero((t >= bounds[i]) & (t < bounds[i + 1]))
            if rows.size == 0:
                continue
            gather[rows] = self.shortlist_size + i - 1
            cluster = F.log_softmax(self.tail[i - 1](P.getitem(x, rows)), dim=1)
            local = P.getitem(cluster, (np.arange(rows.size), t[rows] - bounds[i]))
            placed = P.scatter_add(local, (n,), (rows,))
            output = placed if output is None else P.add(output, placed)
        head = F.log_softmax(self.head(x), dim=1)
        head_part = P.getitem(head, (np.arange(n), gather))
        output = head_part if output is None else P.add(output, head_part)
        loss = P.mean(P.neg(output))
        return _ASMoutput(P.reshape(output, ()) if unbatched else output, loss)

    def _full_log_prob(self, x: Tensor) -> Tensor:
        head = F.log_softmax(self.head(x), dim=1)
        parts = [P.getitem(head, (slice(None), slice(0, self.shortlist_size)))]
        for i, projection in enumerate(self.tail):
            cluster = F.log_softmax(projection(x), dim=1)
            prior = P.getitem(head, (slice(None), slice(self.shortlist_size + i,
                                                         self.shortlist_size + i + 1)))
            parts.append(P.add(cluster, prior))
        return P.concatenate(parts, axis=1)

    def log_prob(self, input) -> Tensor:
        """log p(class | input) for every class: (N, n_classes) (or (n_classes,))."""
        x = input if isinstance(input, Tensor) else as_tensor(input)
        if x.ndim not in (1, 2) or x.shape[-1] != self.in_features:
            raise ValueError(f"{self._describe()}: expected input (N, {self.in_features}), "
                             f"got {x.shape}")
        if x.ndim == 1:
            return P.reshape(self._full_log_prob(P.reshape(x, (1, -1))), (self.n_classes,))
        return self._full_log_prob(x)

    def predict(self, input) -> Tensor:
        """The most likely class of each row."""
        return as_tensor(np.argmax(self.log_prob(input).array, axis=-1))
