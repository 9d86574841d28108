# ruff: noqa - written as PyTorch tutorials write it
# Logistic regression on two Gaussian blobs: nn.Linear + sigmoid, BCELoss, SGD.
import numpy as np
import torch
import torch.nn as nn

rng = np.random.default_rng(9)
features = np.concatenate([rng.normal(-1, 1, (50, 2)), rng.normal(1.5, 1, (50, 2))])
labels = np.concatenate([np.zeros(50), np.ones(50)])
X = torch.from_numpy(features.astype(np.float32))
y = torch.from_numpy(labels.astype(np.float32)).view(-1, 1)


class LogisticRegression(nn.Module):
    def __init__(self, n_input_features):
        super().__init__()
        self.linear = nn.Linear(n_input_features, 1)

    def forward(self, x):
        return torch.sigmoid(self.linear(x))


model = LogisticRegression(2)
with torch.no_grad():
    model.linear.weight.copy_(torch.tensor([[0.1, -0.2]]))
    model.linear.bias.fill_(0.05)
criterion = nn.BCELoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
losses = []
for epoch in range(60):
    y_predicted = model(X)
    loss = criterion(y_predicted, y)
    loss.backward()
    optimizer.step()
    optimizer.zero_grad()
    if (epoch + 1) % 10 == 0:
        losses.append(loss.item())

with torch.no_grad():
    y_predicted = model(X)
    y_predicted_cls = y_predicted.round()
    acc = y_predicted_cls.eq(y).sum() / float(y.shape[0])

RESULT = {"losses": losses, "accuracy": acc.item(), "weight": model.linear.weight,
          "n": X.size(0), "shape": list(X.size())}
