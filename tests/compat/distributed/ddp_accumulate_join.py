"""Two things data-parallel programs do under torchrun, and their bookkeeping:

1. gradient accumulation: the micro-batches before the last run inside ``ddp.no_sync()``
   (a ``contextlib.nullcontext()`` on the last), over a DistributedSampler with
   ``drop_last=True`` on a data set that does not divide evenly;
2. uneven inputs: every rank reads a data file of its own, of a different length, and
   trains inside ``with ddp.join():``.

Per-rank metrics are collected with all_gather_object, a value computed on rank 1 is
broadcast from it, and the number of batches is all-reduced with MAX. The test runs it
with real torch and, with only its import lines pointed at chainrule, under
mpiexec -n 2, and compares what each rank writes."""
import contextlib
import json
import os

import numpy as np
import torch
import torch.distributed as dist
import torch.nn as nn  # noqa: PLR0402 - as users write it
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.data.distributed import DistributedSampler

ACCUMULATE = 2


def make_model():
    model = nn.Sequential(nn.Linear(4, 10), nn.SiLU(), nn.Linear(10, 10), nn.ELU(),
                          nn.Linear(10, 1))
    with torch.no_grad():
        init = np.random.default_rng(8)
        for p in model.parameters():
            p.copy_(torch.tensor(init.uniform(-0.5, 0.5, size=tuple(p.shape)),
                                 dtype=torch.float32))
    return model


def regression_data(n, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4))
    y = np.tanh(x @ np.array([0.5, -1.0, 0.25, 2.0]))[:, None] + 0.05 * rng.normal(size=(n, 1))
    return TensorDataset(torch.tensor(x, dtype=torch.float32),
                         torch.tensor(y, dtype=torch.float32))


def accumulate(rank, world_size):
    model = DDP(make_model())
    dataset = regression_data(41, 0)  # 41 = 2 × 20 + 1: drop_last leaves 20 per rank
    sampler = DistributedSampler(dataset, num_replicas=world_size, rank=rank, shuffle=False,
                                 drop_last=True)
    loader = DataLoader(dataset, batch_size=5, sampler=sampler)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.8, dampening=0.1)
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=0.9)
    criterion = nn.MSELoss()
    seen, losses = [], []
    for epoch in range(3):
        sampler.set_epoch(epoch)
        seen.append(list(sampler))
        optimizer.zero_grad()
        for i, (x, y) in enumerate(loader):
            last = (i + 1) % ACCUMULATE == 0
            with contextlib.nullcontext() if last else model.no_sync():
                loss = criterion(model(x), y) / ACCUMULATE
                loss.backward()
            if last:
                optimizer.step()
                optimizer.zero_grad()
            losses.append(loss.item())
        scheduler.step()
    return model.module, seen, losses


def uneven(rank, world_size):
    model = DDP(make_model())
    own = regression_data(12 + 9 * rank, 100 + rank)  # this rank's own file
    loader = DataLoader(own, batch_size=3)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01, amsgrad=True)
    criterion = nn.L1Loss()
    batches = 0
    with model.join():
        for epoch in range(2):
            for x, y in loader:
                optimizer.zero_grad()
                criterion(model(x), y).backward()
                optimizer.step()
                batches += 1
    most = torch.tensor([batches])
    dist.all_reduce(most, op=dist.ReduceOp.MAX)
    return model.module, batches, most.item()


def main():
    rank = int(os.environ["RANK"])
    world_size = int(os.environ["WORLD_SIZE"])
    dist.init_process_group(backend="gloo", rank=rank, world_size=world_size)

    accumulated, seen, accumulate_losses = accumulate(rank, world_size)
    joined, batches, most = uneven(rank, world_size)

    # rank 1 evaluates on a held-out set; every rank gets its number
    held_out = regression_data(16, 7)
    validation = torch.zeros(1)
    if rank == 1:
        with torch.no_grad():
            validation = nn.functional.mse_loss(joined(held_out.tensors[0]),
                                                held_out.tensors[1]).reshape(1)
    dist.broadcast(validation, src=1)

    metrics = [None] * world_size
    dist.all_gather_object(metrics, {"rank": rank, "batches": batches,
                                     "last_loss": round(accumulate_losses[-1], 4)})
    result = {
        "seen": seen, "accumulate_losses": accumulate_losses, "batches": batches,
        "most": most, "validation": validation.item(), "metrics": metrics,
        "accumulated": {k: v.tolist() for k, v in accumulated.state_dict().items()},
        "joined": {k: v.tolist() for k, v in joined.state_dict().items()},
    }
    with open(os.path.join(os.environ["RESULT_DIR"], f"rank{rank}.json"), "w") as f:
        json.dump(result, f)
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
