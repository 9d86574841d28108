"""torch.amp (GradScaler's loss scaling, autocast's flags and warnings), torch._foreach_*
list ops and the compile / matmul-precision switches, with PyTorch as the oracle."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import chainrule as cr

torch = pytest.importorskip("torch")


def _scaled_run(lib, steps=7, inf_at=(2, 3)):
    w = lib.nn.Parameter(lib.tensor([1.0, -2.0, 0.5], dtype=lib.float64))
    b = lib.nn.Parameter(lib.tensor([0.25], dtype=lib.float64))
    opt = lib.optim.Adam([w, b], lr=0.05)
    scaler = lib.amp.GradScaler("cpu", init_scale=2.0 ** 8, growth_interval=2,
                                backoff_factor=0.25, growth_factor=4.0)
    trace = []
    for step in range(steps):
        opt.zero_grad()
        loss = ((w * b) ** 2).sum() + w.sum()
        if step in inf_at:
            loss = loss * float("inf")
        scaler.scale(loss).backward()
        scaled = w.grad.clone()
        scaler.unscale_(opt)
        unscaled = w.grad.clone()
        scaler.step(opt)
        scaler.update()
        trace.append((scaler.get_scale(), scaled.numpy(), unscaled.numpy(),
                      w.detach().numpy().copy(), b.detach().numpy().copy()))
    return trace, scaler.state_dict()


def test_grad_scaler_matches_torch_step_by_step():
    ours, our_state = _scaled_run(cr)
    theirs, their_state = _scaled_run(torch)
    for step, (a, b) in enumerate(zip(ours, theirs)):
        assert a[0] == b[0], f"scale after step {step}"
        for x, y in zip(a[1:], b[1:]):
            np.testing.assert_allclose(x, y, rtol=1e-13, err_msg=f"step {step}")
        if np.isfinite(a[1]).all():  # unscaling by a power of two is exact
            scale_used = ours[step - 1][0] if step else 2.0 ** 8
            np.testing.assert_array_equal(a[2] * scale_used, a[1])
    assert our_state == their_state


def test_scaling_by_a_power_of_two_changes_no_number():
    def run(lib, scaled):
        w = lib.nn.Parameter(lib.tensor([0.3, -0.7, 1.1]))
        opt = lib.optim.SGD([w], lr=0.1, momentum=0.9)
        scaler = lib.amp.GradScaler("cpu", enabled=scaled)
        for _ in range(4):
            opt.zero_grad()
            scaler.scale((w.sin() * w).sum()).backward()
            scaler.step(opt)
            scaler.update()
        return w.detach().numpy()

    np.testing.assert_array_equal(run(cr, True), run(cr, False))
    np.testing.assert_array_equal(run(cr, True), run(torch, True))


def test_disabled_scaler_passes_everything_through():
    loss = cr.tensor(2.0, requires_grad=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scaler = cr.cuda.amp.GradScaler()  # enabled, but no GPU: disabled with a warning
    if not cr.cuda.is_available():
        assert not scaler.is_enabled()
        assert any("CUDA is not available" in str(w.message) for w in caught)
    off = cr.amp.GradScaler("cpu", enabled=False)
    assert off.scale(loss) is loss
    assert off.get_scale() == 1.0 and off.state_dict() == {}
    w = cr.nn.Parameter(cr.ones(2))
    opt = cr.optim.SGD([w], lr=1.0)
    w.grad = cr.ones(2)
    off.unscale_(opt)
    off.step(opt)
    off.update()
    assert w.tolist() == [0.0, 0.0]


def test_scaler_misuse_is_refused_as_in_torch():
    w = cr.nn.Parameter(cr.ones(2))
    opt = cr.optim.SGD([w], lr=1.0)
    scaler = cr.amp.GradScaler("cpu")
    scaler.scale(w.sum()).backward()
    scaler.unscale_(opt)
    with pytest.raises(RuntimeError, match="unscale_\\(\\) has already been called"):
        scaler.unscale_(opt)
    scaler.step(opt)
    with pytest.raises(RuntimeError, match="step\\(\\) has already been called"):
        scaler.step(opt)
    with pytest.raises(RuntimeError, match="Closure use is not currently supported"):
        scaler.step(opt, closure=lambda: None)
    with pytest.raises(RuntimeError, match="No inf checks"):
        cr.amp.GradScaler("cpu").update()
    with pytest.raises(ValueError, match="growth_factor must be > 1.0"):
        cr.amp.GradScaler("cpu", growth_factor=0.5)
    with pytest.raises(TypeError, match="expected a tensor or a list/tuple"):
        scaler.scale("loss")
    restored = cr.amp.GradScaler("cpu")
    restored.load_state_dict({"scale": 8.0, "growth_factor": 2.0, "backoff_factor": 0.5,
                              "growth_interval": 3, "_growth_tracker": 1})
    assert restored.get_scale() == 8.0 and restored.get_growth_interval() == 3
    with pytest.raises(RuntimeError, match="empty"):
        restored.load_state_dict({})


def test_autocast_flags_nesting_and_the_float32_warning():
    assert not cr.is_autocast_enabled("cpu")
    with cr.autocast("cpu", enabled=False):
        assert not cr.is_autocast_enabled("cpu")
    region = cr.autocast(device_type="cpu", dtype=cr.bfloat16)
    cr.amp._warned.discard("cpu")  # the warning comes once per device and process
    with pytest.warns(UserWarning, match="no bfloat16 arithmetic.*float32"):
        region.__enter__()
    assert cr.is_autocast_enabled("cpu")
    with cr.amp.autocast("cpu", enabled=False):
        assert not cr.is_autocast_enabled("cpu")
    assert cr.is_autocast_enabled("cpu")
    y = cr.nn.Linear(2, 2)(cr.ones(1, 2))
    region.__exit__(None, None, None)
    assert not cr.is_autocast_enabled("cpu")
    assert y.dtype == cr.float32

    @cr.autocast("cpu", enabled=False)
    def flag():
        return cr.is_autocast_enabled("cpu")

    assert flag() is False
    if not cr.cuda.is_available():
        with pytest.warns(UserWarning, match="CUDA is not available. Disabling"):
            region = cr.autocast("cuda", dtype=cr.float16)
        with region:
            assert not cr.is_autocast_enabled("cuda")
    with pytest.raises(ValueError, match="device_type must be 'cpu' or 'cuda'"):
        cr.autocast("tpu")
    from chainrule.cuda.amp import autocast, custom_bwd, custom_fwd  # noqa: F401

    assert custom_fwd(lambda ctx, x: x)(None, 3) == 3


def _foreach_cases(lib):
    def ts(seed, shapes=((2, 3), (4,), ())):
        r = np.random.default_rng(seed)
        return [lib.tensor(r.uniform(0.5, 2.0, s)) for s in shapes]

    return [
        ("_foreach_add", lambda: (ts(0), 1.5), {}),
        ("_foreach_add", lambda: (ts(0), ts(1)), {"alpha": -0.5}),
        ("_foreach_sub", lambda: (ts(0), [0.5, 1.0, 2.0]), {}),
        ("_foreach_mul", lambda: (ts(0), ts(2)), {}),
        ("_foreach_mul", lambda: (ts(0), lib.tensor(3.0, dtype=lib.float64)), {}),
        ("_foreach_div", lambda: (ts(0), 4.0), {}),
        ("_foreach_maximum", lambda: (ts(0), ts(1)), {}),
        ("_foreach_minimum", lambda: (ts(0), 1.0), {}),
        ("_foreach_pow", lambda: (ts(0), 2.0), {}),
        ("_foreach_clamp_min", lambda: (ts(0), 1.0), {}),
        ("_foreach_sqrt", lambda: (ts(0),), {}),
        ("_foreach_exp", lambda: (ts(0),), {}),
        ("_foreach_neg", lambda: (ts(0),), {}),
        ("_foreach_reciprocal", lambda: (ts(0),), {}),
        ("_foreach_addcmul", lambda: (ts(0), ts(1), ts(2)), {"value": 0.5}),
        ("_foreach_addcdiv", lambda: (ts(0), ts(1), ts(2)), {"value": -2.0}),
        ("_foreach_addcdiv", lambda: (ts(0), ts(1), ts(2), [0.1, 0.2, 0.3]), {}),
        ("_foreach_lerp", lambda: (ts(0), ts(1), 0.25), {}),
        ("_foreach_lerp", lambda: (ts(0), ts(1), ts(2)), {}),
    ]


@pytest.mark.parametrize("inplace", [False, True])
@pytest.mark.parametrize("index", range(len(_foreach_cases(cr))))
def test_foreach_ops_match_torch(index, inplace):
    name, make, kwargs = _foreach_cases(cr)[index]
    _, make_torch, _ = _foreach_cases(torch)[index]
    ours_args, theirs_args = make(), make_torch()
    if inplace:
        getattr(cr, name + "_")(*ours_args, **kwargs)
        getattr(torch, name + "_")(*theirs_args, **kwargs)
        ours, theirs = ours_args[0], theirs_args[0]
    else:
        ours = getattr(cr, name)(*ours_args, **kwargs)
        theirs = getattr(torch, name)(*theirs_args, **kwargs)
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12)


def test_foreach_norm_zero_copy_and_errors():
    r = np.random.default_rng(3)
    arrays = [r.standard_normal((3, 2)), r.standard_normal(5)]
    ours = cr._foreach_norm([cr.tensor(a) for a in arrays], 3)
    theirs = torch._foreach_norm([torch.tensor(a) for a in arrays], 3)
    np.testing.assert_allclose([t.item() for t in ours], [t.item() for t in theirs])
    dst = [cr.zeros(2), cr.zeros(3)]
    cr._foreach_copy_(dst, [cr.ones(2), cr.full((3,), 2.0)])
    assert [t.tolist() for t in dst] == [[1.0, 1.0], [2.0, 2.0, 2.0]]
    cr._foreach_zero_(dst)
    assert [t.tolist() for t in dst] == [[0.0, 0.0], [0.0, 0.0, 0.0]]
    with pytest.raises(ValueError, match="_foreach_add_: the lists have 2 and 1 items"):
        cr._foreach_add_(dst, [cr.ones(2)])
    with pytest.raises(TypeError, match="_foreach_mul_: expected a list or tuple of tensors"):
        cr._foreach_mul_(cr.ones(2), 2.0)
    with pytest.raises(TypeError, match="alpha= is only taken by"):
        cr._foreach_mul(dst, 2.0, alpha=2)
    leaf = cr.nn.Parameter(cr.ones(2))
    with pytest.raises(RuntimeError):  # in-place on a leaf that requires grad, as PyTorch
        cr._foreach_mul_([leaf], 2.0)


def test_foreach_out_of_place_ops_are_differentiable():
    xs = [cr.tensor([0.5, 1.5], requires_grad=True), cr.tensor([2.0], requires_grad=True)]
    ys = cr._foreach_mul(cr._foreach_exp(xs), 3.0)
    (ys[0].sum() + ys[1].sum()).backward()
    np.testing.assert_allclose(xs[0].grad.numpy(), 3 * np.exp([0.5, 1.5]), rtol=1e-6)


def test_compile_and_matmul_precision_are_accepted():
    model = cr.nn.Linear(2, 2)
    assert cr.compile(model) is model
    assert cr.compile(mode="max-autotune")(model) is model

    @cr.compile
    def f(x):
        return x * 2

    assert f(cr.tensor(2.0)).item() == 4.0
    with pytest.raises(TypeError, match="compile: expected a module or a function"):
        cr.compile(3)
    cr.set_float32_matmul_precision("high")
    assert cr.get_float32_matmul_precision() == "high"
    cr.set_float32_matmul_precision("highest")
    with pytest.raises(ValueError, match="expected one of"):
        cr.set_float32_matmul_precision("low")
