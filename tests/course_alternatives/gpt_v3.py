"""TODOs 6-1 ... 6-5 with Python loops and exp/log forms of the formulas."""

import math

import torch

from learngpt.course import GPTVer3 as Given


def table(block_size: int, embed_size: int, value) -> torch.Tensor:
    return torch.tensor(
        [[value(pos, i) for i in range(embed_size)] for pos in range(block_size)],
        dtype=torch.float32,
    ).reshape(block_size, embed_size)


class GPTVer3(Given):
    def embed(self, idx: torch.Tensor) -> torch.Tensor:
        positions = self.pos_encoding[: idx.shape[1]].unsqueeze(0)  # (1, T, C)
        return positions + self.token_embedding_table(idx)

    @staticmethod
    def pos_encodings_v1(block_size: int, embed_size: int) -> torch.Tensor:
        return table(block_size, embed_size, lambda pos, i: pos)

    @staticmethod
    def pos_encodings_v2(block_size: int, embed_size: int) -> torch.Tensor:
        return table(block_size, embed_size, lambda pos, i: pos / max(block_size - 1, 1))

    @staticmethod
    def pos_encodings_v3(block_size: int, embed_size: int) -> torch.Tensor:
        return table(
            block_size,
            embed_size,
            lambda pos, i: math.sin(pos * math.exp(-math.log(1e4) * i / embed_size)),
        )

    @staticmethod
    def pos_encodings_v4(block_size: int, embed_size: int) -> torch.Tensor:
        def value(pos: int, i: int) -> float:
            angle = pos * math.exp(-math.log(1e4) * (i - i % 2) / embed_size)
            return math.cos(angle) if i % 2 else math.sin(angle)

        return table(block_size, embed_size, value)
