"""Errors: raised in the forward pass, naming the op, the shapes or values, and what
was expected; never a NumPy error surfacing later inside backward."""

import re

import numpy as np
import pytest

import chainrule as cr
from chainrule._tensor import record
from chainrule.ops.registry import Op


def leaf(*shape):
    return cr.randn(*shape, requires_grad=True)


# ---------------------------------------------------------------------------
# shape mismatches in the forward pass
# ---------------------------------------------------------------------------
def test_matmul_message_exact():
    a, b = leaf(32, 64), leaf(32, 10)
    with pytest.raises(ValueError) as info:
        a @ b
    assert str(info.value) == "matmul: shapes (32, 64) and (32, 10) are not aligned: 64 != 32"


@pytest.mark.parametrize("sa,sb", [((3,), (4,)), ((2, 3), (2,)), ((3,), (2, 4)),
                                   ((5, 2, 3), (4, 5))], ids=str)
def test_matmul_not_aligned(sa, sb):
    with pytest.raises(ValueError, match=r"^matmul: shapes .* are not aligned"):
        leaf(*sa) @ leaf(*sb)


def test_matmul_batch_mismatch_and_0d():
    with pytest.raises(ValueError, match=r"matmul: batch dimensions of shapes \(2, 3, 4\) and "
                                         r"\(3, 4, 5\)"):
        cr.matmul(leaf(2, 3, 4), leaf(3, 4, 5))
    with pytest.raises(ValueError, match=r"matmul: .*at least 1 dimension.*\(\)"):
        cr.matmul(leaf(), leaf(3))


@pytest.mark.parametrize("name,op", [
    ("add", lambda a, b: a + b), ("sub", lambda a, b: a - b), ("mul", lambda a, b: a * b),
    ("div", lambda a, b: a / b), ("pow", lambda a, b: a ** b), ("maximum", cr.maximum),
    ("minimum", cr.minimum), ("add", lambda a, b: a.array + b), ("mul", lambda a, b: a.array * b),
])
def test_broadcast_errors_name_op_and_shapes(name, op):
    a, b = leaf(2, 3), leaf(4)
    with pytest.raises(ValueError) as info:
        op(a, b)
    msg = str(info.value)
    assert msg.startswith(name + ":"), msg
    assert "(2, 3)" in msg and "(4,)" in msg and "broadcast" in msg


def test_where_broadcast_error():
    with pytest.raises(ValueError, match=r"where: shapes cond \(5,\), a \(2, 3\) and b \(3,\)"):
        cr.where(np.ones(5, dtype=bool), leaf(2, 3), leaf(3))


def test_comparison_broadcast_error():
    with pytest.raises(ValueError, match=r"^gt: shapes \(2, 3\) and \(4,\)"):
        cr.gt(leaf(2, 3), leaf(4))


def test_dot_outer_need_1d():
    with pytest.raises(ValueError, match=r"dot: expected two 1-D tensors, got shapes \(2, 2\)"):
        cr.dot(leaf(2, 2), leaf(2))
    with pytest.raises(ValueError, match=r"outer: .*\(3, 1\)"):
        cr.outer(leaf(3), leaf(3, 1))


def test_concatenate_and_stack_mismatch():
    with pytest.raises(ValueError, match=r"concatenate: tensor 1 has shape \(2, 4\), but tensor "
                                         r"0 has shape \(2, 3\)"):
        cr.concatenate([leaf(2, 3), leaf(2, 4)], axis=0)
    with pytest.raises(ValueError, match="concatenate: expected at least one"):
        cr.concatenate([])
    with pytest.raises(ValueError, match="0-d"):
        cr.concatenate([leaf(), leaf()])
    with pytest.raises(ValueError, match=r"stack: tensor 2 has shape \(3,\)"):
        cr.stack([leaf(2), leaf(2), leaf(3)])


def test_reshape_size_mismatch():
    with pytest.raises(ValueError) as info:
        leaf(2, 3).reshape(4, 2)
    msg = str(info.value)
    assert msg.startswith("reshape:") and "(2, 3)" in msg and "6 elements" in msg
    assert "(4, 2)" in msg


def test_broadcast_to_and_expand_errors():
    with pytest.raises(ValueError, match=r"broadcast_to: cannot broadcast shape \(3,\) to "
                                         r"\(2, 4\)"):
        cr.broadcast_to(leaf(3), (2, 4))
    with pytest.raises(ValueError, match="broadcast_to"):
        leaf(3, 2).expand(3, 3)


