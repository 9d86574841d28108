"""Smaller pieces of PyTorch's surface that real programs reach for: isin, chain_matmul,
torch.testing.assert_close, linalg.cholesky_ex / inv_ex, the torch.utils.data module
paths, random.fork_rng and set_default_device; PyTorch is the oracle."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr

torch = pytest.importorskip("torch")


def test_isin_matches_torch():
    a, b = np.array([[1, 5, 3], [2, 2, 9]]), np.array([2, 3])
    for kwargs in ({}, {"invert": True}):
        ours = cr.isin(cr.tensor(a), cr.tensor(b), **kwargs)
        theirs = torch.isin(torch.tensor(a), torch.tensor(b), **kwargs)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert cr.isin(cr.tensor([1.0, 2.0]), 2.0).tolist() == [False, True]


def test_chain_matmul_is_multi_dot():
    r = np.random.default_rng(0)
    ms = [r.standard_normal(s) for s in ((2, 3), (3, 4), (4, 2))]
    ours = cr.chain_matmul(*[cr.tensor(m) for m in ms])
    np.testing.assert_allclose(ours.numpy(), ms[0] @ ms[1] @ ms[2])


def test_assert_close_uses_torchs_tolerances_and_messages():
    cr.testing.assert_close(cr.tensor([1.0, 2.0]), cr.tensor([1.0, 2.0 + 2e-6]))
    cr.testing.assert_close({"w": [cr.ones(2, dtype=cr.float64)]},
                            {"w": [cr.ones(2, dtype=cr.float64) + 1e-8]})
    cr.testing.assert_close(1.0, 1.0 + 1e-8)
    cr.testing.assert_close(cr.tensor([1.0]), cr.tensor([1.5]), rtol=0.5, atol=0.0)
    for ours, theirs in ((cr.tensor([1.0, 3.0]), cr.tensor([2.0, 3.0])),
                         (cr.tensor([1, 2]), cr.tensor([1, 3]))):
        with pytest.raises(AssertionError) as mine:
            cr.testing.assert_close(ours, theirs)
        with pytest.raises(AssertionError) as reference:
            torch.testing.assert_close(torch.tensor(ours.numpy()), torch.tensor(theirs.numpy()))
        assert str(mine.value).splitlines()[:3] == str(reference.value).splitlines()[:3]
    with pytest.raises(AssertionError, match="'dtype' do not match: float32 != float64"):
        cr.testing.assert_close(cr.ones(2), cr.ones(2, dtype=cr.float64))
    with pytest.raises(AssertionError, match="'shape' do not match"):
        cr.testing.assert_close(cr.ones(2), cr.ones(3))
    with pytest.raises(TypeError, match="expected both inputs to be tensors"):
        cr.testing.assert_close(cr.ones(1), 1.0)
    with pytest.raises(AssertionError, match="^custom$"):
        cr.testing.assert_close(cr.ones(1), cr.zeros(1), msg="custom")
    with pytest.raises(ValueError, match="both rtol and atol"):
        cr.testing.assert_close(cr.ones(1), cr.ones(1), rtol=1e-3)


def test_cholesky_ex_and_inv_ex_report_failures_as_torch():
    spd = np.array([[4.0, 2.0], [2.0, 3.0]])
    batch = np.stack([spd, [[1.0, 2.0], [2.0, 1.0]], np.eye(2)])
    L, info = cr.linalg.cholesky_ex(cr.tensor(batch))
    tL, tinfo = torch.linalg.cholesky_ex(torch.tensor(batch))
    np.testing.assert_array_equal(info.numpy(), tinfo.numpy())
    np.testing.assert_allclose(L.numpy()[[0, 2]], tL.numpy()[[0, 2]])
    assert np.isnan(L.numpy()[1]).all()  # never a silently wrong factor
    for m in ([[1.0, 2.0], [2.0, 4.0]], [[0.0, 1.0, 1.0], [0.0, 2.0, 2.0], [1.0, 1.0, 1.0]],
              [[2.0, 1.0], [1.0, 1.0]]):
        _, info = cr.linalg.inv_ex(cr.tensor(m))
        _, tinfo = torch.linalg.inv_ex(torch.tensor(m))
        assert int(info) == int(tinfo)
    x = cr.tensor(spd, requires_grad=True)
    cr.linalg.cholesky_ex(x).L.sum().backward()
    tx = torch.tensor(spd, requires_grad=True)
    torch.linalg.cholesky_ex(tx).L.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-10)
    inverse, info = cr.linalg.inv_ex(cr.tensor(spd))
    np.testing.assert_allclose(inverse.numpy(), np.linalg.inv(spd))
    assert int(info) == 0
    with pytest.raises(RuntimeError, match="not positive-definite"):
        cr.linalg.cholesky_ex(cr.tensor(batch), check_errors=True)
    with pytest.raises(ValueError, match="cholesky_ex: expected square matrices"):
        cr.linalg.cholesky_ex(cr.ones(2, 3))


def test_torch_utils_data_module_paths():
    from chainrule.utils.data.dataloader import DataLoader, default_collate
    from chainrule.utils.data.dataset import Dataset, TensorDataset
    from chainrule.utils.data.sampler import SubsetRandomSampler

    assert DataLoader is cr.data.DataLoader and Dataset is cr.data.Dataset
    assert SubsetRandomSampler is cr.data.SubsetRandomSampler
    batch = default_collate([(cr.ones(2), 1), (cr.zeros(2), 2)])
    assert batch[1].tolist() == [1, 2]
    assert len(TensorDataset(cr.ones(3, 1))) == 3


def test_fork_rng_restores_the_global_stream():
    cr.manual_seed(11)
    expected = cr.rand(3)
    cr.manual_seed(11)
    with cr.random.fork_rng():
        cr.randn(5)
    assert np.array_equal(cr.rand(3).numpy(), expected.numpy())
    cr.manual_seed(11)
    with cr.random.fork_rng(enabled=False):
        cr.randn(5)
    assert not np.array_equal(cr.rand(3).numpy(), expected.numpy())


def test_default_device_is_the_cpu():
    cr.set_default_device("cpu")
    cr.set_default_device(cr.device("cpu"))
    assert cr.get_default_device() == "cpu"
    with pytest.raises(NotImplementedError, match=r"\.to\('cuda'\)"):
        cr.set_default_device("cuda")


@pytest.mark.parametrize("make", [
    lambda **kw: cr.nn.Linear(2, 3, **kw), lambda **kw: cr.nn.Bilinear(2, 2, 3, **kw),
    lambda **kw: cr.nn.LayerNorm(3, **kw), lambda **kw: cr.nn.BatchNorm1d(3, **kw),
    lambda **kw: cr.nn.GroupNorm(1, 2, **kw), lambda **kw: cr.nn.RMSNorm(3, **kw),
    lambda **kw: cr.nn.Embedding(4, 3, **kw), lambda **kw: cr.nn.EmbeddingBag(4, 3, **kw),
    lambda **kw: cr.nn.LSTM(2, 3, **kw), lambda **kw: cr.nn.RNN(2, 3, **kw),
    lambda **kw: cr.nn.GRUCell(2, 3, **kw), lambda **kw: cr.nn.MultiheadAttention(4, 2, **kw),
    lambda **kw: cr.nn.TransformerEncoderLayer(4, 2, 8, **kw),
])
def test_layers_take_the_device_factory_argument(make):
    make(device="cpu")
    make(device=cr.device("cpu"), dtype=cr.float64)
    if not cr.cuda.is_available():  # never silently built on the CPU instead
        with pytest.raises(RuntimeError, match="no GPU backend"):
            make(device="cuda")


def test_linear_takes_device_and_dtype_positionally_as_torch():
    class Layer(cr.nn.Linear):  # the forward-forward example's subclass
        def __init__(self, i, o, bias=True, device=None, dtype=None):
            super().__init__(i, o, bias, device, dtype)

    assert Layer(2, 3, True, None, cr.float64).weight.dtype == cr.float64


def test_stack_module_state_as_torch_func():
    models = [cr.nn.Sequential(cr.nn.Linear(3, 4), cr.nn.BatchNorm1d(4)) for _ in range(3)]
    tmodels = [torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
               for _ in range(3)]
    for m, tm in zip(models, tmodels):
        tm.load_state_dict({k: torch.tensor(v.numpy()) for k, v in m.state_dict().items()})
    params, buffers = cr.func.stack_module_state(models)
    tparams, tbuffers = torch.func.stack_module_state(tmodels)
    assert list(params) == list(tparams) and list(buffers) == list(tbuffers)
    for ours, theirs in [(params, tparams), (buffers, tbuffers)]:
        for name in theirs:
            np.testing.assert_allclose(ours[name].detach().numpy(), theirs[name].detach().numpy())
            assert ours[name].requires_grad == theirs[name].requires_grad
            assert ours[name].is_leaf
    params["0.weight"].sum().backward()  # the stacked leaves, not the models, get gradients
    assert models[0][0].weight.grad is None
    with pytest.raises(ValueError, match="same class"):
        cr.func.stack_module_state([cr.nn.Linear(2, 2), cr.nn.Bilinear(2, 2, 2)])
    with pytest.raises(ValueError, match="same training/eval mode"):
        cr.func.stack_module_state([cr.nn.Linear(2, 2), cr.nn.Linear(2, 2).eval()])
    with pytest.raises(ValueError, match=r"'meta' device \(shapes without data\).*functional_call"):
        cr.nn.Linear(2, 2).to("meta")


def test_poisson_draws():
    cr.manual_seed(2)
    draws = cr.poisson(cr.full((20000,), 3.0))
    assert draws.dtype == cr.float32
    assert abs(draws.numpy().mean() - 3.0) < 0.05 and abs(draws.numpy().var() - 3.0) < 0.15
    g = cr.Generator().manual_seed(5)
    a = cr.poisson(cr.ones(4), generator=g)
    assert np.array_equal(a.numpy(), cr.poisson(cr.ones(4), generator=cr.Generator().manual_seed(5))
                          .numpy())
    with pytest.raises(ValueError, match="poisson: rates must be non-negative"):
        cr.poisson(cr.tensor([-1.0]))


def test_gather_and_index_select_gradients_ignore_infinite_inputs():
    # (their rules once built the zero adjoint as x * 0: NaN where x was -inf, as in
    # Categorical(logits=logits.masked_fill(~legal, -inf)), the usual action masking)
    values = np.array([[-np.inf, 1.0, 2.0], [0.5, np.inf, -1.0]])
    grads = []
    for lib in (cr, torch):
        x = lib.tensor(values, requires_grad=True)
        y = (x.gather(1, lib.tensor([[2, 2], [0, 2]])).sum()
             + x.index_select(1, lib.tensor([0, 2, 2]))[:, 1:].sum())
        y.backward()
        grads.append(x.grad.numpy())
    np.testing.assert_array_equal(*grads)
    logits = cr.tensor([[0.5, -1.0, 0.2]], requires_grad=True)
    legal = cr.tensor([[True, False, True]])
    dist = cr.distributions.Categorical(logits=logits.masked_fill(~legal, float("-inf")))
    (dist.log_prob(cr.tensor([2])) + dist.entropy()).sum().backward()
    assert np.isfinite(logits.grad.numpy()).all() and logits.grad.numpy()[0, 1] == 0


def test_sdpa_kernel_switches_and_version_as_torch():
    from chainrule.nn.attention import SDPBackend, sdpa_kernel

    q = cr.tensor(np.random.default_rng(0).standard_normal((1, 2, 3, 4)))
    plain = cr.nn.functional.scaled_dot_product_attention(q, q, q, is_causal=True)
    with sdpa_kernel([SDPBackend.FLASH_ATTENTION, SDPBackend.MATH]):
        inside = cr.nn.functional.scaled_dot_product_attention(q, q, q, is_causal=True)
    np.testing.assert_array_equal(plain.numpy(), inside.numpy())
    for member in SDPBackend:
        theirs = getattr(torch.nn.attention.SDPBackend, member.name, None)
        assert theirs is None or int(theirs.value) == member.value
    with pytest.raises(TypeError, match="expected SDPBackend members"), sdpa_kernel("math"):
        pass
    cuda = cr.backends.cuda
    cuda.enable_flash_sdp(False)
    assert not cuda.flash_sdp_enabled()
    with cuda.sdp_kernel(enable_flash=True, enable_math=False):
        assert cuda.flash_sdp_enabled() and not cuda.math_sdp_enabled()
    assert not cuda.flash_sdp_enabled() and cuda.math_sdp_enabled()
    cuda.enable_flash_sdp(True)
    assert cr.version.__version__ == cr.__version__ and cr.version.cuda is None


def test_cuda_memory_figures_as_pytorch_without_a_gpu():
    """Training scripts log torch.cuda.memory_allocated(); without a GPU PyTorch says 0."""
    if cr.cuda.is_available():
        assert cr.cuda.memory_allocated() >= 0 and cr.cuda.memory_reserved() >= 0
        with pytest.raises(NotImplementedError, match="keeps no peak"):
            cr.cuda.max_memory_allocated()
        return
    names = ("memory_allocated", "memory_reserved", "max_memory_allocated",
             "max_memory_reserved")
    ours = [getattr(cr.cuda, name)() for name in names]
    assert ours == [getattr(torch.cuda, name)() for name in names] == [0, 0, 0, 0]
    assert cr.cuda.reset_peak_memory_stats() is None
