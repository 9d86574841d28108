# ruff: noqa - written as PyTorch user code is written
# A training script with the switches of nanoGPT-style code: device/dtype probing, a
# nullcontext or torch.amp.autocast context chosen by device, TF32 flags and
# set_float32_matmul_precision, torch.compile behind a flag, a GradScaler that is off
# unless float16 (scaler.scale(loss).backward(), unscale_ before clip_grad_norm_,
# scaler.step, scaler.update), an enabled CPU GradScaler whose scale backs off after an
# overflowing step and grows after clean ones, an EMA of the weights kept with
# torch._foreach_mul_/_foreach_add_ and timm-style _foreach_lerp_ over state_dict values,
# and a checkpoint holding model, EMA, optimizer and scaler states that resumes exactly.
import copy
import math
import os
import warnings
from contextlib import nullcontext

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

warnings.filterwarnings("ignore", message=".*CUDA is not available.*")
warnings.filterwarnings("ignore", category=FutureWarning)
rng = np.random.default_rng(76)
device = 'cuda' if torch.cuda.is_available() else 'cpu'
dtype = 'bfloat16' if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else 'float16'
compile = True
device_type = 'cuda' if 'cuda' in device else 'cpu'
ptdtype = {'float32': torch.float32, 'bfloat16': torch.bfloat16, 'float16': torch.float16}[dtype]
ctx = nullcontext() if device_type == 'cpu' else torch.amp.autocast(device_type=device_type, dtype=ptdtype)
torch.backends.cuda.matmul.allow_tf32 = True
torch.backends.cudnn.allow_tf32 = True
torch.set_float32_matmul_precision('high')


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(6, 16), nn.GELU(), nn.LayerNorm(16), nn.Linear(16, 3))
        self.register_buffer("calls", torch.zeros((), dtype=torch.long))

    def forward(self, x, targets=None):
        self.calls += 1
        logits = self.net(x)
        loss = None if targets is None else F.cross_entropy(logits, targets)
        return logits, loss


def fill(module):
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.from_numpy(rng.normal(0, 0.4, tuple(p.shape)).astype(np.float32)))


X = torch.from_numpy(rng.standard_normal((64, 6)).astype(np.float32))
Y = torch.from_numpy(rng.integers(0, 3, 64))
raw_model = MLP().to(device)
fill(raw_model)
ema_model = copy.deepcopy(raw_model).eval()
ema_model.requires_grad_(False)
model = torch.compile(raw_model, backend="eager") if compile else raw_model
optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, betas=(0.9, 0.95), weight_decay=0.1)
scaler = torch.cuda.amp.GradScaler(enabled=(dtype == 'float16'))
grad_clip = 1.0


@torch.no_grad()
def update_ema(decay=0.9):
    ema_params = list(ema_model.parameters())
    model_params = list(raw_model.parameters())
    torch._foreach_mul_(ema_params, decay)
    torch._foreach_add_(ema_params, model_params, alpha=1 - decay)


def get_lr(it, warmup_iters=3, lr_decay_iters=12, learning_rate=3e-3, min_lr=3e-4):
    if it < warmup_iters:
        return learning_rate * (it + 1) / (warmup_iters + 1)
    if it > lr_decay_iters:
        return min_lr
    decay_ratio = (it - warmup_iters) / (lr_decay_iters - warmup_iters)
    coeff = 0.5 * (1.0 + math.cos(math.pi * decay_ratio))
    return min_lr + coeff * (learning_rate - min_lr)


def train(iters, start=0):
    losses = []
    for it in range(start, start + iters):
        lr = get_lr(it)
        for param_group in optimizer.param_groups:
            param_group['lr'] = lr
        for micro_step in range(2):
            xb, yb = X[micro_step * 32:(micro_step + 1) * 32], Y[micro_step * 32:(micro_step + 1) * 32]
            with ctx:
                logits, loss = model(xb, yb)
                loss = loss / 2
            scaler.scale(loss).backward()
        if grad_clip != 0.0:
            scaler.unscale_(optimizer)
            norm = torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
        scaler.step(optimizer)
        scaler.update()
        optimizer.zero_grad(set_to_none=True)
        update_ema()
        losses.append((loss.item() * 2, norm.item(), lr))
    return losses


first = train(5)
path = os.path.join(TMP, "ckpt.pt")
checkpoint = {'model': raw_model.state_dict(), 'ema': ema_model.state_dict(),
              'optimizer': optimizer.state_dict(), 'scaler': scaler.state_dict(), 'iter_num': 5}
torch.save(checkpoint, path)
continued = train(4, start=5)
after_continue = [p.detach().clone() for p in raw_model.parameters()]

ckpt = torch.load(path, map_location=device)
raw_model.load_state_dict(ckpt['model'])
ema_model.load_state_dict(ckpt['ema'])
optimizer.load_state_dict(ckpt['optimizer'])
resumed = train(4, start=ckpt['iter_num'])
same = all(torch.equal(a, b) for a, b in zip(after_continue, raw_model.parameters()))

# an enabled scaler on the CPU: exact powers of two, an overflow skips the step
w = torch.nn.Parameter(torch.tensor([1.0, -2.0, 0.5]))
opt = torch.optim.SGD([w], lr=0.1)
cpu_scaler = torch.amp.GradScaler("cpu", init_scale=2.0 ** 10, growth_interval=2)
trace = []
for step in range(6):
    opt.zero_grad()
    with torch.autocast(device_type="cpu", enabled=False):
        loss = (w ** 2).sum() * (float("inf") if step == 2 else 1.0)
    cpu_scaler.scale(loss).backward()
    scaled_grad = w.grad.clone()
    cpu_scaler.unscale_(opt)
    result = cpu_scaler.step(opt)
    cpu_scaler.update()
    trace.append((cpu_scaler.get_scale(), w.detach().clone(), scaled_grad[0].item(), result is None))

# timm-style EMA through state_dict values (they share memory with the model)
ema2 = copy.deepcopy(raw_model)
with torch.no_grad():
    for p in raw_model.parameters():
        p.add_(0.5)
    ema_values = [v for v in ema2.state_dict().values() if v.is_floating_point()]
    model_values = [v for v in raw_model.state_dict().values() if v.is_floating_point()]
    torch._foreach_lerp_(ema_values, model_values, weight=0.25)
    norms = torch._foreach_norm(list(ema2.parameters()))

RESULT = {"first": first, "continued": continued, "resumed": resumed, "same": same,
          "ema": list(ema_model.parameters()), "ema2": list(ema2.parameters()),
          "norms": norms, "scaler": [scaler.is_enabled(), scaler.get_scale(), scaler.state_dict()],
          "cpu_scaler": trace, "cpu_state": cpu_scaler.state_dict(),
          "autocast_off": torch.is_autocast_enabled(), "precision": torch.get_float32_matmul_precision(),
          "calls": raw_model.calls.item()}
