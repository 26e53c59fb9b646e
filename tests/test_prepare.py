"""`learngpt prepare`: tiktoken encodes like learngpt's BPE, cuts never change the ids, and the
token files are each file's ids, whatever --chunk-mb; bad input writes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from trainer_helpers import run_cli

from learngpt.prepare import PrepareOptions, prepare
from learngpt.prepare.cuts import cutter_for
from learngpt.resources import shakespeare_path
from learngpt.tokenizers import GPT2_SPLIT_PATTERN, BPETokenizer, CharTokenizer, Tokenizer
from learngpt.tokenizers.bpe import GPT2_PATTERN
from learngpt.tokenizers.fast import FastEncoder

MIXED = (
    "ROMEO: It's he's they'll we've I'm you'd   three spaces\n\n\nnewlines\t\ttabs  \n "
    "한국어 문장입니다, 안녕하세요!\n日本語のテキスト 😀🎉👍🏽 👩‍👩‍👧 ½ ² ٣٤ 12345 3.14 "
    "Ünïcödé e\u0301 — dash’s\n"
    "\r\nwindows\r\nlines\r\n\r\n  indented\n\tTAB\n\x1c\x1d\x1e\x1f sep\u00a0nbsp\u2028ls\n"
    "<|endoftext|>After the end__under_score__ 'S 'LL\n\n   \n trailing   "
)
# characters the regex engines may class differently (marks, other numerals, separators)
ODD = list("aZ é\u0301\u0300²½٣߀Ⅻ_'’\n\r\t\x0b\x0c\x1c\x85\u00a0\u2028\u3000 한😀👍🏽\u200d-.,!0")


@pytest.fixture(scope="module")
def learned() -> dict[str, BPETokenizer]:
    """Byte-level BPEs learned on mixed text, with learngpt's split pattern and GPT-2's."""
    text = shakespeare_path().read_text(encoding="utf-8")[:60_000] + MIXED * 20
    return {
        pattern: BPETokenizer.train(text, 700, pattern=pattern)
        for pattern in (GPT2_SPLIT_PATTERN, GPT2_PATTERN)
    }


def with_end_token(tokenizer: BPETokenizer) -> BPETokenizer:
    """The same vocabulary with GPT-2's <|endoftext|> as one more (special) token."""
    return BPETokenizer(
        tokenizer.merges,
        tokenizer.pattern,
        special_tokens={"<|endoftext|>": tokenizer.vocab_size},
    )


@pytest.mark.parametrize("pattern", [GPT2_SPLIT_PATTERN, GPT2_PATTERN])
def test_tiktoken_encodes_exactly_like_learngpts_bpe(learned, pattern):
    reference = learned[pattern]
    for tokenizer in (reference, with_end_token(reference)):
        fast = FastEncoder(tokenizer)
        assert fast.fast  # tiktoken, not the fallback
        text = MIXED * 3 + shakespeare_path().read_text(encoding="utf-8")[100_000:160_000]
        assert fast.encode(text).tolist() == tokenizer.encode(text)


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.sampled_from(ODD), max_size=60))
def test_tiktoken_equals_learngpt_on_any_mix_of_odd_characters(learned, text):
    for tokenizer in learned.values():
        assert FastEncoder(tokenizer).encode(text).tolist() == tokenizer.encode(text)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.sampled_from([*ODD, "\n", "\nx", " \n", "\r\n", "  "]), max_size=40).map("".join)
)
def test_every_safe_cut_keeps_the_ids(learned, text):
    """Encoding the two sides of any cut the rule allows gives the ids of the whole."""
    for tokenizer in [*learned.values(), with_end_token(learned[GPT2_SPLIT_PATTERN])]:
        cut, whole = cutter_for(tokenizer), tokenizer.encode(text)
        end = len(text)
        while (at := cut(text[:end])) > 0:  # every cut, from the last one back
            assert tokenizer.encode(text[:at]) + tokenizer.encode(text[at:]) == whole
            end = at


def test_a_bpe_without_pattern_is_never_cut_a_char_tokenizer_anywhere():
    assert cutter_for(BPETokenizer([], None))("ab\ncd\nef") == 0
    assert cutter_for(CharTokenizer("abc"))("abcabc") == 6


def write_corpus(folder: Path) -> list[Path]:
    """Three files: mixed text with CRLF and blank lines, one long line, plain Shakespeare."""
    folder.mkdir()
    shakespeare = shakespeare_path().read_text(encoding="utf-8")
    texts = [
        (MIXED + "\n") * 40,
        "one long line without a newline, " * 400,
        shakespeare[:30_000] + "\n\n  \n",
    ]
    paths = []
    for i, text in enumerate(texts):
        path = folder / f"{i}.txt"
        path.write_bytes(text.encode("utf-8"))
        paths.append(path)
    return paths


def stream(out: Path) -> np.ndarray:
    meta = json.loads((out / "meta.json").read_text())
    parts = [np.fromfile(out / name, dtype=meta["dtype"]) for name in ("train.bin", "val.bin")]
    return np.concatenate(parts)


