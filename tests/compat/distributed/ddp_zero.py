"""PyTorch's recipe "Shard Optimizer States with ZeroRedundancyOptimizer" under torchrun:
DDP with ZeroRedundancyOptimizer(optimizer_class=Adam) so that each rank keeps the Adam
state of its share of the parameters, a StepLR schedule on it, and a checkpoint:
consolidate_state_dict(to=0) on every rank, state_dict() saved by rank 0, loaded by
every rank into a new ZeroRedundancyOptimizer that goes on training as the first. The
test runs it with real torch and, with only its import lines pointed at chainrule,
under mpiexec -n 2, and compares what each rank writes."""
import json
import os

import numpy as np
import torch
import torch.distributed as dist
import torch.nn as nn  # noqa: PLR0402 - as users write it
from torch.distributed.optim import ZeroRedundancyOptimizer
from torch.nn.parallel import DistributedDataParallel as DDP


def make_model():
    model = nn.Sequential(nn.Linear(6, 12), nn.ReLU(), nn.Linear(12, 12), nn.ReLU(),
                          nn.Linear(12, 3))
    with torch.no_grad():
        init = np.random.default_rng(4)
        for p in model.parameters():
            p.copy_(torch.tensor(init.normal(0, 0.4, size=tuple(p.shape)), dtype=torch.float32))
    return model


def train(ddp_model, optimizer, scheduler, data, steps):
    losses = []
    for _ in range(steps):
        x = torch.tensor(data.normal(size=(5, 6)), dtype=torch.float32)
        y = torch.tensor(data.normal(size=(5, 3)), dtype=torch.float32)
        optimizer.zero_grad()
        loss = nn.functional.mse_loss(ddp_model(x), y)
        loss.backward()
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())
    return losses


def main():
    dist.init_process_group("gloo")
    rank = dist.get_rank()
    ddp_model = DDP(make_model())
    optimizer = ZeroRedundancyOptimizer(ddp_model.parameters(), optimizer_class=torch.optim.Adam,
                                        lr=0.01, betas=(0.8, 0.99))
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
    losses = train(ddp_model, optimizer, scheduler, np.random.default_rng(20 + rank), 4)
    here = len(optimizer.optim.state)  # the parameters whose Adam state this rank holds

    optimizer.consolidate_state_dict(to=0)
    path = os.path.join(os.environ["RESULT_DIR"], "optimizer.pt")
    if rank == 0:
        full = optimizer.state_dict()
        torch.save(full, path)
    dist.barrier()
    resumed_model = DDP(make_model())
    resumed_model.module.load_state_dict(ddp_model.module.state_dict())
    resumed = ZeroRedundancyOptimizer(resumed_model.parameters(),
                                      optimizer_class=torch.optim.Adam, lr=0.01)
    resumed.load_state_dict(torch.load(path, weights_only=True))
    resumed_scheduler = torch.optim.lr_scheduler.StepLR(resumed, step_size=2, gamma=0.5)
    resumed_scheduler.load_state_dict(scheduler.state_dict())
    more = train(ddp_model, optimizer, scheduler, np.random.default_rng(40 + rank), 3)
    again = train(resumed_model, resumed, resumed_scheduler,
                  np.random.default_rng(40 + rank), 3)
    saved = torch.load(path, weights_only=True)
    result = {
        "losses": losses + more, "again": again, "here": here,
        "lr": [g["lr"] for g in optimizer.param_groups],
        "betas": [list(g["betas"]) for g in resumed.param_groups],
        "saved_keys": sorted(int(k) for k in saved["state"]),
        "saved_steps": [float(saved["state"][k]["step"]) for k in sorted(saved["state"])],
        "saved_groups": [g["params"] for g in saved["param_groups"]],
        "state": {k: v.tolist() for k, v in ddp_model.module.state_dict().items()},
        "resumed": {k: v.tolist() for k, v in resumed_model.module.state_dict().items()},
    }
    with open(os.path.join(os.environ["RESULT_DIR"], f"rank{rank}.json"), "w") as f:
        json.dump(result, f)
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
