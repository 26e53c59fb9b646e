"""Which device to train on, whether this CPU computes bfloat16 fast, and CPU memory reuse."""

from __future__ import annotations

import ctypes
import ctypes.util

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


def reuse_freed_cpu_memory() -> bool:
    """Make glibc's malloc keep freed memory for the next tensors instead of unmapping it.

    PyTorch allocates each CPU tensor with malloc and frees it when its last reference goes; a
    training step makes and drops hundreds of tensors of up to a few MB. glibc serves blocks of
    that size from freshly mapped pages and unmaps them on free, so each step faults all its
    pages in again (bench/malloc_reuse.py counts them; docs/recipe.md has the figures). Raising
    malloc's mmap threshold (to its maximum, 32 MB) and its trim threshold keeps those blocks in
    the heap, so the next step reuses the pages: what PyTorch's tuning guide gets from
    preloading jemalloc or tcmalloc.
    The cost: the process keeps its peak memory until it ends. Returns whether it applied
    (glibc only; elsewhere it does nothing).
    """
    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").mallopt
    except (OSError, AttributeError):  # not glibc: macOS, Windows
        return False
    M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's malloc.h
    return bool(mallopt(M_MMAP_THRESHOLD, 32 << 20)) and bool(mallopt(M_TRIM_THRESHOLD, 1 << 30))
