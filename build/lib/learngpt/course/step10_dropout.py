"""Step 10: dropout, BlockVer4.

In training mode nn.Dropout zeroes each element with probability p (a fresh random choice on
every call) and scales the survivors by 1 / (1 - p), so the expected value is unchanged. The
network cannot lean on any single unit, which fights overfitting. In evaluation mode dropout
does nothing, so the output is deterministic.
"""

from __future__ import annotations

import torch
from torch import nn

from learngpt.course.step09_layer_norm import BlockVer3


class BlockVer4(BlockVer3):
    """BlockVer3 with dropout on the output of the attention and of the feed-forward."""

    def __init__(self, head: nn.Module, embed_size: int, dropout: float):
        super().__init__(head, embed_size)
        # BEGIN SOLUTION 10-1
        self.dropout = nn.Dropout(dropout)
        # END SOLUTION

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # BEGIN SOLUTION 10-1
        x = x + self.dropout(self.head(self.ln1(x)))  # (B, T, C)
        x = x + self.dropout(self.ffwd(self.ln2(x)))  # (B, T, C)
        return x
        # END SOLUTION
