"""The layers and functions added for PyTorch programs (padding modes, packed sequences,
instance/RMS norm, EmbeddingBag, padding and shuffle layers, the extra activations,
Bilinear, 1-D pooling, HingeEmbeddingLoss): finite-difference gradients in float64,
PyTorch's values where it is installed, and clear errors for bad input.
(tests/compat/programs/p26-p35 run them inside whole programs.)"""

from __future__ import annotations

import numpy as np
import pytest
from chainrule.nn.utils.rnn import (
    PackedSequence,
    pack_padded_sequence,
    pack_sequence,
    pad_packed_sequence,
    unpack_sequence,
)

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn

rng = np.random.default_rng(11)


def _x(*shape):
    return cr.tensor(rng.standard_normal(shape), dtype=cr.float64, requires_grad=True)


GRADCHECKS = {
    "hardswish": lambda x: F.hardswish(x * 2.5),
    "hardsigmoid": lambda x: F.hardsigmoid(x * 2.5),
    "celu": lambda x: F.celu(x, 0.7),
    "softmin": lambda x: F.softmin(x, dim=1),
    "softshrink": lambda x: F.softshrink(x, 0.3),
    "hardshrink": lambda x: F.hardshrink(x, 0.3),
    "tanhshrink": F.tanhshrink,
    "threshold": lambda x: F.threshold(x, 0.1, -2.0),
    "rms_norm": lambda x: F.rms_norm(x, (5,), eps=1e-3),
    "instance_norm": lambda x: F.instance_norm(x.reshape(1, 3, 5)),
    "pixel_shuffle": lambda x: F.pixel_unshuffle(
        F.pixel_shuffle(x.reshape(1, 4, 3, 5), 2) ** 2, 2),
    "channel_shuffle": lambda x: F.channel_shuffle(x[0].reshape(1, 4, 3), 2) *
    x[1].reshape(1, 4, 3),
    "bilinear": lambda x: F.bilinear(x[:, :2], x[:, 2:5], x[:4, 5:].reshape(2, 2, 3),
                                     x[0, :2]),
    "embedding_bag_sum": lambda x: F.embedding_bag(cr.tensor([0, 2, 1, 1]), x,
                                                   cr.tensor([0, 1]), mode="sum",
                                                   per_sample_weights=x[:, 0].repeat(2)[:4]),
    "embedding_bag_mean": lambda x: F.embedding_bag(cr.tensor([[0, 2], [1, 0]]), x,
                                                    mode="mean", padding_idx=0),
    "avg_pool1d": lambda x: F.avg_pool1d(x.reshape(1, 3, 5), 3, 2, 1,
                                         count_include_pad=False),
    "adaptive_avg_pool1d": lambda x: F.adaptive_avg_pool1d(x.reshape(1, 3, 5), 3),
    "conv_transpose1d": lambda x: F.conv_transpose1d(x[:, :15].reshape(1, 3, 5),
                                                     x[:, 15:].reshape(3, 2, 2), stride=2),
    "local_response_norm": lambda x: F.local_response_norm(x.reshape(1, 3, 5), 2, alpha=0.5,
                                                           k=1.5),
    "multilabel_margin": lambda x: F.multilabel_margin_loss(
        x, cr.tensor([[3, 0, -1, 1, 1], [4, -1, 0, 0, 0], [0, 1, 2, 3, 4]])),
    "rrelu_eval": lambda x: F.rrelu(x, 0.1, 0.3),
    "log_softmax_dtype": lambda x: F.log_softmax(x, dim=1, dtype=cr.float64),
    "interpolate_bicubic": lambda x: F.interpolate(x.reshape(1, 1, 3, 5), size=(4, 7),
                                                   mode="bicubic"),
    "interpolate_area": lambda x: F.interpolate(x.reshape(1, 1, 3, 5), size=(2, 3),
                                                mode="area"),
    "interpolate_trilinear": lambda x: F.interpolate(x.reshape(1, 1, 3, 1, 5), size=(2, 2, 4),
                                                     mode="trilinear"),
    "affine_grid": lambda x: F.affine_grid(x[:2, :3].reshape(1, 2, 3), [1, 1, 3, 4]),
    "grid_sample_input": lambda x: F.grid_sample(
        x.reshape(1, 1, 3, 5), cr.tensor(np.linspace(-1.2, 1.1, 8).reshape(1, 2, 2, 2)),
        padding_mode="zeros"),
    "grid_sample_grid": lambda x: F.grid_sample(
        cr.tensor(np.arange(12.0).reshape(1, 1, 3, 4) ** 1.5), x[:, :4].reshape(1, 3, 2, 2)
        * 0.9, padding_mode="reflection", align_corners=True),
    "conv3d": lambda x: F.conv3d(x[:, :12].reshape(1, 1, 2, 2, 3) * x[:, :12].reshape(
        1, 1, 2, 2, 3), x[0, 12:].reshape(1, 1, 1, 1, 3), padding=(1, 0, 1), stride=(1, 2, 1)),
    "conv_transpose3d": lambda x: F.conv_transpose3d(
        x[:, :4].reshape(1, 1, 3, 2, 2), x[0, 4:].reshape(1, 1, 2, 2, 2), stride=(2, 1, 1),
        padding=(1, 0, 0), output_padding=(1, 0, 0)),
    "max_pool3d": lambda x: F.max_pool3d(x[:, :12].reshape(1, 1, 3, 4, 3), 2, stride=1,
                                         padding=1),
    "avg_pool3d": lambda x: F.avg_pool3d(x[:, :12].reshape(1, 1, 3, 4, 3), 2, stride=1,
                                         padding=1, count_include_pad=False),
    "adaptive_max_pool3d": lambda x: F.adaptive_max_pool3d(x[:, :12].reshape(1, 1, 3, 4, 3),
                                                           (2, 3, 2)),
    "hinge_embedding": lambda x: F.hinge_embedding_loss(x, cr.tensor(
        np.where(np.arange(15).reshape(3, 5) % 2, 1.0, -1.0)), margin=0.4, reduction="sum"),
}


SHAPES = {"pixel_shuffle": (4, 15), "channel_shuffle": (2, 12), "bilinear": (4, 8),
          "grid_sample_grid": (3, 4), "conv3d": (1, 15), "conv_transpose3d": (3, 12),
          "max_pool3d": (3, 12), "avg_pool3d": (3, 12), "adaptive_max_pool3d": (3, 12),
          "conv_transpose1d": (1, 27)}


@pytest.mark.parametrize("name", sorted(GRADCHECKS))
def test_gradients_match_finite_differences(name):
    assert cr.gradcheck(GRADCHECKS[name], _x(*SHAPES.get(name, (3, 5))))


def test_packed_lstm_gradients_match_finite_differences():
    lstm = nn.LSTM(2, 3, bidirectional=True).double()
    x = _x(4, 3, 2)

    def f(inp):
        packed = pack_padded_sequence(inp, cr.tensor([2, 4, 3]), enforce_sorted=False)
        out, (h, c) = lstm(packed)
        padded, _ = pad_packed_sequence(out)
        return padded.sum() + (h * c).sum()

    assert cr.gradcheck(f, x)


