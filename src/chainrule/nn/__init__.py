"""Neural networks on the engine: modules, layers, initializers, losses.

>>> import chainrule as cr
>>> model = cr.nn.MLP([4, 16, 3])
>>> x, y = cr.randn(8, 4), cr.tensor([0, 1, 2, 0, 1, 2, 0, 1])
>>> loss = cr.nn.functional.cross_entropy(model(x), y)
>>> loss.backward()
>>> model.layers[0].weight.grad.shape
(16, 4)
"""

from ..monitor import GradientMonitor
from . import functional, init, utils
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
    set_fusion,
)
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

__all__ = [
    "MLP",
    "BCELoss",
    "BCEWithLogitsLoss",
    "CosineEmbeddingLoss",
    "CrossEntropyLoss",
    "Dropout",
    "Flatten",
    "GaussianNLLLoss",
    "HingeLoss",
    "HuberLoss",
    "Identity",
    "IncompatibleKeys",
    "KLDivLoss",
    "L1Loss",
    "LeakyReLU",
    "Linear",
    "LogSoftmax",
    "MSELoss",
    "MarginRankingLoss",
    "Module",
    "ModuleList",
    "MultiLabelSoftMarginLoss",
    "MultiMarginLoss",
    "NLLLoss",
    "Parameter",
    "PoissonNLLLoss",
    "ReLU",
    "RemovableHandle",
    "Sequential",
    "Sigmoid",
    "SmoothL1Loss",
    "SoftMarginLoss",
    "Softmax",
    "StateDictError",
    "Tanh",
    "TripletMarginLoss",
    "current_module_path",
    "functional",
    "init",
    "set_fusion",
    "set_track_path",
    "utils",
]
