"""cr.optim against torch.optim: the same gradients must give the same parameters."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule import optim
from chainrule.optim import lr_scheduler

torch = pytest.importorskip("torch")

# (optimizer name, defaults, overrides for the second parameter group)
CONFIGS = [
    ("SGD", {"lr": 0.1}, {"lr": 0.02}),
    ("SGD", {"lr": 0.1, "momentum": 0.9}, {"momentum": 0.5, "dampening": 0.3}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.1}, {"lr": 0.2}),
    ("SGD", {"lr": 0.05, "momentum": 0.8, "weight_decay": 0.01, "maximize": True}, {}),
    # (torch reads initial_accumulator_value from the constructor only, not from groups)
    ("Adagrad", {"lr": 0.1, "initial_accumulator_value": 0.5}, {"lr": 0.3}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.05, "weight_decay": 0.1, "eps": 1e-6}, {}),
    ("RMSprop", {"lr": 0.01}, {"alpha": 0.9}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.9, "centered": True}, {"weight_decay": 0.1}),
    ("RMSprop", {"lr": 0.01, "centered": True, "eps": 1e-3}, {"momentum": 0.5}),
    ("Adam", {"lr": 0.01}, {"betas": (0.8, 0.99)}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True}, {"lr": 0.05}),
    ("Adam", {"lr": 0.01, "maximize": True, "eps": 1e-4}, {"amsgrad": True}),
    ("AdamW", {"lr": 0.01}, {"weight_decay": 0.5}),
    ("AdamW", {"lr": 0.01, "amsgrad": True, "betas": (0.5, 0.6)}, {"weight_decay": 0.0}),
    ("NAdam", {"lr": 0.01}, {"betas": (0.8, 0.99)}),
    ("NAdam", {"lr": 0.01, "weight_decay": 0.1, "momentum_decay": 0.01}, {"lr": 0.05}),
    ("NAdam", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True,
               "maximize": True}, {}),
    # RAdam's rectification starts at step 6 with the default β₂ and at step 2 with 0.9
    ("RAdam", {"lr": 0.01}, {"betas": (0.9, 0.9)}),
    ("RAdam", {"lr": 0.01, "weight_decay": 0.1, "betas": (0.8, 0.8)}, {"eps": 1e-3}),
    ("RAdam", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True,
               "maximize": True}, {"betas": (0.9, 0.9)}),
    ("Adamax", {"lr": 0.01}, {"betas": (0.8, 0.99)}),
    ("Adamax", {"lr": 0.01, "weight_decay": 0.1, "maximize": True, "eps": 1e-3}, {}),
    ("Adadelta", {}, {"rho": 0.5}),
    ("Adadelta", {"lr": 0.5, "weight_decay": 0.1, "eps": 1e-4, "maximize": True},
     {"lr": 2.0}),
    ("SGD", {"lr": 0.1, "foreach": False}, {}),
    ("Rprop", {"lr": 0.05}, {"etas": (0.3, 1.5)}),
    ("Rprop", {"lr": 0.05, "step_sizes": (0.01, 0.2), "maximize": True}, {"lr": 0.1}),
    ("Adafactor", {"lr": 0.05}, {"beta2_decay": -0.5}),
    ("Adafactor", {"lr": 0.05, "weight_decay": 0.1, "eps": (1e-4, 1e-2), "d": 1.5,
                   "maximize": True}, {"lr": 0.01}),
    ("ASGD", {"lr": 0.05}, {"lambd": 0.1}),
    ("ASGD", {"lr": 0.05, "t0": 3, "weight_decay": 0.1, "alpha": 0.5}, {"maximize": True}),
]
IDS = [f"{name}-{i}" for i, (name, _, _) in enumerate(CONFIGS)]
SHAPES = [(5, 4), (4,), (3, 2, 2), ()]  # group 0: first two; group 1: the rest
STEPS = 8


def _run_both(name, defaults, overrides, dtype):
    rng = np.random.default_rng(42)
    init = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    # gradients of varied size and sign; one parameter skips some steps (grad None)
    grads = [[rng.standard_normal(s).astype(dtype) * (1 + 3 * (t % 3)) for s in SHAPES]
             for t in range(STEPS)]
    ours = [cr.tensor(a, requires_grad=True) for a in init]
    theirs = [torch.tensor(a, requires_grad=True) for a in init]
    opt_c = getattr(optim, name)([{"params": ours[:2]}, {"params": ours[2:], **overrides}],
                                 **defaults)
    opt_t = getattr(torch.optim, name)(
        [{"params": theirs[:2]}, {"params": theirs[2:], **overrides}], **defaults)
    for t in range(STEPS):
        for k, (pc, pt) in enumerate(zip(ours, theirs)):
            if k == 1 and t % 3 == 1:  # no gradient this step: skipped by both
                pc.grad, pt.grad = None, None
            else:
                pc.grad, pt.grad = cr.tensor(grads[t][k]), torch.tensor(grads[t][k])
        opt_c.step()
        opt_t.step()
        yield t, ours, theirs, opt_c, opt_t


@pytest.mark.parametrize("name,defaults,overrides", CONFIGS, ids=IDS)
@pytest.mark.parametrize("dtype,rtol,atol", [(np.float64, 1e-11, 1e-13),
                                             (np.float32, 2e-5, 1e-6)])
def test_same_gradients_same_parameters(name, defaults, overrides, dtype, rtol, atol):
    for t, ours, theirs, _, _ in _run_both(name, defaults, overrides, dtype):
        for k, (pc, pt) in enumerate(zip(ours, theirs)):
            assert pc.dtype == dtype
            np.testing.assert_allclose(pc.numpy(), pt.detach().numpy(), rtol=rtol, atol=atol,
                                       err_msg=f"{name} step {t} parameter {k}")


@pytest.mark.parametrize("name,defaults,overrides", CONFIGS, ids=IDS)
def test_state_dict_layout_matches_torch(name, defaults, overrides):
    *_, (_, _, _, opt_c, opt_t) = _run_both(name, defaults, overrides, np.float64)
    sc, st = opt_c.state_dict(), opt_t.state_dict()
    assert sorted(sc["state"]) == sorted(st["state"])
    for i in st["state"]:
        assert set(sc["state"][i]) == set(st["state"][i]), i
        for key, value in st["state"][i].items():
            want = value.numpy() if torch.is_tensor(value) else np.asarray(value)
            np.testing.assert_allclose(sc["state"][i][key], want, rtol=1e-10, atol=1e-12,
                                       err_msg=f"state[{i}][{key!r}]")
    for gc, gt in zip(sc["param_groups"], st["param_groups"]):
        assert gc["params"] == gt["params"]
        for key, value in gc.items():
            if key in gt:
                assert value == gt[key], key


_A = np.random.default_rng(3).standard_normal((6, 4))
_B = np.random.default_rng(4).standard_normal(6)


def _objective(lib, x):
    """A smooth, well-conditioned loss (least squares plus a quartic), so that rounding
    differences are not amplified as a chaotic one (Rosenbrock at lr=1) would."""
    r = lib.tensor(_A, dtype=x.dtype) @ x - lib.tensor(_B, dtype=x.dtype)
    return (r * r).sum() + 0.1 * (x ** 4).sum()


LBFGS_CONFIGS = [
    {},
    {"line_search_fn": "strong_wolfe"},
    {"lr": 0.5, "max_iter": 7, "history_size": 3},
    {"lr": 0.8, "max_iter": 5, "history_size": 2, "line_search_fn": "strong_wolfe"},
]


@pytest.mark.parametrize("kwargs", LBFGS_CONFIGS, ids=[str(k) for k in LBFGS_CONFIGS])
# (float32: the losses themselves differ in the 7th digit, and ill-conditioned directions
# of a short history amplify that over the path)
@pytest.mark.parametrize("dtype,rtol", [(np.float64, 1e-9), (np.float32, 2e-3)])
def test_lbfgs_matches_torch(kwargs, dtype, rtol):
    """Whole L-BFGS steps (many closure calls each): the same path of parameters, losses
    and evaluation counts."""
    start = np.array([-1.2, 1.0, 0.5, -0.3], dtype=dtype)
    xc = cr.tensor(start, requires_grad=True)
    xt = torch.tensor(start, requires_grad=True)
    oc, ot = optim.LBFGS([xc], **kwargs), torch.optim.LBFGS([xt], **kwargs)

    def closure_for(opt, x, lib):
        def closure():
            opt.zero_grad()
            loss = _objective(lib, x)
            loss.backward()
            return loss
        return closure

    for step in range(4):
        lc = oc.step(closure_for(oc, xc, cr))
        lt = ot.step(closure_for(ot, xt, torch))
        assert float(lc) == pytest.approx(lt.item(), rel=rtol), step
        np.testing.assert_allclose(xc.numpy(), xt.detach().numpy(), rtol=rtol, atol=rtol,
                                   err_msg=f"step {step}")
        if dtype == np.float64:  # (float32 stops by tolerances that rounding decides)
            assert oc.state[xc]["func_evals"] == ot.state[xt]["func_evals"]
            assert oc.state[xc]["n_iter"] == ot.state[xt]["n_iter"]
    assert float(_objective(cr, xc)) < 0.9 * float(_objective(cr, cr.tensor(start)))


def test_lbfgs_state_dict_round_trip():
    """A restored L-BFGS continues exactly as the original (history lists included)."""
    def run(opt, x, steps):
        for _ in range(steps):
            def closure():
                opt.zero_grad()
                loss = _objective(cr, x)
                loss.backward()
                return loss
            opt.step(closure)

    start = np.array([-1.2, 1.0, 0.5, -0.3])
    a = cr.tensor(start, requires_grad=True)
    oa = optim.LBFGS([a], max_iter=3, history_size=4)
    run(oa, a, 2)
    b = cr.tensor(a.numpy().copy(), requires_grad=True)
    ob = optim.LBFGS([b], max_iter=3, history_size=4)
    ob.load_state_dict(oa.state_dict())
    run(oa, a, 2)
    run(ob, b, 2)
    np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_lbfgs_needs_a_closure_and_one_group():
    x = cr.zeros(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="closure is required"):
        optim.LBFGS([x]).step()
    with pytest.raises(ValueError, match="one group only"):
        optim.LBFGS([{"params": [x]}, {"params": [cr.zeros(1, requires_grad=True)]}])
    with pytest.raises(ValueError, match="strong_wolfe"):
        optim.LBFGS([x], line_search_fn="backtracking")


def test_pytorch_only_options():
    p = cr.zeros(2, requires_grad=True)
    optim.Adam([p], fused=True, foreach=None, capturable=False)  # accepted: same numbers
    with pytest.raises(NotImplementedError, match="differentiable=True"):
        optim.SGD([p], lr=0.1, differentiable=True)
    with pytest.raises(TypeError, match="unexpected keyword argument 'moment'"):
        optim.SGD([p], lr=0.1, moment=0.9)


def test_sgd_positional_arguments_in_torch_order():
    p = cr.zeros(2, requires_grad=True)
    opt = optim.SGD([p], 0.1, 0.9, 0.0, 1e-4)  # lr, momentum, dampening, weight_decay
    assert opt.param_groups[0]["weight_decay"] == 1e-4
    assert opt.param_groups[0]["nesterov"] is False


def test_named_parameters_as_params():
    model = cr.nn.Linear(3, 2)
    opt = optim.SGD(model.named_parameters(), lr=0.1)
    assert opt.param_groups[0]["param_names"] == ["weight", "bias"]
    assert opt.param_groups[0]["params"][0] is model.weight


def test_step_bumps_each_updated_parameter_version_once():
    a, b = cr.ones(2, requires_grad=True), cr.ones(2, requires_grad=True)
    for name in ("SGD", "Adam", "NAdam", "Adadelta"):
        opt = getattr(optim, name)([a, b], lr=0.1)
        a.grad, b.grad = cr.ones(2), None
        va, vb = a._version, b._version
        opt.step()
        assert a._version > va and b._version == vb, name


def test_real_loss_through_both_autograds():
    """A small regression, gradients from each library's own backward."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((16, 3))
    y = rng.standard_normal((16, 1))
    w0, b0 = rng.standard_normal((3, 1)), np.zeros(1)
    wc, bc = cr.tensor(w0, requires_grad=True), cr.tensor(b0, requires_grad=True)
    wt, bt = torch.tensor(w0, requires_grad=True), torch.tensor(b0, requires_grad=True)
    oc = optim.Adam([wc, bc], lr=0.05, weight_decay=0.01)
    ot = torch.optim.Adam([wt, bt], lr=0.05, weight_decay=0.01)
    xc, yc, xt, yt = cr.tensor(x), cr.tensor(y), torch.tensor(x), torch.tensor(y)
    for _ in range(20):
        oc.zero_grad()
        ot.zero_grad()
        (((xc @ wc + bc) - yc) ** 2).mean().backward()
        (((xt @ wt + bt) - yt) ** 2).mean().backward()
        oc.step()
        ot.step()
    np.testing.assert_allclose(wc.numpy(), wt.detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(bc.numpy(), bt.detach().numpy(), rtol=1e-10, atol=1e-12)


# -- schedulers -------------------------------------------------------------------
SCHEDULERS = [
    ("StepLR", {"step_size": 3, "gamma": 0.5}),
    ("ExponentialLR", {"gamma": 0.9}),
    ("CosineAnnealingLR", {"T_max": 5}),
    ("CosineAnnealingLR", {"T_max": 7, "eta_min": 0.01}),
    ("LambdaLR", {"lr_lambda": lambda epoch: 0.95 ** epoch / (1 + epoch % 4)}),
]


def _build(lib, factory, optimizer="SGD", **opt_kwargs):
    """An optimizer over two groups (lr 0.1 and 0.3) and the schedule ``factory``
    builds from the library's lr_scheduler module and that optimizer."""
    groups = [{"params": [lib.zeros(1, requires_grad=True)]},
              {"params": [lib.zeros(1, requires_grad=True)], "lr": 0.3}]
    opt = getattr(lib.optim, optimizer)(groups, lr=0.1, **opt_kwargs)
    return opt, factory(lib.optim.lr_scheduler, opt)


SCHEDULE_FACTORIES = {
    **{f"{n}-{i}": (lambda S, o, n=n, k=k: getattr(S, n)(o, **k))
       for i, (n, k) in enumerate(SCHEDULERS)},
    "MultiStepLR": lambda S, o: S.MultiStepLR(o, milestones=[3, 7, 7, 12], gamma=0.5),
    "MultiplicativeLR": lambda S, o: S.MultiplicativeLR(o, lambda e: 0.9 + 0.01 * (e % 3)),
    "ConstantLR": lambda S, o: S.ConstantLR(o, factor=0.25, total_iters=4),
    "LinearLR-warmup": lambda S, o: S.LinearLR(o, start_factor=0.1, total_iters=6),
    "LinearLR-decay": lambda S, o: S.LinearLR(o, start_factor=1.0, end_factor=0.2,
                                              total_iters=9),
    "PolynomialLR": lambda S, o: S.PolynomialLR(o, total_iters=10, power=2.0),
    "PolynomialLR-linear": lambda S, o: S.PolynomialLR(o, total_iters=7),
    "WarmRestarts": lambda S, o: S.CosineAnnealingWarmRestarts(o, T_0=4),
    "WarmRestarts-mult": lambda S, o: S.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2,
                                                                     eta_min=0.01),
    "OneCycleLR": lambda S, o: S.OneCycleLR(o, max_lr=1.0, total_steps=30),
    "OneCycleLR-linear-3phase": lambda S, o: S.OneCycleLR(
        o, max_lr=[1.0, 2.0], epochs=5, steps_per_epoch=6, pct_start=0.4,
        anneal_strategy="linear", three_phase=True, div_factor=10.0),
    "CyclicLR": lambda S, o: S.CyclicLR(o, base_lr=0.01, max_lr=[0.1, 0.2], step_size_up=4,
                                        step_size_down=3),
    "CyclicLR-triangular2": lambda S, o: S.CyclicLR(o, base_lr=0.01, max_lr=0.1,
                                                    step_size_up=3, mode="triangular2"),
    "CyclicLR-exp_range": lambda S, o: S.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=2,
                                                  mode="exp_range", gamma=0.9,
                                                  base_momentum=0.7, max_momentum=0.95),
    "CyclicLR-scale_fn": lambda S, o: S.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=2,
                                                 scale_fn=lambda x: 1 / (1 + x),
                                                 scale_mode="iterations",
                                                 cycle_momentum=False),
    "SequentialLR": lambda S, o: S.SequentialLR(
        o, [S.LinearLR(o, start_factor=0.2, total_iters=4),
            S.CosineAnnealingLR(o, T_max=10, eta_min=0.001),
            S.ExponentialLR(o, gamma=0.8)], milestones=[5, 12]),
    "SequentialLR-steps": lambda S, o: S.SequentialLR(
        o, [S.ConstantLR(o, factor=0.5, total_iters=3),
            S.MultiStepLR(o, milestones=[2, 4], gamma=0.5)], milestones=[6]),
    "ChainedScheduler": lambda S, o: S.ChainedScheduler(
        [S.ConstantLR(o, factor=0.5, total_iters=5), S.ExponentialLR(o, gamma=0.9)]),
}


