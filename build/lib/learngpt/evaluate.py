"""The exact mean loss of a trained model over a whole split of its text (`learngpt eval`).

During training the loss is *estimated* on a few random batches. Here the split is cut into
consecutive windows of block_size tokens and every token after the first is predicted exactly
once (each window predicts its own tokens shifted by one), so the number is deterministic and
two runs can be compared without sampling noise. Bits per character (loss in bits, times the
tokens, over the characters they cover) compares a character run with a BPE run.
"""

from __future__ import annotations

import torch
from torch import nn

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
    n_full = predicted // block_size
    total = 0.0
    windows = data[: n_full * block_size + 1]
    x_all = windows[:-1].view(n_full, block_size)  # (N, T)
    y_all = windows[1:].view(n_full, block_size)  # (N, T)
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
