"""``torch.backends`` probes that PyTorch programs commonly make (``mps.is_available()``,
``cudnn.benchmark = True``): answered truthfully for chainrule (no MPS, no cuDNN); the
flags can be set and are ignored, since chainrule has no such kernels to configure."""

from __future__ import annotations


class _Probe:
    def __init__(self, name: str, **flags) -> None:
        self._name = name
        self.__dict__.update(flags)

    def is_available(self) -> bool:
        return False

    def is_built(self) -> bool:
        return False

    def __repr__(self) -> str:
        return f"<chainrule.backends.{self._name}: not available>"


mps = _Probe("mps")
cudnn = _Probe("cudnn", enabled=False, benchmark=False, deterministic=True,
               allow_tf32=False)
mkldnn = _Probe("mkldnn", enabled=False)
openmp = _Probe("openmp")


class _Matmul:
    allow_tf32 = False
    allow_fp16_reduced_precision_reduction = False


class _Cuda:
    matmul = _Matmul()

    def is_built(self) -> bool:
        from . import cuda

        return cuda.is_available()


cuda = _Cuda()


def __getattr__(name: str):
    raise AttributeError(f"chainrule.backends has no {name!r}: only the probes mps, cudnn, "
                         "mkldnn, openmp and cuda.matmul exist (chainrule computes with NumPy)")
