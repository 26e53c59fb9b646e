"""Byte-level Byte Pair Encoding, in the manner of karpathy/minbpe's BasicTokenizer.

Tokens start as the 256 byte values, so any text can be encoded (no unknown characters).
Training repeatedly merges the most frequent adjacent pair into a new token; encoding replays
the merges in the order they were learned. bpe_reference.py holds the plain, slow version of
training; `BPETokenizer.train` learns the same merges, but keeps the pair counts up to date as it
merges instead of recounting the whole text before every merge.

Optionally the text is first cut into chunks by a regular expression, as GPT-2 does, so that a
merge never joins the end of one word to the start of the next.
"""

from __future__ import annotations

import heapq
import operator
import re
from collections import Counter, defaultdict
from typing import Any

from learngpt.errors import UserError
from learngpt.tokenizers.base import Tokenizer

Pair = tuple[int, int]

# GPT-2's pre-split pattern is
#   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
# Python's `re` has no \p{L} (letter) or \p{N} (number), so this approximates them:
# letters are [^\W\d_] (word characters that are not decimal digits or "_": this also lets in
# a few non-decimal numerals such as "²"), numbers are \d (decimal digits), and the rest is
# "_" or [^\s\w]. Every character falls into one alternative, so the chunks always join back
# into the whole text.
GPT2_SPLIT_PATTERN = r"'s|'t|'re|'ve|'m|'ll|'d| ?[^\W\d_]+| ?\d+| ?(?:_|[^\s\w])+|\s+(?!\S)|\s+"

NO_TOKEN = -1  # marks a position whose token was merged into its left neighbour


def split_text(text: str, pattern: str | None) -> list[str]:
    """The chunks that BPE works on: the whole text, or its pieces matched by `pattern`."""
    if pattern is None:
        return [text] if text else []
    chunks = [match.group() for match in re.finditer(pattern, text)]
    if "".join(chunks) != text:
        raise UserError(f"the split pattern {pattern!r} skips some characters of the text")
    return [chunk for chunk in chunks if chunk]


def text_bytes(text: str) -> bytes:
    # "surrogatepass" lets even a lone surrogate (legal in a Python str) round-trip.
    return text.encode("utf-8", "surrogatepass")


class BPETokenizer(Tokenizer):
    kind = "bpe"

    def __init__(self, merges: list[tuple[Pair, int]], pattern: str | None = None):
        self.merges = [((int(a), int(b)), int(new_id)) for (a, b), new_id in merges]
        self.pattern = pattern
        # vocab[i] = the bytes token i stands for; a merged token is its two parts joined.
        self.vocab = [bytes([i]) for i in range(256)]
        for (a, b), new_id in self.merges:
            if new_id != len(self.vocab) or not (0 <= a < new_id and 0 <= b < new_id):
                raise ValueError(f"merge ({a}, {b}) -> {new_id} is out of order")
            self.vocab.append(self.vocab[a] + self.vocab[b])
        # For encoding: a token sequence held as a str with one character per token id
        # (chr(id)). One merge is then `str.replace(chr(a) + chr(b), chr(new_id))`, which
        # replaces non-overlapping occurrences left to right, exactly like training's merge.
        self._replacements = [(chr(a) + chr(b), chr(new_id)) for (a, b), new_id in self.merges]

    # ---- training ---------------------------------------------------------------------------

    @classmethod
    def train(cls, text: str, vocab_size: int, *, pattern: str | None = None) -> BPETokenizer:
        """Learn `vocab_size - 256` merges from `text` (fewer if the text runs out of pairs).

        `pattern` (e.g. GPT2_SPLIT_PATTERN) cuts the text into chunks first; pairs are then
        counted within chunks only.
        """
        if not 256 <= vocab_size <= 0x110000:
            raise UserError(
                f"a byte-level BPE vocabulary needs 256 to {0x110000} tokens, got {vocab_size}; "
                "pass a vocab size of at least 256"
            )
        chunks = [text_bytes(chunk) for chunk in split_text(text, pattern)]
        return cls(_learn_merges(chunks, vocab_size - 256), pattern)

    # ---- using it ---------------------------------------------------------------------------

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    def encode(self, text: str) -> list[int]:
        if self.pattern is None:
            return self._encode_chunk(text)
        ids: list[int] = []
        cache: dict[str, list[int]] = {}  # words repeat a lot: encode each distinct chunk once
        for chunk in split_text(text, self.pattern):
            if chunk not in cache:
                cache[chunk] = self._encode_chunk(chunk)
            ids += cache[chunk]
        return ids

    def _encode_chunk(self, text: str) -> list[int]:
        tokens = text_bytes(text).decode("latin-1")  # one character per byte, chr(byte)
        for pair, new_token in self._replacements:
            tokens = tokens.replace(pair, new_token)
        return [ord(token) for token in tokens]

    def decode(self, ids: list[int]) -> str:
        try:
            ids = [operator.index(i) for i in ids]  # ints, also numpy/torch integers; no floats
        except TypeError:
            raise ValueError(f"token ids must be integers, got {list(ids)[:5]}") from None
        # Check the range first: a negative id would silently index from the end of the list.
        bad = [i for i in ids if not 0 <= i < len(self.vocab)]
        if bad:
            raise ValueError(f"token ids outside the vocabulary of {len(self.vocab)}: {bad[:5]}")
        data = b"".join(self.vocab[i] for i in ids)
        try:
            return data.decode("utf-8", "surrogatepass")
        except UnicodeDecodeError:
            # Sampled ids may split a character's bytes: show the broken part as U+FFFD.
            return data.decode("utf-8", "replace")

    def __repr__(self) -> str:
        return f"BPETokenizer(vocab_size={self.vocab_size}, pattern={self.pattern!r})"

    # ---- file form --------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {"merges": [[a, b] for (a, b), _ in self.merges], "pattern": self.pattern}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BPETokenizer:
        pairs, pattern = data["merges"], data.get("pattern")
        if not isinstance(pairs, list) or not all(
            isinstance(p, list) and len(p) == 2 and all(type(i) is int for i in p) for p in pairs
        ):
            raise ValueError("'merges' must be a list of [left, right] token id pairs")
        if pattern is not None and not isinstance(pattern, str):
            raise ValueError("'pattern' must be a string or null")
        return cls([((a, b), 256 + i) for i, (a, b) in enumerate(pairs)], pattern)