def test_copy_shape_mismatch():
    with pytest.raises(ValueError, match=r"copy_: cannot copy shape \(3,\) into \(2,\)"):
        cr.zeros(2).copy_(np.ones(3))
    with pytest.raises(ValueError, match=r"copy_: cannot copy shape \(2, 2\) into \(2,\)"):
        cr.zeros(2).copy_(np.ones((2, 2)))  # broadcastable, but not into the target
    t = cr.zeros(2, 3)
    t.copy_(np.arange(3.0))  # broadcasts into the target: fine
    assert t.tolist() == [[0, 1, 2], [0, 1, 2]]


# ---------------------------------------------------------------------------
# bad axes
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("name,call", [
    ("sum", lambda x: x.sum(axis=2)),
    ("mean", lambda x: x.mean(axis=-3)),
    ("max", lambda x: x.max(axis=(0, 5))),
    ("min", lambda x: cr.min(x, axis=7)),
    ("logsumexp", lambda x: cr.logsumexp(x, axis=2)),
    ("softmax", lambda x: cr.softmax(x, axis=2)),
    ("log_softmax", lambda x: cr.log_softmax(x, axis=-3)),
    ("var", lambda x: cr.var(x, axis=4)),
    ("concatenate", lambda x: cr.concatenate([x, x], axis=2)),
    ("split", lambda x: cr.split(x, 1, axis=3)),
    ("squeeze", lambda x: x.squeeze(5)),
    ("transpose", lambda x: x.transpose(0, 2)),
])
def test_axis_out_of_range(name, call):
    with pytest.raises(ValueError) as info:
        call(leaf(2, 3))
    msg = str(info.value)
    assert msg.startswith(name + ":") and "out of range" in msg and "2 dims" in msg, msg


def test_repeated_axis():
    with pytest.raises(ValueError, match=r"sum: repeated axis"):
        leaf(2, 3).sum(axis=(1, -1))


def test_other_axis_errors():
    assert leaf(2, 1).squeeze(0).shape == (2, 1)  # as PyTorch: a dim of size 2 stays
    with pytest.raises(ValueError, match="squeeze: axis 2 is out of range for a tensor with 2"):
        leaf(2, 1).squeeze(2)
    with pytest.raises(ValueError, match="unsqueeze: axis 3 is out of range"):
        leaf(2).unsqueeze(3)
    with pytest.raises(ValueError, match="transpose: axes .* not a permutation"):
        leaf(2, 3, 4).permute(0, 0, 1)
    with pytest.raises(ValueError, match=r"split: sizes \[1, 1\] do not add up to 3"):
        cr.split(leaf(3), [1, 1])
    with pytest.raises(ValueError, match="split: piece size must be positive"):
        cr.split(leaf(3), 0)


def test_indexing_errors():
    with pytest.raises(IndexError, match=r"getitem: .*shape \(2, 3\)"):
        leaf(2, 3)[5]
    with pytest.raises(IndexError, match="getitem"):
        leaf(2, 3)[0, 0, 0]
    with pytest.raises(IndexError, match="getitem"):
        leaf(3)[[0, 3]]


def test_reduction_of_empty():
    with pytest.raises(ValueError, match="max: reduction of an empty tensor"):
        cr.zeros(0).max()
    with pytest.raises(ValueError, match="mean: .*empty"):
        cr.zeros(0, 3).mean(axis=0)


def test_clip_needs_a_bound():
    with pytest.raises(ValueError, match="clip: at least one of min and max"):
        cr.clip(leaf(3))


# ---------------------------------------------------------------------------
# types
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("data", ["abc", b"xy", None, [1, "a"], [[1, 2], [3]], {"a": 1},
                                  object(), np.array(["a", "b"]), np.array([1j]),
                                  np.array([object()], dtype=object)],
                         ids=["str", "bytes", "None", "mixed_list", "ragged", "dict", "object",
                              "str_array", "complex", "object_array"])
def test_non_numeric_data_is_type_error(data):
    with pytest.raises(TypeError, match="tensor"):
        cr.tensor(data)


def test_non_numeric_operand_is_type_error():
    with pytest.raises(TypeError):
        leaf(2) + "a"
    with pytest.raises(TypeError):
        leaf(2) * None


def test_unknown_dtype():
    with pytest.raises(TypeError, match="unknown dtype 'floaty'"):
        cr.tensor([1.0], dtype="floaty")


def test_grad_on_integer_tensor_is_clear():
    with pytest.raises(TypeError, match=r"only floating-point tensors can require gradients, "
                                        r"got dtype int64"):
        cr.tensor([1, 2], requires_grad=True)
    labels = cr.tensor([0, 2])
    with pytest.raises(TypeError, match="floating-point"):
        cr.grad(lambda t: (t * 1.0).sum())(labels)
    with pytest.raises(RuntimeError, match="input 0 does not require grad"):
        cr.autograd.grad(leaf(2).sum(), [labels])
    with pytest.raises(RuntimeError, match="does not require grad"):
        (labels * 2).sum().backward()


