"""Save a checkpoint on rank 0, wait at a barrier, load it on every rank with
map_location and go on training: the pattern of PyTorch's DDP tutorial, under torchrun.
Rank 0 decides the run's settings and broadcasts them; Adam with a learning-rate
schedule and gradient clipping; the epoch loss is reduced to rank 0, which alone logs;
main is decorated with torchelastic's ``record``, as torchrun scripts do.
The test runs it with real torch and, with only its import lines pointed at chainrule,
under mpiexec -n 2, and compares what each rank writes."""
import json
import os

import numpy as np
import torch
import torch.distributed as dist
import torch.nn as nn  # noqa: PLR0402 - as users write it
from torch.distributed.elastic.multiprocessing.errors import record
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.data.distributed import DistributedSampler


def log(*args):
    if dist.get_rank() == 0:
        print(*args, flush=True)


class Regressor(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(6, width), nn.GELU(), nn.Linear(width, width),
                                  nn.LayerNorm(width), nn.Tanh())
        self.head = nn.Linear(width, 2)

    def forward(self, x):
        return self.head(self.body(x))


def build(config, rank):
    model = Regressor(config["width"])
    with torch.no_grad():  # a different start on every rank: DDP copies rank 0's
        weights = np.random.default_rng(10 + rank)
        for p in model.parameters():
            p.copy_(torch.tensor(weights.normal(size=tuple(p.shape)) * 0.3,
                                 dtype=torch.float32))
    ddp = DDP(model)
    optimizer = torch.optim.Adam(ddp.parameters(), lr=config["lr"], weight_decay=1e-4)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=config["epochs"])
    return ddp, optimizer, scheduler


def train_epoch(ddp, optimizer, scheduler, loader, sampler, epoch, config):
    sampler.set_epoch(epoch)
    ddp.train()
    loss_sum = torch.zeros(1, dtype=torch.float64)
    norms = []
    for x, y in loader:
        optimizer.zero_grad(set_to_none=True)
        loss = nn.functional.smooth_l1_loss(ddp(x), y)
        loss.backward()
        norms.append(float(nn.utils.clip_grad_norm_(ddp.parameters(), config["clip"])))
        optimizer.step()
        loss_sum += loss.detach().double() * len(y)
    scheduler.step()
    dist.reduce(loss_sum, dst=0, op=dist.ReduceOp.SUM)
    return loss_sum.item() / len(sampler.dataset), norms


@record
def main():
    if not dist.is_available():
        raise SystemExit("torch.distributed is not available")
    local_rank = int(os.environ["LOCAL_RANK"])
    if not dist.is_initialized():
        dist.init_process_group("gloo")
    rank = dist.get_rank()
    assert local_rank == rank

    # rank 0 decides; the others start with placeholders
    settings = [{"width": 12, "lr": 0.02, "epochs": 4, "clip": 0.5, "batch": 7}
                if rank == 0 else None]
    dist.broadcast_object_list(settings, src=0)
    config = settings[0]

    data = np.random.default_rng(3)
    features = torch.tensor(data.normal(size=(60, 6)), dtype=torch.float32)
    targets = torch.tensor(np.stack([np.sin(features[:, :3].numpy().sum(1)),
                                     features[:, 3:].numpy().prod(1)], 1), dtype=torch.float32)
    dataset = TensorDataset(features, targets)
    sampler = DistributedSampler(dataset, shuffle=False)
    loader = DataLoader(dataset, batch_size=config["batch"], sampler=sampler)

    ddp, optimizer, scheduler = build(config, rank)
    checkpoint = os.path.join(os.environ["RESULT_DIR"], "checkpoint.pt")
    losses, norms = [], []
    for epoch in range(2):
        loss, epoch_norms = train_epoch(ddp, optimizer, scheduler, loader, sampler, epoch,
                                        config)
        losses.append(loss)
        norms += epoch_norms
        log(f"epoch {epoch}: loss {loss:.5f} lr {scheduler.get_last_lr()[0]:.5f}")
    if rank == 0:
        torch.save({"model": ddp.state_dict(), "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict(), "epoch": 2}, checkpoint)
    dist.barrier()  # nobody reads the file before rank 0 has written it

    # a restarted job: new objects, the checkpoint loaded on every rank
    resumed, resumed_optimizer, resumed_scheduler = build(config, rank)
    state = torch.load(checkpoint, map_location={"cuda:0": "cpu"}, weights_only=True)
    resumed.load_state_dict(state["model"])
    resumed_optimizer.load_state_dict(state["optimizer"])
    resumed_scheduler.load_state_dict(state["scheduler"])
    for epoch in range(state["epoch"], config["epochs"]):
        loss, epoch_norms = train_epoch(ddp, optimizer, scheduler, loader, sampler, epoch,
                                        config)
        again, _ = train_epoch(resumed, resumed_optimizer, resumed_scheduler, loader,
                               sampler, epoch, config)
        losses.append(loss)
        norms += epoch_norms
        log(f"epoch {epoch}: loss {loss:.5f} (resumed: {again:.5f})")

    ddp.eval()
    with torch.no_grad():
        error = nn.functional.mse_loss(ddp(features), targets, reduction="sum")
    dist.all_reduce(error)  # every rank evaluated the whole set: the sum is world × one
    result = {
        "rank": rank,
        "config": config,
        "losses": losses if rank == 0 else None,  # reduce() leaves the others' sums alone
        "norms": norms,
        "lr": scheduler.get_last_lr(),
        "error": error.item() / dist.get_world_size(),
        "state": {k: v.numpy().tolist() for k, v in ddp.module.state_dict().items()},
        "resumed": {k: v.numpy().tolist() for k, v in resumed.module.state_dict().items()},
        "step": [s["step"] if not hasattr(s["step"], "item") else s["step"].item()
                 for s in resumed_optimizer.state_dict()["state"].values()],
    }
    with open(os.path.join(os.environ["RESULT_DIR"], f"rank{rank}.json"), "w") as f:
        json.dump(result, f)
    dist.barrier()
    if dist.is_initialized():
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