@pytest.mark.parametrize("name", list(SCHEDULE_FACTORIES))
@pytest.mark.parametrize("optimizer,opt_kwargs", [("SGD", {"momentum": 0.9}), ("Adam", {})])
def test_schedulers_match_torch(name, optimizer, opt_kwargs):
    """The same lr for every group at every epoch (and the same momentum or β₁, which
    OneCycleLR cycles)."""
    factory = SCHEDULE_FACTORIES[name]
    oc, sc = _build(cr, factory, optimizer, **opt_kwargs)
    ot, st = _build(torch, factory, optimizer, **opt_kwargs)
    for epoch in range(30):  # past T_max: the cosine climbs back
        np.testing.assert_allclose(sc.get_last_lr(), st.get_last_lr(), rtol=1e-12,
                                   err_msg=f"{name} epoch {epoch}")
        for gc, gt in zip(oc.param_groups, ot.param_groups):
            assert gc["lr"] == pytest.approx(gt["lr"], rel=1e-12)
            for key in ("momentum", "betas"):
                if key in gt:
                    assert gc[key] == pytest.approx(gt[key], rel=1e-12), (key, epoch)
        oc.step()
        ot.step()
        sc.step()
        st.step()


@pytest.mark.parametrize("name", ["StepLR-0", "ExponentialLR-1", "CosineAnnealingLR-3",
                                  "MultiStepLR", "ConstantLR", "LinearLR-warmup",
                                  "PolynomialLR", "WarmRestarts-mult"])
