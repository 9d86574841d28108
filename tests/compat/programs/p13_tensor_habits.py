# ruff: noqa - written as PyTorch tutorials write it
# Everyday tensor habits: creation, shapes, dims, dtypes, indexing, joining, reductions
# with dim/keepdim, (values, indices) results, and NumPy round trips.
import numpy as np
import torch

data = [[1, 2], [3, 4]]
x_data = torch.tensor(data)
np_array = np.array(data)
x_np = torch.from_numpy(np_array)
x_ones = torch.ones_like(x_data)
x_rand = torch.zeros_like(x_data, dtype=torch.float)
shape = (2, 3,)
ones_tensor = torch.ones(shape)
zeros_tensor = torch.zeros(shape)
tensor = torch.arange(12, dtype=torch.float32).reshape(3, 4)
out = {}
out["attrs"] = [list(tensor.shape), str(tensor.dtype), str(tensor.device), tensor.dim(),
                tensor.numel(), tensor.size(1), list(tensor.size()), tensor.ndim,
                str(x_data.dtype), x_data.dtype == torch.int64, tensor.dtype == torch.float]
out["first_row"] = tensor[0]
out["first_col"] = tensor[:, 0]
out["last_col"] = tensor[..., -1]
t = tensor.clone()
t[:, 1] = 0
out["assigned"] = t
out["cat"] = torch.cat([tensor, tensor, tensor], dim=1)
out["stack"] = torch.stack([tensor, tensor]).shape
y1 = tensor @ tensor.T
y2 = tensor.matmul(tensor.T)
y3 = torch.rand_like(y1)
torch.matmul(tensor, tensor.T, out=y3)
out["matmul"] = [y1, y2, y3]
z1 = tensor * tensor
z2 = tensor.mul(tensor)
out["mul"] = [z1, z2]
agg = tensor.sum()
out["agg"] = agg.item()
t2 = tensor.clone()
t2.add_(5)
out["add_"] = t2
out["sum_dim"] = [tensor.sum(dim=0), tensor.sum(1, keepdim=True), tensor.mean(dim=-1),
                  tensor.mean((0, 1)), tensor.amax(dim=1), tensor.std(dim=0),
                  tensor.var(1, unbiased=False), tensor.prod(1), tensor.cumsum(dim=1),
                  tensor.logsumexp(dim=1), tensor.norm(), tensor.norm(dim=1)]
values, indices = torch.max(tensor, dim=1)
m = tensor.min(0)
out["max"] = [values, indices, m.values, m.indices, tensor.argmax(), tensor.argmax(dim=0)]
s = torch.sort(torch.tensor([3.0, 1.0, 2.0, 5.0]), descending=True)
tk = torch.tensor([3.0, 1.0, 2.0, 5.0]).topk(2)
out["sort"] = [s.values, s.indices, tk.values, tk.indices]
out["views"] = [tensor.view(4, 3), tensor.view(-1), tensor.t(), tensor.permute(1, 0),
                tensor.unsqueeze(0).shape, tensor.unsqueeze(0).squeeze(0).shape,
                tensor.flatten(), tensor.reshape(2, -1).shape, tensor.transpose(0, 1)]
out["split"] = [list(p.shape) for p in tensor.split(2, dim=1)] + \
               [list(p.shape) for p in tensor.chunk(3, dim=0)]
n = tensor.numpy()
out["numpy"] = n
out["tolist"] = tensor.tolist()
out["dtypes"] = [str(tensor.long().dtype), str(tensor.int().dtype), str(tensor.double().dtype),
                 str(tensor.bool().dtype), str(tensor.to(torch.float64).dtype),
                 str(tensor.to(dtype=torch.int32).dtype), str(tensor.type(torch.int64).dtype),
                 str((tensor > 3).dtype), str((tensor + 1).dtype), str((tensor * 2.5).dtype),
                 str((x_data / 2).dtype), str((x_data + tensor[:2, :2]).dtype),
                 str((x_data * 1.5).dtype), str(x_data.float().dtype)]
out["where"] = [torch.where(tensor > 5, tensor, torch.zeros_like(tensor)),
                torch.where(tensor > 9)[1], (tensor > 5).nonzero(), tensor.masked_fill(tensor < 3, -1)]
out["item"] = [tensor[1, 2].item(), float(tensor[2, 3]), int(tensor[0, 1])]
out["ops"] = [tensor % 5, tensor // 5, -tensor, tensor ** 2, 2 ** tensor[0], tensor.clamp(2, 9),
              tensor.abs(), tensor.sqrt(), tensor.exp()[0], torch.exp(tensor)[0]]
RESULT = out
