"""Tokenizers: characters (the course's), byte-level BPE, and GPT-2's own.

`new_tokenizer(kind, ...)` is the one place a new tokenizer is made, for `learngpt train` (a text
run) and `learngpt prepare` alike; `existing_tokenizer(where)` reads one back.
"""

from __future__ import annotations

from pathlib import Path

from learngpt.errors import UserError
from learngpt.tokenizers.base import Tokenizer
from learngpt.tokenizers.bpe import GPT2_SPLIT_PATTERN, BPETokenizer
from learngpt.tokenizers.char import CharTokenizer, UnknownCharactersError

KINDS = ("char", "bpe", "gpt2")
TOKENIZER_FILE = "tokenizer.json"  # in a run directory and in a token directory alike


def new_tokenizer(
    kind: str,
    text: str = "",
    vocab_size: int = 0,
    gpt2_dir: str | Path | None = None,
    pattern: str | None = None,
) -> Tokenizer:
    """A new tokenizer of `kind`:

    char  one token per character of `text` (so every character of it encodes);
    bpe   byte-level BPE with vocab_size tokens learned from `text`, cut by `pattern` first
          (None: the whole text; prepare passes GPT2_SPLIT_PATTERN);
    gpt2  GPT-2's own, from the folder `gpt2_dir` (its vocab.json and merges.txt).
    """
    if kind == "char":
        return CharTokenizer.from_text(text)
    if kind == "bpe":
        return BPETokenizer.train(text, vocab_size, pattern=pattern)
    if kind == "gpt2":
        folder = Path(gpt2_dir or "")
        if (
            not gpt2_dir
            or not (folder / "vocab.json").is_file()
            or not (folder / "merges.txt").is_file()
        ):
            raise UserError(f"--gpt2-dir {folder} must hold GPT-2's vocab.json and merges.txt")
        return BPETokenizer.from_gpt2(folder / "vocab.json", folder / "merges.txt")
    raise UserError(f"--tokenizer must be one of {', '.join(KINDS)}, got {kind!r}")


def existing_tokenizer(where: str | Path) -> Tokenizer:
    """The tokenizer.json of a token directory or a run directory (or that file itself)."""
    path = Path(where)
    return Tokenizer.load(path / TOKENIZER_FILE if path.is_dir() else path)


__all__ = [
    "GPT2_SPLIT_PATTERN",
    "KINDS",
    "TOKENIZER_FILE",
    "BPETokenizer",
    "CharTokenizer",
    "Tokenizer",
    "UnknownCharactersError",
    "existing_tokenizer",
    "new_tokenizer",
]
