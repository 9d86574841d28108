"""A data-parallel training script as PyTorch users write it for torchrun; the test runs
it with torchrun (real torch) and under mpiexec with its imports pointed at chainrule."""
import json
import os

import numpy as np
import torch
import torch.distributed as dist
import torch.nn as nn  # noqa: PLR0402 - as users write it
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.data.distributed import DistributedSampler


def main():
    local_rank = int(os.environ["LOCAL_RANK"])
    dist.init_process_group(backend="gloo")
    rank, world_size = dist.get_rank(), dist.get_world_size()
    assert local_rank == rank and world_size == int(os.environ["WORLD_SIZE"])

    rng = np.random.default_rng(0)
    features = torch.tensor(rng.normal(size=(90, 10)), dtype=torch.float32)
    labels = torch.tensor(rng.integers(0, 3, 90))
    dataset = TensorDataset(features, labels)

    model = nn.Sequential(nn.Linear(10, 16), nn.Tanh(), nn.Linear(16, 3))
    with torch.no_grad():  # different weights on every rank: DDP starts from rank 0's
        weights = np.random.default_rng(100 + rank)
        for p in model.parameters():
            p.copy_(torch.tensor(weights.normal(size=tuple(p.shape)) * 0.3,
                                 dtype=torch.float32))
    ddp = DDP(model)
    sampler = DistributedSampler(dataset, num_replicas=world_size, rank=rank, shuffle=False)
    loader = DataLoader(dataset, batch_size=8, sampler=sampler)
    optimizer = torch.optim.SGD(ddp.parameters(), lr=0.1, momentum=0.9)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)

    losses = []
    for epoch in range(3):
        sampler.set_epoch(epoch)
        ddp.train()
        running = torch.zeros(2, dtype=torch.float64)
        for x, y in loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(ddp(x), y)
            loss.backward()
            optimizer.step()
            running += torch.tensor([loss.item() * len(y), len(y)], dtype=torch.float64)
        scheduler.step()
        dist.all_reduce(running, op=dist.ReduceOp.SUM)
        losses.append((running[0] / running[1]).item())

    ddp.eval()
    with torch.no_grad():
        correct = (ddp(features).argmax(dim=1) == labels).sum()
    gathered = [torch.zeros_like(correct) for _ in range(world_size)]
    dist.all_gather(gathered, correct)
    if rank == 0:
        state = {k: v.detach().numpy().tolist() for k, v in ddp.module.state_dict().items()}
        with open(os.environ["RESULT_FILE"], "w") as f:
            json.dump({"state": state, "losses": losses,
                       "correct": [int(c) for c in gathered]}, f)
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
