"""cr.optim without PyTorch: formulas by hand, in-place updates, checkpoints, errors."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule import optim
from chainrule.optim import lr_scheduler

ALL = [
    (optim.SGD, {"lr": 0.1}),
    (optim.SGD, {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    (optim.Adagrad, {"lr": 0.5, "lr_decay": 0.01, "initial_accumulator_value": 0.1}),
    (optim.RMSprop, {"lr": 0.01, "momentum": 0.5, "centered": True}),
    (optim.Adam, {"lr": 0.1, "amsgrad": True, "weight_decay": 0.01}),
    (optim.AdamW, {"lr": 0.1}),
]
IDS = [f"{cls.__name__}-{i}" for i, (cls, _) in enumerate(ALL)]


def quadratic_loss(w):
    """½‖w − 1‖², minimized at w = 1."""
    return ((w - 1.0) * (w - 1.0)).sum() * 0.5


@pytest.mark.parametrize("cls,kwargs", ALL, ids=IDS)
def test_converges_on_a_quadratic(cls, kwargs):
    w = cr.tensor([3.0, -2.0, 0.5], dtype="float64", requires_grad=True)
    opt = cls([w], **{**kwargs, "weight_decay": 0.0})
    for _ in range(600):
        opt.zero_grad()
        quadratic_loss(w).backward()
        opt.step()
    np.testing.assert_allclose(w.numpy(), np.ones(3), atol=2e-2)


def test_sgd_momentum_by_hand():
    w = cr.tensor([1.0, 2.0], dtype="float64", requires_grad=True)
    opt = optim.SGD([w], lr=0.1, momentum=0.9, dampening=0.5, weight_decay=0.2)
    theta, buf = np.array([1.0, 2.0]), None
    for t in range(4):
        grad = np.array([0.5, -1.0]) * (t + 1)
        w.grad = cr.tensor(grad, dtype="float64")
        opt.step()
        g = grad + 0.2 * theta
        buf = g.copy() if buf is None else 0.9 * buf + (1 - 0.5) * g
        theta = theta - 0.1 * buf
        np.testing.assert_allclose(w.numpy(), theta, rtol=1e-14)


def test_nesterov_by_hand():
    w = cr.tensor([1.0], dtype="float64", requires_grad=True)
    opt = optim.SGD([w], lr=0.1, momentum=0.5, nesterov=True)
    theta, buf = 1.0, None
    for grad in (1.0, 2.0, -1.0):
        w.grad = cr.tensor([grad], dtype="float64")
        opt.step()
        buf = grad if buf is None else 0.5 * buf + grad
        theta -= 0.1 * (grad + 0.5 * buf)
        assert w.item() == pytest.approx(theta, rel=1e-14)


def test_adam_first_step_by_hand():
    w = cr.tensor([1.0, -1.0], dtype="float64", requires_grad=True)
    opt = optim.Adam([w], lr=0.01)
    w.grad = cr.tensor([3.0, -0.001], dtype="float64")
    opt.step()
    # m̂ = g, v̂ = g²: the first step is lr · sign(g) (up to eps)
    np.testing.assert_allclose(w.numpy(), [0.99, -0.99], rtol=1e-6)


@pytest.mark.parametrize("cls,kwargs", ALL, ids=IDS)
def test_in_place_on_the_same_arrays_with_version_bump(cls, kwargs):
    w = cr.randn(4, 3, requires_grad=True)
    opt = cls([w], **kwargs)
    data, versions = w.array, [w._version]
    grad = cr.randn(4, 3)
    grad_copy = grad.array.copy()
    for k in range(3):
        w.grad = grad
        opt.step()
        versions.append(w._version)
        if k == 0:
            buffers = {k: v for k, v in opt.state.raw(w).items()
                       if isinstance(v, np.ndarray)}
    assert w.array is data  # the model's array is updated, not replaced
    assert versions == sorted(set(versions))  # every step bumps the version counter
    assert w.dtype == cr.float32
    np.testing.assert_array_equal(grad.array, grad_copy)  # the gradient is never written
    for name, buf in buffers.items():  # state buffers are allocated once, reused after
        assert opt.state.raw(w)[name] is buf, name
        assert opt.state[w][name].array is buf, name  # state[p] shows it as a Tensor
        assert buf.dtype == np.float32, name


def test_parameters_without_grad_are_skipped():
    a, b = cr.ones(2, requires_grad=True), cr.ones(2, requires_grad=True)
    opt = optim.Adam([a, b], lr=0.1)
    a.grad = cr.ones(2)
    opt.step()
    assert b.tolist() == [1.0, 1.0] and b._version == 0
    assert b not in opt.state and a in opt.state
    assert a.tolist() != [1.0, 1.0]


def test_step_makes_a_recorded_graph_stale():
    w = cr.ones(2, requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    y = (w * w).sum()
    w.grad = cr.ones(2)
    opt.step()
    with pytest.raises(RuntimeError, match="modified in place"):
        y.backward()


def test_step_runs_under_no_grad_and_closure_with_grad():
    w = cr.tensor([2.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.5)

    def closure():
        assert cr.is_grad_enabled()
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    with cr.no_grad():
        loss = opt.step(closure)
    assert loss.item() == 4.0
    assert w.item() == 0.0  # 2 − 0.5 · 4
    assert w.grad is not None and w.is_leaf


def test_zero_grad():
    w = cr.ones(3, requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    g = cr.ones(3)
    w.grad = g
    opt.zero_grad(set_to_none=False)
    assert w.grad.tolist() == [0.0, 0.0, 0.0] and g.tolist() == [1.0, 1.0, 1.0]
    opt.zero_grad()
    assert w.grad is None


def test_param_groups_have_their_own_hyper_parameters():
    a, b = cr.ones(1, requires_grad=True), cr.ones(1, requires_grad=True)
    opt = optim.SGD([{"params": [a]}, {"params": b, "lr": 0.5}], lr=0.1, momentum=0.9)
    assert opt.param_groups[1]["params"] == [b] or opt.param_groups[1]["params"][0] is b
    a.grad, b.grad = cr.ones(1), cr.ones(1)
    opt.step()
    assert a.item() == pytest.approx(0.9) and b.item() == pytest.approx(0.5)
    assert opt.param_groups[0]["momentum"] == 0.9


def test_state_is_keyed_by_identity_not_equality():
    a, b = cr.zeros(2, requires_grad=True), cr.zeros(2, requires_grad=True)  # a == b elementwise
    opt = optim.SGD([a, b], lr=0.1, momentum=0.9)
    a.grad, b.grad = cr.ones(2), cr.full((2,), 2.0)
    opt.step()
    assert opt.state[a]["momentum_buffer"].tolist() == [1.0, 1.0]
    assert opt.state[b]["momentum_buffer"].tolist() == [2.0, 2.0]
    assert len(opt.state) == 2 and {id(p) for p in opt.state} == {id(a), id(b)}


@pytest.mark.parametrize("cls,kwargs", ALL, ids=IDS)
def test_state_dict_round_trip_continues_identically(cls, kwargs):
    rng = np.random.default_rng(0)
    grads = [rng.standard_normal((3, 2)).astype(np.float32) for _ in range(6)]
    w0 = rng.standard_normal((3, 2)).astype(np.float32)

    def run(w, opt, gs):
        for g in gs:
            w.grad = cr.tensor(g)
            opt.step()

    w = cr.tensor(w0, requires_grad=True)
    b = cr.zeros(2, requires_grad=True)
    opt = cls([{"params": [w]}, {"params": [b], "lr": 0.05}], **kwargs)
    run(w, opt, grads[:3])
    sd = opt.state_dict()
    saved_w = w.numpy().copy()
    run(w, opt, grads[3:])

    # The layout: integer indices, arrays, groups without tensors.
    assert set(sd) == {"state", "param_groups"}
    plain_sgd = cls is optim.SGD and not kwargs.get("momentum")
    assert list(sd["state"]) == ([] if plain_sgd else [0])  # b never had a gradient
    assert [g["params"] for g in sd["param_groups"]] == [[0], [1]]
    for name, value in sd["state"].get(0, {}).items():
        assert isinstance(value, np.ndarray), name
    # state_dict() copies: stepping on did not change what was saved
    w2 = cr.tensor(saved_w, requires_grad=True)
    b2 = cr.zeros(2, requires_grad=True)
    opt2 = cls([{"params": [w2]}, {"params": [b2], "lr": 0.05}], **kwargs)
    # as a checkpoint reader might give it back: string keys, lists, Tensors
    loaded = {
        "state": {str(i): {k: cr.tensor(v) if v.ndim else v for k, v in s.items()}
                  for i, s in sd["state"].items()},
        "param_groups": [{k: list(v) if isinstance(v, tuple) else v for k, v in g.items()}
                         for g in sd["param_groups"]],
    }
    opt2.load_state_dict(loaded)
    assert opt2.param_groups[1]["lr"] == 0.05
    run(w2, opt2, grads[3:])
    np.testing.assert_array_equal(w2.numpy(), w.numpy())


def test_load_state_dict_errors_name_the_problem():
    w = cr.zeros(3, requires_grad=True)
    opt = optim.SGD([w], lr=0.1, momentum=0.9)
    w.grad = cr.ones(3)
    opt.step()
    sd = opt.state_dict()
    other = optim.SGD([cr.zeros(4, requires_grad=True)], lr=0.1, momentum=0.9)
    with pytest.raises(ValueError, match=r"state\[0\]\['momentum_buffer'\] has shape \(3,\)"):
        other.load_state_dict(sd)
    two = optim.SGD([{"params": [cr.zeros(3, requires_grad=True)]},
                     {"params": [cr.zeros(3, requires_grad=True)]}], lr=0.1)
    with pytest.raises(ValueError, match="1 parameter groups"):
        two.load_state_dict(sd)


def test_bad_arguments():
    w = cr.zeros(2, requires_grad=True)
    with pytest.raises(TypeError, match="single Tensor"):
        optim.SGD(w, lr=0.1)
    with pytest.raises(ValueError, match="empty"):
        optim.SGD([], lr=0.1)
    with pytest.raises(ValueError, match="invalid lr"):
        optim.Adam([w], lr=-1)
    with pytest.raises(ValueError, match="beta2"):
        optim.Adam([w], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="Nesterov"):
        optim.SGD([w], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="not a leaf"):
        optim.SGD([w * 2], lr=0.1)
    with pytest.raises(ValueError, match="another parameter group"):
        optim.SGD([{"params": [w]}, {"params": [w]}], lr=0.1)
    with pytest.raises(TypeError, match="floating-point"):
        optim.SGD([cr.tensor([1, 2])], lr=0.1)


def test_gradient_of_the_wrong_shape():
    w = cr.zeros(2, 3, requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    w.grad = cr.zeros(3, 2)
    with pytest.raises(RuntimeError, match=r"shape \(2, 3\) but its gradient has shape \(3, 2\)"):
        opt.step()


def test_float64_parameters_stay_float64():
    w = cr.zeros(2, dtype="float64", requires_grad=True)
    opt = optim.Adam([w], lr=0.1)
    w.grad = cr.ones(2, dtype="float64")
    opt.step()
    assert w.dtype == cr.float64 and opt.state[w]["exp_avg"].dtype == np.float64


# -- schedulers ------------------------------------------------------------------
def _lrs(make, n=12, metrics=None):
    opt = optim.SGD([cr.zeros(1, requires_grad=True)], lr=1.0)
    sched = make(opt)
    out = []
    for epoch in range(n):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step(metrics[epoch]) if metrics else sched.step()
    return out


def test_step_and_exponential_lr():
    assert _lrs(lambda o: lr_scheduler.StepLR(o, 3, gamma=0.5), 7) == pytest.approx(
        [1, 1, 1, 0.5, 0.5, 0.5, 0.25])
    assert _lrs(lambda o: lr_scheduler.ExponentialLR(o, 0.9), 4) == pytest.approx(
        [1, 0.9, 0.81, 0.729])


def test_cosine_annealing_follows_the_closed_form():
    got = _lrs(lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=10, eta_min=0.1), 11)
    want = [0.1 + 0.9 * (1 + np.cos(np.pi * t / 10)) / 2 for t in range(11)]
    np.testing.assert_allclose(got, want, atol=1e-12)


def test_scheduler_state_dict_round_trip():
    opt = optim.SGD([cr.zeros(1, requires_grad=True)], lr=1.0)
    sched = lr_scheduler.CosineAnnealingLR(opt, T_max=8)
    for _ in range(3):
        opt.step()
        sched.step()
    sd, opt_sd = sched.state_dict(), opt.state_dict()
    opt2 = optim.SGD([cr.zeros(1, requires_grad=True)], lr=1.0)
    sched2 = lr_scheduler.CosineAnnealingLR(opt2, T_max=8)
    opt2.load_state_dict(opt_sd)
    sched2.load_state_dict(sd)
    for _ in range(4):
        opt.step(), sched.step(), opt2.step(), sched2.step()
        assert sched2.get_last_lr() == sched.get_last_lr()


def test_reduce_on_plateau():
    got = _lrs(lambda o: lr_scheduler.ReduceLROnPlateau(o, patience=1, factor=0.5,
                                                        min_lr=0.3),
               8, metrics=[5, 4, 4, 4, 4, 4, 4, 4])
    assert got == [1, 1, 1, 1, 0.5, 0.5, 0.3, 0.3]


def test_blas_axpy_fast_path_and_fallback_agree(monkeypatch):
    from chainrule.optim import _blas

    rng = np.random.default_rng(1)
    for dtype in (np.float32, np.float64):
        x = rng.standard_normal((7, 5)).astype(dtype)
        y = rng.standard_normal((7, 5)).astype(dtype)
        want = y + dtype(-0.3) * x
        done = _blas.axpy(-0.3, x, y)
        np.testing.assert_allclose(y, want if done else y, rtol=1e-6)
        assert not _blas.axpy(1.0, x[:, ::2], np.zeros((7, 3), dtype))  # strided: refused
        assert not _blas.axpy(1.0, x, np.zeros((7, 5), dtype, order="F"))  # C vs F: refused
        xf, yf = np.asfortranarray(x), np.asfortranarray(y)  # both Fortran: element-aligned
        want_f = yf + dtype(2.0) * xf
        if _blas.axpy(2.0, xf, yf):
            np.testing.assert_allclose(yf, want_f, rtol=1e-6)
        # empty: nothing to do, done whenever a BLAS was found for this dtype
        assert _blas.axpy(1.0, x[:0], np.zeros((0, 5), dtype)) == (np.dtype(dtype) in _blas._funcs)
        ro = x.copy()
        ro.flags.writeable = False  # a read-only gradient is read through its address
        y2 = np.zeros_like(x)
        if _blas.axpy(2.0, ro, y2):
            np.testing.assert_allclose(y2, 2 * x, rtol=1e-6)
    results = []
    for funcs in (None, {}):  # BLAS if found, then the forced ufunc fallback
        monkeypatch.setattr(_blas, "_funcs", funcs)
        w = cr.tensor(np.arange(6.0, dtype=np.float32).reshape(2, 3), requires_grad=True)
        opt = optim.SGD([w], lr=0.1)
        for _ in range(3):
            w.grad = cr.ones(2, 3)
            opt.step()
        results.append(w.numpy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-6)


@pytest.mark.parametrize("cls,kwargs", ALL, ids=IDS)
def test_fortran_ordered_parameters(cls, kwargs):
    """A weight kept as the transpose of a contiguous array updates like a C-ordered one."""
    rng = np.random.default_rng(3)
    w0 = rng.standard_normal((4, 3)).astype(np.float32)
    a = cr.tensor(w0, requires_grad=True)
    b = cr.tensor(w0, requires_grad=True)
    b.array = np.asfortranarray(b.array)
    oa, ob = cls([a], **kwargs), cls([b], **kwargs)
    for _ in range(3):
        g = rng.standard_normal((4, 3)).astype(np.float32)
        a.grad, b.grad = cr.tensor(g), cr.tensor(g)
        oa.step()
        ob.step()
    assert b.array.flags.f_contiguous
    np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=1e-6, atol=1e-7)
