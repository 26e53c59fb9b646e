"""Byte-level BPE: the fast trainer learns exactly the reference's merges; round trips are exact.

learngpt/tokenizers/bpe_reference.py is the plain recount-every-merge version; every merge list
of BPETokenizer.train is checked against it, including the tricky cases for an incremental
trainer: ties, overlapping runs ("aaaa"), chunk boundaries and repeated chunks.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from learngpt import BPETokenizer
from learngpt.errors import UserError
from learngpt.tokenizers import GPT2_SPLIT_PATTERN, Tokenizer
from learngpt.tokenizers.bpe import split_text
from learngpt.tokenizers.bpe_reference import merge, train_reference


def reference_merges(text: str, vocab_size: int, pattern: str | None = None):
    return train_reference(split_text(text, pattern), vocab_size)


def reference_encode(tokenizer: BPETokenizer, text: str) -> list[int]:
    """Encoding done the slow way: the reference's merge() applied in merge order, per chunk."""
    out = []
    for chunk in split_text(text, tokenizer.pattern):
        ids = list(chunk.encode("utf-8"))
        for pair, new_id in tokenizer.merges:
            ids = merge(ids, pair, new_id)
        out += ids
    return out


SMALL_CORPORA = [
    "aaaa",  # overlapping run: (a, a) counted 3 times, merged as [aa][aa]
    "aaaaa",  # odd run: [aa][aa]a
    "aaabdaaabac",  # the Wikipedia example
    "abababab",  # (a, b) and (b, a) overlap each other
    "abcabcabc",
    "ab ba ab ba",  # ties between pairs of equal count
    "zyxzyxabab",  # ties: the smaller pair must win, not the first seen
    "the cat the hat the mat the the the",  # repeated words
    "héllo wörld, 你好世界 😀😀😀 ünïcödé",  # multi-byte characters
    "x",  # no pair at all
    "",
]


@pytest.mark.parametrize("text", SMALL_CORPORA)
@pytest.mark.parametrize("pattern", [None, GPT2_SPLIT_PATTERN])
def test_merges_equal_reference_on_small_corpora(text, pattern):
    # vocab 300 asks for more merges than these texts have pairs: training must also stop
    # at the same point as the reference.
    tokenizer = BPETokenizer.train(text, 300, pattern=pattern)
    assert tokenizer.merges == reference_merges(text, 300, pattern)
    assert tokenizer.decode(tokenizer.encode(text)) == text


def test_overlapping_run_merges_left_to_right():
    merges = BPETokenizer.train("aaaa", 258).merges
    a = ord("a")
    assert merges == [((a, a), 256), ((256, 256), 257)]
    assert BPETokenizer.train("aaa", 258).merges == [((a, a), 256), ((256, a), 257)]


def test_ties_go_to_the_smaller_pair():
    # (d, c) and (b, a) both occur twice; (d, c) is seen first, but (b, a) is the smaller pair.
    text = "dcdc baba"
    tokenizer = BPETokenizer.train(text, 257)
    assert tokenizer.merges == [((ord("b"), ord("a")), 256)]
    assert tokenizer.merges == reference_merges(text, 257)


def test_pattern_keeps_merges_inside_chunks_and_counts_repeats():
    # The pattern cuts "ab ab ab ab cd" into "ab", " ab", " ab", " ab", " cd": a space only
    # ever starts a chunk, so no token may hold a letter followed by a space.
    text = "ab ab ab ab cd"
    plain = BPETokenizer.train(text, 270)
    split = BPETokenizer.train(text, 270, pattern=GPT2_SPLIT_PATTERN)
    assert split.merges == reference_merges(text, 270, GPT2_SPLIT_PATTERN)
    assert any(b"b " in token for token in plain.vocab[256:])
    assert not any(b"b " in token for token in split.vocab[256:])
    # " ab" is one chunk repeated three times and "ab" one more: (a, b) counts 4, (" ", a) 3.
    assert split.merges[:2] == [((ord("a"), ord("b")), 256), ((ord(" "), 256), 257)]


@pytest.mark.parametrize("pattern", [None, GPT2_SPLIT_PATTERN])
def test_merges_equal_reference_on_shakespeare(shakespeare, pattern):
    text = shakespeare[:3000]
    tokenizer = BPETokenizer.train(text, 320, pattern=pattern)
    assert len(tokenizer.merges) == 64
    assert tokenizer.merges == reference_merges(text, 320, pattern)
    assert tokenizer.encode(text) == reference_encode(tokenizer, text)
    assert len(tokenizer.encode(text)) < len(text.encode("utf-8"))  # it does compress


