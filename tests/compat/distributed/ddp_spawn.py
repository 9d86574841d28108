"""PyTorch's DDP tutorial pattern: processes started with torch.multiprocessing.spawn,
connected with init_process_group("gloo", rank=..., world_size=...) over MASTER_ADDR.
The test runs it with real torch and, with only its import lines pointed at chainrule,
started the same way (`python ddp_spawn.py`): chainrule's spawn starts it under mpiexec."""
import json
import os
import sys

import numpy as np
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn as nn  # noqa: PLR0402 - as users write it
from torch.nn.parallel import DistributedDataParallel as DDP


def setup(rank, world_size):
    os.environ["MASTER_ADDR"] = "127.0.0.1"
    os.environ.setdefault("MASTER_PORT", "29517")
    dist.init_process_group("gloo", rank=rank, world_size=world_size)


def train(rank, world_size, out):
    setup(rank, world_size)
    model = nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 2))
    with torch.no_grad():
        weights = np.random.default_rng(7)  # the same start on every rank
        for p in model.parameters():
            p.copy_(torch.tensor(weights.normal(size=tuple(p.shape)) * 0.4,
                                 dtype=torch.float32))
    ddp_model = DDP(model)
    loss_fn = nn.MSELoss()
    optimizer = torch.optim.SGD(ddp_model.parameters(), lr=0.05)
    data = np.random.default_rng(100 + rank)
    losses = []
    for _ in range(4):
        inputs = torch.tensor(data.normal(size=(6, 5)), dtype=torch.float32)
        labels = torch.tensor(data.normal(size=(6, 2)), dtype=torch.float32)
        optimizer.zero_grad()
        loss = loss_fn(ddp_model(inputs), labels)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    with open(f"{out}.{rank}", "w") as f:
        json.dump({"losses": losses, "state": {k: v.detach().numpy().tolist()
                                               for k, v in model.state_dict().items()}}, f)
    dist.destroy_process_group()


if __name__ == "__main__":
    world_size = 2
    mp.spawn(train, args=(world_size, sys.argv[1]), nprocs=world_size, join=True)
