# ruff: noqa - written as PyTorch user code is written
# Gradient bookkeeping as large-batch training code does it: accumulation over micro-
# batches with the loss divided by the number of steps (and, for a language-model-style
# loss, by the tokens in the whole batch), checked against one big batch; the total norm
# from get_total_norm / clip_grad_norm_ (foreach, inf-norm, error_if_nonfinite) and
# clip_grads_with_norm_; a step skipped when the norm is not finite; per-parameter hooks
# clamping gradients; clip_grad_value_; the gradient as one vector
# (parameters_to_vector on grads) for a cosine between consecutive steps, and
# vector_to_parameters to restore a snapshot; zero_grad(set_to_none=False) with grad.add_.
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils import (clip_grad_norm_, clip_grad_value_, clip_grads_with_norm_,
                            get_total_norm, parameters_to_vector, vector_to_parameters)

rng = np.random.default_rng(107)
X = torch.from_numpy(rng.standard_normal((16, 5)).astype(np.float32))
Y = torch.from_numpy(rng.integers(0, 4, 16))
weights = {k: rng.normal(0, 0.4, s).astype(np.float32)
           for k, s in [("0.weight", (12, 5)), ("0.bias", (12,)), ("2.weight", (4, 12)),
                        ("2.bias", (4,))]}


def build():
    model = nn.Sequential(nn.Linear(5, 12), nn.GELU(), nn.Linear(12, 4))
    model.load_state_dict({k: torch.from_numpy(v) for k, v in weights.items()})
    return model


# one batch of 16 vs. four accumulated micro-batches of 4
big = build()
F.cross_entropy(big(X), Y).backward()
big_grads = [p.grad.clone() for p in big.parameters()]

accum = build()
opt = torch.optim.SGD(accum.parameters(), lr=0.1)
opt.zero_grad()
steps = 4
for xb, yb in zip(X.chunk(steps), Y.chunk(steps)):
    loss = F.cross_entropy(accum(xb), yb) / steps
    loss.backward()
accum_grads = [p.grad.clone() for p in accum.parameters()]

# token-normalized accumulation: padded targets, normalized by the tokens of the whole batch
targets = Y.clone().view(4, 4)
targets[1, 2:] = -100
targets[3, 1:] = -100
logits_in = X.view(4, 4, 5)
tok = build()
n_tokens = (targets != -100).sum()
for i in range(4):
    out = tok(logits_in[i])
    loss = F.cross_entropy(out, targets[i], ignore_index=-100, reduction="sum") / n_tokens
    loss.backward()
tok_grads = [p.grad.clone() for p in tok.parameters()]
ref = build()
F.cross_entropy(ref(X), targets.view(-1), ignore_index=-100).backward()
tok_same = [bool(torch.allclose(a, p.grad, atol=1e-6)) for a, p in zip(tok_grads, ref.parameters())]

# a micro-batch of padding only: its mean loss is NaN (0/0), but it sends no gradient, so
# what was accumulated survives it
pad_model = build()
F.cross_entropy(pad_model(X[:4]), Y[:4]).backward()
pad_loss = F.cross_entropy(pad_model(X[4:8]), torch.full((4,), -100, dtype=torch.long))
pad_loss.backward()
pad_grads = [p.grad.clone() for p in pad_model.parameters()]

# norms and clipping
model = build()
F.cross_entropy(model(X), Y).backward()
grads = [p.grad for p in model.parameters()]
norms = {"total2": get_total_norm(grads), "total_inf": get_total_norm(grads, norm_type=math.inf),
         "total1": get_total_norm(grads, norm_type=1.0, foreach=True)}
clipped_total = clip_grad_norm_(model.parameters(), max_norm=0.5, foreach=True)
after_clip = get_total_norm([p.grad for p in model.parameters()])
model2 = build()
F.cross_entropy(model2(X), Y).backward()
total = get_total_norm([p.grad for p in model2.parameters()], norm_type=2.0)
clip_grads_with_norm_(model2.parameters(), max_norm=0.5, total_norm=total)
same_two_ways = [bool(torch.allclose(a.grad, b.grad)) for a, b in zip(model.parameters(),
                                                                      model2.parameters())]
inf_clip = clip_grad_norm_(model2.parameters(), max_norm=0.05, norm_type="inf")
clip_grad_value_(model2.parameters(), clip_value=0.01)
value_clipped = [p.grad.abs().max() for p in model2.parameters()]

# a non-finite gradient: the step is skipped, or an error is raised if asked
model3 = build()
opt3 = torch.optim.Adam(model3.parameters(), lr=0.01)
skipped = []
for step in range(3):
    opt3.zero_grad()
    loss = F.cross_entropy(model3(X), Y)
    if step == 1:
        loss = loss * float("inf")
    loss.backward()
    norm = clip_grad_norm_(model3.parameters(), 1.0)
    if not torch.isfinite(norm):
        skipped.append(step)
        continue
    opt3.step()
try:
    clip_grad_norm_(model3.parameters(), 1.0, error_if_nonfinite=True)
    raised = False
except RuntimeError as e:
    raised = "non-finite" in str(e)

# per-parameter gradient hooks, gradient vectors between steps, restoring a snapshot
model4 = build()
handles = [p.register_hook(lambda g: g.clamp(-0.05, 0.05)) for p in model4.parameters()]
opt4 = torch.optim.SGD(model4.parameters(), lr=0.5, momentum=0.9)
snapshot = parameters_to_vector(model4.parameters()).detach().clone()
previous, cosines, losses = None, [], []
for step in range(5):
    opt4.zero_grad()
    loss = F.cross_entropy(model4(X), Y)
    loss.backward()
    g = parameters_to_vector(p.grad for p in model4.parameters())
    if previous is not None:
        cosines.append(F.cosine_similarity(g, previous, dim=0).item())
    previous = g.clone()
    opt4.step()
    losses.append(loss.item())
for h in handles:
    h.remove()
moved = (parameters_to_vector(model4.parameters()) - snapshot).norm()
vector_to_parameters(snapshot, model4.parameters())
restored = [p.detach().clone() for p in model4.parameters()]

# accumulation through set_to_none=False and add_
model5 = build()
opt5 = torch.optim.SGD(model5.parameters(), lr=0.1)
opt5.zero_grad(set_to_none=False)
manual = [torch.zeros_like(p) for p in model5.parameters()]
for xb, yb in zip(X.chunk(2), Y.chunk(2)):
    model5.zero_grad(set_to_none=False)
    F.cross_entropy(model5(xb), yb).backward()
    for m, p in zip(manual, model5.parameters()):
        m.add_(p.grad, alpha=0.5)
for m, p in zip(manual, model5.parameters()):
    p.grad.copy_(m)
opt5.step()

RESULT = {"big": big_grads, "accum": accum_grads,
          "accum_same": [bool(torch.allclose(a, b, atol=1e-6)) for a, b in zip(big_grads, accum_grads)],
          "tok": tok_grads, "tok_same": tok_same, "pad_nan": bool(torch.isnan(pad_loss)),
          "pad_grads": pad_grads, "n_tokens": n_tokens, "norms": norms,
          "clipped_total": clipped_total, "after_clip": after_clip, "same_two_ways": same_two_ways,
          "inf_clip": inf_clip, "value_clipped": value_clipped, "skipped": skipped,
          "raised": raised, "model3": [p for p in model3.parameters()],
          "cosines": cosines, "losses4": losses, "moved": moved, "restored": restored,
          "snapshot": snapshot, "model5": [p for p in model5.parameters()]}
