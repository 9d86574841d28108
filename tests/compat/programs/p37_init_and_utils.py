# ruff: noqa - written as PyTorch user code is written
# nn.init as model code calls it (deterministic initializers compared exactly, random ones
# by their bounds and statistics), calculate_gain and fans; gradient clipping with other
# norms; parameters_to_vector / vector_to_parameters; a custom init via apply;
# freezing part of a model and unfreezing it later.
import math

import numpy as np
import torch
import torch.nn as nn
from torch.nn.utils import (clip_grad_norm_, clip_grad_value_, parameters_to_vector,
                            vector_to_parameters)

torch.manual_seed(0)
w = torch.empty(64, 32)
conv_w = torch.empty(16, 8, 3, 3)
checks = {}
nn.init.uniform_(w, -0.2, 0.3)
checks["uniform"] = [bool(w.min() >= -0.2), bool(w.max() <= 0.3)]
nn.init.normal_(w, mean=1.0, std=0.01)
checks["normal"] = [abs(w.mean().item() - 1.0) < 0.005, abs(w.std().item() - 0.01) < 0.002]
bound = math.sqrt(6 / (32 + 64))
nn.init.xavier_uniform_(w)
checks["xavier_uniform"] = [bool(w.abs().max() <= bound), bool(w.abs().max() > 0.8 * bound)]
nn.init.xavier_normal_(w, gain=nn.init.calculate_gain("tanh"))
checks["xavier_normal"] = abs(w.std().item() / (5 / 3 * math.sqrt(2 / 96)) - 1) < 0.1
nn.init.kaiming_uniform_(conv_w, mode="fan_out", nonlinearity="relu")
checks["kaiming_uniform"] = bool(conv_w.abs().max() <= math.sqrt(6 / (16 * 9)))
nn.init.kaiming_normal_(conv_w, a=0.1, nonlinearity="leaky_relu")
checks["kaiming_normal"] = abs(conv_w.std().item() / (math.sqrt(2 / 1.01) / math.sqrt(72)) - 1) < 0.1
nn.init.trunc_normal_(w, std=0.5, a=-0.4, b=0.6)
checks["trunc_normal"] = [bool(w.min() >= -0.4), bool(w.max() <= 0.6)]
nn.init.orthogonal_(w, gain=2.0)
checks["orthogonal"] = bool(torch.allclose(w.T @ w, 4 * torch.eye(32), atol=1e-4))
nn.init.sparse_(w, sparsity=0.25, std=0.1)
checks["sparse"] = [int((w[:, c] == 0).sum()) for c in range(3)]

exact = {}
exact["constant"] = nn.init.constant_(torch.empty(2, 3), 0.7)
exact["ones"] = nn.init.ones_(torch.empty(3))
exact["zeros"] = nn.init.zeros_(torch.empty(2, 2))
exact["eye"] = nn.init.eye_(torch.empty(3, 4))
exact["dirac"] = nn.init.dirac_(torch.empty(4, 2, 3))
exact["dirac_groups"] = nn.init.dirac_(torch.empty(4, 2, 3, 3), groups=2)
exact["gains"] = [nn.init.calculate_gain(n) for n in ("linear", "conv2d", "sigmoid", "tanh",
                                                       "relu", "selu")] + \
    [nn.init.calculate_gain("leaky_relu", 0.2)]


def init_model(m):
    if isinstance(m, nn.Linear):
        nn.init.constant_(m.weight, 0.05)
        nn.init.zeros_(m.bias)
    elif isinstance(m, nn.LayerNorm):
        nn.init.ones_(m.weight)
        nn.init.constant_(m.bias, 0.1)


model = nn.Sequential(nn.Linear(4, 6), nn.LayerNorm(6), nn.GELU(), nn.Linear(6, 3))
model.apply(init_model)
with torch.no_grad():
    model[0].weight.add_(torch.from_numpy(
        np.linspace(-1, 1, 24, dtype=np.float32).reshape(6, 4)))
x = torch.from_numpy(np.linspace(-2, 2, 20, dtype=np.float32).reshape(5, 4))
y = torch.tensor([0, 2, 1, 1, 0])
opt = torch.optim.SGD(model.parameters(), lr=0.5)
norms = []
for step, (norm_type, max_norm) in enumerate([(2.0, 0.5), (1.0, 0.3), (float("inf"), 0.05),
                                             (3.0, 0.2)]):
    if step == 1:
        model[0].requires_grad_(False)
    if step == 3:
        model[0].requires_grad_(True)
    opt.zero_grad()
    nn.functional.cross_entropy(model(x), y).backward()
    norms.append(clip_grad_norm_(model.parameters(), max_norm, norm_type=norm_type).item())
    clip_grad_value_([p for p in model.parameters() if p.grad is not None], 0.04)
    opt.step()

vec = parameters_to_vector(model.parameters())
vector_to_parameters(vec * 0.5, model.parameters())
RESULT = {"checks": checks, "exact": exact, "norms": norms, "vec": vec,
          "halved": [p.detach().clone() for p in model.parameters()],
          "n": vec.numel(), "frozen_grad": model[0].weight.grad}
