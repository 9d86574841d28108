"""The Tensor: construction, dtypes, creation functions, attributes, repr and mixed
arithmetic with Python and NumPy operands."""

import numpy as np
import pytest

import chainrule as cr


# ---------------------------------------------------------------------------
# construction and dtypes
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("data,shape", [
    (3.5, ()), ([1.0, 2.0], (2,)), ([[1, 2.5], [3, 4]], (2, 2)), ([[[1.0]]], (1, 1, 1)),
    (np.float32(2.0), ()), (np.float64(2.0), ()), (np.arange(6.0).reshape(2, 3), (2, 3)),
    ([], (0,)),
])
def test_tensor_from_data(data, shape):
    t = cr.tensor(data)
    assert isinstance(t, cr.Tensor)
    assert t.shape == shape
    np.testing.assert_array_equal(t.numpy(), np.asarray(data))
    assert t.is_leaf and not t.requires_grad and t.grad is None and t.op == ""


def test_default_dtype_is_float32_for_python_floats():
    assert cr.get_default_dtype() == np.float32
    assert cr.tensor(1.5).dtype == np.float32
    assert cr.tensor([1.0, 2.0]).dtype == np.float32
    assert cr.tensor([[1, 2.5]]).dtype == np.float32
    assert cr.tensor([np.float64(1.0), 2.0]).dtype == np.float32  # a list: default dtype


def test_numpy_float64_stays_float64():
    assert cr.tensor(np.zeros(3)).dtype == np.float64
    assert cr.tensor(np.float64(1.0)).dtype == np.float64
    assert cr.tensor(np.zeros(3, dtype=np.float32)).dtype == np.float32
    assert cr.tensor(np.zeros(3, dtype=np.float16)).dtype == np.float16


def test_integers_and_bools():
    assert cr.tensor(3).dtype.kind == "i"
    assert cr.tensor([1, 2, 3]).dtype == np.int64
    assert cr.tensor(np.array([1, 2], dtype=np.int32)).dtype == np.int32
    assert cr.tensor([True, False]).dtype == np.bool_
    assert cr.tensor(np.uint8(7)).dtype == np.uint8


@pytest.mark.parametrize("dtype", ["float64", np.float64, cr.float64, np.dtype("float64")],
                         ids=["str", "np_type", "cr", "np_dtype"])
def test_dtype_argument_forms(dtype):
    t = cr.tensor([1, 2], dtype=dtype)
    assert t.dtype == np.float64
    assert cr.zeros(2, dtype=dtype).dtype == np.float64
    assert cr.tensor([1.0], dtype=dtype, requires_grad=True).requires_grad


def test_dtype_conversion_on_construction():
    assert cr.tensor([1.7, 2.2], dtype="int64").tolist() == [1, 2]
    assert cr.tensor(np.ones(2), dtype=cr.float32).dtype == np.float32


def test_set_default_dtype():
    previous = cr.get_default_dtype()
    try:
        cr.set_default_dtype("float64")
        assert cr.get_default_dtype() == np.float64
        assert cr.tensor(1.0).dtype == np.float64
        assert cr.tensor([1.0, 2.0]).dtype == np.float64
        assert cr.zeros(2).dtype == np.float64
        assert cr.ones(2).dtype == np.float64
        assert cr.randn(2).dtype == np.float64
        assert cr.rand(2).dtype == np.float64
        assert cr.arange(0.0, 1.0, 0.5).dtype == np.float64
        cr.set_default_dtype(cr.float32)
        assert cr.tensor(1.0).dtype == np.float32
        with pytest.raises(TypeError, match="floating"):
            cr.set_default_dtype("int32")
        assert cr.get_default_dtype() == np.float32
    finally:
        cr.set_default_dtype(previous)


def test_tensor_copies_its_data():
    a = np.array([1.0, 2.0])
    t = cr.tensor(a)
    a[0] = 100.0
    assert t.tolist() == [1.0, 2.0]
    f = cr.from_numpy(a)  # shares, as torch.from_numpy
    a[1] = -1.0
    assert f.tolist() == [100.0, -1.0]


def test_tensor_from_tensor():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = cr.tensor(x)
    assert not y.requires_grad and y.is_leaf
    np.testing.assert_array_equal(y.numpy(), x.numpy())


