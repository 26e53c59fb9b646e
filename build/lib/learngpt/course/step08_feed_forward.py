"""Step 8: a feed-forward network after attention, and residual connections around both.

Attention only mixes positions: each output is a weighted average of value vectors. The
feed-forward network then thinks about what each position gathered, one position at a time:
FFN(x) = max(0, x W1 + b1) W2 + b2, with a 4C-wide hidden layer.

Stacked deep, such blocks become hard to train: the gradient has to pass through every layer on
its way down. A residual connection, x + f(x), gives it a path that skips f: the derivative of
x + f(x) is 1 + f'(x), never vanishingly small.
"""

from __future__ import annotations

import torch
from torch import nn


class FeedForward(nn.Module):
    """(B, T, C) -> (B, T, C): Linear(C, 4C), ReLU, Linear(4C, C), at every position alone."""

    def __init__(self, embed_size: int):
        super().__init__()
        # BEGIN SOLUTION 8-1
        self.net = nn.Sequential(
            nn.Linear(embed_size, 4 * embed_size),
            nn.ReLU(),
            nn.Linear(4 * embed_size, embed_size),
        )
        # END SOLUTION

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # BEGIN SOLUTION 8-1
        return self.net(x)
        # END SOLUTION


class BlockVer1(nn.Module):
    """Communicate (the attention `head` passed in), then compute (the feed-forward)."""

    def __init__(self, head: nn.Module, embed_size: int):
        super().__init__()
        self.head = head
        self.ffwd = FeedForward(embed_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # BEGIN SOLUTION 8-2
        return self.ffwd(self.head(x))  # (B, T, C)
        # END SOLUTION


class BlockVer2(BlockVer1):
    """BlockVer1 with a residual connection around the attention and around the feed-forward."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # BEGIN SOLUTION 8-3
        x = x + self.head(x)  # (B, T, C)
        x = x + self.ffwd(x)  # (B, T, C)
        return x
        # END SOLUTION
