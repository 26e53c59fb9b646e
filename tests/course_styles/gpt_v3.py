"""TODOs 6-1 ... 6-5 vectorised the other way round: repeat instead of expand, 0.0001 ** (i / C)
instead of 10000 ** (-i / C), a frequency per channel pair for v4 (its cos cut for an odd C)."""

import torch

from learngpt.course import GPTVer3 as Given


def positions(block_size: int) -> torch.Tensor:
    return torch.arange(block_size).unsqueeze(1)  # (T, 1), integers


class GPTVer3(Given):
    def embed(self, idx: torch.Tensor) -> torch.Tensor:
        B, T = idx.shape
        tok_emb = self.token_embedding_table(idx)
        return tok_emb + self.pos_encoding[:T, :]

    @staticmethod
    def pos_encodings_v1(block_size: int, embed_size: int) -> torch.Tensor:
        return positions(block_size).repeat(1, embed_size).float()

    @staticmethod
    def pos_encodings_v2(block_size: int, embed_size: int) -> torch.Tensor:
        last = max(block_size - 1, 1)  # a single position stays at 0
        return GPTVer3.pos_encodings_v1(block_size, embed_size) / last

    @staticmethod
    def pos_encodings_v3(block_size: int, embed_size: int) -> torch.Tensor:
        freqs = 0.0001 ** (torch.arange(embed_size) / embed_size)  # (C,)
        return torch.sin(positions(block_size) * freqs.unsqueeze(0))

    @staticmethod
    def pos_encodings_v4(block_size: int, embed_size: int) -> torch.Tensor:
        freqs = 0.0001 ** (torch.arange(embed_size)[::2] / embed_size)  # one per channel pair
        angles = positions(block_size) * freqs.unsqueeze(0)  # (T, ceil(C / 2))
        encodings = torch.zeros(block_size, embed_size)
        encodings[:, ::2] = torch.sin(angles)
        encodings[:, 1::2] = torch.cos(angles)[:, : embed_size // 2]
        return encodings
