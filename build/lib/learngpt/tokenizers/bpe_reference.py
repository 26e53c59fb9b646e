"""Byte-level BPE training, the teaching version: recount every pair before every merge.

This is the algorithm in its plainest form (as in karpathy/minbpe's BasicTokenizer):

1. the text becomes its UTF-8 bytes, token ids 0..255;
2. count every adjacent pair of ids (overlapping: "aaa" holds the pair (a, a) twice);
3. take the most frequent pair (ties: the smaller pair, left id first, then right id);
4. replace its occurrences, left to right, by a new id (256, 257, ...);
5. go back to 2 until the vocabulary is big enough.

Each merge rereads the whole text, so training to V tokens costs (V - 256) passes over it.
learngpt/tokenizers/bpe.py gets exactly the same merges much faster by updating the counts
instead of recounting; the tests and bench/bpe.py check the two agree.
"""

from __future__ import annotations

from collections import Counter
from itertools import pairwise

Pair = tuple[int, int]


def get_stats(ids: list[int], counts: Counter[Pair] | None = None) -> Counter[Pair]:
    """How often each adjacent pair occurs in `ids`, added to `counts` if given."""
    counts = Counter() if counts is None else counts
    for pair in pairwise(ids):
        counts[pair] += 1
    return counts


def most_frequent_pair(counts: Counter[Pair]) -> Pair:
    """The pair with the highest count; among equal counts the smallest pair wins."""
    return min(counts, key=lambda pair: (-counts[pair], pair))


def merge(ids: list[int], pair: Pair, new_id: int) -> list[int]:
    """`ids` with every occurrence of `pair`, scanned left to right, replaced by `new_id`."""
    out = []
    i = 0
    while i < len(ids):
        if i + 1 < len(ids) and (ids[i], ids[i + 1]) == pair:
            out.append(new_id)
            i += 2  # both tokens are consumed: in "aaa" only the first (a, a) merges
        else:
            out.append(ids[i])
            i += 1
    return out


def train_reference(chunks: list[str], vocab_size: int) -> list[tuple[Pair, int]]:
    """The merges ((left, right), new_id) of BPE trained on `chunks` up to `vocab_size` tokens.

    Pairs are counted within each chunk and never across two (a text that is not pre-split is
    one chunk). Training stops early when no pair is left.
    """
    chunk_ids = [list(chunk.encode("utf-8", "surrogatepass")) for chunk in chunks]
    merges = []
    for new_id in range(256, vocab_size):
        counts: Counter[Pair] = Counter()
        for ids in chunk_ids:
            get_stats(ids, counts)
        if not counts:
            break
        pair = most_frequent_pair(counts)
        chunk_ids = [merge(ids, pair, new_id) for ids in chunk_ids]
        merges.append((pair, new_id))
    return merges
