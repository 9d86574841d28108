"""Per-op overhead and large-array throughput of the engine, against peers in the same run.

1. Tiny ops: a chain of 1,000 mixed add / mul / tanh ops on 0-d tensors, forward plus
   backward, in microseconds per op: chainrule vs PyTorch eager (when installed) vs a
   pure-Python scalar engine in the style of micrograd (written here, as the floor
   for an interpreter-bound engine; leaner than micrograd itself: __slots__, no sets).
2. Big arrays: the same kind of elementwise chain on 10^6-element float32 arrays,
   forward plus backward, vs the same computation written by hand in NumPy.

    python bench/bench_ops.py            # full run, medians of several repeats
    python bench/bench_ops.py --quick    # a smoke run
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
import chainrule as cr

try:
    import torch
except ImportError:  # the comparison is optional
    torch = None
try:  # Karpathy's micrograd from PyPI, the classic pure-Python scalar engine
    from micrograd.engine import Value as MicrogradValue
except ImportError:
    MicrogradValue = None


# ---------------------------------------------------------------------------
# the workload: y <- tanh(y * w + b), repeated; 3 ops per step (mul, add, tanh)
# ---------------------------------------------------------------------------
def chain(make, n_ops: int) -> float:
    """y <- tanh(y * w + b), n_ops / 3 times, then backward; ``make`` builds a 0-d leaf
    (``cr.tensor`` or ``torch.tensor``: both engines run the very same code)."""
    w = make(0.9, requires_grad=True)
    b = make(0.1, requires_grad=True)
    y = make(0.5, requires_grad=True)
    t0 = time.perf_counter()
    h = y
    for _ in range(n_ops // 3):
        h = (h * w + b).tanh()
    h.backward()
    return time.perf_counter() - t0


class Scalar:
    """A minimal micrograd-style scalar autodiff value: the pure-Python floor."""

    __slots__ = ("back", "g", "prev", "v")

    def __init__(self, v, prev=(), back=None):
        self.v, self.g, self.prev, self.back = v, 0.0, prev, back

    def __add__(self, o):
        out = Scalar(self.v + o.v, (self, o))

        def back():
            self.g += out.g
            o.g += out.g
        out.back = back
        return out

    def __mul__(self, o):
        out = Scalar(self.v * o.v, (self, o))

        def back():
            self.g += o.v * out.g
            o.g += self.v * out.g
        out.back = back
        return out

    def tanh(self):
        t = math.tanh(self.v)
        out = Scalar(t, (self,))

        def back():
            self.g += (1 - t * t) * out.g
        out.back = back
        return out

    def backward(self):
        order, seen, stack = [], set(), [(self, False)]
        while stack:
            node, done = stack.pop()
            if done:
                order.append(node)
            elif id(node) not in seen:
                seen.add(id(node))
                stack.append((node, True))
                stack.extend((p, False) for p in node.prev)
        self.g = 1.0
        for node in reversed(order):
            if node.back:
                node.back()


def scalar(v, requires_grad=True) -> Scalar:
    return Scalar(v)


def micrograd_value(v, requires_grad=True):
    return MicrogradValue(v)


def _micrograd_tanh(self):
    """tanh in micrograd's own style (the PyPI release has relu but no tanh)."""
    t = math.tanh(self.data)  # micrograd's Value keeps its number in .data
    out = MicrogradValue(t, (self,), "tanh")

    def _backward():
        self.grad += (1 - t * t) * out.grad
    out._backward = _backward
    return out


if MicrogradValue is not None and not hasattr(MicrogradValue, "tanh"):
    MicrogradValue.tanh = _micrograd_tanh


def big(make, x_np: np.ndarray, w_np: np.ndarray) -> float:
    """The elementwise chain on large arrays, forward + backward, with ``make``'s engine."""
    x = make(x_np, requires_grad=True)
    w = make(w_np, requires_grad=True)
    t0 = time.perf_counter()
    h = (x * w + 0.5).tanh()
    h = (h * h + x).sigmoid()
    loss = (h * w).sum()
    loss.backward()
    return time.perf_counter() - t0


def big_numpy(x: np.ndarray, w: np.ndarray) -> float:
    """The same computation and its gradient, by hand, as tightly as plain NumPy allows."""
    t0 = time.perf_counter()
    a = np.tanh(x * w + 0.5)
    u = a * a + x
    s = 1 / (1 + np.exp(-u))
    _loss = np.sum(s * w)
    gs = w                         # d loss / d s
    gu = gs * s * (1 - s)          # sigmoid'
    ga = gu * 2 * a                # d(a*a)/da
    gz = ga * (1 - a * a)          # tanh'
    gx = gz * w + gu               # x feeds z and u
    gw = gz * x + s                # w feeds z and the loss
    del gx, gw
    return time.perf_counter() - t0


def median_time(fn, *args, repeats: int) -> float:
    fn(*args)  # warm up
    return statistics.median(fn(*args) for _ in range(repeats))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, few repeats")
    parser.add_argument("--repeats", type=int, default=None)
    args = parser.parse_args(argv)
    repeats = args.repeats or (3 if args.quick else 25)
    n_ops = 300 if args.quick else 999
    size = 10_000 if args.quick else 1_000_000

    print(f"chainrule {cr.__version__}, NumPy {np.__version__}"
          + (f", PyTorch {torch.__version__} ({torch.get_num_threads()} threads)" if torch else
             ", PyTorch not installed"))
    print(f"\n1. tiny ops: chain of {n_ops} mixed mul/add/tanh ops on 0-d tensors, forward + "
          f"backward (median of {repeats})")
    rows = [("chainrule", median_time(chain, cr.tensor, n_ops, repeats=repeats))]
    if torch is not None:
        torch.set_num_threads(1)
        rows.append(("PyTorch eager", median_time(chain, torch.tensor, n_ops, repeats=repeats)))
    if MicrogradValue is not None:
        sys.setrecursionlimit(max(sys.getrecursionlimit(), 10 * n_ops))  # its sort recurses
        rows.append(("micrograd 0.1.0 (PyPI)",
                     median_time(chain, micrograd_value, n_ops, repeats=repeats)))
    rows.append(("pure-Python scalars (lean micrograd style)",
                 median_time(chain, scalar, n_ops, repeats=repeats)))
    ours = rows[0][1]
    print(f"   {'engine':<44}{'us/op':>10}{'chainrule / this':>20}")
    for name, t in rows:
        print(f"   {name:<44}{t / n_ops * 1e6:>10.2f}{ours / t:>20.2f}")

    print(f"\n2. big arrays: elementwise chain on {size:,} float32 elements, forward + backward "
          f"(median of {max(repeats // 3, 3)})")
    rng = np.random.default_rng(0)
    x = rng.standard_normal(size).astype(np.float32)
    w = rng.standard_normal(size).astype(np.float32)
    r = max(repeats // 3, 3)
    t_cr = median_time(big, cr.tensor, x, w, repeats=r)
    rows = [("chainrule", t_cr)]
    if torch is not None:
        rows.append(("PyTorch eager (1 thread)", median_time(big, torch.tensor, x, w, repeats=r)))
    rows.append(("hand-written NumPy", median_time(big_numpy, x, w, repeats=r)))
    print(f"   {'engine':<44}{'ms':>10}{'chainrule / this':>20}")
    for name, t in rows:
        print(f"   {name:<44}{t * 1e3:>10.2f}{t_cr / t:>20.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
