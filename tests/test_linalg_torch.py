"""torch.linalg in chainrule: values and gradients against PyTorch, and the errors for
inputs PyTorch refuses too. (Each op's own rule is gradchecked in tests/test_registry.py.)"""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr

torch = pytest.importorskip("torch")


def _pair(array):
    return (cr.tensor(array, requires_grad=True),
            torch.tensor(array, requires_grad=True))


def _check(fn_cr, fn_torch, array, weights_seed=0):
    a, t = _pair(array)
    out, tout = fn_cr(a), fn_torch(t)
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-9,
                               atol=1e-10)
    w = np.random.default_rng(weights_seed).standard_normal(tout.shape)
    (out * cr.tensor(w)).sum().backward()
    (tout * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), rtol=1e-7, atol=1e-9)


RNG = np.random.default_rng(5)
SQUARE = RNG.standard_normal((3, 4, 4)) + 3 * np.eye(4)
TALL = RNG.standard_normal((5, 3))
WIDE = RNG.standard_normal((2, 5))
_h = RNG.standard_normal((4, 4))
SPD = _h @ _h.T + np.eye(4)


@pytest.mark.parametrize("name", ["inv", "det", "logdet", "solve", "cholesky", "eigh_sym",
                                  "qr", "qr_wide", "svd_full", "svd_full_wide",
                                  "svdvals_tall", "svd_wide", "pinv", "nuc", "spectral",
                                  "cond", "matrix_power_neg", "solve_triangular", "slogdet"])
def test_against_torch(name):
    cases = {
        "inv": (lambda L, x: L.linalg.inv(x), SQUARE),
        "det": (lambda L, x: L.linalg.det(x), SQUARE),
        "logdet": (lambda L, x: L.logdet(x), SPD),
        "solve": (lambda L, x: L.linalg.solve(x, x[..., 0]), SQUARE),
        "cholesky": (lambda L, x: L.linalg.cholesky(x, upper=True), SPD),
        "eigh_sym": (lambda L, x: (L.linalg.eigh(x).eigenvectors ** 2) * 3
                     + L.linalg.eigvalsh(x), SPD),
        "qr": (lambda L, x: L.linalg.qr(x).R.abs() + L.linalg.qr(x).Q.abs().sum(), TALL),
        "qr_wide": (lambda L, x: L.linalg.qr(x).R.abs() + L.linalg.qr(x).Q.abs().sum(), WIDE),
        "svd_full": (lambda L, x: (L.linalg.svd(x).U[:, :3] * L.linalg.svd(x).S).abs()
                     + L.linalg.svd(x).Vh.abs().sum(), TALL),
        "svd_full_wide": (lambda L, x: L.linalg.svd(x).Vh[:2].abs()
                          + L.linalg.svd(x).U.abs().sum(), WIDE),
        "svdvals_tall": (lambda L, x: L.linalg.svdvals(x), TALL),
        "svd_wide": (lambda L, x: L.linalg.svd(x, full_matrices=False).U.abs(), WIDE),
        "pinv": (lambda L, x: L.linalg.pinv(x), TALL),
        "nuc": (lambda L, x: L.linalg.matrix_norm(x, "nuc"), TALL),
        "spectral": (lambda L, x: L.linalg.norm(x, 2, dim=(0, 1)), TALL),
        "cond": (lambda L, x: L.linalg.cond(x), SPD),
        "matrix_power_neg": (lambda L, x: L.linalg.matrix_power(x, -2), SQUARE),
        "solve_triangular": (lambda L, x: L.linalg.solve_triangular(x, x[..., :2],
                                                                     upper=True), SQUARE),
        "slogdet": (lambda L, x: L.linalg.slogdet(x).logabsdet * L.linalg.slogdet(x).sign,
                    SQUARE - 6 * np.eye(4)),
    }
    fn, array = cases[name]
    _check(lambda x: fn(cr, x), lambda x: fn(torch, x), array)


def test_the_spectral_norm_is_not_the_frobenius_norm():
    # linalg.norm(A, 2, dim=(0, 1)) once quietly gave the Frobenius norm
    a = cr.tensor([[3.0, 0.0], [0.0, 4.0]])
    assert cr.linalg.norm(a, 2, dim=(0, 1)).item() == pytest.approx(4.0)
    assert cr.linalg.norm(a).item() == pytest.approx(5.0)
    assert cr.linalg.norm(a, ord=1).item() == pytest.approx(4.0)  # a matrix: max column sum


def test_bad_input_is_refused_with_the_reason():
    with pytest.raises(RuntimeError, match="linalg.inv: the matrix .* is singular"):
        cr.linalg.inv(cr.ones(3, 3))
    with pytest.raises(RuntimeError, match="not positive-definite"):
        cr.linalg.cholesky(-cr.eye(3))
    with pytest.raises(ValueError, match=r"linalg.det: expected square matrices, got shape"):
        cr.linalg.det(cr.ones(2, 3))
    with pytest.raises(ValueError, match="at least 2 dims"):
        cr.linalg.inv(cr.ones(3))
    with pytest.raises(TypeError, match="floating-point"):
        cr.linalg.det(cr.eye(2, dtype=cr.int64))
    with pytest.raises(ValueError, match="B's rows"):
        cr.linalg.solve(cr.eye(3), cr.ones(2, 1))
    with pytest.raises(RuntimeError, match="mode='complete' with more rows .* not "
                                           "differentiable"):
        cr.linalg.qr(cr.ones(3, 2, requires_grad=True), mode="complete")
    with pytest.raises(ValueError, match="ord must be"):
        cr.linalg.matrix_norm(cr.ones(2, 2), ord=3)
    with pytest.raises(AttributeError, match="matrix_exp"):
        _ = cr.linalg.matrix_exp


def test_full_matrices_without_gradient_and_old_forms():
    x = TALL
    u, s, vh = cr.linalg.svd(cr.tensor(x))
    tu, _, tvh = torch.linalg.svd(torch.tensor(x))
    assert u.shape == tuple(tu.shape) and vh.shape == tuple(tvh.shape)
    np.testing.assert_allclose((u[:, :3] * s) @ vh, x, atol=1e-12)
    u2, s2, v2 = cr.svd(cr.tensor(x))
    np.testing.assert_allclose(((u2 * s2) @ v2.T).numpy(), x, atol=1e-12)
    q, r = cr.qr(cr.tensor(x))
    np.testing.assert_allclose((q @ r).numpy(), x, atol=1e-12)
    # mode='r' gives R on the graph (PyTorch refuses its gradient; here it is R's own)
    a = cr.tensor(x, requires_grad=True)
    q_empty, r_only = cr.linalg.qr(a, mode="r")
    assert q_empty.numel() == 0 and r_only.requires_grad
    np.testing.assert_allclose(r_only.detach().numpy(), cr.linalg.qr(a).R.detach().numpy())
    rank = cr.linalg.matrix_rank(cr.tensor(np.outer([1.0, 2, 3], [1.0, 1])))
    assert rank.item() == 1 and rank.dtype == cr.int64


def test_logdet_of_a_negative_determinant_is_nan_without_gradient():
    array = np.array([[0.0, 1.0], [1.0, 0.0]]) + 0.1
    a, t = _pair(array)
    out, tout = cr.logdet(a), torch.logdet(t)
    assert np.isnan(out.item()) and np.isnan(tout.item())
    out.backward()
    tout.backward()
    np.testing.assert_array_equal(a.grad.numpy(), t.grad.numpy())
