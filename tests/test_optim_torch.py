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


@pytest.mark.parametrize("name,kwargs", SCHEDULERS,
                         ids=[f"{n}-{i}" for i, (n, _) in enumerate(SCHEDULERS)])
def test_schedulers_match_torch(name, kwargs):
    pc, pt = cr.zeros(1, requires_grad=True), torch.zeros(1, requires_grad=True)
    oc = optim.SGD([{"params": [pc]}, {"params": [cr.zeros(1, requires_grad=True)],
                                       "lr": 0.3}], lr=0.1)
    ot = torch.optim.SGD([{"params": [pt]}, {"params": [torch.zeros(1, requires_grad=True)],
                                             "lr": 0.3}], lr=0.1)
    sc = getattr(lr_scheduler, name)(oc, **kwargs)
    st = getattr(torch.optim.lr_scheduler, name)(ot, **kwargs)
    for epoch in range(25):  # past T_max: the cosine climbs back
        np.testing.assert_allclose(sc.get_last_lr(), st.get_last_lr(), rtol=1e-12,
                                   err_msg=f"{name} epoch {epoch}")
        oc.step()
        ot.step()
        sc.step()
        st.step()


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
