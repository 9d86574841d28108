"""Recurrent layers (RNN, LSTM, GRU), their cells, and ``pad_sequence``, with PyTorch's
arguments, parameter names (``weight_ih_l0``, ``weight_hh_l0_reverse``, ...), gate
order (LSTM: i, f, g, o; GRU: r, z, n), initialization U(±1/√hidden) and input/output
layouts.

The input projections of all time steps are one matrix product per layer and
direction (x Wᵢₕᵀ over the whole sequence); each step then adds h Wₕₕᵀ and applies the
gates, as differentiable ops, so the layers differentiate to any order.

>>> import chainrule as cr
>>> lstm = cr.nn.LSTM(10, 20, num_layers=2, batch_first=True)
>>> out, (h, c) = lstm(cr.randn(3, 7, 10))
>>> out.shape, h.shape, c.shape
((3, 7, 20), (2, 3, 20), (2, 3, 20))
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from .._tensor import Tensor, as_dtype, as_tensor, get_default_dtype
from ..ops import composite as C
from ..ops import nn_ops
from ..ops import primitives as P
from ..ops.rnn import lstm_cell
from ..random import numpy_generator
from . import functional as F
from . import init
from .module import Module, Parameter
from .rnn_utils import PackedSequence, pad_sequence

__all__ = ["GRU", "LSTM", "RNN", "GRUCell", "LSTMCell", "RNNBase", "RNNCell", "RNNCellBase",
           "pad_sequence"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _dtype(dtype) -> np.dtype:
    return get_default_dtype() if dtype is None else as_dtype(dtype)


def _cols(t: Tensor, k: int, size: int) -> Tensor:
    """The k-th block of ``size`` columns of (N, n·size) ``t``."""
    return P.getitem(t, (Ellipsis, slice(k * size, (k + 1) * size)))


# ---------------------------------------------------------------------------
# one time step of each kind: (x Wᵢₕᵀ + bᵢₕ) for this step, the state, Wₕₕ, bₕₕ
# ---------------------------------------------------------------------------
def _rnn_step(mode: str, xw: Tensor, state, w_hh: Tensor, b_hh: Tensor | None,
              w_hr: Tensor | None = None):
    """The next state from ``xw`` = this step's input projection (+ b_ih); an LSTM with
    ``w_hr`` (proj_size) projects h' to h' W_hrᵀ."""
    if mode == "LSTM":
        h, c = state
        size = c.shape[-1]
        hc = lstm_cell(P.add(xw, F.linear(h, w_hh, b_hh)), c)  # [h' | c'], one node
        h_new = _cols(hc, 0, size)
        if w_hr is not None:
            h_new = F.linear(h_new, w_hr)
        return h_new, _cols(hc, 1, size)
    if mode == "GRU":
        h = state
        size = h.shape[-1]
        hw = F.linear(h, w_hh, b_hh)
        first_two = (Ellipsis, slice(0, 2 * size))
        rz = P.sigmoid(P.add(P.getitem(xw, first_two), P.getitem(hw, first_two)))
        r, z = _cols(rz, 0, size), _cols(rz, 1, size)
        n = P.tanh(P.add(_cols(xw, 2, size), P.mul(r, _cols(hw, 2, size))))
        # h' = (1 - z) n + z h = n + z (h - n)
        return P.add(n, P.mul(z, P.sub(h, n)))
    pre = P.add(xw, F.linear(state, w_hh, b_hh))
    return P.tanh(pre) if mode == "RNN_TANH" else nn_ops.relu(pre)


class RNNBase(Module):
    """The recurrent layers' base, PyTorch's ``RNNBase(mode, input_size, hidden_size,
    ...)`` with ``mode`` one of 'RNN_TANH', 'RNN_RELU', 'LSTM', 'GRU' (RNN, LSTM and GRU
    pass theirs)."""

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device=None, dtype=None):
        name = type(self).__name__
        if mode not in _GATES:
            raise ValueError(f"{name}: unknown mode {mode!r}; expected one of "
                             f"{', '.join(_GATES)}")
        self.mode = mode
        super().__init__()
        if int(input_size) <= 0 or int(hidden_size) <= 0 or int(num_layers) <= 0:
            raise ValueError(f"{name}: input_size, hidden_size and num_layers must be "
                             f"positive, got {input_size}, {hidden_size}, {num_layers}")
        if not 0.0 <= dropout <= 1.0:
            raise ValueError(f"{name}: dropout must be in [0, 1], got {dropout}")
        if proj_size < 0:
            raise ValueError(f"{name}: proj_size must be ≥ 0, got {proj_size}")
        if proj_size and self.mode != "LSTM":
            raise ValueError(f"{name}: proj_size is only supported for LSTM, not {name}")
        if proj_size >= hidden_size:
            raise ValueError(f"{name}: proj_size ({proj_size}) must be smaller than "
                             f"hidden_size ({hidden_size})")
        self.input_size, self.hidden_size = int(input_size), int(hidden_size)
        self.num_layers = int(num_layers)
        self.bias, self.batch_first = bool(bias), bool(batch_first)
        self.dropout = float(dropout)
        self.bidirectional = bool(bidirectional)
        self.proj_size = int(proj_size)
        dt = _dtype(dtype)
        gates = _GATES[self.mode] * self.hidden_size
        directions = 2 if bidirectional else 1
        out = self._out_size
        for layer in range(self.num_layers):
            n_in = self.input_size if layer == 0 else out * directions
            for d in range(directions):
                sfx = f"_l{layer}" + ("_reverse" if d else "")
                setattr(self, "weight_ih" + sfx, Parameter(np.empty((gates, n_in), dtype=dt)))
                setattr(self, "weight_hh" + sfx, Parameter(np.empty((gates, out), dtype=dt)))
                if self.bias:
                    setattr(self, "bias_ih" + sfx, Parameter(np.empty(gates, dtype=dt)))
                    setattr(self, "bias_hh" + sfx, Parameter(np.empty(gates, dtype=dt)))
                if self.proj_size:
                    setattr(self, "weight_hr" + sfx,
                            Parameter(np.empty((self.proj_size, self.hidden_size), dtype=dt)))
        self.reset_parameters()
        if device is not None:  # PyTorch's factory argument: made here, then moved
            self.to(device)

    def reset_parameters(self) -> None:
        """Every weight and bias ~ U(-1/√hidden_size, 1/√hidden_size), as PyTorch."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -bound, bound)

    @property
    def _out_size(self) -> int:
        """The size of h: proj_size when the LSTM projects, else hidden_size."""
        return self.proj_size or self.hidden_size

    def _weights(self, layer: int, d: int):
        sfx = f"_l{layer}" + ("_reverse" if d else "")
        get = self._parameters.get
        return (get("weight_ih" + sfx), get("weight_hh" + sfx), get("bias_ih" + sfx),
                get("bias_hh" + sfx), get("weight_hr" + sfx))

    def _zeros(self, n: int, dt, size: int | None = None) -> Tensor:
        return as_tensor(np.zeros((n, self.hidden_size if size is None else size), dtype=dt))

    def _check(self, x: Tensor, hx):
        """(x as (L, N, I), batched?) after checking shapes against the layer."""
        if x.ndim not in (2, 3) or x.shape[-1] != self.input_size:
            layout = "(N, L, {0})" if self.batch_first else "(L, N, {0})"
            raise ValueError(f"{self._describe()}: expected input of shape "
                             f"{layout.format(self.input_size)} or (L, {self.input_size}), "
                             f"got {x.shape}")
        batched = x.ndim == 3
        if not batched:
            x = P.reshape(x, (x.shape[0], 1, x.shape[1]))
        elif self.batch_first:
            x = P.transpose(x, 0, 1)
        if x.array.dtype != self.weight_ih_l0.array.dtype:
            x = F._like(x, self.weight_ih_l0)
        return x, batched

    def _initial(self, hx, n: int, batched: bool, dt, order=None):
        """Per (layer, direction) initial states from hx (or zeros); ``order`` puts the
        batch rows in a packed batch's sorted order."""
        count = self.num_layers * (2 if self.bidirectional else 1)
        parts = hx if isinstance(hx, tuple) else (hx,)
        n_parts = 2 if self.mode == "LSTM" else 1
        sizes = (self._out_size, self.hidden_size)[:n_parts]  # h, then c
        if hx is None:
            return [tuple(self._zeros(n, dt, size) for size in sizes) for _ in range(count)]
        if len(parts) != n_parts:
            raise ValueError(f"{self._describe()}: expected the initial state as "
                             f"{'(h_0, c_0)' if n_parts == 2 else 'h_0'}")
        states = []
        for p, size in zip(parts, sizes):
            p = p if isinstance(p, Tensor) else as_tensor(p)
            want = (count, n, size) if batched else (count, size)
            if p.shape != want:
                raise ValueError(f"{self._describe()}: expected initial state of shape "
                                 f"{want}, got {p.shape}")
            if not batched:
                p = P.reshape(p, (count, 1, size))
            if order is not None:
                p = P.getitem(p, (slice(None), order))
            states.append([P.getitem(p, k) for k in range(count)])
        return [tuple(s[k] for s in states) for k in range(count)]

    def forward(self, input, hx=None):
        if isinstance(input, PackedSequence):
            return self._forward_packed(input, hx)
        x = input if isinstance(input, Tensor) else as_tensor(input)
        x, batched = self._check(x, hx)
        length, n = x.shape[0], x.shape[1]
        starts = self._initial(hx, n, batched, x.array.dtype)
        # one (N, features) tensor per time step. Slicing a big tensor that requires grad
        # costs a full-size adjoint per slice in backward, so layers pass lists of steps
        # and only the input (when it needs a gradient) and the final output are sliced
        # or stacked.
        if x.requires_grad:
            seq = [P.getitem(x, t) for t in range(length)]
        else:
            seq = [as_tensor(x.array[t]) for t in range(length)]
        seq, finals = self._layers(seq, starts, None)
        out = C.stack(seq, 0)
        if not batched:
            out = P.reshape(out, (length, out.shape[2]))
        elif self.batch_first:
            out = P.transpose(out, 0, 1)
        return out, self._final_states(finals, batched, None)

    def _forward_packed(self, packed: PackedSequence, hx):
        """A packed batch: sequence b runs for its own length (the rows still running at
        step t are the first batch_sizes[t], longest first), so its final state is the
        state after its last step, and the output is packed the same way."""
        data, sizes = packed.data, [int(b) for b in packed.batch_sizes.array]
        if data.ndim != 2 or data.shape[1] != self.input_size:
            raise ValueError(f"{self._describe()}: expected packed data of shape (steps, "
                             f"{self.input_size}), got {data.shape}")
        if data.array.dtype != self.weight_ih_l0.array.dtype:
            data = F._like(data, self.weight_ih_l0)
        order = None if packed.sorted_indices is None else packed.sorted_indices.array
        starts = self._initial(hx, sizes[0], True, data.array.dtype, order)
        offsets = np.concatenate([[0], np.cumsum(sizes)])
        seq = [P.getitem(data, slice(int(a), int(b))) for a, b in itertools.pairwise(offsets)]
        seq, finals = self._layers(seq, starts, sizes)
        back = None if packed.unsorted_indices is None else packed.unsorted_indices.array
        out = PackedSequence(P.concatenate(seq, axis=0), packed.batch_sizes,
                             packed.sorted_indices, packed.unsorted_indices)
        return out, self._final_states(finals, True, back)

    def _layers(self, seq: list, starts: list, sizes: list | None):
        """Run every layer and direction over the steps ``seq``; with ``sizes`` (a packed
        batch) step t updates only the first sizes[t] rows of the state."""
        directions = 2 if self.bidirectional else 1
        length = len(seq)
        finals = []
        for layer in range(self.num_layers):
            outs = []
            for d in range(directions):
                w_ih, w_hh, b_ih, b_hh, w_hr = self._weights(layer, d)
                state = starts[layer * directions + d]
                state = state if self.mode == "LSTM" else state[0]
                steps = range(length - 1, -1, -1) if d else range(length)
                hs = [None] * length
                for t in steps:
                    xw = F.linear(seq[t], w_ih, b_ih)
                    if sizes is None or sizes[t] == sizes[0]:
                        state = _rnn_step(self.mode, xw, state, w_hh, b_hh, w_hr)
                    else:
                        state = self._partial_step(xw, state, w_hh, b_hh, sizes[t], w_hr)
                    h = state[0] if self.mode == "LSTM" else state
                    hs[t] = h if sizes is None or sizes[t] == sizes[0] else \
                        P.getitem(h, slice(0, sizes[t]))
                outs.append(hs)
                finals.append(state if self.mode == "LSTM" else (state,))
            seq = outs[0] if directions == 1 else \
                [P.concatenate([f, b], axis=1) for f, b in zip(*outs)]
            if self.dropout and self.training and layer < self.num_layers - 1:
                seq = [nn_ops.dropout(h, self.dropout, numpy_generator()) for h in seq]
        return seq, finals

    def _partial_step(self, xw: Tensor, state, w_hh: Tensor, b_hh, active: int,
                      w_hr: Tensor | None = None):
        """One step for the first ``active`` rows; the others keep their state."""
        def head(s):
            return P.getitem(s, slice(0, active))

        def tail(s):
            return P.getitem(s, slice(active, None))

        if self.mode == "LSTM":
            new = _rnn_step(self.mode, xw, tuple(head(s) for s in state), w_hh, b_hh, w_hr)
            return tuple(P.concatenate([a, tail(s)], axis=0) for a, s in zip(new, state))
        new = _rnn_step(self.mode, xw, head(state), w_hh, b_hh)
        return P.concatenate([new, tail(state)], axis=0)

    def _final_states(self, finals: list, batched: bool, back):
        """h_n (and c_n) stacked over layers and directions, rows in the batch's order."""
        stacked = []
        for k in range(2 if self.mode == "LSTM" else 1):
            s = C.stack([f[k] for f in finals], 0)
            if back is not None:
                s = P.getitem(s, (slice(None), back))
            stacked.append(s if batched else P.reshape(s, (s.shape[0], s.shape[2])))
        return tuple(stacked) if self.mode == "LSTM" else stacked[0]

    def flatten_parameters(self) -> None:
        """PyTorch packs the weights into one cuDNN buffer here; chainrule's layout needs
        nothing, so this does nothing (programs call it after moving a model)."""

    def _short_name(self) -> str:
        return f"{type(self).__name__} {self.input_size}→{self.hidden_size}"

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.bidirectional:
            s += ", bidirectional=True"
        return s