def test_scheduler_step_to_an_epoch_matches_torch(name):
    """``step(epoch)`` (deprecated in PyTorch but found in older programs) jumps through
    the closed form."""
    factory = SCHEDULE_FACTORIES[name]
    _, sc = _build(cr, factory)
    _, st = _build(torch, factory)
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for epoch in (3, 4, 9, 2, 15, 8.5 if name.startswith("Warm") else 8):
            sc.step(epoch)
            st.step(epoch)
            np.testing.assert_allclose(sc.get_last_lr(), st.get_last_lr(), rtol=1e-12,
                                       err_msg=f"{name} epoch {epoch}")


def test_scheduler_errors():
    opt = optim.SGD([cr.zeros(1, requires_grad=True)], lr=0.1)
    with pytest.raises(ValueError, match="milestones"):
        lr_scheduler.SequentialLR(opt, [lr_scheduler.ConstantLR(opt)], milestones=[3])
    with pytest.raises(ValueError, match="momentum"):
        lr_scheduler.OneCycleLR(optim.Adagrad([cr.zeros(1, requires_grad=True)]),
                                max_lr=1.0, total_steps=5)
    sched = lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=2)
    opt.step()
    sched.step()
    opt.step()
    sched.step()
    with pytest.raises(ValueError, match="total_steps is 2"):
        sched.step()
    with pytest.raises(TypeError, match="lr_lambda must be a function"):
        lr_scheduler.LambdaLR(opt, 0.5)


