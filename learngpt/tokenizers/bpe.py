"""Byte-level Byte Pair Encoding, in the manner of karpathy/minbpe's BasicTokenizer.

Tokens start as the 256 byte values, so any text can be encoded (no unknown characters).
Training repeatedly merges the most frequent adjacent pair into a new token; encoding replays
the merges in the order they were learned. bpe_reference.py holds the plain, slow version of
training; `BPETokenizer.train` learns the same merges, but keeps the pair counts up to date as it
merges instead of recounting the whole text before every merge.

Optionally the text is first cut into chunks by a regular expression, as GPT-2 does, so that a
merge never joins the end of one word to the start of the next.

`BPETokenizer.from_gpt2` loads GPT-2's own vocab.json and merges.txt. Its token ids are GPT-2's:
the 256 byte tokens are not ids 0..255 in byte order, a merged token's id is whatever vocab.json
says, and <|endoftext|> is a special token, written literally in the text.
"""

from __future__ import annotations

import functools
import heapq
import operator
import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import regex

from learngpt.errors import UserError
from learngpt.tokenizers.base import Tokenizer
from learngpt.tokenizers.gpt2_files import GPT2Parts, read_gpt2_files, read_tokenizer_json

Pair = tuple[int, int]

# GPT-2's pre-split pattern is
#   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
# Python's `re` has no \p{L} (letter) or \p{N} (number), so this approximates them:
# letters are [^\W\d_] (word characters that are not decimal digits or "_": this also lets in
# a few non-decimal numerals such as "²"), numbers are \d (decimal digits), and the rest is
# "_" or [^\s\w]. Every character falls into one alternative, so the chunks always join back
# into the whole text.
GPT2_SPLIT_PATTERN = r"'s|'t|'re|'ve|'m|'ll|'d| ?[^\W\d_]+| ?\d+| ?(?:_|[^\s\w])+|\s+(?!\S)|\s+"
# GPT-2's exact pattern, for its own vocabulary (from_gpt2); the `regex` package runs it
GPT2_PATTERN = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"

NO_TOKEN = -1  # marks a position whose token was merged into its left neighbour
SHORT_CHUNK = 256  # tokens; see _encode_chunk


@functools.lru_cache(maxsize=16)
def compile_pattern(pattern: str) -> re.Pattern:
    """Python's `re`, or the `regex` package (same API) for a pattern with \\p{...} classes."""
    return regex.compile(pattern) if r"\p{" in pattern else re.compile(pattern)


def split_text(text: str, pattern: str | None) -> list[str]:
    """The chunks that BPE works on: the whole text, or its pieces matched by `pattern`."""
    if pattern is None:
        return [text] if text else []
    chunks = [match.group() for match in compile_pattern(pattern).finditer(text)]
    if "".join(chunks) != text:
        raise UserError(f"the split pattern {pattern!r} skips some characters of the text")
    return [chunk for chunk in chunks if chunk]


def text_bytes(text: str) -> bytes:
    # "surrogatepass" lets even a lone surrogate (legal in a Python str) round-trip.
    return text.encode("utf-8", "surrogatepass")


