# ruff: noqa - written as PyTorch user code is written
# Conversions people lean on: .tolist()/.item()/float()/int()/bool(), dtype casts
# (truncation toward zero, bool, half rounding), NumPy sharing, as_tensor/from_numpy,
# default dtype, torch.tensor from mixed Python data, scalar tensors in Python arithmetic.
import numpy as np
import torch

out = {}
x = torch.tensor([[1.7, -2.5, 0.0], [3.99, -0.2, 1e10]])
out["casts"] = [x.long(), x.int()[:, :2], x.bool(), x.to(torch.int16)[:, :2], x.half()[:, :2].float(),
                torch.tensor([0.1, 1 / 3, 65519.0, 70000.0]).half().float(), x.double().float(),
                torch.tensor([-1.5, 300.7]).to(torch.uint8)[1:], torch.tensor([True, False]).float(),
                torch.tensor([1, 0, 2]).bool(), torch.tensor(3.7).int(), x.type(torch.int32)[:, :2]]
out["types"] = [x.type(), x.long().type(), x.bool().type(), str(x.to(torch.float64).dtype),
                str(x.new_zeros(2).dtype), str(x.new_tensor([1, 2]).dtype), str(x.new_full((2,), 3).dtype),
                str(torch.tensor([1, 2.5]).dtype), str(torch.tensor([True, 2]).dtype), str(torch.tensor([[1], [2]]).dtype),
                str(torch.tensor(5).dtype), str(torch.tensor(5.0, dtype=torch.float16).dtype),
                str(torch.tensor(np.float64(2.0)).dtype), str(torch.tensor(np.arange(3, dtype=np.int32)).dtype),
                str(torch.tensor([np.float32(1.5)]).dtype), str(torch.zeros(2, dtype=int).dtype), str(torch.ones(1, dtype=float).dtype),
                str(torch.tensor([1, 2], dtype=torch.float).dtype), x.is_floating_point(), x.long().is_floating_point(),
                x.element_size(), x.long().element_size(), x.half().element_size(), x.nbytes, x.itemsize]
lst = x.tolist()
out["tolist"] = [lst, type(lst[0][0]).__name__, torch.tensor([1, 2]).tolist(), type(torch.tensor([1, 2]).tolist()[0]).__name__,
                 torch.tensor(2.5).tolist(), torch.tensor([True]).tolist(), type(torch.tensor([True]).tolist()[0]).__name__]
s = torch.tensor(3.5)
i = torch.tensor(4)
out["scalars"] = [s.item(), type(s.item()).__name__, type(i.item()).__name__, float(s), int(s), bool(s), int(i),
                  s + 1, 2 * i, 7 / i, 7 // i, i ** 2, -i, abs(torch.tensor(-2.0)), round(s.item()),
                  [1, 2, 3, 4, 5][i], list(range(10))[torch.tensor(2):i], float(torch.tensor([2.0])), x[0, 0].item(),
                  max(torch.tensor(1.0), torch.tensor(2.0)).item(), sum(torch.tensor([1.0, 2.0, 3.0])).item(),
                  int(torch.tensor([7])), torch.tensor(2.0) > 1, i.__index__(), "%.3f" % s, f"{s.item():.2f}",
                  np.float32(2.0) * s, torch.tensor(1.5) * np.ones(2, dtype=np.float32)]
a = np.arange(6, dtype=np.float32).reshape(2, 3)
t = torch.from_numpy(a)
a[0, 0] = 100.0
t[1, 1] = -5.0
shared = torch.as_tensor(a)
copied = torch.tensor(a)
a[1, 2] = 42.0
n = t.numpy()
n[0, 1] = 7.0
out["sharing"] = [t, a, shared, copied, n, torch.as_tensor([1, 2], dtype=torch.float32), np.asarray(t).sum(),
                  t.numpy().dtype.name, torch.as_tensor(a, dtype=torch.float64)[0], x.numpy().tolist() == x.tolist()]
old = torch.get_default_dtype()
torch.set_default_dtype(torch.float64)
d64 = [str(torch.tensor([1.0]).dtype), str(torch.zeros(2).dtype), str(torch.arange(3.0).dtype),
       str(torch.tensor([1]).dtype), str((torch.tensor([1]) * 1.5).dtype), str(torch.linspace(0, 1, 3).dtype)]
torch.set_default_dtype(old)
out["default"] = [str(old), d64, str(torch.tensor([1.0]).dtype), str(torch.get_default_dtype())]
out["python_data"] = [torch.tensor([[1, 2], [3, 4]]).sum(0), torch.tensor([(1.0, 2), (3, 4)]), torch.tensor([]).shape,
                      torch.tensor([[]]).shape, torch.tensor([torch.tensor(1.0), torch.tensor(2.0)]),
                      torch.stack([torch.tensor(1.0), torch.tensor(2.0)]), torch.tensor(range(4)),
                      torch.tensor(np.array([1.5, 2.5])).tolist(), torch.tensor([0.1], dtype=torch.float64).item()]
# uint8 image arithmetic with Python ints wraps around, as in PyTorch
img = torch.tensor([[0, 10, 250], [128, 255, 3]], dtype=torch.uint8)
dark = img.clone()
dark.sub_(20)
flipped = img.clone()
flipped[0, 0] = -1
out["uint8"] = [img + 10, img - 20, img * 2, dark, flipped, img.clone().fill_(-2), (img.float() / 255).mean()]
# squeeze(dim) on a dim that is not 1 leaves the tensor as it is
scores = torch.tensor([[0.2], [0.5], [0.9]])
single = torch.tensor([[0.7, 0.3]])
out["squeeze"] = [scores.squeeze(1), scores.squeeze(0).shape, single.squeeze(0), single.squeeze(1).shape,
                  torch.zeros(2, 1, 3, 1).squeeze((1, 2)).shape, torch.zeros(1, 4).squeeze_(1).shape]
# joining float features with integer ids keeps the float dtype (PyTorch's promotion)
feats = torch.tensor([[0.5, 1.5], [2.0, -1.0]])
ids = torch.tensor([[3], [7]])
joined = torch.cat([feats, ids], dim=1)
out["joined"] = [joined, str(joined.dtype), str(torch.stack([torch.tensor(1), torch.tensor(2.5)]).dtype),
                 str(torch.cat([torch.tensor([True]), torch.tensor([2], dtype=torch.uint8)]).dtype)]
out["size_kw"] = [torch.zeros(size=(2, 3)), torch.ones(size=[2]).shape, torch.empty(size=(1, 4)).shape,
                  torch.rand(size=(3,)).shape, torch.randn(size=(2, 2)).dtype == torch.float32]
RESULT = out
