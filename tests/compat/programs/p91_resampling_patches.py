# ruff: noqa - written as PyTorch user code is written
# Resampling and patches: F.interpolate in its modes, F.pad in its modes, unfold/fold
# (im2col and back, overlapping patches summed), pixel (un)shuffle, grid_sample, with gradients.
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

rng = np.random.default_rng(91)
img = torch.tensor(rng.standard_normal((2, 3, 5, 6)), dtype=torch.float32, requires_grad=True)
seq = torch.tensor(rng.standard_normal((2, 4, 7)), dtype=torch.float32, requires_grad=True)
vol = torch.tensor(rng.standard_normal((1, 2, 3, 4, 4)), dtype=torch.float32, requires_grad=True)
out = {}

up = {
    "nearest_x2": F.interpolate(img, scale_factor=2, mode="nearest"),
    "nearest_size": F.interpolate(img, size=(7, 9), mode="nearest"),
    "nearest_exact": F.interpolate(img, size=(7, 9), mode="nearest-exact"),
    "bilinear": F.interpolate(img, size=(8, 11), mode="bilinear", align_corners=False),
    "bilinear_ac": F.interpolate(img, scale_factor=(1.5, 2.0), mode="bilinear", align_corners=True),
    "bilinear_down": F.interpolate(img, size=(3, 4), mode="bilinear", align_corners=False),
    "bicubic": F.interpolate(img, size=(9, 7), mode="bicubic", align_corners=False),
    "bicubic_ac": F.interpolate(img, scale_factor=2, mode="bicubic", align_corners=True),
    "area": F.interpolate(img, size=(2, 3), mode="area"),
    "antialias_down": F.interpolate(img, size=(3, 4), mode="bilinear", antialias=True),
    "antialias_bicubic": F.interpolate(img, scale_factor=0.5, mode="bicubic", antialias=True),
    "antialias_up": F.interpolate(img, size=(7, 8), mode="bilinear", align_corners=False, antialias=True),
    "area_uneven": F.interpolate(img, size=(3, 4), mode="area"),
    "linear": F.interpolate(seq, size=12, mode="linear", align_corners=False),
    "linear_ac": F.interpolate(seq, scale_factor=0.5, mode="linear", align_corners=True),
    "nearest1d": F.interpolate(seq, scale_factor=3),
    "trilinear": F.interpolate(vol, size=(5, 6, 3), mode="trilinear", align_corners=False),
    "upsample_mod": nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False)(img),
    "upsampling_nearest": nn.UpsamplingNearest2d(scale_factor=2)(img),
    "adaptive_avg": F.adaptive_avg_pool2d(img, (4, 4)),
}
pads = {
    "constant": F.pad(img, (1, 2, 0, 1), value=-1.5),
    "reflect": F.pad(img, (2, 1, 3, 2), mode="reflect"),
    "replicate": F.pad(img, (2, 3, 1, 0), mode="replicate"),
    "circular": F.pad(img, (1, 2, 2, 1), mode="circular"),
    "negative": F.pad(img, (-1, 1, 0, -2)),
    "reflect1d": F.pad(seq, (3, 2), mode="reflect"),
    "replicate3d": F.pad(vol, (1, 1, 2, 0, 1, 1), mode="replicate"),
    "last_dim_only": F.pad(seq, (0, 3)),
    "module_reflect": nn.ReflectionPad2d((1, 0, 2, 1))(img),
    "module_zero": nn.ZeroPad2d(2)(img),
    "module_const1d": nn.ConstantPad1d((2, 1), 3.5)(seq),
    "module_repl": nn.ReplicationPad1d(2)(seq),
}
cols = F.unfold(img, kernel_size=(2, 3), dilation=1, padding=1, stride=(1, 2))
cols_dil = F.unfold(img, kernel_size=2, dilation=2, stride=1)
summed = F.fold(cols, output_size=(5, 6), kernel_size=(2, 3), padding=1, stride=(1, 2))
ones = torch.ones(1, 1, 5, 6)
overlap = F.fold(F.unfold(ones, 3, padding=1), (5, 6), 3, padding=1)
unf = nn.Unfold(kernel_size=3, stride=2)
fold = nn.Fold(output_size=(5, 6), kernel_size=3, stride=2)
# a convolution written as unfold + matmul, the classic im2col
w = torch.tensor(rng.standard_normal((4, 3, 3, 3)), dtype=torch.float32)
patches = F.unfold(img, 3, padding=1)
conv_as_mm = (w.view(4, -1) @ patches).view(2, 4, 5, 6)
patches_view = img.unfold(2, 3, 2).unfold(3, 2, 2)
patch = {
    "cols": cols, "cols_dil": cols_dil, "summed": summed, "overlap_count": overlap,
    "unfold_fold": fold(unf(img)), "conv_as_mm": conv_as_mm,
    "conv_diff": (conv_as_mm - F.conv2d(img, w, padding=1)).abs().max(),
    "torch_conv2d": torch.conv2d(img, w, None, 1, 1), "torch_max_pool": torch.max_pool2d(img, 2),
    "torch_layer_norm": torch.layer_norm(img, (6,)), "torch_relu_": torch.relu_(img * 1.0),
    "tensor_unfold": patches_view,
    "unpool1d": F.max_unpool1d(*F.max_pool1d(seq, 2, return_indices=True), 2, output_size=(7,)),
    "unpool2d": nn.MaxUnpool2d(2)(*nn.MaxPool2d(2, return_indices=True)(img), output_size=img.shape[-2:]),
}
out["shapes"] = [list(cols.shape), list(cols_dil.shape), list(patches_view.shape)]
hr = torch.tensor(rng.standard_normal((2, 8, 3, 4)), dtype=torch.float32, requires_grad=True)
shuffle = {
    "pixel_shuffle": F.pixel_shuffle(hr, 2), "pixel_unshuffle": F.pixel_unshuffle(img[:, :, :4, :6], 2),
    "roundtrip": F.pixel_unshuffle(nn.PixelShuffle(2)(hr), 2), "module": nn.PixelUnshuffle(2)(hr[:, :, :2, :4]),
}
theta = torch.tensor([[[0.9, -0.2, 0.1], [0.3, 1.1, -0.05]], [[1.2, 0.0, 0.2], [0.1, 0.8, 0.0]]],
                     dtype=torch.float32, requires_grad=True)
