"""Tokenizers: characters (the course's) and byte-level BPE."""

from learngpt.tokenizers.base import Tokenizer
from learngpt.tokenizers.bpe import GPT2_SPLIT_PATTERN, BPETokenizer
from learngpt.tokenizers.char import CharTokenizer, UnknownCharactersError

__all__ = [
    "GPT2_SPLIT_PATTERN",
    "BPETokenizer",
    "CharTokenizer",
    "Tokenizer",
    "UnknownCharactersError",
]
