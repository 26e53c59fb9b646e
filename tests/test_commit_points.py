"""Commit points that hold (issue 29, case 1): once a manifest names a checkpoint, nothing deletes
it. Two Ctrl-Cs at random moments while a checkpoint is written at every step leave both
`latest` and `best` loadable and the run resumable, in every one of many real runs.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import time

import pytest
import torch
from forked_cli import ForkedCLI, wait_for
from trainer_helpers import TINY, write_text

from learngpt import checkpoint
from learngpt.config import TrainConfig
from learngpt.interrupts import interrupts_deferred
from learngpt.model import GPT, GPTConfig, build_optimizer
from learngpt.runs import load_run

RUNS = 24
# a checkpoint at every step, and a run that never ends by itself
EVERY_STEP = [*TINY, "--max-iters", "100000", "--eval-interval", "1", "--eval-iters", "1"]


def test_two_ctrl_c_during_every_step_saves_leave_latest_and_best_loadable(tmp_path):
    data = write_text(tmp_path / "text.txt", 3000)
    out = tmp_path / "run"
    chooser = random.Random(29)
    cli = ForkedCLI()
    try:
        for attempt in range(RUNS):
            log = tmp_path / f"log{attempt}.txt"
            resume = ["--resume"] if attempt else []
            pid = cli.start(log, "train", "--data", data, "--out", out, *EVERY_STEP, *resume)
            # the second estimate: its checkpoint is being written (the first, at step 0, has none)
            wait_for(log, "val loss", count=2)
            wait_for(out / "latest.json")  # the first run's first checkpoint is complete
            time.sleep(chooser.uniform(0, 0.15))
            signal_twice(pid, chooser.uniform(0, 0.03))
            status = cli.wait()
            assert status == 130, (attempt, log.read_text())
            assert "Traceback" not in log.read_text(), log.read_text()
            for which in ("latest", "best"):  # both load, weights checksummed
                load_run(out, which, "cpu")
        # a kill -9 in the middle of saves: no handler runs, the kernel drops the run's lock
        log = tmp_path / "killed.txt"
        pid = cli.start(log, "train", "--data", data, "--out", out, *EVERY_STEP, "--resume")
        wait_for(log, "val loss", count=2)
        os.kill(pid, signal.SIGKILL)
        assert cli.wait() == -signal.SIGKILL
        # and the next process trains on from latest's step, sweeping what a kill left
        step = checkpoint.read_manifest(out)["step"]
        (out / ".best.json.k1ll3d.tmp").write_text("{")
        log = tmp_path / "last.txt"
        more = ["--max-iters", str(step + 2), "--eval-interval", "1", "--eval-iters", "1"]
        cli.start(log, "train", "--data", data, "--out", out, *TINY, "--resume", *more)
        assert cli.wait() == 0, log.read_text()
    finally:
        cli.close()
    assert checkpoint.read_manifest(out)["step"] == step + 2
    assert [p.name for p in out.iterdir() if p.name.endswith(".tmp")] == []  # swept


def signal_twice(pid: int, gap: float) -> None:
    """Ctrl-C, then Ctrl-C again `gap` seconds later (the process may be gone by then)."""
    os.kill(pid, signal.SIGINT)
    time.sleep(gap)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGINT)


def test_a_ctrl_c_inside_a_deferred_block_arrives_after_it():
    finished = False
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)  # as in a terminal
    try:
        with pytest.raises(KeyboardInterrupt), interrupts_deferred():
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)  # the handler has had its chance: it only recorded the signal
            finished = True
    finally:
        signal.signal(signal.SIGINT, previous)
    assert finished


def test_an_interrupted_commit_never_deletes_what_a_manifest_names(tmp_path, monkeypatch):
    """A KeyboardInterrupt raised right after the first manifest is renamed into place (what a
    second Ctrl-C did before the save deferred it): the checkpoint it names stays."""
    torch.manual_seed(0)
    model = GPT(GPTConfig(vocab_size=20, block_size=8, n_layers=1, n_heads=2, embed_size=8))
    adamw = TrainConfig(muon=False, weight_decay=0.1, learning_rate=1e-2, beta2=0.95)
    optimizer = build_optimizer(model, adamw)
    checkpoint.save_checkpoint(tmp_path, model, optimizer, {}, {"step": 1, "config": {}})
    real = checkpoint.atomic_write_text

    def write_then_interrupt(path, text):
        real(path, text)
        raise KeyboardInterrupt

    monkeypatch.setattr(checkpoint, "atomic_write_text", write_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        checkpoint.save_checkpoint(
            tmp_path, model, optimizer, {}, {"step": 2, "config": {}}, ("latest", "best")
        )
    manifest = checkpoint.read_manifest(tmp_path)
    assert manifest["step"] == 2
    checkpoint.load_weights(tmp_path, manifest, model)  # its files are all there