@pytest.mark.parametrize("maker", [
    lambda: cr.tensor([1, 2], requires_grad=True),
    lambda: cr.tensor(3, requires_grad=True),
    lambda: cr.arange(3).requires_grad_(),
    lambda: cr.zeros(2, dtype="int32", requires_grad=True),
    lambda: cr.tensor([True], requires_grad=True),
], ids=["list", "scalar", "requires_grad_", "zeros", "bool"])
def test_integer_tensors_cannot_require_grad(maker):
    with pytest.raises(TypeError, match="floating"):
        maker()


def test_requires_grad_flag():
    x = cr.tensor([1.0])
    assert x.requires_grad_() is x and x.requires_grad
    x.requires_grad_(False)
    assert not x.requires_grad
    assert cr.tensor([1.0], requires_grad=True).requires_grad


# ---------------------------------------------------------------------------
# creation functions and the seeded generator
# ---------------------------------------------------------------------------
def test_zeros_ones_full():
    for z in (cr.zeros(2, 3), cr.zeros((2, 3)), cr.zeros([2, 3])):
        assert z.shape == (2, 3) and z.dtype == np.float32 and not z.numpy().any()
    o = cr.ones(4, dtype="float64", requires_grad=True)
    assert o.dtype == np.float64 and o.requires_grad and (o.numpy() == 1).all()
    f = cr.full((2, 2), 3.5)
    assert f.shape == (2, 2) and (f.numpy() == 3.5).all() and f.dtype == np.float32
    assert cr.full(3, 1.0).shape == (3,)
    assert cr.zeros(()).shape == () and cr.zeros().shape == ()
    assert cr.empty(2, 2).shape == (2, 2)
    with pytest.raises(ValueError):
        cr.zeros(-1)


def test_arange_eye_linspace():
    a = cr.arange(5)
    assert a.tolist() == [0, 1, 2, 3, 4] and a.dtype == np.int64
    assert cr.arange(2, 8, 2).tolist() == [2, 4, 6]
    b = cr.arange(0, 1, 0.25)
    assert b.dtype == np.float32
    np.testing.assert_allclose(b.numpy(), [0, 0.25, 0.5, 0.75])
    assert cr.arange(3, dtype="float64").dtype == np.float64
    np.testing.assert_array_equal(cr.eye(3).numpy(), np.eye(3))
    assert cr.eye(3).dtype == np.float32
    np.testing.assert_array_equal(cr.eye(2, 3).numpy(), np.eye(2, 3))
    np.testing.assert_allclose(cr.linspace(0, 1, 5).numpy(), np.linspace(0, 1, 5))


def test_like_functions():
    x = cr.tensor(np.ones((2, 3)))  # float64
    for t, value in ((cr.zeros_like(x), 0), (cr.ones_like(x), 1), (cr.full_like(x, 7), 7)):
        assert t.shape == (2, 3) and t.dtype == np.float64 and (t.numpy() == value).all()
        assert t.is_leaf and not t.requires_grad
    assert cr.zeros_like(x, dtype="float32").dtype == np.float32
    assert cr.ones_like(x, requires_grad=True).requires_grad
    assert cr.zeros_like(np.ones(3, dtype=np.int32)).dtype == np.int32


def test_rand_randn():
    r = cr.rand(1000)
    assert r.shape == (1000,) and r.dtype == np.float32
    assert (r.numpy() >= 0).all() and (r.numpy() < 1).all()
    n = cr.randn(2, 500, dtype="float64", requires_grad=True)
    assert n.shape == (2, 500) and n.dtype == np.float64 and n.requires_grad
    assert abs(n.numpy().mean()) < 0.2 and 0.8 < n.numpy().std() < 1.2
    assert cr.randn((3, 2)).shape == (3, 2)


def test_manual_seed_reproducibility():
    cr.manual_seed(42)
    a = (cr.randn(5).numpy(), cr.rand(3).numpy(), cr.randint(0, 10, (4,)).numpy(),
         cr.randperm(6).numpy())
    cr.manual_seed(42)
    b = (cr.randn(5).numpy(), cr.rand(3).numpy(), cr.randint(0, 10, (4,)).numpy(),
         cr.randperm(6).numpy())
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    cr.manual_seed(43)
    assert not np.array_equal(cr.randn(5).numpy(), a[0])


def test_rng_state_roundtrip():
    cr.manual_seed(1)
    state = cr.get_rng_state()
    a = cr.randn(4).numpy()
    cr.set_rng_state(state)
    np.testing.assert_array_equal(cr.randn(4).numpy(), a)


