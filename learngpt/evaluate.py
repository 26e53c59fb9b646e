"""The exact mean loss of a trained model over a whole split of its text (`learngpt eval`).

During training the loss is only *estimated*, on a few batches. Here the split is cut into
consecutive windows of block_size tokens and every token after the first is predicted exactly
once (each window predicts its own tokens shifted by one), so the number is deterministic and
two runs can be compared without sampling noise. Bits per character (loss in bits, times the
tokens, over the characters they cover) compares a character run with a BPE run.

`spread_windows` picks a few of those windows, evenly spaced over the split: the trainer's
estimates use them (learngpt/training/loop.py), a small systematic sample of this metric.
"""

from __future__ import annotations

import torch
from torch import nn

from learngpt.data import check_long_enough
from learngpt.errors import UserError


@torch.no_grad()
def split_loss(model: nn.Module, data: torch.Tensor, block_size: int, batch_size: int = 32):
    """(mean loss, tokens predicted) over `data` cut into consecutive block_size windows.

    Window i holds tokens i*T .. i*T+T-1 and predicts tokens i*T+1 .. i*T+T; the last window
    is shorter, so every token but the first is predicted exactly once.
    """
    model.eval()
    device = next(model.parameters()).device
    predicted = len(data) - 1
    if predicted < 1:
        raise UserError("the split is too short to evaluate: it needs at least 2 tokens")
    total = 0.0
    x_all, y_all = consecutive_windows(data, block_size)  # (N, T) each
    n_full = len(x_all)
    for start in range(0, n_full, batch_size):
        x = x_all[start : start + batch_size].to(device)
        y = y_all[start : start + batch_size].to(device)
        _, loss = model(x, y)  # the mean over x.numel() predictions
        total += loss.item() * y.numel()
    rest = predicted - n_full * block_size
    if rest:
        tail = data[n_full * block_size :]  # rest + 1 tokens
        _, loss = model(tail[:-1][None].to(device), tail[1:][None].to(device))
        total += loss.item() * rest
    return total / predicted, predicted


def consecutive_windows(data: torch.Tensor, block_size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """x, y of shape (N, T): the split's N whole windows of T tokens, and the tokens they predict.

    Views of `data`, no copies; the tokens after the last whole window are left out.
    """
    n_full = (len(data) - 1) // block_size
    windows = data[: n_full * block_size + 1]
    return windows[:-1].view(n_full, block_size), windows[1:].view(n_full, block_size)


def spread_windows(
    data: torch.Tensor, block_size: int, count: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """x, y of shape (min(count, N), T): whole windows, evenly spaced from the split's start to end.

    The same windows every time, so two estimates made with them differ only because the model
    did: comparing two checkpoints this way is free of the sampling noise of random batches. A
    split of `count` windows or fewer gives all of them.
    """
    check_long_enough(data, block_size)
    x_all, y_all = consecutive_windows(data, block_size)
    if count >= len(x_all):
        return x_all, y_all
    picked = torch.linspace(0, len(x_all) - 1, count).round().long()  # distinct: count < N
    return x_all[picked], y_all[picked]
