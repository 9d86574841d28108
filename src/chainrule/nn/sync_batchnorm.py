"""``SyncBatchNorm``: batch normalization whose statistics span every rank's batch.

Under data parallel training each rank sees only its shard of the global batch. Plain
``BatchNorm`` then normalizes each shard by its own mean and variance (as PyTorch's
does under DDP); ``SyncBatchNorm`` normalizes by the statistics of the whole global
batch, so K ranks compute what one process computes on the union of their batches:

    forward:  Σx, Σx², n per channel, summed over the ranks (one all-reduce)
    backward: dx = (1/σ)(ĝ − mean(ĝ) − x̂ · mean(ĝ x̂)),  ĝ = g·w, the means over the
              global batch (one all-reduce of Σĝ and Σĝx̂); dw, db stay local sums,
              which DistributedDataParallel averages like every other gradient.

In evaluation mode, or in a world of one process, it is ``BatchNorm``.
"""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor, as_tensor, is_grad_enabled, record
from ..ops.norm import _normalize_vjp, _reduce_to
from ..ops.primitives import ARRAYS
from ..ops.registry import Op
from .layers_norm import _BatchNorm
from .module import Module

__all__ = ["SyncBatchNorm", "sync_batch_norm"]


def _world():
    from ..distributed.process_group import _state

    world = _state.world
    return world if world is not None and world.size > 1 else None


def _sync_vjp(F, g, ans, ctx, x, w=None, b=None):
    axes, _eps, xhat, inv_std, bshape, needs, count, world = ctx
    if world is None:  # one process: exactly batch norm's rule (first and higher order)
        return _normalize_vjp(F, g, ans, ctx[:6], x, w, b)
    if F is not ARRAYS:
        raise NotImplementedError("sync_batch_norm: a second derivative across processes is "
                                  "not supported (backward with create_graph=True)")
    gx = gw = gb = None
    if needs[1]:
        gw = _reduce_to(g * xhat, bshape).reshape(w.shape)
    if b is not None and needs[2]:
        gb = _reduce_to(g, bshape).reshape(b.shape)
    if needs[0]:
        gh = g if w is None else g * w.reshape(bshape)
        c = gh.shape[1]
        sums = np.concatenate([gh.sum(axis=axes, dtype=np.float64).reshape(c),
                               (gh * xhat).sum(axis=axes, dtype=np.float64).reshape(c)])
        world.allreduce(sums, "sum")
        mean_gh = (sums[:c] / count).reshape(bshape).astype(gh.dtype)
        mean_ghx = (sums[c:] / count).reshape(bshape).astype(gh.dtype)
        gx = (gh - mean_gh - xhat * mean_ghx) * inv_std
    if w is None:
        return (gx,)
    return (gx, gw) if b is None else (gx, gw, gb)


def _case(rng):
    return (rng.standard_normal((4, 3, 2)), rng.standard_normal(3), rng.standard_normal(3),
            (0, 2), 1e-5, (1, 3, 1)), {}


SYNC_BATCH_NORM = Op("sync_batch_norm", _sync_vjp, formula="(1/σ)(I - 1/n - x̂ x̂ᵀ/n) · w",
                     hint="a channel with zero variance over every rank's batch and eps = 0, "
                          "or an overflow",
                     cases=[_case])


