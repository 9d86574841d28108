"""A linear classifier with the multiclass hinge (SVM) loss.

Scores s = W x + b for three classes; the loss of a sample of class y is
Σ_{j≠y} max(0, 1 − s_y + s_j) / C (``multi_margin_loss``, as PyTorch defines it),
plus an L2 penalty on W through the optimizer's weight_decay. Trained with SGD in
mini-batches on three Gaussian clouds.

    python examples/linear_svm_hinge.py
"""

import numpy as np

import chainrule as cr
from chainrule import nn
from chainrule.data import DataLoader, TensorDataset

cr.manual_seed(0)
rng = np.random.default_rng(1)
centers = np.array([[0.0, 2.0], [-2.0, -1.0], [2.0, -1.0]])
y = rng.integers(0, 3, size=600)
x = (centers[y] + rng.normal(0, 0.8, size=(600, 2))).astype(np.float32)

model = nn.Linear(2, 3)
optimizer = cr.optim.SGD(model.parameters(), lr=0.05, weight_decay=1e-3)
loader = DataLoader(TensorDataset(x, y), batch_size=20, shuffle=True, seed=0)
X, Y = cr.tensor(x), cr.tensor(y)


def evaluate():
    with cr.no_grad():
        scores = model(X)
        loss = nn.functional.multi_margin_loss(scores, Y).item()
    return loss, float((scores.numpy().argmax(1) == y).mean())


first, _ = evaluate()
for epoch in range(1, 21):
    for xb, yb in loader:
        loss = nn.functional.multi_margin_loss(model(xb), yb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    if epoch == 1 or epoch % 5 == 0:
        loss, acc = evaluate()
        print(f"epoch {epoch:2d}  hinge loss {loss:.4f}  accuracy {acc:.3f}")

loss, acc = evaluate()
print(f"final loss: {loss:.5f} (from {first:.5f})")
print(f"accuracy: {acc:.4f}")
