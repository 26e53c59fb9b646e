"""The mistakes of steps 5 and 7: one head of attention, and several side by side."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from learngpt.exercises.probes.averages import future, masked
from learngpt.exercises.probes.registry import mistake, same

# ---- step 5: HeadVer4 -----------------------------------------------------------------------


def _attention(course, scale: Callable[[int, int], float], causal: bool = True,
               values: str = "v", head_size: int = 4) -> bool:  # fmt: skip
    """HeadVer4's output is softmax(Q K^T * scale(C, hs)) @ values, causal or not."""
    B, T, C = 2, 6, 8
    head = course.HeadVer4(T, C, head_size)
    x = torch.randn(B, T, C)
    q, k, v = head.query(x), head.key(x), head.value(x)
    scores = q @ k.transpose(-2, -1) * scale(C, head_size)
    wei = masked(scores, future(T)) if causal else F.softmax(scores, dim=-1)
    return same(head(x.clone()), wei @ (v if values == "v" else x))


@mistake("5-1", "not_scaled")
def _not_scaled(course) -> bool:
    return _attention(course, lambda C, hs: 1.0)


@mistake("5-1", "scaled_by_embed_size")
def _scaled_by_embed_size(course) -> bool:
    return _attention(course, lambda C, hs: C**-0.5)


@mistake("5-1", "scaled_without_sqrt")
def _scaled_without_sqrt(course) -> bool:
    return _attention(course, lambda C, hs: 1 / hs)


@mistake("5-1", "not_masked")
def _not_masked(course) -> bool:
    return _attention(course, lambda C, hs: hs**-0.5, causal=False)


@mistake("5-1", "weights_times_x")
def _weights_times_x(course) -> bool:
    return _attention(course, lambda C, hs: hs**-0.5, values="x", head_size=8)


# ---- step 7: MultiHeadVer1 ------------------------------------------------------------------


def _proj_input(course, H: int = 2) -> tuple[object, torch.Tensor, list[torch.Tensor], object]:
    """(the input its projection got, x, each head's output, MultiHeadVer1's output)."""
    B, T, C = 2, 4, 8
    mha = course.MultiHeadVer1(T, C, H)
    seen = []
    mha.proj.register_forward_pre_hook(lambda module, args: seen.append(args[0]))
    x = torch.randn(B, T, C)
    heads = [head(x) for head in mha.heads]
    try:
        out = mha(x)
    except RuntimeError:
        out = None
    return (seen[0] if seen else None), x, heads, out


@mistake("7-1", "projection_missing")
def _projection_missing(course) -> bool:
    seen, x, heads, out = _proj_input(course)
    return seen is None and same(out, torch.cat(heads, dim=-1))


@mistake("7-1", "concatenated_over_time")
def _concatenated_over_time(course) -> bool:
    seen, x, heads, out = _proj_input(course)
    return same(seen, torch.cat(heads, dim=1))


@mistake("7-1", "heads_added_up")
def _heads_added_up(course) -> bool:
    seen, x, heads, out = _proj_input(course)
    return same(seen, sum(heads)) or same(seen, torch.stack(heads).mean(dim=0))
