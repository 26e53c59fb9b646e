"""TODO 1-1 by the Gumbel-max trick: argmax(logits + Gumbel noise) is a draw from softmax."""

import torch

from learngpt.course import GPTVer1 as Given


class GPTVer1(Given):
    @torch.no_grad()
    def generate(self, idx: torch.Tensor, max_new_tokens: int) -> torch.Tensor:
        for _ in range(max_new_tokens):
            logits = self.logits(self.crop_context(idx))[:, -1, :]
            gumbel = -torch.log(-torch.log(torch.rand_like(logits).clamp(min=1e-20)))
            idx = torch.cat((idx, (logits + gumbel).argmax(dim=-1, keepdim=True)), dim=1)
        return idx
