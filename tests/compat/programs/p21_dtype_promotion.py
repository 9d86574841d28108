# ruff: noqa - written as PyTorch tutorials write it
# Dtypes and promotion as PyTorch programs rely on them.
import numpy as np
import torch

f = torch.tensor([1.5, 2.5])
i = torch.tensor([1, 2])
d = torch.tensor([1.0, 2.0], dtype=torch.float64)
b = torch.tensor([True, False])
u = torch.tensor([1, 2], dtype=torch.uint8)
cases = {
    "f+i": f + i, "i*2.5": i * 2.5, "i/2": i / 2, "i//2": i // 2, "f*i64scalar": f * np.int64(3),
    "f+d": f + d, "i+b": i + b, "u+1": u + 1, "f*2": f * 2, "i+1": i + 1, "b&b": b & b,
    "i**2": i ** 2, "sum_i": i.sum(), "mean_f": f.mean(), "f.half": f.half().float(),
    "ones_int": torch.ones(2, dtype=torch.int32) * 3, "arange": torch.arange(5),
    "arange_f": torch.arange(0, 1, 0.25), "full": torch.full((2,), 7), "zeros": torch.zeros(2),
    "lt": f < 2, "eq": i == 1, "neg": -i, "abs": (-i).abs(), "i%2": i % 2, "i<<1": i << 1,
    "i&1": i & 1, "~b": ~b, "i^3": i ^ 3, "i|4": i | 4, "i>>1": i >> 1,
}
dtypes = {k: str(v.dtype) for k, v in cases.items()}
checks = [torch.float32 == torch.float, torch.float64 == torch.double, torch.int64 == torch.long,
          torch.int32 == torch.int, torch.float16 == torch.half, f.dtype == torch.float32,
          f.is_floating_point(), i.is_floating_point(), torch.is_tensor(f),
          torch.get_default_dtype() == torch.float32, f.element_size(), d.element_size(),
          i.nelement()]
RESULT = {"values": {k: v.tolist() for k, v in cases.items()}, "dtypes": dtypes,
          "checks": checks}
