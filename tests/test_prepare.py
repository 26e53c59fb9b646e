"""`learngpt prepare`: tiktoken encodes like learngpt's BPE, cuts never change the ids, and the
token files are each file's ids, whatever --chunk-mb; bad input writes nothing."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from trainer_helpers import ROOT, assert_user_error, run_cli, snapshot

from learngpt import commands as cli
from learngpt.prepare import PrepareOptions, prepare, sources, write
from learngpt.prepare.cuts import cutter_for
from learngpt.prepare.sources import check_sources, text_pieces
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


# hard text for the cut rules: runs of spaces before letters, indentation, contractions and
# apostrophes, class changes (letters, digits, marks, punctuation), pieces of the special token
HARD = [*ODD, "\n", "\nx", " \n", "\r\n", "  ", "    ", "\t", "'s", "'ll", "'", "’", "x'",
        "1a", "a1", ",", "x,y", "_a", "<|endoftext|>", "<|end", "oftext|>", "|>", "e\u0301",
        " 5", "\u3000"]  # fmt: skip


def all_cuts(cutter, text: str) -> list[int]:
    """Every safe cut of `text` the cutter finds, searched forward from the start."""
    cuts, at, hi = [], 0, len(text) - cutter.margin
    while (at := cutter.cuts(text, at, hi, last=False)) is not None:
        cuts.append(at)
    return cuts


def cut_tokenizers(learned) -> list[BPETokenizer]:
    return [*learned.values(), *(with_end_token(t) for t in learned.values())]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(HARD), max_size=40).map("".join))
def test_every_safe_cut_keeps_the_ids(learned, text):
    """Encoding the two sides of any cut the rules allow gives the ids of the whole, by the
    tokenizer's own encode and by tiktoken; so do all the cuts at once."""
    for tokenizer in cut_tokenizers(learned):
        cutter, whole = cutter_for(tokenizer), tokenizer.encode(text)
        fast = FastEncoder(tokenizer)
        cuts = all_cuts(cutter, text)
        for at in cuts:
            assert tokenizer.encode(text[:at]) + tokenizer.encode(text[at:]) == whole, at
        bounds = [0, *cuts, len(text)]
        pieces = [text[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]
        assert [i for p in pieces for i in fast.encode(p).tolist()] == whole


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(HARD), max_size=40).map("".join), st.data())
def test_the_last_cut_is_the_last_of_all_cuts_in_any_range(learned, text, data):
    """Searching back (the last cut) finds what searching forward finds last."""
    for tokenizer in cut_tokenizers(learned):
        cutter = cutter_for(tokenizer)
        hi = len(text) - cutter.margin
        lo = data.draw(st.integers(0, max(0, hi)))
        inside = [c for c in all_cuts(cutter, text) if lo < c <= hi]
        assert cutter.cuts(text, lo, hi, last=True) == (inside[-1] if inside else None)


def test_text_without_newlines_or_with_indented_lines_has_cuts_everywhere(learned):
    """The texts that were one piece each (issue 35): a cut every few characters now."""
    shakespeare = shakespeare_path().read_text(encoding="utf-8")[:20_000]
    one_line = shakespeare.replace("\n", " ")
    indented = "".join("    " + line + "\n" for line in shakespeare.splitlines())
    for tokenizer in cut_tokenizers(learned):
        cutter = cutter_for(tokenizer)
        for text in (one_line, indented):
            bounds = [0, *all_cuts(cutter, text), len(text)]
            assert max(b - a for a, b in zip(bounds, bounds[1:], strict=False)) < 100


def test_a_bpe_without_pattern_is_never_cut_a_char_tokenizer_anywhere():
    text = "ab\ncd ef"
    assert all_cuts(cutter_for(BPETokenizer([], None)), text) == []
    assert all_cuts(cutter_for(CharTokenizer("abcdef \n")), text) == list(range(1, len(text)))


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
    for n, (chunk_mb, workers) in enumerate([(0.001, 2), (0.003, 1), (1.0, 2)]):
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


# ---- issue 35: pieces bounded for any text, each character searched once, one read


def pieces_of(tmp_path: Path, text: str, tokenizer: Tokenizer, piece_chars: int, cutter=None):
    """text_pieces of `text` written to a file: (the pieces, the checked Source)."""
    path = tmp_path / "text.txt"
    path.write_text(text, encoding="utf-8")
    [source] = check_sources([path])
    cutter = cutter or cutter_for(tokenizer)
    return list(text_pieces(source, piece_chars, cutter)), source


