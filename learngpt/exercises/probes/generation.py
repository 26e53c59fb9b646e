"""The mistakes of step 1: sampling the next token in GPTVer1.generate."""

from __future__ import annotations

import torch

from learngpt.exercises.probes.registry import mistake

# ---- step 1: GPTVer1.generate ---------------------------------------------------------------


def _bigram(course, row: list[float]):
    """A GPTVer1 over len(row) tokens whose token 0 is followed by logits `row`."""
    model = course.GPTVer1(len(row), 8)
    model.token_embedding_table.weight.zero_()
    model.token_embedding_table.weight[0] = torch.tensor(row)
    return model


def _next_frequencies(course, row: list[float], n: int = 4000) -> torch.Tensor:
    out = _bigram(course, row).generate(torch.zeros(n, 1, dtype=torch.long), max_new_tokens=1)
    return torch.bincount(out[:, -1], minlength=len(row)).double() / n


ROW = [0.5, 1.0, 2.0, 3.0, 4.0]  # softmax is far from uniform and from ROW / sum(ROW)


@mistake("1-1", "argmax")
def _argmax(course) -> bool:
    return bool(_next_frequencies(course, ROW, 400)[4] == 1.0)


@mistake("1-1", "sampled_from_logits")
def _sampled_from_logits(course) -> bool:
    expected = torch.tensor(ROW, dtype=torch.double) / sum(ROW)
    return bool((_next_frequencies(course, ROW) - expected).abs().max() < 0.04)


@mistake("1-1", "softmax_over_the_batch")
def _softmax_over_the_batch(course) -> bool:
    # Softmax over the batch of identical rows makes every token equally likely.
    return bool((_next_frequencies(course, ROW) - 1 / len(ROW)).abs().max() < 0.04)


@mistake("1-1", "first_position")
def _first_position(course) -> bool:
    model = _bigram(course, [0.0] * 4)
    successor = torch.tensor([1, 2, 3, 0])
    model.token_embedding_table.weight.fill_(-1e4)
    model.token_embedding_table.weight[torch.arange(4), successor] = 0.0
    out = model.generate(torch.tensor([[0, 2]]), max_new_tokens=1)
    return out.shape == (1, 3) and int(out[0, -1]) == 1  # the row of token 0, not of token 2


@mistake("1-1", "context_not_kept")
def _context_not_kept(course) -> bool:
    out = _bigram(course, ROW).generate(torch.zeros(3, 4, dtype=torch.long), max_new_tokens=2)
    return isinstance(out, torch.Tensor) and out.shape in ((3, 2), (3, 1), (3, 5))


@mistake("1-1", "crop_context_unused")
def _crop_context_unused(course) -> bool:
    calls = []

    class Spy(course.GPTVer1):
        def crop_context(self, idx):
            calls.append(idx.shape)
            return idx[:, -1:]

    Spy(5, 2).generate(torch.zeros(1, 4, dtype=torch.long), max_new_tokens=2)
    return not calls
