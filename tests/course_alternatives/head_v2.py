"""TODO 3-1 by cumulative sums divided by counts (no matrix at all)."""

import torch
from torch import nn


class HeadVer2(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        counts = torch.arange(1, x.shape[1] + 1, dtype=x.dtype)[:, None]  # (T, 1)
        return x.cumsum(dim=1) / counts
