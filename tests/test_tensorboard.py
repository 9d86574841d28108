"""chainrule.utils.tensorboard.SummaryWriter (torch.utils.tensorboard's): event files
that TensorBoard reads, written through tensorboardX, from chainrule tensors."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr

event_pb2 = pytest.importorskip("tensorboardX.proto.event_pb2",
                                reason="tensorboardX is not installed (the tensorboard extra)")
from chainrule.utils.tensorboard import SummaryWriter


def read_events(log_dir: Path) -> list:
    """Every Event of the event files under ``log_dir`` (TFRecord framing: length, its
    CRC, the record, its CRC)."""
    events = []
    for path in sorted(log_dir.rglob("events.out.tfevents.*")):
        data = path.read_bytes()
        at = 0
        while at < len(data):
            (length,) = struct.unpack("<Q", data[at:at + 8])
            record = data[at + 12:at + 12 + length]
            at += 12 + length + 4
            event = event_pb2.Event()
            event.ParseFromString(record)
            events.append(event)
    return events


def scalars(events: list) -> dict:
    out: dict = {}
    for e in events:
        for v in e.summary.value:
            if v.HasField("simple_value"):
                out.setdefault(v.tag, []).append((e.step, v.simple_value))
    return out


def test_scalars_histograms_and_images_from_chainrule_tensors(tmp_path):
    with SummaryWriter(tmp_path) as writer:
        assert writer.log_dir == str(tmp_path) == writer.get_logdir()
        for step in range(3):
            writer.add_scalar("loss", cr.tensor(1.0 / (step + 1)), step)
            writer.add_scalar("lr", 0.1, global_step=step)
        writer.add_scalars("acc", {"train": cr.tensor(0.9), "test": 0.8}, 2)
        writer.add_histogram("weights", cr.randn(200), 2)
        writer.add_image("digit", cr.rand(1, 8, 8), 2)
        writer.add_text("note", "chainrule", 2)
    found = scalars(read_events(tmp_path))
    np.testing.assert_allclose([v for _, v in found["loss"]], [1.0, 0.5, 1 / 3], rtol=1e-6)
    assert [s for s, _ in found["lr"]] == [0, 1, 2]
    # add_scalars writes one run per key, as PyTorch: acc_train, acc_test
    assert {p.name for p in tmp_path.iterdir() if p.is_dir()} == {"acc_train", "acc_test"}
    assert scalars(read_events(tmp_path / "acc_train"))["acc"] == [(2, pytest.approx(0.9))]
    tags = {v.tag for e in read_events(tmp_path) for v in e.summary.value}
    assert {"weights", "digit"} <= tags
    assert any(v.HasField("histo") and v.histo.num == 200
               for e in read_events(tmp_path) for v in e.summary.value)


def test_default_log_dir_and_errors(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    writer = SummaryWriter(comment="_mlp")
    assert Path(writer.log_dir).parent.name == "runs" and writer.log_dir.endswith("_mlp")
    with pytest.raises(NotImplementedError, match="chainrule.viz.draw"):
        writer.add_graph(cr.nn.Linear(2, 1), cr.ones(1, 2))
    with pytest.raises(AttributeError):
        writer.no_such_method  # noqa: B018
    writer.close()
