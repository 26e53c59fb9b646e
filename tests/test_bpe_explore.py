"""The course's BPE exploration: word-level BPE, whose vocabulary grows and then shrinks."""

from __future__ import annotations

import re

from trainer_helpers import assert_user_error, run_cli

from learngpt.tokenizers.word_bpe import (
    COURSE_WORDS,
    END_OF_WORD,
    learn_word_bpe,
    merge_pair,
    split_words,
)


def test_vocabulary_grows_then_shrinks_on_the_course_words():
    steps = learn_word_bpe(COURSE_WORDS)
    sizes = [len(step.vocab) for step in steps]
    peak = sizes.index(max(sizes))
    assert 0 < peak < len(sizes) - 1  # the peak is strictly inside the run
    assert sizes[0] < sizes[peak] and sizes[-1] < sizes[peak]
    # It ends when every word is one symbol: the vocabulary is then the (distinct) words.
    assert steps[-1].vocab == {word + END_OF_WORD for word in COURSE_WORDS}
    # A merge adds one symbol, and can remove at most its two parts.
    assert all(-2 <= b - a <= 1 for a, b in zip(sizes, sizes[1:], strict=False))


def test_merge_joins_pairs_left_to_right():
    words = split_words(["aaa", "aaa", "ab"])
    merged = merge_pair(words, ("a", "a"))
    assert merged == {("aa", "a", END_OF_WORD): 2, ("a", "b", END_OF_WORD): 1}


def test_first_merge_is_the_most_frequent_pair():
    steps = learn_word_bpe(["low", "low", "lower", "newest", "widest"], max_merges=1)
    assert len(steps) == 2
    assert steps[1].pair == ("l", "o")  # "lo" 3 times; ties with "ow" go to the smaller pair


def test_cli_prints_every_10_merges_and_writes_the_plot(tmp_path):
    plot = tmp_path / "vocab.png"
    result = run_cli("bpe-explore", "--plot", plot)
    assert result.rc == 0, result.err
    printed = [int(m) for m in re.findall(r"^merge\s+(\d+)", result.out, flags=re.MULTILINE)]
    total = len(learn_word_bpe(COURSE_WORDS)) - 1
    expected = list(range(0, total + 1, 10))
    if expected[-1] != total:
        expected.append(total)  # and the last merge
    assert printed == expected
    assert "attention</w>" in result.out  # the words themselves are symbols by the end
    assert plot.read_bytes().startswith(b"\x89PNG")


def test_cli_words_file_and_merges(tmp_path):
    words = tmp_path / "words.txt"
    words.write_text("low low lower\nnewest widest\n", encoding="utf-8")
    plot = tmp_path / "vocab.png"
    result = run_cli("bpe-explore", "--words", words, "--merges", "3", "--plot", plot)
    assert result.rc == 0, result.err
    assert "after 3 merges" in result.out
    assert plot.exists()


def test_cli_errors_are_one_line(tmp_path):
    plot = tmp_path / "vocab.png"
    missing = tmp_path / "missing.txt"
    empty = tmp_path / "empty.txt"
    empty.write_text("  \n", encoding="utf-8")
    for argv in (
        ["--words", missing, "--plot", plot],
        ["--data", missing, "--plot", plot],
        ["--words", empty, "--plot", plot],
        ["--data", empty, "--plot", plot],
        ["--merges", "-1", "--plot", plot],
        ["--plot", tmp_path / "no_such_dir" / "vocab.png"],
    ):
        assert_user_error(run_cli("bpe-explore", *argv))
    assert not plot.exists()
