# ruff: noqa - written as PyTorch user code is written
# Patches as vision code cuts them: a ViT-style patch embedding three ways (a strided
# Conv2d, nn.Unfold + Linear, x.unfold(2, p, p).unfold(3, p, p) + permute/reshape) with the
# same weights, a convolution written as F.unfold + matmul + view, local (windowed)
# attention over F.unfold neighbourhoods with padding and dilation, overlapping patches
# put back with nn.Fold and divided by the overlap count (the denoising "average the
# patches" idiom), F.fold with stride, all trained a few steps and with gradients.
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

rng = np.random.default_rng(105)
B, C, H, W, P, D = 2, 3, 8, 8, 4, 6
images = torch.from_numpy(rng.standard_normal((B, C, H, W)).astype(np.float32))
w = rng.normal(0, 0.3, (D, C, P, P)).astype(np.float32)
b = rng.normal(0, 0.1, D).astype(np.float32)

conv = nn.Conv2d(C, D, P, stride=P)
unfold = nn.Unfold(kernel_size=P, stride=P)
lin = nn.Linear(C * P * P, D)
lin2 = nn.Linear(C * P * P, D)
with torch.no_grad():
    conv.weight.copy_(torch.from_numpy(w))
    conv.bias.copy_(torch.from_numpy(b))
    for l in (lin, lin2):
        l.weight.copy_(torch.from_numpy(w.reshape(D, -1)))
        l.bias.copy_(torch.from_numpy(b))

x = images.clone().requires_grad_()
emb_conv = conv(x).flatten(2).transpose(1, 2)                       # (B, N, D)
emb_unfold = lin(unfold(x).transpose(1, 2))                         # (B, N, D)
patches = x.unfold(2, P, P).unfold(3, P, P)                         # (B, C, h, w, P, P)
patches = patches.permute(0, 2, 3, 1, 4, 5).reshape(B, -1, C * P * P)
emb_tensor_unfold = lin2(patches)
(emb_conv.pow(2).sum() + emb_unfold.sum() + emb_tensor_unfold.abs().sum()).backward()

# a 3x3 convolution with padding 1 written as unfold + matmul
k = torch.from_numpy(rng.normal(0, 0.3, (5, C, 3, 3)).astype(np.float32)).requires_grad_()
cols = F.unfold(x, kernel_size=3, padding=1)                        # (B, C*9, H*W)
out_unfold = (k.view(5, -1) @ cols).view(B, 5, H, W)
out_conv = F.conv2d(x, k, padding=1)
out_unfold.sum().backward()
k_grad_unfold = k.grad.clone()

# local attention: each pixel attends over its dilated 3x3 neighbourhood
feat = torch.from_numpy(rng.standard_normal((B, 4, 5, 5)).astype(np.float32)).requires_grad_()
q = feat.flatten(2).transpose(1, 2).unsqueeze(2)                     # (B, L, 1, 4)
neigh = F.unfold(feat, kernel_size=3, dilation=2, padding=2)        # (B, 4*9, L)
neigh = neigh.view(B, 4, 9, -1).permute(0, 3, 2, 1)                 # (B, L, 9, 4)
att = torch.softmax((q * neigh).sum(-1) / 2.0, dim=-1)              # (B, L, 9)
local = (att.unsqueeze(-1) * neigh).sum(2)                          # (B, L, 4)
local.pow(2).mean().backward()

# denoising by averaging overlapping patches put back with Fold
fold = nn.Fold(output_size=(H, W), kernel_size=4, stride=2)
unfold_overlap = nn.Unfold(kernel_size=4, stride=2)
ones = torch.ones(1, C, H, W)
overlap = fold(unfold_overlap(ones))
denoiser = nn.Sequential(nn.Linear(C * 16, 24), nn.ReLU(), nn.Linear(24, C * 16))
with torch.no_grad():
    for p in denoiser.parameters():
        p.copy_(torch.from_numpy(rng.normal(0, 0.2, tuple(p.shape)).astype(np.float32)))
opt = torch.optim.Adam(denoiser.parameters(), lr=0.01)
clean = images
noisy = clean + 0.3 * torch.from_numpy(rng.standard_normal((B, C, H, W)).astype(np.float32))
denoise_losses = []
for step in range(5):
    cols = unfold_overlap(noisy).transpose(1, 2)
    restored = fold(denoiser(cols).transpose(1, 2)) / overlap
    loss = F.mse_loss(restored, clean)
    opt.zero_grad()
    loss.backward()
    opt.step()
    denoise_losses.append(loss.item())

# fold with stride and padding on a raw tensor, and its gradient
blocks = torch.from_numpy(rng.standard_normal((1, 2 * 3 * 2, 12)).astype(np.float32)).requires_grad_()
folded = F.fold(blocks, output_size=(5, 7), kernel_size=(3, 2), stride=(2, 2), padding=(1, 1))
(folded * torch.arange(35.0).view(1, 1, 5, 7)).sum().backward()

RESULT = {"emb_conv": emb_conv, "same_unfold": bool(torch.allclose(emb_conv, emb_unfold, atol=1e-5)),
          "same_tensor_unfold": bool(torch.allclose(emb_conv, emb_tensor_unfold, atol=1e-5)),
          "x_grad": x.grad, "conv_grad": conv.weight.grad, "lin_grad": lin.weight.grad,
          "lin2_grad": lin2.bias.grad, "out_unfold": out_unfold,
          "unfold_is_conv": bool(torch.allclose(out_unfold, out_conv, atol=1e-5)),
          "k_grad": k_grad_unfold, "local": local, "feat_grad": feat.grad,
          "overlap": overlap[0, 0], "denoise": denoise_losses, "folded": folded,
          "blocks_grad": blocks.grad, "unfold_repr": repr(unfold), "fold_repr": repr(fold)}
