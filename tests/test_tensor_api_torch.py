"""PyTorch's tensor surface against torch itself: values and gradients of the functions and
methods in ops/tensor_api.py (and dim=/keepdim= forms of the older ones), the (values,
indices) results, promotion, operators and in-place ops on the graph."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr

torch = pytest.importorskip("torch")

IDX = np.array([[0, 2], [1, 3], [3, 0]])

# name -> f(lib, x): the same text for both libraries
CASES = {
    "sum_dim_keepdim": lambda L, x: x.sum(dim=1, keepdim=True),
    "mean_dims": lambda L, x: x.mean(dim=(0, 1)),
    "amax_dim": lambda L, x: x.amax(dim=0),
    "std_unbiased": lambda L, x: x.std(dim=1, unbiased=False),
    "var_correction": lambda L, x: L.var(x, dim=0, correction=0, keepdim=True),
    "logsumexp_dim": lambda L, x: x.logsumexp(dim=1),
    "softmax_dim": lambda L, x: L.softmax(x, dim=0),
    "log_softmax_dim": lambda L, x: x.log_softmax(dim=-1),
    "max_values": lambda L, x: L.max(x, dim=1).values,
    "min_keepdim": lambda L, x: x.min(1, keepdim=True)[0],
    "median_dim": lambda L, x: x.median(dim=1).values,
    "sort_desc": lambda L, x: x.sort(dim=1, descending=True).values,
    "topk": lambda L, x: L.topk(x, 2, dim=1).values,
    "kthvalue": lambda L, x: x.kthvalue(2, dim=0).values,
    "gather": lambda L, x: x.gather(1, L.tensor(IDX)),
    "scatter": lambda L, x: x.scatter(1, L.tensor(IDX[:, :1]), x[:, 1:2] * 2),
    "scatter_add": lambda L, x: x.scatter_add(1, L.tensor(IDX), x[:, :2]),
    "index_select": lambda L, x: x.index_select(1, L.tensor([3, 0, 3])),
    "index_add": lambda L, x: x.index_add(0, L.tensor([2, 0]), x[:2] * 3),
    "masked_fill": lambda L, x: x.masked_fill(x > 0.2, -1.0),
    "masked_select": lambda L, x: x.masked_select(x > 0),
    "where3": lambda L, x: L.where(x > 0, x, x * x),
    "flip": lambda L, x: x.flip(1),
    "roll_dims": lambda L, x: x.roll((1, -1), dims=(0, 1)),
    "roll_flat": lambda L, x: x.roll(2),
    "tril": lambda L, x: x.tril(-1),
    "triu": lambda L, x: L.triu(x, 1),
    "repeat": lambda L, x: x.repeat(2, 1, 2),
    "repeat_interleave": lambda L, x: x.repeat_interleave(2, dim=1),
    "unflatten": lambda L, x: x.unflatten(1, (2, 2)),
    "unbind": lambda L, x: x.unbind(1)[2],
    "narrow": lambda L, x: x.narrow(1, 1, 2),
    "hstack": lambda L, x: L.hstack([x, x[:, :1]]),
    "vstack": lambda L, x: L.vstack([x, x[0]]),
    "cat_dim": lambda L, x: L.cat([x, x], dim=1),
    "stack_dim": lambda L, x: L.stack([x, x], dim=2),
    "split_dim": lambda L, x: L.split(x, 1, dim=1)[3],
    "chunk_dim": lambda L, x: x.chunk(2, dim=1)[1],
    "einsum": lambda L, x: L.einsum("ij,kj->ik", x, x),
    "einsum_implicit": lambda L, x: L.einsum("ij,jk", x, x.t()),
    "einsum_ellipsis": lambda L, x: L.einsum("...ij,...kj->...ik", x.view(3, 2, 2), x.view(3, 2, 2)),
    "einsum_ellipsis_broadcast": lambda L, x: L.einsum("...j,j->...", x, x[0]),
    "einsum_attention": lambda L, x: L.einsum("bhqd,bhkd->bhqk", x.view(1, 3, 2, 2),
                                              x.view(1, 3, 2, 2) * 2),
    "mm": lambda L, x: L.mm(x, x.t()),
    "bmm": lambda L, x: L.bmm(x.unsqueeze(0), x.t().unsqueeze(0)),
    "addmm": lambda L, x: L.addmm(x[:, :3], x, x.t(), beta=0.5, alpha=2.0),
    "outer": lambda L, x: L.outer(x[0], x[1]),
    "cumsum": lambda L, x: x.cumsum(dim=1),
    "cumprod": lambda L, x: x.cumprod(1),
    "prod_dim": lambda L, x: x.prod(dim=0),
    "prod_all": lambda L, x: x.prod(),
    "norm": lambda L, x: x.norm(),
    "norm_dim": lambda L, x: x.norm(dim=1, keepdim=True),
    "norm_p1": lambda L, x: x.norm(p=1, dim=0),
    "linalg_norm": lambda L, x: L.linalg.norm(x, dim=1),
    "lerp": lambda L, x: L.lerp(x, x * x, 0.3),
    "clamp_min": lambda L, x: x.clamp_min(0.1),
    "clamp_max": lambda L, x: x.clamp_max(0.1),
    "remainder": lambda L, x: (x + 2) % 0.7,
    "fmod": lambda L, x: L.fmod(x + 2, 0.7),
    "expand_as": lambda L, x: x[0].expand_as(x) * x,
    "view_as": lambda L, x: x.view_as(L.zeros(4, 3)),
    "clone": lambda L, x: x.clone() * 2,
    "atan_asinh": lambda L, x: L.atan(x) + x.asinh() + L.sinh(x) * L.cosh(x),
    "asin_acos_atanh": lambda L, x: L.asin(x * 0.9) + (x * 0.5).acos() + L.atanh(x * 0.8),
    "add_alpha": lambda L, x: L.add(x, x * x, alpha=2.5) - x.sub(x, alpha=0.5),
    "std_mean": lambda L, x: L.std_mean(x, dim=1)[0] + L.var_mean(x, 0)[1].sum(),
    "diff": lambda L, x: L.diff(x, n=2, dim=1),
    "cdist": lambda L, x: L.cdist(x, x[:2] * 2),
    "cdist_zero": lambda L, x: L.cdist(x, x),
    "meshgrid": lambda L, x: L.meshgrid(x[0], x[1, :3], indexing="ij")[0] * x[:, :3].sum(),
    "meshgrid_xy": lambda L, x: L.meshgrid(x[0], x[1, :3], indexing="xy")[1],
    "broadcast_tensors": lambda L, x: L.broadcast_tensors(x, x[0])[1],
    "diagonal": lambda L, x: x.diagonal() + L.diagonal(x, 1)[:2].sum(),
    "diagonal_dims": lambda L, x: x.view(3, 2, 2).diagonal(0, 1, 2),
    "diag_matrix": lambda L, x: L.diag(x[0], 1) + L.diag(x[1, :4].exp(), -1) * 0.5,
    "diag_of_2d": lambda L, x: x.diag(-1),
    "trace": lambda L, x: L.trace(x[:, :3] @ x[:, :3].t()),
    "index_fill": lambda L, x: x.index_fill(1, L.tensor([0, 2]), -1.0) * x,
    "round_decimals": lambda L, x: L.round(x, decimals=1) + x,
    "setitem_graph": lambda L, x: _setitem(x),
    "relu_inplace": lambda L, x: ((x * 2).relu_() * 3).add_(1).sigmoid_(),
    "iadd_graph": lambda L, x: _iadd(x),
}


def _setitem(x):
    h = x * 1
    h[1] = x[0] * 3
    h[:, 2] = 0
    return h


def _iadd(x):
    h = x * 2
    h += x * x
    h -= 1
    return h


def _run(lib, fn, x0, w_seed):
    x = lib.tensor(x0, requires_grad=True)
    out = fn(lib, x)
    w = np.random.default_rng(w_seed).standard_normal(tuple(out.shape))
    (out * lib.tensor(w.astype(np.float64))).sum().backward()
    return out.detach().numpy(), x.grad.numpy()


@pytest.mark.parametrize("name", sorted(CASES))
def test_values_and_gradients_match_torch(name):
    x0 = np.random.default_rng(3).uniform(-1, 1, (3, 4))
    ours, our_grad = _run(cr, CASES[name], x0, 5)
    theirs, their_grad = _run(torch, CASES[name], x0, 5)
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12, err_msg=name)
    np.testing.assert_allclose(our_grad, their_grad, rtol=1e-10, atol=1e-12, err_msg=name)


INDEX_RESULTS = {
    "max": lambda L, x: L.max(x, 1).indices,
    "min_dim": lambda L, x: x.min(dim=0)[1],
    "sort": lambda L, x: x.sort(1).indices,
    "argsort_desc": lambda L, x: x.argsort(dim=0, descending=True),
    "topk_smallest": lambda L, x: x.topk(2, dim=1, largest=False).indices,
    "kthvalue": lambda L, x: x.kthvalue(3, dim=1, keepdim=True).indices,
    "median": lambda L, x: x.median(dim=1).indices,
    "argmax_keepdim": lambda L, x: x.argmax(dim=1, keepdim=True),
    "nonzero": lambda L, x: (x > 0).nonzero(),
    "argwhere": lambda L, x: L.argwhere(x > 0.3),
    "where1": lambda L, x: L.where(x > 0)[1],
    "count_nonzero": lambda L, x: L.count_nonzero(x > 0, dim=0),
}


@pytest.mark.parametrize("name", sorted(INDEX_RESULTS))
def test_index_results_match_torch(name):
    x0 = np.random.default_rng(4).uniform(-1, 1, (4, 5))
    ours = INDEX_RESULTS[name](cr, cr.tensor(x0)).numpy()
    theirs = INDEX_RESULTS[name](torch, torch.tensor(x0)).numpy()
    np.testing.assert_array_equal(ours, theirs, err_msg=name)


def test_integer_functions_match_torch():
    data = [1, 3, 3, 0, 1, 3, 7]
    for fn in (lambda L, t: L.unique(t), lambda L, t: L.bincount(t),
               lambda L, t: L.bincount(t, minlength=10), lambda L, t: L.mode(t).values,
               lambda L, t: t % 3, lambda L, t: t // 2, lambda L, t: t << 2, lambda L, t: t >> 1,
               lambda L, t: t & 6, lambda L, t: t | 8, lambda L, t: t ^ 5, lambda L, t: ~t,
               lambda L, t: t.cumsum(0), lambda L, t: t.prod(), lambda L, t: t.repeat(2)):
        ours = fn(cr, cr.tensor(data)).numpy()
        theirs = fn(torch, torch.tensor(data)).numpy()
        np.testing.assert_array_equal(ours, theirs)
        assert ours.dtype == theirs.dtype


@pytest.mark.parametrize("expr", [
    "f + i", "i * 2.5", "i / 2", "i // 2", "f * np.int64(3)", "f + d", "i + b", "f * 2",
    "i + 1", "f ** i", "f * L.tensor(2.0, dtype=L.float64)", "i * L.tensor(1.5)",
    "u + 1", "(i > 1) & (i < 3)", "f.half() + f", "L.ones(2, dtype=L.int32) * 3",
    "L.arange(5)", "L.arange(0, 1, 0.25)", "L.full((2,), 7)", "L.full((2,), 1.5)",
])
def test_type_promotion_matches_torch(expr):
    def run(L):
        f = L.tensor([1.5, 2.5])
        i = L.tensor([1, 2])
        d = L.tensor([1.0, 2.0], dtype=L.float64)
        b = L.tensor([True, False])
        u = L.tensor([1, 2], dtype=L.uint8)
        return eval(expr, {"np": np, "L": L, "f": f, "i": i, "d": d, "b": b, "u": u})

    ours, theirs = run(cr), run(torch)
    assert str(ours.dtype) == str(theirs.dtype).replace("torch.", ""), expr
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), err_msg=expr)


def test_size_numel_and_dtype_methods():
    x = cr.zeros(2, 3)
    assert x.size() == (2, 3) and x.size(-1) == 3 and isinstance(x.size(), cr.Size)
    assert x.size().numel() == 6 and x.nelement() == 6 and x.element_size() == 4
    with pytest.raises(TypeError, match="numel"):
        if x.size:  # NumPy's habit
            pass
    with pytest.raises(IndexError, match="out of range"):
        x.size(2)
    assert x.long().dtype == cr.int64 and x.int().dtype == cr.int32
    assert x.to(cr.float64).dtype == cr.double and x.to(dtype=cr.half).dtype == cr.float16
    assert x.to("cpu", cr.int64).dtype == cr.long and x.to(cr.ones(1).long()).dtype == cr.long
    assert x.type() == "torch.FloatTensor" and x.type(cr.long).dtype == cr.long
    assert x.device == "cpu" and x.device.type == "cpu" and x.to(cr.device("cpu")) is x
    with pytest.raises(RuntimeError, match="not available"):
        x.to("mps")


def test_data_is_a_detached_tensor_sharing_storage():
    p = cr.nn.Parameter(cr.ones(3))
    p.grad = cr.full((3,), 0.5)
    p.data -= 0.1 * p.grad
    np.testing.assert_allclose(p.numpy(), 0.95)
    p.data.zero_()
    assert float(p.sum()) == 0.0 and p.requires_grad and not p.data.requires_grad
    p.data = cr.tensor([1.0, 2.0])
    assert p.shape == (2,)
    with pytest.raises(TypeError, match="must be a Tensor"):
        p.data = np.ones(2)
    s = cr.tensor(2.0, requires_grad=True)  # a 0-d value: .data must still share it
    with cr.no_grad():
        s.data.fill_(5.0)
    assert s.item() == 5.0


def test_zero_d_tensors_are_not_iterable():
    with pytest.raises(TypeError, match="0-d"):
        iter(cr.tensor(1.0))
    with pytest.raises(TypeError, match="0-d"):
        len(cr.tensor(1.0))
    assert [t.item() for t in cr.tensor([1.0, 2.0])] == [1.0, 2.0]


def test_in_place_on_a_leaf_that_requires_grad_is_refused():
    w = cr.ones(3, requires_grad=True)
    for change in (lambda: w.add_(1), lambda: w.relu_(), lambda: w.__setitem__(0, 2.0)):
        with pytest.raises(RuntimeError, match="leaf"):
            change()


def test_ops_recorded_before_an_in_place_change_keep_the_old_value():
    for lib in (cr, torch):  # both give the same gradients
        a = lib.tensor([1.0, -2.0, 3.0], requires_grad=True)
        c = a * 2
        d = c + 1  # add saves nothing: allowed in PyTorch too
        c.relu_()
        (d * 3 + c).sum().backward()
        np.testing.assert_allclose(a.grad.numpy(), [8.0, 6.0, 8.0])
        x = lib.ones(2, 3, requires_grad=True)
        h = x * 2
        h[0] = h[0].relu() * 3
        h.sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), [[6.0] * 3, [2.0] * 3])


def _in_place_through_indexed_views(lib, x0, y0):
    x = lib.tensor(x0, requires_grad=True)
    y = lib.tensor(y0, requires_grad=True)
    h = x * 2
    before = (h[0].clone() ** 2).sum()  # h[0] from before the changes
    h[0].mul_(3)
    v = h[:, 1]
    v.add_(y)  # an operand that requires grad
    h[1][2].mul_(-1.5)  # a view of a view, one element
    v.mul_(y.exp())  # twice through the same view; a product reads the old value
    after = (v * 3).sum()  # the view after its changes
    loss = (h ** 2).sum() + before + after
    loss.backward()
    return [loss, h, x.grad, y.grad]


def test_in_place_through_a_view_made_by_indexing_as_pytorch():
    rng = np.random.default_rng(3)
    x0, y0 = rng.normal(size=(2, 3)), rng.normal(size=2)
    ours = _in_place_through_indexed_views(cr, x0, y0)
    theirs = _in_place_through_indexed_views(torch, x0, y0)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-12)
    leaf = cr.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="view of a leaf tensor that requires grad"):
        leaf[0].mul_(2)


def test_in_place_on_a_view_is_refused_never_a_silent_wrong_gradient():
    x = cr.ones(2, 3, requires_grad=True)
    h = x * 2
    with pytest.raises(RuntimeError, match="view"):
        h.t().relu_()
    b = x * 1
    c = b.sin()
    b.detach().mul_(2)  # behind autograd's back: refused at backward (as PyTorch)
    with pytest.raises(RuntimeError, match="modified in place"):
        c.sum().backward()


@pytest.mark.parametrize("lib", [cr, torch], ids=["chainrule", "torch"])
def test_one_element_is_a_view_as_in_pytorch(lib):
    """x[0] is a 0-d view (NumPy would hand out a copy): changing it in place changes x."""
    x = lib.tensor([1.0, 2.0, 3.0])
    x[0].add_(10)
    m = lib.zeros(2, 3)
    m[1, 2].fill_(7)
    m[1][0].fill_(5)
    m[..., 0, 1].add_(2)
    e = x[2]
    x.mul_(2)  # and the other way round: the element sees its base change
    np.testing.assert_array_equal(x.numpy(), [22.0, 4.0, 6.0])
    np.testing.assert_array_equal(m.numpy(), [[0, 2, 0], [5, 0, 7]])
    assert e.shape == () and float(e) == 6.0
    h = lib.ones(3, dtype=lib.float64, requires_grad=True)
    g = h * 2
    g[1].mul_(3)  # in place on one element of a recorded tensor: recorded on g
    g.sum().backward()
    np.testing.assert_array_equal(h.grad.numpy(), [2.0, 6.0, 2.0])


def test_register_hook_replaces_the_gradient():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    handle = h.register_hook(lambda g: g * 10)
    h.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [30.0, 30.0])
    handle.remove()
    x.grad = None
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0])


def test_out_argument_and_its_refusal_under_grad():
    a, b = cr.ones(2, 2), cr.full((2, 2), 2.0)
    out = cr.zeros(2, 2)
    assert cr.matmul(a, b, out=out) is out
    np.testing.assert_allclose(out.numpy(), 4.0)
    with pytest.raises(RuntimeError, match="out="):
        cr.mul(cr.ones(2, requires_grad=True), 2.0, out=cr.zeros(2))
    with pytest.raises(TypeError, match="out="):
        cr.zeros(2, out=out)


def test_missing_pieces_are_named():
    with pytest.raises(AttributeError, match="torch.fft is not part of chainrule"):
        _ = cr.fft
    with pytest.raises(NotImplementedError, match="Tensor.resize_ is not part"):
        cr.ones(4).resize_(2, 2)
    with pytest.raises(AttributeError, match="torch.utils.cpp_extension"):
        _ = cr.utils.cpp_extension
    assert cr.utils.tensorboard.SummaryWriter.__name__ == "SummaryWriter"
    with pytest.raises(ValueError, match="letter 'i' repeats in 'ii' over dims of sizes 2 "
                                         "and 3"):
        cr.einsum("ii->i", cr.ones(2, 3))


def test_module_paths():
    import chainrule.utils.data as tud
    from chainrule.autograd.functional import hessian, jacobian

    assert tud.DataLoader is cr.data.DataLoader and tud.random_split is cr.data.random_split
    assert cr.cuda.is_available() in (True, False) and not cr.backends.mps.is_available()
    assert cr.accelerator.is_available() == cr.cuda.is_available()
    x = cr.tensor([1.0, 2.0], dtype=cr.float64)
    np.testing.assert_allclose(jacobian(lambda v: v ** 2, x).numpy(), np.diag([2.0, 4.0]))
    np.testing.assert_allclose(hessian(lambda v: (v ** 3).sum(), x).numpy(),
                               np.diag([6.0, 12.0]))
    y = cr.tensor([0.5, 1.5], dtype=cr.float64, requires_grad=True)
    assert cr.autograd.gradcheck(lambda t: (t.sin() * t).sum(), (y,))
    assert cr.autograd.gradgradcheck(lambda t: t.tanh() * t, (y,))
    with cr.inference_mode():
        assert not (y * 2).requires_grad
    cr.set_grad_enabled(False)
    try:
        assert not (y * 2).requires_grad
    finally:
        cr.set_grad_enabled(True)
    assert (y * 2).requires_grad


def test_numpy_ufuncs_on_tensors_run_the_chainrule_op():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = np.exp(x) + np.float64(2) * x - np.maximum(x, 1.5)
    assert isinstance(y, cr.Tensor) and y.dtype == np.float32
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.exp([1.0, 2.0]) + 2 - [0.0, 1.0], rtol=1e-6)
    with pytest.raises(TypeError, match="x.numpy"):
        np.add.reduce(x)


def test_backward_takes_pytorchs_gradient_keyword_and_several_roots():
    for lib in (cr, torch):
        x = lib.ones(3, requires_grad=True)
        (x * 2).backward(gradient=lib.tensor([1.0, 2.0, 3.0]))
        np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0, 6.0])
        a = lib.ones(2, requires_grad=True)
        lib.autograd.backward([(a * 3).sum(), a * a], [None, lib.ones(2)])
        np.testing.assert_allclose(a.grad.numpy(), [5.0, 5.0])


def test_constants():
    for name in ("inf", "nan", "pi", "e"):
        np.testing.assert_equal(getattr(cr, name), getattr(torch, name))


def test_reproducibility_and_thread_switches_as_pytorch():
    """The seed-everything boilerplate of PyTorch programs runs, and reads back as in
    PyTorch."""
    for lib in (torch, cr):
        lib.use_deterministic_algorithms(True, warn_only=True)
        assert lib.are_deterministic_algorithms_enabled()
        assert lib.is_deterministic_algorithms_warn_only_enabled()
        lib.use_deterministic_algorithms(False)
        assert not lib.are_deterministic_algorithms_enabled()
        assert not lib.is_deterministic_algorithms_warn_only_enabled()
        assert isinstance(lib.get_num_interop_threads(), int)
        assert lib.set_flush_denormal(False) in (True, False)
    with pytest.raises(TypeError, match="must be a bool"):
        cr.use_deterministic_algorithms("yes")
    cr.set_num_interop_threads(3)
    assert cr.get_num_interop_threads() == 3
    with pytest.raises(ValueError, match="positive int"):
        cr.set_num_interop_threads(0)


@pytest.mark.filterwarnings("ignore:`torch.jit.(fork|wait)` is deprecated")
def test_jit_markers_run_eagerly_with_pytorch_numbers():
    """TorchScript markers in model code, and script/trace of a model, run as eager
    PyTorch runs them; what needs a TorchScript program says what to do instead."""
    def build(lib):
        class Block(lib.nn.Module):
            scale: lib.jit.Final[float] = 2.0

            def __init__(self):
                super().__init__()
                self.fc = lib.nn.Linear(3, 2)

            @lib.jit.ignore
            def describe(self) -> str:
                return "block"

            @lib.jit.unused
            def debug(self, x):
                return x

            def forward(self, x):
                if not lib.jit.is_scripting():
                    x = x * self.scale
                y = lib.jit.annotate(lib.Tensor, self.fc(x))
                return lib.jit.wait(lib.jit.fork(lambda t: t.relu(), y))
        return Block()

    torch_block, cr_block = build(torch), build(cr)
    cr_block.load_state_dict({k: cr.tensor(v.detach().numpy())
                              for k, v in torch_block.state_dict().items()})
    x = np.arange(6, dtype=np.float32).reshape(2, 3) / 5
    expected = torch_block(torch.tensor(x)).detach().numpy()
    np.testing.assert_allclose(cr_block(cr.tensor(x)).numpy(), expected, rtol=1e-6)
    scripted = cr.jit.script(cr_block)
    traced = cr.jit.trace(cr_block, cr.tensor(x))
    for m in (scripted, traced, cr.jit.freeze(scripted)):
        np.testing.assert_allclose(m(cr.tensor(x)).numpy(), expected, rtol=1e-6)
    assert cr_block.describe() == "block" and not cr.jit.is_tracing()
    with pytest.raises(NotImplementedError, match="cr.save"):
        cr.jit.save(scripted, "model.pt")
    with pytest.raises(NotImplementedError, match="state_dict"):
        cr.jit.load("model.pt")
    with pytest.raises(TypeError, match="jit.trace"):
        cr.jit.trace(3, None)
    # the older ScriptModule API, and the warning class programs filter
    class Old(cr.jit.ScriptModule):
        def __init__(self):
            super().__init__()
            self.fc = cr.nn.Linear(3, 2)

        @cr.jit.script_method
        def forward(self, x):
            return self.fc(x)

    assert Old()(cr.ones(1, 3)).shape == (1, 2)
    assert isinstance(Old(), cr.jit.ScriptModule) and isinstance(Old(), cr.nn.Module)
    assert not isinstance(cr.nn.Linear(1, 1), cr.jit.ScriptModule)
    assert not isinstance(lambda x: x, cr.jit.ScriptFunction)
    with pytest.raises(NotImplementedError, match="cr.save"):
        Old().save("m.pt")
    assert issubclass(cr.jit.TracerWarning, Warning) and issubclass(torch.jit.TracerWarning,
                                                                    Warning)
    with pytest.raises(AttributeError, match="torch.jit.CompilationUnit needs TorchScript"):
        _ = cr.jit.CompilationUnit


def test_older_and_other_spellings_match_pytorch():
    """Names PyTorch programs still use (range, trapz, cholesky, the *_with_indices pools,
    upsample, set_default_tensor_type, ...) give PyTorch's results."""
    import warnings

    warnings.simplefilter("ignore", UserWarning)  # torch's deprecation notes
    for args in ((1, 4), (0, 1, 0.25), (0, 5, 2), (5, 1, -1.5)):
        np.testing.assert_array_equal(cr.range(*args).numpy(), torch.range(*args).numpy())
    assert cr.range(0, 1, 0.25).dtype == cr.float32
    idx = np.array([0, 4, 5, -1])
    for ours, theirs in zip(cr.unravel_index(cr.tensor(idx), (2, 3)),
                            torch.unravel_index(torch.tensor(idx), (2, 3))):
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
        assert ours.dtype == cr.int64
    with pytest.raises(RuntimeError, match="out of range for shape"):
        cr.unravel_index(cr.tensor([6]), (2, 3))
    for idx, shape in (([-1], (200, 200)), ([200], (300,))):
        for dtype in ("int16", "uint8"):
            if dtype == "uint8" and idx[0] < 0:
                continue
            assert [c.tolist() for c in cr.unravel_index(
                cr.tensor(idx, dtype=getattr(cr, dtype)), shape)] == \
                [c.tolist() for c in torch.unravel_index(
                    torch.tensor(idx, dtype=getattr(torch, dtype)), shape)]
    with pytest.raises(ValueError, match="inconsistent with the sign of step"):
        cr.range(5, 1)
    with pytest.raises(TypeError, match="give start and end"):
        cr.range(5)
    assert cr.typename(cr.nn.Linear).endswith("Linear")
    with pytest.raises(TypeError, match="must be a Tensor"):
        cr.is_complex(3)
    with pytest.raises(ValueError, match="empty"):
        cr.frombuffer(b"", dtype=cr.int8)
    with pytest.raises(ValueError, match="2 sizes but 1 strides"):
        cr.empty_strided((2, 3), (1,))
    for dtype in ("float32", "float64", "int64", "int32", "bool", "uint8", "int8", "int16",
                  "float16"):
        assert cr.typename(cr.ones(2, dtype=getattr(cr, dtype))) == \
            torch.typename(torch.ones(2, dtype=getattr(torch, dtype)))
    assert cr.typename(3) == "int" and cr.typename(np.ones(1)) == "numpy.ndarray"
    y = np.array([1.0, 4.0, 2.0, 5.0], dtype=np.float32)
    assert cr.trapz(cr.tensor(y)).item() == torch.trapz(torch.tensor(y)).item()
    a = np.array([[4.0, 2.0], [2.0, 3.0]])
    for upper in (False, True):
        np.testing.assert_allclose(cr.cholesky(cr.tensor(a), upper=upper).numpy(),
                                   torch.cholesky(torch.tensor(a), upper=upper).numpy())
    raw = bytearray(np.arange(4, dtype=np.int32).tobytes())
    shared = cr.frombuffer(raw, dtype=cr.int32, count=2, offset=4)
    assert shared.tolist() == torch.frombuffer(raw, dtype=torch.int32, count=2,
                                               offset=4).tolist() == [1, 2]
    shared[0] = 7  # the memory is the buffer's, as in PyTorch
    assert np.frombuffer(raw, dtype=np.int32)[1] == 7
    assert cr.frombuffer(b"\x01\x00", dtype=cr.int16).tolist() == [1]  # bytes: a copy
    assert cr.empty_strided((2, 3), (1, 2)).shape == (2, 3)
    assert not cr.is_complex(cr.ones(2)) and not cr.is_storage(cr.ones(2))
    try:
        cr.set_default_tensor_type(cr.DoubleTensor)
        assert cr.ones(1).dtype == cr.float64 and cr.tensor([1.5]).dtype == cr.float64
        cr.set_default_tensor_type("torch.FloatTensor")
        assert cr.ones(1).dtype == cr.float32
        with pytest.raises(NotImplementedError, match="on the CPU"):
            cr.set_default_tensor_type("torch.cuda.FloatTensor")
        with pytest.raises(TypeError, match="floating point"):
            cr.set_default_tensor_type(cr.LongTensor)
    finally:
        cr.set_default_dtype(cr.float32)


