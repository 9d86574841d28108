"""Character-level language models on a text this script generates (no downloads):
an Embedding + MLP over a fixed context (Bengio et al. 2003), or a small causal
Transformer; both sample text after training.

    python examples/char_models.py                        # the MLP, quick
    python examples/char_models.py --model transformer    # the causal transformer, quick
    python examples/char_models.py --model transformer --steps 3000 --sentences 4000

The text comes from a small grammar (subject, verb, object, place), so a model that
learns it produces grammatical nonsense: "the old fox sees a red boat near the river."
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

import chainrule as cr
from chainrule import nn, optim
from chainrule.nn import functional as F

WORDS = {
    "det": ["the", "a", "every", "one"],
    "adj": ["old", "red", "quiet", "small", "happy", "green", "tired"],
    "noun": ["fox", "cat", "boat", "child", "bird", "farmer", "river", "song"],
    "verb": ["sees", "finds", "follows", "paints", "carries", "hears", "likes"],
    "prep": ["near", "under", "behind", "beside", "over"],
}


def make_text(sentences: int, seed: int = 0) -> str:
    """Sentences of the form det [adj] noun verb det [adj] noun [prep det noun]."""
    rng = np.random.default_rng(seed)

    def pick(kind):
        return WORDS[kind][rng.integers(len(WORDS[kind]))]

    def phrase():
        words = [pick("det")]
        if rng.random() < 0.5:
            words.append(pick("adj"))
        return words + [pick("noun")]

    out = []
    for _ in range(sentences):
        words = phrase() + [pick("verb")] + phrase()
        if rng.random() < 0.4:
            words += [pick("prep"), pick("det"), pick("noun")]
        out.append(" ".join(words) + ".")
    return " ".join(out)


class CharMLP(nn.Module):
    """Embed each of the last ``context`` characters, concatenate, one hidden layer."""

    def __init__(self, vocab: int, context: int, dim: int = 16, hidden: int = 128):
        super().__init__()
        self.context = context
        self.embed = nn.Embedding(vocab, dim)
        self.hidden = nn.Linear(context * dim, hidden)
        self.out = nn.Linear(hidden, vocab)

    def forward(self, idx):  # (N, context) -> (N, vocab): the next character's logits
        e = self.embed(idx)
        return self.out(F.tanh(self.hidden(e.reshape(e.shape[0], -1))))


class CharTransformer(nn.Module):
    """Token + position embeddings, causal self-attention blocks, a linear read-out;
    predicts the next character at every position."""

    def __init__(self, vocab: int, context: int, dim: int = 64, heads: int = 4,
                 layers: int = 2):
        super().__init__()
        self.context = context
        self.embed = nn.Embedding(vocab, dim)
        self.position = nn.Embedding(context, dim)
        block = nn.TransformerEncoderLayer(dim, heads, 4 * dim, dropout=0.0, batch_first=True,
                                           norm_first=True, activation="gelu")
        self.blocks = nn.TransformerEncoder(block, layers)
        self.norm = nn.LayerNorm(dim)
        self.out = nn.Linear(dim, vocab)

    def forward(self, idx):  # (N, T) -> (N, T, vocab)
        t = idx.shape[1]
        h = self.embed(idx) + self.position(cr.tensor(np.arange(t)))
        h = self.blocks(h, is_causal=True)
        return self.out(self.norm(h))


def batches(data: np.ndarray, context: int, batch: int, rng, every_position: bool):
    """Random windows of ``context`` characters and the character(s) that follow."""
    starts = rng.integers(0, len(data) - context - 1, batch)
    x = np.stack([data[s:s + context] for s in starts])
    if every_position:
        y = np.stack([data[s + 1:s + context + 1] for s in starts])
    else:
        y = data[starts + context]
    return cr.tensor(x), cr.tensor(y)


def sample(model, start: np.ndarray, n: int, rng, temperature: float = 0.7) -> list[int]:
    """Generate ``n`` characters after ``start``, drawing each from the softmax."""
    model.eval()
    out = list(start)
    with cr.no_grad():
        for _ in range(n):
            ctx = np.array(out[-model.context:])[None]
            logits = model(cr.tensor(ctx)).numpy()
            logits = logits[0, -1] if logits.ndim == 3 else logits[0]
            p = np.exp((logits - logits.max()) / temperature)
            out.append(int(rng.choice(len(p), p=p / p.sum())))
    model.train()
    return out[len(start):]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", choices=("mlp", "transformer"), default="mlp")
    ap.add_argument("--sentences", type=int, default=600, help="size of the generated text")
    ap.add_argument("--steps", type=int, default=None, help="training steps")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--context", type=int, default=None, help="characters of context")
    ap.add_argument("--lr", type=float, default=None)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    cr.manual_seed(args.seed)
    cr.set_num_threads(1)
    text = make_text(args.sentences, args.seed)
    chars = sorted(set(text))
    index = {c: i for i, c in enumerate(chars)}
    data = np.array([index[c] for c in text])
    transformer = args.model == "transformer"
    context = args.context or (32 if transformer else 8)
    steps = args.steps or (250 if transformer else 600)
    model = CharTransformer(len(chars), context) if transformer else CharMLP(len(chars), context)
    opt = optim.Adam(model.parameters(), lr=args.lr or (3e-3 if transformer else 1e-2))
    rng = np.random.default_rng(args.seed)
    print(f"{len(text)} characters, {len(chars)} distinct; {args.model}, "
          f"{model.num_parameters():,} parameters, context {context}")
    first = recent = None
    losses = []
    for step in range(steps):
        x, y = batches(data, context, args.batch_size, rng, transformer)
        logits = model(x)
        if transformer:
            logits = logits.reshape(-1, len(chars))
            y = y.reshape(-1)
        loss = F.cross_entropy(logits, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
        first = losses[0] if first is None else first
        if (step + 1) % max(steps // 5, 1) == 0:
            recent = float(np.mean(losses[-20:]))
            print(f"step {step + 1}: loss {recent:.3f}", flush=True)
    start = data[:context]
    generated = sample(model, start, 160, np.random.default_rng(args.seed + 1))
    print("sample: " + "".join(chars[i] for i in start) + "|" +
          "".join(chars[i] for i in generated))
    print(f"final loss: {recent:.4f} (from {first:.4f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