def test_float_only_ops_on_integers():
    with pytest.raises(TypeError, match="mean: expected a floating-point tensor, got dtype int64"):
        cr.tensor([1, 2]).mean()
    with pytest.raises(TypeError, match="softmax: expected a floating-point"):
        cr.softmax(cr.tensor([1, 2]))


def test_index_with_float_tensor():
    with pytest.raises(TypeError, match="only integer tensors can be used as an index"):
        [1, 2][cr.tensor(1.0)]


# ---------------------------------------------------------------------------
# errors never surface inside backward
# ---------------------------------------------------------------------------
def test_bad_forward_leaves_no_half_built_graph():
    a = leaf(2, 3)
    with pytest.raises(ValueError):
        a * leaf(4)
    (a * 2).sum().backward()  # the graph still works
    np.testing.assert_array_equal(a.grad.numpy(), np.full((2, 3), 2.0))


def test_error_inside_backward_leaves_no_stale_adjoints():
    x = cr.tensor([1.0, 2.0])
    w = cr.tensor([3.0, 4.0], requires_grad=True)
    y = (w * x).sum()
    x[0] = 5.0
    with pytest.raises(RuntimeError):
        y.backward()
    assert w.grad is None
    (w * 2).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [2, 2])


# ---------------------------------------------------------------------------
# GradcheckError: a readable report
# ---------------------------------------------------------------------------
def _wrong_square(x):
    """x**2 recorded with a wrong rule: 3x instead of 2x."""
    return record(x.array ** 2, Op("wrong_square", lambda F, g, ans, ctx, x: (g * 3 * x,), register=False), (x,))


def test_gradcheck_error_names_input_elements_and_tolerances():
    x = cr.tensor(np.array([[1.0, -2.0, 0.0], [0.5, 3.0, 1.5]]), name="weights")
    y = cr.tensor(np.array([1.0, 2.0, 3.0]))
    with pytest.raises(cr.GradcheckError) as info:
        cr.gradcheck(lambda y, x: (y * _wrong_square(x)).sum(), y, x, max_report=3)
    msg = str(info.value)
    assert isinstance(info.value, AssertionError)
    assert "input 1 'weights' (shape (2, 3))" in msg
    assert "5 of 6 gradient elements disagree" in msg  # x = 0 has zero error
    assert "atol=1e-05" in msg and "rtol=0.001" in msg and "eps=1e-06" in msg
    assert "analytic" in msg and "numeric" in msg
    rows = [ln for ln in msg.splitlines() if ln.strip().startswith("(")]
    assert len(rows) == 3  # max_report worst elements, not a dumped matrix
    # worst first: element (1, 1): analytic 3*3*2 = 18, numeric 2*3*2 = 12
    first = rows[0].split()
    assert "".join(first[:2]) == "(1,1)"
    assert float(first[2]) == pytest.approx(18.0) and float(first[3]) == pytest.approx(12.0)
    assert float(first[4]) == pytest.approx(6.0, rel=1e-4)


def test_gradcheck_error_for_scalar_input():
    with pytest.raises(cr.GradcheckError, match=re.escape("input 0 (shape ())")):
        cr.gradcheck(_wrong_square, 2.0)


def test_gradcheck_error_fast_mode():
    x = np.random.default_rng(0).standard_normal(3000) + 2.0
    with pytest.raises(cr.GradcheckError) as info:
        cr.gradcheck(lambda x: _wrong_square(x).sum(), x)  # large: fast by default
    msg = str(info.value)
    assert "input 0 (shape (3000,))" in msg and "directional derivative" in msg
    assert "analytic" in msg and "numeric" in msg and "atol=" in msg and "rtol=" in msg


def test_split_chunk_expand_errors():
    with pytest.raises(ValueError, match="chunk: axis 5 is out of range"):
        cr.chunk(leaf(3), 2, axis=5)
    with pytest.raises(ValueError, match="chunk: the number of chunks must be positive"):
        cr.chunk(leaf(3), 0)
    with pytest.raises(ValueError, match="split: a 0-d tensor"):
        cr.split(leaf(), 1)
    with pytest.raises(ValueError, match=r"expand: cannot expand shape \(3,\) to \(-1, 3\)"):
        leaf(3).expand(-1, 3)
    with pytest.raises(ValueError, match="expand: cannot expand"):
        leaf(2, 3).expand(3)
    assert leaf(3, 1).expand(2, -1, 4).shape == (2, 3, 4)
