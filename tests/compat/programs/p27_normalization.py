# ruff: noqa - written as PyTorch user code is written
# Normalization layers in training and evaluation: BatchNorm running statistics with
# momentum=None (cumulative average), affine=False, track_running_stats=False;
# LayerNorm over several dims and without affine; GroupNorm; Dropout off in eval.
import numpy as np
import torch
import torch.nn as nn

rng = np.random.default_rng(27)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 4, 3, padding=1, bias=False)  # BatchNorm follows
        self.bn2 = nn.BatchNorm2d(4, momentum=None)
        self.gn = nn.GroupNorm(2, 4, eps=1e-4)
        self.ln = nn.LayerNorm([4, 5, 5], elementwise_affine=False)
        self.fc = nn.Linear(100, 6, bias=False)
        self.bn1 = nn.BatchNorm1d(6, affine=False, momentum=0.3)
        self.bn_nostats = nn.BatchNorm1d(6, track_running_stats=False)
        self.ln2 = nn.LayerNorm(6)
        self.drop = nn.Dropout(0.4)
        self.out = nn.Linear(6, 1)

    def forward(self, x):
        h = torch.relu(self.bn2(self.conv(x)))
        h = self.ln(self.gn(h))
        h = self.fc(h.flatten(1))
        h = self.bn_nostats(self.bn1(h))
        return self.out(self.drop(torch.tanh(self.ln2(h))))


net = Net()
with torch.no_grad():
    for p in net.parameters():
        p.copy_(torch.from_numpy(rng.normal(0.1, 0.3, tuple(p.shape)).astype(np.float32)))
x = torch.from_numpy(rng.standard_normal((8, 2, 5, 5)).astype(np.float32))
y = torch.from_numpy(rng.standard_normal((8, 1)).astype(np.float32))
opt = torch.optim.Adam(net.parameters(), lr=0.01)

net.eval()  # dropout off, batch norm on running statistics: deterministic training
history = []
for step in range(5):
    net.train()
    net.drop.eval()
    opt.zero_grad()
    loss = nn.functional.mse_loss(net(x), y)
    loss.backward()
    opt.step()
    net.eval()
    with torch.no_grad():
        history.append([loss.item(), nn.functional.mse_loss(net(x), y).item()])

seq = torch.from_numpy(rng.standard_normal((4, 3, 7)).astype(np.float32))
bn_seq = nn.BatchNorm1d(3)
out_seq = bn_seq(seq)
bn_seq.eval()
RESULT = {"history": history, "bn2_mean": net.bn2.running_mean, "bn2_var": net.bn2.running_var,
          "bn2_count": net.bn2.num_batches_tracked, "bn1_mean": net.bn1.running_mean,
          "bn1_var": net.bn1.running_var, "nostats": [net.bn_nostats.running_mean is None,
                                                      net.bn1.weight is None],
          "keys": sorted(net.state_dict().keys()), "grads": [p.grad for p in net.parameters()],
          "out_seq": out_seq, "eval_seq": bn_seq(seq), "seq_stats": [bn_seq.running_mean,
                                                                    bn_seq.running_var],
          "train_flags": [m.training for m in net.modules()],
          "functional_ln": nn.functional.layer_norm(seq, (7,)),
          "functional_gn": nn.functional.group_norm(x, 1)}
