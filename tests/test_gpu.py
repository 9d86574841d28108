"""The CuPy backend: the same rules on the GPU give the CPU's gradients.

CI has no GPU: every test here skips with a reason unless CuPy finds a CUDA device.
"""

import numpy as np
import pytest

import chainrule as cr
from chainrule import backend

pytestmark = pytest.mark.skipif(not backend.gpu_available(),
                                reason="no CUDA GPU with CuPy (pip install 'chainrule[gpu]')")


def _grads(device: str):
    rng = np.random.default_rng(0)
    x = cr.tensor(rng.standard_normal((8, 5)), requires_grad=True)
    w = cr.tensor(rng.standard_normal((5, 3)), requires_grad=True)
    xd, wd = x.to(device), w.to(device)
    loss = (cr.log_softmax(cr.tanh(xd @ wd), axis=1) * 2.0).sum() + cr.sigmoid(xd).mean()
    loss.backward()
    return loss.item(), x.grad.numpy(), w.grad.numpy()


def test_gpu_gradients_equal_cpu():
    cpu, gpu = _grads("cpu"), _grads("cuda")
    assert gpu[0] == pytest.approx(cpu[0], rel=1e-10)
    np.testing.assert_allclose(gpu[1], cpu[1], rtol=1e-10)
    np.testing.assert_allclose(gpu[2], cpu[2], rtol=1e-10)


def test_gpu_tensor_reports_its_device():
    t = cr.ones(3).to("cuda")
    assert t.device == "cuda"
    assert t.cpu().device == "cpu"