def test_generator_argument():
    g1, g2 = np.random.default_rng(5), np.random.default_rng(5)
    np.testing.assert_array_equal(cr.randn(3, generator=g1).numpy(),
                                  cr.randn(3, generator=g2).numpy())


# ---------------------------------------------------------------------------
# attributes and conversions
# ---------------------------------------------------------------------------
def test_attributes():
    x = cr.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    assert isinstance(x.array, np.ndarray)
    assert x.shape == (2, 3) and x.ndim == 2 and x.dim() == 2
    assert x.dtype == np.float32 and x.size() == (2, 3) and x.size(1) == 3 and x.numel() == 6
    with pytest.raises(TypeError, match="size is a method"):
        _ = x.size == 6  # NumPy's habit: never a silent False
    assert x.grad is None and x.requires_grad and x.is_leaf
    assert len(x) == 2
    assert x.tolist() == [[1, 2, 3], [4, 5, 6]]
    n = x.numpy()
    assert isinstance(n, np.ndarray) and n.shape == (2, 3)
    assert x.device == "cpu"


def test_item_and_python_conversions():
    t = cr.tensor([[2.5]])
    assert t.item() == 2.5 and isinstance(t.item(), float)
    assert float(cr.tensor(1.5)) == 1.5
    assert int(cr.tensor(3)) == 3
    assert isinstance(cr.tensor(3).item(), int)
    assert bool(cr.tensor(1.0)) and not bool(cr.tensor(0.0))
    assert f"{cr.tensor(3.14159):.2f}" == "3.14"
    assert [1, 2, 3][cr.tensor(1)] == 2  # __index__
    with pytest.raises(ValueError, match="one element"):
        cr.tensor([1.0, 2.0]).item()
    with pytest.raises(ValueError, match="ambiguous"):
        bool(cr.tensor([1.0, 2.0]))
    with pytest.raises(TypeError):
        len(cr.tensor(1.0))


def test_numpy_of_op_result_is_an_array_value():
    x = cr.tensor([1.0, 2.0])
    s = (x * x).sum()
    assert np.asarray(s.numpy()).shape == ()
    assert s.item() == 5.0
    assert s.tolist() == 5.0


def test_numpy_returns_ndarray_for_0d_results():
    s = cr.tensor([1.0, 2.0]).sum()
    assert isinstance(s.numpy(), np.ndarray) and s.numpy().shape == ()
    assert s.numpy().dtype == np.float32
    x = cr.tensor([1.0, 2.0])
    assert np.shares_memory(x.numpy(), x.array)  # no copy for arrays


def test_array_protocol():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    a = np.asarray(x)
    assert isinstance(a, np.ndarray) and a.dtype == np.float32
    np.testing.assert_array_equal(a, [1, 2])
    assert np.array(x, dtype=np.float64).dtype == np.float64
    np.testing.assert_array_equal(np.stack([x, x]), [[1, 2], [1, 2]])


def test_detach_shares_value_and_leaves_graph():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    d = y.detach()
    assert d.is_leaf and not d.requires_grad and d.grad is None
    assert np.shares_memory(d.array, y.array)


def test_op_and_parents():
    a = cr.tensor(1.0, requires_grad=True)
    b = cr.tensor(2.0, requires_grad=True)
    c = a * b
    assert c.op == "mul" and not c.is_leaf
    assert c.parents[0] is a and c.parents[1] is b
    assert (a + 1).op == "add" and a.exp().op == "exp"
    assert (a.reshape(1) @ cr.ones(1)).op == "matmul"


def test_astype_and_to():
    x = cr.tensor([1.5, 2.5])
    assert x.astype("float64").dtype == np.float64
    assert x.to(cr.float64).dtype == np.float64
    assert x.to("float64").dtype == np.float64
    assert x.double().dtype == np.float64 and x.double().float().dtype == np.float32
    assert x.long().tolist() == [1, 2]
    assert x.to("cpu") is x
    # as PyTorch: an integer result of a tensor that requires grad is off the graph
    ints = cr.tensor([1.7], requires_grad=True).astype("int64")
    assert ints.dtype == np.int64 and not ints.requires_grad and ints.item() == 1


