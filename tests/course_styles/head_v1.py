"""TODO 2-1 with the two loops, each prefix named and averaged with torch.mean."""

import torch
from torch import nn


class HeadVer1(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, C = x.shape
        out = torch.zeros((B, T, C)).to(x.device)
        for b in range(B):
            for t in range(T):
                xprev = x[b, : t + 1]  # (t + 1, C)
                out[b, t] = torch.mean(xprev, 0)
        return out
