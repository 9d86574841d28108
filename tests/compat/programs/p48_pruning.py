# ruff: noqa - written as PyTorch user code is written
# Pruning as in the pruning tutorial: l1_unstructured and ln_structured on a LeNet-style
# model, iterative pruning of the same tensor (each step among what is left), pruning
# biases, global_unstructured across layers, importance_scores, custom_from_mask,
# fine-tuning with the masks held, the state_dict layout (weight_orig, weight_mask),
# and prune.remove to make it permanent.
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.nn.utils.prune as prune

rng = np.random.default_rng(48)


class LeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 3, 3)
        self.conv2 = nn.Conv2d(3, 4, 3)
        self.fc1 = nn.Linear(4 * 2 * 2, 8)
        self.fc2 = nn.Linear(8, 3)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.relu(self.conv2(x))
        return self.fc2(F.relu(self.fc1(x.flatten(1))))


model = LeNet()
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.from_numpy(rng.normal(0, 0.4, tuple(p.shape)).astype(np.float32)))

prune.random_unstructured(model.conv1, name="weight", amount=0.0)  # a no-op mask first
prune.l1_unstructured(model.conv1, name="weight", amount=0.3)
prune.l1_unstructured(model.conv1, name="bias", amount=1)
prune.ln_structured(model.conv2, name="weight", amount=0.5, n=2, dim=0)
prune.ln_structured(model.conv2, name="weight", amount=1, n=float("inf"), dim=1)
prune.global_unstructured([(model.fc1, "weight"), (model.fc2, "weight"), (model.fc2, "bias")],
                          pruning_method=prune.L1Unstructured, amount=0.25)
prune.l1_unstructured(model.fc1, name="bias", amount=2,
                      importance_scores=torch.arange(8.0).flip(0))
prune.custom_from_mask(model.fc2, name="bias", mask=torch.tensor([1.0, 0.0, 1.0]))

x = torch.from_numpy(rng.standard_normal((6, 1, 10, 10)).astype(np.float32))
y = torch.from_numpy(rng.integers(0, 3, 6))
opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
losses = []
for step in range(4):
    opt.zero_grad()
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
    losses.append(loss.item())

masks = {n: b.clone() for n, b in model.named_buffers()}
sparsity = [float((m.weight == 0).sum()) / m.weight.numel() for m in
            (model.conv1, model.conv2, model.fc1, model.fc2)]
keys = list(model.state_dict().keys())
pruned_out = model(x)
for module, name in [(model.conv1, "weight"), (model.conv1, "bias"), (model.conv2, "weight"),
                     (model.fc1, "weight"), (model.fc1, "bias"), (model.fc2, "weight"),
                     (model.fc2, "bias")]:
    prune.remove(module, name)
RESULT = {"losses": losses, "masks": masks, "sparsity": sparsity, "keys": keys,
          "out": pruned_out, "after": model(x), "final_keys": list(model.state_dict().keys()),
          "grads": [p.grad for p in model.parameters()],
          "pruned": prune.is_pruned(model)}
