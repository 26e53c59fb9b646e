"""Step 2: let the past in. Each position becomes the mean of itself and every earlier position.

HeadVer1 writes that average with two plain for loops so that it is obvious what is computed;
steps 3 and 4 compute exactly the same thing faster. GPTVer2 puts such a "contextualizer"
between a (V, C) token embedding and a Linear(C, V) language-model head.
"""

from __future__ import annotations

import torch
from torch import nn

from learngpt.course.step01_bigram import GPTVer1


class HeadVer1(nn.Module):
    """out[b, t] = mean(x[b, 0], ..., x[b, t]), with loops over batch and time."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # BEGIN SOLUTION 2-1
        B, T, C = x.shape
        out = torch.zeros_like(x)
        for b in range(B):  # batches never talk to each other
            for t in range(T):
                out[b, t] = x[b, : t + 1].mean(dim=0)  # (C,)
        return out
        # END SOLUTION


class GPTVer2(GPTVer1):
    """Token embedding (V, C) -> contextualizer (B, T, C) -> lm_head Linear(C, V)."""

    def __init__(
        self, contextualizer: nn.Module, vocab_size: int, block_size: int, embed_size: int
    ):
        self.embed_size = embed_size  # token_width() reads it while GPTVer1.__init__ runs
        super().__init__(vocab_size, block_size)  # forward and generate are GPTVer1's
        self.contextualizer = contextualizer
        self.lm_head = nn.Linear(embed_size, vocab_size)

    def token_width(self) -> int:
        # Tokens now get a C-dimensional embedding instead of GPTVer1's row of next-token logits.
        return self.embed_size

    def embed(self, idx: torch.Tensor) -> torch.Tensor:
        """(B, T) -> (B, T, C): what the contextualizer reads."""
        return self.token_embedding_table(idx)

    def logits(self, idx: torch.Tensor) -> torch.Tensor:
        # BEGIN SOLUTION 2-2
        x = self.contextualizer(self.embed(idx))  # (B, T, C)
        return self.lm_head(x)  # (B, T, V)
        # END SOLUTION

    def crop_context(self, idx: torch.Tensor) -> torch.Tensor:
        # The model was trained on at most block_size tokens (and later steps cannot read more).
        return idx[:, -self.block_size :]
