"""Text in, tensors out: the character tokenizer, reading text, the split and random batches."""

from __future__ import annotations

import pytest
import torch

from learngpt import CharTokenizer, UserError
from learngpt.data import Batches, encode_splits, get_batch, load_text, split_data
from learngpt.tokenizers import Tokenizer, UnknownCharactersError

# --- the character tokenizer ------------------------------------------------------------------


def test_the_vocabulary_is_the_sorted_distinct_characters():
    tokenizer = CharTokenizer.from_text("hello world")
    assert tokenizer.chars == [" ", "d", "e", "h", "l", "o", "r", "w"]
    assert tokenizer.vocab_size == 8
    assert tokenizer.encode("hello") == [3, 2, 4, 4, 5]


def test_shakespeare_has_65_characters(char_tokenizer, shakespeare):
    assert char_tokenizer.vocab_size == 65
    assert char_tokenizer.decode(char_tokenizer.encode(shakespeare[:2000])) == shakespeare[:2000]


@pytest.mark.parametrize("text", ["", "a", "abcabc", "Ünïcödé ✓ 文字\n\ttabs"])
def test_decode_undoes_encode(text):
    tokenizer = CharTokenizer.from_text(text + "xyz")
    ids = tokenizer.encode(text)
    assert len(ids) == len(text)  # one token per character
    assert all(0 <= i < tokenizer.vocab_size for i in ids)
    assert tokenizer.decode(ids) == text


def test_an_unknown_character_is_named():
    tokenizer = CharTokenizer.from_text("abc ")
    with pytest.raises(UnknownCharactersError) as error:
        tokenizer.encode("a cab! bad?!")
    message = str(error.value)
    assert "'!'" in message and "'d'" in message and "'?'" in message
    assert "'a'" not in message  # only the missing ones
    assert error.value.chars == ["!", "d", "?"]  # each once, in order of appearance
    assert isinstance(error.value, UserError)  # the command line prints it as one line


def test_the_tokenizer_saves_and_loads(tmp_path):
    tokenizer = CharTokenizer.from_text("to be or not to be\n")
    path = tmp_path / "tokenizer.json"
    tokenizer.save(path)
    for loaded in (CharTokenizer.load(path), Tokenizer.load(path)):
        assert isinstance(loaded, CharTokenizer)
        assert loaded.chars == tokenizer.chars
        assert loaded.encode("not to be") == tokenizer.encode("not to be")


@pytest.mark.parametrize("content", ["{not json", '{"chars": "abc"}', '{"kind": "char"}'])
def test_a_damaged_tokenizer_file_is_a_user_error(tmp_path, content):
    path = tmp_path / "tokenizer.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(UserError, match="tokenizer.json"):
        CharTokenizer.load(path)


# --- reading text -----------------------------------------------------------------------------


def test_load_text_reads_utf8(tmp_path):
    path = tmp_path / "text.txt"
    path.write_text("Ünïcödé\nline two\n", encoding="utf-8")
    assert load_text(path) == "Ünïcödé\nline two\n"


def make_missing(tmp_path):
    return tmp_path / "missing.txt"


def make_directory(tmp_path):
    path = tmp_path / "a_directory"
    path.mkdir()
    return path


def make_binary(tmp_path):
    path = tmp_path / "binary.txt"
    path.write_bytes(b"abc\xff\xfe\x00def")
    return path


def make_empty(tmp_path):
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    return path


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (make_missing, "does not exist"),
        (make_directory, "directory"),
        (make_binary, "not UTF-8"),
        (make_empty, "empty"),
    ],
)
def test_load_text_errors_name_the_file_and_the_problem(tmp_path, make, words):
    path = make(tmp_path)
    with pytest.raises(UserError) as error:
        load_text(path)
    message = str(error.value)
    assert str(path) in message and words in message and "\n" not in message


# --- the split and the batches ----------------------------------------------------------------


@pytest.mark.parametrize("ratio", [0.1, 0.5, 0.9])
def test_split_keeps_the_first_part_for_training(ratio):
    data = torch.arange(1000)
    train, val = split_data(data, ratio)
    assert len(train) == int(ratio * 1000)
    assert torch.equal(torch.cat([train, val]), data)  # nothing lost, nothing shuffled


def test_encode_splits_encodes_then_splits():
    tokenizer = CharTokenizer.from_text("abcdefghij")
    train, val = encode_splits("abcdefghij", tokenizer, 0.8)
    assert train.tolist() == list(range(8)) and val.tolist() == [8, 9]
    assert train.dtype == torch.long


@pytest.mark.parametrize(("batch_size", "block_size"), [(1, 1), (4, 8), (32, 16)])
def test_a_batch_is_random_windows_and_the_same_windows_shifted_by_one(batch_size, block_size):
    data = torch.arange(100, 200)  # each token tells where it was taken from
    x, y = get_batch(data, batch_size, block_size, torch.Generator().manual_seed(0))
    assert x.shape == y.shape == (batch_size, block_size)
    assert x.dtype == y.dtype == torch.long
    assert torch.equal(y, x + 1)  # y[b, t] is the token after x[b, t]
    assert torch.equal(x[:, 1:], x[:, :-1] + 1)  # each row is a contiguous window
    assert x.min() >= 100 and y.max() <= 199


def test_every_window_can_be_drawn_including_the_last():
    data = torch.arange(11)
    block_size = 8  # windows may start at 0, 1 or 2; the last one ends on the final token
    x, y = get_batch(data, 200, block_size, torch.Generator().manual_seed(0))
    assert set(x[:, 0].tolist()) == {0, 1, 2}
    assert y.max() == 10


def test_a_generator_makes_batches_repeatable():
    data = torch.arange(1000)
    first = get_batch(data, 4, 8, torch.Generator().manual_seed(7))
    again = get_batch(data, 4, 8, torch.Generator().manual_seed(7))
    other = get_batch(data, 4, 8, torch.Generator().manual_seed(8))
    assert torch.equal(first[0], again[0]) and torch.equal(first[1], again[1])
    assert not torch.equal(first[0], other[0])


def test_a_text_too_short_for_the_block_size_is_a_user_error():
    rng = torch.Generator().manual_seed(0)
    get_batch(torch.arange(9), 2, 8, rng)  # 9 tokens: exactly one window and its target
    with pytest.raises(UserError) as error:
        get_batch(torch.arange(8), 2, 8, rng)
    message = str(error.value)
    assert "8 tokens" in message and "block_size 8" in message and "9" in message


def test_the_batches_resume_where_their_state_dict_says():
    data = torch.arange(1000)
    batches = Batches(data, 4, 8, seed=3, rows=None)
    for _ in range(3):
        next(batches)
    state = {k: v.clone() for k, v in batches.state_dict().items()}
    after = [next(batches) for _ in range(2)]
    again = Batches(data, 4, 8, seed=99, rows=None)  # another seed: the state decides
    again.load_state_dict(state)
    for (x, y), (x2, y2) in zip(after, [next(again) for _ in range(2)], strict=True):
        assert torch.equal(x, x2) and torch.equal(y, y2)
    # a process's rows are its share of the same global batch
    half = Batches(data, 4, 8, seed=99, rows=slice(2, 4))
    half.load_state_dict(state)
    assert torch.equal(next(half)[0], after[0][0][2:4])
    with pytest.raises(UserError, match="batch state"):
        again.load_state_dict({})
