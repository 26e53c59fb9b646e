"""The mistakes of step 1: sampling the next token in GPTVer1.generate."""

from __future__ import annotations

import torch

from learngpt.exercises.probes.registry import mistake

# ---- step 1: GPTVer1.generate ---------------------------------------------------------------


def _bigram(course, row: list[float], model=None):
    """A GPTVer1 over len(row) tokens whose every token is followed by logits `row` (positive,
    so that even a draw from the logits themselves works)."""
    model = model or course.GPTVer1(len(row), 8)
    model.token_embedding_table.weight[:] = torch.tensor(row)
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
    # Token 0 is almost surely followed by 1, token 2 by 3. Half the contexts are "0 2", half
    # "2 0" (so that even a softmax over the batch keeps the two apart): which successor
    # follows "0 2" shows which position predicted it, however the token is drawn.
    n = 2000
    model = course.GPTVer1(4, 8)
    model.token_embedding_table.weight.zero_()
    model.token_embedding_table.weight[0, 1] = model.token_embedding_table.weight[2, 3] = 5.0
    context = torch.tensor([[0, 2], [2, 0]]).repeat(n // 2, 1)
    out = model.generate(context, max_new_tokens=1)
    if not isinstance(out, torch.Tensor) or out.shape not in ((n, 3), (n, 1)):
        return False
    after_0_2 = torch.bincount(out[0::2, -1], minlength=4).double() / (n // 2)
    after_2_0 = torch.bincount(out[1::2, -1], minlength=4).double() / (n // 2)
    return bool(after_0_2[1] > 0.3 > 0.1 > after_0_2[3] and after_2_0[3] > 0.3 > 0.1 > after_2_0[1])


@mistake("1-1", "context_not_kept")
def _context_not_kept(course) -> bool:
    out = _bigram(course, ROW).generate(torch.zeros(3, 4, dtype=torch.long), max_new_tokens=2)
    return isinstance(out, torch.Tensor) and out.shape in ((3, 2), (3, 1), (3, 5))


@mistake("1-1", "crop_context_unused")
def _crop_context_unused(course) -> bool:
    # A model that reads at most block_size = 2 tokens, given 4: crop_context must cut them.
    read = []

    class Spy(course.GPTVer1):
        def crop_context(self, idx):
            return idx[:, -self.block_size :]

        def logits(self, idx):
            read.append(idx.shape[1])
            return super().logits(idx)

    _bigram(course, ROW, Spy(5, 2)).generate(torch.zeros(1, 4, dtype=torch.long), max_new_tokens=2)
    return bool(read) and max(read) > 2
