"""A convolutional network on MNIST (or Fashion-MNIST), written as in PyTorch.

conv 1→32 3×3 + ReLU + maxpool 2, conv 32→64 3×3 + ReLU + maxpool 2, dropout,
Linear 3136→128 + ReLU, dropout, Linear 128→10; Adam, softmax cross-entropy.

    python examples/cnn_mnist.py                           # quick: 3,000 images, 2 epochs
    python examples/cnn_mnist.py --full --epochs 3         # all 60,000 images
    python examples/cnn_mnist.py --full --dataset fashion-mnist --epochs 8

Reads the IDX files from ../shared/data/<dataset> (``--data`` to point elsewhere).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

import chainrule as cr
from chainrule import nn, optim
from chainrule.data import DataLoader, TensorDataset
from chainrule.data.readers import load_mnist
from chainrule.nn import functional as F

# as `chainrule train`: $CHAINRULE_DATA, else ../shared/data beside the repository
DATA = Path(os.environ.get("CHAINRULE_DATA",
                           Path(__file__).resolve().parents[2] / "shared" / "data"))


def make_model(dropout: float = 0.25) -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Dropout(dropout), nn.Flatten(),
        nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Dropout(dropout),
        nn.Linear(128, 10))


def accuracy(model: nn.Module, x: np.ndarray, y: np.ndarray, batch: int = 200) -> float:
    model.eval()
    correct = 0
    with cr.no_grad():
        for i in range(0, len(x), batch):
            logits = model(cr.tensor(x[i:i + batch]))
            correct += int((logits.numpy().argmax(axis=1) == y[i:i + batch]).sum())
    model.train()
    return correct / len(x)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dataset", default="mnist", choices=("mnist", "fashion-mnist"))
    ap.add_argument("--data", type=Path, default=None, help="directory of the IDX files")
    ap.add_argument("--full", action="store_true", help="train on all 60,000 images")
    ap.add_argument("--limit", type=int, default=3000, help="training images without --full")
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1, help="BLAS threads")
    args = ap.parse_args(argv)
    cr.manual_seed(args.seed)
    cr.backend.set_num_threads(args.threads)

    directory = args.data or DATA / args.dataset
    try:
        (x, y), (xt, yt) = load_mnist(directory, flatten=False)
    except (OSError, ValueError) as e:  # a missing or damaged data folder: say which
        ap.error(f"--data {directory}: {e}")
    x, xt = x[:, None], xt[:, None]  # (N, 1, 28, 28)
    if not args.full:
        x, y = x[:args.limit], y[:args.limit]
        xt, yt = xt[:2000], yt[:2000]
    model = make_model()
    opt = optim.Adam(model.parameters(), lr=args.lr)
    loader = DataLoader(TensorDataset(x, y), batch_size=args.batch_size, shuffle=True,
                        seed=args.seed)
    first = last = None
    start = time.perf_counter()
    for epoch in range(args.epochs):
        total, count = 0.0, 0
        for xb, yb in loader:
            opt.zero_grad()
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
            value = loss.item()
            first = value if first is None else first
            total += value * len(yb)
            count += len(yb)
        last = total / count
        print(f"epoch {epoch + 1}: train loss {last:.4f}, test accuracy "
              f"{accuracy(model, xt, yt):.4f}, {time.perf_counter() - start:.0f}s", flush=True)
    print(f"final loss: {last:.4f} (from {first:.4f})")
    print(f"{args.dataset} test accuracy: {accuracy(model, xt, yt):.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
