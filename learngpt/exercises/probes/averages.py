"""The mistakes of steps 2-4: the prefix average by loops, by a matrix, by softmax; GPTVer2."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from learngpt.exercises.probes.registry import mistake, same

# ---- step 2: HeadVer1, GPTVer2.logits -------------------------------------------------------

X = (2, 5, 3)  # the probes' (B, T, C)


def _head1(course) -> tuple[torch.Tensor, object]:
    x = torch.randn(X)
    return x, course.HeadVer1()(x.clone())


def _counts(T: int) -> torch.Tensor:
    return torch.arange(1, T + 1, dtype=torch.float32)[None, :, None]


@mistake("2-1", "sum_instead_of_mean")
def _sum_instead_of_mean(course) -> bool:
    x, out = _head1(course)
    return same(out, x.cumsum(dim=1))


@mistake("2-1", "current_position_left_out")
def _current_left_out(course) -> bool:
    x, out = _head1(course)
    earlier = x.cumsum(dim=1)[:, :-1] / _counts(X[1] - 1)  # mean of x[:, :t] for t >= 1
    return isinstance(out, torch.Tensor) and out.shape == x.shape and same(out[:, 1:], earlier)


@mistake("2-1", "future_included")
def _future_included(course) -> bool:
    x, out = _head1(course)
    return same(out, x.mean(dim=1, keepdim=True).expand_as(x))


class Recorder(nn.Module):
    """A contextualizer that adds 1 and remembers that it was called."""

    def __init__(self):
        super().__init__()
        self.calls = 0

    def forward(self, x):
        self.calls += 1
        return x + 1


@mistake("2-2", "contextualizer_unused")
def _contextualizer_unused(course) -> bool:
    recorder = Recorder()
    model = course.GPTVer2(recorder, 7, 4, 6)
    logits = model.logits(torch.randint(7, (2, 4)))
    return isinstance(logits, torch.Tensor) and recorder.calls == 0


@mistake("2-2", "embed_unused")
def _embed_unused(course) -> bool:
    calls = []

    class Spy(course.GPTVer2):
        def embed(self, idx):
            calls.append(idx.shape)
            return super().embed(idx)

    recorder = Recorder()
    Spy(recorder, 7, 4, 6).logits(torch.randint(7, (2, 4)))
    return recorder.calls > 0 and not calls  # self.token_embedding_table used directly


# ---- step 3: HeadVer2 -----------------------------------------------------------------------


def _head2(course) -> tuple[torch.Tensor, object]:
    x = torch.randn(X)
    return x, course.HeadVer2()(x.clone())


@mistake("3-1", "rows_not_normalised")
def _rows_not_normalised(course) -> bool:
    x, out = _head2(course)
    return same(out, x.cumsum(dim=1))


@mistake("3-1", "upper_triangle")
def _upper_triangle(course) -> bool:
    x, out = _head2(course)
    suffix = x.flip(1).cumsum(dim=1).flip(1) / _counts(X[1]).flip(1)
    return same(out, suffix) or same(out, x.flip(1).cumsum(dim=1).flip(1))


@mistake("3-1", "normalised_by_column")
def _normalised_by_column(course) -> bool:
    x, out = _head2(course)
    tril = torch.tril(torch.ones(X[1], X[1]))
    return same(out, (tril / tril.sum(dim=0, keepdim=True)) @ x)


# ---- step 4: HeadVer3 -----------------------------------------------------------------------

T4 = 5


def masked(scores: torch.Tensor, hidden: torch.Tensor, fill: float = -math.inf, dim=-1):
    return F.softmax(scores.masked_fill(hidden, fill), dim=dim)


def future(T: int, diagonal: int = 1) -> torch.Tensor:
    return torch.ones(T, T, dtype=torch.bool).triu(diagonal=diagonal)


def _softmax_matches(course, expected: Callable[[torch.Tensor], torch.Tensor]) -> bool:
    scores = torch.randn(2, T4, T4)
    return same(course.HeadVer3.masked_softmax(scores.clone()), expected(scores))


@mistake("4-1", "mask_inverted")
def _mask_inverted(course) -> bool:
    return _softmax_matches(course, lambda s: masked(s, ~future(T4)))


@mistake("4-1", "diagonal_hidden")
def _diagonal_hidden(course) -> bool:
    return _softmax_matches(course, lambda s: masked(s, future(T4, 0)))


@mistake("4-1", "softmax_over_rows")
def _softmax_over_rows(course) -> bool:
    return _softmax_matches(course, lambda s: masked(s, future(T4), dim=-2))


@mistake("4-1", "masked_with_zero")
def _masked_with_zero(course) -> bool:
    return _softmax_matches(course, lambda s: masked(s, future(T4), fill=0.0))


@mistake("4-1", "masked_after_softmax")
def _masked_after_softmax(course) -> bool:
    return _softmax_matches(course, lambda s: F.softmax(s, dim=-1).masked_fill(future(T4), 0))


@mistake("4-2", "wei_not_kept")
def _wei_not_kept(course) -> bool:
    head = course.HeadVer3()
    out = head(torch.randn(X))
    return isinstance(out, torch.Tensor) and getattr(head, "wei", None) is None
