"""chainrule: backpropagation you can see and trust.

>>> import chainrule as cr
>>> x, y, z = (cr.tensor(v, requires_grad=True) for v in (-2.0, 5.0, -4.0))
>>> f = (x + y) * z
>>> f.backward()
>>> [t.grad.item() for t in (x, y, z)]
[-4.0, -4.0, 3.0]
"""

from . import autograd, backend
from .autograd import custom_vjp, enable_grad, no_grad, set_grad_enabled
from .backend import get_num_threads, set_num_threads
from .check import GradcheckError, gradcheck
from .creation import (
    arange,
    empty,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    ones,
    ones_like,
    rand,
    randint,
    randn,
    randperm,
    zeros,
    zeros_like,
)
from .functional import grad, value_and_grad
from .ops import *
from .random import (
    Generator,
    default_generator,
    get_rng_state,
    initial_seed,
    manual_seed,
    seed,
    set_rng_state,
)
from .tensor import (
    Tensor,
    as_dtype,
    bool_,
    float16,
    float32,
    float64,
    get_default_dtype,
    int8,
    int16,
    int32,
    int64,
    is_grad_enabled,
    set_default_dtype,
    tensor,
    uint8,
)

__version__ = "0.1.0"


def _lazy(name):
    import importlib

    return importlib.import_module(f".{name}", __name__)


def __getattr__(name):
    # the heavier sub-packages load on first use, keeping `import chainrule` fast
    if name in ("nn", "optim", "data", "train", "viz", "io", "distributed"):
        module = _lazy(name)
        globals()[name] = module
        return module
    if name in ("save", "load"):
        return getattr(_lazy("io"), name)
    if name == "explain":
        return _lazy("viz").explain
    if name in ("detect_anomaly", "AnomalyError"):
        return getattr(_lazy("anomaly"), name)
    raise AttributeError(f"module 'chainrule' has no attribute {name!r}")
