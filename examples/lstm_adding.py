"""An LSTM on the adding problem (Hochreiter & Schmidhuber 1997), written as in PyTorch.

Each input is a sequence of (value, marker) pairs: values uniform in [0, 1), exactly two
markers set to 1. The target is the sum of the two marked values, so the network must
remember them across the sequence. Always answering the mean (1.0) scores an MSE of
about 0.167; a model that solves the task goes far below that.

    python examples/lstm_adding.py                          # quick: length 10
    python examples/lstm_adding.py --length 50 --steps 3000
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

import chainrule as cr
from chainrule import nn, optim
from chainrule.nn import functional as F


def adding_batch(n: int, length: int, rng):
    """(N, length, 2) inputs and (N, 1) targets."""
    values = rng.random((n, length))
    markers = np.zeros((n, length))
    half = length // 2
    first = rng.integers(0, half, n)
    second = rng.integers(half, length, n)
    rows = np.arange(n)
    markers[rows, first] = 1
    markers[rows, second] = 1
    x = np.stack([values, markers], axis=2).astype(np.float32)
    y = (values[rows, first] + values[rows, second]).astype(np.float32)[:, None]
    return cr.tensor(x), cr.tensor(y)


class Adder(nn.Module):
    def __init__(self, hidden: int):
        super().__init__()
        self.lstm = nn.LSTM(2, hidden, batch_first=True)
        self.head = nn.Linear(hidden, 1)

    def forward(self, x):
        _, (h, _) = self.lstm(x)  # h: (1, N, hidden), the state after the last step
        return self.head(h[0])


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value}")
    return value


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--length", type=positive_int, default=10)
    ap.add_argument("--hidden", type=positive_int, default=32)
    ap.add_argument("--steps", type=positive_int, default=600)
    ap.add_argument("--batch-size", type=positive_int, default=32)
    ap.add_argument("--lr", type=float, default=1e-2)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    cr.manual_seed(args.seed)
    cr.set_num_threads(1)
    rng = np.random.default_rng(args.seed)
    model = Adder(args.hidden)
    opt = optim.Adam(model.parameters(), lr=args.lr)
    losses = []
    for step in range(args.steps):
        x, y = adding_batch(args.batch_size, args.length, rng)
        loss = F.mse_loss(model(x), y)
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        losses.append(loss.item())
        if (step + 1) % max(args.steps // 5, 1) == 0:
            print(f"step {step + 1}: mse {np.mean(losses[-50:]):.4f}", flush=True)
    model.eval()
    with cr.no_grad():
        x, y = adding_batch(1000, args.length, np.random.default_rng(args.seed + 1))
        test = F.mse_loss(model(x), y).item()
    print(f"test mse {test:.4f} (always answering 1.0: about 0.167)")
    print(f"final loss: {np.mean(losses[-50:]):.4f} (from {losses[0]:.4f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
