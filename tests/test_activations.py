"""The activation layers against PyTorch: values, input gradients (and PReLU's weight
gradient), with arguments; plus the transformer's gelu path."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr

torch = pytest.importorskip("torch")

CASES = [
    ("GELU", {}), ("GELU", {"approximate": "tanh"}), ("SiLU", {}), ("ELU", {}),
    ("ELU", {"alpha": 0.5}), ("SELU", {}), ("Softplus", {}),
    ("Softplus", {"beta": 2.0, "threshold": 1.0}), ("Mish", {}), ("Hardtanh", {}),
    ("Hardtanh", {"min_val": -0.5, "max_val": 2.0}), ("ReLU6", {}), ("LogSigmoid", {}),
    ("Softsign", {}), ("GLU", {}), ("GLU", {"dim": 1}), ("PReLU", {}),
    ("PReLU", {"num_parameters": 4, "init": 0.1}),
]


@pytest.mark.parametrize("name,kw", CASES)
def test_activation_matches_torch(name, kw):
    rng = np.random.default_rng(0)
    data = rng.standard_normal((3, 4, 6)) * 4  # beyond the kinks and thresholds
    ours = getattr(cr.nn, name)(**kw).double()
    theirs = getattr(torch.nn, name)(**kw).double()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    x = cr.tensor(data, requires_grad=True)
    tx = torch.tensor(data, requires_grad=True)
    y, ty = ours(x), theirs(tx)
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-10, atol=1e-12)
    gy = rng.standard_normal(ty.shape)
    (y * cr.tensor(gy)).sum().backward()
    (ty * torch.tensor(gy)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-9, atol=1e-12)
    if name == "PReLU":
        np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(),
                                   rtol=1e-9)


def test_activation_errors():
    with pytest.raises(ValueError, match="GELU: approximate must be 'none' or 'tanh'"):
        cr.nn.GELU("fast")
    with pytest.raises(ValueError, match=r"^0 \(PReLU\): prelu: 3 slopes need an input with "
                                         r"3 channels"):
        cr.nn.Sequential(cr.nn.PReLU(3))(cr.ones(2, 4))
    with pytest.raises(ValueError, match="glu: the size of dimension -1 must be even"):
        cr.nn.GLU()(cr.ones(2, 3))
