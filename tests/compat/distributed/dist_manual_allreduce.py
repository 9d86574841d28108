"""Data parallel without DDP, as PyTorch's tutorial "Writing Distributed Applications
with PyTorch" builds it: the data set partitioned by hand (Python's random shuffles the
indices, the same on every rank), the gradients averaged after backward with one
``all_reduce(param.grad.data)`` per parameter, and messages passed around the ring of
ranks with send/recv and isend/irecv. Started with torch.multiprocessing.spawn. The test
runs it with real torch and, with only its import lines pointed at chainrule, started
the same way (chainrule's spawn starts it under mpiexec)."""
import json
import os
import random
import sys

import numpy as np
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn as nn  # noqa: PLR0402 - as users write it
import torch.nn.functional as F
import torch.optim as optim  # noqa: PLR0402 - as users write it


class Partition:
    def __init__(self, data, index):
        self.data, self.index = data, index

    def __len__(self):
        return len(self.index)

    def __getitem__(self, i):
        return self.data[self.index[i]]


class DataPartitioner:
    def __init__(self, data, sizes, seed=1234):
        self.data = data
        self.partitions = []
        rng = random.Random()
        rng.seed(seed)
        indexes = list(range(len(data)))
        rng.shuffle(indexes)
        for frac in sizes:
            part_len = int(frac * len(data))
            self.partitions.append(indexes[:part_len])
            indexes = indexes[part_len:]

    def use(self, partition):
        return Partition(self.data, self.partitions[partition])


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(5, 12)
        self.fc2 = nn.Linear(12, 4)

    def forward(self, x):
        return F.log_softmax(self.fc2(F.relu(self.fc1(x))), dim=1)


def average_gradients(model):
    size = float(dist.get_world_size())
    for param in model.parameters():
        dist.all_reduce(param.grad.data, op=dist.ReduceOp.SUM)
        param.grad.data /= size


def ring(rank, size):
    """Each rank sends its rank to the next and receives from the one before, twice:
    blocking, then non-blocking; the values received add up on every rank."""
    total = torch.zeros(1)
    for blocking in (True, False):
        send_buff = torch.tensor([float(rank + 1)])
        recv_buff = torch.zeros(1)
        right, left = (rank + 1) % size, (rank - 1) % size
        if blocking:
            if rank % 2 == 0:  # even ranks send first: no deadlock on blocking calls
                dist.send(send_buff, dst=right)
                dist.recv(recv_buff, src=left)
            else:
                dist.recv(recv_buff, src=left)
                dist.send(send_buff, dst=right)
        else:
            requests = [dist.isend(send_buff, dst=right), dist.irecv(recv_buff, src=left)]
            for request in requests:
                request.wait()
        total += recv_buff
    return total.item()


def run(rank, size, out_dir):
    rng = np.random.default_rng(11)
    features = rng.normal(size=(64, 5)).astype(np.float32)
    labels = (features[:, 0] > 0).astype(np.int64) + 2 * (features[:, 1] > 0.3)
    dataset = list(zip(torch.from_numpy(features), torch.from_numpy(labels)))
    partition = DataPartitioner(dataset, [1.0 / size] * size).use(dist.get_rank())
    train_set = torch.utils.data.DataLoader(partition, batch_size=8, shuffle=False)

    model = Net()
    with torch.no_grad():
        init = np.random.default_rng(2)
        for p in model.parameters():
            p.copy_(torch.from_numpy(init.normal(size=tuple(p.shape)).astype(np.float32) * 0.5))
    optimizer = optim.SGD(model.parameters(), lr=0.05, momentum=0.5)

    epoch_losses = []
    for epoch in range(4):
        epoch_loss = 0.0
        for data, target in train_set:
            optimizer.zero_grad()
            loss = F.nll_loss(model(data), target)
            epoch_loss += loss.item()
            loss.backward()
            average_gradients(model)
            optimizer.step()
        epoch_losses.append(epoch_loss / len(train_set))
        print(f"Rank {dist.get_rank()}, epoch {epoch}: {epoch_losses[-1]:.5f}")

    received = ring(rank, size)
    gathered = [torch.zeros(3, dtype=torch.int64) for _ in range(size)]
    dist.all_gather(gathered, torch.tensor([rank, len(partition), len(train_set)]))
    with open(os.path.join(out_dir, f"rank{rank}.json"), "w") as f:
        json.dump({"losses": epoch_losses, "received": received,
                   "gathered": [g.tolist() for g in gathered],
                   "indices": partition.index,
                   "state": {k: v.tolist() for k, v in model.state_dict().items()}}, f)


def init_process(rank, size, fn, out_dir, backend="gloo"):
    os.environ["MASTER_ADDR"] = "127.0.0.1"
    os.environ.setdefault("MASTER_PORT", "29500")
    dist.init_process_group(backend, rank=rank, world_size=size)
    fn(rank, size, out_dir)
    dist.destroy_process_group()


if __name__ == "__main__":
    mp.spawn(init_process, args=(2, run, sys.argv[1]), nprocs=2)