def test_every_scheduler_is_an_lr_scheduler_as_in_torch():
    opt = optim.SGD([cr.zeros(1, requires_grad=True)], lr=0.1, momentum=0.9)
    for name in lr_scheduler.__all__:
        cls = getattr(lr_scheduler, name)
        assert issubclass(cls, lr_scheduler.LRScheduler), name
        assert hasattr(torch.optim.lr_scheduler, name), name
    assert isinstance(lr_scheduler.ReduceLROnPlateau(opt), lr_scheduler.LRScheduler)


def test_reduce_on_plateau_matches_torch():
    metrics = [1.0, 0.9, 0.95, 0.91, 0.9, 0.92, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0, 0.4]
    kwargs = {"patience": 2, "factor": 0.5, "cooldown": 1, "threshold": 0.01,
              "min_lr": 0.02}
    oc = optim.SGD([cr.zeros(1, requires_grad=True)], lr=0.1)
    ot = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    sc = lr_scheduler.ReduceLROnPlateau(oc, **kwargs)
    st = torch.optim.lr_scheduler.ReduceLROnPlateau(ot, **kwargs)
    for m in metrics:
        sc.step(m)
        st.step(m)
        assert sc.get_last_lr() == pytest.approx(st.get_last_lr(), rel=1e-12)


