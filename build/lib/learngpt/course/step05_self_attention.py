"""Step 5: one head of causal self-attention, softmax(Q K^T / sqrt(d_k)) V.

Instead of equal weights for every earlier position (step 4), each position asks a question
(query), every position offers an answer to match (key) and a content to pass on (value); the
weights are the masked softmax of the query-key dot products.
"""

from __future__ import annotations

import torch
from torch import nn

from learngpt.course.step04_softmax_average import HeadVer3


class HeadVer4(HeadVer3):
    def __init__(self, block_size: int, embed_size: int, head_size: int):
        super().__init__()
        self.block_size = block_size
        self.head_size = head_size
        self.key = nn.Linear(embed_size, head_size, bias=False)
        self.query = nn.Linear(embed_size, head_size, bias=False)
        self.value = nn.Linear(embed_size, head_size, bias=False)
        self.var: torch.Tensor | None = None  # variance of the last scaled scores

    def forward(self, x: torch.Tensor, debug: bool = False) -> torch.Tensor:
        """(B, T, C) -> (B, T, head_size), keeping `.var` and `.wei` for the tests."""
        q = self.query(x)  # (B, T, hs)
        k = self.key(x)  # (B, T, hs)
        v = self.value(x)  # (B, T, hs)
        # The course's `if debug:` block, for the tests (leave it as it is): standard-normal Q, K
        # and V, so that the variance of the scaled scores can be checked.
        if debug:
            q, k, v = torch.randn_like(q), torch.randn_like(k), torch.randn_like(v)
        # BEGIN SOLUTION 5-1
        # Dividing by sqrt(d_k) keeps unit-variance q, k giving unit-variance scores, so the
        # softmax stays diffuse instead of saturating on one position.
        scores = q @ k.transpose(-2, -1) * self.head_size**-0.5  # (B, T, T)
        if scores.numel() > 1:  # a single score (T = 1 in generation) has no variance
            self.var = scores.var()
        self.wei = self.masked_softmax(scores)  # (B, T, T)
        return self.wei @ v  # (B, T, hs)
        # END SOLUTION
