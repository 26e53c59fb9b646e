"""`learngpt train --data DIR` on token files: read in place, the same batches as a tensor of
the ids, exact resume, eval on a split, refusal of changed data, and nanoGPT's directories."""

from __future__ import annotations

import json
import pickle
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from test_ddp import FLOAT32, assert_same_run, weights
from trainer_helpers import TINY, run_cli, write_text

from learngpt.data import TokenFile, check_splits_long_enough, get_batch, open_token_dir
from learngpt.evaluate import split_loss, spread_windows
from learngpt.model import GPT, GPTConfig
from learngpt.prepare import PrepareOptions, prepare
from learngpt.tokenizers import BPETokenizer, Tokenizer
from learngpt.training.plan import TOKENS_REMEDY, token_dir_data

TOKENS = [a for a in TINY if a not in ("--tokenizer", "char")]  # the directory's tokenizer


def prepared(tmp_path: Path, name: str = "tokens", chars: int = 20_000, **options) -> Path:
    text = write_text(tmp_path / f"{name}.txt", chars)
    out = tmp_path / name
    prepare(PrepareOptions([str(text)], out, vocab_size=300, progress=False, **options))
    return out


def test_a_token_file_answers_like_a_tensor_of_its_ids(tmp_path):
    ids = np.random.default_rng(0).integers(0, 500, 3_000).astype("<u2")
    ids.tofile(tmp_path / "ids.bin")
    tokens, tensor = (
        TokenFile(tmp_path / "ids.bin", "uint16"),
        torch.from_numpy(ids.astype(np.int64)),
    )
    assert len(tokens) == len(tensor)
    for rows in (None, slice(2, 4)):
        a = get_batch(tokens, 6, 32, torch.Generator().manual_seed(1), rows)
        b = get_batch(tensor, 6, 32, torch.Generator().manual_seed(1), rows)
        assert all(torch.equal(x, y) and x.dtype == torch.long for x, y in zip(a, b, strict=True))
    spread = zip(spread_windows(tokens, 16, 7), spread_windows(tensor, 16, 7), strict=True)
    assert all(torch.equal(x, y) for x, y in spread)
    torch.manual_seed(0)
    model = GPT(GPTConfig(vocab_size=500, block_size=16, embed_size=8, n_heads=2, n_layers=1))
    assert split_loss(model, tokens, 16, 7) == split_loss(model, tensor, 16, 7)


def rss_anon() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("RssAnon:"):
            return int(line.split()[1]) * 1024
    pytest.skip("no RssAnon in /proc/self/status")


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc/self/status")
def test_the_training_data_is_memory_mapped_not_loaded(tmp_path):
    """A 1 GB train.bin (sparse: no disk) opens, batches and estimates in a few MB of memory."""
    folder = prepared(tmp_path)
    big = 500_000_000  # tokens: loaded as int64 they would take 4 GB
    with open(folder / "train.bin", "r+b") as f:
        f.truncate(big * 2)
    meta = json.loads((folder / "meta.json").read_text())
    meta["tokens"]["train"] = big
    (folder / "meta.json").write_text(json.dumps(meta))
    before = rss_anon()
    data, lengths = token_dir_data(folder, "", None)  # what a run's plan finds in a directory
    check_splits_long_enough(lengths, 64, folder, TOKENS_REMEDY)
    tokens = open_token_dir(data.folder)  # what the run then reads
    get_batch(tokens.train, 64, 64, torch.Generator().manual_seed(0))
    spread_windows(tokens.train, 64, 400)
    assert isinstance(tokens.train, TokenFile) and len(tokens.train) == big
    assert tokens.train.to(torch.device("cpu")) is tokens.train  # never loaded to move it
    assert rss_anon() - before < 50e6
    assert data.source["data_sha256"] == meta["tokens_sha256"]


def test_train_on_a_prepared_directory_resumes_exactly_and_evaluates(tmp_path):
    folder = prepared(tmp_path)
    whole, split = tmp_path / "whole", tmp_path / "split"
    # a constant learning rate: the schedule does not depend on max_iters
    common = ["--data", folder, *TOKENS, *FLOAT32, "--warmup-iters", "0", "--min-lr-ratio", "1"]
    assert run_cli("train", "--out", whole, *common).rc == 0
    assert run_cli("train", "--out", split, *common, "--max-iters", "3").rc == 0
    assert run_cli("train", "--out", split, "--resume", "--max-iters", "6").rc == 0
    assert_same_run(whole, split, atol=0)
    info = json.loads((whole / "run.json").read_text())
    meta = json.loads((folder / "meta.json").read_text())
    assert info["data"] == str(folder.resolve())
    assert info["data_sha256"] == meta["tokens_sha256"]
    assert (
        Tokenizer.load(whole / "tokenizer.json").to_dict()
        == Tokenizer.load(folder / "tokenizer.json").to_dict()
    )
    result = run_cli("eval", "--out", whole, "--split", "val", "--json")
    assert result.rc == 0, result.err
    assert json.loads(result.out)["tokens"] == meta["tokens"]["val"] - 1


