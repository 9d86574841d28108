"""``chainrule.nn.utils.rnn``: batches of variable-length sequences, padded or packed.

A packed batch (``PackedSequence``) holds only the real steps: time step by time step,
the rows of the sequences still running, longest first (``batch_sizes[t]`` of them), so
a recurrent layer stops each sequence at its own end and its final state is the state
after that sequence's last step.

>>> import chainrule as cr
>>> padded = cr.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 0.0]])
>>> packed = pack_padded_sequence(padded, [3, 2], batch_first=True)
>>> packed.data.tolist(), packed.batch_sizes.tolist()
([1.0, 4.0, 2.0, 5.0, 3.0], [2, 2, 1])
>>> out, lengths = pad_packed_sequence(packed, batch_first=True)
>>> out.tolist(), lengths.tolist()
([[1.0, 2.0, 3.0], [4.0, 5.0, 0.0]], [3, 2])
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._tensor import Tensor, as_tensor
from ..ops import composite as C
from ..ops import primitives as P

__all__ = ["PackedSequence", "pack_padded_sequence", "pack_sequence", "pad_packed_sequence",
           "pad_sequence", "unpack_sequence", "unpad_sequence"]


class PackedSequence(NamedTuple):
    """A packed batch: ``data`` (sum of lengths, *) time step by time step,
    ``batch_sizes`` (int64, one per step), and the permutation that sorted the batch
    by length (``sorted_indices``) and its inverse (``unsorted_indices``), None when
    the batch came sorted. Recurrent layers take it in place of a padded tensor and
    return one."""

    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None = None
    unsorted_indices: Tensor | None = None

    def _with_data(self, data: Tensor) -> PackedSequence:
        return PackedSequence(data, self.batch_sizes, self.sorted_indices,
                              self.unsorted_indices)

    def to(self, *args, **kwargs) -> PackedSequence:
        """The same batch with ``data.to(...)`` (dtype or device)."""
        return self._with_data(self.data.to(*args, **kwargs))

    def float(self) -> PackedSequence:
        return self._with_data(self.data.float())

    def double(self) -> PackedSequence:
        return self._with_data(self.data.double())

    def cpu(self) -> PackedSequence:
        return self

    @property
    def is_cuda(self) -> bool:
        return False


def _int64(values) -> Tensor:
    return as_tensor(np.asarray(values, dtype=np.int64))


def _lengths(lengths, op: str) -> np.ndarray:
    arr = lengths.array if isinstance(lengths, Tensor) else np.asarray(lengths)
    if arr.ndim != 1 or arr.dtype.kind not in "iu":
        raise ValueError(f"{op}: lengths must be a 1-D sequence of ints (one per "
                         f"sequence), got {arr.dtype} of shape {arr.shape}")
    return arr.astype(np.int64)


def pack_padded_sequence(input, lengths, batch_first: bool = False,
                         enforce_sorted: bool = True) -> PackedSequence:
    """Pack a padded batch (T, B, *) (or (B, T, *) with ``batch_first``) whose sequence
    ``b`` has ``lengths[b]`` real steps. With ``enforce_sorted`` the lengths must be in
    decreasing order; otherwise the batch is sorted here (a stable sort) and the
    permutation kept for ``pad_packed_sequence`` and the layers' final states."""
    op = "pack_padded_sequence"
    x = input if isinstance(input, Tensor) else as_tensor(input)
    if x.ndim < 2:
        raise ValueError(f"{op}: expected a padded batch of at least 2 dimensions, got "
                         f"shape {x.shape}")
    if batch_first:
        x = P.transpose(x, 0, 1)
    steps, batch = x.shape[0], x.shape[1]
    n = _lengths(lengths, op)
    if n.shape[0] != batch:
        raise ValueError(f"{op}: {n.shape[0]} lengths for a batch of {batch} sequences "
                         f"(input of shape {tuple(input.shape)}, batch_first={batch_first})")
    if n.min() <= 0:
        raise ValueError(f"{op}: every length must be positive, got {n.tolist()}")
    if n.max() > steps:
        raise ValueError(f"{op}: a length {int(n.max())} exceeds the {steps} padded steps "
                         f"(input of shape {tuple(input.shape)}, batch_first={batch_first})")
    if enforce_sorted:
        if np.any(np.diff(n) > 0):
            raise ValueError(f"{op}: lengths {n.tolist()} are not in decreasing order; sort "
                             "the batch or pass enforce_sorted=False")
        order = None
    else:
        order = np.argsort(-n, kind="stable")
        x = P.getitem(x, (slice(None), order))
        n = n[order]
    sizes = np.array([(n > t).sum() for t in range(int(n[0]))], dtype=np.int64)
    data = P.concatenate([P.getitem(x, (t, slice(0, int(b)))) for t, b in enumerate(sizes)],
                         axis=0)
    if order is None:
        return PackedSequence(data, _int64(sizes))
    return PackedSequence(data, _int64(sizes), _int64(order), _int64(np.argsort(order)))


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False,
                        padding_value: float = 0.0, total_length: int | None = None):
    """The inverse of ``pack_padded_sequence``: (padded (T, B, *) or (B, T, *), lengths
    (int64, in the batch's original order)). ``total_length`` pads to that many steps
    (at least the longest sequence)."""
    op = "pad_packed_sequence"
    if not isinstance(sequence, PackedSequence):
        raise TypeError(f"{op}: expected a PackedSequence (from pack_padded_sequence), got "
                        f"{type(sequence).__name__}")
    data, sizes = sequence.data, sequence.batch_sizes.array.astype(np.int64)
    batch, longest = int(sizes[0]), len(sizes)
    if total_length is not None:
        if total_length < longest:
            raise ValueError(f"{op}: total_length={total_length} is shorter than the longest "
                             f"sequence ({longest} steps)")
        longest = int(total_length)
    rest = data.shape[1:]
    rows, start = [], 0
    for t in range(longest):
        b = int(sizes[t]) if t < len(sizes) else 0
        part = P.getitem(data, slice(start, start + b))
        start += b
        if b < batch:
            fill = as_tensor(np.full((batch - b,) + rest, padding_value,
                                     dtype=data.array.dtype))
            part = P.concatenate([part, fill], axis=0) if b else fill
        rows.append(part)
    padded = C.stack(rows, 0)
    lengths = np.array([(sizes > i).sum() for i in range(batch)], dtype=np.int64)
    if sequence.unsorted_indices is not None:
        back = sequence.unsorted_indices.array
        padded = P.getitem(padded, (slice(None), back))
        lengths = lengths[back]
    if batch_first:
        padded = P.transpose(padded, 0, 1)
    return padded, _int64(lengths)


