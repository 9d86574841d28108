"""A training loop in the style of nanoGPT's train.py under torchrun: the DDP settings
read from the environment (RANK, LOCAL_RANK, WORLD_SIZE), a master process that alone
logs and saves, a seed offset per rank for the batches, gradient accumulation by
setting ``model.require_backward_grad_sync`` on the last micro-step, AdamW with decayed
and undecayed parameter groups, a warm-up-then-cosine learning rate written into the
param groups by hand, gradient clipping, weight tying, and ``raw_model = model.module``.
The test runs it with real torch and, with only its import lines pointed at chainrule,
under mpiexec -n 2, and compares what each rank writes."""
import json
import math
import os

import numpy as np
import torch
import torch.nn as nn  # noqa: PLR0402 - as users write it
from torch.distributed import destroy_process_group, init_process_group
from torch.nn import functional as F
from torch.nn.parallel import DistributedDataParallel as DDP

block_size, vocab_size, n_embd, n_head = 8, 11, 16, 2
batch_size, gradient_accumulation_steps = 4, 3
learning_rate, min_lr, warmup_iters, max_iters = 3e-3, 3e-4, 3, 8
weight_decay, grad_clip = 0.1, 1.0


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln_1 = nn.LayerNorm(n_embd)
        # no bias (nanoGPT's bias=False): the keys' bias has a gradient of exactly zero
        # (softmax ignores a shift shared by all keys), whose round-off AdamW would
        # blow up into steps of the learning rate's size, different in every library
        self.c_attn = nn.Linear(n_embd, 3 * n_embd, bias=False)
        self.c_proj = nn.Linear(n_embd, n_embd)
        self.ln_2 = nn.LayerNorm(n_embd)
        self.mlp = nn.Sequential(nn.Linear(n_embd, 4 * n_embd), nn.GELU(approximate="tanh"),
                                 nn.Linear(4 * n_embd, n_embd))

    def forward(self, x):
        B, T, C = x.size()
        q, k, v = self.c_attn(self.ln_1(x)).split(n_embd, dim=2)
        q = q.view(B, T, n_head, C // n_head).transpose(1, 2)
        k = k.view(B, T, n_head, C // n_head).transpose(1, 2)
        v = v.view(B, T, n_head, C // n_head).transpose(1, 2)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.c_proj(y.transpose(1, 2).contiguous().view(B, T, C))
        return x + self.mlp(self.ln_2(x))


class TinyGPT(nn.Module):
    def __init__(self):
        super().__init__()
        self.wte = nn.Embedding(vocab_size, n_embd)
        self.wpe = nn.Embedding(block_size, n_embd)
        self.block = Block()
        self.ln_f = nn.LayerNorm(n_embd)
        self.lm_head = nn.Linear(n_embd, vocab_size, bias=False)
        self.wte.weight = self.lm_head.weight  # weight tying

    def forward(self, idx, targets=None):
        pos = torch.arange(0, idx.size(1), dtype=torch.long)
        x = self.ln_f(self.block(self.wte(idx) + self.wpe(pos)))
        logits = self.lm_head(x)
        loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))
        return logits, loss

    def configure_optimizers(self):
        params = {n: p for n, p in self.named_parameters() if p.requires_grad}
        decay = [p for p in params.values() if p.dim() >= 2]
        no_decay = [p for p in params.values() if p.dim() < 2]
        groups = [{"params": decay, "weight_decay": weight_decay},
                  {"params": no_decay, "weight_decay": 0.0}]
        return torch.optim.AdamW(groups, lr=learning_rate, betas=(0.9, 0.95))


def get_lr(it):
    if it < warmup_iters:
        return learning_rate * (it + 1) / (warmup_iters + 1)
    ratio = (it - warmup_iters) / (max_iters - warmup_iters)
    return min_lr + 0.5 * (1.0 + math.cos(math.pi * ratio)) * (learning_rate - min_lr)


def main():
    ddp = int(os.environ.get("RANK", "-1")) != -1
    assert ddp, "start with torchrun (or mpiexec)"
    init_process_group(backend="gloo")
    ddp_rank = int(os.environ["RANK"])
    ddp_local_rank = int(os.environ["LOCAL_RANK"])
    ddp_world_size = int(os.environ["WORLD_SIZE"])
    master_process = ddp_rank == 0
    seed_offset = ddp_rank
    assert ddp_local_rank == ddp_rank and ddp_world_size == 2

    text = np.random.default_rng(0).integers(0, vocab_size, 400)
    data = np.random.default_rng(1337 + seed_offset)  # each rank its own batches

    def get_batch():
        ix = data.integers(0, len(text) - block_size, batch_size)
        x = torch.from_numpy(np.stack([text[i:i + block_size] for i in ix]).astype(np.int64))
        y = torch.from_numpy(np.stack([text[i + 1:i + 1 + block_size] for i in ix])
                             .astype(np.int64))
        return x, y

    model = TinyGPT()
    with torch.no_grad():
        init = np.random.default_rng(42)
        for name, p in model.named_parameters():
            if p.dim() >= 2:
                p.copy_(torch.tensor(init.normal(size=tuple(p.shape)) * 0.1,
                                     dtype=torch.float32))
            elif not name.startswith(("block.ln", "ln_f")):
                torch.nn.init.zeros_(p)  # biases start at zero, as nanoGPT's _init_weights
    optimizer = model.configure_optimizers()
    model = DDP(model, device_ids=None)
    raw_model = model.module

    losses, norms, lrs = [], [], []
    X, Y = get_batch()
    for iter_num in range(max_iters):
        lr = get_lr(iter_num)
        for param_group in optimizer.param_groups:
            param_group["lr"] = lr
        for micro_step in range(gradient_accumulation_steps):
            model.require_backward_grad_sync = micro_step == gradient_accumulation_steps - 1
            _logits, loss = model(X, Y)
            loss = loss / gradient_accumulation_steps
            X, Y = get_batch()
            loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        lossf = loss.item() * gradient_accumulation_steps
        if master_process:
            print(f"iter {iter_num}: loss {lossf:.4f}, lr {lr:.2e}, norm {norm.item():.4f}")
        losses.append(lossf)
        norms.append(norm.item())
        lrs.append(lr)

    assert raw_model.wte.weight is raw_model.lm_head.weight
    with open(os.path.join(os.environ["RESULT_DIR"], f"rank{ddp_rank}.json"), "w") as f:
        json.dump({"losses": losses, "norms": norms, "lrs": lrs,
                   "state": {k: v.tolist() for k, v in raw_model.state_dict().items()}}, f)
    destroy_process_group()


if __name__ == "__main__":
    main()
