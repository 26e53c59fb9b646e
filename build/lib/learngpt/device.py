"""Which device to train on, and whether this CPU computes bfloat16 fast."""

from __future__ import annotations

import torch

from learngpt.errors import UserError


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise UserError(f"--device {name}: no CUDA GPU is available; use --device cpu")
    return torch.device(name)


def cpu_has_fast_bf16() -> bool:
    """Whether oneDNN has bfloat16 kernels for this CPU (AVX-512 or Arm BF16).

    Without them (most laptops' AVX2 CPUs) bfloat16 matmuls are emulated, slower than float32.
    """
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):  # a private probe: if it is gone, play safe
        return False