def test_pool_aliases_upsample_3d_pads_buffer_and_rnn_bases():
    import warnings

    warnings.simplefilter("ignore", UserWarning)
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 6, 6)).astype(np.float32)
    tx, cx = torch.tensor(x), cr.tensor(x)
    for ours, theirs in ((cr.nn.functional.max_pool2d_with_indices(cx, 2),
                          torch.nn.functional.max_pool2d_with_indices(tx, 2)),
                         (cr.nn.functional.adaptive_max_pool2d_with_indices(cx, 3),
                          torch.nn.functional.adaptive_max_pool2d_with_indices(tx, 3)),
                         (cr.nn.functional.max_pool1d_with_indices(cx[:, :, 0], 2),
                          torch.nn.functional.max_pool1d_with_indices(tx[:, :, 0], 2))):
        for a, b in zip(ours, theirs):
            np.testing.assert_array_equal(a.numpy(), b.numpy())
    for name, kwargs in (("upsample", {"scale_factor": 2}),
                         ("upsample", {"size": (9, 9), "mode": "bilinear",
                                       "align_corners": False}),
                         ("upsample_nearest", {"scale_factor": 2}),
                         ("upsample_bilinear", {"size": (8, 8)})):
        np.testing.assert_allclose(getattr(cr.nn.functional, name)(cx, **kwargs).numpy(),
                                   getattr(torch.nn.functional, name)(tx, **kwargs).numpy(),
                                   rtol=1e-5, atol=1e-6)
    v = rng.standard_normal((1, 2, 3, 4, 5)).astype(np.float32)
    for name, args in (("ZeroPad3d", (1,)), ("ConstantPad3d", ((1, 0, 2, 1, 0, 1), 0.5)),
                       ("ReflectionPad3d", (1,)), ("ReplicationPad3d", ((2, 1, 0, 1, 1, 0),)),
                       ("CircularPad3d", (1,))):
        ours = getattr(cr.nn, name)(*args)(cr.tensor(v, requires_grad=True))
        theirs = getattr(torch.nn, name)(*args)(torch.tensor(v, requires_grad=True))
        np.testing.assert_array_equal(ours.detach().numpy(), theirs.detach().numpy())

    def module_with_buffers(lib):
        class Stats(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.mean = lib.nn.Buffer(lib.zeros(3))
                self.count = lib.nn.Buffer(lib.tensor(0), persistent=False)
        return Stats()

    ours, theirs = module_with_buffers(cr), module_with_buffers(torch)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["mean"]
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert isinstance(ours.mean, cr.nn.Buffer) and isinstance(theirs.mean, torch.nn.Buffer)
    assert not ours.mean.requires_grad
    with pytest.raises(TypeError, match="cannot assign a Buffer to 'weight'"):
        cr.nn.Linear(2, 2).weight = cr.nn.Buffer(cr.zeros(2, 2))
    assert isinstance(cr.nn.LSTM(2, 3), cr.nn.RNNBase)
    assert isinstance(cr.nn.GRUCell(2, 3), cr.nn.RNNCellBase)
    # PyTorch's signatures of the bases: RNNBase(mode, ...), RNNCellBase(..., num_chunks)
    lstms = {}
    for lib in (cr, torch):
        class MyLSTM(lib.nn.RNNBase):
            def __init__(self, *args, **kwargs):
                super().__init__("LSTM", *args, **kwargs)

        lstms[lib] = MyLSTM
        assert [tuple(p.shape) for p in MyLSTM(4, 8, batch_first=True).parameters()] == \
            [(32, 4), (32, 8), (32,), (32,)]
        assert [tuple(p.shape) for p in lib.nn.RNNCellBase(4, 8, True, 3).parameters()] == \
            [(24, 4), (24, 8), (24,), (24,)]
    assert lstms[cr](4, 8)(cr.ones(3, 2, 4))[0].shape == (3, 2, 8)
    with pytest.raises(ValueError, match="unknown mode 'LSMT'"):
        cr.nn.RNNBase("LSMT", 4, 8)


def test_cauchy_and_geometric_fills():
    cr.manual_seed(0)
    c = cr.empty(20000).cauchy_(median=1.0, sigma=2.0)
    assert abs(float(np.median(c.numpy())) - 1.0) < 0.1  # the median, as asked
    q1, q3 = np.percentile(c.numpy(), [25, 75])
    assert abs((q3 - q1) / 2 - 2.0) < 0.15  # half the interquartile range is sigma
    g = cr.empty(20000).geometric_(0.25)
    values = g.numpy()
    assert values.min() >= 1 and np.all(values == np.round(values))
    assert abs(values.mean() - 4.0) < 0.15  # mean 1/p, counting the success (PyTorch's)
    with pytest.raises(ValueError, match="0 < p <= 1"):
        cr.empty(2).geometric_(0)
    with pytest.raises(TypeError, match="floating point"):
        cr.zeros(2, dtype=cr.int64).cauchy_()
    with pytest.raises(ValueError, match="sigma > 0"):
        cr.empty(2).cauchy_(sigma=0.0)