def test_packed_sequences_round_trip_in_the_original_order():
    seqs = [cr.tensor([[1.0], [2.0]]), cr.tensor([[3.0], [4.0], [5.0]]), cr.tensor([[6.0]])]
    packed = pack_sequence(seqs, enforce_sorted=False)
    assert isinstance(packed, PackedSequence)
    assert packed.batch_sizes.tolist() == [3, 2, 1]
    assert packed.sorted_indices.tolist() == [1, 0, 2]
    assert packed.data.reshape(-1).tolist() == [3.0, 1.0, 6.0, 4.0, 2.0, 5.0]
    padded, lengths = pad_packed_sequence(packed, batch_first=True, padding_value=-1.0,
                                          total_length=4)
    assert lengths.tolist() == [2, 3, 1]
    assert padded[:, :, 0].tolist() == [[1, 2, -1, -1], [3, 4, 5, -1], [6, -1, -1, -1]]
    assert [s.reshape(-1).tolist() for s in unpack_sequence(packed)] == \
        [[1.0, 2.0], [3.0, 4.0, 5.0], [6.0]]


def test_a_packed_gru_ends_each_sequence_at_its_own_length():
    gru = nn.GRU(2, 3, batch_first=True)
    x = cr.randn(2, 4, 2)
    packed = pack_padded_sequence(x, [4, 2], batch_first=True)
    _, h = gru(packed)
    _, h_short = gru(x[1:, :2])  # the second sequence alone, cut to its length
    np.testing.assert_allclose(h[0, 1].numpy(), h_short[0, 0].numpy(), rtol=1e-5)


@pytest.mark.parametrize("call, error, match", [
    (lambda: pack_padded_sequence(cr.zeros(3, 2), [2, 3]), ValueError,
     "not in decreasing order.*enforce_sorted=False"),
    (lambda: pack_padded_sequence(cr.zeros(3, 2), [4, 1]), ValueError,
     "a length 4 exceeds the 3 padded steps"),
    (lambda: pack_padded_sequence(cr.zeros(3, 2), [2, 0]), ValueError,
     "every length must be positive"),
    (lambda: pack_padded_sequence(cr.zeros(3, 2), [2, 1, 1]), ValueError,
     "3 lengths for a batch of 2"),
    (lambda: pad_packed_sequence(cr.zeros(3)), TypeError, "expected a PackedSequence"),
    (lambda: pad_packed_sequence(pack_sequence([cr.zeros(3)]), total_length=2), ValueError,
     "total_length=2 is shorter"),
    (lambda: nn.LSTM(3, 2)(pack_sequence([cr.zeros(2, 4)])), ValueError,
     r"expected packed data of shape \(steps, 3\)"),
    (lambda: nn.Conv2d(1, 1, 3, padding_mode="mirror"), ValueError,
     "padding_mode must be one of 'zeros', 'reflect'"),
    (lambda: nn.ConvTranspose2d(1, 1, 3, padding_mode="reflect"), ValueError,
     "only padding_mode='zeros' is supported for transposed"),
    (lambda: nn.Conv1d(1, 1, 5, padding=4, padding_mode="reflect")(cr.zeros(1, 1, 3)),
     ValueError, r"Conv1d.*padding_mode='reflect'"),
    (lambda: F.embedding_bag(cr.tensor([0, 1]), cr.zeros(3, 2), cr.tensor([0]), mode="mean",
                             per_sample_weights=cr.ones(2)), ValueError,
     "per_sample_weights is only supported with mode='sum'"),
    (lambda: F.embedding_bag(cr.tensor([0, 1]), cr.zeros(3, 2)), ValueError,
     "a 1-D input needs offsets"),
    (lambda: F.embedding_bag(cr.tensor([0, 1]), cr.zeros(3, 2), cr.tensor([1])), ValueError,
     "offsets must start at 0"),
    (lambda: nn.EmbeddingBag(3, 2)(cr.tensor([[0, 5]])), IndexError,
     "index 5 is out of range"),
    (lambda: nn.EmbeddingBag(3, 2, mode="median"), ValueError, "mode must be 'sum'"),
    (lambda: nn.ZeroPad2d((1, 2, 3)), ValueError, "a tuple of 4 ints"),
    (lambda: nn.ReflectionPad1d(3)(cr.zeros(1, 2, 3)), ValueError, "ReflectionPad1d"),
    (lambda: nn.InstanceNorm1d(3, affine=True)(cr.zeros(2, 4, 5)), ValueError,
     "expected 3 channels"),
    (lambda: nn.InstanceNorm2d(3)(cr.zeros(3, 5)), ValueError, "4-D"),
    (lambda: F.instance_norm(cr.zeros(2, 3, 1)), ValueError, "more than 1 spatial element"),
    (lambda: nn.RMSNorm(4)(cr.zeros(2, 3)), ValueError, r"trailing dimensions \(4,\)"),
    (lambda: F.pixel_shuffle(cr.zeros(1, 3, 2, 2), 2), ValueError, "C·r²"),
    (lambda: nn.ChannelShuffle(2)(cr.zeros(1, 3, 2)), ValueError, "divisible by groups=2"),
    (lambda: nn.Bilinear(2, 3, 4)(cr.zeros(5, 2), cr.zeros(5, 2)), ValueError, "Bilinear"),
    (lambda: F.hinge_embedding_loss(cr.zeros(2), cr.tensor([1.0, 0.0])), ValueError,
     "must hold 1 or -1"),
])
def test_bad_input_is_refused_with_a_clear_error(call, error, match):
    with pytest.raises(error, match=match):
        call()


torch = pytest.importorskip("torch")


@pytest.mark.parametrize("build", [
    lambda nn: nn.InstanceNorm1d(3, track_running_stats=True, momentum=0.3, affine=True),
    lambda nn: nn.InstanceNorm2d(3),
])
def test_instance_norm_train_and_eval_match_torch(build):
    x = rng.standard_normal((4, 3, 6) if build(cr.nn).__class__.__name__.endswith("1d")
                            else (4, 3, 5, 6)).astype(np.float32)
    ours, theirs = build(cr.nn), build(torch.nn)
    for _ in range(2):
        np.testing.assert_allclose(ours(cr.tensor(x)).numpy(),
                                   theirs(torch.tensor(x)).detach().numpy(), atol=1e-5)
    ours.eval()
    theirs.eval()
    np.testing.assert_allclose(ours(cr.tensor(x)).numpy(),
                               theirs(torch.tensor(x)).detach().numpy(), atol=1e-5)
    assert list(ours.state_dict()) == list(theirs.state_dict())


def test_state_dict_keys_of_the_new_layers_match_torch():
    for name, args in [("EmbeddingBag", (5, 3)), ("Bilinear", (2, 3, 4)), ("RMSNorm", (4,)),
                       ("ConvTranspose1d", (2, 3, 3)), ("InstanceNorm1d", (3,))]:
        ours, theirs = getattr(cr.nn, name)(*args), getattr(torch.nn, name)(*args)
        assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == \
            [(k, tuple(v.shape)) for k, v in theirs.state_dict().items()], name


