"""Optimizers and learning-rate schedules, with PyTorch's names and update formulas.

>>> import chainrule as cr
>>> w = cr.tensor([2.0, -1.0], requires_grad=True)
>>> opt = cr.optim.SGD([w], lr=0.25)
>>> opt.zero_grad()
>>> (w * w).sum().backward()      # gradient 2w
>>> opt.step()                    # w ← w − 0.25 · 2w = w / 2
>>> w.tolist()
[1.0, -0.5]
"""

from . import lr_scheduler, swa_utils
from .adadelta import Adadelta
from .adafactor import Adafactor
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .adamax import Adamax
from .asgd import ASGD
from .lbfgs import LBFGS
from .nadam import NAdam
from .optimizer import Optimizer, ParamState
from .radam import RAdam
from .rmsprop import RMSprop
from .rprop import Rprop
from .sgd import SGD

__all__ = ["ASGD", "LBFGS", "SGD", "Adadelta", "Adafactor", "Adagrad", "Adam", "AdamW",
           "Adamax", "NAdam", "Optimizer", "ParamState", "RAdam", "RMSprop", "Rprop", "lr_scheduler", "swa_utils"]


# what torch.optim has and chainrule does not: a clear error naming the nearest equivalent
_MISSING = {
    "SparseAdam": "sparse gradients are not supported; use Adam",
    "Muon": "use AdamW or SGD(momentum=..., nesterov=True)",
}


def __getattr__(name: str):
    if name in _MISSING:
        raise AttributeError(f"chainrule.optim has no {name}: {_MISSING[name]}")
    raise AttributeError(f"module 'chainrule.optim' has no attribute {name!r}")
