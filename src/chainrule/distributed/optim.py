"""``ZeroRedundancyOptimizer``: each rank keeps the optimizer state of its share of the
parameters only, as PyTorch's ``torch.distributed.optim.ZeroRedundancyOptimizer``.

With DistributedDataParallel every rank holds the same averaged gradients, so every
rank would compute the same update and keep the same state (Adam: two arrays per
parameter). Here the parameters are dealt out to the ranks (largest first, each to the
rank with the least so far, per parameter group, as PyTorch deals them); each rank's
optimizer updates its own share, then every rank broadcasts its updated parameters to
the others. The update of each parameter is the one the wrapped optimizer makes, so
the weights equal those of the plain optimizer on every rank; the state memory is
about 1/K of it.

    optimizer = ZeroRedundancyOptimizer(ddp.parameters(), optimizer_class=torch.optim.Adam,
                                        lr=0.01)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from ..optim.optimizer import Optimizer
from .collectives import broadcast_flat
from .process_group import _check_group, _world

__all__ = ["ZeroRedundancyOptimizer"]


class ZeroRedundancyOptimizer(Optimizer):
    """Wrap ``optimizer_class`` so that each rank holds the state of its share of
    ``params`` only (PyTorch's name, arguments and checkpoint layout).

    Args:
        params: the parameters (or parameter groups) of the whole model, on every rank.
        optimizer_class: the optimizer to run on each rank's share, e.g.
            ``chainrule.optim.Adam``; ``**defaults`` are its arguments.
        process_group: the default group (None), the only one.
        parameters_as_bucket_view: accepted (PyTorch's memory layout option); the
            parameters are broadcast one flat message per rank and dtype either way.
        overlap_with_ddp: must be False: overlapping needs DDP communication hooks,
            which chainrule's DDP does not have.

    ``step()`` steps the local share, then broadcasts every rank's share. Learning-rate
    schedulers act on ``param_groups`` as with any optimizer. For a checkpoint, call
    ``consolidate_state_dict(to=0)`` on every rank, then ``state_dict()`` on rank 0: the
    layout of the plain optimizer over all parameters, which ``load_state_dict`` on
    every rank (or a plain optimizer) reads.

    >>> import chainrule as cr, chainrule.distributed as dist
    >>> dist.init_process_group()
    >>> w = cr.ones(3, requires_grad=True)
    >>> opt = ZeroRedundancyOptimizer([w], optimizer_class=cr.optim.SGD, lr=0.5)
    >>> w.grad = cr.ones(3); opt.step()
    >>> w.tolist()
    [0.5, 0.5, 0.5]
    >>> dist.destroy_process_group()
    """

    def __init__(self, params: Iterable, optimizer_class: type, process_group: Any = None,
                 parameters_as_bucket_view: bool = False, overlap_with_ddp: bool = False,
                 **defaults: Any) -> None:
        name = "ZeroRedundancyOptimizer"
        _check_group(process_group, name)
        if overlap_with_ddp:
            raise ValueError(f"{name}: overlap_with_ddp=True needs DistributedDataParallel's "
                             "communication hooks, which chainrule does not have; leave it "
                             "False")
        if not (isinstance(optimizer_class, type) and issubclass(optimizer_class, Optimizer)):
            raise TypeError(f"{name}: optimizer_class must be an optimizer class such as "
                            f"chainrule.optim.Adam, got {optimizer_class!r}")
        world = _world(name).internal_view()  # its broadcasts apart from the program's
        super().__init__(params, defaults)
        self._world = world
        self.optimizer_class = optimizer_class
        self.parameters_as_bucket_view = bool(parameters_as_bucket_view)
        # per rank: its parameters in each group, dealt largest first to the least loaded
        self._shares: list[list[list]] = [[] for _ in range(world.size)]
        for group in self.param_groups:
            sizes = [0] * world.size
            dealt: list[list] = [[] for _ in range(world.size)]
            for p in sorted(group["params"], key=lambda t: t.array.size, reverse=True):
                rank = sizes.index(min(sizes))
                dealt[rank].append(p)
                sizes[rank] += p.array.size
            for rank in range(world.size):
                self._shares[rank].append(dealt[rank])
        mine = self._shares[world.rank]
        self.optim = optimizer_class(
            [dict(_hyper(group), params=share) for group, share in zip(self.param_groups,
                                                                       mine)], **defaults)
        for group, local in zip(self.param_groups, self.optim.param_groups):
            group.update(_hyper(local))  # the wrapped optimizer's defaults, as PyTorch shows
        self.state = self.optim.state  # this rank's share of the state

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        if getattr(self, "optim", None) is not None:  # (the constructor adds the first ones)
            raise NotImplementedError(
                "ZeroRedundancyOptimizer.add_param_group: adding a group after construction "
                "would deal its parameters anew on every rank; build the optimizer with "
                "all its groups")
        super().add_param_group(param_group)

    def step(self, closure: Callable[[], Any] | None = None):
        """Step this rank's share with the wrapped optimizer, then broadcast every rank's
        updated share to all (one message per rank and dtype)."""
        return self._run_step(closure, self._zero_step)

    def _zero_step(self, closure: Callable[[], Any] | None):
        for group, local in zip(self.param_groups, self.optim.param_groups):
            local.update(_hyper(group))  # a scheduler changed the lr here
        loss = self.optim.step(closure) if closure is not None else self.optim.step()
        for group, local in zip(self.param_groups, self.optim.param_groups):
            group.update(_hyper(local))
        for rank, share in enumerate(self._shares):
            broadcast_flat([p for group in share for p in group], self._world, rank)
        return loss

    # -- checkpoints --------------------------------------------------------------------
    def _global_indices(self, rank: int) -> list[int]:
        """The plain optimizer's index of each parameter of ``rank``'s share, in the order
        of that rank's optimizer."""
        index = {id(p): i for i, p in enumerate(p for g in self.param_groups
                                               for p in g["params"])}
        return [index[id(p)] for group in self._shares[rank] for p in group]

    def consolidate_state_dict(self, to: int = 0) -> None:
        """Gather every rank's share of the state on rank ``to`` (every rank calls it),
        for ``state_dict()`` there."""
        world = self._world
        if not isinstance(to, (int, np.integer)) or not 0 <= to < world.size:
            raise ValueError(f"ZeroRedundancyOptimizer.consolidate_state_dict: to={to!r} is "
                             f"not a rank of this world (0 … {world.size - 1})")
        shares = world.gather_object(self.optim.state_dict()["state"], int(to))
        self._consolidated = None
        if world.rank == to:
            state = {}
            for rank, share in enumerate(shares):
                order = self._global_indices(rank)
                for local, values in share.items():
                    state[order[int(local)]] = values
            self._consolidated = state

    def state_dict(self) -> dict[str, Any]:
        """The whole state in the plain optimizer's layout; only on the rank given to
        ``consolidate_state_dict``, after it."""
        state = getattr(self, "_consolidated", None)
        if state is None:
            raise RuntimeError(
                "ZeroRedundancyOptimizer.state_dict: each rank holds only its share of the "
                f"state (this is rank {self._world.rank}); call consolidate_state_dict(to=R) "
                "on every rank first, then state_dict() on rank R")
        groups, start = [], 0
        for group in self.param_groups:
            count = len(group["params"])
            groups.append(dict(_hyper(group), params=list(range(start, start + count))))
            start += count
        return {"state": {i: state[i] for i in sorted(state)}, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a ``state_dict()`` (the plain optimizer's layout) on every rank: each
        rank keeps the hyper-parameters and its own share of the state."""
        name = "ZeroRedundancyOptimizer.load_state_dict"
        if not isinstance(state_dict, dict) or "param_groups" not in state_dict:
            raise ValueError(f"{name}: expected a dict with 'state' and 'param_groups' (what "
                             "state_dict() returns)")
        saved_groups = list(state_dict["param_groups"])
        if [len(g["params"]) for g in saved_groups] != [len(g["params"])
                                                        for g in self.param_groups]:
            raise ValueError(
                f"{name}: the checkpoint's groups hold "
                f"{[len(g['params']) for g in saved_groups]} parameters, this optimizer's "
                f"{[len(g['params']) for g in self.param_groups]}")
        saved_state = {int(k): v for k, v in dict(state_dict.get("state", {})).items()}
        order = self._global_indices(self._world.rank)
        local_groups, start = [], 0
        for saved, share in zip(saved_groups, self._shares[self._world.rank]):
            local_groups.append(dict(_hyper(saved), params=list(range(start,
                                                                      start + len(share)))))
            start += len(share)
        self.optim.load_state_dict({
            "state": {local: saved_state[i] for local, i in enumerate(order)
                      if i in saved_state},
            "param_groups": local_groups})
        for group, saved in zip(self.param_groups, saved_groups):
            group.update(_hyper(saved))
        self.state = self.optim.state

    def __repr__(self) -> str:
        return (f"ZeroRedundancyOptimizer({self.optimizer_class.__name__}, rank "
                f"{self._world.rank} of {self._world.size}, "
                f"{sum(len(g) for g in self._shares[self._world.rank])} parameters here)")


def _hyper(group: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in group.items() if k not in ("params", "param_names")}


def __getattr__(name: str):
    if name.startswith("__"):
        raise AttributeError(name)
    raise AttributeError(
        f"module 'chainrule.distributed.optim' has no attribute {name!r}: of PyTorch's "
        "torch.distributed.optim chainrule has ZeroRedundancyOptimizer (DistributedOptimizer "
        "and the RPC-based optimizers have no counterpart: use DistributedDataParallel "
        "with any optimizer)")