def test_missing_pytorch_optimizers_name_the_nearest_one():
    with pytest.raises(AttributeError, match="SparseAdam: sparse gradients are not "
                                             "supported; use Adam"):
        optim.SparseAdam  # noqa: B018
    for name in dir(torch.optim):
        if not name.startswith("_") and name[0].isupper():
            try:
                getattr(optim, name)
            except AttributeError as e:
                assert "has no" in str(e) and ":" in str(e), name  # a reason, not a bare miss


# -- stochastic weight averaging ----------------------------------------------------------
@pytest.mark.parametrize("kind", ["swa", "ema", "ema-one", "avg_fn", "buffers"])
def test_averaged_model_matches_torch(kind):
    def build(lib):
        return lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.BatchNorm1d(4), lib.nn.Linear(4, 2))

    def kwargs(lib):
        swa = lib.optim.swa_utils
        return {"swa": {}, "ema": {"multi_avg_fn": swa.get_ema_multi_avg_fn(0.9)},
                "ema-one": {"avg_fn": swa.get_ema_avg_fn(0.8)},
                "avg_fn": {"avg_fn": swa.get_swa_avg_fn()},
                "buffers": {"use_buffers": True}}[kind]

    rng = np.random.default_rng(0)
    mc, mt = build(cr), build(torch)
    with torch.no_grad():
        for pc, pt in zip(mc.parameters(), mt.parameters()):
            pt.copy_(torch.tensor(pc.numpy()))
    ac = optim.swa_utils.AveragedModel(mc, **kwargs(cr))
    at = torch.optim.swa_utils.AveragedModel(mt, **kwargs(torch))
    oc, ot = optim.SGD(mc.parameters(), lr=0.1), torch.optim.SGD(mt.parameters(), lr=0.1)
    for _ in range(5):
        x = rng.standard_normal((8, 3)).astype(np.float32)
        for model, opt, lib in ((mc, oc, cr), (mt, ot, torch)):
            opt.zero_grad()
            (model(lib.tensor(x)) ** 2).mean().backward()
            opt.step()
        ac.update_parameters(mc)
        at.update_parameters(mt)
    assert int(ac.n_averaged.item()) == int(at.n_averaged.item()) == 5
    for (name, vc), vt in zip(ac.state_dict().items(), at.state_dict().values()):
        np.testing.assert_allclose(vc.numpy(), vt.numpy(), rtol=2e-5, atol=1e-6, err_msg=name)
    x = rng.standard_normal((4, 3)).astype(np.float32)
    ac.eval()
    at.eval()
    np.testing.assert_allclose(ac(cr.tensor(x)).numpy(), at(torch.tensor(x)).detach().numpy(),
                               rtol=2e-5, atol=1e-6)


