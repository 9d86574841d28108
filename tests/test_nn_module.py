"""cr.nn.Module and Parameter: registration, naming, state_dict, hooks, paths, repr."""

import copy
import pickle

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.nn import module as module_mod


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 8))
        self.head = nn.Linear(8, 3)
        self.scale = nn.Parameter(np.ones(3))
        self.not_a_param = cr.ones(2)  # a plain tensor attribute is not registered

    def forward(self, x):
        return self.head(self.body(x)) * self.scale


# ---------------------------------------------------------------------------
# Parameter
# ---------------------------------------------------------------------------
def test_parameter_requires_grad_and_shares_tensor_data():
    t = cr.zeros(2, 3)
    p = nn.Parameter(t)
    assert isinstance(p, cr.Tensor) and p.requires_grad and p.is_leaf
    assert p.array is t.array  # as PyTorch: built from a Tensor, it shares the storage
    assert p.dtype == cr.float32
    assert repr(p).startswith("Parameter containing:")


def test_parameter_copies_arrays_and_rejects_integers():
    a = np.ones(3)
    p = nn.Parameter(a)
    p.array[0] = 5
    assert a[0] == 1
    frozen = nn.Parameter(np.ones(2), requires_grad=False)
    assert not frozen.requires_grad
    with pytest.raises(TypeError, match="floating"):
        nn.Parameter(np.arange(3))


# ---------------------------------------------------------------------------
# registration and traversal
# ---------------------------------------------------------------------------
def test_named_parameters_paths_and_order():
    net = Net()
    names = [n for n, _ in net.named_parameters()]
    assert names == ["scale", "body.0.weight", "body.0.bias", "body.2.weight", "body.2.bias",
                     "head.weight", "head.bias"]
    assert len(list(net.parameters())) == 7
    assert net.num_parameters() == 3 + (4 * 8 + 8) + (8 * 8 + 8) + (8 * 3 + 3)


def test_modules_children_named_modules():
    net = Net()
    assert [n for n, _ in net.named_modules()] == ["", "body", "body.0", "body.1", "body.2",
                                                    "head"]
    assert [type(m).__name__ for m in net.children()] == ["Sequential", "Linear"]
    assert len(list(net.modules())) == 6
    assert net.get_submodule("body.2") is net.body[2]
    with pytest.raises(AttributeError, match="no submodule 'x'"):
        net.get_submodule("body.x")


