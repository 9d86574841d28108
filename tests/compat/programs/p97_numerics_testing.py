# ruff: noqa - written as PyTorch user code is written
# Numerical habits: torch.testing.assert_close (passing and its failure), isclose/allclose
# with nan, finfo/iinfo, type promotion queries, rounding modes, integer and bit arithmetic,
# nan/inf handling.
import numpy as np
import torch

out = {}
a = torch.tensor([1.0, 2.0, float("nan"), 4.0])
b = a + 1e-7
torch.testing.assert_close(a, b, equal_nan=True)
torch.testing.assert_close(torch.tensor([1, 2]), torch.tensor([1, 2]))
torch.testing.assert_close(a[:2], torch.tensor([1.01, 2.0]), rtol=0.02, atol=0.0)
torch.testing.assert_close(1.0, 1.0 + 1e-9)
failures = []
for actual, expected, kw in [(torch.tensor([1.0, 2.0]), torch.tensor([1.0, 2.1]), {}),
                             (torch.tensor([1.0]), torch.tensor([1.0, 2.0]), {}),
                             (torch.tensor([1, 2]), torch.tensor([1.0, 2.0]), {}),
                             (torch.tensor([1.0, float("nan")]), torch.tensor([1.0, float("nan")]), {})]:
    try:
        torch.testing.assert_close(actual, expected, **kw)
        failures.append("passed")
    except AssertionError as e:
        failures.append(type(e).__name__)
torch.testing.assert_close(torch.tensor([1, 2]), torch.tensor([1.0, 2.0]), check_dtype=False)
out["failures"] = failures
out["close"] = [torch.isclose(a, b), torch.isclose(a, b, equal_nan=True), torch.allclose(a[:2], b[:2]),
                torch.allclose(a, b), torch.allclose(a, b, equal_nan=True),
                torch.isclose(torch.tensor([1e-9, 1.0]), torch.tensor([0.0, 1.001]), rtol=1e-2, atol=1e-8),
                torch.equal(a[:2], torch.tensor([1.0, 2.0]))]
fi32, fi16, fi64 = torch.finfo(torch.float32), torch.finfo(torch.float16), torch.finfo(torch.float64)
out["finfo"] = [fi32.eps, fi32.max, fi32.min, fi32.tiny, fi32.bits, fi32.resolution, fi16.eps, fi16.max,
                fi64.eps, torch.finfo().eps, torch.finfo(torch.float32).smallest_normal]
ii8, iu8, i64 = torch.iinfo(torch.int8), torch.iinfo(torch.uint8), torch.iinfo(torch.int64)
out["iinfo"] = [ii8.min, ii8.max, iu8.max, i64.max, ii8.bits, torch.iinfo(torch.int32).min]
out["promote"] = [str(torch.promote_types(torch.int32, torch.float32)), str(torch.promote_types(torch.uint8, torch.int8)),
                  str(torch.result_type(torch.tensor([1, 2]), 1.0)), str(torch.result_type(torch.tensor([1.0], dtype=torch.float16), torch.tensor(2.0))),
                  str(torch.result_type(2, 3)), torch.can_cast(torch.float32, torch.int32), torch.can_cast(torch.int32, torch.float32),
                  torch.is_floating_point(torch.tensor([1.0])), torch.is_tensor(a), torch.is_nonzero(torch.tensor([3])),
                  str((torch.tensor([1], dtype=torch.int8) + torch.tensor([1], dtype=torch.uint8)).dtype),
                  str((torch.tensor([True]) + torch.tensor([True])).dtype), str((torch.tensor([1.0], dtype=torch.float16) * 2.0).dtype)]
n = torch.tensor([-7, -3, 0, 3, 7])
d = torch.tensor([2, -2, 3, 2, -3])
nf = n.float()
out["rounding"] = [torch.div(n, d, rounding_mode="floor"), torch.div(n, d, rounding_mode="trunc"), torch.div(n, d),
                   n // d, n % d, torch.fmod(n, d), torch.remainder(n, d), torch.fmod(nf, 2.5), torch.remainder(nf, -2.5),
                   torch.floor_divide(nf, 2), torch.true_divide(n, 2), torch.round(torch.tensor([0.5, 1.5, 2.5, -0.5, 2.345])),
                   torch.round(torch.tensor([2.345, -1.255, 12345.0]), decimals=2), torch.round(torch.tensor([1234.0]), decimals=-2),
                   torch.trunc(nf / 4), torch.frac(nf / 4), torch.ceil(nf / 4), torch.floor(nf / 4), torch.fix(nf / 3)]
bits = torch.tensor([0b1100, 0b1010, 7, -1], dtype=torch.int32)
out["bits"] = [bits & 6, bits | 1, bits ^ 5, ~bits, bits << 2, bits >> 1, torch.bitwise_and(bits, 3),
               torch.bitwise_or(bits, 8), torch.bitwise_xor(bits, bits), torch.bitwise_not(bits),
               torch.bitwise_left_shift(bits, 1), torch.bitwise_right_shift(bits, 2),
               torch.tensor([True, False]) & torch.tensor([True, True]), torch.logical_xor(bits > 5, bits < 10),
               torch.gcd(torch.tensor([12, 18, -8]), torch.tensor([8, 12, 6])), torch.lcm(torch.tensor([4, 6]), torch.tensor([6, 10]))]
u8 = torch.tensor([250, 5, 128], dtype=torch.uint8)
out["wrap"] = [u8 + 10, u8 * 2, (u8 - 6), torch.tensor([127], dtype=torch.int8) + 1, u8.to(torch.int8)]
special = torch.tensor([float("inf"), -float("inf"), float("nan"), 1.0, -0.0])
out["special"] = [torch.isinf(special), torch.isnan(special), torch.isfinite(special), torch.isposinf(special),
                  torch.isneginf(special), torch.nan_to_num(special), torch.nan_to_num(special, nan=0.5, posinf=9.0, neginf=-9.0),
                  torch.signbit(special), torch.sign(special), torch.nansum(special[2:]), torch.nanmean(special[2:]),
                  torch.tensor([1.0, 0.0]) / torch.tensor([0.0, 0.0]), torch.clamp(special, -2, 2),
                  torch.maximum(special, torch.zeros(5)), torch.fmax(special, torch.zeros(5)), torch.tensor(1e38) * 10]
steps = torch.tensor([-7, 7, 5, -3])
steps.div_(2, rounding_mode="floor")
halves = torch.tensor([-7.0, 7.5, -0.5])
halves.div_(2, rounding_mode="trunc")
out["small_names"] = [steps, halves, torch.angle(torch.tensor([-2.0, 0.0, 3.0])), torch.negative(n),
                      torch.repeat_interleave(torch.tensor([1, 0, 3])), torch.arange(6.0).view(2, 3).adjoint()]
out["windows"] = [torch.hann_window(8), torch.hann_window(5, periodic=False), torch.hamming_window(6),
                  torch.blackman_window(7, dtype=torch.float64), torch.bartlett_window(5), torch.kaiser_window(6, True, 8.0)]
out["spellings"] = [torch.greater(n, 0), torch.less_equal(nf, 0.0), torch.not_equal(n, 3), torch.multiply(nf, 2),
                    torch.subtract(nf, 1, alpha=2), torch.row_stack([nf, nf]).shape, torch.isreal(nf),
                    torch.real(nf), torch.conj(nf), torch.fill(nf, 2.5), torch.frobenius_norm(nf.view(1, 5), (0, 1))]
RESULT = out
