# ruff: noqa - written as PyTorch user code is written
# Shape plumbing (views, strides, unfold, split with sizes), creation helpers, dtype
# conversions and promotion, comparisons and NaN handling, with gradients through views.
import numpy as np
import torch

rng = np.random.default_rng(31)
x = torch.tensor(rng.standard_normal((2, 3, 4)), dtype=torch.float32, requires_grad=True)
out = {}

shapes = {
    "view": x.view(6, 4), "view-1": x.view(-1, 2), "reshape": x.reshape(4, 6),
    "permute": x.permute(2, 0, 1), "transpose": x.transpose(0, 2), "mT": x.mT,
    "expand": x[:, :1].expand(2, 5, 4), "expand-1": x[:1].expand(3, -1, -1),
    "repeat": x.repeat(1, 2, 1), "tile": x.tile((2, 1, 1)), "unfold": x.unfold(2, 2, 1),
    "unfold_step": x.unfold(1, 2, 2), "flip": x.flip(0, 2), "fliplr": x[0].fliplr(),
    "roll": x.roll(shifts=(1, -1), dims=(1, 2)), "roll_flat": x.roll(3),
    "narrow": x.narrow(2, 1, 2), "movedim": x.movedim(0, -1), "swapaxes": x.swapaxes(1, 2),
    "squeeze": x[:, :1].squeeze(1), "unsqueeze": x.unsqueeze(-1), "flatten": x.flatten(1),
    "rot90": torch.rot90(x, 1, (1, 2)), "select": x.select(1, 2), "stack": torch.stack([x, x], 2),
    "dstack": torch.dstack([x[0], x[1]]), "column_stack": torch.column_stack([x[0, 0], x[1, 0]]),
    "contig": x.transpose(1, 2).contiguous(), "atleast": torch.atleast_2d(x[0, 0, 0]),
    "as_strided": x.reshape(-1).as_strided((5, 4), (4, 1), 2), "windows": x.contiguous().as_strided((2, 3, 2), (12, 4, 1)),
    "gradient": torch.gradient(x, dim=2)[0], "gradient_dx": torch.gradient(x, spacing=0.5)[1],
    "gradient_coords": torch.gradient(x, spacing=(torch.tensor([0.0, 1.0, 3.0]),), dim=1)[0],
}
chunks = list(x.chunk(3, dim=2)) + list(torch.split(x, [1, 3], dim=2)) + list(x.split(2, 1)) \
    + list(x.tensor_split(3, dim=2)) + list(x.unbind(0))
out["chunk_shapes"] = [list(c.shape) for c in chunks]
t = x.transpose(1, 2)
out["strides"] = [x.stride(), x.stride(1), t.stride(), t.is_contiguous(), x.is_contiguous(),
                  t.contiguous().stride(), x[:, 1].stride(), x.expand(3, 2, 3, 4).stride(),
                  x.storage_offset(), x[1].storage_offset()]
loss = sum((s * torch.arange(s.numel(), dtype=torch.float32).reshape(s.shape).cos()).sum()
           for s in list(shapes.values()) + chunks)
loss.backward()
out["shapes"] = shapes
out["x.grad"] = x.grad

created = {
    "full": torch.full((2, 3), 1.5), "full_int": torch.full((2,), 7, dtype=torch.int32),
    "full_bool": torch.full((2,), True), "arange": torch.arange(2, 11, 3),
    "arange_f": torch.arange(0.0, 1.0, 0.2), "arange_neg": torch.arange(5, 0, -2),
    "linspace": torch.linspace(-1, 1, 7), "linspace1": torch.linspace(3, 3, 1),
    "logspace": torch.logspace(0, 2, 5), "logspace2": torch.logspace(0, 3, 4, base=2),
    "eye": torch.eye(3), "eye_rect": torch.eye(2, 4), "zeros_like": torch.zeros_like(x, dtype=torch.int64),
    "ones_like": torch.ones_like(x[0], dtype=torch.float64), "full_like": torch.full_like(x[0], -2.0),
    "empty_like_shape": torch.empty_like(x).shape, "tensor_nested": torch.tensor([[1, 2], [3, 4]], dtype=torch.float16),
    "as_tensor": torch.as_tensor(np.arange(4)), "from_numpy_f32": torch.from_numpy(np.ones(3, dtype=np.float32)),
    "scalar_tensor": torch.scalar_tensor(3), "heaviside": torch.heaviside(torch.tensor([-1.0, 0.0, 2.0]), torch.tensor(0.5)),
    "range_like": torch.arange(6).view(2, 3).T.reshape(-1),
    "arange_tensor": torch.arange(torch.tensor(4)), "legacy_Tensor": torch.Tensor([1, 2]),
    "memory_formats": torch.ones(1, 2, 2, 2).to(memory_format=torch.channels_last).contiguous(
        memory_format=torch.contiguous_format).clone(memory_format=torch.preserve_format),
    "asarray": torch.asarray([1.5, 2.5]), "asarray_np": torch.asarray(np.arange(3)),
}
out["created"] = created
out["created_dtypes"] = {k: str(v.dtype) for k, v in created.items() if hasattr(v, "dtype")}