# modules as print(model) shows them: the same text as PyTorch's
REPR_LINES = [
    "Linear(3, 4)|Linear(3, 4, bias=False)|Conv1d(2, 3, 3, stride=2, padding=1, dilation=2, groups=1, bias=False)|Conv2d(2, 4, 3, padding='same', padding_mode='reflect')|Conv2d(2, 4, (3, 5), stride=(2, 1), groups=2)|ConvTranspose2d(4, 2, 3, stride=2, padding=1, output_padding=1)|ConvTranspose1d(4, 2, 3, stride=2)",
    "MaxPool2d(2)|MaxPool2d(3, stride=2, padding=1, ceil_mode=True)|MaxPool1d(2)|AvgPool2d(2)|AvgPool2d(3, 2, 1, count_include_pad=False)|AvgPool1d(3)|AdaptiveAvgPool2d((1, 1))|AdaptiveAvgPool2d(3)|AdaptiveMaxPool2d(2)|AdaptiveAvgPool1d(4)|AdaptiveMaxPool1d(2)",
    "BatchNorm1d(4)|BatchNorm2d(4, momentum=None, affine=False)|LayerNorm(5)|LayerNorm([2, 3], elementwise_affine=False)|GroupNorm(2, 4)|InstanceNorm1d(3)|InstanceNorm2d(3, affine=True)|RMSNorm(4)",
    "Embedding(10, 3)|Embedding(10, 3, padding_idx=0, max_norm=1.0)|EmbeddingBag(10, 3)|Dropout()|Dropout(0.2)|Dropout2d(0.1)|Dropout1d()|Identity()|Flatten()|Flatten(0, 2)|Unflatten(1, (2, 3))",
    "ReLU()|ReLU(inplace=True)|LeakyReLU(0.2)|Sigmoid()|Tanh()|GELU()|GELU(approximate='tanh')|SiLU()|ELU()|SELU()|Softplus()|Mish()|Hardtanh()|ReLU6()|PReLU()|LogSigmoid()|Softsign()|GLU()|Softmax(dim=1)|LogSoftmax(dim=-1)|Softmin(dim=1)|Hardswish()|Hardsigmoid()|CELU()|Threshold(0.1, 2.0)|Tanhshrink()|Softshrink()|Hardshrink()|Softmax2d()",
    "LSTM(3, 4)|LSTM(3, 4, num_layers=2, batch_first=True, bidirectional=True, dropout=0.1)|GRU(3, 4)|RNN(3, 4, nonlinearity='relu')|LSTMCell(3, 4)|GRUCell(3, 4)|RNNCell(3, 4)",
    "MultiheadAttention(8, 2)|MultiheadAttention(8, 2, batch_first=True, kdim=4, vdim=4)|Upsample(scale_factor=2)|Upsample(size=(4, 4), mode='bilinear', align_corners=False)|ZeroPad2d(1)|ConstantPad1d((1, 2), 0.5)|ReflectionPad2d(2)|ReplicationPad1d((1, 0))|PixelShuffle(2)|PixelUnshuffle(2)|ChannelShuffle(2)|Bilinear(2, 3, 4)|CosineSimilarity()|PairwiseDistance()|Unfold(3)|Fold((4, 4), 2)",
    "MSELoss()|MSELoss(reduction='sum')|CrossEntropyLoss()|CrossEntropyLoss(label_smoothing=0.1)|NLLLoss()|BCELoss()|BCEWithLogitsLoss()|L1Loss()|SmoothL1Loss()|HuberLoss()|KLDivLoss()|TripletMarginLoss()|CosineEmbeddingLoss()|MarginRankingLoss()",
    "Sequential(Linear(2, 3), ReLU())|ModuleList([Linear(2, 3), Tanh()])|ModuleDict({'a': Linear(2, 2)})|TransformerEncoderLayer(8, 2, 16)",
    "BatchNorm1d(3, bias=False)|GroupNorm(1, 3, affine=False)|LayerNorm(3, bias=False)",
    "ConstantPad2d(1, 0.0)|ZeroPad1d(2)|CircularPad2d(1)|Upsample(scale_factor=(2, 3))",
    "BatchNorm3d(3)|Dropout3d(0.2)|AlphaDropout(0.1)|FeatureAlphaDropout()|RReLU()",
    "LocalResponseNorm(3, alpha=0.001)|MultiLabelMarginLoss()|CTCLoss()|InstanceNorm3d(2)",
    "LPPool2d(2, 3)|LPPool1d(1.5, 2, stride=1)|MaxUnpool2d(2)|TripletMarginWithDistanceLoss()",
    "Conv3d(2, 4, 3, stride=2, padding=1)|Conv3d(2, 4, (1, 3, 3), padding='same', bias=False)",
    "ConvTranspose3d(4, 2, 2, stride=2)|MaxPool3d(2)|MaxPool3d((1, 2, 2), stride=(1, 2, 2))",
    "AvgPool3d(3, stride=2, padding=1)|AdaptiveAvgPool3d((1, 2, 2))|AdaptiveMaxPool3d(1)",
]
REPR_CASES = [case for line in REPR_LINES for case in line.split("|")]


@pytest.mark.parametrize("case", REPR_CASES)
def test_repr_is_pytorchs(case):
    def build(lib):
        return eval(case, {k: getattr(lib.nn, k) for k in dir(lib.nn) if k[0].isupper()})

    assert repr(build(cr)) == repr(build(torch))


@pytest.mark.parametrize("name, args", [("BatchNorm1d", (3,)), ("GroupNorm", (1, 3)),
                                        ("InstanceNorm1d", (3,)), ("LayerNorm", (4,))])
def test_norm_layers_with_a_weight_and_no_bias_match_torch(name, args):
    kw = {"affine": True} if name == "InstanceNorm1d" else {}
    ours, theirs = getattr(cr.nn, name)(*args, bias=False, **kw), \
        getattr(torch.nn, name)(*args, bias=False, **kw)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    x = rng.standard_normal((2, 3, 4)).astype(np.float32)
    if name == "LayerNorm":
        x = x.reshape(3, 2, 4)
    ours.weight.array[...] = theirs.weight.detach().numpy()[...] = 1.5
    y = ours(cr.tensor(x, requires_grad=True))
    ty = theirs(torch.tensor(x, requires_grad=True))
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), atol=1e-5)
    (y * y).sum().backward()
    (ty * ty).sum().backward()
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=1e-4)


def test_local_response_norm_and_multilabel_margin_match_torch():
    x = rng.standard_normal((2, 5, 3, 4)).astype(np.float32)
    for size in (1, 2, 3, 6):
        np.testing.assert_allclose(
            F.local_response_norm(cr.tensor(x), size, 0.3, 0.6, 2.0).numpy(),
            torch.nn.functional.local_response_norm(torch.tensor(x), size, 0.3, 0.6, 2.0)
            .numpy(), rtol=1e-5)
    scores = rng.standard_normal((3, 4)).astype(np.float32)
    target = np.array([[3, 0, -1, 1], [1, 1, 2, -1], [-1, 0, 0, 0]])
    for reduction in ("none", "sum", "mean"):
        np.testing.assert_allclose(
            F.multilabel_margin_loss(cr.tensor(scores), cr.tensor(target),
                                     reduction=reduction).numpy(),
            torch.nn.functional.multilabel_margin_loss(torch.tensor(scores),
                                                       torch.tensor(target),
                                                       reduction=reduction).numpy(),
            rtol=1e-5)


def test_batchnorm3d_matches_torch_in_train_and_eval():
    x = rng.standard_normal((2, 3, 2, 4, 3)).astype(np.float32)
    ours, theirs = cr.nn.BatchNorm3d(3), torch.nn.BatchNorm3d(3)
    np.testing.assert_allclose(ours(cr.tensor(x)).numpy(),
                               theirs(torch.tensor(x)).detach().numpy(), atol=1e-5)
    ours.eval()
    theirs.eval()
    np.testing.assert_allclose(ours(cr.tensor(x)).numpy(),
                               theirs(torch.tensor(x)).detach().numpy(), atol=1e-5)
    with pytest.raises(ValueError, match=r"BatchNorm3d.*\(N, 3, D, H, W\)"):
        ours(cr.zeros(2, 3, 4, 4))


