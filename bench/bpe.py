"""Byte-level BPE training: incremental counts vs recounting every merge, in one run.

Trains on the first 150,000 characters of data/input.txt to vocab 512 with
BPETokenizer.train (pair counts kept up to date as it merges) and with
bpe_reference.train_reference (recounts every pair before every merge), checks the merges are
equal, and prints the time of each and the speed-up (goal: at least 10x). Then it encodes the
whole of data/input.txt and prints the throughput in MB/s of UTF-8 input. Both again with the
GPT-2 style pre-split pattern (merges within chunks).

    .venv/bin/python bench/bpe.py [--chars 150000] [--vocab-size 512] [--no-pattern]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from learngpt.measure import timed
from learngpt.tokenizers.bpe import GPT2_SPLIT_PATTERN, BPETokenizer, split_text
from learngpt.tokenizers.bpe_reference import train_reference

DATA = Path(__file__).resolve().parent.parent / "data" / "input.txt"


def compare(train_text: str, full_text: str, vocab_size: int, pattern: str | None) -> None:
    name = "GPT-2 style pattern" if pattern else "no pattern"
    fast_s, tokenizer = timed(lambda: BPETokenizer.train(train_text, vocab_size, pattern=pattern))
    ref_s, ref_merges = timed(lambda: train_reference(split_text(train_text, pattern), vocab_size))
    assert tokenizer.merges == ref_merges, f"{name}: the merges differ from the reference"
    encode_s, ids = timed(lambda: tokenizer.encode(full_text))
    assert tokenizer.decode(ids) == full_text, f"{name}: the round trip is not exact"
    mb = len(full_text.encode("utf-8")) / 1e6
    print(
        f"{name}: {len(tokenizer.merges)} merges equal the reference's\n"
        f"  train: incremental {fast_s:.2f} s, recount {ref_s:.2f} s, "
        f"speed-up {ref_s / fast_s:.1f}x (goal >= 10x)\n"
        f"  encode {mb:.2f} MB: {encode_s:.2f} s, {mb / encode_s:.2f} MB/s, "
        f"{len(ids):,} tokens ({len(full_text) / len(ids):.2f} characters per token)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chars", type=int, default=150_000, help="training characters")
    parser.add_argument("--vocab-size", type=int, default=512)
    parser.add_argument("--no-pattern", action="store_true", help="skip the pattern run")
    args = parser.parse_args()

    full_text = DATA.read_text(encoding="utf-8")
    train_text = full_text[: args.chars]
    print(f"training on the first {len(train_text):,} characters, vocab {args.vocab_size}")
    compare(train_text, full_text, args.vocab_size, None)
    if not args.no_pattern:
        compare(train_text, full_text, args.vocab_size, GPT2_SPLIT_PATTERN)


if __name__ == "__main__":
    main()