def test_resume_on_changed_token_files_is_refused(tmp_path):
    folder = prepared(tmp_path)
    out = tmp_path / "run"
    assert run_cli("train", "--data", folder, "--out", out, *TOKENS, "--max-iters", "3").rc == 0
    other = prepared(tmp_path, "other", chars=25_000)
    for name in ("train.bin", "val.bin", "meta.json"):
        (folder / name).write_bytes((other / name).read_bytes())
    result = run_cli("train", "--out", out, "--resume", "--max-iters", "6")
    assert result.rc == 2
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: --resume: the token files")


class Trap:
    """Unpickling this writes a file: proof that meta.pkl was read."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.write_text, (self.marker, "unpickled"))


def test_a_nanogpt_directory_trains_with_gpt2s_tokenizer_and_its_pickle_is_never_read(tmp_path):
    text = write_text(tmp_path / "text.txt", 20_000).read_text(encoding="utf-8")
    tokenizers = pytest.importorskip("tokenizers")
    bpe = tokenizers.ByteLevelBPETokenizer()  # GPT-2's kind of files, as in test_gpt2_interop
    bpe.train_from_iterator([text], vocab_size=300, special_tokens=["<|endoftext|>"])
    gpt2 = tmp_path / "gpt2"
    gpt2.mkdir()
    bpe.save_model(str(gpt2))
    learned = BPETokenizer.from_gpt2(gpt2 / "vocab.json", gpt2 / "merges.txt")
    nano = tmp_path / "nanogpt"
    nano.mkdir()
    ids = np.array(learned.encode(text), dtype=np.uint16)
    cut = len(ids) * 9 // 10
    ids[:cut].tofile(nano / "train.bin")
    ids[cut:].tofile(nano / "val.bin")
    marker = tmp_path / "unpickled.txt"
    (nano / "meta.pkl").write_bytes(pickle.dumps(Trap(marker)))

    out = tmp_path / "run"
    refused = run_cli("train", "--data", nano, "--out", out, *TOKENS)
    assert refused.rc == 2 and "meta.pkl is never unpickled" in refused.err
    result = run_cli("train", "--data", nano, "--out", out, *TOKENS, "--tokenizer", "gpt2",
                     "--gpt2-dir", gpt2)  # fmt: skip
    assert result.rc == 0, result.err
    assert not marker.exists()
    assert Tokenizer.load(out / "tokenizer.json").to_dict() == learned.to_dict()


def test_two_processes_on_token_files_take_the_same_steps_as_one(tmp_path):
    folder = prepared(tmp_path)
    one, two = tmp_path / "one", tmp_path / "two"
    assert run_cli("train", "--data", folder, "--out", one, *TOKENS, *FLOAT32).rc == 0
    result = run_cli("train", "--data", folder, "--out", two, *TOKENS, *FLOAT32, "--nproc", "2")
    assert result.rc == 0, result.err
    assert_same_run(one, two, atol=1e-5)
    assert weights(one).keys() == weights(two).keys()


def test_a_token_directory_too_short_for_the_block_names_what_applies_to_it(tmp_path):
    folder = prepared(tmp_path, chars=3_000)
    out = tmp_path / "run"
    result = run_cli("train", "--data", folder, "--out", out, *TOKENS, "--block-size", "400")
    assert result.rc == 2 and not out.exists()
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "too short" in lines[0]
    assert "--val-ratio" in lines[0] and "--train-ratio" not in lines[0]


def test_gpt2s_tokenizer_for_a_new_run_needs_its_folder(tmp_path):
    text = write_text(tmp_path / "text.txt", 3_000)
    out = tmp_path / "run"
    result = run_cli("train", "--data", text, "--out", out, *TOKENS, "--tokenizer", "gpt2")
    assert result.rc == 2 and not out.exists()
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "--gpt2-dir" in lines[0]