def test_random_layers_keep_their_statistics_and_are_the_identity_in_eval():
    cr.manual_seed(0)
    x = cr.randn(200, 500)
    y = F.alpha_dropout(x, 0.3, training=True)
    assert abs(y.mean().item()) < 0.02 and abs(y.std().item() - 1) < 0.02
    assert F.alpha_dropout(x, 0.3, training=False) is x
    z = F.feature_alpha_dropout(x.reshape(200, 50, 10), 0.5, training=True)
    assert all(len(set(np.round(row, 5))) in (1, 10) for row in
               (z.numpy() - x.reshape(200, 50, 10).numpy() * 0).reshape(-1, 10)[:5])
    r = F.rrelu(x, 0.1, 0.3, training=True).numpy()
    negative = x.numpy() < 0
    slopes = r[negative] / x.numpy()[negative]
    assert slopes.min() >= 0.1 - 1e-6 and slopes.max() <= 0.3 + 1e-6
    g = F.gumbel_softmax(cr.zeros(4, 3, requires_grad=True), tau=0.5, hard=True)
    assert g.sum(dim=1).tolist() == [1.0] * 4 and set(g.numpy().ravel()) <= {0.0, 1.0}
    assert cr.nn.Dropout3d(0.5).eval()(x.reshape(2, 100, 5, 10, 10)) is not None


def test_softmax_dtype_casts_the_input_first():
    x = cr.tensor([[1.0, 2.0, 3.0]])
    assert F.log_softmax(x, dim=1, dtype=cr.float64).dtype == cr.float64
    assert F.softmax(x, dim=1, dtype=cr.float64).dtype == cr.float64
    assert len(cr.nn.Sequential(cr.nn.ReLU()).insert(0, cr.nn.Tanh())) == 2
    assert cr.nn.utils.skip_init(cr.nn.Linear, 2, 3).weight.shape == (3, 2)


@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
def test_ctc_loss_matches_torch_through_log_softmax(reduction):
    logits = rng.standard_normal((7, 3, 5))
    targets, il, tl = np.array([[1, 2, 2, 0], [3, 3, 0, 0], [4, 1, 2, 3]]), [7, 5, 7], [3, 2, 4]
    results = []
    for lib in (cr, torch):
        x = lib.tensor(logits, requires_grad=True)
        loss = lib.nn.CTCLoss(reduction=reduction)(x.log_softmax(2), lib.tensor(targets),
                                                   lib.tensor(il), lib.tensor(tl))
        (loss.sum() if reduction == "none" else loss).backward()
        results.append((loss.detach().numpy(), x.grad.numpy()))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-10)
    np.testing.assert_allclose(results[0][1], results[1][1], atol=1e-12)


def test_ctc_loss_concatenated_targets_and_impossible_alignments():
    x = cr.tensor(rng.standard_normal((4, 2, 3)), requires_grad=True)
    lp = x.log_softmax(2)
    flat = F.ctc_loss(lp, cr.tensor([1, 2, 1, 1, 2]), [4, 4], [2, 3], reduction="none")
    padded = F.ctc_loss(lp, cr.tensor([[1, 2, 0], [1, 1, 2]]), [4, 4], [2, 3],
                        reduction="none")
    np.testing.assert_allclose(flat.numpy(), padded.numpy())
    # "1 1" needs a blank between the repeats: 3 steps, but the input has 2
    impossible = F.ctc_loss(lp, cr.tensor([[1, 1]]).repeat(2, 1), [2, 2], [2, 2],
                            reduction="none")
    assert np.isinf(impossible.numpy()).all()
    zeroed = F.ctc_loss(lp, cr.tensor([[1, 1]]).repeat(2, 1), [2, 2], [2, 2],
                        reduction="sum", zero_infinity=True)
    zeroed.backward()
    assert zeroed.item() == 0.0 and not x.grad.numpy().any()


@pytest.mark.parametrize("kwargs, match", [
    ({"targets": cr.tensor([[0, 1]])}, r"other than the blank 0, got \[0, 1\]"),
    ({"targets": cr.tensor([[1, 5]])}, r"class indices in \[0, 3\)"),
    ({"input_lengths": [5]}, r"input_lengths must be in \[1, 4\]"),
    ({"target_lengths": [3]}, r"target_lengths must be in \[0, 2\]"),
    ({"input_lengths": [4, 4]}, "input_lengths must hold 1 ints"),
    ({"blank": 3}, r"blank=3 is not a class index in \[0, 3\)"),
    ({"targets": cr.tensor([1, 2, 1])}, "3 concatenated targets, but target_lengths sum to 2"),
])
def test_ctc_loss_refuses_bad_input(kwargs, match):
    args = {"log_probs": cr.zeros(4, 1, 3), "targets": cr.tensor([[1, 2]]),
            "input_lengths": [4], "target_lengths": [2]}
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        F.ctc_loss(**args)


def test_more_functions_match_torch():
    x = rng.standard_normal((2, 3, 6, 4)).astype(np.float32)
    pairs = [
        (lambda lib, t: lib.nn.functional.pdist(t[0, 0], p=1.5), True),
        (lambda lib, t: lib.nn.functional.lp_pool2d(t.abs() + 0.1, 2.0, 2), True),
        (lambda lib, t: lib.nn.functional.lp_pool1d(t[0].abs() + 0.1, 3.0, 3, stride=2), True),
        (lambda lib, t: lib.nn.TripletMarginWithDistanceLoss(
            distance_function=lambda a, b: (a - b).abs().sum(-1), margin=0.5, swap=True)(
            t[0, 0], t[0, 1], t[1, 0]), True),
        (lambda lib, t: lib.nn.functional.max_unpool2d(
            *lib.nn.functional.max_pool2d(t, 2, return_indices=True), 2), True),
        (lambda lib, t: lib.nn.MaxUnpool2d(2)(
            *lib.nn.MaxPool2d(2, return_indices=True)(t[:, :, :5, :3]), output_size=(5, 3)),
         True),
        (lambda lib, t: lib.nn.functional.leaky_relu_(t.clone(), 0.2), True),
        (lambda lib, t: lib.nn.functional.relu_(t.clone()) + lib.nn.functional.elu_(t.clone()),
         True),
        (lambda lib, t: lib.nn.InstanceNorm3d(2, affine=True)(t.unsqueeze(0)), True),
    ]
    for fn, with_grad in pairs:
        ours_x = cr.tensor(x, requires_grad=with_grad)
        theirs_x = torch.tensor(x, requires_grad=with_grad)
        ours, theirs = fn(cr, ours_x), fn(torch, theirs_x)
        np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-5,
                                   atol=1e-6)
        ours.sum().backward()
        theirs.sum().backward()
        np.testing.assert_allclose(ours_x.grad.numpy(), theirs_x.grad.numpy(), rtol=1e-4,
                                   atol=1e-5)


def test_containers_add_repeat_pop_and_load_report_as_torch():
    for lib in (cr, torch):
        a, b = lib.nn.Linear(2, 2), lib.nn.ReLU()
        seq = lib.nn.Sequential(a) + lib.nn.Sequential(b)
        assert [type(m).__name__ for m in seq] == ["Linear", "ReLU"]
        tripled = lib.nn.Sequential(a) * 3
        assert len(tripled) == 3 and tripled[2] is a
        assert seq.pop(0) is a and len(seq) == 1
        assert len(lib.nn.ModuleList([b]) + lib.nn.ModuleList([a])) == 2
    assert repr(cr.nn.Linear(2, 2).load_state_dict({}, strict=False)) == \
        repr(torch.nn.Linear(2, 2).load_state_dict({}, strict=False))
    full = cr.nn.Linear(2, 2)
    assert repr(full.load_state_dict(full.state_dict())) == "<All keys matched successfully>"


