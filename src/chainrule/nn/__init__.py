"""Neural networks on the engine: modules, layers, initializers, losses.

>>> import chainrule as cr
>>> model = cr.nn.MLP([4, 16, 3])
>>> x, y = cr.randn(8, 4), cr.tensor([0, 1, 2, 0, 1, 2, 0, 1])
>>> loss = cr.nn.functional.cross_entropy(model(x), y)
>>> loss.backward()
>>> model.layers[0].weight.grad.shape
(16, 4)
"""

from . import functional, init, parallel, utils
from .containers import ModuleDict, ParameterDict, ParameterList
from .distance import CosineSimilarity, PairwiseDistance
from .layers import (
    MLP,
    Dropout,
    Flatten,
    Identity,
    LeakyReLU,
    Linear,
    LogSoftmax,
    ModuleList,
    ReLU,
    Sequential,
    Sigmoid,
    Softmax,
    Tanh,
    Unflatten,
    set_fusion,
)
from .layers_attention import (
    MultiheadAttention,
    TransformerDecoder,
    TransformerDecoderLayer,
    TransformerEncoder,
    TransformerEncoderLayer,
)
from .layers_conv import (
    AdaptiveAvgPool2d,
    AvgPool2d,
    Conv1d,
    Conv2d,
    ConvTranspose2d,
    MaxPool1d,
    MaxPool2d,
)
from .layers_norm import (
    BatchNorm1d,
    BatchNorm2d,
    Dropout1d,
    Dropout2d,
    Embedding,
    GroupNorm,
    LayerNorm,
)
from .layers_rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell
from .losses import (
    BCELoss,
    BCEWithLogitsLoss,
    CosineEmbeddingLoss,
    CrossEntropyLoss,
    GaussianNLLLoss,
    HingeLoss,
    HuberLoss,
    KLDivLoss,
    L1Loss,
    MarginRankingLoss,
    MSELoss,
    MultiLabelSoftMarginLoss,
    MultiMarginLoss,
    NLLLoss,
    PoissonNLLLoss,
    SmoothL1Loss,
    SoftMarginLoss,
    TripletMarginLoss,
)
from .module import (
    IncompatibleKeys,
    Module,
    Parameter,
    RemovableHandle,
    StateDictError,
    current_module_path,
    set_track_path,
)
from .monitor import GradientMonitor

__all__ = [
    "GRU",
    "LSTM",
    "MLP",
    "RNN",
    "AdaptiveAvgPool2d",
    "AvgPool2d",
    "BCELoss",
    "BCEWithLogitsLoss",
    "BatchNorm1d",
    "BatchNorm2d",
    "Conv1d",
    "Conv2d",
    "ConvTranspose2d",
    "CosineEmbeddingLoss",
    "CosineSimilarity",
    "CrossEntropyLoss",
    "Dropout",
    "Dropout1d",
    "Dropout2d",
    "Embedding",
    "Flatten",
    "GRUCell",
    "GaussianNLLLoss",
    "GroupNorm",
    "HingeLoss",
    "HuberLoss",
    "Identity",
    "IncompatibleKeys",
    "KLDivLoss",
    "L1Loss",
    "LSTMCell",
    "LayerNorm",
    "LeakyReLU",
    "Linear",
    "LogSoftmax",
    "MSELoss",
    "MarginRankingLoss",
    "MaxPool1d",
    "MaxPool2d",
    "Module",
    "ModuleDict",
    "ModuleList",
    "MultiLabelSoftMarginLoss",
    "MultiMarginLoss",
    "MultiheadAttention",
    "NLLLoss",
    "PairwiseDistance",
    "Parameter",
    "ParameterDict",
    "ParameterList",
    "PoissonNLLLoss",
    "RNNCell",
    "ReLU",
    "RemovableHandle",
    "Sequential",
    "Sigmoid",
    "SmoothL1Loss",
    "SoftMarginLoss",
    "Softmax",
    "StateDictError",
    "Tanh",
    "TransformerDecoder",
    "TransformerDecoderLayer",
    "TransformerEncoder",
    "TransformerEncoderLayer",
    "TripletMarginLoss",
    "Unflatten",
    "current_module_path",
    "functional",
    "init",
    "parallel",
    "set_fusion",
    "set_track_path",
    "utils",
]

utils._attach_rnn()
