"""Step 9: layer normalisation, written by hand, and BlockVer3 (pre-norm).

LayerNorm rescales each position's feature vector to mean 0 and variance 1 (then applies a
learned gain and bias), whatever the scale of its input. In a deep stack that keeps every
layer's input in the range where it learns well, and in the backward pass it undoes the
shrinking: if a layer's output is s times too small, the normalisation's gradient is 1/s times
larger, so the gradient reaching the early layers does not vanish.

BlockVer3 normalises the input of the attention and the input of the feed-forward, inside the
residual branches, so the residual path itself stays untouched: x + head(ln1(x)).
"""

from __future__ import annotations

import torch
from torch import nn

from learngpt.course.step08_feed_forward import BlockVer2


class LayerNorm(nn.Module):
    """y = (x - mean) / sqrt(var + eps) * weight + bias, over the last dimension (the features)."""

    def __init__(self, features: int, eps: float = 1e-5):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(features))  # gain, starts as "change nothing"
        self.bias = nn.Parameter(torch.zeros(features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # BEGIN SOLUTION 9-1
        mean = x.mean(dim=-1, keepdim=True)  # (..., 1)
        var = x.var(dim=-1, keepdim=True, unbiased=False)  # (..., 1), biased, as torch does
        x_hat = (x - mean) / torch.sqrt(var + self.eps)  # (..., features)
        return x_hat * self.weight + self.bias
        # END SOLUTION


class BlockVer3(BlockVer2):
    """BlockVer2 with a LayerNorm at the input of the attention and of the feed-forward."""

    def __init__(self, head: nn.Module, embed_size: int):
        super().__init__(head, embed_size)
        self.ln1 = LayerNorm(embed_size)
        self.ln2 = LayerNorm(embed_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # BEGIN SOLUTION 9-2
        x = x + self.head(self.ln1(x))  # (B, T, C)
        x = x + self.ffwd(self.ln2(x))  # (B, T, C)
        return x
        # END SOLUTION