def expected_stream(paths: list[Path], tokenizer: Tokenizer, separator) -> list[int]:
    """Each file's ids by the tokenizer's own encode (the text as bytes: CRLF kept)."""
    ids: list[int] = []
    for n, path in enumerate(paths):
        ids += ([separator] if n and separator is not None else []) + tokenizer.encode(
            path.read_bytes().decode("utf-8")
        )
    return ids


def test_prepared_ids_are_each_files_own_encoding_whatever_the_chunk_size(tmp_path):
    paths = write_corpus(tmp_path / "corpus")
    outs = []
    for n, (chunk_mb, workers) in enumerate([(0.0007, 2), (0.003, 1), (1.0, 2)]):
        out = tmp_path / f"out{n}"
        options = PrepareOptions(
            [str(p) for p in paths], out, vocab_size=600, chunk_mb=chunk_mb, workers=workers
        )
        meta = prepare(options)
        outs.append(out)
        tokenizer = Tokenizer.load(out / "tokenizer.json")
        assert stream(out).tolist() == expected_stream(paths, tokenizer, None)
        assert meta["dtype"] == "uint16" and meta["separator"] is None
        total = sum(f["tokens"] for f in meta["files"])
        assert meta["tokens"] == {"train": total - round(total * 0.1), "val": round(total * 0.1)}
        assert [f["bytes"] for f in meta["files"]] == [p.stat().st_size for p in paths]
        assert (
            meta["tokens_sha256"]
            == json.loads((outs[0] / "meta.json").read_text())["tokens_sha256"]
        )
    assert all(np.array_equal(stream(outs[0]), stream(o)) for o in outs)


def test_a_vocabulary_with_an_end_token_separates_the_files(tmp_path, learned):
    paths = write_corpus(tmp_path / "corpus")
    tokenizer = with_end_token(learned[GPT2_PATTERN])
    tokenizer.save(tmp_path / "tokenizer.json")
    out = tmp_path / "out"
    meta = prepare(
        PrepareOptions(
            [str(tmp_path / "corpus")], out, tokenizer_from=str(tmp_path), chunk_mb=0.001
        )
    )
    assert meta["separator"] == tokenizer.vocab_size - 1
    assert stream(out).tolist() == expected_stream(paths, tokenizer, meta["separator"])


def test_char_tokenizer_and_cli(tmp_path):
    paths = write_corpus(tmp_path / "corpus")
    out = tmp_path / "out"
    result = run_cli(
        "prepare", "--data", *paths, "--out", out, "--tokenizer", "char", "--chunk-mb", "0.002"
    )
    assert result.rc == 0, result.err
    tokenizer = Tokenizer.load(out / "tokenizer.json")
    assert isinstance(tokenizer, CharTokenizer)
    assert stream(out).tolist() == expected_stream(paths, tokenizer, None)
    assert "MB/s" in result.err and "learngpt train --data" in result.err


@pytest.mark.parametrize("how", ["missing", "empty", "binary", "not utf-8", "cut utf-8"])
def test_one_bad_file_among_many_is_one_error_line_and_nothing_is_written(tmp_path, how):
    paths = write_corpus(tmp_path / "corpus")
    bad = tmp_path / "corpus" / "bad.txt"
    content = {
        "empty": b"",
        "binary": b"text\x00\x01\x02 more",
        "not utf-8": b"caf\xe9 au lait\n",
        "cut utf-8": "한국".encode()[:-1],
    }
    if how in content:
        bad.write_bytes(content[how])
    out = tmp_path / "out"
    result = run_cli("prepare", "--data", paths[0], bad, *paths[1:], "--out", out)
    assert result.rc == 2
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and str(bad) in lines[0]
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["corpus"]


def test_an_existing_output_directory_is_refused(tmp_path):
    paths = write_corpus(tmp_path / "corpus")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("mine")
    result = run_cli("prepare", "--data", *paths, "--out", tmp_path / "out")
    assert result.rc == 2 and "already exists" in result.err
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["keep.txt"]


def test_a_vocabulary_over_65536_tokens_is_written_as_uint32(tmp_path):
    chars = [chr(c) for c in range(0x21, 0x21 + 70_000) if not 0xD800 <= c <= 0xDFFF]
    (tmp_path / "wide.txt").write_text("".join(chars) + "\nend\n", encoding="utf-8")
    out = tmp_path / "out"
    meta = prepare(PrepareOptions([str(tmp_path / "wide.txt")], out, tokenizer="char"))
    tokenizer = Tokenizer.load(out / "tokenizer.json")
    assert tokenizer.vocab_size > 65_536 and meta["dtype"] == "uint32"
    assert (out / "train.bin").stat().st_size == 4 * meta["tokens"]["train"]
    assert stream(out).tolist() == expected_stream([tmp_path / "wide.txt"], tokenizer, None)
