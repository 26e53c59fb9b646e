"""Training in two processes (DDP over gloo, real torchrun launches) takes one process's steps.

The equality tests train in float32 (--no-bf16, and AdamW: Muon's Newton-Schulz iterations run
in bfloat16) with dropout 0 (TrainConfig's default): in bfloat16 the gradient of each half-batch
is rounded before the two are averaged, and dropout
draws its masks from each process's own generator, so those runs are equally good but not the
same numbers. The resume test has both on: resuming with the same processes is exact anyway.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from trainer_helpers import TINY, assert_user_error, run_cli, train_tiny, write_text

from learngpt import checkpoint
from learngpt.runs import load_run

FLOAT32 = ["--no-bf16", "--no-muon", "--threads", "1"]
ENV = {**os.environ, "OMP_NUM_THREADS": "1"}


def weights(out) -> dict[str, torch.Tensor]:
    return load_run(out, "latest", device="cpu").model.state_dict()


def losses(out) -> list[tuple[int, float, float]]:
    """(step, train loss, val loss) of each estimate in the run's log."""
    records = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    return [(r["step"], r["train_loss"], r["val_loss"]) for r in records]


def assert_same_run(a, b, atol: float) -> None:
    """Same loss estimates (to 1e-4) at the same steps, and the same final weights (to `atol`)."""
    for (step_a, *losses_a), (step_b, *losses_b) in zip(losses(a), losses(b), strict=True):
        assert step_a == step_b
        assert losses_a == pytest.approx(losses_b, abs=1e-4)
    wa, wb = weights(a), weights(b)
    for name in wa:
        torch.testing.assert_close(wa[name], wb[name], atol=atol, rtol=0, msg=name)


@pytest.fixture(scope="module")
def one_process(tmp_path_factory):
    """A tiny float32 run in this process: the reference the two-process runs must match."""
    base = tmp_path_factory.mktemp("ddp")
    data = write_text(base / "text.txt")
    result = train_tiny(base / "one", data, *FLOAT32)
    assert result.rc == 0, result.err
    return base / "one", data


def test_torchrun_two_processes_equal_one_process(one_process, tmp_path):
    reference, data = one_process
    out = tmp_path / "two"
    argv = ["--standalone", "--nproc-per-node=2", "-m", "learngpt", "train"]
    argv += ["--data", data, "--out", out, *TINY, *FLOAT32]
    run = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", *map(str, argv)],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    assert_same_run(reference, out, atol=1e-5)
    # bit for bit the arithmetic of one process that splits the batch in two (dividing the sum
    # of the halves' gradients by 2 is exact): any difference to `reference` is float rounding
    halves = tmp_path / "halves"
    assert train_tiny(halves, data, *FLOAT32, "--grad-accum", "2").rc == 0
    a, b = weights(halves), weights(out)
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert losses(halves) == losses(out)
    info = json.loads((out / "run.json").read_text())
    assert (info["world_size"], info["grad_accum"], info["rows_per_rank"]) == (2, 1, 2)
    # rank 0 alone reports: each estimate and the summary once
    assert run.stdout.count("step 3:") == 1
    assert run.stderr.count("done at step 6") == 1


def test_nproc_with_gradient_accumulation_equals_one_process(one_process, tmp_path):
    reference, data = one_process
    out = tmp_path / "two"
    result = train_tiny(out, data, *FLOAT32, "--nproc", "2", "--grad-accum", "2")
    assert result.rc == 0
    assert_same_run(reference, out, atol=1e-5)
    assert json.loads((out / "run.json").read_text())["rows_per_rank"] == 1  # 4 / (2 x 2)


def test_gradient_accumulation_in_one_process_takes_the_same_steps(one_process, tmp_path):
    reference, data = one_process
    out = tmp_path / "accumulated"
    assert train_tiny(out, data, *FLOAT32, "--grad-accum", "4").rc == 0
    assert_same_run(reference, out, atol=1e-5)


def test_ctrl_c_stops_every_process_and_resume_continues_exactly(tmp_path):
    """bf16 and dropout on; a constant learning rate, so that max_iters does not change it."""
    data = write_text(tmp_path / "text.txt")
    common = ["--data", data, *TINY, "--dropout", "0.2", "--threads", "1"]
    common += ["--eval-interval", "2", "--warmup-iters", "0", "--min-lr-ratio", "1", "--nproc", "2"]
    split = tmp_path / "split"
    argv = [sys.executable, "-m", "learngpt", "train", "--out", split, *common]
    proc = subprocess.Popen(
        [str(a) for a in argv + ["--max-iters", "100000"]],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    try:
        assert proc.stdout.readline().startswith("step 0:")
        assert proc.stdout.readline().startswith("step 2:")  # a checkpoint is on disk
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)  # what Ctrl-C sends to the foreground process
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert time.monotonic() - sent < 30  # torchrun would kill a process after 30 s
    assert proc.returncode == 130, err
    assert f"learngpt train --out {split} --resume" in err
    stopped_at = checkpoint.read_manifest(split)["step"]
    assert stopped_at >= 2

    end = str(stopped_at + 3)
    resumed = run_cli("train", "--out", split, "--resume", "--nproc", "2", "--max-iters", end)
    assert resumed.rc == 0
    whole = tmp_path / "whole"
    assert run_cli("train", "--out", whole, *common, "--max-iters", end).rc == 0
    a, b = weights(whole), weights(split)
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert losses(whole)[-1] == losses(split)[-1]