def test_shared_parameter_listed_once_but_saved_under_each_path():
    a = nn.Linear(3, 3)
    seq = nn.Sequential(a, nn.ReLU(), a)
    assert [n for n, _ in seq.named_parameters()] == ["0.weight", "0.bias"]
    # PyTorch's state_dict keys: every path, so a checkpoint loads into either layout
    assert list(seq.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    other = nn.Sequential(nn.Linear(3, 3), nn.ReLU(), nn.Linear(3, 3))
    other.load_state_dict(seq.state_dict())
    assert np.array_equal(other[2].weight.array, a.weight.array)
    seq.load_state_dict(other.state_dict())  # the shared array written once per path


def test_reassigning_and_deleting_attributes():
    net = Net()
    net.head = nn.Linear(8, 2)
    assert net.head.out_features == 2
    assert [n for n, _ in net.named_parameters()][-1] == "head.bias"
    net.head.bias = None  # a registered parameter slot may be emptied
    assert "head.bias" not in dict(net.named_parameters())
    with pytest.raises(TypeError, match="cannot assign Tensor as parameter 'weight'"):
        net.head.weight = cr.zeros(2, 8)
    del net.head
    assert "head.weight" not in dict(net.named_parameters())


def test_forgetting_super_init_is_a_clear_error():
    class Bad(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(np.ones(2))

    with pytest.raises(AttributeError, match=r"super\(\).__init__\(\)"):
        Bad()


def test_buffers_are_in_state_dict_but_not_parameters():
    m = nn.Linear(2, 2)
    m.register_buffer("running", cr.zeros(2))
    m.register_buffer("scratch", cr.zeros(2), persistent=False)
    assert "running" in m.state_dict() and "scratch" not in m.state_dict()
    assert [n for n, _ in m.named_parameters()] == ["weight", "bias"]
    assert [n for n, _ in m.named_buffers()] == ["running", "scratch"]


def test_zero_grad_sets_none_and_train_eval_recurse():
    net = Net()
    out = net(cr.randn(5, 4)).sum()
    out.backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    assert net.training and net.body[1].training
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())


def test_requires_grad_freezes_and_num_trainable():
    net = Net()
    net.body.requires_grad_(False)
    assert net.num_parameters(trainable_only=True) == 3 + 8 * 3 + 3
    out = net(cr.randn(2, 4)).sum()
    out.backward()
    assert net.body[0].weight.grad is None and net.head.weight.grad is not None


def test_apply_visits_children_first():
    net = Net()
    order = []
    net.apply(lambda m: order.append(type(m).__name__))
    assert order == ["Linear", "ReLU", "Linear", "Sequential", "Linear", "Net"]


def test_module_to_double_converts_parameters_in_place():
    net = Net()
    params = list(net.parameters())
    net.double()
    assert all(p.dtype == cr.float64 for p in net.parameters())
    assert all(a is b for a, b in zip(params, net.parameters()))  # the same objects
    assert net(cr.randn(2, 4).double()).dtype == cr.float64
    net.float()
    assert net.head.weight.dtype == cr.float32


# ---------------------------------------------------------------------------
# state_dict
# ---------------------------------------------------------------------------
def test_state_dict_round_trip_with_arrays_and_tensors():
    cr.manual_seed(0)
    a, b = Net(), Net()
    x = cr.randn(3, 4)
    assert not np.allclose(a(x).numpy(), b(x).numpy())
    state = {k: v.numpy().copy() for k, v in a.state_dict().items()}
    keys = b.load_state_dict(state)
    assert keys.missing_keys == [] and keys.unexpected_keys == []
    np.testing.assert_array_equal(a(x).numpy(), b(x).numpy())
    c = Net()
    c.load_state_dict(a.state_dict())  # Tensors work as well
    np.testing.assert_array_equal(a(x).numpy(), c(x).numpy())


def test_state_dict_values_are_detached_and_keys_named():
    m = nn.MLP([3, 4, 2])
    sd = m.state_dict()
    assert list(sd) == ["layers.0.weight", "layers.0.bias", "layers.2.weight", "layers.2.bias"]
    assert all(not v.requires_grad for v in sd.values())
    assert sd["layers.0.weight"].array is m.layers[0].weight.array


def test_load_state_dict_keeps_parameter_objects_and_dtype():
    m = nn.Linear(2, 3)
    w = m.weight
    version = w._version
    m.load_state_dict({"weight": np.arange(6, dtype=np.float64).reshape(3, 2),
                       "bias": [1, 2, 3]})
    assert m.weight is w and w.dtype == cr.float32
    assert w._version > version
    np.testing.assert_array_equal(m.bias.numpy(), [1, 2, 3])


def test_load_state_dict_errors_name_missing_unexpected_and_shape():
    m = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    before = m[0].weight.numpy().copy()
    state = {k: v.numpy() for k, v in m.state_dict().items()}
    del state["2.bias"]
    state["extra.weight"] = np.zeros(1)
    state["0.weight"] = np.zeros((3, 5))
    with pytest.raises(nn.StateDictError) as info:
        m.load_state_dict(state)
    msg = str(info.value)
    assert "missing key(s): '2.bias'" in msg
    assert "unexpected key(s): 'extra.weight'" in msg
    assert "size mismatch for '0.weight'" in msg and "(3, 5)" in msg and "(3, 2)" in msg
    np.testing.assert_array_equal(m[0].weight.numpy(), before)  # nothing was written


def test_load_state_dict_of_a_whole_checkpoint_says_where_the_model_is():
    m = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    checkpoint = {"epoch": 3, "model": m.state_dict(), "optimizer": {"state": {}}}
    with pytest.raises(nn.StateDictError, match=r"the model's entries are under 'model': "
                                                r"pass checkpoint\['model'\]"):
        m.load_state_dict(checkpoint)
    other = {"epoch": 3, "model": {"w": np.ones(1)}}  # no entry of this model: no hint
    with pytest.raises(nn.StateDictError) as info:
        m.load_state_dict(other)
    assert "entries are under" not in str(info.value)


def test_load_state_dict_non_strict_returns_keys_but_still_checks_shapes():
    m = nn.Linear(2, 2)
    res = m.load_state_dict({"weight": np.eye(2), "other": np.ones(1)}, strict=False)
    assert res.missing_keys == ["bias"] and res.unexpected_keys == ["other"]
    np.testing.assert_array_equal(m.weight.numpy(), np.eye(2))
    with pytest.raises(nn.StateDictError, match="size mismatch for 'weight'"):
        m.load_state_dict({"weight": np.eye(3)}, strict=False)


def test_deepcopy_and_pickle_give_independent_equal_modules():
    net = Net()
    x = cr.randn(2, 4)
    for clone in (copy.deepcopy(net), pickle.loads(pickle.dumps(net))):
        np.testing.assert_array_equal(clone(x).numpy(), net(x).numpy())
        assert clone.head.weight.array is not net.head.weight.array
        assert isinstance(clone.head.weight, nn.Parameter)
        assert [n for n, _ in clone.named_parameters()] == [n for n, _ in net.named_parameters()]


# ---------------------------------------------------------------------------
# repr
# ---------------------------------------------------------------------------
def test_summary_is_the_repr_tree_with_parameter_counts():
    text = nn.MLP([784, 256, 10]).summary()
    lines = text.split("\n")
    assert lines[0] == "MLP(  # 203,530 parameters"
    assert "  (layers): Sequential(  # 203,530 parameters" in lines
    assert ("    (0): Linear(in_features=784, out_features=256, bias=True)  "
            "# 200,960 parameters") in lines
    assert "    (1): ReLU()" in lines
    assert lines[-1] == ")"


# ---------------------------------------------------------------------------
# calling: forward, hooks, paths
# ---------------------------------------------------------------------------
def test_output_tagged_with_innermost_module_path():
    net = Net()
    x = cr.randn(2, 4)
    h = net.body(x)
    assert h._module == "body.2"  # the Sequential returns its last layer's output
    assert net.body[0](x)._module == "body.0"
    out = net(x)
    assert out._module == ""  # made by Net.forward itself (the multiply): the root
    seq = nn.Sequential(nn.Linear(2, 2), nn.Tanh())
    assert seq(cr.randn(1, 2))._module == "1"


def test_paths_follow_registration_in_a_new_parent():
    mlp = nn.MLP([3, 4, 2])
    assert mlp.layers[2]._path == "layers.2"

    class Wrapper(nn.Module):
        def __init__(self):
            super().__init__()
            self.backbone = mlp

        def forward(self, x):
            return self.backbone(x)

    Wrapper()
    assert mlp.layers[2]._path == "backbone.layers.2"
    assert mlp._path == "backbone"


def test_slicing_does_not_rename_modules():
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    tail = seq[1:]
    assert isinstance(tail, nn.Sequential) and len(tail) == 2
    assert [n for n, _ in tail.named_parameters()] == ["2.weight", "2.bias"]
    assert seq[2]._path == "2"


def test_forward_hook_sees_inputs_and_output_and_can_be_removed():
    lin = nn.Linear(3, 2)
    seen = []
    handle = lin.register_forward_hook(lambda m, inp, out: seen.append((m, inp, out)))
    x = cr.randn(4, 3)
    y = lin(x)
    assert len(seen) == 1 and seen[0][0] is lin and seen[0][1][0] is x and seen[0][2] is y
    handle.remove()
    lin(x)
    assert len(seen) == 1


def test_forward_hook_can_replace_output_and_pre_hook_inputs():
    lin = nn.Linear(3, 2)
    lin.register_forward_hook(lambda m, inp, out: out * 0)
    assert np.all(lin(cr.randn(2, 3)).numpy() == 0)
    ident = nn.Identity()
    ident.register_forward_pre_hook(lambda m, inp: (inp[0] + 1,))
    assert ident(cr.zeros(2)).tolist() == [1.0, 1.0]


def test_current_module_path_tracked_only_when_enabled():
    seen = []

    class Probe(nn.Module):
        def forward(self, x):
            seen.append(nn.current_module_path())
            return x

    net = nn.Sequential(nn.Linear(2, 2), Probe())
    net(cr.randn(1, 2))
    assert seen == [None]
    previous = nn.set_track_path(True)
    try:
        net(cr.randn(1, 2))
        assert seen[-1] == "1"
        assert nn.current_module_path() is None  # popped after the forward
        with pytest.raises(ValueError):
            net(cr.randn(1, 5))
        assert module_mod._mode.path_stack == []  # popped on errors too
    finally:
        nn.set_track_path(previous)
    assert module_mod._mode.track_path is False


def test_wrong_input_shape_names_module_path():
    net = nn.Sequential(nn.Linear(10, 64), nn.ReLU(), nn.Linear(64, 10))
    with pytest.raises(ValueError) as info:
        net[2](cr.randn(5, 32))
    assert str(info.value).startswith(
        "2 (Linear 64→10): expected input with last dimension 64, got 32")
    mlp = nn.MLP([784, 128, 10])
    with pytest.raises(ValueError, match=r"^layers\.0 \(Linear 784→128\): expected input "
                                         r"with last dimension 784, got 64"):
        mlp(cr.randn(2, 64))
    with pytest.raises(ValueError, match=r"^Linear 3→1: expected input"):
        nn.Linear(3, 1)(cr.randn(2, 2))  # a root module has no path


def test_forward_not_defined():
    with pytest.raises(NotImplementedError, match="must define forward"):
        nn.Module()(cr.ones(1))
