"""Tokenizers: characters (the course's) and byte-level BPE."""

from learngpt.tokenizers.base import Tokenizer
from learngpt.tokenizers.char import CharTokenizer, UnknownCharactersError

__all__ = ["CharTokenizer", "Tokenizer", "UnknownCharactersError"]
