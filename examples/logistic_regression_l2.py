"""Logistic regression with the L2 regularizer.

J(w, b) = (1/N) Σ log(1 + exp(−yᵢ (w·xᵢ + b))) + (λ/2) ‖w‖²   with labels yᵢ ∈ {−1, +1},

minimized by full-batch gradient descent on two overlapping Gaussian clouds. The
penalty is written out in the loss (the alternative is the optimizer's weight_decay).

    python examples/logistic_regression_l2.py
"""

import numpy as np

import chainrule as cr

rng = np.random.default_rng(0)
n = 400
x = np.vstack([rng.normal([-1.0, -0.5], 1.0, size=(n // 2, 2)),
               rng.normal([1.0, 0.5], 1.0, size=(n // 2, 2))]).astype(np.float32)
labels = np.r_[-np.ones(n // 2), np.ones(n // 2)].astype(np.float32)
X, Y = cr.tensor(x), cr.tensor(labels)

w = cr.zeros(2, requires_grad=True)   # a convex problem: starting at zero is fine here
b = cr.zeros((), requires_grad=True)
lam, lr = 0.01, 0.5


def objective():
    margins = Y * (X @ w + b)
    data_term = cr.log(1 + cr.exp(-margins)).mean()   # logistic loss
    return data_term + lam / 2 * (w * w).sum()         # + L2 regularizer


first = None
for step in range(1, 301):
    J = objective()
    w.grad = b.grad = None
    J.backward()
    with cr.no_grad():
        w -= lr * w.grad  # in place under no_grad: w stays the same leaf
        b -= lr * b.grad
    first = J.item() if first is None else first
    if step == 1 or step % 50 == 0:
        print(f"step {step:3d}  loss {J.item():.5f}  |w| {np.linalg.norm(w.numpy()):.3f}")

with cr.no_grad():
    predicted_positive = (X @ w + b).numpy() > 0
accuracy = float(np.mean(predicted_positive == (labels > 0)))
print(f"w = {np.round(w.numpy(), 3).tolist()}, b = {b.item():.3f}")
print(f"final loss: {objective().item():.5f} (from {first:.5f})")
print(f"accuracy: {accuracy:.4f}")
