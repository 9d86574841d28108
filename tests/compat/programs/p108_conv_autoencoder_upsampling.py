# ruff: noqa - written as PyTorch user code is written
# A convolutional autoencoder as tutorials and small repos write it: an encoder of strided
# Conv2d + BatchNorm2d + LeakyReLU, a decoder mixing ConvTranspose2d (output_padding) with
# nn.Upsample / F.interpolate upsampling (nearest, nearest-exact, bilinear with and without
# align_corners, scale_factor with recompute_scale_factor, a target size), PReLU with one
# and per-channel slopes, a Sigmoid output, reconstruction loss MSE + L1, Adam with
# weight_decay, a StepLR; then latent interpolation between two images, Softmax2d on a
# segmentation-style head and F.interpolate on a 1-D signal (linear) and a volume.
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

rng = np.random.default_rng(108)


class AutoEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(1, 4, 3, stride=2, padding=1), nn.BatchNorm2d(4), nn.LeakyReLU(0.2),
            nn.Conv2d(4, 8, 3, stride=2, padding=1), nn.BatchNorm2d(8), nn.LeakyReLU(0.2),
        )
        self.to_latent = nn.Linear(8 * 3 * 3, 6)
        self.from_latent = nn.Linear(6, 8 * 3 * 3)
        self.up1 = nn.ConvTranspose2d(8, 4, 3, stride=2, padding=1, output_padding=1)
        self.act1 = nn.PReLU(4)
        self.up2 = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False)
        self.conv2 = nn.Conv2d(4, 4, 3, padding=1)
        self.act2 = nn.PReLU()
        self.out = nn.Conv2d(4, 1, 3, padding=1)

    def encode(self, x):
        return self.to_latent(self.encoder(x).flatten(1))

    def decode(self, z):
        h = self.from_latent(z).view(-1, 8, 3, 3)
        h = self.act1(self.up1(h))                                 # 6x6
        h = self.act2(self.conv2(self.up2(h)))                     # 12x12
        h = F.interpolate(h, size=(10, 10), mode="bilinear", align_corners=True)
        return torch.sigmoid(self.out(h))

    def forward(self, x):
        return self.decode(self.encode(x))


model = AutoEncoder()
with torch.no_grad():
    for name, p in model.named_parameters():
        if "act" in name:
            continue  # PReLU keeps its 0.25 start
        p.copy_(torch.from_numpy(rng.normal(0, 0.3, tuple(p.shape)).astype(np.float32)))
yy, xx = np.mgrid[0:10, 0:10]
images = np.stack([np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / 6.0)
                   for cx, cy in rng.uniform(2, 8, (8, 2))])[:, None].astype(np.float32)
data = torch.from_numpy(images)
opt = torch.optim.Adam(model.parameters(), lr=0.01, weight_decay=1e-4)
sched = torch.optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)
losses = []
for epoch in range(6):
    model.train()
    for batch in data.split(4):
        recon = model(batch)
        loss = F.mse_loss(recon, batch) + 0.1 * F.l1_loss(recon, batch)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    sched.step()

model.eval()
with torch.no_grad():
    z = model.encode(data[:2])
    steps = torch.linspace(0, 1, 4).view(-1, 1)
    path = model.decode(z[0] * (1 - steps) + z[1] * steps)
    recon_eval = model(data)

# the interpolation modes on their own, with gradients
x = torch.from_numpy(rng.standard_normal((1, 2, 5, 7)).astype(np.float32)).requires_grad_()
ups = {
    "nearest": F.interpolate(x, scale_factor=2, mode="nearest"),
    "nearest_exact": F.interpolate(x, size=(8, 9), mode="nearest-exact"),
    "bilinear": F.interpolate(x, scale_factor=1.7, mode="bilinear"),
    "bilinear_recompute": F.interpolate(x, scale_factor=1.7, mode="bilinear",
                                        recompute_scale_factor=True),
    "bilinear_ac": F.interpolate(x, size=(9, 4), mode="bilinear", align_corners=True),
    "down_area": F.interpolate(x, size=(2, 3), mode="area"),
    "up_module": nn.Upsample(size=(6, 6), mode="nearest")(x),
}
sum(v.pow(2).sum() for v in ups.values()).backward()
signal = torch.from_numpy(rng.standard_normal((2, 3, 6)).astype(np.float32)).requires_grad_()
sig_up = F.interpolate(signal, scale_factor=2.5, mode="linear")
sig_up.sum().backward()
volume = torch.from_numpy(rng.standard_normal((1, 1, 3, 4, 4)).astype(np.float32))
vol_up = F.interpolate(volume, scale_factor=(2, 1.5, 1.5), mode="trilinear")

seg = nn.Sequential(nn.Conv2d(2, 3, 1), nn.Softmax2d())
with torch.no_grad():
    for p in seg.parameters():
        p.copy_(torch.from_numpy(rng.normal(0, 0.5, tuple(p.shape)).astype(np.float32)))
probs = seg(x)

RESULT = {"losses": losses, "lr": sched.get_last_lr(), "path": path, "recon": recon_eval,
          "prelu": [model.act1.weight, model.act2.weight],
          "running": [model.encoder[1].running_mean, model.encoder[4].running_var],
          "ups": ups, "x_grad": x.grad, "sig_up": sig_up, "sig_grad": signal.grad,
          "vol_up": vol_up, "probs": probs, "probs_sum": probs.sum(1),
          "repr": repr(model)}
