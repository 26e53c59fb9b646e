"""`learngpt train`: config layers, the run directory, the schedule, exact resume, signals."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time

import pytest
import torch
import yaml
from trainer_helpers import TINY, run_cli, snapshot, train_tiny, write_text

import learngpt.data
from learngpt import checkpoint
from learngpt.config import TrainConfig
from learngpt.data import encode_splits
from learngpt.model import Optimizers, build_optimizer
from learngpt.runs import build_model, config_from_checkpoint, load_run, load_tokenizer
from learngpt.training.fit import lr_schedule
from learngpt.training.loop import estimate_loss


def latest_weights(out) -> dict[str, torch.Tensor]:
    run = load_run(out, "latest", device="cpu")
    return {k: v.clone() for k, v in run.model.state_dict().items()}


def test_flags_win_over_the_config_file_which_wins_over_defaults(tmp_path):
    data = write_text(tmp_path / "text.txt")
    config = tmp_path / "mine.yaml"
    config.write_text("block_size: 8\nn_layers: 3\nlearning_rate: 0.002\n")
    result = train_tiny(tmp_path / "run", data, "--config", config, "--n-layers", "1")
    assert result.rc == 0, result.err
    used = yaml.safe_load((tmp_path / "run" / "config.yaml").read_text())
    # TINY sets --block-size 16: the flag beats the file's 8; the file's learning rate stays;
    # keys that neither names keep TrainConfig's defaults
    assert used["model"]["block_size"] == 16 and used["model"]["n_layers"] == 1
    assert used["learning_rate"] == 0.002
    assert used["beta2"] == TrainConfig().beta2
    assert set(used) == set(TrainConfig().to_dict())
    assert set(used["model"]) == set(TrainConfig().to_dict()["model"])


def test_every_config_key_is_a_flag():
    from learngpt.commands import build_parser

    parser = build_parser()
    for key, default in TrainConfig().flat().items():
        flag = "--" + key.replace("_", "-")
        if isinstance(default, bool):  # --bias / --no-bias
            argv, expected = [flag if not default else "--no-" + flag[2:]], not default
        else:
            argv, expected = [flag, str(default)], default
        args = parser.parse_args(["train", *argv])
        assert getattr(args, key) == expected, key


def test_the_run_directory_holds_config_tokenizer_log_plot_and_checkpoints(tmp_path):
    data = write_text(tmp_path / "text.txt")
    out = tmp_path / "run"
    result = train_tiny(out, data, "--max-iters", "7")
    assert result.rc == 0, result.err
    records = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == [0, 3, 6, 7]  # every eval_interval, and the end
    for r in records:
        assert {"step", "train_loss", "val_loss", "lr", "elapsed_s", "tokens_per_s"} <= set(r)
    assert (out / "loss.png").read_bytes().startswith(b"\x89PNG")
    assert load_tokenizer(out).kind == "char"
    latest = checkpoint.read_manifest(out, "latest")
    best = checkpoint.read_manifest(out, "best")
    assert latest["step"] == 7
    # best.json names the checkpoint with the lowest estimated val loss (after step 0)
    best_record = min(records[1:], key=lambda r: r["val_loss"])
    assert best["step"] == best_record["step"]
    # only the checkpoints that a manifest names are kept
    live = {latest["dir"], best["dir"]}
    assert {p.name for p in out.glob("ckpt-*")} == live


def test_the_estimates_that_choose_the_best_checkpoint_use_the_same_windows(tmp_path):
    # random batches made the best checkpoint a matter of luck: an 80-s run's estimate at its end
    # could come out 0.04 worse than the truth and lose to a mid-run checkpoint (docs/recipe.md)
    data = write_text(tmp_path / "text.txt")
    out = tmp_path / "run"
    assert train_tiny(out, data, "--max-iters", "7").rc == 0
    last = json.loads((out / "log.jsonl").read_text().splitlines()[-1])
    run = load_run(out, "latest", device="cpu")
    c = run.config
    train, val = encode_splits(data.read_text(encoding="utf-8"), run.tokenizer, c.train_ratio)
    splits = {"train": train, "val": val}
    spread = estimate_loss(run.model, splits, c.batch_size, c.block_size, c.eval_iters, spread=True)
    assert spread["val"] == pytest.approx(last["val_loss"], rel=1e-6)
    assert spread["train"] == pytest.approx(last["train_loss"], rel=1e-6)


def test_the_schedule_warms_up_then_decays_to_the_floor():
    config = TrainConfig(max_iters=100, warmup_iters=10, learning_rate=1e-3, min_lr_ratio=0.1)
    lr_at = lr_schedule(config)  # cosine, the default
    warmup = [lr_at(s, 0.0) for s in range(10)]
    assert all(a < b for a, b in zip(warmup, warmup[1:], strict=False))  # rises linearly
    decay = [lr_at(s, 0.0) for s in range(10, 101)]
    assert all(a >= b for a, b in zip(decay, decay[1:], strict=False))  # then only falls
    assert lr_at(100, 0.0) == pytest.approx(1e-4)  # ends at min_lr_ratio * learning_rate
    assert max(warmup + decay) <= 1e-3


def test_with_a_time_budget_the_schedule_follows_the_clock():
    config = TrainConfig(max_iters=10**9, warmup_iters=0, max_time=80.0, min_lr_ratio=0.0)
    lr_at = lr_schedule(config)  # cosine, the default
    assert lr_at(5, 40.0) == pytest.approx(0.5 * config.learning_rate)  # half the time, half way
    assert lr_at(5, 80.0) == pytest.approx(0.0, abs=1e-12)


def test_wsd_holds_the_peak_then_decays_linearly_to_the_floor():
    config = TrainConfig(max_iters=100, warmup_iters=0, learning_rate=1e-3, min_lr_ratio=0.1)
    lr_at = lr_schedule(config.replace(lr_schedule="wsd", decay_ratio=0.4))
    assert [lr_at(s, 0.0) for s in (0, 30, 60)] == pytest.approx([1e-3] * 3)  # stable
    assert lr_at(80, 0.0) == pytest.approx(0.5 * (1e-3 + 1e-4))  # half way down
    assert lr_at(100, 0.0) == pytest.approx(1e-4)
    timed = lr_schedule(
        config.replace(lr_schedule="wsd", max_iters=10**9, max_time=80.0, decay_ratio=0.5)
    )
    assert timed(5, 40.0) == pytest.approx(1e-3) and timed(5, 80.0) == pytest.approx(1e-4)


def test_muon_steps_the_blocks_matrices_and_adamw_the_rest():
    config = TrainConfig(muon=True, muon_lr_ratio=2.0)
    n_layers = config.model.n_layers
    model = build_model(config, 11)
    optimizer = build_optimizer(model, config)
    assert isinstance(optimizer, Optimizers)
    muon, adamw = optimizer.optimizers
    in_muon = {id(p) for g in muon.param_groups for p in g["params"]}
    in_adamw = {id(p) for g in adamw.param_groups for p in g["params"]}
    linears = [m for b in model.blocks for m in b.modules() if isinstance(m, torch.nn.Linear)]
    block_matrices = {id(m.weight) for m in linears}
    assert len(block_matrices) == 4 * n_layers  # query-key-value, out, and the MLP's two
    assert in_muon == block_matrices
    # the recipe's ffwd_conv weights are 2-D too, but no linear map: AdamW steps them
    assert all(id(b.conv.weight) in in_adamw for b in model.blocks)
    assert in_adamw == {id(p) for p in model.parameters()} - block_matrices
    assert [g.get("lr_scale", 1.0) for g in optimizer.param_groups] == [2.0, 1.0, 1.0]
    # one ordinary state dict, parameters numbered across both, that loads back
    x = torch.randint(11, (2, 8))
    model(x, x)[1].backward()
    optimizer.step()
    state = optimizer.state_dict()
    assert sorted(state["state"]) == list(range(len(list(model.parameters()))))
    again = build_optimizer(model, config)
    again.load_state_dict(state)
    assert torch.equal(
        again.state_dict()["state"][0]["momentum_buffer"], state["state"][0]["momentum_buffer"]
    )


def test_a_checkpoint_from_before_ffwd_conv_builds_its_model_without_one(tmp_path):
    old = TrainConfig().flat()  # configs saved before the `model:` section were flat
    del old["ffwd_conv"]  # configs saved before the key existed
    assert config_from_checkpoint({"config": old}, tmp_path).model.ffwd_conv == 0
    saved = {**old, "ffwd_conv": 3}
    assert config_from_checkpoint({"config": saved}, tmp_path).model.ffwd_conv == 3


def test_max_time_stops_the_run_on_the_time_budget(tmp_path):
    data = write_text(tmp_path / "text.txt")
    out = tmp_path / "run"
    started = time.perf_counter()
    result = train_tiny(out, data, "--max-iters", "1000000", "--max-time", "2")
    assert result.rc == 0, result.err
    assert time.perf_counter() - started < 60
    latest = checkpoint.read_manifest(out)
    assert 0 < latest["step"] < 1000000
    # the loop stops early enough for its last estimate and checkpoint to end in the budget
    records = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert records[-1]["elapsed_s"] <= 2.5 and latest["elapsed_s"] <= 2.5


def test_the_same_seed_gives_the_same_weights(tmp_path):
    data = write_text(tmp_path / "text.txt")
    for name in ("a", "b"):
        assert train_tiny(tmp_path / name, data, "--max-iters", "4").rc == 0
    a, b = latest_weights(tmp_path / "a"), latest_weights(tmp_path / "b")
    assert all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize(
    "switches", [[], ["--muon", "--lr-schedule", "wsd", "--nanogpt-dropout"]], ids=["adamw", "muon"]
)
def test_interrupted_and_resumed_equals_uninterrupted(tmp_path, monkeypatch, switches):
    """Ctrl-C mid-run saves, exits 130 with a hint; --resume then ends on identical weights."""
    data = write_text(tmp_path / "text.txt")
    # dropout on: the resumed run must also restore the random state that dropout draws from
    extra = ["--max-iters", "12", "--eval-interval", "5", "--dropout", "0.2", *switches]
    assert train_tiny(tmp_path / "whole", data, *extra).rc == 0

    calls = {"n": 0}
    real_get_batch = learngpt.data.get_batch

    def get_batch_then_ctrl_c(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 9:  # the batch of step 9: between two estimates (steps 5 and 10)
            os.kill(os.getpid(), signal.SIGINT)
        return real_get_batch(*args, **kwargs)

    monkeypatch.setattr(learngpt.data, "get_batch", get_batch_then_ctrl_c)
    stopped = train_tiny(tmp_path / "split", data, *extra)
    monkeypatch.setattr(learngpt.data, "get_batch", real_get_batch)
    assert stopped.rc == 130
    assert "learngpt train --out" in stopped.err and "--resume" in stopped.err
    stopped_at = checkpoint.read_manifest(tmp_path / "split")["step"]
    assert 0 < stopped_at < 12 and stopped_at % 5 != 0  # saved at the step it stopped

    resumed = run_cli("train", "--out", tmp_path / "split", "--resume")
    assert resumed.rc == 0, resumed.err
    a, b = latest_weights(tmp_path / "whole"), latest_weights(tmp_path / "split")
    assert all(torch.equal(a[k], b[k]) for k in a)
    logs = [
        [json.loads(line) for line in (tmp_path / name / "log.jsonl").read_text().splitlines()]
        for name in ("whole", "split")
    ]
    assert [r["step"] for r in logs[0]] == [r["step"] for r in logs[1]]
    assert [r["val_loss"] for r in logs[0]] == [r["val_loss"] for r in logs[1]]


def test_resume_may_change_what_does_not_change_the_shape(tmp_path):
    data = write_text(tmp_path / "text.txt")
    out = tmp_path / "run"
    assert train_tiny(out, data).rc == 0
    result = run_cli("train", "--out", out, "--resume", "--max-iters", "9", "--dropout", "0.1")
    assert result.rc == 0, result.err
    assert checkpoint.read_manifest(out)["step"] == 9
    assert yaml.safe_load((out / "config.yaml").read_text())["model"]["dropout"] == 0.1
    again = run_cli("train", "--out", out, "--resume")  # finished: says so, changes nothing
    assert again.rc == 0 and "already finished" in again.out


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_to_the_process_saves_and_exits_130(tmp_path, signum):
    data = write_text(tmp_path / "text.txt")
    out = tmp_path / "run"
    argv = [sys.executable, "-m", "learngpt", "train", "--data", data, "--out", out, *TINY]
    argv += ["--max-iters", "100000", "--eval-interval", "2"]
    proc = subprocess.Popen(
        [str(a) for a in argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    try:
        assert proc.stdout.readline().startswith("step 0:")
        assert proc.stdout.readline().startswith("step 2:")  # two steps are done
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert f"learngpt train --out {out} --resume" in err
    step = checkpoint.read_manifest(out)["step"]
    assert step >= 2
    loaded = load_run(out, "latest", device="cpu")  # the saved checkpoint loads
    assert loaded.manifest["step"] == step


def test_bpe_tokenizer_is_learnt_from_the_training_text_only(tmp_path, monkeypatch):
    from learngpt.tokenizers import bpe

    seen = []
    real_train = bpe.BPETokenizer.train.__func__

    def spy(cls, text, vocab_size, *args, **kwargs):
        seen.append((text, vocab_size))
        return real_train(cls, text, vocab_size, *args, **kwargs)

    monkeypatch.setattr(bpe.BPETokenizer, "train", classmethod(spy))
    data = write_text(tmp_path / "text.txt")
    out = tmp_path / "run"
    result = train_tiny(out, data, "--tokenizer", "bpe", "--vocab-size", "300")
    assert result.rc == 0, result.err
    text = data.read_text(encoding="utf-8")
    train_chars = int(0.9 * len(text))
    assert seen == [(text[:train_chars], 300)]
    tokenizer = load_tokenizer(out)
    assert tokenizer.kind == "bpe" and tokenizer.vocab_size <= 300
    run = load_run(out, "latest", device="cpu")
    assert run.model.config.vocab_size == tokenizer.vocab_size


def test_model_config_comes_from_the_train_configs_model_section():
    config = TrainConfig().replace(n_layers=2, embed_size=32, n_heads=4, block_size=24, bias=False)
    model = build_model(config, vocab_size=50)
    assert (model.config.n_layers, model.config.embed_size, model.config.block_size) == (2, 32, 24)
    assert model.config.bias is False and model.config.vocab_size == 50
    assert math.isclose(model.config.dropout, config.model.dropout)
    assert config.block_size == 24  # the loop's windows are the model's context


def test_bf16_falls_back_to_float32_on_a_cpu_without_bfloat16_kernels(tmp_path, monkeypatch):
    # On an AVX2 laptop bfloat16 matmuls are emulated and slower than float32: train in float32.
    from learngpt.training import distributed

    monkeypatch.setattr(distributed, "cpu_has_fast_bf16", lambda: False)
    data = write_text(tmp_path / "text.txt")
    result = train_tiny(tmp_path / "run", data, "--bf16")
    assert result.rc == 0, result.err
    assert "no bfloat16 kernels" in result.err
    assert yaml.safe_load((tmp_path / "run" / "config.yaml").read_text())["model"]["bf16"] is False


def test_a_text_run_keeps_its_token_files_and_resumes_without_the_text(tmp_path):
    """`--data FILE.txt` writes the text's token files into the run directory as `learngpt
    prepare` writes them; --resume and eval then need nothing outside the run directory."""
    data = write_text(tmp_path / "text.txt")
    constant = ["--warmup-iters", "0", "--min-lr-ratio", "1"]  # max_iters leaves the rate alone
    whole, split = tmp_path / "whole", tmp_path / "split"
    assert train_tiny(whole, data, *constant, "--max-iters", "9").rc == 0
    assert train_tiny(split, data, *constant).rc == 0
    prepared = tmp_path / "prepared"
    result = run_cli("prepare", "--data", data, "--out", prepared, "--tokenizer", "char")
    assert result.rc == 0, result.err
    for name in ("train.bin", "val.bin", "tokenizer.json"):  # the same ids, the same vocabulary
        assert (split / name).read_bytes() == (prepared / name).read_bytes(), name
    meta, theirs = (json.loads((d / "meta.json").read_text()) for d in (split, prepared))
    assert meta["tokens"] == theirs["tokens"] and meta["tokens_sha256"] == theirs["tokens_sha256"]
    assert meta["files"][0]["sha256"] == theirs["files"][0]["sha256"]

    data.rename(tmp_path / "moved.txt")  # the text is gone from where the run found it
    resumed = run_cli("train", "--out", split, "--resume", "--max-iters", "9")
    assert resumed.rc == 0, resumed.err
    a, b = latest_weights(whole), latest_weights(split)
    assert all(torch.equal(a[k], b[k]) for k in a)
    evaluated = run_cli("eval", "--out", split, "--json")
    assert evaluated.rc == 0, evaluated.err
    assert json.loads(evaluated.out)["chars"] == json.loads(evaluated.out)["tokens"]  # one a char


def test_resume_refuses_another_text_than_the_run_started_on(tmp_path):
    data = write_text(tmp_path / "text.txt")
    out = tmp_path / "run"
    assert train_tiny(out, data).rc == 0
    same = run_cli("train", "--out", out, "--resume", "--data", data, "--max-iters", "7")
    assert same.rc == 0, same.err
    other = write_text(tmp_path / "other.txt", 7000)
    refused = run_cli("train", "--out", out, "--resume", "--data", other, "--max-iters", "8")
    assert refused.rc == 2 and "is not the text the run" in refused.err
    assert checkpoint.read_manifest(out)["step"] == 7


def test_a_run_never_clears_away_token_files_it_did_not_write(tmp_path):
    data = write_text(tmp_path / "text.txt")
    tokens = tmp_path / "tokens"
    assert run_cli("prepare", "--data", data, "--out", tokens, "--tokenizer", "char").rc == 0
    before = snapshot(tokens)
    for argv in (["--data", data, "--out", tokens], ["--data", tokens, "--out", tokens]):
        refused = run_cli("train", *argv, *TINY, "--overwrite")
        assert refused.rc == 2 and "another --out" in refused.err, refused.err
        assert snapshot(tokens) == before
