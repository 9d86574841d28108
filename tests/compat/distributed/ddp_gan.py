"""Two DDP-wrapped networks trained against each other, as DCGAN-style training scripts
do under torchrun: a generator and a discriminator (both with BatchNorm), Adam with
betas (0.5, 0.999), the discriminator's step summing its losses on a real and on a
generated batch (two forwards, one backward), the generator's step back-propagating
through the discriminator (whose gradients are then thrown away). Each rank draws its
own noise and its own slice of the real data. The test runs it with real torch and, with
only its import lines pointed at chainrule, under mpiexec -n 2, and compares what each
rank writes. (As in DCGAN, the layers before a BatchNorm have no bias: its gradient is
zero but for round-off, which Adam would blow up into steps of the learning rate's size,
different in every library.)"""
import json
import os

import numpy as np
import torch
import torch.distributed as dist
import torch.nn as nn  # noqa: PLR0402 - as users write it
from torch.nn.parallel import DistributedDataParallel as DDP

latent, features = 4, 6


def generator():
    return nn.Sequential(nn.Linear(latent, 16, bias=False), nn.BatchNorm1d(16), nn.ReLU(True),
                         nn.Linear(16, features), nn.Tanh())


def discriminator():
    return nn.Sequential(nn.Linear(features, 16), nn.LeakyReLU(0.2, inplace=True),
                         nn.Linear(16, 8, bias=False), nn.BatchNorm1d(8), nn.LeakyReLU(0.2, inplace=True),
                         nn.Linear(8, 1))


def initialize(model, seed):
    with torch.no_grad():
        init = np.random.default_rng(seed)
        for name, p in model.named_parameters():
            if p.dim() == 2:
                p.copy_(torch.tensor(init.normal(0, 0.3, size=tuple(p.shape)),
                                     dtype=torch.float32))
            elif isinstance(dict(model.named_modules())[name.rsplit(".", 1)[0]],
                            nn.BatchNorm1d) and name.endswith("weight"):
                p.copy_(torch.tensor(init.normal(1.0, 0.02, size=tuple(p.shape)),
                                     dtype=torch.float32))
            else:
                p.zero_()
    return model


def main():
    dist.init_process_group("gloo")
    rank, world_size = dist.get_rank(), dist.get_world_size()
    netG = DDP(initialize(generator(), 1))
    netD = DDP(initialize(discriminator(), 2))
    criterion = nn.BCEWithLogitsLoss()
    optimizerD = torch.optim.Adam(netD.parameters(), lr=2e-3, betas=(0.5, 0.999))
    optimizerG = torch.optim.Adam(netG.parameters(), lr=2e-3, betas=(0.5, 0.999))

    real_data = np.random.default_rng(0).normal(0.5, 0.2, size=(64, features))
    noise_source = np.random.default_rng(100 + rank)
    batch = 8
    lossesD, lossesG = [], []
    for step in range(6):
        start = (step * world_size + rank) * batch % len(real_data)
        real = torch.tensor(real_data[start:start + batch], dtype=torch.float32)
        noise = torch.tensor(noise_source.normal(size=(batch, latent)), dtype=torch.float32)
        ones, zeros = torch.ones(batch, 1), torch.zeros(batch, 1)

        # (1) the discriminator: real batch as 1, generated batch as 0
        netD.zero_grad()
        fake = netG(noise)
        errD = criterion(netD(real), ones) + criterion(netD(fake.detach()), zeros)
        errD.backward()
        optimizerD.step()

        # (2) the generator: make the discriminator say 1
        netG.zero_grad()
        errG = criterion(netD(fake), ones)
        errG.backward()
        optimizerG.step()
        lossesD.append(errD.item())
        lossesG.append(errG.item())

    netG.eval()
    with torch.no_grad():
        sample = netG(torch.tensor(np.random.default_rng(9).normal(size=(4, latent)),
                                   dtype=torch.float32))
    result = {"lossesD": lossesD, "lossesG": lossesG, "sample": sample.tolist(),
              "G": {k: v.tolist() for k, v in netG.module.state_dict().items()},
              "D": {k: v.tolist() for k, v in netD.module.state_dict().items()}}
    with open(os.path.join(os.environ["RESULT_DIR"], f"rank{rank}.json"), "w") as f:
        json.dump(result, f)
    dist.barrier()  # (gloo can abort a rank whose peer tears the group down first)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