@settings(max_examples=150, deadline=None)
@given(
    text=st.text(alphabet="abc ", max_size=40),
    vocab_size=st.integers(256, 280),
    use_pattern=st.booleans(),
)
def test_merges_equal_reference_on_random_strings(text, vocab_size, use_pattern):
    pattern = GPT2_SPLIT_PATTERN if use_pattern else None
    tokenizer = BPETokenizer.train(text, vocab_size, pattern=pattern)
    assert tokenizer.merges == reference_merges(text, vocab_size, pattern)
    assert tokenizer.encode(text) == reference_encode(tokenizer, text)


@settings(max_examples=100, deadline=None)
@given(train_text=st.text(max_size=60), text=st.text(), use_pattern=st.booleans())
def test_round_trip_of_any_text(train_text, text, use_pattern):
    # st.text() covers any code point but surrogates: control characters, the empty string,
    # characters the tokenizer never saw in training.
    pattern = GPT2_SPLIT_PATTERN if use_pattern else None
    tokenizer = BPETokenizer.train(train_text, 300, pattern=pattern)
    for sample in (text, train_text, train_text + text):
        ids = tokenizer.encode(sample)
        assert all(0 <= i < tokenizer.vocab_size for i in ids)
        assert tokenizer.decode(ids) == sample
        assert ids == reference_encode(tokenizer, sample)


def test_round_trip_of_edge_cases(shakespeare):
    tokenizer = BPETokenizer.train(shakespeare[:2000], 300)
    for text in ["", "\x00\x01\n\t\r\x7f", "\ud800 lone surrogate", "ﬁ 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 🧪", "Zebra!" * 5]:
        assert tokenizer.decode(tokenizer.encode(text)) == text


def test_save_load_round_trip(tmp_path, shakespeare):
    text = shakespeare[:2000]
    for pattern in (None, GPT2_SPLIT_PATTERN):
        tokenizer = BPETokenizer.train(text, 300, pattern=pattern)
        path = tmp_path / "tokenizer.json"
        tokenizer.save(path)
        data = json.loads(path.read_text(encoding="utf-8"))  # the file is plain JSON
        assert data["kind"] == "bpe"
        for loaded in (BPETokenizer.load(path), Tokenizer.load(path)):
            assert isinstance(loaded, BPETokenizer)
            assert loaded.merges == tokenizer.merges
            assert loaded.pattern == pattern
            assert loaded.vocab_size == tokenizer.vocab_size == 300
            unseen = "A brand-new line, never trained on: ünïcödé 42."
            assert loaded.encode(text + unseen) == tokenizer.encode(text + unseen)


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        "[]",
        '{"kind": "bpe"}',
        '{"kind": "bpe", "merges": "ab"}',
        '{"kind": "bpe", "merges": [[1, 2, 3]]}',
        '{"kind": "bpe", "merges": [[1, 300]]}',  # refers to a token not made yet
        '{"kind": "bpe", "merges": [[1, -1]]}',
        '{"kind": "bpe", "merges": [[1, 2]], "pattern": 5}',
        '{"kind": "char", "chars": "ab"}',
    ],
)
def test_load_of_damaged_file_is_user_error(tmp_path, content):
    path = tmp_path / "tokenizer.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(UserError):
        BPETokenizer.load(path)


def test_vocab_size_below_256_is_user_error():
    with pytest.raises(UserError, match="256"):
        BPETokenizer.train("hello", 255)


def test_decode_of_out_of_range_ids_raises():
    tokenizer = BPETokenizer.train("hello hello", 260)
    assert tokenizer.vocab_size == 260
    assert tokenizer.decode([104, 256 + 0]) == "h" + tokenizer.vocab[256].decode()
    for bad in ([-1], [260], [104, 10_000], [1.0]):
        with pytest.raises(ValueError):
            tokenizer.decode(bad)


def test_learned_tokenizer_file_has_no_id_tables(shakespeare):
    # only GPT-2's vocabulary (from_gpt2) needs merge_ids, byte_ids and special_tokens
    assert set(BPETokenizer.train(shakespeare[:500], 270).to_dict()) == {"merges", "pattern"}


@pytest.mark.parametrize(
    "tables",
    [
        {"special_tokens": [256]},
        {"byte_ids": list(range(255))},
        {"merge_ids": [7], "merges": [[1, 2]]},
        {"byte_ids": [0] * 256},
    ],
)
def test_damaged_id_tables_are_a_user_error(tmp_path, tables):
    path = tmp_path / "tokenizer.json"
    path.write_text(json.dumps({"kind": "bpe", "merges": [], "pattern": None, **tables}))
    with pytest.raises(UserError, match="damaged"):
        Tokenizer.load(path)
