# ruff: noqa - written as PyTorch user code is written
# Checkpointing: torch.save a dict with the model, optimizer and scheduler states, the
# epoch and the loss history; torch.load it into freshly built objects and resume. The
# resumed run must end where an uninterrupted run ends.
import os

import numpy as np
import torch
import torch.nn as nn

rng = np.random.default_rng(34)
X = torch.from_numpy(rng.standard_normal((40, 5)).astype(np.float32))
Y = torch.from_numpy(rng.integers(0, 3, 40))
start = {"body.0.weight": rng.normal(0, 0.4, (8, 5)),
         "body.1.weight": np.ones(8), "body.1.bias": np.zeros(8),
         "head.weight": rng.normal(0, 0.4, (3, 8)), "head.bias": np.zeros(3)}


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(5, 8, bias=False), nn.BatchNorm1d(8),
                                  nn.ReLU())
        self.head = nn.Linear(8, 3)

    def forward(self, x):
        return self.head(self.body(x))


def build():
    model = Classifier()
    model.load_state_dict({k: torch.tensor(v, dtype=torch.float32) for k, v in start.items()},
                          strict=False)
    opt = torch.optim.AdamW(model.parameters(), lr=0.05, weight_decay=0.01, amsgrad=True)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=12)
    return model, opt, sched


def train_epoch(model, opt, sched):
    model.train()
    for i in range(0, 40, 10):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(X[i:i + 10]), Y[i:i + 10])
        loss.backward()
        opt.step()
    sched.step()
    model.eval()
    with torch.no_grad():
        return nn.functional.cross_entropy(model(X), Y).item()


# uninterrupted
model, opt, sched = build()
straight = [train_epoch(model, opt, sched) for _ in range(8)]
final_straight = {k: v.clone() for k, v in model.state_dict().items()}

# interrupted after 4 epochs, saved, rebuilt, loaded, resumed
model, opt, sched = build()
history = [train_epoch(model, opt, sched) for _ in range(4)]
path = os.path.join(TMP, "checkpoint.pt")
torch.save({"epoch": 4, "model": model.state_dict(), "optimizer": opt.state_dict(),
            "scheduler": sched.state_dict(), "history": history, "best": min(history)}, path)
del model, opt, sched

model, opt, sched = build()
checkpoint = torch.load(path)
model.load_state_dict(checkpoint["model"])
opt.load_state_dict(checkpoint["optimizer"])
sched.load_state_dict(checkpoint["scheduler"])
history = list(checkpoint["history"])
for epoch in range(checkpoint["epoch"], 8):
    history.append(train_epoch(model, opt, sched))

weights_path = os.path.join(TMP, "weights.pth")
torch.save(model.state_dict(), weights_path)
again = Classifier()
again.load_state_dict(torch.load(weights_path, weights_only=True))
again.eval()
tensor_path = os.path.join(TMP, "tensors.pt")
torch.save({"x": X[:3], "list": [Y[:4], torch.arange(3)]}, tensor_path)
loaded = torch.load(tensor_path, map_location="cpu")

RESULT = {"straight": straight, "resumed": history, "final": dict(model.state_dict()),
          "same_as_straight": [bool(torch.allclose(final_straight[k], v, atol=1e-6))
                               for k, v in model.state_dict().items()],
          "epoch": checkpoint["epoch"], "best": checkpoint["best"],
          "lr": opt.param_groups[0]["lr"], "amsgrad": opt.param_groups[0]["amsgrad"],
          "betas": list(opt.param_groups[0]["betas"]), "sched_epoch": sched.last_epoch,
          "again": again(X[:5]), "loaded_x": loaded["x"], "loaded_list": loaded["list"],
          "step_state": [float(s["step"]) for s in opt.state_dict()["state"].values()],
          "num_batches": model.body[1].num_batches_tracked}
