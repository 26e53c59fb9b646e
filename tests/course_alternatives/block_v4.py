"""TODO 10-1 as the course's own reference writes it: each sub-layer wrapped with its dropout in
an nn.Sequential, the feed-forward a new one made here (other random draws than BlockVer3's), and
forward inherited from BlockVer3."""

from mygpt.block_v3 import BlockVer3
from mygpt.feed_forward import FeedForward
from torch import nn


class BlockVer4(BlockVer3):
    def __init__(self, head: nn.Module, embed_size: int, dropout: float):
        super().__init__(head, embed_size)
        self.head = nn.Sequential(head, nn.Dropout(dropout))
        self.ffwd = nn.Sequential(FeedForward(embed_size), nn.Dropout(dropout))
