"""nn.utils and nn.init against torch.nn.utils / torch.nn.init."""

from __future__ import annotations

import math

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn

torch = pytest.importorskip("torch")


def test_parameters_to_vector_is_on_the_graph_as_torch():
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal((2, 3)), rng.standard_normal(4)]
    ours = [nn.Parameter(cr.tensor(a)) for a in arrays]
    theirs = [torch.nn.Parameter(torch.tensor(a)) for a in arrays]
    vc = nn.utils.parameters_to_vector(ours)
    vt = torch.nn.utils.parameters_to_vector(theirs)
    np.testing.assert_array_equal(vc.numpy(), vt.detach().numpy())
    (vc ** 3).sum().backward()
    (vt ** 3).sum().backward()
    for pc, pt in zip(ours, theirs):
        np.testing.assert_allclose(pc.grad.numpy(), pt.grad.numpy(), rtol=1e-12)
    nn.utils.vector_to_parameters(cr.tensor(np.arange(10.0)), ours)
    torch.nn.utils.vector_to_parameters(torch.arange(10.0, dtype=torch.float64), theirs)
    for pc, pt in zip(ours, theirs):
        np.testing.assert_array_equal(pc.numpy(), pt.detach().numpy())


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf])
def test_get_total_norm_and_clip_with_norm_as_torch(norm_type):
    rng = np.random.default_rng(1)
    grads = [rng.standard_normal((3, 2)), rng.standard_normal(5)]
    got = nn.utils.get_total_norm([cr.tensor(g) for g in grads], norm_type)
    want = torch.nn.utils.get_total_norm([torch.tensor(g) for g in grads], norm_type)
    np.testing.assert_allclose(got.item(), want.item(), rtol=1e-12)
    ours = [nn.Parameter(cr.zeros(*g.shape, dtype=cr.float64)) for g in grads]
    theirs = [torch.nn.Parameter(torch.zeros(g.shape, dtype=torch.float64)) for g in grads]
    for p, q, g in zip(ours, theirs, grads):
        p.grad, q.grad = cr.tensor(g), torch.tensor(g)
    nn.utils.clip_grads_with_norm_(ours, 0.5, got)
    torch.nn.utils.clip_grads_with_norm_(theirs, 0.5, want)
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-12)
    nn.utils.clip_grad_value_(ours, 0.01, foreach=False)
    torch.nn.utils.clip_grad_value_(theirs, 0.01, foreach=False)
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("shape,groups", [((4, 2, 3), 1), ((6, 3, 3, 3), 2), ((2, 4, 1, 3, 3), 1)])
def test_dirac_equals_torch(shape, groups):
    ours = nn.init.dirac_(cr.empty(*shape), groups=groups)
    theirs = torch.nn.init.dirac_(torch.empty(shape), groups=groups)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("shape", [(3, 5), (5, 3), (4, 2, 3)])
def test_orthogonal_is_orthogonal_with_gain(shape):
    w = nn.init.orthogonal_(cr.empty(*shape), gain=2.0,
                            generator=cr.Generator().manual_seed(0)).numpy()
    flat = w.reshape(shape[0], -1)
    small = flat @ flat.T if flat.shape[0] <= flat.shape[1] else flat.T @ flat
    np.testing.assert_allclose(small, 4.0 * np.eye(small.shape[0]), atol=1e-5)


def test_sparse_zeroes_as_many_per_column_as_torch():
    ours = nn.init.sparse_(cr.empty(10, 4), sparsity=0.3).numpy()
    theirs = torch.nn.init.sparse_(torch.empty(10, 4), sparsity=0.3).numpy()
    assert ((ours == 0).sum(axis=0) == (theirs == 0).sum(axis=0)).all()
    assert np.abs(ours).max() < 0.1


def test_deprecated_names_and_missing_utils():
    w = cr.empty(3, 4)
    with pytest.warns(FutureWarning, match="xavier_uniform_"):
        nn.init.xavier_uniform(w)
    with pytest.warns(FutureWarning, match="clip_grad_norm_"):
        nn.utils.clip_grad_norm([nn.Parameter(cr.ones(2))], 1.0)
    with pytest.raises(AttributeError, match="stateless: PyTorch deprecated "
                                             "nn.utils.stateless; use cr.func.functional_call"):
        nn.utils.stateless  # noqa: B018
    for name in dir(torch.nn.init):
        if name.endswith("_") and not name.startswith("_"):
            assert hasattr(nn.init, name), name