@pytest.mark.parametrize("call, error, match", [
    (lambda: F.interpolate(cr.zeros(1, 1, 4), scale_factor=2, mode="bicubic"), ValueError,
     "mode 'bicubic' is not supported for a 3-D input"),
    (lambda: F.interpolate(cr.zeros(1, 1, 4, 4), size=2, mode="area", align_corners=True),
     ValueError, "align_corners only applies"),
    (lambda: F.interpolate(cr.zeros(1, 4), size=2), ValueError, "expected a 3-D"),
    (lambda: F.affine_grid(cr.zeros(1, 2, 3), [1, 1, 2, 2, 2]), ValueError,
     r"theta \(N, 3, 4\) with size \(N, C, D, H, W\)"),
    (lambda: F.grid_sample(cr.zeros(1, 1, 3, 3), cr.zeros(1, 2, 2, 3)), ValueError,
     r"grid \(N, Ho, Wo, 2\)"),
    (lambda: F.grid_sample(cr.zeros(1, 1, 3, 3), cr.zeros(1, 2, 2, 2), mode="area"),
     ValueError, "mode must be 'bilinear', 'nearest' or 'bicubic'"),
    (lambda: F.grid_sample(cr.zeros(1, 1, 3, 3), cr.zeros(1, 2, 2, 2), padding_mode="wrap"),
     ValueError, "padding_mode must be"),
    (lambda: F.grid_sample(cr.zeros(1, 1, 2, 3, 3), cr.zeros(1, 1, 2, 2, 3)),
     NotImplementedError, "5-D"),
])
def test_resampling_refuses_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()


VOLUME_CASES = [
    ("Conv3d", (4, 6, 3), {"stride": (2, 1, 2), "padding": 1}),
    ("Conv3d", (4, 4, (2, 3, 1)), {"padding": "same", "dilation": (2, 1, 1), "groups": 2}),
    ("Conv3d", (4, 2, 3), {"padding": 1, "padding_mode": "reflect", "bias": False}),
    ("ConvTranspose3d", (4, 3, 3), {"stride": 2, "padding": 1, "output_padding": 1}),
    ("ConvTranspose3d", (4, 2, (2, 3, 2)), {"stride": (1, 2, 2), "dilation": (2, 1, 1),
                                            "groups": 2}),
    ("MaxPool3d", (3,), {"stride": 2, "padding": 1, "ceil_mode": True}),
    ("MaxPool3d", ((2, 3, 2),), {"stride": 1, "dilation": (2, 1, 2)}),
    ("AvgPool3d", (3,), {"stride": 2, "padding": 1, "count_include_pad": False,
                         "ceil_mode": True}),
    ("AvgPool3d", (2,), {"divisor_override": 3}),
    ("AdaptiveAvgPool3d", ((2, 3, None),), {}),
    ("AdaptiveMaxPool3d", ((2, 4, 3),), {}),
]


@pytest.mark.parametrize("name, args, kw", VOLUME_CASES)
def test_volume_layers_match_torch(name, args, kw):
    x = rng.standard_normal((2, 4, 5, 6, 7)).astype(np.float32)
    outs = []
    for lib in (cr, torch):
        m = getattr(lib.nn, name)(*args, **kw)
        weights = np.random.default_rng(1)
        with lib.no_grad():
            for p in m.parameters():
                p.copy_(lib.tensor(weights.standard_normal(tuple(p.shape)).astype(np.float32)))
        t = lib.tensor(x, requires_grad=True)
        y = m(t)
        g = np.random.default_rng(2).standard_normal(tuple(y.shape)).astype(np.float32)
        (y * lib.tensor(g)).sum().backward()
        outs.append([y.detach().numpy(), t.grad.numpy()] +
                    [p.grad.numpy() for p in m.parameters()])
    for ours, theirs in zip(*outs):
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-4)


def test_fusing_batchnorm_into_the_layer_before_matches_torch():
    x = rng.standard_normal((3, 2, 5, 5)).astype(np.float32)
    for transpose in (False, True):
        results = []
        for lib in (cr, torch):
            conv = (lib.nn.ConvTranspose2d(2, 4, 3) if transpose else lib.nn.Conv2d(2, 4, 3))
            bn = lib.nn.BatchNorm2d(4)
            weights = np.random.default_rng(3)
            with lib.no_grad():
                for t in list(conv.parameters()) + list(bn.parameters()) + \
                        [bn.running_mean, bn.running_var]:
                    t.copy_(lib.tensor(weights.uniform(0.5, 1.5, tuple(t.shape))
                                       .astype(np.float32)))
            conv.eval()
            bn.eval()
            fused = lib.nn.utils.fuse_conv_bn_eval(conv, bn, transpose=transpose)
            results.append((fused(lib.tensor(x)).detach().numpy(),
                            bn(conv(lib.tensor(x))).detach().numpy()))
        np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(results[0][0], results[0][1], rtol=1e-5, atol=1e-5)
    lin, bn1 = cr.nn.Linear(3, 2).eval(), cr.nn.BatchNorm1d(2).eval()
    z = cr.randn(4, 3)
    np.testing.assert_allclose(cr.nn.utils.fuse_linear_bn_eval(lin, bn1)(z).detach().numpy(),
                               bn1(lin(z)).detach().numpy(), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="call .eval"):
        cr.nn.utils.fuse_linear_bn_eval(cr.nn.Linear(3, 2), bn1)


@pytest.mark.parametrize("kw", [{"num_layers": 2, "proj_size": 2},
                                {"bidirectional": True, "proj_size": 3, "num_layers": 2},
                                {"proj_size": 1, "batch_first": True}])
