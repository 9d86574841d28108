# ruff: noqa - written as PyTorch user code is written
# Embedding tables as NLP and recommender code uses them: nn.Embedding with padding_idx
# (its row stays zero and gets no gradient) and max_norm (rows renormalized in place
# during forward, norm_type 1 and 2), scale_grad_by_freq, Embedding.from_pretrained with
# freeze / padding_idx, F.embedding on a raw table; nn.EmbeddingBag in mean / sum (with
# per_sample_weights) / max modes with offsets and include_last_offset and a 2-D input;
# a language model whose output layer shares the embedding weight (tied once in
# parameters(), twice in state_dict), trained with Adam; nn.AdaptiveLogSoftmaxWithLoss
# with cutoffs and its log_prob / predict.
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

rng = np.random.default_rng(104)
PAD = 0


def numpy_init(module, scale=0.5):
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.from_numpy(rng.normal(0, scale, tuple(p.shape)).astype(np.float32)))


# padding_idx and max_norm
emb = nn.Embedding(8, 4, padding_idx=PAD, max_norm=1.0)
numpy_init(emb, 1.0)
with torch.no_grad():
    emb.weight[PAD].fill_(0)
ids = torch.tensor([[1, 2, 0, 2], [3, 0, 0, 7]])
norms_before = emb.weight.norm(dim=1).clone()
out = emb(ids)
norms_after = emb.weight.norm(dim=1)
(out * torch.arange(4.0)).sum().backward()
emb_grad = emb.weight.grad.clone()

emb1 = nn.Embedding(6, 3, max_norm=0.5, norm_type=1.0, scale_grad_by_freq=True)
numpy_init(emb1, 1.0)
o1 = emb1(torch.tensor([1, 1, 1, 4, 5]))
o1.pow(2).sum().backward()

pretrained = torch.from_numpy(rng.standard_normal((5, 3)).astype(np.float32))
frozen = nn.Embedding.from_pretrained(pretrained)
trainable = nn.Embedding.from_pretrained(pretrained, freeze=False, padding_idx=4)
y = frozen(torch.tensor([0, 3])).sum() + trainable(torch.tensor([4, 2, 4])).sum()
y.backward()
raw_table = torch.from_numpy(rng.standard_normal((6, 2)).astype(np.float32)).requires_grad_()
F.embedding(torch.tensor([[0, 5], [5, 2]]), raw_table, padding_idx=5).sum().backward()

# EmbeddingBag in its modes
bags = {}
flat = torch.tensor([1, 2, 4, 5, 4, 3, 2, 9])
offsets = torch.tensor([0, 2, 2, 5])
for mode in ("mean", "sum", "max"):
    bag = nn.EmbeddingBag(10, 3, mode=mode, padding_idx=9 if mode != "max" else None)
    numpy_init(bag)
    res = bag(flat, offsets)
    res.sum().backward()
    bags[mode] = [res, bag.weight.grad]
wbag = nn.EmbeddingBag(10, 3, mode="sum", include_last_offset=True, max_norm=0.8)
numpy_init(wbag)
psw = torch.from_numpy(rng.uniform(0.5, 1.5, 8).astype(np.float32)).requires_grad_()
wres = wbag(flat, torch.tensor([0, 3, 6, 8]), per_sample_weights=psw)
wres.pow(2).sum().backward()
bag2d = nn.EmbeddingBag(10, 3)
numpy_init(bag2d)
res2d = bag2d(torch.tensor([[1, 2, 3], [4, 4, 0]]))


# weight tying
class TiedLM(nn.Module):
    def __init__(self, vocab=12, d=6):
        super().__init__()
        self.encoder = nn.Embedding(vocab, d, padding_idx=PAD)
        self.rnn = nn.GRU(d, d, batch_first=True)
        self.decoder = nn.Linear(d, vocab)
        self.decoder.weight = self.encoder.weight

    def forward(self, x):
        h, _ = self.rnn(self.encoder(x))
        return self.decoder(h)


lm = TiedLM()
numpy_init(lm, 0.3)
opt = torch.optim.Adam(lm.parameters(), lr=0.02)
text = torch.from_numpy(rng.integers(1, 12, (4, 7)))
text[2, 5:] = PAD
lm_losses = []
for step in range(6):
    logits = lm(text[:, :-1])
    loss = F.cross_entropy(logits.reshape(-1, 12), text[:, 1:].reshape(-1), ignore_index=PAD)
    opt.zero_grad()
    loss.backward()
    opt.step()
    lm_losses.append(loss.item())

# adaptive softmax over a vocabulary split into a head and two tail clusters
asm = nn.AdaptiveLogSoftmaxWithLoss(8, 20, cutoffs=[6, 12], div_value=2.0)
numpy_init(asm, 0.3)
hidden = torch.from_numpy(rng.standard_normal((7, 8)).astype(np.float32)).requires_grad_()
targets = torch.tensor([0, 5, 6, 11, 12, 19, 3])
asm_out = asm(hidden, targets)
asm_out.loss.backward()
with torch.no_grad():
    log_probs = asm.log_prob(hidden)
    predicted = asm.predict(hidden)

RESULT = {"out": out, "norms_before": norms_before, "norms_after": norms_after,
          "emb_grad": emb_grad, "pad_row": emb.weight[PAD],
          "o1": o1, "emb1_weight": emb1.weight, "emb1_grad": emb1.weight.grad,
          "frozen_grad": frozen.weight.grad is None, "frozen_rg": frozen.weight.requires_grad,
          "trainable_grad": trainable.weight.grad, "raw_grad": raw_table.grad,
          "bags": bags, "wres": wres, "psw_grad": psw.grad, "wbag_grad": wbag.weight.grad,
          "wbag_weight": wbag.weight, "res2d": res2d,
          "lm_losses": lm_losses, "tied": lm.decoder.weight is lm.encoder.weight,
          "n_params": len(list(lm.parameters())), "keys": list(lm.state_dict().keys()),
          "named": [n for n, _ in lm.named_parameters()],
          "asm_output": asm_out.output, "asm_loss": asm_out.loss, "asm_hgrad": hidden.grad,
          "log_probs": log_probs, "predicted": predicted,
          "asm_keys": list(asm.state_dict().keys())}
