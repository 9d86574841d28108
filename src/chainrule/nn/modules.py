"""``chainrule.nn.modules``: PyTorch's module tree, ``torch.nn.modules.<file>``, for code
that imports from it (``from torch.nn.modules.loss import _Loss``) or tests
``isinstance(m, nn.modules.batchnorm._BatchNorm)``. Each submodule names the chainrule
classes PyTorch keeps in its file of that name; they are the same classes as
``chainrule.nn.X``. Built by ``attach()`` once chainrule.nn is imported.
"""

from __future__ import annotations

import sys
import types

# PyTorch's file -> the names it defines (public classes are chainrule.nn's)
_FILES = {
    "module": ["Module"],
    "linear": ["Identity", "Linear", "Bilinear"],
    "conv": ["Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d",
             "ConvTranspose3d"],
    "pooling": ["MaxPool1d", "MaxPool2d", "MaxPool3d", "AvgPool1d", "AvgPool2d", "AvgPool3d",
                "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d",
                "AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "AdaptiveMaxPool3d", "LPPool1d",
                "LPPool2d", "LPPool3d", "MaxUnpool1d", "MaxUnpool2d"],
    "batchnorm": ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "SyncBatchNorm"],
    "instancenorm": ["InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d"],
    "normalization": ["LayerNorm", "GroupNorm", "LocalResponseNorm", "RMSNorm"],
    "dropout": ["Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout",
                "FeatureAlphaDropout"],
    "activation": ["CELU", "ELU", "GELU", "GLU", "SELU", "Hardshrink", "Hardsigmoid",
                   "Hardswish", "Hardtanh", "LeakyReLU", "LogSigmoid", "LogSoftmax", "Mish",
                   "MultiheadAttention", "PReLU", "ReLU", "ReLU6", "RReLU", "SiLU", "Sigmoid",
                   "Softmax", "Softmax2d", "Softmin", "Softplus", "Softshrink", "Softsign",
                   "Tanh", "Tanhshrink", "Threshold"],
    "loss": ["BCELoss", "BCEWithLogitsLoss", "CTCLoss", "CosineEmbeddingLoss",
             "CrossEntropyLoss", "GaussianNLLLoss", "HingeEmbeddingLoss", "HuberLoss",
             "KLDivLoss", "L1Loss", "MSELoss", "MarginRankingLoss", "MultiLabelMarginLoss",
             "MultiLabelSoftMarginLoss", "MultiMarginLoss", "NLLLoss", "PoissonNLLLoss",
             "SmoothL1Loss", "SoftMarginLoss", "TripletMarginLoss",
             "TripletMarginWithDistanceLoss"],
    "container": ["Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict"],
    "sparse": ["Embedding", "EmbeddingBag"],
    "rnn": ["RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell"],
    "transformer": ["Transformer", "TransformerEncoder", "TransformerDecoder",
                    "TransformerEncoderLayer", "TransformerDecoderLayer"],
    "padding": ["ZeroPad1d", "ZeroPad2d", "ConstantPad1d", "ConstantPad2d",
                "ReflectionPad1d", "ReflectionPad2d", "ReplicationPad1d", "ReplicationPad2d",
                "CircularPad1d", "CircularPad2d"],
    "pixelshuffle": ["PixelShuffle", "PixelUnshuffle"],
    "channelshuffle": ["ChannelShuffle"],
    "upsampling": ["Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d"],
    "flatten": ["Flatten", "Unflatten"],
    "fold": ["Fold", "Unfold"],
    "distance": ["PairwiseDistance", "CosineSimilarity"],
}


def _ntuple(n: int, name: str = "parse"):
    """PyTorch's helper: an int becomes an n-tuple, an iterable a tuple."""
    def parse(x):
        if isinstance(x, (list, tuple)):
            return tuple(x)
        try:
            return tuple(x)
        except TypeError:
            return (x,) * n

    parse.__name__ = name
    return parse


def attach() -> None:
    """Register ``chainrule.nn.modules`` and its submodules (run by nn/__init__)."""
    from . import layers_conv, layers_norm, layers_rnn, losses, parallel

    nn = sys.modules[__name__.rpartition(".")[0]]
    private = {
        "module": {},
        "conv": {"_ConvNd": layers_conv._ConvNd},
        "batchnorm": {"_BatchNorm": layers_norm._BatchNorm,
                      "_NormBase": layers_norm._BatchNorm},
        "instancenorm": {"_InstanceNorm": layers_norm._InstanceNorm},
        "dropout": {"_DropoutNd": layers_norm._ChannelDropout},
        "loss": {"_Loss": losses._Loss, "_WeightedLoss": losses._WeightedLoss},
        "rnn": {"RNNBase": layers_rnn.RNNBase, "RNNCellBase": layers_rnn.RNNCellBase},
        "container": {},
        "utils": {"_single": _ntuple(1, "_single"), "_pair": _ntuple(2, "_pair"),
                  "_triple": _ntuple(3, "_triple"), "_quadruple": _ntuple(4, "_quadruple"),
                  "_ntuple": _ntuple,
                  "consume_prefix_in_state_dict_if_present":
                      parallel.consume_prefix_in_state_dict_if_present},
    }
    package = sys.modules[__name__]
    for file, names in list(_FILES.items()) + [("utils", [])]:
        sub = types.ModuleType(f"{__name__}.{file}",
                               f"PyTorch's torch.nn.modules.{file}: chainrule's classes")
        for name in names:
            setattr(sub, name, getattr(nn, name))
            setattr(package, name, getattr(nn, name))
        for name, value in private.get(file, {}).items():
            setattr(sub, name, value)
        sub.__all__ = list(names)
        sys.modules[sub.__name__] = sub
        setattr(package, file, sub)
