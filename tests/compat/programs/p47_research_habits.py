# ruff: noqa - written as PyTorch user code is written
# Habits of research code: sorting parameters into weight-decay groups by module type
# (minGPT's configure_optimizers, with isinstance checks against nn.modules.batchnorm
# ._BatchNorm), a focal loss subclassing nn.modules.loss._WeightedLoss, a custom layer
# using nn.modules.utils._pair, and a checkpoint whose "module." prefix is consumed.
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.modules.batchnorm import _BatchNorm
from torch.nn.modules.loss import _WeightedLoss
from torch.nn.modules.utils import _pair, consume_prefix_in_state_dict_if_present

rng = np.random.default_rng(47)


class FocalLoss(_WeightedLoss):
    def __init__(self, weight=None, gamma=2.0, reduction="mean"):
        super().__init__(weight, reduction=reduction)
        self.gamma = gamma

    def forward(self, logits, target):
        logp = F.log_softmax(logits, dim=1)
        return F.nll_loss((1 - logp.exp()) ** self.gamma * logp, target, weight=self.weight,
                          reduction=self.reduction)


class PatchEmbed(nn.Module):
    def __init__(self, patch=2, dim=6):
        super().__init__()
        self.patch = _pair(patch)
        self.proj = nn.Conv2d(1, dim, kernel_size=self.patch, stride=self.patch)

    def forward(self, x):
        return self.proj(x).flatten(2).transpose(1, 2)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = PatchEmbed()
        self.pos = nn.Parameter(torch.zeros(1, 4, 6))
        self.norm = nn.LayerNorm(6)
        self.mix = nn.Linear(6, 6)
        self.bn = nn.BatchNorm1d(4)
        self.head = nn.Linear(6, 3)

    def forward(self, x):
        h = self.norm(self.embed(x) + self.pos)
        h = self.bn(F.gelu(self.mix(h)))
        return self.head(h.mean(1))


model = Net()
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.from_numpy(rng.normal(0, 0.4, tuple(p.shape)).astype(np.float32)))

decay, no_decay = set(), set()
whitelist = (nn.Linear, nn.Conv2d)
blacklist = (nn.LayerNorm, _BatchNorm, nn.Embedding)
for mn, m in model.named_modules():
    for pn, p in m.named_parameters(recurse=False):
        fpn = f"{mn}.{pn}" if mn else pn
        if pn.endswith("bias"):
            no_decay.add(fpn)
        elif pn.endswith("weight") and isinstance(m, whitelist):
            decay.add(fpn)
        elif pn.endswith("weight") and isinstance(m, blacklist):
            no_decay.add(fpn)
no_decay.add("pos")
params = dict(model.named_parameters())
assert not (decay & no_decay) and len(decay | no_decay) == len(params)
opt = torch.optim.AdamW([{"params": [params[n] for n in sorted(decay)], "weight_decay": 0.1},
                         {"params": [params[n] for n in sorted(no_decay)], "weight_decay": 0.0}],
                        lr=0.01, betas=(0.9, 0.95))
criterion = FocalLoss(weight=torch.tensor([1.0, 2.0, 0.5]), gamma=1.5)
x = torch.from_numpy(rng.standard_normal((8, 1, 4, 4)).astype(np.float32))
y = torch.from_numpy(rng.integers(0, 3, 8))
losses = []
for step in range(5):
    opt.zero_grad()
    loss = criterion(model(x), y)
    loss.backward()
    opt.step()
    losses.append(loss.item())

state = {"module." + k: v for k, v in model.state_dict().items()}
consume_prefix_in_state_dict_if_present(state, "module.")
fresh = Net()
fresh.load_state_dict(state)
fresh.eval()
RESULT = {"losses": losses, "decay": sorted(decay), "no_decay": sorted(no_decay),
          "out": fresh(x), "keys": sorted(state)[:5], "focal_sum": FocalLoss(reduction="sum")(
              model(x), y), "is_bn": [isinstance(m, _BatchNorm) for m in model.modules()]}