def test_lstm_with_projections_matches_torch(kw):
    x = rng.standard_normal((5, 3, 4)).astype(np.float32)
    directions = 2 if kw.get("bidirectional") else 1
    batch = 5 if kw.get("batch_first") else 3
    states = np.random.default_rng(4)
    h0 = states.standard_normal((kw.get("num_layers", 1) * directions, batch,
                                 kw["proj_size"])).astype(np.float32)
    c0 = states.standard_normal((kw.get("num_layers", 1) * directions, batch, 5)
                                ).astype(np.float32)
    outs = []
    for lib in (cr, torch):
        lstm = lib.nn.LSTM(4, 5, **kw)
        weights = np.random.default_rng(1)
        with lib.no_grad():
            for p in lstm.parameters():
                p.copy_(lib.tensor(weights.standard_normal(tuple(p.shape)).astype(np.float32)))
        t = lib.tensor(x, requires_grad=True)
        y, (h, c) = lstm(t, (lib.tensor(h0), lib.tensor(c0)))
        (y.sum() + (h * h).sum() + c.sum()).backward()
        outs.append(([n for n, _ in lstm.named_parameters()], repr(lstm),
                     [y.detach().numpy(), h.detach().numpy(), c.detach().numpy(),
                      t.grad.numpy()] + [p.grad.numpy() for p in lstm.parameters()]))
    assert outs[0][:2] == outs[1][:2]
    for ours, theirs in zip(outs[0][2], outs[1][2]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("build, match", [
    (lambda: cr.nn.GRU(3, 4, proj_size=2), "proj_size is only supported for LSTM"),
    (lambda: cr.nn.LSTM(3, 4, proj_size=4), r"proj_size \(4\) must be smaller"),
    (lambda: cr.nn.LSTM(3, 4, proj_size=2)(cr.zeros(2, 1, 3), (cr.zeros(1, 1, 4),
                                                               cr.zeros(1, 1, 4))),
     r"expected initial state of shape \(1, 1, 2\)"),
])
def test_lstm_projection_errors(build, match):
    with pytest.raises(ValueError, match=match):
        build()


@pytest.mark.parametrize("kw", [{"add_bias_kv": True}, {"add_zero_attn": True},
                                {"add_bias_kv": True, "add_zero_attn": True, "bias": False}])
def test_attention_with_extra_keys_matches_torch(kw):
    x = rng.standard_normal((3, 2, 8)).astype(np.float32)
    memory = rng.standard_normal((4, 2, 8)).astype(np.float32)
    pad = np.array([[False, False, True, False], [False, True, False, False]])
    causal = np.triu(np.ones((3, 4), bool), 1)
    outs = []
    for lib in (cr, torch):
        mha = lib.nn.MultiheadAttention(8, 2, **kw)
        weights = np.random.default_rng(1)
        with lib.no_grad():
            for p in mha.parameters():
                p.copy_(lib.tensor(weights.standard_normal(tuple(p.shape)).astype(np.float32)
                                   * 0.4))
        t = lib.tensor(x, requires_grad=True)
        y, w = mha(t, lib.tensor(memory), lib.tensor(memory), key_padding_mask=lib.tensor(pad),
                   attn_mask=lib.tensor(causal))
        (y.sum() + w.pow(2).sum()).backward()
        outs.append(([n for n, _ in mha.named_parameters()],
                     [y.detach().numpy(), w.detach().numpy(), t.grad.numpy()] +
                     [p.grad.numpy() for p in mha.parameters()]))
    assert outs[0][0] == outs[1][0]
    for ours, theirs in zip(outs[0][1], outs[1][1]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-5)


def test_optimizer_state_shows_tensors_that_share_the_buffers():
    w = cr.nn.Parameter(cr.ones(3))
    opt = cr.optim.SGD([w], lr=0.1, momentum=0.9)
    w.grad = cr.ones(3)
    opt.step()
    buf = opt.state[w]["momentum_buffer"]
    assert isinstance(buf, cr.Tensor) and buf.tolist() == [1.0, 1.0, 1.0]
    buf.zero_()  # in place: the optimizer's own buffer
    assert opt.state.raw(w)["momentum_buffer"].tolist() == [0.0, 0.0, 0.0]
    opt.state[w]["momentum_buffer"] = cr.full((3,), 2.0)
    assert type(opt.state.raw(w)["momentum_buffer"]).__name__ == "ndarray"
    opt.step()
    np.testing.assert_allclose(opt.state[w]["momentum_buffer"].numpy(), 2.8)
    assert [type(v).__name__ for v in opt.state_dict()["state"][0].values()] == ["ndarray"]


def test_data_parallel_wraps_the_module_as_torch():
    for lib in (cr, torch):
        inner = lib.nn.Linear(3, 2)
        model = lib.nn.DataParallel(inner)
        assert model.module is inner
        assert list(model.state_dict()) == ["module.weight", "module.bias"]
        assert tuple(model(lib.ones(4, 3)).shape) == (4, 2)
    assert repr(cr.nn.DataParallel(cr.nn.ReLU())) == repr(torch.nn.DataParallel(torch.nn.ReLU()))
    with pytest.raises(TypeError, match="expected an nn.Module"):
        cr.nn.DataParallel(lambda x: x)


def test_the_nn_modules_tree_names_the_same_classes():
    from chainrule.nn.modules.batchnorm import _BatchNorm
    from chainrule.nn.modules.loss import _Loss, _WeightedLoss
    from chainrule.nn.modules.utils import _pair, consume_prefix_in_state_dict_if_present

    from chainrule.nn.modules import conv

    assert conv.Conv2d is cr.nn.Conv2d and cr.nn.modules.Linear is cr.nn.Linear
    assert isinstance(cr.nn.BatchNorm1d(2), _BatchNorm)
    assert isinstance(cr.nn.SyncBatchNorm(2), cr.nn.modules.batchnorm._BatchNorm)
    assert isinstance(cr.nn.CrossEntropyLoss(), _WeightedLoss)
    assert isinstance(cr.nn.MSELoss(), _Loss) and _pair(3) == (3, 3)
    state = {"module.w": 1}
    consume_prefix_in_state_dict_if_present(state, "module.")
    assert state == {"w": 1}
    for torch_file, names in cr.nn.modules._FILES.items():
        ours, theirs = getattr(cr.nn.modules, torch_file), getattr(torch.nn.modules, torch_file)
        assert all(hasattr(theirs, n) for n in names), torch_file  # PyTorch's file, too
        assert all(getattr(ours, n) is getattr(cr.nn, n) for n in names), torch_file


class _Focal(cr.nn.modules.loss._WeightedLoss):
    def __init__(self, weight=None, gamma=2.0, reduction="mean"):
        super().__init__(weight, reduction=reduction)
        self.gamma = gamma

    def forward(self, logits, target):
        logp = F.log_softmax(logits, dim=1)
        return F.nll_loss((1 - logp.exp()) ** self.gamma * logp, target, weight=self.weight,
                          reduction=self.reduction)


def test_users_losses_subclass_loss_with_pytorchs_signature():
    x, t = cr.tensor([[1.0, 2.0, 0.5], [0.1, -1.0, 2.0]]), cr.tensor([0, 2])
    assert round(_Focal(weight=cr.tensor([1.0, 2.0, 3.0]))(x, t).item(), 5) == 0.22013
    assert _Focal(reduction="sum").reduction == "sum"
    assert list(_Focal(weight=cr.ones(3)).state_dict()) == ["weight"]
    legacy = cr.nn.modules.loss._Loss(size_average=False)
    assert legacy.reduction == "sum"
    assert cr.nn.modules.loss._Loss(reduce=False).reduction == "none"
    with pytest.raises(ValueError, match="reduction must be"):
        cr.nn.modules.loss._Loss(reduction="avg")


class _Counter(cr.nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = cr.nn.Linear(2, 2)
        self.calls, self.label = 0, "x"

    def forward(self, x):
        self.calls += 1
        return self.lin(x)

    def get_extra_state(self):
        return {"calls": self.calls, "label": self.label}

    def set_extra_state(self, state):
        self.calls, self.label = state["calls"], state["label"]


def test_extra_state_is_saved_and_restored_as_in_torch(tmp_path):
    model = cr.nn.Sequential(_Counter(), cr.nn.ReLU())
    model(cr.ones(1, 2))
    model[0].label = "y"
    state = model.state_dict()
    assert list(state) == ["0._extra_state", "0.lin.weight", "0.lin.bias"]
    cr.save(state, tmp_path / "m.pt")
    fresh = cr.nn.Sequential(_Counter(), cr.nn.ReLU())
    assert repr(fresh.load_state_dict(cr.load(tmp_path / "m.pt"))) == \
        "<All keys matched successfully>"
    assert (fresh[0].calls, fresh[0].label) == (1, "y")
    report = fresh.load_state_dict({"0.lin.weight": cr.ones(2, 2), "0.lin.bias": cr.ones(2)},
                                   strict=False)
    assert report.missing_keys == ["0._extra_state"]
    with pytest.raises(RuntimeError, match="does not define it"):
        cr.nn.Linear(1, 1).get_extra_state()


def test_pruning_masks_training_and_errors():
    prune = cr.nn.utils.prune
    layer = cr.nn.Linear(5, 4)
    opt = cr.optim.SGD(layer.parameters(), lr=0.1)
    prune.random_unstructured(layer, "weight", amount=0.45)  # chainrule's random choice
    assert int((layer.weight_mask.numpy() == 0).sum()) == round(0.45 * 20)
    prune.random_structured(layer, "weight", amount=1, dim=0)
    rows_cut = (layer.weight_mask.numpy().sum(axis=1) == 0).sum()
    assert rows_cut >= 1
    layer(cr.ones(2, 5)).sum().backward()
    assert (layer.weight_orig.grad.numpy()[layer.weight_mask.numpy() == 0] == 0).all()
    opt.step()  # the optimizer holds weight_orig; it stays the parameter after remove
    orig = layer.weight_orig
    prune.remove(layer, "weight")
    assert layer.weight is orig and not prune.is_pruned(layer)
    assert int((layer.weight.numpy() == 0).sum()) >= int(rows_cut) * 5
    with pytest.raises(ValueError, match="'weight' of Linear is not pruned"):
        prune.remove(layer, "weight")
    with pytest.raises(ValueError, match="amount=30 is larger than the 20 units"):
        prune.l1_unstructured(cr.nn.Linear(5, 4), "weight", amount=30)
    with pytest.raises(ValueError, match=r"a fractional amount must be in \[0, 1\]"):
        prune.l1_unstructured(cr.nn.Linear(5, 4), "weight", amount=1.5)
    with pytest.raises(ValueError, match="has no parameter 'scale'"):
        prune.l1_unstructured(cr.nn.Linear(5, 4), "scale", amount=1)
    with pytest.raises(ValueError, match="importance_scores of shape"):
        prune.l1_unstructured(cr.nn.Linear(5, 4), "weight", 1, importance_scores=cr.ones(3))
    with pytest.raises(TypeError, match="only unstructured methods prune globally"):
        prune.global_unstructured([(cr.nn.Linear(2, 2), "weight")],
                                  pruning_method=prune.RandomStructured, amount=1)


def test_lazy_layers_keep_their_parameter_objects_and_refuse_a_call_without_input():
    layer = cr.nn.LazyLinear(2)
    waiting = layer.weight
    assert isinstance(waiting, cr.nn.UninitializedParameter)
    assert layer.bias is not None and cr.nn.LazyLinear(2, bias=False).bias is None
    opt = cr.optim.SGD(layer.parameters(), lr=0.1)  # built before the first call
    out = layer(cr.ones(3, 4))
    assert layer.weight is waiting and type(waiting) is cr.nn.Parameter
    assert type(layer) is cr.nn.Linear and layer.weight.shape == (2, 4)
    out.sum().backward()
    opt.step()
    bn = cr.nn.LazyBatchNorm1d(affine=False)
    bn(cr.randn(5, 3))
    assert bn.running_mean.shape == (3,) and bn.weight is None
    with pytest.raises(TypeError, match="the first call needs an input"):
        cr.nn.LazyConv2d(2, 3)()


def test_state_dict_hooks_rename_and_migrate_as_in_torch():
    results = []
    for lib in (cr, torch):
        log = []
        model = lib.nn.Sequential(lib.nn.Linear(2, 2), lib.nn.Sequential(lib.nn.Linear(2, 1)))
        model.register_state_dict_pre_hook(
            lambda mod, prefix, keep, log=log: log.append(("pre", prefix)))
        model[1].register_state_dict_pre_hook(
            lambda mod, prefix, keep, log=log: log.append(("pre", prefix)))

        def add_scale(mod, sd, prefix, meta, log=log, lib=lib):
            log.append(("post", prefix, len(sd)))
            sd[prefix + "extra_scale"] = lib.ones(1)

        model[1].register_state_dict_post_hook(add_scale)
        state = model.state_dict()

        def migrate(mod, sd, prefix, meta, strict, missing, unexpected, errors):
            for old, new in (("fc.w", "0.weight"), ("fc.b", "0.bias")):
                if prefix + old in sd:
                    sd[prefix + new] = sd.pop(prefix + old)

        def drop_extra(mod, keys):
            for k in list(keys.unexpected_keys):
                if k.endswith("extra_scale"):
                    keys.unexpected_keys.remove(k)

        fresh = lib.nn.Sequential(lib.nn.Linear(2, 2), lib.nn.Sequential(lib.nn.Linear(2, 1)))
        fresh.register_load_state_dict_pre_hook(migrate)
        handle = fresh.register_load_state_dict_post_hook(drop_extra)
        old = dict(state)
        old["fc.w"], old["fc.b"] = old.pop("0.weight"), old.pop("0.bias")
        report = repr(fresh.load_state_dict(old))
        handle.remove()
        with pytest.raises(RuntimeError, match="extra_scale"):
            fresh.load_state_dict(old)
        results.append((list(state), log, report,
                        np.array_equal(fresh[0].weight.detach().numpy(),
                                       model[0].weight.detach().numpy())))
    assert results[0] == results[1]


def test_adaptive_log_softmax_matches_torch():
    x = rng.standard_normal((9, 8)).astype(np.float32)
    target = np.array([0, 2, 3, 6, 7, 9, 10, 11, 1])
    results = []
    for lib in (cr, torch):
        asm = lib.nn.AdaptiveLogSoftmaxWithLoss(8, 12, cutoffs=[3, 7, 10], div_value=2.0,
                                                head_bias=True)
        weights = np.random.default_rng(0)
        with lib.no_grad():
            for p in asm.parameters():
                p.copy_(lib.tensor(weights.normal(0, 0.5, tuple(p.shape)).astype(np.float32)))
        t = lib.tensor(x, requires_grad=True)
        out = asm(t, lib.tensor(target))
        out.loss.backward()
        results.append(([n for n, _ in asm.named_parameters()], repr(asm),
                         [out.output.detach().numpy(), out.loss.detach().numpy(),
                          t.grad.numpy(), asm.log_prob(t).detach().numpy(),
                          asm.predict(t).numpy()] +
                         [p.grad.numpy() for p in asm.parameters()]))
    assert results[0][:2] == results[1][:2]
    for ours, theirs in zip(results[0][2], results[1][2]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="target values must be in"):
        cr.nn.AdaptiveLogSoftmaxWithLoss(8, 12, [3])(cr.ones(1, 8), cr.tensor([12]))
    with pytest.raises(ValueError, match="cutoffs must be a sorted list"):
        cr.nn.AdaptiveLogSoftmaxWithLoss(8, 12, [7, 3])


def test_grouped_query_attention_matches_torch():
    arrays = [rng.standard_normal(s).astype(np.float32) for s in
              ((2, 6, 4, 5), (2, 2, 3, 5), (2, 2, 3, 7))]
    results = []
    for lib in (cr, torch):
        q, k, v = (lib.tensor(a, requires_grad=True) for a in arrays)
        y = lib.nn.functional.scaled_dot_product_attention(q, k, v, enable_gqa=True,
                                                           is_causal=True)
        (y * y).sum().backward()
        results.append([y.detach().numpy(), q.grad.numpy(), k.grad.numpy(), v.grad.numpy()])
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match=r"query heads \(6\) must be a multiple"):
        F.scaled_dot_product_attention(cr.zeros(1, 6, 2, 3), cr.zeros(1, 4, 2, 3),
                                       cr.zeros(1, 4, 2, 3), enable_gqa=True)


def test_module_list_insert_returns_none_as_pytorch():
    modules = cr.nn.ModuleList([cr.nn.ReLU()])
    assert modules.insert(0, cr.nn.Tanh()) is None
    assert [type(m).__name__ for m in modules] == ["Tanh", "ReLU"]


def test_ieee_results_come_without_numpy_warnings_as_in_pytorch():
    """log(0), 0/0, exp(1000) and their gradients are silent, as PyTorch's; a program's own
    NumPy code still warns (checked in a fresh process: pytest rewrites the filters)."""
    import subprocess
    import sys

    program = (
        "import numpy as np, chainrule as torch\n"
        "a = torch.log(torch.tensor([0.0, 1.0])); b = torch.tensor([0.0]) / torch.tensor([0.0])\n"
        "c = torch.exp(torch.tensor([1000.0]))\n"
        "x = torch.tensor([0.0], requires_grad=True); torch.log(x).sum().backward()\n"
        "print(a.tolist(), b.tolist(), c.tolist(), x.grad.tolist())\n"
        "np.log(np.zeros(1))\n")
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                            check=True)
    assert result.stdout.split() == ["[-inf,", "0.0]", "[nan]", "[inf]", "[inf]"]
    warned = [ln for ln in result.stderr.splitlines() if "RuntimeWarning" in ln]
    assert len(warned) == 1 and "<string>:6" in warned[0], result.stderr


