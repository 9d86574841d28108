# ruff: noqa - written as PyTorch user code is written
# Model ensembling in the shape of the torch.func tutorial: several small MLPs of one
# class, their states stacked with torch.func.stack_module_state, a copy of one model
# used as the template of functional_call, vmap over the stacked parameters with
# in_dims=(0, 0, None) for one minibatch and in_dims=(0, 0, 0) for a minibatch per
# model, checked against the models run one by one (torch.testing.assert_close), then
# the ensemble trained as one: gradients flow into the stacked leaves and Adam updates
# them, and the ensemble's mean prediction and disagreement are reported.
import copy

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.func import functional_call, stack_module_state, vmap

rng = np.random.default_rng(89)


class SimpleMLP(nn.Module):
    def __init__(self):
        super(SimpleMLP, self).__init__()
        self.fc1 = nn.Linear(6, 16)
        self.fc2 = nn.Linear(16, 8)
        self.fc3 = nn.Linear(8, 3)
        self.register_buffer("temperature", torch.tensor(1.0))

    def forward(self, x):
        x = x.flatten(1)
        x = self.fc1(x)
        x = F.relu(x)
        x = self.fc2(x)
        x = F.relu(x)
        x = self.fc3(x)
        return x / self.temperature


num_models = 4
models = [SimpleMLP() for _ in range(num_models)]
with torch.no_grad():
    for i, model in enumerate(models):
        for p in model.parameters():
            p.copy_(torch.from_numpy(rng.normal(0, 0.4, tuple(p.shape)).astype(np.float32)))
        model.temperature.fill_(1.0 + 0.5 * i)

minibatches = torch.from_numpy(rng.standard_normal((num_models, 5, 2, 3)).astype(np.float32))
minibatch = minibatches[0]
predictions_diff_minibatch_loop = [model(mb) for model, mb in zip(models, minibatches)]
predictions1_loop = [model(minibatch) for model in models]

params, buffers = stack_module_state(models)
base_model = copy.deepcopy(models[0])


def fmodel(params, buffers, x):
    return functional_call(base_model, (params, buffers), (x,))


predictions1_vmap = vmap(fmodel, in_dims=(0, 0, None))(params, buffers, minibatch)
torch.testing.assert_close(predictions1_vmap, torch.stack(predictions1_loop), atol=1e-5, rtol=1e-5)
predictions2_vmap = vmap(fmodel)(params, buffers, minibatches)
torch.testing.assert_close(predictions2_vmap, torch.stack(predictions_diff_minibatch_loop),
                           atol=1e-5, rtol=1e-5)

targets = torch.from_numpy(rng.integers(0, 3, (num_models, 5)))
optimizer = torch.optim.Adam(list(params.values()), lr=0.01)
history = []
for step in range(8):
    logits = vmap(fmodel)(params, buffers, minibatches)
    loss = F.cross_entropy(logits.reshape(-1, 3), targets.reshape(-1), reduction="sum") / num_models
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    history.append(loss.item())

with torch.no_grad():
    probs = vmap(fmodel, in_dims=(0, 0, None))(params, buffers, minibatch).softmax(-1)
    mean_prediction = probs.mean(0)
    disagreement = probs.var(0, unbiased=False).sum(-1)
RESULT = {"vmap1": predictions1_vmap, "vmap2": predictions2_vmap[:, :2], "history": history,
          "shapes": {k: tuple(v.shape) for k, v in params.items()},
          "buffers": {k: v for k, v in buffers.items()}, "leaf": [p.is_leaf and p.requires_grad for p in params.values()],
          "mean": mean_prediction, "disagreement": disagreement, "fc3": params["fc3.bias"],
          "untouched": models[0].fc3.bias}
