"""TODO 2-2 with the functional form of the lm_head layer."""

import torch
import torch.nn.functional as F

from learngpt.course import GPTVer2 as Given


class GPTVer2(Given):
    def logits(self, idx: torch.Tensor) -> torch.Tensor:
        x = self.contextualizer(self.embed(idx))
        return F.linear(x, self.lm_head.weight, self.lm_head.bias)
