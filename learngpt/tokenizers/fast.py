"""learngpt's byte-level BPE at library speed: the same vocabulary as a tiktoken Encoding.

tiktoken encodes a piece by merging, again and again, the adjacent pair whose joined bytes have
the lowest rank; its rank of a token is the token's id. learngpt's BPETokenizer (the teaching
reference) merges the adjacent pair learned first. For a vocabulary whose merged ids follow the
order the merges were learned in (a learned one, GPT-2's), with every token's bytes distinct,
the two pick the same pairs: tests/test_prepare.py proves equal ids on mixed and random text.
A learned vocabulary may hold two tokens with the same bytes (merges (a, bc) and (ab, c)):
tiktoken cannot, so such a tokenizer encodes with learngpt's own code (slow, still exact).

The split patterns need care: learngpt's GPT2_SPLIT_PATTERN runs on Python's `re`, tiktoken's
on Rust's fancy-regex, whose \\w, \\d and \\s are not Python's (combining marks, "²", \\x1c).
So each class of the pattern is rewritten as the explicit code point ranges that Python's own
engine matches: the two engines then cut the text into the same pieces.
"""

from __future__ import annotations

import functools
import re
import sys

import numpy as np

from learngpt.tokenizers.base import Tokenizer
from learngpt.tokenizers.bpe import GPT2_PATTERN, GPT2_SPLIT_PATTERN, BPETokenizer, compile_pattern

# For each pattern tiktoken can run: its character classes (the longer ones first, so that a
# class inside another is replaced with it), each matched by the pattern's own engine.
CLASSES = {
    GPT2_SPLIT_PATTERN: ["(?:_|[^\\s\\w])", "[^\\W\\d_]", "\\d", "\\S", "\\s"],
    GPT2_PATTERN: ["[^\\s\\p{L}\\p{N}]", "\\p{L}", "\\p{N}", "\\S", "\\s"],
}


@functools.cache
def _every_character() -> str:
    """All code points but the surrogates (a UTF-8 text never holds one)."""
    return "".join(chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF)


def _ranges(class_pattern: str, engine_pattern: str) -> str:
    """The code point ranges that `class_pattern` matches on `engine_pattern`'s engine."""
    engine = compile_pattern(engine_pattern)
    module = re if isinstance(engine, re.Pattern) else sys.modules["regex"]
    text = _every_character()
    parts = []
    for match in module.finditer(class_pattern + "+", text):
        first, last = ord(match.group()[0]), ord(match.group()[-1])
        if first < 0xD800 and last > 0xDFFF:  # around the surrogates' gap: two ranges
            parts += [_range(first, 0xD7FF), _range(0xE000, last)]
        else:
            parts.append(_range(first, last))
    return "".join(parts)


def _range(first: int, last: int) -> str:
    return f"\\x{{{first:x}}}" + (f"-\\x{{{last:x}}}" if last != first else "")


@functools.cache
def rust_pattern(pattern: str) -> str:
    """`pattern` for tiktoken's engine, matching exactly what Python's engine matches."""
    out = pattern
    spaces = _ranges("\\s", pattern)
    for atom in CLASSES[pattern]:  # \\S: the complement of \\s
        explicit = f"[^{spaces}]" if atom == "\\S" else f"[{_ranges(atom, pattern)}]"
        out = out.replace(atom, explicit)
    return out


def tiktoken_ranks(tokenizer: BPETokenizer) -> dict[bytes, int] | None:
    """tiktoken's mergeable_ranks (bytes -> id) for `tokenizer`, or None if they cannot match it.

    They match when every merged id is above every byte id and the ids grow in the order the
    merges were learned (tiktoken's rank is learngpt's merge order), and no two tokens share bytes.
    """
    if tokenizer.pattern not in CLASSES:
        return None
    merge_ids = [new_id for _, new_id in tokenizer.merges]
    in_order = all(a < b for a, b in zip(merge_ids, merge_ids[1:], strict=False))
    if not in_order or (merge_ids and max(tokenizer.byte_ids) > merge_ids[0]):
        return None
    specials = set(tokenizer.special_tokens.values())
    ranks = {data: i for i, data in enumerate(tokenizer.vocab) if i not in specials}
    if len(ranks) != tokenizer.vocab_size - len(specials):
        return None  # two tokens with the same bytes: tiktoken keeps one of them
    return ranks


def tiktoken_encoding(tokenizer: BPETokenizer):
    """A tiktoken Encoding with `tokenizer`'s ids, or None if it cannot match it exactly."""
    ranks = tiktoken_ranks(tokenizer)
    if ranks is None:
        return None
    import tiktoken

    return tiktoken.Encoding(
        "learngpt",
        pat_str=rust_pattern(tokenizer.pattern),
        mergeable_ranks=ranks,
        special_tokens=tokenizer.special_tokens,
    )


class FastEncoder:
    """encode(text) -> numpy ids, equal to `tokenizer.encode(text)`, by tiktoken when it can."""

    def __init__(self, tokenizer: Tokenizer):
        self.tokenizer = tokenizer
        fits = isinstance(tokenizer, BPETokenizer)
        self.encoding = tiktoken_encoding(tokenizer) if fits else None
        self.specials = getattr(tokenizer, "special_tokens", {})
        longest_first = sorted(self.specials, key=len, reverse=True)
        self.special_split = re.compile("(" + "|".join(map(re.escape, longest_first)) + ")")

    @property
    def fast(self) -> bool:
        return self.encoding is not None

    def encode(self, text: str, dtype=np.int64) -> np.ndarray:
        if self.encoding is None:
            return np.asarray(self.tokenizer.encode(text), dtype=dtype)
        if not self.specials:
            return np.array(self.encoding.encode_ordinary(text), dtype=dtype)
        # the special tokens cut the text first, as in BPETokenizer.encode (tiktoken's own
        # handling of them, encode(allowed_special=...), is a third slower)
        ids: list[int] = []
        for n, piece in enumerate(self.special_split.split(text)):  # odd n: a special token
            ids += [self.specials[piece]] if n % 2 else self.encoding.encode_ordinary(piece)
        return np.array(ids, dtype=dtype)