def pack_sequence(sequences, enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of (L_i, *) tensors (longest first unless ``enforce_sorted=False``)."""
    seqs = [s if isinstance(s, Tensor) else as_tensor(s) for s in sequences]
    return pack_padded_sequence(pad_sequence(seqs), [s.shape[0] for s in seqs],
                                enforce_sorted=enforce_sorted)


def unpad_sequence(padded_sequences, lengths, batch_first: bool = False) -> list:
    """The list of (L_i, *) tensors in a padded batch."""
    x = padded_sequences if isinstance(padded_sequences, Tensor) else \
        as_tensor(padded_sequences)
    if not batch_first:
        x = P.transpose(x, 0, 1)
    n = _lengths(lengths, "unpad_sequence")
    return [P.getitem(x, (i, slice(0, int(k)))) for i, k in enumerate(n)]


def unpack_sequence(packed_sequences: PackedSequence) -> list:
    """The list of (L_i, *) tensors in a packed batch, in the original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)


def pad_sequence(sequences, batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right") -> Tensor:
    """Stack sequences of different lengths (L_i, *) into (L_max, B, *) (or (B, L_max, *)
    with ``batch_first``), filling with ``padding_value``; differentiable.

    >>> import chainrule as cr
    >>> pad_sequence([cr.ones(3), cr.ones(1)], batch_first=True).tolist()
    [[1.0, 1.0, 1.0], [1.0, 0.0, 0.0]]
    """
    seqs = [s if isinstance(s, Tensor) else as_tensor(s) for s in sequences]
    if not seqs:
        raise ValueError("pad_sequence: expected at least one sequence")
    if padding_side not in ("right", "left"):
        raise ValueError(f"pad_sequence: padding_side must be 'right' or 'left', got "
                         f"{padding_side!r}")
    rest = seqs[0].shape[1:]
    for i, s in enumerate(seqs):
        if s.ndim == 0 or s.shape[1:] != rest:
            raise ValueError(f"pad_sequence: sequence {i} has shape {s.shape}; all must be "
                             f"(L_i, {', '.join(map(str, rest))})" if rest else
                             f"pad_sequence: sequence {i} has shape {s.shape}; expected (L_i,)")
    longest = max(s.shape[0] for s in seqs)
    padded = []
    for s in seqs:
        missing = longest - s.shape[0]
        if missing:
            fill = as_tensor(np.full((missing,) + rest, padding_value, dtype=s.array.dtype))
            parts = [s, fill] if padding_side == "right" else [fill, s]
            s = P.concatenate(parts, axis=0)
        padded.append(s)
    return C.stack(padded, 0 if batch_first else 1)