class BPETokenizer(Tokenizer):
    kind = "bpe"

    def __init__(
        self,
        merges: list[tuple[Pair, int]],
        pattern: str | None = None,
        *,
        byte_ids: list[int] | None = None,
        special_tokens: dict[str, int] | None = None,
    ):
        """merges: ((left, right), new id), first learned first. byte_ids[b]: the id of byte b's
        token (default b). special_tokens: text -> id, found literally in the text (GPT-2's
        <|endoftext|>). Together they must use each id from 0 to vocab_size - 1 once."""
        self.merges = [((int(a), int(b)), int(new_id)) for (a, b), new_id in merges]
        self.pattern = pattern
        self.byte_ids = list(range(256)) if byte_ids is None else [int(i) for i in byte_ids]
        self.special_tokens = dict(special_tokens or {})
        # vocab[i] = the bytes token i stands for; a merged token is its two parts joined.
        size = 256 + len(self.merges) + len(self.special_tokens)
        vocab: list[bytes | None] = [None] * size
        named = [*((i, bytes([b])) for b, i in enumerate(self.byte_ids))]
        named += [(i, text.encode("utf-8")) for text, i in self.special_tokens.items()]
        for i, data in named:
            if not 0 <= i < size or vocab[i] is not None:
                raise ValueError(f"token id {i} is outside 0..{size - 1} or given twice")
            vocab[i] = data
        for (a, b), new_id in self.merges:
            known = all(0 <= i < size and vocab[i] is not None for i in (a, b))
            if not (known and 0 <= new_id < size and vocab[new_id] is None):
                raise ValueError(f"merge ({a}, {b}) -> {new_id} is out of order")
            vocab[new_id] = vocab[a] + vocab[b]
        self.vocab: list[bytes] = vocab  # type: ignore[assignment]  (every id is filled now)
        # For encoding: a token sequence held as a str with one character per token id
        # (chr(id)). One merge is then `str.replace(chr(a) + chr(b), chr(new_id))`, which
        # replaces non-overlapping occurrences left to right, exactly like training's merge.
        self._replacements = [(chr(a) + chr(b), chr(new_id)) for (a, b), new_id in self.merges]
        self._rank = {pair: rank for rank, (pair, _) in enumerate(self._replacements)}
        self._byte_tokens = {b: chr(i) for b, i in enumerate(self.byte_ids)}  # for str.translate
        specials = sorted(self.special_tokens, key=len, reverse=True)  # the longest match first
        self._special_split = re.compile("(" + "|".join(map(re.escape, specials)) + ")")

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
        if self.special_tokens:  # "a<|endoftext|>b" -> "a", "<|endoftext|>", "b"
            pieces = self._special_split.split(text)  # odd positions: the special tokens
            return [
                i
                for n, piece in enumerate(pieces)
                for i in ([self.special_tokens[piece]] if n % 2 else self._encode_text(piece))
            ]
        return self._encode_text(text)

    def _encode_text(self, text: str) -> list[int]:
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
        # one character per byte, chr(byte), then per token: chr(its id)
        tokens = text_bytes(text).decode("latin-1").translate(self._byte_tokens)
        if len(tokens) >= SHORT_CHUNK:
            for pair, new_token in self._replacements:  # replay every merge, in learned order
                tokens = tokens.replace(pair, new_token)
        else:
            # A word: apply only the merges it has, each time the adjacent pair learned first
            # (minbpe's encode). Same result: a merge only makes pairs that were learned later.
            while len(tokens) >= 2:
                pairs = (tokens[i : i + 2] for i in range(len(tokens) - 1))
                rank = min(self._rank.get(pair, len(self._rank)) for pair in pairs)
                if rank == len(self._rank):
                    break  # no pair left to merge
                tokens = tokens.replace(*self._replacements[rank])
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

    @classmethod
    def from_gpt2(cls, vocab_path: str | Path, merges_path: str | Path) -> BPETokenizer:
        """GPT-2's tokenizer from its vocab.json and merges.txt, with GPT-2's token ids."""
        parts = read_gpt2_files(vocab_path, merges_path)
        return cls._from_parts(parts, GPT2_PATTERN, f"{vocab_path} and {merges_path}")

    @classmethod
    def from_tokenizer_json(cls, path: str | Path) -> BPETokenizer:
        """The same from a Hugging Face tokenizer.json (GPT-2's or one that export-hf wrote,
        which may leave out GPT-2's pattern: then BPE runs over the whole text)."""
        parts, split = read_tokenizer_json(path)
        return cls._from_parts(parts, GPT2_PATTERN if split else None, str(path))

    @classmethod
    def _from_parts(cls, parts: GPT2Parts, pattern: str | None, source: str) -> BPETokenizer:
        byte_ids, merges, special_tokens = parts
        try:
            return cls(merges, pattern, byte_ids=byte_ids, special_tokens=special_tokens)
        except ValueError as exc:
            raise UserError(f"{source}: the vocabulary does not fit together ({exc})") from None

    def to_dict(self) -> dict[str, Any]:
        data = {"merges": [[a, b] for (a, b), _ in self.merges], "pattern": self.pattern}
        # GPT-2's ids are not in learned order: then the file says which id is which
        if self.byte_ids != list(range(256)) or self.special_tokens:
            data["merge_ids"] = [new_id for _, new_id in self.merges]
            data["byte_ids"] = self.byte_ids
            data["special_tokens"] = self.special_tokens
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BPETokenizer:
        pairs, pattern = data["merges"], data.get("pattern")
        if not isinstance(pairs, list) or not all(
            isinstance(p, list) and len(p) == 2 and all(type(i) is int for i in p) for p in pairs
        ):
            raise ValueError("'merges' must be a list of [left, right] token id pairs")
        if pattern is not None and not isinstance(pattern, str):
            raise ValueError("'pattern' must be a string or null")
        # GPT-2's vocabulary (from_gpt2) names its ids; a learned one numbers them in order
        new_ids = data.get("merge_ids", list(range(256, 256 + len(pairs))))
        byte_ids = data.get("byte_ids", list(range(256)))
        special_tokens = data.get("special_tokens", {})
        if not (
            isinstance(new_ids, list)
            and isinstance(byte_ids, list)
            and isinstance(special_tokens, dict)
            and all(type(i) is int for i in [*new_ids, *byte_ids, *special_tokens.values()])
            and len(new_ids) == len(pairs)
            and len(byte_ids) == 256
        ):
            raise ValueError("'merge_ids', 'byte_ids' or 'special_tokens' are malformed")
        merges = [((a, b), new_id) for (a, b), new_id in zip(pairs, new_ids, strict=True)]
        return cls(merges, pattern, byte_ids=byte_ids, special_tokens=special_tokens)


