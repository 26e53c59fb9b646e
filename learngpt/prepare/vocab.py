"""The text a new `learngpt prepare` tokenizer is made from (learngpt.tokenizers.new_tokenizer).

A BPE vocabulary is learned from a bounded sample of the text (`--sample-mb`, 4 MB by default):
evenly spaced windows of whole lines from the training part of the stream (the first
1 - val_ratio of its bytes), so that the vocabulary sees every file and never the val tail.
"""

from __future__ import annotations

from pathlib import Path

from learngpt.prepare.sources import Source
from learngpt.tokenizers import GPT2_SPLIT_PATTERN, Tokenizer, new_tokenizer

WINDOW_BYTES = 1 << 16  # each window of the sample: 64 KiB


def learned_bpe(
    sources: list[Source], vocab_size: int, sample_bytes: int, train_part: float
) -> Tokenizer:
    """A byte-level BPE with GPT-2's split pattern, learned from a sample of the text."""
    sample = text_sample(sources, sample_bytes, train_part)
    return new_tokenizer("bpe", sample, vocab_size, pattern=GPT2_SPLIT_PATTERN)


def char_tokenizer(sources: list[Source]) -> Tokenizer:
    """Every character of every file (the files were read once to check them: their sets)."""
    return new_tokenizer("char", "".join(sorted(set().union(*(s.chars for s in sources)))))


def text_sample(sources: list[Source], budget: int, train_part: float) -> str:
    """About `budget` bytes of whole lines, in windows spread evenly over the stream's start."""
    span = max(1, int(sum(s.size for s in sources) * train_part))
    count = max(1, budget // WINDOW_BYTES)
    if count * WINDOW_BYTES >= span:  # the sample is all of the training part
        pieces, left = [], span
        for source in sources:
            pieces.append(_read(source.path, 0, min(source.size, left)))
            left -= source.size
            if left <= 0:
                break
        return "\n".join(pieces)
    return "\n".join(_window(sources, span * k // count) for k in range(count))


def _window(sources: list[Source], start: int) -> str:
    """WINDOW_BYTES of the stream from `start` (within one file), trimmed to whole lines."""
    for source in sources:
        if start < source.size:
            text = _read(source.path, start, WINDOW_BYTES)
            first, last = text.find("\n"), text.rfind("\n")
            return text[first + 1 : last + 1] if 0 <= first < last else text
        start -= source.size
    return ""


def _read(path: Path, start: int, size: int) -> str:
    with open(path, "rb") as f:
        f.seek(start)
        data = f.read(size)
    return data.decode("utf-8", "ignore")  # a character cut at either edge is dropped