def test_update_bn_matches_torch():
    rng = np.random.default_rng(1)
    data = [rng.standard_normal((6, 3)).astype(np.float32) * 2 + 1 for _ in range(4)]
    mc = cr.nn.Sequential(cr.nn.Linear(3, 3), cr.nn.BatchNorm1d(3))
    mt = torch.nn.Sequential(torch.nn.Linear(3, 3), torch.nn.BatchNorm1d(3))
    with torch.no_grad():
        for pc, pt in zip(mc.parameters(), mt.parameters()):
            pt.copy_(torch.tensor(pc.numpy()))
    optim.swa_utils.update_bn([(cr.tensor(d), 0) for d in data], mc)
    torch.optim.swa_utils.update_bn([(torch.tensor(d), 0) for d in data], mt)
    for name in ("running_mean", "running_var"):
        np.testing.assert_allclose(getattr(mc[1], name).numpy(),
                                   getattr(mt[1], name).numpy(), rtol=1e-5, err_msg=name)
    assert mc[1].momentum == mt[1].momentum


@pytest.mark.parametrize("kwargs", [{"swa_lr": 0.05}, {"swa_lr": [0.05, 0.2], "anneal_epochs": 3,
                                                       "anneal_strategy": "linear"},
                                    {"swa_lr": 0.01, "anneal_epochs": 0}])
