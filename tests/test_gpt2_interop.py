"""GPT-2 interop against Hugging Face transformers and tokenizers, offline.

A tiny random GPT2LMHeadModel and a tiny byte-level BPE (trained here on the shipped text, with
<|endoftext|> in its vocabulary, as GPT-2's) are saved the way the Hub holds GPT-2; learngpt
imports them, computes the same logits, greedy text and token ids, exports them back, and
exports a run it trained itself.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import time
from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from safetensors.torch import load_file, save_file
from trainer_helpers import TINY, run_cli

import learngpt
from learngpt.resources import shakespeare_path
from learngpt.tokenizers import BPETokenizer

transformers = pytest.importorskip("transformers")
tokenizers = pytest.importorskip("tokenizers")

MIXED = (
    "ROMEO: It's he's they'll we've I'm you'd   three spaces\n\n\nnewlines\t\ttabs  \n "
    "한국어 문장입니다, 안녕하세요! 日本語のテキスト 😀🎉👍🏽 ½ ² ٣ 12345 3.14 Ünïcödé — dash’s "
    "<|endoftext|>After the end\u00a0nbsp  \r\n trailing   "
)


@pytest.fixture(scope="module")
def hf_dir(tmp_path_factory) -> Path:
    """A Hugging Face GPT-2 directory: random weights (biases and norms too), tiny BPE."""
    root = tmp_path_factory.mktemp("hf")
    bpe = tokenizers.ByteLevelBPETokenizer()
    text = shakespeare_path().read_text(encoding="utf-8")[:100_000]
    bpe.train_from_iterator([text], vocab_size=400, special_tokens=["<|endoftext|>"])
    bpe.save_model(str(root))
    torch.manual_seed(0)
    config = transformers.GPT2Config(
        vocab_size=bpe.get_vocab_size(),
        n_positions=64,
        n_embd=32,
        n_layer=2,
        n_head=4,
        n_inner=48,
        bos_token_id=None,  # no end token: greedy runs the whole length
        eos_token_id=None,
    )
    model = transformers.GPT2LMHeadModel(config)
    with torch.no_grad():
        for p in model.parameters():  # every tensor random: a misplaced one shows
            p.normal_(0.0, 0.2)
    model.save_pretrained(root)
    return root


@pytest.fixture(scope="module")
def hf_model(hf_dir):
    return transformers.AutoModelForCausalLM.from_pretrained(hf_dir).eval()


@pytest.fixture(scope="module")
def imported(hf_dir, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "gpt2"
    result = run_cli("import-hf", hf_dir, "--out", out)
    assert result.rc == 0, result.err
    return out


def hf_logits(path_or_model, idx: torch.Tensor) -> torch.Tensor:
    model = path_or_model
    if isinstance(path_or_model, Path):
        model = transformers.AutoModelForCausalLM.from_pretrained(path_or_model).eval()
    with torch.no_grad():
        return model(idx).logits


def our_logits(run, idx: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return run.model(idx)[0]


def test_imported_model_computes_transformers_logits(imported, hf_model):
    run = learngpt.load_run(imported, device="cpu")
    idx = torch.randint(
        0, run.tokenizer.vocab_size, (2, 64), generator=torch.Generator().manual_seed(1)
    )
    torch.testing.assert_close(our_logits(run, idx), hf_logits(hf_model, idx), atol=1e-5, rtol=0)


def test_import_of_an_old_style_pytorch_model_bin(hf_dir, hf_model, tmp_path):
    """The Hub's older GPT-2 files: a pickled state dict without the "transformer." prefix, with
    the causal-mask buffers and the tied head saved twice."""
    old = tmp_path / "old"
    shutil.copytree(hf_dir, old)
    tensors = {
        k.removeprefix("transformer."): v for k, v in load_file(old / "model.safetensors").items()
    }
    tensors["h.0.attn.bias"] = torch.ones(1, 1, 64, 64).tril()
    tensors["lm_head.weight"] = tensors["wte.weight"]
    (old / "model.safetensors").unlink()
    torch.save(tensors, old / "pytorch_model.bin")
    assert run_cli("import-hf", old, "--out", tmp_path / "run").rc == 0
    run = learngpt.load_run(tmp_path / "run", device="cpu")
    idx = torch.randint(0, 400, (1, 30), generator=torch.Generator().manual_seed(3))
    torch.testing.assert_close(our_logits(run, idx), hf_logits(hf_model, idx), atol=1e-5, rtol=0)


def test_imported_model_greedy_text_equals_transformers(imported, hf_model):
    run = learngpt.load_run(imported, device="cpu")
    prompt = run.tokenizer.encode("ROMEO: What say you")
    ids = torch.tensor([prompt])
    ours = [int(t) for t in learngpt.generate(run.model, ids, 30, temperature=0)]
    theirs = hf_model.generate(ids, max_new_tokens=30, do_sample=False, pad_token_id=0)
    assert ours == theirs[0, len(prompt) :].tolist()
    result = run_cli("sample", "--out", imported, "--prompt", "ROMEO: What say you",
                     "--temperature", "0", "--max-new-tokens", "30")  # fmt: skip
    assert result.out.rstrip("\n") == run.tokenizer.decode(prompt + ours)


def test_from_gpt2_encodes_like_gpt2_tokenizer_fast(hf_dir, imported):
    fast = transformers.GPT2TokenizerFast(str(hf_dir / "vocab.json"), str(hf_dir / "merges.txt"))
    ours = BPETokenizer.from_gpt2(hf_dir / "vocab.json", hf_dir / "merges.txt")
    saved = learngpt.load_run(imported, device="cpu").tokenizer  # the run's tokenizer.json
    text = shakespeare_path().read_text(encoding="utf-8")[:20_000] + MIXED
    long_chunks = ["한국어" * 150, " " * 700 + "x", "ab" * 400]  # >= 256 bytes: merges replayed
    for chunk in (MIXED, text, " ", "\n\n", "<|endoftext|>", "a  b   c    ", *long_chunks):
        expected = fast.encode(chunk)
        assert ours.encode(chunk) == expected, chunk[:40]
        assert saved.encode(chunk) == expected
        assert ours.decode(expected) == chunk


@pytest.fixture(scope="module")
def fast_and_ours(hf_dir):
    vocab, merges = str(hf_dir / "vocab.json"), str(hf_dir / "merges.txt")
    return transformers.GPT2TokenizerFast(vocab, merges), BPETokenizer.from_gpt2(vocab, merges)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([*"ab ZÉé'stlr\n\t\r 19½²한국😀’,.-_", "'s", "'ll", "  "])))
def test_from_gpt2_encodes_any_text_like_gpt2_tokenizer_fast(fast_and_ours, pieces):
    fast, ours = fast_and_ours
    text = "".join(pieces)
    assert ours.encode(text) == fast.encode(text)


def test_export_of_an_import_loads_in_transformers(imported, hf_model, tmp_path):
    assert run_cli("export-hf", imported, tmp_path / "hf").rc == 0
    idx = torch.randint(0, 400, (2, 40), generator=torch.Generator().manual_seed(2))
    torch.testing.assert_close(hf_logits(tmp_path / "hf", idx), hf_logits(hf_model, idx))
    fast = transformers.AutoTokenizer.from_pretrained(tmp_path / "hf")
    ours = learngpt.load_run(imported, device="cpu").tokenizer
    assert fast.encode(MIXED) == ours.encode(MIXED)
    assert run_cli("import-hf", tmp_path / "hf", "--out", tmp_path / "again").rc == 0
    again = learngpt.load_run(tmp_path / "again", device="cpu")  # through tokenizer.json
    assert again.tokenizer.to_dict() == ours.to_dict()


def test_learngpt_trained_run_exports_to_transformers(tmp_path):
    out = tmp_path / "run"
    gpt2_like = ["--no-rotary", "--no-head-bias", "--activation", "gelu_tanh", "--no-tie-weights",
                 "--ffwd-conv", "0", "--tokenizer", "bpe", "--vocab-size", "300",
                 "--norm-eps", "1e-6"]  # fmt: skip
    assert run_cli("train", "--out", out, *TINY, *gpt2_like).rc == 0
    assert run_cli("export-hf", out, tmp_path / "hf").rc == 0
    run = learngpt.load_run(out, device="cpu")
    text = shakespeare_path().read_text(encoding="utf-8")[:3000]
    idx = torch.tensor([run.tokenizer.encode(text)[:16]])
    torch.testing.assert_close(hf_logits(tmp_path / "hf", idx), our_logits(run, idx))
    fast = transformers.AutoTokenizer.from_pretrained(tmp_path / "hf")
    assert fast.encode(text) == run.tokenizer.encode(text)  # BPE over the whole text, no split
    assert run_cli("import-hf", tmp_path / "hf", "--out", tmp_path / "again").rc == 0
    again = learngpt.load_run(tmp_path / "again", device="cpu")
    assert again.tokenizer.encode(text) == run.tokenizer.encode(text)
    torch.testing.assert_close(our_logits(again, idx), our_logits(run, idx))


def test_export_names_the_option_gpt2_lacks(tmp_path):
    out = tmp_path / "run"
    assert run_cli("train", "--out", out, *TINY, "--rotary").rc == 0
    result = run_cli("export-hf", out, tmp_path / "hf")
    assert result.rc == 2 and "rotary" in result.err and result.err.count("\n") == 1
    assert not (tmp_path / "hf").exists()


def test_init_from_fine_tunes_an_imported_model(imported, tmp_path):
    out = tmp_path / "tuned"
    tune = ["--max-iters", "40", "--eval-interval", "20", "--eval-iters", "4", "--batch-size", "8",
            "--block-size", "32", "--learning-rate", "3e-3", "--warmup-iters", "5", "--device",
            "cpu", "--no-compile"]  # fmt: skip
    result = run_cli("train", "--init-from", imported, "--out", out, *tune)
    assert result.rc == 0, result.err
    log = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert log[-1]["val_loss"] < log[0]["val_loss"] - 0.3
    source, tuned = learngpt.load_run(imported), learngpt.load_run(out)
    assert tuned.config.model.activation == "gelu_tanh" and tuned.config.block_size == 32
    assert tuned.tokenizer.to_dict() == source.tokenizer.to_dict()
    refused = run_cli("train", "--init-from", imported, "--out", tmp_path / "x", "--rotary")
    assert refused.rc == 2 and "rotary" in refused.err


class RunsCode:
    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))


def break_dir(hf_dir: Path, tmp_path: Path, how: str) -> Path:
    broken = tmp_path / "broken"
    shutil.copytree(hf_dir, broken)
    if how == "missing vocab":
        (broken / "vocab.json").unlink()
    elif how == "missing weights":
        (broken / "model.safetensors").unlink()
    elif how == "wrong shape":
        tensors = load_file(broken / "model.safetensors")
        name = next(n for n in tensors if n.endswith("mlp.c_fc.weight"))
        tensors[name] = tensors[name][:, :40].contiguous()
        save_file(tensors, broken / "model.safetensors", metadata={"format": "pt"})
    elif how == "code in pickle":
        (broken / "model.safetensors").unlink()
        evil = RunsCode()
        evil.marker = str(tmp_path / "pwned")
        (broken / "pytorch_model.bin").write_bytes(pickle.dumps({"wte.weight": evil}, protocol=2))
    return broken


@pytest.mark.parametrize(
    "how", ["missing vocab", "missing weights", "wrong shape", "code in pickle"]
)
def test_malformed_directory_is_one_error_line_and_writes_nothing(hf_dir, tmp_path, how):
    broken = break_dir(hf_dir, tmp_path, how)
    result = run_cli("import-hf", broken, "--out", tmp_path / "run")
    assert result.rc == 2 and result.err.startswith("error: ") and result.err.count("\n") == 1
    assert not (tmp_path / "run").exists() and not (tmp_path / "pwned").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


# ---- hostile input (issue 29, cases 3, 5 and 8)


@pytest.mark.parametrize(
    "key, value, named",
    [("n_layer", 10**6, "n_layer"), ("n_embd", 10**9, "n_embd"), ("n_inner", 10**12, "n_inner")],
)
def test_config_sizes_are_checked_against_the_weights_header_before_allocating(
    hf_dir, tmp_path, key, value, named
):
    broken = tmp_path / "broken"
    shutil.copytree(hf_dir, broken)
    config = json.loads((broken / "config.json").read_text())
    (broken / "config.json").write_text(json.dumps({**config, key: value}))
    started = time.monotonic()
    result = run_cli("import-hf", broken, "--out", tmp_path / "run")
    assert result.rc == 2 and result.err.startswith("error: ") and result.err.count("\n") == 1
    assert named in result.err and time.monotonic() - started < 10
    assert not (tmp_path / "run").exists()


def test_a_header_claiming_more_than_the_file_holds_is_refused(hf_dir, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(hf_dir, broken)
    header = json.dumps({"wte.weight": {"dtype": "F32", "shape": [10**9, 10**9],
                                        "data_offsets": [0, 4 * 10**18]}}).encode()  # fmt: skip
    (broken / "model.safetensors").write_bytes(len(header).to_bytes(8, "little") + header)
    result = run_cli("import-hf", broken, "--out", tmp_path / "run")
    assert result.rc == 2 and "wte.weight" in result.err and result.err.count("\n") == 1


def test_a_device_as_the_weights_is_refused_naming_it(hf_dir, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(hf_dir, broken)
    (broken / "model.safetensors").unlink()
    os.symlink("/dev/zero", broken / "model.safetensors")
    result = run_cli("import-hf", broken, "--out", tmp_path / "run")
    assert result.rc == 2 and "device" in result.err and result.err.count("\n") == 1


def test_the_pickle_refusal_is_ours_alone(hf_dir, tmp_path):
    broken = break_dir(hf_dir, tmp_path, "code in pickle")
    result = run_cli("import-hf", broken, "--out", tmp_path / "run")
    assert result.rc == 2 and result.err.count("\n") == 1, result.err
    assert "weights_only" not in result.err and "Warning" not in result.err
    assert "trust the source" not in result.err