def _learn_merges(chunks: list[bytes], num_merges: int) -> list[tuple[Pair, int]]:
    """The merges of bpe_reference.train_reference, without recounting before every merge.

    All positions of the text live in one doubly linked list (`prev`, `next`; a chunk's ends
    link to -1, so no pair crosses chunks). For every pair we keep its count and the positions
    where it starts. Merging a pair then touches only its occurrences and their neighbours. A
    heap finds the most frequent pair; when a count changes we push the new count and skip
    stale heap entries when they surface ("lazy deletion").
    """
    # Equal chunks (the same word many times) are stored once, with a weight.
    tokens: list[int] = []
    weight: list[int] = []  # how many times the chunk of this position occurs
    prev: list[int] = []
    next_: list[int] = []
    for chunk, count in Counter(chunks).items():
        start, end = len(tokens), len(tokens) + len(chunk)
        tokens += chunk
        weight += [count] * len(chunk)
        prev += [-1, *range(start, end - 1)]
        next_ += [*range(start + 1, end), -1]

    counts: dict[Pair, int] = defaultdict(int)
    where: dict[Pair, set[int]] = defaultdict(set)  # pair -> positions of its left token
    for pos, right in enumerate(next_):
        if right != -1:
            pair = (tokens[pos], tokens[right])
            counts[pair] += weight[pos]
            where[pair].add(pos)
    # The heap orders by (-count, pair): the most frequent first, ties to the smaller pair.
    heap = [(-count, pair) for pair, count in counts.items()]
    heapq.heapify(heap)

    changed: set[Pair] = set()

    def add(pair: Pair, pos: int, w: int) -> None:
        counts[pair] += w
        where[pair].add(pos)
        changed.add(pair)

    def remove(pair: Pair, pos: int, w: int) -> None:
        counts[pair] -= w
        where[pair].discard(pos)
        changed.add(pair)

    merges = []
    for new_id in range(256, 256 + num_merges):
        while heap and -heap[0][0] != counts.get(heap[0][1], 0):
            heapq.heappop(heap)  # stale: the count changed since this entry was pushed
        if not heap:
            break  # no pair left anywhere
        _, pair = heapq.heappop(heap)
        a, b = pair
        # Left to right, like the reference. An occurrence may have gone stale during this
        # loop: in "aaa", merging the (a, a) at 0 swallows the (a, a) that started at 1.
        for pos in sorted(where.pop(pair)):
            right = next_[pos]
            if tokens[pos] != a or right == -1 or tokens[right] != b:
                continue
            w = weight[pos]
            before, after = prev[pos], next_[right]
            # ... x [a b] y ...  becomes  ... x [new] y ...
            remove(pair, pos, w)
            if before != -1:
                remove((tokens[before], a), before, w)
                add((tokens[before], new_id), before, w)
            if after != -1:
                remove((b, tokens[after]), right, w)
                add((new_id, tokens[after]), pos, w)
                prev[after] = pos
            tokens[pos], tokens[right] = new_id, NO_TOKEN
            next_[pos] = after
        for p in changed:
            if counts[p] > 0:
                heapq.heappush(heap, (-counts[p], p))
            else:
                del counts[p]
                where.pop(p, None)
        changed.clear()
        merges.append((pair, new_id))
    return merges