def test_swalr_matches_torch(kwargs):
    oc, sc = _build(cr, lambda S, o: optim.swa_utils.SWALR(o, **kwargs))
    ot, st = _build(torch, lambda S, o: torch.optim.swa_utils.SWALR(o, **kwargs))
    for epoch in range(15):
        np.testing.assert_allclose(sc.get_last_lr(), st.get_last_lr(), rtol=1e-12,
                                   err_msg=f"epoch {epoch}")
        oc.step()
        ot.step()
        sc.step()
        st.step()


@pytest.mark.parametrize("name,defaults,overrides", CONFIGS[::3],
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CONFIGS[::3])])
def test_continue_from_a_torch_optimizer_state_dict(name, defaults, overrides):
    """A state_dict written by torch.optim loads into the chainrule optimizer of the same
    name, which then takes the same steps torch does."""
    *_, (_, _, theirs, _, opt_t) = _run_both(name, defaults, overrides, np.float64)
    fresh = [cr.tensor(p.detach().numpy().copy(), requires_grad=True) for p in theirs]
    opt_c = getattr(optim, name)([{"params": fresh[:2]}, {"params": fresh[2:], **overrides}],
                                 **defaults)
    opt_c.load_state_dict(opt_t.state_dict())
    rng = np.random.default_rng(7)
    for step in range(4):
        for pc, pt in zip(fresh, theirs):
            g = rng.standard_normal(pc.shape)
            pc.grad, pt.grad = cr.tensor(g), torch.tensor(g)
        opt_c.step()
        opt_t.step()
        for k, (pc, pt) in enumerate(zip(fresh, theirs)):
            np.testing.assert_allclose(pc.numpy(), pt.detach().numpy(), rtol=1e-10, atol=1e-12,
                                       err_msg=f"{name} step {step} parameter {k}")