class RNN(RNNBase):
    """Elman RNN: h_t = tanh(x_t Wᵢₕᵀ + bᵢₕ + h_{t-1} Wₕₕᵀ + bₕₕ) (or ``nonlinearity=
    'relu'``). Returns (output, h_n)."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = False,
                 dropout: float = 0.0, bidirectional: bool = False, device=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: unknown nonlinearity {nonlinearity!r}; expected 'tanh' or "
                             "'relu'")
        self.nonlinearity = nonlinearity
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size,
                         hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         dtype=dtype)
        if device is not None:  # PyTorch's factory argument: made here, then moved
            self.to(device)


class LSTM(RNNBase):
    """Long short-term memory: gates i, f, g, o from x_t and h_{t-1};
    c_t = f c_{t-1} + i g, h_t = o tanh(c_t). Returns (output, (h_n, c_n))."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, proj_size, device, dtype)


class GRU(RNNBase):
    """Gated recurrent unit: r, z gates; n = tanh(x Wᵢₙᵀ + bᵢₙ + r (h Wₕₙᵀ + bₕₙ));
    h_t = (1 - z) n + z h_{t-1}. Returns (output, h_n)."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device=None, dtype=None):
        # (proj_size is refused by RNNBase, naming LSTM, as PyTorch)
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, proj_size, device, dtype)


_MODE_OF_CHUNKS = {1: "RNN_TANH", 3: "GRU", 4: "LSTM"}


class RNNCellBase(Module):
    """The cells' base, PyTorch's ``RNNCellBase(input_size, hidden_size, bias,
    num_chunks)``: ``num_chunks`` gate blocks per weight (4 LSTM, 3 GRU, 1 RNN), which
    also say which step ``forward`` takes."""

    mode: str | None = None  # the subclasses' own

    def __init__(self, input_size: int, hidden_size: int, bias: bool, num_chunks: int,
                 device=None, dtype=None):
        name = type(self).__name__
        if self.mode is None:
            if num_chunks not in _MODE_OF_CHUNKS:
                raise ValueError(f"{name}: num_chunks must be 1 (RNN), 3 (GRU) or 4 (LSTM), "
                                 f"got {num_chunks!r}")
            self.mode = _MODE_OF_CHUNKS[num_chunks]
        elif num_chunks != _GATES[self.mode]:
            raise ValueError(f"{name}: num_chunks must be {_GATES[self.mode]}, got "
                             f"{num_chunks!r}")
        super().__init__()
        self.input_size, self.hidden_size, self.bias = int(input_size), int(hidden_size), bias
        dt = _dtype(dtype)
        gates = _GATES[self.mode] * self.hidden_size
        self.weight_ih = Parameter(np.empty((gates, self.input_size), dtype=dt))
        self.weight_hh = Parameter(np.empty((gates, self.hidden_size), dtype=dt))
        if bias:
            self.bias_ih = Parameter(np.empty(gates, dtype=dt))
            self.bias_hh = Parameter(np.empty(gates, dtype=dt))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -bound, bound)
        if device is not None:  # PyTorch's factory argument: made here, then moved
            self.to(device)

    def forward(self, input, hx=None):
        x = input if isinstance(input, Tensor) else as_tensor(input)
        if x.ndim not in (1, 2) or x.shape[-1] != self.input_size:
            raise ValueError(f"{self._describe()}: expected input of shape (N, "
                             f"{self.input_size}) or ({self.input_size},), got {x.shape}")
        batched = x.ndim == 2
        if not batched:
            x = P.reshape(x, (1, x.shape[0]))
        if x.array.dtype != self.weight_ih.array.dtype:
            x = F._like(x, self.weight_ih)
        n = x.shape[0]
        zeros = as_tensor(np.zeros((n, self.hidden_size), dtype=x.array.dtype))
        if hx is None:
            state = (zeros, zeros) if self.mode == "LSTM" else zeros
        else:
            parts = hx if isinstance(hx, tuple) else (hx,)
            parts = tuple(p if isinstance(p, Tensor) else as_tensor(p) for p in parts)
            parts = parts if batched else tuple(P.reshape(p, (1, p.shape[-1])) for p in parts)
            state = parts if self.mode == "LSTM" else parts[0]
        out = _rnn_step(self.mode, F.linear(x, self.weight_ih, self.bias_ih), state,
                        self.weight_hh, self.bias_hh)
        if batched:
            return out
        if self.mode == "LSTM":
            return tuple(P.reshape(t, (self.hidden_size,)) for t in out)
        return P.reshape(out, (self.hidden_size,))

    def _short_name(self) -> str:
        return f"{type(self).__name__} {self.input_size}→{self.hidden_size}"

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}" + ("" if self.bias else ", bias=False")


class RNNCell(RNNCellBase):
    """One step of an Elman RNN: h' = tanh(x Wᵢₕᵀ + bᵢₕ + h Wₕₕᵀ + bₕₕ)."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", device=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: unknown nonlinearity {nonlinearity!r}")
        self.mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, bias, 1, dtype=dtype)
        if device is not None:  # PyTorch's factory argument: made here, then moved
            self.to(device)


class LSTMCell(RNNCellBase):
    """One LSTM step: returns (h', c')."""

    mode = "LSTM"

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None,
                 dtype=None):
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)


class GRUCell(RNNCellBase):
    """One GRU step: returns h'."""

    mode = "GRU"

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None,
                 dtype=None):
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)
