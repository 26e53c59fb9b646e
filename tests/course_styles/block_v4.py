"""TODO 10-1 with functional dropout, F.dropout(..., training=self.training), and a plain float."""

import torch
import torch.nn.functional as F
from mygpt.block_v3 import BlockVer3
from torch import nn


class BlockVer4(BlockVer3):
    def __init__(self, head: nn.Module, embed_size: int, dropout: float):
        super().__init__(head, embed_size)
        self.p = dropout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + F.dropout(self.head(self.ln1(x)), p=self.p, training=self.training)
        return x + F.dropout(self.ffwd(self.ln2(x)), p=self.p, training=self.training)