# ---------------------------------------------------------------------------
# repr
# ---------------------------------------------------------------------------
def test_repr_shows_values_and_op():
    r = repr(cr.tensor([1.0, 2.5]))
    assert r.startswith("tensor(") and "1." in r and "2.5" in r
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    assert "requires_grad=True" in repr(x)
    assert "op=mul" in repr(x * 2)
    assert "op=tanh" in str(x.tanh())
    assert "dtype=float64" in repr(cr.tensor(np.ones(2)))
    assert "dtype=int64" in repr(cr.tensor([1, 2]))
    assert "name='w'" in repr(cr.tensor([1.0], name="w"))
    assert "..." in repr(cr.zeros(1000))  # summarised
    assert "3." in repr(cr.tensor(3.0))


# ---------------------------------------------------------------------------
# mixed arithmetic with Python and NumPy operands
# ---------------------------------------------------------------------------
MIXED = [
    ("2*x", lambda x: 2 * x, lambda v: 2 * np.ones_like(v)),
    ("x*2", lambda x: x * 2, lambda v: 2 * np.ones_like(v)),
    ("1-x", lambda x: 1 - x, lambda v: -np.ones_like(v)),
    ("x-1", lambda x: x - 1, lambda v: np.ones_like(v)),
    ("1+x", lambda x: 1 + x, lambda v: np.ones_like(v)),
    ("2/x", lambda x: 2 / x, lambda v: -2 / v ** 2),
    ("x/2", lambda x: x / 2, lambda v: np.full_like(v, 0.5)),
    ("2**x", lambda x: 2 ** x, lambda v: np.log(2) * 2 ** v),
    ("x**2", lambda x: x ** 2, lambda v: 2 * v),
    ("np.float64*x", lambda x: np.float64(0.5) * x, lambda v: np.full_like(v, 0.5)),
    ("x*np.float64", lambda x: x * np.float64(0.5), lambda v: np.full_like(v, 0.5)),
    ("np.float32-x", lambda x: np.float32(1.0) - x, lambda v: -np.ones_like(v)),
    ("np.float64/x", lambda x: np.float64(1.0) / x, lambda v: -1 / v ** 2),
    ("x*np.ones", lambda x: x * np.ones(3), lambda v: np.ones_like(v)),
    ("np.ones+x", lambda x: np.ones(3) + x, lambda v: np.ones_like(v)),
    ("np.arange*x", lambda x: np.arange(3.0) * x, lambda v: np.arange(3.0)),
    ("np.ones-x", lambda x: np.ones(3) - x, lambda v: -np.ones_like(v)),
    ("np.ones/x", lambda x: np.ones(3) / x, lambda v: -1 / v ** 2),
    ("np.ones@x", lambda x: np.ones((2, 3)) @ x, lambda v: 2 * np.ones_like(v)),
    ("x@np.ones", lambda x: x @ np.ones((3, 2)), lambda v: 2 * np.ones_like(v)),
    ("np.int*x", lambda x: np.int64(3) * x, lambda v: 3 * np.ones_like(v)),
    ("True*x", lambda x: True * x, lambda v: np.ones_like(v)),
    ("-x", lambda x: -x, lambda v: -np.ones_like(v)),
    ("np.max", lambda x: cr.maximum(np.zeros(3), x), lambda v: (v > 0).astype(float)),
]


@pytest.mark.parametrize("name,fn,dfdx", MIXED, ids=[m[0] for m in MIXED])
def test_mixed_arithmetic(name, fn, dfdx):
    v = np.array([0.5, 1.5, 2.0], dtype=np.float32)
    x = cr.tensor(v, requires_grad=True)
    y = fn(x)
    assert isinstance(y, cr.Tensor), type(y)
    assert y.requires_grad and not y.is_leaf
    assert y.dtype == np.float32, y.dtype
    y.sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad.numpy(), dfdx(v.astype(np.float64)), rtol=1e-5)


def test_mixed_arithmetic_float64_tensor_stays_float64():
    x = cr.tensor([1.0, 2.0], dtype="float64", requires_grad=True)
    for y in (2 * x, np.float32(2) * x, x * np.ones(2, dtype=np.float32), 1 - x):
        assert y.dtype == np.float64


def test_integer_tensor_arithmetic():
    i = cr.tensor([1, 2, 3])
    assert (i * 2).dtype == np.int64 and (i * 2).tolist() == [2, 4, 6]
    assert (i + i).tolist() == [2, 4, 6]
    assert (i * 0.5).dtype.kind == "f"
    np.testing.assert_allclose((i / 2).numpy(), [0.5, 1, 1.5])


