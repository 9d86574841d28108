# ruff: noqa - written as PyTorch user code is written
# The forward-forward algorithm in the shape of pytorch/examples' mnist_forward_forward:
# labels overlaid on the first pixels (x_[:, :10] *= 0.0; x_[range(n), y] = x.max()),
# layers that normalize their input by its L2 norm, a goodness of mean squared
# activations, the loss log(1 + exp(cat([-g_pos + threshold, g_neg - threshold]))).mean()
# trained layer by layer with their own Adam, .detach() between layers, and prediction by
# the label with the highest summed goodness (torch.stack, argmax).
import numpy as np
import torch
import torch.nn as nn
from torch.optim import Adam

rng = np.random.default_rng(88)


def overlay_y_on_x(x, y):
    x_ = x.clone()
    x_[:, :10] *= 0.0
    x_[range(x.shape[0]), y] = x.max()
    return x_


class Layer(nn.Linear):
    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__(in_features, out_features, bias, device, dtype)
        self.relu = torch.nn.ReLU()
        self.opt = None
        self.threshold = 2.0
        self.num_epochs = 15

    def forward(self, x):
        x_direction = x / (x.norm(2, 1, keepdim=True) + 1e-4)
        return self.relu(torch.mm(x_direction, self.weight.T) + self.bias.unsqueeze(0))

    def train(self, x_pos, x_neg):
        history = []
        for i in range(self.num_epochs):
            g_pos = self.forward(x_pos).pow(2).mean(1)
            g_neg = self.forward(x_neg).pow(2).mean(1)
            loss = torch.log(1 + torch.exp(torch.cat([-g_pos + self.threshold,
                                                      g_neg - self.threshold]))).mean()
            self.opt.zero_grad()
            loss.backward()
            self.opt.step()
            history.append(loss.item())
        return self.forward(x_pos).detach(), self.forward(x_neg).detach(), history


class Net(torch.nn.Module):
    def __init__(self, dims):
        super().__init__()
        self.layers = []
        for d in range(len(dims) - 1):
            layer = Layer(dims[d], dims[d + 1])
            with torch.no_grad():
                layer.weight.copy_(torch.from_numpy(rng.normal(0, 0.2, tuple(layer.weight.shape)).astype(np.float32)))
                layer.bias.copy_(torch.from_numpy(rng.normal(0, 0.1, tuple(layer.bias.shape)).astype(np.float32)))
            layer.opt = Adam(layer.parameters(), lr=0.03)
            self.layers += [layer]

    def predict(self, x):
        goodness_per_label = []
        for label in range(10):
            h = overlay_y_on_x(x, label)
            goodness = []
            for layer in self.layers:
                h = layer(h)
                goodness += [h.pow(2).mean(1)]
            goodness_per_label += [sum(goodness).unsqueeze(1)]
        goodness_per_label = torch.cat(goodness_per_label, 1)
        return goodness_per_label.argmax(1), goodness_per_label

    def train(self, x_pos, x_neg):
        h_pos, h_neg = x_pos, x_neg
        histories = []
        for i, layer in enumerate(self.layers):
            h_pos, h_neg, history = layer.train(h_pos, h_neg)
            histories.append(history)
        return histories


x = torch.from_numpy(rng.random((32, 36)).astype(np.float32))
y = torch.from_numpy(rng.integers(0, 10, 32))
x[range(32), 10 + y] += 1.0  # make the label readable from the data
net = Net([36, 24, 24])
x_pos = overlay_y_on_x(x, y)
rnd = torch.from_numpy(rng.permutation(32))
x_neg = overlay_y_on_x(x, y[rnd])
histories = net.train(x_pos, x_neg)
pred, goodness = net.predict(x)
RESULT = {"histories": histories, "train_error": 1.0 - pred.eq(y).float().mean().item(),
          "goodness": goodness[:3], "x_pos": x_pos[:2, :12], "w": net.layers[1].weight[:2]}
