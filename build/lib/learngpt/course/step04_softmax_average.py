"""Step 4: the same average again, as softmax over scores whose future is -inf.

softmax([0, 0, -inf, -inf]) = [0.5, 0.5, 0, 0]: equal scores give equal weights, and a score of
-inf gives weight 0. Step 5 keeps this masked softmax and only replaces the all-zero scores
with learned ones.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class HeadVer3(nn.Module):
    def __init__(self):
        super().__init__()
        self.wei: torch.Tensor | None = None  # the last attention weights, kept for inspection

    @staticmethod
    def masked_softmax(scores: torch.Tensor) -> torch.Tensor:
        """Softmax over the last dim of (..., T, T) scores after hiding the future (col > row)."""
        # BEGIN SOLUTION 4-1
        T = scores.shape[-1]
        future = torch.ones(T, T, dtype=torch.bool, device=scores.device).triu(diagonal=1)
        return F.softmax(scores.masked_fill(future, float("-inf")), dim=-1)
        # END SOLUTION

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # BEGIN SOLUTION 4-2
        B, T, C = x.shape
        self.wei = self.masked_softmax(torch.zeros(T, T, device=x.device, dtype=x.dtype))
        return self.wei @ x  # (T, T) @ (B, T, C) -> (B, T, C)
        # END SOLUTION
