"""Word-level BPE as Sennrich et al. (2016) introduced it, the course's `main_bpe.py`.

Every word starts as its characters plus an end-of-word marker: "loss" is `l o s s </w>`. The
marker keeps a merged "s</w>" (an "s" that ends a word) apart from an "s" inside a word. Each
step merges the most frequent adjacent pair of symbols, counted over all words (a word that
occurs n times counts n times).

The vocabulary is the set of symbols the words are currently made of. A merge adds one symbol
(the pair joined) and removes each of its two parts that no longer appears anywhere else. Early
merges join common pairs whose parts are still used elsewhere, so the vocabulary grows; late
merges join rarer pieces into whole words and use up their parts, so it shrinks until every
word is a single symbol.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import pairwise

END_OF_WORD = "</w>"

# A stand-in for the words of the course's main_bpe.py, which the course's text mentions but does
# not show: 21 words of the course's own vocabulary.
COURSE_WORDS = (
    "attention", "tokenization", "batch", "transformers", "bigram", "language", "model",
    "loss", "train", "matrix", "multiply", "softmax", "positional", "encoder", "decoder",
    "sqrt", "byte", "pair", "encoding", "context", "average",
)  # fmt: skip

Symbols = tuple[str, ...]


@dataclass
class WordBPEStep:
    """The state after `merge` merges: the merged pair (None before the first) and vocabulary."""

    merge: int
    pair: tuple[str, str] | None
    vocab: set[str]


def split_words(words: Iterable[str]) -> Counter[Symbols]:
    """Each word as its characters and the end-of-word marker, with how often it occurs."""
    return Counter((*word, END_OF_WORD) for word in words)


def vocabulary(words: Counter[Symbols]) -> set[str]:
    """The distinct symbols the words are made of."""
    return {symbol for word in words for symbol in word}


def pair_counts(words: Counter[Symbols]) -> Counter[tuple[str, str]]:
    counts: Counter[tuple[str, str]] = Counter()
    for word, freq in words.items():
        for pair in pairwise(word):
            counts[pair] += freq
    return counts


def merge_pair(words: Counter[Symbols], pair: tuple[str, str]) -> Counter[Symbols]:
    """Every word with each occurrence of `pair`, left to right, joined into one symbol."""
    merged: Counter[Symbols] = Counter()
    for word, freq in words.items():
        out = []
        i = 0
        while i < len(word):
            if word[i : i + 2] == pair:
                out.append(pair[0] + pair[1])
                i += 2
            else:
                out.append(word[i])
                i += 1
        merged[tuple(out)] += freq
    return merged


def learn_word_bpe(words: Iterable[str], max_merges: int | None = None) -> list[WordBPEStep]:
    """Run word-level BPE; returns the state before any merge and after each merge.

    Stops after `max_merges` merges or when every word is a single symbol. Ties between
    equally frequent pairs go to the alphabetically smaller pair, so runs are reproducible.
    """
    current = split_words(words)
    steps = [WordBPEStep(0, None, vocabulary(current))]
    while max_merges is None or len(steps) <= max_merges:
        counts = pair_counts(current)
        if not counts:
            break
        pair = min(counts, key=lambda p: (-counts[p], p))
        current = merge_pair(current, pair)
        steps.append(WordBPEStep(len(steps), pair, vocabulary(current)))
    return steps
