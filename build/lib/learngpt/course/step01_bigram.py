"""Step 1: a bigram language model, GPTVer1.

The next token depends only on the current one. The model is a (V, V) table whose row for token
`a` holds the logits of the token that follows `a`; trained with cross-entropy, softmax of that
row approaches the counted bigram distribution P(w | a) = count(a, w) / count(a).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class GPTVer1(nn.Module):
    def __init__(self, vocab_size: int, block_size: int):
        super().__init__()
        self.vocab_size = vocab_size
        self.block_size = block_size
        self.token_embedding_table = nn.Embedding(vocab_size, self.token_width())

    def token_width(self) -> int:
        """How wide a token's row is: here V, the logits of the token that follows it."""
        return self.vocab_size

    def logits(self, idx: torch.Tensor) -> torch.Tensor:
        """(B, T) token ids -> (B, T, V) logits of the next token at every position."""
        return self.token_embedding_table(idx)

    def forward(
        self, idx: torch.Tensor, targets: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        logits = self.logits(idx)  # (B, T, V)
        if targets is None:
            return logits, None
        B, T, V = logits.shape
        loss = F.cross_entropy(logits.view(B * T, V), targets.view(B * T))
        return logits, loss

    def crop_context(self, idx: torch.Tensor) -> torch.Tensor:
        """The part of the context the model reads. A bigram model can read any length."""
        return idx

    @torch.no_grad()
    def generate(self, idx: torch.Tensor, max_new_tokens: int) -> torch.Tensor:
        """Append `max_new_tokens` sampled tokens to each row of idx: (B, T) -> (B, T + new)."""
        # BEGIN SOLUTION 1-1
        for _ in range(max_new_tokens):
            logits = self.logits(self.crop_context(idx))[:, -1, :]  # (B, V): the last step only
            probs = F.softmax(logits, dim=-1)
            idx_next = torch.multinomial(probs, num_samples=1)  # (B, 1)
            idx = torch.cat((idx, idx_next), dim=1)
        return idx
        # END SOLUTION
