"""A small CNN with BatchNorm trained with DDP in processes started by
torch.multiprocessing.spawn (PyTorch's tutorial set-up and clean-up functions). Under DDP
each rank's BatchNorm normalizes its own shard and rank 0's running statistics are
copied to the others before every forward (broadcast_buffers); PyTorch's SyncBatchNorm
needs GPUs, so a CPU program keeps plain BatchNorm. The sampler shuffles, with
set_epoch, and its shards are recorded. Two micro-batches make a step, the first under
no_sync (after which DDP does not copy the buffers). Evaluation on a padded shard sums correct and
total counts over the ranks with all_reduce.
The test runs it with real torch and, with only its import lines pointed at chainrule,
started the same way (chainrule's spawn starts it under mpiexec)."""
import json
import os
import sys

import numpy as np
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn as nn  # noqa: PLR0402 - as users write it
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.data.distributed import DistributedSampler


def setup(rank, world_size):
    os.environ["MASTER_ADDR"] = "localhost"
    os.environ.setdefault("MASTER_PORT", "12355")
    dist.init_process_group("gloo", rank=rank, world_size=world_size)


def cleanup():
    dist.destroy_process_group()


class SmallCNN(nn.Module):
    def __init__(self, classes=3):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 4, kernel_size=3, padding=1, bias=False), nn.BatchNorm2d(4),
            nn.ReLU(inplace=True), nn.MaxPool2d(2),
            nn.Conv2d(4, 8, kernel_size=3), nn.BatchNorm2d(8), nn.ReLU(inplace=True),
            nn.AdaptiveAvgPool2d(1))
        self.classifier = nn.Linear(8, classes)

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))


def make_data(n, seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, n)
    images = rng.normal(size=(n, 1, 8, 8)) * 0.5
    for i, c in enumerate(labels):  # a class is a bright row, column or diagonal
        if c == 0:
            images[i, 0, 3, :] += 1.2
        elif c == 1:
            images[i, 0, :, 4] += 1.2
        else:
            images[i, 0][np.eye(8, dtype=bool)] += 1.2
    return TensorDataset(torch.tensor(images, dtype=torch.float32), torch.tensor(labels))


def train(rank, world_size, out_dir):
    setup(rank, world_size)
    model = SmallCNN()
    with torch.no_grad():
        init = np.random.default_rng(5)
        for name, p in model.named_parameters():
            if "features.1" in name or "features.5" in name:
                continue  # BatchNorm keeps its ones and zeros
            p.copy_(torch.tensor(init.normal(size=tuple(p.shape)) * 0.4, dtype=torch.float32))
    ddp_model = DDP(model)

    train_set, test_set = make_data(48, 1), make_data(25, 2)
    sampler = DistributedSampler(train_set, num_replicas=world_size, rank=rank, shuffle=True,
                                 seed=17)
    loader = DataLoader(train_set, batch_size=6, sampler=sampler)
    optimizer = torch.optim.SGD(ddp_model.parameters(), lr=0.2, momentum=0.9,
                                weight_decay=5e-4, nesterov=True)
    scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=[3, 5], gamma=0.3)

    shards = []
    for epoch in range(6):
        sampler.set_epoch(epoch)
        shards.append(list(sampler))
        ddp_model.train()
        for step, (images, labels) in enumerate(loader):
            if step % 2 == 0:  # two micro-batches per step, the first without averaging
                with ddp_model.no_sync():
                    F.cross_entropy(ddp_model(images), labels).backward()
                continue
            loss = F.cross_entropy(ddp_model(images), labels)
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
        scheduler.step()

    ddp_model.eval()
    test_sampler = DistributedSampler(test_set, shuffle=False)  # pads 25 to 26
    correct = torch.tensor(0)
    total = torch.tensor(0)
    with torch.no_grad():
        for images, labels in DataLoader(test_set, batch_size=4, sampler=test_sampler):
            correct += (ddp_model(images).argmax(1) == labels).sum()
            total += labels.numel()
    counts = torch.stack([correct, total])
    dist.all_reduce(counts, op=dist.ReduceOp.SUM)

    state = ddp_model.module.state_dict()
    with open(os.path.join(out_dir, f"rank{rank}.json"), "w") as f:
        json.dump({"shards": shards, "counts": counts.tolist(), "loss": loss.item(),
                   "state": {k: v.numpy().tolist() for k, v in state.items()}}, f)
    cleanup()


if __name__ == "__main__":
    world_size = 2
    mp.spawn(train, args=(world_size, sys.argv[1]), nprocs=world_size, join=True)
