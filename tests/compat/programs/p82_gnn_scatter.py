# ruff: noqa - written as PyTorch user code is written
# Graph neural networks written without a graph library, as many repositories do:
# edge_index (2, E) tensors made undirected with torch.cat and flip, self-loops,
# node degrees with torch.bincount / scatter_add_, symmetric GCN normalization
# deg.pow(-0.5) with inf masked to 0, messages summed with index_add_ into new_zeros,
# GraphSAGE mean aggregation, GAT attention with leaky_relu scores, a per-destination
# softmax via scatter_reduce('amax') and index_add_, global mean pooling per graph,
# trained for graph classification with Adam, plus a dense adjacency check with
# torch.sparse-free matmul.
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

rng = np.random.default_rng(82)


def fill(module, scale=0.3):
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.from_numpy(rng.normal(0, scale, tuple(p.shape)).astype(np.float32)))


def add_self_loops(edge_index, num_nodes):
    loop = torch.arange(num_nodes, dtype=edge_index.dtype).unsqueeze(0).repeat(2, 1)
    return torch.cat([edge_index, loop], dim=1)


def degree(index, num_nodes):
    out = torch.zeros(num_nodes)
    return out.scatter_add_(0, index, torch.ones(index.size(0)))


class GCNConv(nn.Module):
    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.lin = nn.Linear(in_channels, out_channels, bias=False)
        self.bias = nn.Parameter(torch.zeros(out_channels))

    def forward(self, x, edge_index):
        edge_index = add_self_loops(edge_index, x.size(0))
        x = self.lin(x)
        row, col = edge_index
        deg = degree(col, x.size(0))
        deg_inv_sqrt = deg.pow(-0.5)
        deg_inv_sqrt[deg_inv_sqrt == float('inf')] = 0
        norm = deg_inv_sqrt[row] * deg_inv_sqrt[col]
        messages = norm.view(-1, 1) * x[row]
        out = x.new_zeros(x.size(0), x.size(1)).index_add_(0, col, messages)
        return out + self.bias


class SAGEConv(nn.Module):
    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.lin_l = nn.Linear(in_channels, out_channels)
        self.lin_r = nn.Linear(in_channels, out_channels, bias=False)

    def forward(self, x, edge_index):
        src, dst = edge_index
        summed = torch.zeros_like(x).index_add(0, dst, x[src])
        count = torch.bincount(dst, minlength=x.size(0)).clamp(min=1).unsqueeze(-1)
        return self.lin_l(summed / count) + self.lin_r(x)


class GATConv(nn.Module):
    def __init__(self, in_channels, out_channels, heads=2):
        super().__init__()
        self.heads, self.out_channels = heads, out_channels
        self.lin = nn.Linear(in_channels, heads * out_channels, bias=False)
        self.att_src = nn.Parameter(torch.empty(1, heads, out_channels))
        self.att_dst = nn.Parameter(torch.empty(1, heads, out_channels))

    def forward(self, x, edge_index):
        H, C = self.heads, self.out_channels
        edge_index = add_self_loops(edge_index, x.size(0))
        src, dst = edge_index
        x = self.lin(x).view(-1, H, C)
        alpha_src = (x * self.att_src).sum(dim=-1)
        alpha_dst = (x * self.att_dst).sum(dim=-1)
        alpha = F.leaky_relu(alpha_src[src] + alpha_dst[dst], 0.2)
        amax = torch.full((x.size(0), H), float('-inf')).scatter_reduce(
            0, dst.unsqueeze(-1).expand(-1, H), alpha, reduce='amax', include_self=True)
        alpha = (alpha - amax[dst]).exp()
        denom = torch.zeros(x.size(0), H).index_add_(0, dst, alpha)
        alpha = alpha / denom[dst]
        out = torch.zeros_like(x).index_add_(0, dst, alpha.unsqueeze(-1) * x[src])
        return out.mean(dim=1), alpha


def global_mean_pool(x, batch, size):
    out = torch.zeros(size, x.size(1)).index_add_(0, batch, x)
    count = torch.bincount(batch, minlength=size).float().clamp(min=1)
    return out / count.unsqueeze(-1)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = GCNConv(4, 8)
        self.conv2 = SAGEConv(8, 8)
        self.conv3 = GATConv(8, 8)
        self.lin = nn.Linear(8, 2)

    def forward(self, x, edge_index, batch, num_graphs):
        x = F.relu(self.conv1(x, edge_index))
        x = F.dropout(x, p=0.0, training=self.training)
        x = F.elu(self.conv2(x, edge_index))
        x, alpha = self.conv3(x, edge_index)
        x = global_mean_pool(x, batch, num_graphs)
        return F.log_softmax(self.lin(x), dim=1), alpha


# four small graphs: two rings and two stars, batched into one disjoint graph
edges, batch, offset = [], [], 0
for g, (kind, n) in enumerate([("ring", 5), ("star", 5), ("ring", 4), ("star", 6)]):
    if kind == "ring":
        e = [(i, (i + 1) % n) for i in range(n)]
    else:
        e = [(0, i) for i in range(1, n)]
    edges += [(a + offset, b + offset) for a, b in e]
    batch += [g] * n
    offset += n
edge_index = torch.tensor(edges, dtype=torch.long).t().contiguous()
edge_index = torch.cat([edge_index, edge_index.flip(0)], dim=1)
batch = torch.tensor(batch)
y = torch.tensor([0, 1, 0, 1])
x = torch.from_numpy(rng.standard_normal((offset, 4)).astype(np.float32))

model = Net()
fill(model)
optimizer = torch.optim.Adam(model.parameters(), lr=0.01, weight_decay=5e-4)
history = []
for epoch in range(15):
    model.train()
    optimizer.zero_grad()
    out, alpha = model(x, edge_index, batch, 4)
    loss = F.nll_loss(out, y)
    loss.backward()
    optimizer.step()
    history.append(loss.item())
model.eval()
with torch.no_grad():
    out, alpha = model(x, edge_index, batch, 4)
    pred = out.argmax(dim=1)
    correct = int((pred == y).sum())

A = torch.zeros(offset, offset)
A[edge_index[0], edge_index[1]] = 1
A_hat = A + torch.eye(offset)
d = A_hat.sum(1).pow(-0.5)
dense = (d.unsqueeze(1) * A_hat * d.unsqueeze(0)) @ model.conv1.lin(x) + model.conv1.bias
RESULT = {"history": history, "correct": correct, "alpha": alpha[:6],
          "gcn_dense_equal": torch.allclose(dense, model.conv1(x, edge_index), atol=1e-5),
          "deg": degree(edge_index[1], offset), "edge_count": edge_index.size(1),
          "att": model.conv3.att_src, "pred": pred}
