# ruff: noqa - written as PyTorch tutorials write it
# micrograd's engine checks, written against torch as its test suite does.
import torch


def sanity_check():
    x = torch.Tensor([-4.0]).double()
    x.requires_grad = True
    z = 2 * x + 2 + x
    q = z.relu() + z * x
    h = (z * z).relu()
    y = h + q + q * x
    y.backward()
    return y.data.item(), x.grad.item()


def more_ops():
    a = torch.Tensor([-4.0]).double()
    b = torch.Tensor([2.0]).double()
    a.requires_grad = True
    b.requires_grad = True
    c = a + b
    d = a * b + b ** 3
    c = c + c + 1
    c = c + 1 + c + (-a)
    d = d + d * 2 + (b + a).relu()
    d = d + 3 * d + (b - a).relu()
    e = c - d
    f = e ** 2
    g = f / 2.0
    g = g + 10.0 / f
    g.backward()
    return g.data.item(), a.grad.item(), b.grad.item()


def tanh_neuron():
    x1 = torch.Tensor([2.0]).double()
    x2 = torch.Tensor([0.0]).double()
    w1 = torch.Tensor([-3.0]).double()
    w2 = torch.Tensor([1.0]).double()
    b = torch.Tensor([6.8813735870195432]).double()
    for t in (x1, x2, w1, w2, b):
        t.requires_grad = True
    n = x1 * w1 + x2 * w2 + b
    o = torch.tanh(n)
    o.backward()
    return o.data.item(), [t.grad.item() for t in (x1, x2, w1, w2)]


RESULT = {"sanity": list(sanity_check()), "more": list(more_ops()), "neuron": tanh_neuron(),
          "dtype": str(torch.Tensor([1.0]).double().dtype)}
