# ruff: noqa - written as PyTorch user code is written
# Two transformer models as the well-known examples write them: pytorch/examples'
# TransformerModel for word-level language modelling (PositionalEncoding buffer built
# with torch.exp(arange * (-log(10000) / d)), a float causal mask from
# torch.log(torch.tril(torch.ones(sz, sz))), sequence-first nn.TransformerEncoder,
# init.uniform_/zeros_ then NumPy weights, log_softmax + NLLLoss, clip_grad_norm_) and a
# small Vision Transformer (Conv2d patch embedding with stride = patch size,
# flatten(2).transpose(1, 2), a learned class token expanded over the batch, learned
# position embeddings, batch_first pre-norm encoder layers with GELU, a LayerNorm + Linear
# head on the class token), trained a few steps with AdamW and a warm-up LambdaLR.
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

rng = np.random.default_rng(90)


def fill(module, scale=0.2):
    with torch.no_grad():
        for name, p in module.named_parameters():
            if p.dim() > 1:
                p.copy_(torch.from_numpy(rng.normal(0, scale, tuple(p.shape)).astype(np.float32)))


class PositionalEncoding(nn.Module):
    def __init__(self, d_model, dropout=0.1, max_len=5000):
        super(PositionalEncoding, self).__init__()
        self.dropout = nn.Dropout(p=dropout)
        pe = torch.zeros(max_len, d_model)
        position = torch.arange(0, max_len, dtype=torch.float).unsqueeze(1)
        div_term = torch.exp(torch.arange(0, d_model, 2).float() * (-math.log(10000.0) / d_model))
        pe[:, 0::2] = torch.sin(position * div_term)
        pe[:, 1::2] = torch.cos(position * div_term)
        pe = pe.unsqueeze(0).transpose(0, 1)
        self.register_buffer('pe', pe)

    def forward(self, x):
        x = x + self.pe[:x.size(0), :]
        return self.dropout(x)


class TransformerModel(nn.Transformer):
    def __init__(self, ntoken, ninp, nhead, nhid, nlayers, dropout=0.5):
        super(TransformerModel, self).__init__(d_model=ninp, nhead=nhead, dim_feedforward=nhid,
                                               num_encoder_layers=nlayers, dropout=dropout)
        self.model_type = 'Transformer'
        self.src_mask = None
        self.pos_encoder = PositionalEncoding(ninp, dropout)
        self.input_emb = nn.Embedding(ntoken, ninp)
        self.ninp = ninp
        self.decoder = nn.Linear(ninp, ntoken)
        self.init_weights()

    def _generate_square_subsequent_mask(self, sz):
        return torch.log(torch.tril(torch.ones(sz, sz)))

    def init_weights(self):
        initrange = 0.1
        nn.init.uniform_(self.input_emb.weight, -initrange, initrange)
        nn.init.zeros_(self.decoder.bias)
        nn.init.uniform_(self.decoder.weight, -initrange, initrange)

    def forward(self, src, has_mask=True):
        if has_mask:
            device = src.device
            if self.src_mask is None or self.src_mask.size(0) != len(src):
                mask = self._generate_square_subsequent_mask(len(src)).to(device)
                self.src_mask = mask
        else:
            self.src_mask = None
        src = self.input_emb(src) * math.sqrt(self.ninp)
        src = self.pos_encoder(src)
        output = self.encoder(src, mask=self.src_mask)
        output = self.decoder(output)
        return F.log_softmax(output, dim=-1)


ntokens = 11
lm = TransformerModel(ntokens, 16, 2, 32, 2, dropout=0.0)
fill(lm)
with torch.no_grad():
    for name, p in lm.named_parameters():
        if p.dim() == 1 and "norm" not in name:
            p.copy_(torch.from_numpy(rng.normal(0, 0.05, tuple(p.shape)).astype(np.float32)))
data = torch.from_numpy(rng.integers(0, ntokens, (9, 3)))
criterion = nn.NLLLoss()
lm_history = []
lr = 0.5
for step in range(5):
    lm.train()
    inp, target = data[:-1], data[1:].reshape(-1)
    lm.zero_grad()
    output = lm(inp)
    output = output.view(-1, ntokens)
    loss = criterion(output, target)
    loss.backward()
    norm = torch.nn.utils.clip_grad_norm_(lm.parameters(), 0.25)
    for p in lm.parameters():
        p.data.add_(p.grad, alpha=-lr)
    lm_history.append((loss.item(), norm.item()))
lm.eval()
with torch.no_grad():
    unmasked = lm(data[:-1], has_mask=False)[-1, 0]
    masked_first = lm(data[:1])[0, 0]
    prefix_same = torch.allclose(lm(data[:-1])[0], lm(data[:1])[0], atol=1e-5)


class ViT(nn.Module):
    def __init__(self, image_size=8, patch_size=4, num_classes=3, dim=16, depth=2, heads=2, mlp_dim=32):
        super().__init__()
        num_patches = (image_size // patch_size) ** 2
        self.patch_embed = nn.Conv2d(1, dim, kernel_size=patch_size, stride=patch_size)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embedding = nn.Parameter(torch.zeros(1, num_patches + 1, dim))
        layer = nn.TransformerEncoderLayer(dim, heads, mlp_dim, dropout=0.0, activation="gelu",
                                           batch_first=True, norm_first=True)
        self.transformer = nn.TransformerEncoder(layer, depth, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, num_classes)

    def forward(self, img):
        x = self.patch_embed(img).flatten(2).transpose(1, 2)
        b, n, _ = x.shape
        cls_tokens = self.cls_token.expand(b, -1, -1)
        x = torch.cat((cls_tokens, x), dim=1)
        x = x + self.pos_embedding[:, :(n + 1)]
        x = self.transformer(x)
        return self.head(self.norm(x[:, 0]))


vit = ViT()
fill(vit)
with torch.no_grad():
    vit.cls_token.copy_(torch.from_numpy(rng.normal(0, 0.2, (1, 1, 16)).astype(np.float32)))
    vit.pos_embedding.copy_(torch.from_numpy(rng.normal(0, 0.2, (1, 5, 16)).astype(np.float32)))
    for name, p in vit.named_parameters():
        if p.dim() == 1 and "norm" not in name:
            p.zero_()
images = torch.from_numpy(rng.standard_normal((6, 1, 8, 8)).astype(np.float32))
labels = torch.from_numpy(rng.integers(0, 3, 6))
optimizer = torch.optim.AdamW(vit.parameters(), lr=3e-3, weight_decay=0.05)
scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min(1.0, (s + 1) / 3))
vit_history = []
for step in range(5):
    logits = vit(images)
    loss = F.cross_entropy(logits, labels, label_smoothing=0.1)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    scheduler.step()
    vit_history.append((loss.item(), scheduler.get_last_lr()[0]))

RESULT = {"lm": lm_history, "unmasked": unmasked, "masked_first": masked_first,
          "prefix_same": prefix_same, "pe": lm.pos_encoder.pe[:3, 0, :4],
          "mask": lm._generate_square_subsequent_mask(3), "vit": vit_history,
          "cls": vit.cls_token[0, 0, :4], "vit_logits": vit(images[:2])}
