"""chainrule: backpropagation you can see and trust.

>>> import chainrule as cr
>>> x, y, z = (cr.tensor(v, requires_grad=True) for v in (-2.0, 5.0, -4.0))
>>> f = (x + y) * z
>>> f.backward()
>>> [t.grad.item() for t in (x, y, z)]
[-4.0, -4.0, 3.0]
"""

from . import _foreach as _foreach_ops
from . import autograd, backend
from .autograd import (
    custom_vjp,
    enable_grad,
    inference_mode,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from .backend import get_num_threads, set_num_threads
from .check import GradcheckError, gradcheck
from .creation import (
    arange,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    logspace,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randint_like,
    randn,
    randn_like,
    randperm,
    zeros,
    zeros_like,
)
from .functional import grad, value_and_grad
from .ops import *
from .ops.registry import EXPOSED as _EXPOSED

norm = _EXPOSED["norm"]  # the function (ops.norm is the normalization-layer module)
from ._tensor import (
    Size,
    Tensor,
    as_dtype,
    bool_,
    device,
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
from .random import (
    Generator,
    default_generator,
    get_rng_state,
    initial_seed,
    manual_seed,
    seed,
    set_rng_state,
)

__version__ = "0.1.0"

# torch._foreach_add_, _foreach_lerp_, ... (underscore names: not in `import *`)
globals().update({_name: getattr(_foreach_ops, _name) for _name in _foreach_ops.__all__})



def _lazy(name):
    import importlib

    return importlib.import_module(f".{name}", __name__)


_SUBMODULES = ("nn", "optim", "data", "train", "viz", "io", "distributed", "utils", "cuda",
               "backends", "accelerator", "linalg", "special", "func", "multiprocessing",
               "distributions", "amp", "testing", "version", "profiler", "jit", "anomaly")

# What PyTorch has and chainrule does not, with the nearest thing chainrule has.
_NEAREST = {
    "fft": "numpy.fft on x.numpy() (not differentiable)",
    "sparse": "dense tensors",
    "quantization": "nothing",
    "onnx": "cr.save (safetensors) for the weights",
    "hub": "cr.load of a saved state_dict",
    "masked_scatter": "cr.where(mask, values, x)",
    "cdist": "cr.nn.functional.pairwise_distance or ((a[:, None] - b[None]) ** 2).sum(-1).sqrt()",
    "set_printoptions": "numpy.set_printoptions (tensors print through NumPy)",
}


def _missing(name: str) -> AttributeError:
    import difflib

    near = _NEAREST.get(name)
    if near is None:
        close = difflib.get_close_matches(name, [n for n in globals() if not n.startswith("_")],
                                          n=1)
        near = f"cr.{close[0]}" if close else None
    hint = f"; the nearest in chainrule: {near}" if near else ""
    return AttributeError(f"module 'chainrule' has no attribute {name!r}: PyTorch's "
                          f"torch.{name} is not part of chainrule{hint} (see docs/pytorch.md)")


def __getattr__(name):
    # the heavier sub-packages load on first use, keeping `import chainrule` fast
    if name in _SUBMODULES:
        module = _lazy(name)
        globals()[name] = module
        return module
    if name in ("autocast", "is_autocast_enabled", "get_autocast_dtype",
                "is_autocast_available"):
        return getattr(_lazy("amp"), name)
    if name in ("save", "load"):
        return getattr(_lazy("io"), name)
    if name == "vmap":
        return _lazy("func").vmap
    if name == "explain":
        return _lazy("viz").explain
    if name in ("detect_anomaly", "AnomalyError"):
        return getattr(_lazy("anomaly"), name)
    if name.startswith("__"):
        raise AttributeError(f"module 'chainrule' has no attribute {name!r}")
    alias = None if name.startswith("_") else _torch_aliases.lazy_name(name)
    if alias is not None:  # torch.conv2d, torch.relu_, ...
        return alias
    raise _missing(name)


# IEEE results without a word, as PyTorch: log(0) = -inf, 0/0 = nan, exp(1000) = inf. NumPy
# would warn from inside chainrule's ops ("divide by zero encountered in log"); a program's
# own NumPy code still warns, and the anomaly and monitoring tools look at values.
import warnings as _warnings

_warnings.filterwarnings(
    "ignore", category=RuntimeWarning, module=r"chainrule(\.|$)",
    message=r"(divide by zero|invalid value|overflow|underflow) encountered")

# PyTorch's names (torch.float, torch.long, torch.is_tensor, torch.FloatTensor, ...): defined
# in _torch_names, where the builtins they shadow (float, int, bool) are not needed.
import os as _os

from ._torch_aliases import *  # (binds the submodule _torch_aliases too)
from ._torch_names import *
from ._torch_names import __all__ as _torch_all

# Under an MPI launcher (mpiexec -n K python train.py), give PyTorch programs the
# variables torchrun would have set (RANK, WORLD_SIZE, LOCAL_RANK): they read them early.
# (Plain tests here: the builtins any/all are shadowed by PyTorch's names.)
if "PMI_RANK" in _os.environ or "OMPI_COMM_WORLD_RANK" in _os.environ \
        or "MV2_COMM_WORLD_RANK" in _os.environ:
    from .distributed.process_group import export_launcher_environment as _export

    _export()
