"""7a: is MultiHeadVer1 more expensive than one HeadVer4 as wide as the embedding?

Two measures, at the course's size and at a large one:
- parameters: counted from the modules themselves;
- forward-pass FLOPs of the matrix multiplications: counted by torch's FlopCounterMode (which
  counts only matmul-like ops, 2 FLOPs per multiply-add), on the "meta" device, so that even the
  large size costs no time or memory, and checked against the formula in `analytic_flops`.
The element-wise work (scaling, masking, softmax) is not in the FLOP count; `softmax_elements`
counts the attention weights it touches.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from learngpt.course import HeadVer4, MultiHeadVer1


@dataclass(frozen=True)
class Size:
    """The shapes of one forward pass: input (batch, block, embed), n_heads heads."""

    name: str
    batch: int
    block: int
    embed: int
    heads: int


COURSE_SIZE = Size("course", batch=32, block=8, embed=16, heads=8)  # configs/course.yaml
LARGE_SIZE = Size("large", batch=32, block=256, embed=512, heads=8)  # a GPT-2-small-like layer
SIZES = (COURSE_SIZE, LARGE_SIZE)


def build(kind: str, size: Size) -> nn.Module:
    """HeadVer4 with head_size = embed (one wide head), or MultiHeadVer1 with `heads` heads."""
    if kind == "HeadVer4":
        return HeadVer4(size.block, size.embed, size.embed)
    if kind == "MultiHeadVer1":
        return MultiHeadVer1(size.block, size.embed, size.heads)
    raise ValueError(f"unknown kind {kind!r}")


KINDS = ("HeadVer4", "MultiHeadVer1")


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def matmul_flops(kind: str, size: Size) -> dict[str, int]:
    """FLOPs of one forward pass per torch op (mm, bmm, addmm), counted by FlopCounterMode.

    Built and run on the meta device: shapes only, no numbers, so the count is instant.
    """
    with torch.device("meta"):
        module = build(kind, size)
        x = torch.empty(size.batch, size.block, size.embed)  # (B, T, C)
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        module(x)
    return {
        str(op).removeprefix("aten."): n for op, n in counter.get_flop_counts()["Global"].items()
    }


def analytic_flops(kind: str, size: Size) -> dict[str, int]:
    """The same count by hand, 2 FLOPs per multiply-add, split by what the matmuls compute.

    B, T, C = batch, block, embed. Queries, keys, values: 3 (B*T, C) @ (C, C) products, whether
    as one (C, C) matrix (HeadVer4) or H (C, C/H) slices (MultiHeadVer1). Scores Q K^T and the
    weighted sum wei @ V: (T, T) x head_size per head, and head_size adds up to C over the heads.
    MultiHeadVer1 alone has `proj`, one more (B*T, C) @ (C, C).
    """
    B, T, C = size.batch, size.block, size.embed
    flops = {
        "query, key, value": 3 * 2 * B * T * C * C,
        "scores Q K^T": 2 * B * T * T * C,
        "weighted sum wei V": 2 * B * T * T * C,
        "proj": 2 * B * T * C * C if kind == "MultiHeadVer1" else 0,
    }
    return flops


def softmax_elements(kind: str, size: Size) -> int:
    """How many attention weights are scaled, masked and softmaxed: a (T, T) matrix per head."""
    heads = size.heads if kind == "MultiHeadVer1" else 1
    return heads * size.batch * size.block * size.block


def cost_rows() -> list[list[str]]:
    """Header and one row per (size, kind): parameters, matmul FLOPs (counted and by formula)."""
    rows = [
        [
            "size (B, T, C, H)",
            "module",
            "parameters",
            "matmul FLOPs (FlopCounterMode)",
            "matmul FLOPs (formula)",
            "of which proj",
            "softmax elements",
        ]
    ]
    for size in SIZES:
        for kind in KINDS:
            counted = sum(matmul_flops(kind, size).values())
            formula = analytic_flops(kind, size)
            rows.append(
                [
                    f"{size.name} ({size.batch}, {size.block}, {size.embed}, {size.heads})",
                    kind,
                    f"{count_parameters(build(kind, size)):,}",
                    f"{counted:,}",
                    f"{sum(formula.values()):,}",
                    f"{formula['proj']:,}",
                    f"{softmax_elements(kind, size):,}",
                ]
            )
    return rows