grid = F.affine_grid(theta, (2, 3, 4, 5), align_corners=False)
grid_ac = F.affine_grid(theta, (2, 3, 4, 5), align_corners=True)
gs = {
    "grid": grid,
    "bilinear_zeros": F.grid_sample(img, grid, mode="bilinear", padding_mode="zeros", align_corners=False),
    "bilinear_border": F.grid_sample(img, grid * 1.3, mode="bilinear", padding_mode="border", align_corners=False),
    "bilinear_reflect": F.grid_sample(img, grid * 1.4, mode="bilinear", padding_mode="reflection", align_corners=True),
    "nearest": F.grid_sample(img, grid_ac, mode="nearest", padding_mode="zeros", align_corners=True),
    "bicubic": F.grid_sample(img, grid, mode="bicubic", padding_mode="border", align_corners=False),
    "bicubic_reflect": F.grid_sample(img, grid_ac * 1.3, mode="bicubic", padding_mode="reflection", align_corners=True),
}
out["up"], out["pads"], out["patch"], out["shuffle"], out["gs"] = up, pads, patch, shuffle, gs
loss = sum((t * torch.linspace(-1.0, 1.0, t.numel()).reshape(t.shape)).sum()
           for group in (up, pads, patch, shuffle, gs) for t in group.values())
loss.backward()
out["grads"] = [img.grad, seq.grad, vol.grad, hr.grad, theta.grad]
RESULT = out
