"""Hostile but fair input (issue 29, cases 3, 6, 7 and 8): special files, edited manifests,
sampling values that underflow, and messages that fit the command. Each refusal is one
`error:` line, status 2, no traceback, and leaves the run as it was."""

from __future__ import annotations

import contextlib
import io
import json
import os
import threading
import time

import pytest
import trainer_helpers
from trainer_helpers import TINY, assert_user_error, run_cli, snapshot

from learngpt import checkpoint
from learngpt.errors import UserError
from learngpt.fileio import read_bytes
from learngpt.training.plan import TrainRequest, check_run

trained_template = trainer_helpers.trained_template
trained_run = trainer_helpers.trained_run


# ---- case 3: regular files only, of a bounded size


def test_dev_zero_as_data_is_refused_at_once_naming_it(tmp_path, trained_run):
    started = time.monotonic()
    result = run_cli("train", "--data", "/dev/zero", "--out", tmp_path / "new", *TINY)
    assert_user_error(result, "/dev/zero", "not a regular file")
    assert result.rc == 2 and time.monotonic() - started < 10
    assert not (tmp_path / "new").exists()


@pytest.mark.parametrize("flag", ["--data", "--config"])
def test_a_fifo_is_refused_not_waited_on(tmp_path, flag):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    done = threading.Event()
    result = {}

    def train():
        result["r"] = run_cli("train", flag, fifo, "--out", tmp_path / "new", *TINY)
        done.set()

    threading.Thread(target=train, daemon=True).start()
    if not done.wait(30):  # a hang: open a writer so that the thread can finish
        with open(fifo, "w"):
            pass
        pytest.fail(f"train {flag} FIFO waited for a writer")
    assert_user_error(result["r"], str(fifo), "pipe")
    assert not (tmp_path / "new").exists()


def test_a_file_over_the_limit_is_refused_before_it_is_read(tmp_path):
    big = tmp_path / "big.json"
    big.write_bytes(b"x" * 1001)
    with pytest.raises(UserError, match="1,001 bytes, over the limit of 1,000"):
        read_bytes(big, "manifest", limit=1000)
    assert read_bytes(big, "manifest", limit=1001) == b"x" * 1001


def test_a_device_as_a_run_file_is_refused(trained_run):
    (trained_run.out / "latest.json").unlink()
    os.symlink("/dev/zero", trained_run.out / "latest.json")
    result = run_cli("sample", "--out", trained_run.out, "--checkpoint", "latest")
    assert_user_error(result, "latest.json is a device, not a regular file")


# ---- case 6: a manifest must agree with the checksummed state it names


@pytest.mark.parametrize("step", ["abc", -100, 2, True, None])
def test_an_edited_manifest_step_is_one_error_line(trained_run, step):
    path = trained_run.out / "latest.json"
    manifest = json.loads(path.read_text())
    manifest["step"] = step
    path.write_text(json.dumps(manifest))
    before = snapshot(trained_run.out)
    result = run_cli("train", "--out", trained_run.out, "--resume", *TINY, "--max-iters", "9")
    assert_user_error(result, "latest.json" if step != 2 else "step")
    assert result.rc == 2
    assert snapshot(trained_run.out) == before


def test_a_manifest_naming_another_steps_directory_is_refused(trained_run):
    manifest = json.loads((trained_run.out / "latest.json").read_text())
    moved = f"ckpt-{manifest['step'] + 1:07d}-moved"  # the same files, another step's name
    (trained_run.out / manifest["dir"]).rename(trained_run.out / moved)
    (trained_run.out / "latest.json").write_text(json.dumps({**manifest, "dir": moved}))
    result = run_cli("sample", "--out", trained_run.out, "--checkpoint", "latest")
    assert_user_error(result, "latest.json", "moved")


# ---- case 7: sampling values that underflow are greedy, in sample (serve: test_web_limits)


@pytest.mark.parametrize(
    "flags", [["--top-p", "1e-300"], ["--temperature", "1e-40"], ["--temperature", "5e-324"]]
)
def test_underflowing_sampling_values_sample_greedily(trained_run, flags):
    common = ["sample", "--out", trained_run.out, "--max-new-tokens", "20", "--prompt", "A"]
    result = run_cli(*common, *flags, "--seed", "3")
    assert result.rc == 0 and "Traceback" not in result.err, result.err
    greedy = run_cli(*common, "--temperature", "0")
    assert result.out == greedy.out


def test_an_infinite_temperature_is_refused(trained_run):
    result = run_cli("sample", "--out", trained_run.out, "--temperature", "inf")
    assert_user_error(result, "temperature")


# ---- case 8: messages that fit


def corrupt(run_dir, which):
    manifest = checkpoint.read_manifest(run_dir, which)
    path = run_dir / manifest["dir"] / "model.safetensors"
    data = bytearray(path.read_bytes())
    data[-5] ^= 0xFF
    path.write_bytes(bytes(data))


def test_a_corrupted_checkpoint_gets_advice_that_fits_the_command(trained_run):
    corrupt(trained_run.out, "latest")
    resumed = run_cli("train", "--out", trained_run.out, "--resume", *TINY, "--max-iters", "9")
    assert_user_error(resumed, "checksum", "--overwrite")
    assert "--checkpoint" not in resumed.err  # train takes no --checkpoint
    sampled = run_cli("sample", "--out", trained_run.out, "--checkpoint", "latest")
    assert_user_error(sampled, "checksum", "--checkpoint best")


def test_an_edited_config_yaml_is_named_on_resume(trained_run):
    path = trained_run.out / "config.yaml"
    path.write_text(path.read_text().replace("learning_rate: ", "learning_rate: 0.5 #"))
    # the checks say nothing: `train --nproc N` runs them in the launcher too, rank 0 alone warns
    checks = io.StringIO()
    with contextlib.redirect_stderr(checks):
        check_run(TrainRequest(trained_run.out, resume=True, overrides={"max_iters": 7}))
    assert checks.getvalue() == ""
    result = run_cli("train", "--out", trained_run.out, "--resume", *TINY, "--max-iters", "7")
    assert result.rc == 0, result.err
    warnings = [line for line in result.err.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == 1 and "learning_rate" in warnings[0] and "0.5" in warnings[0]
    unedited = run_cli("train", "--out", trained_run.out, "--resume", *TINY, "--max-iters", "8")
    assert unedited.rc == 0 and "warning: " not in unedited.err, unedited.err
