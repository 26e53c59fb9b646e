"""The mistakes of step 6: the positional encodings and GPTVer3.embed."""

from __future__ import annotations

import torch

from learngpt.exercises.probes.averages import Recorder
from learngpt.exercises.probes.registry import mistake, same

# ---- step 6: GPTVer3 ------------------------------------------------------------------------

T6, C6 = 10, 6


def _positions() -> torch.Tensor:
    return torch.arange(T6, dtype=torch.float32)[:, None]


@mistake("6-2", "divided_by_block_size")
def _divided_by_block_size(course) -> bool:
    expected = (_positions() / T6).expand(T6, C6)
    return same(course.GPTVer3.pos_encodings_v2(T6, C6), expected)


@mistake("6-3", "exponent_sign")
def _exponent_sign(course) -> bool:
    i = torch.arange(C6, dtype=torch.float32)
    expected = torch.sin(_positions() * 10000 ** (i / C6))
    return same(course.GPTVer3.pos_encodings_v3(T6, C6), expected)


@mistake("6-4", "sin_and_cos_swapped")
def _sin_and_cos_swapped(course) -> bool:
    angle = _positions() / 10000 ** (torch.arange(0, C6, 2, dtype=torch.float32) / C6)
    expected = torch.zeros(T6, C6)
    expected[:, 0::2], expected[:, 1::2] = torch.cos(angle), torch.sin(angle)
    return same(course.GPTVer3.pos_encodings_v4(T6, C6), expected)


def _gpt3(course):
    return course.GPTVer3(Recorder(), 7, 8, 6)


@mistake("6-5", "positions_not_added")
def _positions_not_added(course) -> bool:
    model, idx = _gpt3(course), torch.randint(7, (2, 8))
    return same(model.embed(idx), model.token_embedding_table(idx))


@mistake("6-5", "positions_not_cut_to_length")
def _positions_not_cut(course) -> bool:
    model = _gpt3(course)
    model.embed(torch.randint(7, (2, 8)))  # a full block works ...
    try:
        model.embed(torch.randint(7, (2, 3)))  # ... a shorter context fails
    except RuntimeError:
        return True
    return False
