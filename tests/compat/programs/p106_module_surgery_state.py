# ruff: noqa - written as PyTorch user code is written
# What model-zoo and fine-tuning code does to modules and their state: a layer whose
# checkpoint format changed overrides _load_from_state_dict (reading the version from
# local_metadata, renaming old keys before calling super) with a class-level _version;
# state_dict(prefix=..., keep_vars=True); get_extra_state / set_extra_state; a custom
# extra_repr in print(model); load_state_dict(strict=False) reporting missing and
# unexpected keys, a load post-hook that forgives a key; the head swapped for nn.Identity
# and for a new Linear through set_submodule / setattr; Conv+BatchNorm fused for inference
# with nn.utils.fusion.fuse_conv_bn_eval; copy.deepcopy of a model with tied weights;
# register_full_backward_pre_hook scaling gradients; an optimizer step per parameter run
# from register_post_accumulate_grad_hook ("optimizer in backward"); non-persistent buffers.
import copy
import os
from collections import OrderedDict

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.fusion import fuse_conv_bn_eval

rng = np.random.default_rng(106)


def numpy_init(module, scale=0.3):
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.from_numpy(rng.normal(0, scale, tuple(p.shape)).astype(np.float32)))


class ScaledLinear(nn.Module):
    """Version 1 stored 'W' and 'b'; version 2 stores 'weight' and 'bias' and a scale."""

    _version = 2

    def __init__(self, n_in, n_out, scale=2.0):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(n_out, n_in))
        self.bias = nn.Parameter(torch.zeros(n_out))
        self.scale = scale
        self.register_buffer("calls", torch.zeros((), dtype=torch.long), persistent=False)

    def forward(self, x):
        self.calls += 1
        return F.linear(x, self.weight, self.bias) * self.scale

    def extra_repr(self):
        return f"in={self.weight.shape[1]}, out={self.weight.shape[0]}, scale={self.scale}"

    def get_extra_state(self):
        return {"scale": self.scale}

    def set_extra_state(self, state):
        self.scale = state["scale"]

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs):
        version = local_metadata.get("version", None)
        if version is None or version < 2:
            for old, new in (("W", "weight"), ("b", "bias")):
                if prefix + old in state_dict:
                    state_dict[prefix + new] = state_dict.pop(prefix + old)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict,
                                      missing_keys, unexpected_keys, error_msgs)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1, bias=False),
                                      nn.BatchNorm2d(4), nn.ReLU(), nn.AdaptiveAvgPool2d(2),
                                      nn.Flatten())
        self.proj = ScaledLinear(16, 6)
        self.head = nn.Linear(6, 3)

    def forward(self, x):
        return self.head(torch.relu(self.proj(self.features(x))))


net = Net()
numpy_init(net)
x = torch.from_numpy(rng.standard_normal((5, 1, 6, 6)).astype(np.float32))
y = torch.from_numpy(rng.integers(0, 3, 5))
opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
for _ in range(3):
    opt.zero_grad()
    F.cross_entropy(net(x), y).backward()
    opt.step()
net.proj.scale = 1.5

sd = net.state_dict()
metadata_versions = {k: v.get("version") for k, v in sd._metadata.items()}
prefixed = list(net.state_dict(prefix="model.").keys())
kept = net.state_dict(keep_vars=True)
keep_vars_info = [type(kept["head.weight"]).__name__, kept["head.weight"].requires_grad,
                  sd["head.weight"].requires_grad]

# an "old" checkpoint: version-1 key names and no metadata
old = OrderedDict((k.replace("proj.weight", "proj.W").replace("proj.bias", "proj.b"), v)
                  for k, v in sd.items())
restored = Net()
restored.load_state_dict(old)
same_after_old = [bool(torch.equal(a, b)) for a, b in zip(restored.parameters(),
                                                          net.parameters())]
restored.load_state_dict(sd)  # the current format with its metadata
restored_scale = restored.proj.scale
path = os.path.join(TMP, "net.pt")  # the versions travel through a saved file too
torch.save(net.state_dict(), path)
reloaded = torch.load(path)
reloaded_versions = {k: v.get("version") for k, v in reloaded._metadata.items()}
from_file = Net()
from_file.load_state_dict(reloaded)

# strict=False, and a post-hook forgiving one missing key
partial = {k: v for k, v in sd.items() if not k.startswith("head.")}
partial["classifier.weight"] = torch.zeros(3, 6)
report = Net().load_state_dict(partial, strict=False)


def forgive_head_bias(module, incompatible_keys):
    if "head.bias" in incompatible_keys.missing_keys:
        incompatible_keys.missing_keys.remove("head.bias")


forgiving = Net()
handle = forgiving.register_load_state_dict_post_hook(forgive_head_bias)
no_bias = {k: v for k, v in sd.items() if k != "head.bias"}
forgiving_report = forgiving.load_state_dict(no_bias)
handle.remove()

# surgery: features kept, head replaced
backbone = copy.deepcopy(net)
backbone.head = nn.Identity()
embedding = backbone(x)
finetune = copy.deepcopy(net)
finetune.set_submodule("head", nn.Linear(6, 2))
numpy_init(finetune.head)
for p in finetune.features.parameters():
    p.requires_grad_(False)
trainable = [n for n, p in finetune.named_parameters() if p.requires_grad]

# conv + BN fused for inference
net.eval()
conv, bn = net.features[0], net.features[1]
fused = fuse_conv_bn_eval(conv, bn)
with torch.no_grad():
    fused_out = fused(x)
    reference = bn(conv(x))

# deepcopy keeps a tie
tied = nn.ModuleDict({"emb": nn.Embedding(5, 3), "out": nn.Linear(3, 5, bias=False)})
tied["out"].weight = tied["emb"].weight
tied_copy = copy.deepcopy(tied)


# backward pre-hook on a module, optimizer steps run from post-accumulate-grad hooks
model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2))
numpy_init(model)
model[2].register_full_backward_pre_hook(lambda module, grad_output: (grad_output[0] * 0.5,))
optimizers = {p: torch.optim.Adam([p], lr=0.01) for p in model.parameters()}


def step_now(param):
    optimizers[param].step()
    optimizers[param].zero_grad()


for p in model.parameters():
    p.register_post_accumulate_grad_hook(step_now)
inputs = torch.from_numpy(rng.standard_normal((6, 4)).astype(np.float32))
targets = torch.from_numpy(rng.standard_normal((6, 2)).astype(np.float32))
in_backward_losses = []
for _ in range(4):
    loss = F.mse_loss(model(inputs), targets)
    loss.backward()
    in_backward_losses.append(loss.item())

RESULT = {"versions": metadata_versions, "reloaded_versions": reloaded_versions,
          "from_file": from_file(x), "keys": list(sd.keys()), "prefixed": prefixed,
          "keep_vars": keep_vars_info, "same_after_old": same_after_old,
          "restored_scale": restored_scale, "calls": int(net.proj.calls),
          "missing": report.missing_keys, "unexpected": report.unexpected_keys,
          "forgiving": [forgiving_report.missing_keys, forgiving_report.unexpected_keys],
          "repr": repr(net), "embedding": embedding, "trainable": trainable,
          "fused": fused_out, "reference": reference, "fused_bias": fused.bias,
          "tied_copy": tied_copy["out"].weight is tied_copy["emb"].weight,
          "tied_copy_not_original": tied_copy["emb"].weight is not tied["emb"].weight,
          "n_tied": len(list(tied_copy.parameters())),
          "in_backward_losses": in_backward_losses,
          "grads_cleared": [p.grad is None for p in model.parameters()],
          "final": [p for p in model.parameters()]}
