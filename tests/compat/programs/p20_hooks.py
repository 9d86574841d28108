# ruff: noqa - written as PyTorch tutorials write it
# Tensor hooks that rewrite gradients, retain_grad on intermediates, module forward
# hooks capturing activations and a full backward hook, all removable.
import torch
import torch.nn as nn

x = torch.tensor([1.0, -2.0, 3.0], requires_grad=True)
h = x * 2
h.retain_grad()
handle = h.register_hook(lambda grad: grad * 10)
y = (h ** 2).sum()
y.backward()
first = [x.grad.clone(), h.grad.clone()]
handle.remove()
x.grad = None
h = x * 2
(h ** 2).sum().backward()
second = x.grad.clone()

net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
with torch.no_grad():
    for i, p in enumerate(net.parameters()):
        p.copy_(torch.linspace(-0.5, 0.5, p.numel()).view(p.shape) * (i + 1))
activations = {}


def save_activation(name):
    def hook(module, inputs, output):
        activations[name] = output.detach()
    return hook


grads_seen = []
handles = [net[1].register_forward_hook(save_activation("tanh")),
           net[2].register_full_backward_hook(lambda m, gi, go: grads_seen.append(go[0].clone()))]
out = net(torch.tensor([[0.1, 0.2, 0.3], [1.0, -1.0, 0.5]]))
out.sum().backward()
for hd in handles:
    hd.remove()
net(torch.ones(1, 3))
RESULT = {"first": first, "second": second, "act": activations["tanh"],
          "seen": grads_seen, "calls": len(grads_seen)}