def test_comparisons_return_bool_tensors_off_graph():
    x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    for m, expected in ((x > 1.5, [0, 1, 1]), (x <= 2, [1, 1, 0]), (x == 2.0, [0, 1, 0]),
                        (x != 2.0, [1, 0, 1]), (2.0 < x, [0, 0, 1]), (x >= x * 1, [1, 1, 1])):
        assert m.dtype == np.bool_ and not m.requires_grad
        assert m.tolist() == [bool(e) for e in expected]
    assert ((x > 1) & (x < 3)).tolist() == [False, True, False]
    assert (~(x > 1)).tolist() == [True, False, False]


def test_tensors_hash_by_identity():
    a, b = cr.tensor([1.0]), cr.tensor([1.0])
    d = {a: 1, b: 2}
    assert d[a] == 1 and d[b] == 2


def test_setitem_values():
    x = cr.zeros(3)
    x[1] = 2.0
    x[cr.tensor([0, 2])] = cr.tensor([5.0, 6.0])
    assert x.tolist() == [5, 2, 6]
    s = cr.tensor([1.0, 2.0]).sum()  # 0-d result: a NumPy scalar inside
    s[()] = 7.0
    assert s.item() == 7.0


FUNCTIONS = ["exp", "log", "sqrt", "abs", "tanh", "sigmoid", "sin", "cos", "relu", "leaky_relu",
             "maximum", "minimum", "clip", "clamp", "where", "sum", "mean", "max", "min",
             "logsumexp", "softmax", "log_softmax", "matmul", "dot", "outer", "transpose",
             "permute", "reshape", "flatten", "squeeze", "unsqueeze", "broadcast_to", "expand",
             "concatenate", "stack", "split", "chunk", "var", "std", "pow", "add", "sub", "mul",
             "div", "neg", "cast", "argmax", "argmin"]
METHODS = ["exp", "log", "sqrt", "abs", "tanh", "sigmoid", "sin", "cos", "relu", "maximum",
           "minimum", "clip", "clamp", "sum", "mean", "max", "min", "logsumexp", "softmax",
           "log_softmax", "matmul", "dot", "transpose", "permute", "reshape", "view", "flatten",
           "squeeze", "unsqueeze", "expand", "split", "chunk", "var", "std", "pow", "add",
           "sub", "mul", "div", "neg", "argmax", "argmin", "astype", "detach", "backward",
           "numpy", "tolist", "item", "numel", "retain_grad", "requires_grad_"]


@pytest.mark.parametrize("name", FUNCTIONS)
def test_function_available_as_cr_name(name):
    assert callable(getattr(cr, name))


@pytest.mark.parametrize("name", METHODS)
def test_method_available(name):
    assert callable(getattr(cr.tensor([1.0]), name))


@pytest.mark.parametrize("call,expected", [
    (lambda: cr.where(cr.tensor([True, False]), 1.0, 0.0), [1.0, 0.0]),
    (lambda: cr.where([True, False], np.ones(2), 0.0), [1.0, 0.0]),
    (lambda: cr.maximum(np.ones(2), np.zeros(2)), [1.0, 1.0]),
    (lambda: cr.add(1.0, 2.0), 3.0),
    (lambda: cr.mul([1.0, 2.0], 3.0), [3.0, 6.0]),
    (lambda: cr.matmul(np.ones((2, 3)), np.ones(3)), [3.0, 3.0]),
], ids=["where_scalars", "where_array_scalar", "maximum_arrays", "add_floats", "mul_list",
        "matmul_arrays"])
def test_functions_accept_two_non_tensor_operands(call, expected):
    out = call()
    assert isinstance(out, cr.Tensor) and not out.requires_grad
    np.testing.assert_allclose(out.numpy(), expected)
    assert out.dtype.kind == "f"


def test_zero_d_values_are_numpy_scalars_and_still_change_in_place():
    # held as NumPy scalars for speed; the in-place API turns them into buffers as needed
    t = cr.tensor(2.0, requires_grad=True)
    assert isinstance(t.array, np.generic) and t.shape == () and t.dtype == np.float32
    with cr.no_grad():
        t -= 0.5
        assert t.item() == 1.5
        t[...] = 3.0
        assert t.item() == 3.0
        t.fill_(4.0)
    assert t.item() == 4.0 and t.requires_grad and t._version > 0
    (t * t).backward()
    assert t.grad.item() == 8.0
