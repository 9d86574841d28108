# ruff: noqa - written as PyTorch user code is written
# Super-resolution in the shape of pytorch/examples' super_resolution: an ESPCN-style net
# (Conv2d 5x5 / 3x3 with padding, ReLU, a last conv to upscale_factor**2 channels and
# nn.PixelShuffle), init.orthogonal_ with calculate_gain('relu') (its values come from
# the random stream, so the weights are then set from NumPy; the orthogonality is
# compared), low-resolution inputs made with F.interpolate / avg_pool2d, MSELoss, Adam,
# PSNR per batch with log10, and a bicubic/bilinear baseline.
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.nn.init as init
import torch.optim as optim
from torch.utils.data import DataLoader, Dataset


class Net(nn.Module):
    def __init__(self, upscale_factor):
        super(Net, self).__init__()
        self.relu = nn.ReLU()
        self.conv1 = nn.Conv2d(1, 16, (5, 5), (1, 1), (2, 2))
        self.conv2 = nn.Conv2d(16, 16, (3, 3), (1, 1), (1, 1))
        self.conv3 = nn.Conv2d(16, 8, (3, 3), (1, 1), (1, 1))
        self.conv4 = nn.Conv2d(8, upscale_factor ** 2, (3, 3), (1, 1), (1, 1))
        self.pixel_shuffle = nn.PixelShuffle(upscale_factor)
        self._initialize_weights()

    def forward(self, x):
        x = self.relu(self.conv1(x))
        x = self.relu(self.conv2(x))
        x = self.relu(self.conv3(x))
        x = self.pixel_shuffle(self.conv4(x))
        return x

    def _initialize_weights(self):
        init.orthogonal_(self.conv1.weight, init.calculate_gain('relu'))
        init.orthogonal_(self.conv2.weight, init.calculate_gain('relu'))
        init.orthogonal_(self.conv3.weight, init.calculate_gain('relu'))
        init.orthogonal_(self.conv4.weight)


rng = np.random.default_rng(77)


class Patches(Dataset):
    def __init__(self, n, size=12, upscale=2):
        yy, xx = np.meshgrid(np.linspace(0, 1, size), np.linspace(0, 1, size), indexing="ij")
        self.targets = []
        for i in range(n):
            f1, f2 = rng.uniform(1, 4, 2)
            img = 0.5 + 0.5 * np.sin(2 * np.pi * (f1 * xx + f2 * yy) + rng.uniform(0, 6))
            self.targets.append(torch.from_numpy(img.astype(np.float32)).unsqueeze(0))
        self.upscale = upscale

    def __len__(self):
        return len(self.targets)

    def __getitem__(self, index):
        target = self.targets[index]
        input = F.avg_pool2d(target.unsqueeze(0), self.upscale).squeeze(0)
        return input, target


upscale_factor = 2
model = Net(upscale_factor=upscale_factor)
w = model.conv2.weight.detach().view(16, -1)
orthogonality = (w @ w.t()) / init.calculate_gain('relu') ** 2
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.from_numpy(rng.normal(0, 0.2, tuple(p.shape)).astype(np.float32)))
criterion = nn.MSELoss()
optimizer = optim.Adam(model.parameters(), lr=0.003)
training_data_loader = DataLoader(dataset=Patches(12), batch_size=4, shuffle=False)
testing_data_loader = DataLoader(dataset=Patches(4), batch_size=2, shuffle=False)

history = []
for epoch in range(1, 4):
    epoch_loss = 0
    for iteration, batch in enumerate(training_data_loader, 1):
        input, target = batch[0], batch[1]
        optimizer.zero_grad()
        loss = criterion(model(input), target)
        epoch_loss += loss.item()
        loss.backward()
        optimizer.step()
    avg_psnr = 0
    with torch.no_grad():
        for batch in testing_data_loader:
            input, target = batch[0], batch[1]
            prediction = model(input)
            mse = criterion(prediction, target)
            psnr = 10 * math.log10(1 / mse.item())
            avg_psnr += psnr
    history.append((epoch_loss / len(training_data_loader), avg_psnr / len(testing_data_loader)))

input, target = next(iter(testing_data_loader))
with torch.no_grad():
    out = model(input)
    baselines = {mode: F.mse_loss(F.interpolate(input, scale_factor=2, mode=mode,
                                                **({} if mode == "nearest" else {"align_corners": False})),
                                  target).item()
                 for mode in ("nearest", "bilinear", "bicubic")}
    unshuffled = F.pixel_unshuffle(out, 2)
RESULT = {"history": history, "out": out[0, 0, :4, :4], "baselines": baselines,
          "orthogonal": torch.allclose(orthogonality, torch.eye(16), atol=1e-4),
          "gain": init.calculate_gain('relu'), "unshuffled": unshuffled.shape,
          "roundtrip": torch.equal(F.pixel_shuffle(unshuffled, 2), out)}