def test_text_without_newlines_is_read_in_pieces_of_the_size_asked(learned, tmp_path):
    shakespeare = shakespeare_path().read_text(encoding="utf-8")[:60_000]
    one_line = shakespeare.replace("\n", " ")
    indented = "".join("    " + line + "\n" for line in shakespeare.splitlines())
    tokenizer = learned[GPT2_SPLIT_PATTERN]
    for text in (one_line, indented):
        pieces, source = pieces_of(tmp_path, text, tokenizer, 1000)
        assert "".join(pieces) == text and source.forced_cuts == 0
        assert max(len(p) for p in pieces) < 2100  # it was one piece: the whole text
        ids = [i for p in pieces for i in FastEncoder(tokenizer).encode(p).tolist()]
        assert ids == tokenizer.encode(text)


def test_a_run_without_a_safe_cut_is_cut_at_places_that_depend_on_the_text_only(
    learned, tmp_path, monkeypatch
):
    monkeypatch.setattr(sources, "MAX_UNCUT", 5000)  # (1 << 16 in earnest)
    before, after = "Some words here. " * 300, " and the tail, words again." * 100
    text = before + "ACGT" * 6000 + after  # 24,000 letters: no space, no change of class
    last_safe = len(before) - 1  # before the space that ends `before`
    forced = [last_safe + k * 5000 for k in (1, 2, 3, 4)]  # then the run ends at a space
    tokenizer = with_end_token(learned[GPT2_PATTERN])
    for piece_chars in (1000, 3000, 7000, 100_000):
        pieces, source = pieces_of(tmp_path, text, tokenizer, piece_chars)
        assert "".join(pieces) == text
        ends = set(np.cumsum([len(p) for p in pieces]).tolist())
        assert source.forced_cuts == 4 and set(forced) <= ends, piece_chars
        assert max(len(p) for p in pieces) <= piece_chars + 5000


class CountingPattern:
    """A cutter's pattern that counts the characters each search looks at."""

    def __init__(self, pattern):
        self.pattern, self.looked_at = pattern, 0

    def finditer(self, text, pos, endpos):
        at = pos
        for match in self.pattern.finditer(text, pos, endpos):
            self.looked_at, at = self.looked_at + match.end() - at, match.end()
            yield match
        self.looked_at += min(endpos, len(text)) - at  # searched to the end (none left)


@pytest.mark.parametrize("kind", ["no safe cut", "one line", "a cut at each block's start"])
def test_each_character_is_searched_for_cuts_once_whatever_the_piece_size(learned, tmp_path, kind):
    """Small pieces of a text that cannot be cut used to search the text again and again as
    it grew (20 MB: 148 s); now the work is linear."""
    text = {
        "no safe cut": "ACGT" * 50_000,
        "one line": shakespeare_path().read_text(encoding="utf-8")[:200_000].replace("\n", " "),
        "a cut at each block's start": ("A " + "x" * 998) * 200,
    }[kind]
    cutter = cutter_for(learned[GPT2_SPLIT_PATTERN])
    cutter.pattern = CountingPattern(cutter.pattern)
    pieces, _ = pieces_of(tmp_path, text, learned[GPT2_SPLIT_PATTERN], 1000, cutter)
    assert "".join(pieces) == text
    assert cutter.pattern.looked_at <= 2 * len(text) + 2 * len(pieces)


@pytest.mark.parametrize("change", ["same size", "grown", "shrunk"])
def test_a_file_that_changes_while_prepare_reads_it_is_refused(tmp_path, monkeypatch, change):
    """The bytes encoded are hashed in the same read, and compared with the first read's."""
    path = write_corpus(tmp_path / "corpus")[2]
    original = write.check_sources

    def check_then_change(*args, **kwargs):
        checked = original(*args, **kwargs)
        text = path.read_text(encoding="utf-8")
        path.write_text(
            {"same size": text.swapcase(), "grown": text + "more", "shrunk": text[:-5]}[change],
            encoding="utf-8",
        )
        return checked

    monkeypatch.setattr(write, "check_sources", check_then_change)
    out = tmp_path / "out"
    result = run_cli("prepare", "--data", path, "--out", out, "--tokenizer", "char")
    assert_user_error(result, str(path), "changed while prepare read it")
    assert result.rc == 2 and not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corpus"]


