"""The course's tokenizer: one token per character; the vocabulary is the sorted characters."""

from __future__ import annotations

from typing import Any

from learngpt.errors import UserError
from learngpt.tokenizers.base import Tokenizer


class UnknownCharactersError(UserError):
    """Text holds characters outside the vocabulary; `.chars` lists them."""

    def __init__(self, chars: list[str]):
        self.chars = chars
        shown = ", ".join(repr(c) for c in chars)
        super().__init__(f"characters not in the tokenizer's vocabulary: {shown}")


class CharTokenizer(Tokenizer):
    kind = "char"

    def __init__(self, chars: str | list[str]):
        self.chars = sorted(set(chars))
        self.stoi = {ch: i for i, ch in enumerate(self.chars)}

    @classmethod
    def from_text(cls, text: str) -> CharTokenizer:
        return cls(sorted(set(text)))

    @property
    def vocab_size(self) -> int:
        return len(self.chars)

    def unknown_chars(self, text: str) -> list[str]:
        """The distinct characters of `text` that the vocabulary lacks, in order of appearance."""
        return list(dict.fromkeys(ch for ch in text if ch not in self.stoi))

    def encode(self, text: str) -> list[int]:
        try:
            return [self.stoi[ch] for ch in text]
        except KeyError:
            raise UnknownCharactersError(self.unknown_chars(text)) from None

    def decode(self, ids: list[int]) -> str:
        return "".join(self.chars[i] for i in ids)

    def to_dict(self) -> dict[str, Any]:
        return {"chars": "".join(self.chars)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CharTokenizer:
        chars = data["chars"]
        if not isinstance(chars, str):
            raise ValueError("'chars' must be a string")
        return cls(chars)