@pytest.mark.parametrize("name, kwargs, shape", [
    ("LazyConvTranspose1d", {"out_channels": 3, "kernel_size": 3, "stride": 2}, (2, 4, 5)),
    ("LazyConvTranspose2d", {"out_channels": 3, "kernel_size": 3, "stride": 2,
                             "output_padding": 1, "bias": False}, (2, 4, 5, 5)),
    ("LazyConvTranspose3d", {"out_channels": 2, "kernel_size": 2, "groups": 2}, (1, 4, 3, 3, 3)),
    ("LazyInstanceNorm1d", {}, (2, 3, 6)),
    ("LazyInstanceNorm2d", {"affine": False}, (1, 3, 5, 5)),
    ("LazyInstanceNorm3d", {"track_running_stats": False}, (2, 2, 3, 3, 3)),
])
def test_lazy_transposed_convs_and_instance_norms_as_torch(name, kwargs, shape):
    # (an unbatched (C, H, W) input gives C features here; PyTorch 2.13's lazy instance
    # norms read shape[1] and then fail on their own running_mean)
    x = np.random.default_rng(0).standard_normal(shape)
    results = {}
    for lib in (cr, torch):
        layer = getattr(lib.nn, name)(**kwargs)
        before = repr(layer)
        inp = lib.tensor(x, dtype=lib.float32, requires_grad=True)
        out = layer(inp)  # materialized; then the same weights in both libraries
        with lib.no_grad():
            for i, p in enumerate(layer.parameters()):
                p.copy_(lib.tensor(np.cos(np.arange(p.numel()) + i).reshape(tuple(p.shape)),
                                   dtype=lib.float32))
        out = layer(inp)
        out.pow(2).sum().backward()
        results[lib.__name__] = (before, repr(layer), type(layer).__name__,
                                 list(layer.state_dict()), out.detach().numpy(),
                                 [p.grad.numpy() for p in layer.parameters()] + [inp.grad.numpy()])
    ours, theirs = results["chainrule"], results["torch"]
    assert ours[:4] == theirs[:4]
    np.testing.assert_allclose(ours[4], theirs[4], rtol=1e-5, atol=1e-5)
    for a, b in zip(ours[5], theirs[5]):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)