def test_a_batch_that_does_not_split_over_the_processes_is_refused(tmp_path, monkeypatch):
    data = write_text(tmp_path / "text.txt")
    out = tmp_path / "run"
    # --nproc checks before it starts any process
    result = train_tiny(out, data, "--nproc", "3")
    assert_user_error(result, "batch_size 4", "3 process(es) x 1 micro-step(s)", "multiple of 3")
    # under torchrun, each process checks before it joins the others
    monkeypatch.setenv("WORLD_SIZE", "2")
    result = train_tiny(out, data, "--grad-accum", "4")
    assert_user_error(result, "batch_size 4", "2 process(es) x 4 micro-step(s)", "multiple of 8")
    assert_user_error(train_tiny(out, data, "--nproc", "2"), "torchrun already started")
    monkeypatch.delenv("WORLD_SIZE")
    # in one process, grad_accum must divide the batch
    assert_user_error(train_tiny(out, data, "--grad-accum", "3"), "grad_accum", "(3)")
    assert not out.exists()


def test_a_process_that_dies_ends_the_others_at_once_and_the_checkpoint_stays(tmp_path):
    data = write_text(tmp_path / "text.txt")
    out = tmp_path / "run"
    argv = [sys.executable, "-m", "learngpt", "train", "--data", data, "--out", out, *TINY]
    argv += ["--max-iters", "100000", "--eval-interval", "2", "--nproc", "2", "--threads", "1"]
    proc = subprocess.Popen(
        [str(a) for a in argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV
    )
    try:
        for step in (0, 2, 4):  # rank 0 prints an estimate, then saves: step 2 is on disk
            assert proc.stdout.readline().startswith(f"step {step}:")
        children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
        rank1 = [p for p in children if b"\0RANK=1\0" in Path(f"/proc/{p}/environ").read_bytes()]
        os.kill(int(rank1[0]), signal.SIGKILL)  # a crash that no handler can soften
        sent = time.monotonic()
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert time.monotonic() - sent < 20  # no process waits for the dead one
    assert proc.returncode == 128 + signal.SIGKILL
    assert "error: rank 0 lost the other training processes" in err
    step = checkpoint.read_manifest(out)["step"]
    assert load_run(out, "latest", device="cpu").manifest["step"] == step >= 2


# In every python process (the launcher and both ranks): no early check of the lock, as if a
# trainer took the directory between the checks and rank 0's claim.
SKIP_EARLY_CHECK = "import learngpt.runs\nlearngpt.runs.check_free = lambda path: None\n"


def test_a_directory_in_use_by_a_ddp_run_refuses_a_second_trainer_and_no_rank_waits(tmp_path):
    """Rank 0 holds the lock; a second --nproc 2 trainer is one error line naming it. When only
    rank 0's claim finds it taken (the early check skipped), the other rank ends too, at once."""
    data = write_text(tmp_path / "text.txt")
    out = tmp_path / "run"
    argv = [sys.executable, "-m", "learngpt", "train", "--data", data, "--out", out, *TINY]
    argv = [str(a) for a in [*argv, "--eval-interval", "50", "--nproc", "2", "--threads", "1"]]
    # a session of its own: the launcher and both ranks are killed together at the end
    first = subprocess.Popen(
        [*argv, "--max-iters", "100000"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=ENV,
        start_new_session=True,
    )
    try:
        assert first.stdout.readline().startswith("step 0:")  # locked, training
        holder = int((out / ".lock").read_text())
        assert b"\0RANK=0\0" in Path(f"/proc/{holder}/environ").read_bytes()
        refused = train_tiny(out, data, "--nproc", "2")  # the launcher's checks refuse it
        assert_user_error(refused, "in use", f"process {holder}")
        (tmp_path / "sitecustomize.py").write_text(SKIP_EARLY_CHECK)
        env = {**ENV, "PYTHONPATH": os.pathsep.join([str(tmp_path), ENV.get("PYTHONPATH", "")])}
        started = time.monotonic()
        overwrite = [*argv, "--overwrite"]  # (past the checks: the first may have saved by now)
        second = subprocess.run(overwrite, capture_output=True, text=True, env=env, timeout=120)
        assert time.monotonic() - started < 60  # not the collectives' 5-minute timeout
        assert second.returncode == 2, second.stderr
        errors = [line for line in second.stderr.splitlines() if line.startswith("error: ")]
        assert len(errors) == 1 and f"process {holder}" in errors[0], second.stderr
        assert "Traceback" not in second.stderr
        assert first.poll() is None  # the first run trains on
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
