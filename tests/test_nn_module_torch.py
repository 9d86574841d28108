"""nn.Module's PyTorch surface against torch.nn: printing, traversal, containers, dtype
and device moves, and forward / full backward hooks (same gradients as torch)."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn

torch = pytest.importorskip("torch")


def _model(lib):
    return lib.nn.Sequential(
        lib.nn.Flatten(),
        lib.nn.Linear(12, 8),
        lib.nn.ReLU(),
        lib.nn.Dropout(0.25),
        lib.nn.Linear(8, 6),
        lib.nn.Unflatten(1, (2, 3)),
        lib.nn.Softmax(dim=-1),
    )


class Block:
    """A module with a nested child, a ModuleDict, a ParameterList and a ParameterDict,
    built the same way in both libraries."""

    @staticmethod
    def build(lib):
        class Net(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.stem = lib.nn.Linear(3, 4)
                self.heads = lib.nn.ModuleDict({"a": lib.nn.Linear(4, 2),
                                                "b": lib.nn.Sequential(lib.nn.Linear(4, 4),
                                                                       lib.nn.Tanh())})
                self.scales = lib.nn.ParameterList(
                    [lib.nn.Parameter(lib.ones(2)), lib.nn.Parameter(lib.zeros(4))])
                self.extra = lib.nn.ParameterDict({"shift": lib.nn.Parameter(lib.zeros(2))})

            def forward(self, x):
                h = self.stem(x)
                return self.heads["a"](h) * self.scales[0] + self.extra["shift"], \
                    self.heads["b"](h) + self.scales[1]

        return Net()


def test_print_model_as_torch():
    assert repr(_model(cr)) == repr(_model(torch))
    assert str(Block.build(cr).heads) == str(Block.build(torch).heads)
    assert repr(nn.ReLU(inplace=True)) == repr(torch.nn.ReLU(inplace=True))
    assert repr(nn.Identity()) == repr(torch.nn.Identity())


def test_traversal_names_as_torch():
    ours, theirs = Block.build(cr), Block.build(torch)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    assert [n for n, _ in ours.named_children()] == [n for n, _ in theirs.named_children()]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [type(m).__name__ for m in ours.modules()] == \
        [type(m).__name__ for m in theirs.modules()]
    assert len(list(ours.children())) == 4


def test_containers_behave_as_dicts_and_lists():
    heads = nn.ModuleDict()
    heads["x"] = nn.Linear(2, 2)
    heads.update({"y": nn.ReLU()})
    assert list(heads.keys()) == ["x", "y"] and len(heads) == 2 and "y" in heads
    assert isinstance(heads.pop("y"), nn.ReLU) and list(heads) == ["x"]
    with pytest.raises(KeyError, match="has no module 'z'"):
        heads["z"]
    plist = nn.ParameterList([cr.ones(2)])  # a Tensor becomes a Parameter
    plist.append(nn.Parameter(cr.zeros(3)))
    assert isinstance(plist[0], nn.Parameter) and plist[-1].shape == (3,)
    assert [p.shape for p in plist] == [(2,), (3,)]
    with pytest.raises(IndexError, match="out of range for 2 parameters"):
        plist[2]
    pdict = nn.ParameterDict({"w": cr.ones(2)})
    assert isinstance(pdict["w"], nn.Parameter) and pdict.get("v") is None
    del pdict["w"]
    assert len(pdict) == 0 and list(pdict.parameters()) == []
    with pytest.raises(TypeError, match="expected a Parameter or a Tensor"):
        pdict["v"] = 3.0


def test_unflatten_identity_flatten_match_torch():
    x = np.arange(2 * 12, dtype=np.float32).reshape(2, 3, 4)
    for make in (lambda lib: lib.nn.Flatten(0, 1), lambda lib: lib.nn.Flatten(),
                 lambda lib: lib.nn.Unflatten(2, (2, -1)), lambda lib: lib.nn.Identity(3, k=1)):
        got = make(cr)(cr.tensor(x))
        want = make(torch)(torch.tensor(x))
        np.testing.assert_array_equal(got.numpy(), want.numpy())
    with pytest.raises(ValueError, match=r"cannot split dimension 1 of size 3"):
        nn.Unflatten(1, (2, 2))(cr.tensor(x))


def test_to_dtype_device_tensor_and_half():
    m = Block.build(cr)
    m.stem.weight.grad = cr.ones(4, 3)
    assert m.to(cr.float64) is m
    assert all(p.dtype == np.float64 for p in m.parameters())
    assert m.stem.weight.grad.dtype == np.float64
    m.to(dtype=cr.float32, device="cpu")
    assert all(p.dtype == np.float32 for p in m.parameters())
    m.to(cr.zeros(1, dtype=cr.float64))
    assert m.stem.bias.dtype == np.float64
    m.half()
    assert m.stem.weight.dtype == np.float16
    m.float().cpu()
    assert m.stem.weight.dtype == np.float32
    v = m.stem.weight._version
    m.double()
    assert m.stem.weight._version > v  # a graph recorded before the move is stale
    with pytest.raises(TypeError, match="only floating dtypes"):
        m.to(cr.int64)
    with pytest.raises(ValueError, match="'mps' is not available"):
        m.to("mps")


def test_module_to_keeps_integer_buffers():
    m = nn.Module()
    m.register_buffer("count", cr.tensor([3]))
    m.register_buffer("mean", cr.zeros(2))
    m.double()
    assert m.count.dtype == np.int64 and m.mean.dtype == np.float64


def test_zero_grad_apply_requires_grad_as_torch():
    ours = Block.build(cr)
    for p in ours.parameters():
        p.grad = cr.ones(*p.shape)
    ours.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.numpy().any() for p in ours.parameters())
    ours.zero_grad()
    assert all(p.grad is None for p in ours.parameters())
    seen = []
    ours.apply(lambda m: seen.append(type(m).__name__))
    theirs = []
    Block.build(torch).apply(lambda m: theirs.append(type(m).__name__))
    assert seen == theirs
    ours.requires_grad_(False)
    assert not any(p.requires_grad for p in ours.parameters())


def test_linear_refuses_float64_input_as_torch():
    lin_c, lin_t = nn.Linear(3, 2), torch.nn.Linear(3, 2)
    with pytest.raises(RuntimeError):
        lin_t(torch.ones(2, 3, dtype=torch.float64))
    with pytest.raises(RuntimeError, match="input has dtype float64 but the weights"):
        lin_c(cr.ones(2, 3, dtype=cr.float64))


# -- hooks ------------------------------------------------------------------------------
class TwoInputs:
    @staticmethod
    def build(lib):
        class Mix(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.lin = lib.nn.Linear(3, 3)

            def forward(self, a, b, scale=1.0):
                return self.lin(a) * b * scale, (a * b).sum(1)

        return Mix()


def _hooked_run(lib, replace: bool):
    rng = np.random.default_rng(0)
    mix = TwoInputs.build(lib)
    w = rng.standard_normal((3, 3)).astype(np.float32)
    with (torch.no_grad() if lib is torch else cr.no_grad()):
        mix.lin.weight.copy_(lib.tensor(w))
        mix.lin.bias.copy_(lib.tensor(np.array([0.1, -0.2, 0.3], dtype=np.float32)))
    record = []

    def hook(module, grad_input, grad_output):
        record.append(("full", [None if g is None else g.numpy().copy() for g in grad_input],
                       [None if g is None else g.numpy().copy() for g in grad_output]))
        if replace:
            return tuple(None if g is None else g * 0.5 for g in grad_input)
        return None

    def pre(module, grad_output):
        record.append(("pre", [None if g is None else g.numpy().copy() for g in grad_output]))
        return (grad_output[0] * 2, grad_output[1]) if replace else None

    mix.register_full_backward_hook(hook)
    mix.register_full_backward_pre_hook(pre)
    a = lib.tensor(rng.standard_normal((4, 3)).astype(np.float32), requires_grad=True)
    b = lib.tensor(rng.standard_normal((4, 3)).astype(np.float32), requires_grad=True)
    out, total = mix(a, b, scale=2.0)
    ((out ** 2).sum() + (total * lib.tensor(np.arange(4.0, dtype=np.float32))).sum()).backward()
    return record, a.grad.numpy(), b.grad.numpy(), mix.lin.weight.grad.numpy()


@pytest.mark.parametrize("replace", [False, True])
def test_full_backward_hooks_match_torch(replace):
    ours = _hooked_run(cr, replace)
    theirs = _hooked_run(torch, replace)
    rec_c, rec_t = ours[0], theirs[0]
    assert [r[0] for r in rec_c] == [r[0] for r in rec_t] == ["pre", "full"]
    for rc, rt in zip(rec_c, rec_t):
        for part_c, part_t in zip(rc[1:], rt[1:]):
            for gc, gt in zip(part_c, part_t):
                np.testing.assert_allclose(gc, gt, rtol=1e-5, atol=1e-6)
    for gc, gt in zip(ours[1:], theirs[1:]):
        np.testing.assert_allclose(gc, gt, rtol=1e-5, atol=1e-6)


def test_backward_hook_when_no_input_requires_grad_and_removal():
    lin = nn.Linear(2, 2)
    calls = []
    handle = lin.register_full_backward_hook(
        lambda m, gin, gout: calls.append((gin, gout[0].shape)))
    lin(cr.ones(3, 2)).sum().backward()
    assert calls == [((None,), (3, 2))]  # as PyTorch: grad_input (None,), still called
    handle.remove()
    lin(cr.ones(3, 2)).sum().backward()
    assert len(calls) == 1


def test_forward_hooks_with_kwargs_and_prepend():
    order = []
    m = TwoInputs.build(cr)

    def pre(module, args, kwargs):
        order.append("pre")
        return args, {**kwargs, "scale": 0.0}

    m.register_forward_pre_hook(pre, with_kwargs=True)
    m.register_forward_hook(lambda mod, args, out: order.append("late"))
    m.register_forward_hook(lambda mod, args, kw, out: order.append(("early", kw["scale"])),
                            prepend=True, with_kwargs=True)
    out, _ = m(cr.ones(1, 3), cr.ones(1, 3), scale=5.0)
    assert order == ["pre", ("early", 0.0), "late"]
    assert not out.numpy().any()  # the pre-hook's kwargs were used


def test_backward_hook_errors_name_the_module():
    lin = nn.Linear(2, 2)
    lin.register_full_backward_hook(lambda m, gin, gout: (gin[0], gin[0]))
    x = cr.ones(1, 2, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"Linear 2→2: a backward hook returned 2 "
                                           r"value\(s\) for grad_input, which has 1"):
        lin(x).sum().backward()


def test_named_members_remove_duplicate_and_get_as_torch():
    def build(lib):
        shared = lib.nn.Linear(2, 2)
        return lib.nn.Sequential(shared, lib.nn.ReLU(), shared)

    ours, theirs = build(cr), build(torch)
    for dup in (True, False):
        assert [n for n, _ in ours.named_modules(remove_duplicate=dup)] == \
            [n for n, _ in theirs.named_modules(remove_duplicate=dup)]
        assert [n for n, _ in ours.named_parameters(remove_duplicate=dup)] == \
            [n for n, _ in theirs.named_parameters(remove_duplicate=dup)]
    assert [n for n, _ in ours.named_modules(prefix="net")] == \
        [n for n, _ in theirs.named_modules(prefix="net")]
    assert ours.get_parameter("0.bias") is ours[0].bias
    with pytest.raises(AttributeError, match="has no parameter 'scale'"):
        ours.get_parameter("0.scale")


def test_container_and_loss_prints_as_torch():
    def strip(text):  # dtype names: torch.float32 there, float32 here
        return text.replace("torch.float32", "float32").replace("torch.FloatTensor", "float32")

    for make in (lambda lib: lib.nn.ParameterList([lib.nn.Parameter(lib.ones(2, 3)),
                                                   lib.nn.Parameter(lib.ones(4))]),
                 lambda lib: lib.nn.ModuleDict({"a": lib.nn.Linear(2, 3)}),
                 lambda lib: lib.nn.Unflatten(1, (2, 3)),
                 lambda lib: lib.nn.TripletMarginLoss()):
        assert strip(repr(make(cr))) == strip(repr(make(torch)))


def test_module_method_signatures_as_torch():
    net = Block.build(cr)
    net.requires_grad_(requires_grad=False)
    assert not any(p.requires_grad for p in net.parameters())
    shared = nn.Sequential(nn.Linear(2, 2))
    twice = nn.Sequential(shared, shared)
    assert len(list(twice.modules())) == 3 and len(list(twice.modules(remove_duplicate=False))) == 5
    dest = {}
    assert net.state_dict(destination=dest, prefix="m.") is dest and "m.stem.weight" in dest
    assert list(net.state_dict(None, "p.")) == list(net.state_dict(prefix="p."))
    assert list(net.state_dict(prefix="p.")) == list(Block.build(torch).state_dict(prefix="p."))
    net.set_submodule("heads.b", nn.Identity())
    assert isinstance(net.get_submodule(target="heads.b"), nn.Identity)
    assert net.share_memory() is net
    lin = nn.Linear(2, 2)
    value = np.arange(4.0).reshape(2, 2)  # float64: assign keeps the checkpoint's array
    lin.load_state_dict({"weight": value, "bias": np.zeros(2)}, assign=True)
    assert lin.weight.dtype == np.float64


def test_optimizer_step_hooks_as_torch():
    def run(lib):
        p = lib.nn.Parameter(lib.ones(2))
        opt = lib.optim.SGD([p], lr=0.1)
        calls = []
        h1 = opt.register_step_pre_hook(lambda o, a, k: calls.append(("pre", len(a), dict(k))))
        opt.register_step_post_hook(lambda o, a, k: calls.append(("post", len(a), dict(k))))
        p.grad = lib.ones(2)
        opt.step()
        h1.remove()
        opt.step()
        return calls

    assert run(cr) == run(torch)


def test_lbfgs_step_hooks_see_the_closure():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    opt = cr.optim.LBFGS([x], max_iter=2)
    seen = []
    opt.register_step_post_hook(lambda o, a, k: seen.append((a[0] is o, a[1] is closure)))

    def closure():
        opt.zero_grad()
        loss = (x * x).sum()
        loss.backward()
        return loss

    opt.step(closure)
    assert seen == [(True, True)]


def _renaming_layer(lib):
    """A layer whose version 1 checkpoints named its weight 'W': its override of
    _load_from_state_dict renames old entries before calling super, as model zoos do."""

    class Renamed(lib.nn.Module):
        _version = 2

        def __init__(self):
            super().__init__()
            self.weight = lib.nn.Parameter(lib.zeros(2, 3))
            self.seen = []

        def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict,
                                  missing_keys, unexpected_keys, error_msgs):
            self.seen.append((prefix, local_metadata.get("version")))
            if local_metadata.get("version") is None and prefix + "W" in state_dict:
                state_dict[prefix + "weight"] = state_dict.pop(prefix + "W")
            super()._load_from_state_dict(state_dict, prefix, local_metadata, strict,
                                          missing_keys, unexpected_keys, error_msgs)

    return lib.nn.Sequential(lib.nn.Linear(3, 3), Renamed(), lib.nn.BatchNorm1d(2))


def test_state_dict_metadata_holds_each_module_version_as_torch():
    ours, theirs = _renaming_layer(cr).state_dict(), _renaming_layer(torch).state_dict()
    assert ours._metadata == theirs._metadata  # {'': 1, '0': 1, '1': 2, '2': 2} as versions
    assert dict(_renaming_layer(cr).state_dict(prefix="m.")._metadata) == \
        dict(_renaming_layer(torch).state_dict(prefix="m.")._metadata)


def test_load_from_state_dict_override_converts_an_old_checkpoint_as_torch():
    w = np.arange(6.0, dtype=np.float32).reshape(2, 3)
    results = {}
    for lib in (cr, torch):
        saved = _renaming_layer(lib).state_dict()
        old = {k.replace("1.weight", "1.W"): v for k, v in saved.items()}  # no _metadata
        old["1.W"] = lib.tensor(w)
        del old["2.num_batches_tracked"]  # BatchNorm's version 1 had none
        model = _renaming_layer(lib)
        report = model.load_state_dict(old)
        current = _renaming_layer(lib)
        current.load_state_dict(model.state_dict())  # with metadata: no renaming
        results[lib.__name__] = (model[1].weight.detach().numpy(), model[1].seen,
                                 current[1].seen, list(report.missing_keys),
                                 list(report.unexpected_keys))
    ours, theirs = results["chainrule"], results["torch"]
    np.testing.assert_array_equal(ours[0], w)
    np.testing.assert_array_equal(ours[0], theirs[0])
    assert ours[1:] == theirs[1:]


def test_failed_load_through_an_override_changes_nothing():
    model = _renaming_layer(cr)
    before = [p.detach().numpy().copy() for p in model.parameters()]
    bad = {k: v for k, v in model.state_dict().items()}
    bad["1.W"] = cr.ones(2, 3)
    del bad["1.weight"]
    bad["0.weight"] = cr.ones(5, 5)
    with pytest.raises(nn.StateDictError, match=r"size mismatch for '0.weight'"):
        model.load_state_dict(bad)
    for p, b in zip(model.parameters(), before):
        np.testing.assert_array_equal(p.detach().numpy(), b)


def test_base_load_from_state_dict_called_directly_copies_as_torch():
    for lib in (cr, torch):
        layer = lib.nn.Linear(2, 2)
        missing, unexpected, errors = [], [], []
        state = {"p.weight": lib.ones(2, 2), "p.extra": lib.ones(1)}
        layer._load_from_state_dict(state, "p.", {}, True, missing, unexpected, errors)
        assert missing == ["p.bias"] and unexpected == ["p.extra"] and errors == []
        np.testing.assert_array_equal(layer.weight.detach().numpy(), np.ones((2, 2)))
        layer._load_from_state_dict({"p.weight": lib.ones(3, 2), "p.bias": lib.ones(2)},
                                    "p.", {}, True, missing, unexpected, errors)
        assert len(errors) == 1 and "size mismatch for p.weight" in errors[0]


def test_nn_utils_submodules_import_as_torch_spells_them():
    from chainrule.nn.utils.clip_grad import clip_grad_norm_
    from chainrule.nn.utils.convert_parameters import parameters_to_vector
    from chainrule.nn.utils.fusion import fuse_conv_bn_eval

    assert clip_grad_norm_ is nn.utils.clip_grad_norm_
    assert parameters_to_vector is nn.utils.parameters_to_vector
    assert fuse_conv_bn_eval is nn.utils.fuse_conv_bn_eval
    for name in ("fusion", "clip_grad", "convert_parameters"):
        theirs = {n for n in dir(getattr(torch.nn.utils, name)) if not n.startswith("_")}
        assert set(getattr(nn.utils, name).__all__) <= theirs


def test_step_hooks_run_around_an_optimizers_own_step_as_torch():
    """A user's optimizer with its own step() runs the hooks as in PyTorch; a subclass
    whose step() calls super().step() runs them once (PyTorch runs them once or twice,
    depending on whether a plain SGD was made earlier in the process: it patches each
    class's step when the first optimizer of that class is made)."""
    def run(lib, classes=(0, 1)):
        class PlainSGD(lib.optim.Optimizer):
            def __init__(self, params, lr=0.1):
                super().__init__(params, {"lr": lr})

            def step(self, closure=None):
                with lib.no_grad():
                    for group in self.param_groups:
                        for p in group["params"]:
                            if p.grad is not None:
                                p -= group["lr"] * p.grad

        class LoggedSGD(lib.optim.SGD):
            def step(self, closure=None):
                return super().step(closure)

        seen = []
        for cls in [(PlainSGD, LoggedSGD)[i] for i in classes]:
            w = lib.ones(2, requires_grad=True)
            opt = cls([w], lr=0.1)
            opt.register_step_pre_hook(lambda o, a, k: seen.append(("pre", len(a))))
            opt.register_step_post_hook(lambda o, a, k: seen.append(("post", len(a))))
            (w * 2).sum().backward()
            opt.step()
            seen.append([round(float(v), 6) for v in w.detach().numpy()])
        return seen

    assert run(cr, (0,)) == run(torch, (0,))
    assert run(cr, (1,)) == [("pre", 1), ("post", 1), [0.8, 0.8]]