def test_lazy_layers_take_their_shapes_from_a_loaded_state_dict_as_torch():
    x = np.random.default_rng(1).standard_normal((4, 3))
    results = {}
    for lib in (cr, torch):
        lib.manual_seed(0)
        source = lib.nn.Sequential(lib.nn.Linear(3, 2), lib.nn.BatchNorm1d(2))
        with lib.no_grad():
            source[0].weight.copy_(lib.tensor(np.arange(6.0).reshape(2, 3) / 7, dtype=lib.float32))
            source[0].bias.fill_(0.25)
            source[1].running_mean.fill_(0.5)
        lazy = lib.nn.Sequential(lib.nn.LazyLinear(2), lib.nn.LazyBatchNorm1d())
        lazy.load_state_dict(source.state_dict())
        kinds = [type(m).__name__ for m in lazy]
        lazy.eval()
        out = lazy(lib.tensor(x, dtype=lib.float32))
        results[lib.__name__] = (kinds, [type(m).__name__ for m in lazy],
                                 list(lazy[0].weight.shape), out.detach().numpy(),
                                 lazy[1].running_mean.numpy())
    ours, theirs = results["chainrule"], results["torch"]
    assert ours[:3] == theirs[:3]
    for a, b in zip(ours[3:], theirs[3:]):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


def test_pytorch_nn_names_chainrule_lacks_say_so_and_name_the_nearest():
    from chainrule.nn import functional as cr_F

    for module, torch_module in ((cr.nn, torch.nn), (cr_F, torch.nn.functional)):
        for name, nearest in module._NOT_IN_CHAINRULE.items():
            assert hasattr(torch_module, name) or name in ("NLLLoss2d", "Container")
            with pytest.raises(AttributeError, match=f"{name}.*not part of chainrule; the "
                                                     "nearest"):
                getattr(module, name)
            # the names it points to exist
            for word in nearest.replace(",", " ").replace("(", " ").split():
                if word.startswith(("nn.", "F.")) and "." not in word[3:]:
                    owner = cr.nn if word.startswith("nn.") else cr_F
                    assert hasattr(owner, word.split(".")[1]), word
    with pytest.raises(AttributeError, match=r"has no attribute 'Nonsense'$"):
        cr.nn.Nonsense  # noqa: B018


@pytest.mark.parametrize("dims", [1, 2, 3])
@pytest.mark.parametrize("norm_type", [2.0, 3.0, 1.0, 1.5, float("inf"), -float("inf")])
def test_lp_pool_matches_torch_on_zero_and_negative_windows(dims, norm_type):
    # after a ReLU whole windows are 0 (PyTorch: output 0, gradient 0); a negative sum's
    # root is NaN unless p = 1; p = ±inf is the largest / smallest |x| of the window
    rng = np.random.default_rng(dims)
    x = rng.standard_normal((2, 2) + (4,) * dims)
    x[0] = np.maximum(x[0], 0)
    x[1, 0] = 0.0
    kernel = (2, 1, 2)[:dims] if dims > 1 else 2
    results = {}
    for lib in (cr, torch):
        t = lib.tensor(x, requires_grad=True)
        layer = getattr(lib.nn, f"LPPool{dims}d")(norm_type, kernel, stride=1 if dims > 1 else None,
                                                   ceil_mode=dims == 2)
        out = layer(t)
        (out * lib.tensor(np.cos(np.arange(out.numel())).reshape(tuple(out.shape)))).sum() \
            .backward()
        results[lib.__name__] = (out.detach().numpy(), t.grad.numpy(), repr(layer))
    (out, grad, text), (t_out, t_grad, t_text) = results["chainrule"], results["torch"]
    np.testing.assert_allclose(out, t_out, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(grad, t_grad, rtol=1e-7, atol=1e-9)
    assert text == t_text


def test_ctc_impossible_alignment_without_zero_infinity_sends_nan_as_torch():
    # PyTorch's: the infeasible sample's gradient is NaN within its input length (training
    # notices), the feasible samples' gradients are unaffected
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(4).standard_normal((4, 3, 5))
    results = []
    for lib in (cr, torch):
        a = lib.tensor(x, requires_grad=True)
        loss = lib.nn.functional.ctc_loss(a.log_softmax(2),
                                          lib.tensor([[1, 1, 2], [1, 2, 0], [3, 3, 3]]),
                                          lib.tensor([4, 4, 3]), lib.tensor([3, 2, 3]))
        loss.backward()
        results.append((loss.item(), a.grad.numpy()))
    (ours, grad), (theirs, t_grad) = results
    assert np.isinf(ours) and np.isinf(theirs)
    assert np.isnan(grad[:3, 2]).all() and not np.isnan(grad[3, 2]).any()
    np.testing.assert_allclose(grad, t_grad, rtol=1e-6, atol=1e-9)