def test_meta_json_records_each_split_and_file_as_written(tmp_path):
    paths = write_corpus(tmp_path / "corpus")
    out = tmp_path / "out"
    meta = prepare(PrepareOptions([str(p) for p in paths], out, tokenizer="char", chunk_mb=0.01))
    for split, name in (("train", "train.bin"), ("val", "val.bin")):
        data = (out / name).read_bytes()
        facts = {"file": name, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
        assert meta["splits"][split] == facts
    for path, facts in zip(paths, meta["files"], strict=True):
        assert facts["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
        assert facts["forced_cuts"] == 0


# ---- issue 35: prepare as careful as train (hostile input, --out checked before any work)


def test_a_fifo_as_data_is_refused_at_once(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    done, result = threading.Event(), {}

    def prepare_fifo():
        result["r"] = run_cli("prepare", "--data", fifo, "--out", tmp_path / "out")
        done.set()

    threading.Thread(target=prepare_fifo, daemon=True).start()
    if not done.wait(30):  # a hang: open a writer so that the thread can finish
        with open(fifo, "w"):
            pass
        pytest.fail("prepare --data FIFO waited for a writer")
    assert_user_error(result["r"], str(fifo), "pipe (FIFO), not a regular file")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe"]


def test_stdin_and_devices_as_data_are_refused(tmp_path):
    command = [sys.executable, "-m", "learngpt", "prepare", "--out", str(tmp_path / "out")]
    piped = subprocess.run(
        [*command, "--data", "/dev/stdin"], input="some text", capture_output=True, text=True
    )
    assert piped.returncode == 2 and piped.stderr.startswith("error: "), piped.stderr
    assert "/dev/stdin is a pipe (FIFO), not a regular file" in piped.stderr
    assert len(piped.stderr.strip().splitlines()) == 1
    device = run_cli("prepare", "--data", "/dev/zero", "--out", tmp_path / "out")
    assert_user_error(device, "/dev/zero is a device")
    assert not (tmp_path / "out").exists()


@pytest.fixture
def no_work(monkeypatch):
    """Fail the test if prepare reads any data file: its refusal must come before."""

    def refuse(*args, **kwargs):
        raise AssertionError("prepare read the data before refusing --out")

    monkeypatch.setattr(write, "check_sources", refuse)


@pytest.mark.parametrize(
    "where, says",
    [
        ("a file", "is a file, not a directory"),
        ("under a file", "is under"),
        ("/proc/new", "is under /proc"),
        ("/sys/new", "is under /sys"),
        ("a dangling link", "which does not exist"),
        ("not empty", "already exists and is not empty"),
    ],
)
def test_an_out_that_cannot_be_a_new_directory_is_refused_before_any_work(
    tmp_path, no_work, where, says
):
    data = write_corpus(tmp_path / "corpus")[0]
    (tmp_path / "file").write_text("mine")
    os.symlink(tmp_path / "nowhere", tmp_path / "link")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    out = {
        "a file": tmp_path / "file",
        "under a file": tmp_path / "file" / "out",
        "a dangling link": tmp_path / "link",
        "not empty": tmp_path / "full",
    }.get(where, where)
    before = snapshot(tmp_path)
    result = run_cli("prepare", "--data", data, "--out", out)
    assert_user_error(result, f"--out {out}", says)
    assert result.rc == 2 and snapshot(tmp_path) == before


def test_an_out_in_a_folder_that_cannot_be_written_is_refused_before_any_work(tmp_path):
    """A real permission (root drops to nobody in a forked process): exit 2 at once, where the
    old code encoded everything, then failed (exit 1) on the first write."""
    base = Path(tempfile.mkdtemp())  # everyone may look inside (tmp_path's parents: root only)
    try:
        os.chmod(base, 0o755)
        data = write_corpus(base / "corpus")[0]
        os.chmod(base / "corpus", 0o755)
        (base / "locked").mkdir(mode=0o555)
        out, log = base / "locked" / "out", tmp_path / "log.txt"
        started = time.monotonic()
        status = run_forked_as_nobody(log, "prepare", "--data", data, "--out", out)
        lines = log.read_text().strip().splitlines()
        assert status == 2 and len(lines) == 1, lines
        assert lines[0].startswith(f"error: cannot create --out {out}: Permission denied")
        assert time.monotonic() - started < 10 and not out.exists()
    finally:
        shutil.rmtree(base)


def run_forked_as_nobody(log: Path, *argv) -> int:
    """`learngpt ARGV` in a forked process of this one, as user nobody if we are root."""
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 1
        try:
            sys.stdout = sys.stderr = open(log, "w", buffering=1)  # noqa: SIM115
            if os.getuid() == 0:
                os.setgid(65534)
                os.setuid(65534)
            code = cli.main([str(a) for a in argv])
        finally:
            sys.stderr.flush()
            os._exit(code)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])


def test_a_failed_run_leaves_no_folder_it_made(tmp_path):
    (tmp_path / "tiny.txt").write_text("ab")  # too few tokens: refused after the folder is made
    result = run_cli(
        "prepare", "--data", tmp_path / "tiny.txt", "--out", tmp_path / "a" / "b" / "out"
    )
    assert_user_error(result, "too few")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny.txt"]


def test_more_workers_than_cores_are_capped_with_a_line(tmp_path):
    cores = len(os.sched_getaffinity(0))
    seen, running = [0], threading.Event()
    running.set()

    def count_children():
        while running.is_set():
            seen[0] = max(seen[0], len(multiprocessing.active_children()))
            time.sleep(0.002)

    counter = threading.Thread(target=count_children)
    counter.start()
    try:
        result = run_cli(
            "prepare", "--data", ROOT / "data" / "input.txt", "--out", tmp_path / "out",
            "--tokenizer", "char", "--chunk-mb", "0.01", "--workers", "500",
        )  # fmt: skip
    finally:
        running.clear()
        counter.join()
    assert result.rc == 0, result.err
    warning = result.err.strip().splitlines()[0]
    assert (
        warning
        == f"warning: --workers 500 is more than this machine's {cores} cores; using {cores}"
    )
    assert 1 <= seen[0] <= cores


# ---- issue 35: messages that say what is wrong and what to do


@pytest.mark.parametrize(
    "flags, says",
    [
        (["--chunk-mb", "1e-9"], "--chunk-mb must be a number of MB from 0.001 to 16, got 1e-09"),
        (["--chunk-mb", "inf"], "--chunk-mb must be a number of MB from 0.001 to 16, got inf"),
        (["--chunk-mb", "nan"], "--chunk-mb must be a number of MB"),
        (["--sample-mb", "inf"], "--sample-mb must be a number of MB from 0.001 to 1000, got inf"),
        (["--sample-mb", "1e300"], "--sample-mb must be a number of MB"),
        (["--vocab-size", "10000000000"], "--vocab-size must be from 256 (the bytes) to 1,114,112"),
        (["--vocab-size", "100"], "--vocab-size must be from 256"),
    ],
)  # fmt: skip
def test_a_size_out_of_range_is_named_with_its_range(tmp_path, no_work, flags, says):
    data = write_corpus(tmp_path / "corpus")[0]
    result = run_cli("prepare", "--data", data, "--out", tmp_path / "out", *flags)
    assert_user_error(result, says)
    assert "is empty" not in result.err and "at least 256" not in result.err
    assert result.rc == 2 and not (tmp_path / "out").exists()


def test_an_empty_data_path_is_refused_not_taken_for_the_current_directory(tmp_path, no_work):
    result = run_cli("prepare", "--data", "", "--out", tmp_path / "out")
    assert_user_error(result, "--data '' is an empty path")
    assert result.rc == 2


def test_a_vocabulary_smaller_than_asked_is_said_so(tmp_path):
    data = tmp_path / "small.txt"
    data.write_text(shakespeare_path().read_text(encoding="utf-8")[:5_000], encoding="utf-8")
    result = run_cli("prepare", "--data", data, "--out", tmp_path / "out", "--vocab-size", "70000")
    assert result.rc == 0, result.err
    size = json.loads((tmp_path / "out" / "meta.json").read_text())["vocab_size"]
    assert size < 70_000
    [warning] = [line for line in result.err.splitlines() if line.startswith("warning: ")]
    assert f"the vocabulary has {size:,} tokens, not the 70,000 --vocab-size asked for" in warning
