"""The tokenizer `learngpt prepare` encodes with: learned, GPT-2's, or an existing one.

A BPE vocabulary is learned from a bounded sample of the text (`--sample-mb`, 4 MB by default):
evenly spaced windows of whole lines from the training part of the stream (the first
1 - val_ratio of its bytes), so that the vocabulary sees every file and never the val tail.
"""

from __future__ import annotations

from pathlib import Path

from learngpt.errors import UserError
from learngpt.prepare.sources import Source
from learngpt.tokenizers import GPT2_SPLIT_PATTERN, BPETokenizer, CharTokenizer, Tokenizer

WINDOW_BYTES = 1 << 16  # each window of the sample: 64 KiB


def gpt2_tokenizer(gpt2_dir: str | Path) -> BPETokenizer:
    """GPT-2's tokenizer from a folder with its vocab.json and merges.txt."""
    folder = Path(gpt2_dir)
    if not (folder / "vocab.json").is_file() or not (folder / "merges.txt").is_file():
        raise UserError(f"--gpt2-dir {folder} must hold GPT-2's vocab.json and merges.txt")
    return BPETokenizer.from_gpt2(folder / "vocab.json", folder / "merges.txt")


def existing_tokenizer(where: str | Path) -> Tokenizer:
    """The tokenizer.json of a prepared directory or a run directory (or that file itself)."""
    path = Path(where)
    return Tokenizer.load(path / "tokenizer.json" if path.is_dir() else path)


def learned_bpe(sources: list[Source], vocab_size: int, sample_bytes: int, train_part: float):
    """A byte-level BPE with GPT-2's split pattern, learned from a sample of the text."""
    sample = text_sample(sources, sample_bytes, train_part)
    return BPETokenizer.train(sample, vocab_size, pattern=GPT2_SPLIT_PATTERN)


def char_tokenizer(sources: list[Source]) -> CharTokenizer:
    return CharTokenizer(sorted(set().union(*(s.chars for s in sources))))


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
