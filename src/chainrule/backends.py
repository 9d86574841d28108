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


class _Mha:
    """``torch.backends.mha``: the switch of PyTorch's inference fast path, which
    ``nn.TransformerEncoder`` follows (its padded outputs are zeros on that path)."""

    def __init__(self) -> None:
        self._fastpath = True

    def get_fastpath_enabled(self) -> bool:
        return self._fastpath

    def set_fastpath_enabled(self, value: bool) -> None:
        self._fastpath = bool(value)


mha = _Mha()


class _Matmul:
    allow_tf32 = False
    allow_fp16_reduced_precision_reduction = False
    allow_bf16_reduced_precision_reduction = False


class _Cuda:
    """``torch.backends.cuda``: the matmul flags and the scaled-dot-product kernel
    switches, kept so they can be read back (chainrule's attention is the math formula)."""

    matmul = _Matmul()

    def __init__(self) -> None:
        self._sdp = {"flash": True, "mem_efficient": True, "math": True, "cudnn": True}

    def enable_flash_sdp(self, enabled: bool) -> None:
        self._sdp["flash"] = bool(enabled)

    def enable_mem_efficient_sdp(self, enabled: bool) -> None:
        self._sdp["mem_efficient"] = bool(enabled)

    def enable_math_sdp(self, enabled: bool) -> None:
        self._sdp["math"] = bool(enabled)

    def enable_cudnn_sdp(self, enabled: bool) -> None:
        self._sdp["cudnn"] = bool(enabled)

    def flash_sdp_enabled(self) -> bool:
        return self._sdp["flash"]

    def mem_efficient_sdp_enabled(self) -> bool:
        return self._sdp["mem_efficient"]

    def math_sdp_enabled(self) -> bool:
        return self._sdp["math"]

    def cudnn_sdp_enabled(self) -> bool:
        return self._sdp["cudnn"]

    def sdp_kernel(self, enable_flash: bool = True, enable_math: bool = True,
                   enable_mem_efficient: bool = True, enable_cudnn: bool = True):
        """The deprecated context manager: the switches for the block, then back."""
        import contextlib

        @contextlib.contextmanager
        def switched():
            saved = dict(self._sdp)
            self._sdp.update(flash=bool(enable_flash), math=bool(enable_math),
                             mem_efficient=bool(enable_mem_efficient), cudnn=bool(enable_cudnn))
            try:
                yield
            finally:
                self._sdp = saved

        return switched()

    def is_built(self) -> bool:
        from . import cuda

        return cuda.is_available()


cuda = _Cuda()


def __getattr__(name: str):
    raise AttributeError(f"chainrule.backends has no {name!r}: only the probes mps, cudnn, "
                         "mkldnn, openmp and cuda.matmul exist (chainrule computes with NumPy)")
