"""The mistakes of steps 5 and 7: one head of attention, and several side by side."""

from __future__ import annotations

from itertools import product

import torch
import torch.nn.functional as F

from learngpt.exercises.probes.averages import future, masked
from learngpt.exercises.probes.registry import mistake, same

# ---- step 5: HeadVer4 -----------------------------------------------------------------------
# HeadVer4's output is softmax(Q K^T * scale) @ values, causal or not: the probes find which of
# the known variants it computes, so a wrong scale and a missing mask show together.

SCALES = {  # the mistake each scale of Q K^T is, for (C, hs) = (embed_size, head_size)
    None: lambda C, hs: hs**-0.5,
    "not_scaled": lambda C, hs: 1.0,
    "scaled_by_embed_size": lambda C, hs: C**-0.5,
    "scaled_without_sqrt": lambda C, hs: 1 / hs,
}


def _safely(weigh):
    def call(scores: torch.Tensor) -> object:
        try:
            return weigh(scores)
        except Exception:
            return None

    return call


def head_mistakes(course) -> set[str]:
    """The 5-1 mistakes of the one variant of attention HeadVer4 computes (none: not one).

    Its weights are tried first as its own masked_softmax makes them: when that hides the wrong
    scores, the mistake is masked_softmax's (step 4), not HeadVer4's."""
    B, T, C, hs = 2, 6, 8, 4
    head = course.HeadVer4(T, C, hs)
    x = torch.randn(B, T, C)
    q, k, v = head.query(x), head.key(x), head.value(x)
    out = head(x.clone())
    weighings = (
        (None, _safely(course.HeadVer3.masked_softmax)),
        (None, lambda s: masked(s, future(T))),
        ("not_masked", lambda s: F.softmax(s, dim=-1)),
    )
    for (scaled, scale), values, (unmasked, weigh) in product(
        SCALES.items(), ("v", "x"), weighings
    ):
        wei = weigh(q @ k.transpose(-2, -1) * scale(C, hs))
        if isinstance(wei, torch.Tensor) and same(out, wei @ (v if values == "v" else x)):
            return {scaled, unmasked, None if values == "v" else "weights_times_x"} - {None}
    return set()


@mistake("5-1", "not_scaled")
def _not_scaled(course) -> bool:
    return "not_scaled" in head_mistakes(course)


@mistake("5-1", "scaled_by_embed_size")
def _scaled_by_embed_size(course) -> bool:
    return "scaled_by_embed_size" in head_mistakes(course)


@mistake("5-1", "scaled_without_sqrt")
def _scaled_without_sqrt(course) -> bool:
    return "scaled_without_sqrt" in head_mistakes(course)


@mistake("5-1", "not_masked")
def _not_masked(course) -> bool:
    return "not_masked" in head_mistakes(course)


@mistake("5-1", "weights_times_x")
def _weights_times_x(course) -> bool:
    return "weights_times_x" in head_mistakes(course)


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


def _combined(seen, out, heads: list[torch.Tensor]) -> list[str]:
    """How the heads were put together before the projection (or, without one, at the end):
    "cat" as the course does, or the mistake it is."""
    combined = seen if seen is not None else out
    ways = (
        ("cat", torch.cat(heads, dim=-1)),
        ("concatenated_over_time", torch.cat(heads, dim=1)),
        ("heads_added_up", sum(heads)),
        ("heads_added_up", torch.stack(heads).mean(dim=0)),
    )
    return [name for name, expected in ways if same(combined, expected)]


@mistake("7-1", "projection_missing")
def _projection_missing(course) -> bool:
    seen, x, heads, out = _proj_input(course)
    return seen is None and bool(_combined(seen, out, heads))


@mistake("7-1", "concatenated_over_time")
def _concatenated_over_time(course) -> bool:
    seen, x, heads, out = _proj_input(course)
    return "concatenated_over_time" in _combined(seen, out, heads)


@mistake("7-1", "heads_added_up")
def _heads_added_up(course) -> bool:
    seen, x, heads, out = _proj_input(course)
    return "heads_added_up" in _combined(seen, out, heads)
