# ruff: noqa - written as PyTorch user code is written
# A spatial transformer network in the shape of the tutorial: a localization net
# regresses an affine theta (initialized to the identity), F.affine_grid + F.grid_sample
# warp the input, a small classifier follows; plus the resizing a vision pipeline does
# (bicubic, area, trilinear, nearest on volumes) and Upsample in a decoder. (The gradient
# with respect to the grid jumps where a sample crosses a pixel edge, so float32 rounding
# grows quickly in training: few, small steps keep the two runs comparable.)
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

rng = np.random.default_rng(42)


class STN(nn.Module):
    def __init__(self):
        super().__init__()
        self.localization = nn.Sequential(nn.Conv2d(1, 4, 3), nn.MaxPool2d(2), nn.ReLU(),
                                          nn.Flatten(), nn.Linear(4 * 4 * 4, 6))
        self.classifier = nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.ReLU(),
                                        nn.AdaptiveAvgPool2d(2), nn.Flatten(), nn.Linear(12, 3))

    def stn(self, x, padding_mode):
        theta = self.localization(x).view(-1, 2, 3)
        grid = F.affine_grid(theta, x.size(), align_corners=False)
        return F.grid_sample(x, grid, padding_mode=padding_mode, align_corners=False)

    def forward(self, x, padding_mode="zeros"):
        return self.classifier(self.stn(x, padding_mode))


model = STN()
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.from_numpy(rng.normal(0, 0.3, tuple(p.shape)).astype(np.float32)))
    model.localization[-1].weight.mul_(0.1)
    model.localization[-1].bias.copy_(torch.tensor([1, 0, 0, 0, 1, 0], dtype=torch.float))
x = torch.from_numpy(rng.standard_normal((4, 1, 10, 10)).astype(np.float32))
y = torch.tensor([0, 2, 1, 2])
warped_before = model.stn(x, "border")
opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
losses = []
for step in range(3):
    opt.zero_grad()
    mode = ["zeros", "border", "reflection"][step % 3]
    loss = F.cross_entropy(model(x, mode), y)
    loss.backward()
    opt.step()
    losses.append(loss.item())

img = torch.from_numpy(rng.standard_normal((1, 2, 6, 5)).astype(np.float32)).requires_grad_()
vol = torch.from_numpy(rng.standard_normal((1, 1, 3, 4, 4)).astype(np.float32))
resized = [F.interpolate(img, scale_factor=2, mode="bicubic", align_corners=False),
           F.interpolate(img, size=(4, 9), mode="bicubic", align_corners=True),
           F.interpolate(img, size=(3, 2), mode="area"),
           F.interpolate(img, scale_factor=1.5, mode="bilinear"),
           F.interpolate(vol, scale_factor=2, mode="trilinear", align_corners=False),
           F.interpolate(vol, size=(2, 5, 3), mode="nearest"),
           nn.Upsample(scale_factor=2, mode="nearest")(img),
           nn.UpsamplingBilinear2d(scale_factor=2)(img)]
sum(r.pow(2).sum() for r in resized[:4]).backward()
nearest_grid = F.grid_sample(img, torch.rand(1, 3, 3, 2) * 0 + 0.25, mode="nearest",
                             align_corners=True)
RESULT = {"losses": losses, "theta": model.localization(x).view(-1, 2, 3),
          "warped": warped_before, "grads": [p.grad for p in model.parameters()],
          "resized": resized, "img_grad": img.grad, "nearest": nearest_grid,
          "grid3d": F.affine_grid(torch.eye(3, 4).unsqueeze(0), [1, 1, 2, 2, 3],
                                  align_corners=True)}
