"""TODO 9-1 with the variance as the mean of squared deviations and torch.rsqrt."""

import torch

from learngpt.course import LayerNorm as Given


class LayerNorm(Given):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        centred = x - x.mean(dim=-1, keepdim=True)
        variance = (centred * centred).mean(dim=-1, keepdim=True)
        return self.weight * (centred * torch.rsqrt(variance + self.eps)) + self.bias
