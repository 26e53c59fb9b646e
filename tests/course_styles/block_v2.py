"""TODO 8-3 with the residuals added in place, as some learners write them."""

import torch

from learngpt.course import BlockVer2 as Given


class BlockVer2(Given):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        residual = x
        out = self.head(x)
        out += residual
        residual = out
        x = self.ffwd(out)
        x += residual
        return x
