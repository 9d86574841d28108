"""RNN, LSTM, GRU, their cells and pad_sequence against PyTorch: state_dict keys,
outputs, final states, input, initial-state and parameter gradients."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr

torch = pytest.importorskip("torch")


def _close(ours, theirs, tol=1e-9):
    ours = ours.numpy() if not isinstance(ours, np.ndarray) else ours
    theirs = theirs.detach().numpy()
    assert ours.shape == theirs.shape, (ours.shape, theirs.shape)
    np.testing.assert_allclose(ours, theirs, rtol=tol, atol=tol)


def _both(a):
    return cr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)


def _pair(name, *args, **kwargs):
    torch.manual_seed(0)
    theirs = getattr(torch.nn, name)(*args, **kwargs).double()
    ours = getattr(cr.nn, name)(*args, **kwargs).double()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for (k, v), tv in zip(ours.state_dict().items(), theirs.state_dict().values()):
        assert v.shape == tuple(tv.shape), k
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    return ours, theirs


def _flat(out):
    """The tensors of an RNN's result ((out, h) or (out, (h, c))) in order."""
    head, state = out
    return [head, *state] if isinstance(state, tuple) else [head, state]


CASES = [
    ("RNN", {}), ("RNN", {"nonlinearity": "relu", "num_layers": 2}),
    ("LSTM", {}), ("LSTM", {"num_layers": 2, "bidirectional": True}),
    ("LSTM", {"batch_first": True, "bias": False}),
    ("GRU", {}), ("GRU", {"num_layers": 2, "bidirectional": True, "batch_first": True}),
]


@pytest.mark.parametrize("name,kw", CASES)
@pytest.mark.parametrize("with_state", [False, True])
def test_recurrent_layers_match_torch(name, kw, with_state):
    ours, theirs = _pair(name, 3, 4, **kw)
    rng = np.random.default_rng(0)
    n, length = 2, 5
    shape = (n, length, 3) if kw.get("batch_first") else (length, n, 3)
    x, tx = _both(rng.standard_normal(shape))
    args, targs = [x], [tx]
    if with_state:
        count = kw.get("num_layers", 1) * (2 if kw.get("bidirectional") else 1)
        h, th = _both(rng.standard_normal((count, n, 4)))
        if name == "LSTM":
            c, tc = _both(rng.standard_normal((count, n, 4)))
            args.append((h, c))
            targs.append((th, tc))
        else:
            args.append(h)
            targs.append(th)
    ours_out, theirs_out = _flat(ours(*args)), _flat(theirs(*targs))
    total, ttotal = 0, 0
    for k, (a, b) in enumerate(zip(ours_out, theirs_out)):
        _close(a, b)
        weight = rng.standard_normal(b.shape)
        total = (a * cr.tensor(weight)).sum() + total
        ttotal = (b * torch.tensor(weight)).sum() + ttotal
        del k
    total.backward()
    ttotal.backward()
    _close(x.grad, tx.grad)
    if with_state:
        _close(args[1][0].grad if name == "LSTM" else args[1].grad,
               targs[1][0].grad if name == "LSTM" else targs[1].grad)
    tparams = dict(theirs.named_parameters())
    for pname, p in ours.named_parameters():
        _close(p.grad, tparams[pname].grad)


def test_unbatched_input_and_dropout_between_layers():
    ours, theirs = _pair("GRU", 3, 4, num_layers=2)
    seq = np.random.default_rng(1).standard_normal((6, 3))
    out, h = ours(cr.tensor(seq))
    tout, th = theirs(torch.tensor(seq))
    _close(out, tout)
    _close(h, th)
    drop = cr.nn.LSTM(3, 4, num_layers=2, dropout=0.5)
    x = cr.randn(5, 2, 3)
    drop.eval()
    a = drop(x)[0].numpy()
    np.testing.assert_array_equal(a, drop(x)[0].numpy())  # no dropout in eval
    drop.train()
    cr.manual_seed(0)
    assert not np.allclose(a, drop(x)[0].numpy())


@pytest.mark.parametrize("name", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cells_match_torch(name):
    ours, theirs = _pair(name, 3, 5)
    rng = np.random.default_rng(2)
    x, tx = _both(rng.standard_normal((4, 3)))
    h, th = _both(rng.standard_normal((4, 5)))
    if name == "LSTMCell":
        c, tc = _both(rng.standard_normal((4, 5)))
        (a, b), (ta, tb) = ours(x, (h, c)), theirs(tx, (th, tc))
        _close(a, ta)
        _close(b, tb)
        (a.sum() + (b * b).sum()).backward()
        (ta.sum() + (tb * tb).sum()).backward()
        _close(c.grad, tc.grad)
    else:
        a, ta = ours(x, h), theirs(tx, th)
        _close(a, ta)
        (a * a).sum().backward()
        (ta * ta).sum().backward()
    _close(x.grad, tx.grad)
    _close(h.grad, th.grad)
    tparams = dict(theirs.named_parameters())
    for pname, p in ours.named_parameters():
        _close(p.grad, tparams[pname].grad)
    assert ours(cr.tensor(np.ones(3)))[0].shape == (5,) if name == "LSTMCell" else \
        ours(cr.tensor(np.ones(3))).shape == (5,)


def test_lstm_gradcheck_and_errors():
    lstm = cr.nn.LSTM(2, 3).double()
    x = cr.tensor(np.random.default_rng(3).standard_normal((4, 2, 2)), requires_grad=True)
    assert cr.gradcheck(lambda x: lstm(x)[0], x)
    net = cr.nn.Sequential(cr.nn.LSTM(5, 3))
    with pytest.raises(ValueError, match=r"^0 \(LSTM 5→3\): expected input of shape "
                                         r"\(L, N, 5\) or \(L, 5\), got \(4, 2, 6\)"):
        net[0](cr.ones(4, 2, 6))
    with pytest.raises(ValueError, match=r"expected initial state of shape \(1, 2, 3\)"):
        net[0](cr.ones(4, 2, 5), (cr.ones(2, 3), cr.ones(2, 3)))


def test_pad_sequence_matches_torch():
    from chainrule.nn.utils.rnn import pad_sequence

    rng = np.random.default_rng(4)
    data = [rng.standard_normal((n, 2)) for n in (3, 1, 4)]
    ours = [cr.tensor(d, requires_grad=True) for d in data]
    theirs = [torch.tensor(d, requires_grad=True) for d in data]
    for kw in ({}, {"batch_first": True, "padding_value": -1.0},
               {"padding_side": "left", "batch_first": True}):
        y = pad_sequence(ours, **kw)
        ty = torch.nn.utils.rnn.pad_sequence(theirs, **kw)
        _close(y, ty)
    y.sum().backward()
    for a in ours:
        np.testing.assert_array_equal(a.grad.numpy(), np.ones_like(a.numpy()))