i8 = torch.tensor([1, -2, 3], dtype=torch.int8)
i32 = torch.tensor([4, 5, 6], dtype=torch.int32)
f16 = torch.tensor([0.5, 1.5, 2.5], dtype=torch.float16)
f64 = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)
b = torch.tensor([True, False, True])
promo = {
    "i8+i32": i8 + i32, "i32+f16": i32 + f16, "f16+f64": f16 + f64, "b+b": b + b,
    "b*1.5": b * 1.5, "i8*300": i8 * 3, "i32/i32": i32 / i32, "i32//2": i32 // 2,
    "f16*2": f16 * 2, "i32.float": i32.float(), "f64.to": f64.to(torch.int16),
    "round_trip": f64.to(torch.float16).to(torch.float32), "neg_to_int": torch.tensor([-1.7, 2.7]).int(),
    "bool_sum": b.sum(), "bool_float_mean": b.float().mean(), "i_mean": i32.float().mean(),
    "result_type": str(torch.result_type(i32, 2.5)), "promote": str(torch.promote_types(torch.int32, torch.float16)),
    "can_cast": torch.can_cast(torch.float64, torch.int32), "type_as": i32.type_as(f64),
    "sum_int_dtype": str(i8.sum().dtype), "cumsum_int_dtype": str(i8.cumsum(0).dtype),
    "prod_bool": str(b.prod().dtype), "argmax_dtype": str(f64.argmax().dtype),
    "where_dtype": str(torch.where(b, i32, 2.5).dtype), "i32_pow_f": i32 ** 0.5,
    "finfo_eps": torch.finfo(torch.float32).eps, "iinfo_max": torch.iinfo(torch.int16).max,
    "finfo_max16": torch.finfo(torch.float16).max, "is_fp": [f16.is_floating_point(), i8.is_floating_point()],
    "i32*f64_0d": i32 * torch.tensor(2.5, dtype=torch.float64), "i32*np_f64": i32 * np.float64(2.5),
    "u8_sum": torch.tensor([200, 100], dtype=torch.uint8).sum(), "b_sum": b.sum(0),
    "clamp_int_float": i32.clamp(min=4.5), "f16_cumsum": torch.full((600,), 0.1, dtype=torch.float16).cumsum(0),
    "div_floor": i32.div(4, rounding_mode="floor"), "div_trunc": torch.div(-i32, 4, rounding_mode="trunc"),
    "divide_trunc_f": torch.divide(f64 * -1.3, 2, rounding_mode="trunc"), "div_plain": i8.div(2),
}
out["promo"] = {k: v for k, v in promo.items()}
out["promo_dtypes"] = {k: str(v.dtype) for k, v in promo.items() if hasattr(v, "dtype")}

vals = torch.tensor([1.0, float("nan"), -float("inf"), 0.0, float("inf"), -2.5])
cmp = {
    "isnan": vals.isnan(), "isinf": torch.isinf(vals), "isfinite": vals.isfinite(),
    "isposinf": torch.isposinf(vals), "isneginf": vals.isneginf(),
    "nan_to_num": torch.nan_to_num(vals), "nan_to_num_args": vals.nan_to_num(nan=0.5, posinf=9.0, neginf=-9.0),
    "eq": vals == 0, "ne": vals.ne(1.0), "gt": torch.gt(vals, -1), "le": vals <= 1,
    "any": (vals > 5).any(), "all": vals.isfinite().all(), "any_dim": torch.isnan(vals.view(2, 3)).any(dim=1),
    "all_dim": (vals.view(2, 3) < 5).all(1), "isclose": torch.isclose(vals, vals), 
    "isclose_nan": torch.isclose(vals, vals, equal_nan=True),
    "allclose": torch.allclose(torch.ones(3), torch.ones(3) + 1e-7), "equal": torch.equal(vals[:1], vals[:1]),
    "maximum_nan": torch.maximum(vals, torch.zeros(6)), "fmax_nan": torch.fmax(vals, torch.zeros(6)),
    "nansum": torch.nansum(vals[:2]), "sign": vals.nan_to_num().sign(), "signbit": torch.signbit(vals),
    "logical_xor": torch.logical_xor(vals > 0, vals < 1), "clamp_nan": vals.clamp(-1, 1),
    "eq_tensor": torch.eq(vals, vals), "sort_nan": vals.sort().values, "argmax_nan": vals.argmax(),
    "max_nan": vals.max(), "min_dim_nan": vals.view(2, 3).min(dim=1).values,
    "sort_desc_nan": vals.sort(descending=True).indices, "topk_nan": vals.topk(2).indices,
    "median_nan": vals.median(), "median_dim_nan": vals.view(2, 3).median(1),
    "sort_u8_desc": torch.tensor([200, 3, 100], dtype=torch.uint8).sort(descending=True).indices,
}
out["cmp"] = cmp
items = torch.tensor([[1.5, -2.0], [3.25, 4.0]])
out["python"] = [items[0, 0].item(), items.tolist(), items.int().tolist(), items.numpy().dtype.name,
                 items.sum().item(), type(items[1, 1].item()).__name__, type(items.long()[0, 0].item()).__name__,
                 bool(items[0, 0] > 0), int(items[1, 0]), float(items.mean()), items.numpy()[1],
                 len(items), list(items.shape), items.size(), items.shape[-1], items.ndim,
                 items.detach().cpu().numpy().tolist(), round(items.std().item(), 4)]
RESULT = out