def _learn_merges(chunks: list[bytes], num_merges: int) -> list[tuple[Pair, int]]:
    """The merges of bpe_reference.train_reference, without recounting before every merge.

    All positions of the text live in one doubly linked list (`prev`, `next`; a chunk's ends
    link to -1, so no pair crosses chunks). For every pair we keep its count and the positions
    where it starts. Merging a pair then touches only its occurrences and their neighbours. A
    heap finds the most frequent pair; when a count changes we push the new count and skip
    stale heap entries when they surface ("lazy deletion").
    """
    learner = _MergeLearner(chunks)
    merges = []
    for new_id in range(256, 256 + num_merges):
        pair = learner.most_frequent()
        if pair is None:
            break  # no pair left anywhere
        learner.merge(pair, new_id)
        merges.append((pair, new_id))
    return merges


class _MergeLearner:
    """The linked list of positions, the pair counts and the heap of _learn_merges."""

    def __init__(self, chunks: list[bytes]):
        # Equal chunks (the same word many times) are stored once, with a weight.
        self.tokens: list[int] = []
        self.weight: list[int] = []  # how many times the chunk of this position occurs
        self.prev: list[int] = []
        self.next: list[int] = []
        for chunk, count in Counter(chunks).items():
            start, end = len(self.tokens), len(self.tokens) + len(chunk)
            self.tokens += chunk
            self.weight += [count] * len(chunk)
            self.prev += [-1, *range(start, end - 1)]
            self.next += [*range(start + 1, end), -1]
        self.counts: dict[Pair, int] = defaultdict(int)
        self.where: dict[Pair, set[int]] = defaultdict(set)  # pair -> positions of its left
        for pos, right in enumerate(self.next):
            if right != -1:
                pair = (self.tokens[pos], self.tokens[right])
                self.counts[pair] += self.weight[pos]
                self.where[pair].add(pos)
        # The heap orders by (-count, pair): the most frequent first, ties to the smaller pair.
        self.heap = [(-count, pair) for pair, count in self.counts.items()]
        heapq.heapify(self.heap)
        self.changed: set[Pair] = set()

    def add(self, pair: Pair, pos: int, w: int) -> None:
        self.counts[pair] += w
        self.where[pair].add(pos)
        self.changed.add(pair)

    def remove(self, pair: Pair, pos: int, w: int) -> None:
        self.counts[pair] -= w
        self.where[pair].discard(pos)
        self.changed.add(pair)

    def most_frequent(self) -> Pair | None:
        """Pop the most frequent pair off the heap (None if no pair is left)."""
        heap = self.heap
        while heap and -heap[0][0] != self.counts.get(heap[0][1], 0):
            heapq.heappop(heap)  # stale: the count changed since this entry was pushed
        return heapq.heappop(heap)[1] if heap else None

    def merge(self, pair: Pair, new_id: int) -> None:
        """Replace every occurrence of `pair` by new_id; push the counts that changed."""
        a, b = pair
        tokens, prev, next_ = self.tokens, self.prev, self.next
        # Left to right, like the reference. An occurrence may have gone stale during this
        # loop: in "aaa", merging the (a, a) at 0 swallows the (a, a) that started at 1.
        for pos in sorted(self.where.pop(pair)):
            right = next_[pos]
            if tokens[pos] != a or right == -1 or tokens[right] != b:
                continue
            w = self.weight[pos]
            before, after = prev[pos], next_[right]
            # ... x [a b] y ...  becomes  ... x [new] y ...
            self.remove(pair, pos, w)
            if before != -1:
                self.remove((tokens[before], a), before, w)
                self.add((tokens[before], new_id), before, w)
            if after != -1:
                self.remove((b, tokens[after]), right, w)
                self.add((new_id, tokens[after]), pos, w)
                prev[after] = pos
            tokens[pos], tokens[right] = new_id, NO_TOKEN
            next_[pos] = after
        for p in self.changed:
            if self.counts[p] > 0:
                heapq.heappush(self.heap, (-self.counts[p], p))
            else:
                del self.counts[p]
                self.where.pop(p, None)
        self.changed.clear()