def _normalize_across(x: Tensor, axes: tuple, eps: float, weight: Tensor | None,
                      bias: Tensor | None, bshape: tuple):
    """The output, and the global batch mean, biased variance and count per channel."""
    world = _world()
    xd = x.array
    c = xd.shape[1]
    sums = np.concatenate([xd.sum(axis=axes, dtype=np.float64).reshape(c),
                           np.square(xd, dtype=np.float64).sum(axis=axes).reshape(c),
                           [xd.size // c if c else 0]])
    if world is not None:
        world.allreduce(sums, "sum")
    count = sums[-1]
    mean = sums[:c] / count
    var = np.maximum(sums[c:2 * c] / count - mean * mean, 0.0)
    inv_std = (1.0 / np.sqrt(var + eps)).reshape(bshape).astype(xd.dtype)
    xhat = (xd - mean.reshape(bshape).astype(xd.dtype)) * inv_std
    if weight is not None:
        out = xhat * weight.array.reshape(bshape)
        if bias is not None:
            out += bias.array.reshape(bshape)
    else:
        out = xhat
    parents = (x,) if weight is None else (x, weight) if bias is None else (x, weight, bias)
    needs = (x.requires_grad, weight is not None and weight.requires_grad,
             bias is not None and bias.requires_grad)
    keep = is_grad_enabled() and any(needs)
    ctx = (axes, eps, xhat if keep else None, inv_std, bshape, needs, count, world)
    return record(out, SYNC_BATCH_NORM, parents, ctx), mean, var, count


@SYNC_BATCH_NORM.define
def sync_batch_norm(x: Tensor, weight: Tensor | None, bias: Tensor | None, axes: tuple,
                    eps: float, bshape: tuple) -> Tensor:
    """Batch normalization by the statistics of every rank's batch together."""
    return _normalize_across(x, axes, eps, weight, bias, bshape)[0]


class SyncBatchNorm(_BatchNorm):
    """Batch normalization of (N, C, ...) input whose training statistics are those of
    the global batch (every rank's shard), as PyTorch's ``nn.SyncBatchNorm``.

    Convert a model's BatchNorm layers with
    ``SyncBatchNorm.convert_sync_batchnorm(model)`` before wrapping it in
    ``DistributedDataParallel``. In evaluation mode (running statistics) and in a world
    of one process it computes what ``BatchNorm`` computes.

    >>> import chainrule as cr
    >>> net = cr.nn.Sequential(cr.nn.Linear(4, 8), cr.nn.BatchNorm1d(8), cr.nn.ReLU())
    >>> net = cr.nn.SyncBatchNorm.convert_sync_batchnorm(net)
    >>> type(net[1]).__name__, net[1].weight is not None
    ('SyncBatchNorm', True)
    """

    _ndims = (2, 3, 4, 5)
    _layout = "(N, C, ...)"

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True,
                 process_group=None, device=None, dtype=None) -> None:
        from ..distributed.process_group import _check_group

        _check_group(process_group, "SyncBatchNorm")
        super().__init__(num_features, eps, momentum, affine, track_running_stats,
                         device=device, dtype=dtype)

    def forward(self, x):
        if not self.training or _world() is None:
            return super().forward(x)
        x = x if isinstance(x, Tensor) else as_tensor(x)
        if x.ndim not in self._ndims or x.shape[1] != self.num_features:
            raise ValueError(f"{self._describe()}: expected input of shape "
                             f"(N, {self.num_features}, ...), got {x.shape}")
        c = self.num_features
        bshape = (1, c) + (1,) * (x.ndim - 2)
        axes = (0,) + tuple(range(2, x.ndim))
        weight, bias = self.weight, self.bias
        if weight is not None and weight.array.dtype != x.array.dtype:
            raise TypeError(f"{self._describe()}: input dtype {x.array.dtype} differs from the "
                            f"layer's {weight.array.dtype}")
        y, mean, var, count = _normalize_across(x, axes, self.eps, weight, bias, bshape)
        if count <= 1:
            raise ValueError(f"{self._describe()}: expected more than 1 value per channel "
                             f"over all ranks when training, got {int(count)}")
        if self.track_running_stats:
            nbt = self.num_batches_tracked
            nbt.array = np.asarray(nbt.array + 1, dtype=np.int64)
            nbt._version += 1
            factor = 1.0 / float(nbt.array) if self.momentum is None else self.momentum
            for stat, value in ((self.running_mean, mean),
                                (self.running_var, var * (count / (count - 1)))):
                stat.array *= 1 - factor
                stat.array += (factor * value).astype(stat.array.dtype)
                stat._version += 1
        return y

    @classmethod
    def convert_sync_batchnorm(cls, module: Module, process_group=None) -> Module:
        """Replace every BatchNorm layer in ``module`` by a SyncBatchNorm holding the same
        parameters and running statistics; returns the module (or the new layer, when
        ``module`` itself is a BatchNorm)."""
        if isinstance(module, _BatchNorm) and not isinstance(module, SyncBatchNorm):
            new = cls(module.num_features, module.eps, module.momentum, module.affine,
                      module.track_running_stats, process_group)
            if module.affine:
                new.weight, new.bias = module.weight, module.bias
            if module.track_running_stats:
                for name in ("running_mean", "running_var", "num_batches_tracked"):
                    new.register_buffer(name, getattr(module, name))
            new.train(module.training)
            return new
        for name, child in list(module._modules.items()):
            if child is not None:
                converted = cls.convert_sync_batchnorm(child, process_group)
                if converted is not child:
                    module.add_module(name, converted)
        return module
