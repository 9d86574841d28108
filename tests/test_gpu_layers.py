"""Convolution, pooling, normalization and the LSTM cell on CuPy arrays give the CPU's
values and gradients (the kernels take their array module from backend.namespace).

CI has no GPU: every test here skips with a reason unless CuPy finds a CUDA device.
"""

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import backend

pytestmark = pytest.mark.skipif(not backend.gpu_available(),
                                reason="no CUDA GPU with CuPy (pip install 'chainrule[gpu]')")


def _run(device: str):
    rng = np.random.default_rng(0)
    leaves = [cr.tensor(rng.standard_normal(s), requires_grad=True)
              for s in ((2, 3, 8, 8), (4, 3, 3, 3), (4,), (4,), (4,), (2, 16), (2, 4))]
    x, w, b, gamma, beta, gates, c = (t.to(device) for t in leaves)
    h = F.conv2d(x, w, b, padding=1, stride=(1, 2))
    h = F.batch_norm(h, None, None, gamma, beta, training=True)
    h = F.max_pool2d(F.relu(h), 2)
    h = F.avg_pool2d(h, 2, stride=1, padding=1)
    from chainrule.ops.rnn import lstm_cell

    loss = (h * h).sum() + lstm_cell(gates, c).sum()
    loss.backward()
    return loss.item(), [t.grad.numpy() for t in leaves]


def test_layer_ops_on_gpu_equal_cpu():
    cpu, gpu = _run("cpu"), _run("cuda")
    assert gpu[0] == pytest.approx(cpu[0], rel=1e-10)
    for a, b in zip(cpu[1], gpu[1]):
        np.testing.assert_allclose(b, a, rtol=1e-9, atol=1e-12)
