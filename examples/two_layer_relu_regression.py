"""The notes' two-layer network f(x) = W2 max(0, W1 x) on a toy regression.

Written with bare tensors so that every step of the notes is visible: the forward
pass, the squared-error loss J, backpropagation (``J.backward()`` fills ∂J/∂W in
``W.grad``) and the gradient-descent update θ ← θ − η ∂J/∂θ.

    python examples/two_layer_relu_regression.py
"""

import numpy as np

import chainrule as cr

cr.manual_seed(0)
rng = np.random.default_rng(0)

# toy data: y = sin(3x) + noise on [-1, 1]; a constant 1 feature plays the role of a bias
x_raw = rng.uniform(-1, 1, size=(200, 1)).astype(np.float32)
x = cr.tensor(np.hstack([x_raw, np.ones_like(x_raw)]))             # (N, 2)
y = cr.tensor(np.sin(3 * x_raw) + 0.05 * rng.normal(size=x_raw.shape).astype(np.float32))

hidden = 32
# small random initialization (all-zero weights would keep every hidden unit identical)
W1 = cr.tensor(rng.normal(0, 1.0, size=(hidden, 2)).astype(np.float32), requires_grad=True)
W2 = cr.tensor(rng.normal(0, 1 / np.sqrt(hidden), size=(1, hidden)).astype(np.float32),
               requires_grad=True)


def f(x):
    return cr.maximum(0, x @ W1.T) @ W2.T    # W2 max(0, W1 x), one row per sample


lr = 0.05
first = None
for step in range(1, 2001):
    J = ((f(x) - y) ** 2).mean()             # squared error
    W1.grad = W2.grad = None
    J.backward()
    with cr.no_grad():                      # the update itself is not part of the graph
        W1 -= lr * W1.grad  # in place under no_grad: W1 stays the same leaf
        W2 -= lr * W2.grad
    first = J.item() if first is None else first
    if step == 1 or step % 400 == 0:
        print(f"step {step:4d}  loss {J.item():.5f}")

final = ((f(x) - y) ** 2).mean().item()
print(f"final loss: {final:.5f} (from {first:.5f})")
