"""A run directory written by learngpt before the `model:` section (commit 6290e54) still
evaluates and resumes, and its resumed run ends on the weights that code reached uninterrupted.

tests/data/README.md says how the stored run was made.
"""

from __future__ import annotations

import json
import shutil

import pytest
import torch
import yaml
from safetensors.torch import load_file
from trainer_helpers import ROOT, run_cli

from learngpt.runs import load_run

DATA = ROOT / "tests" / "data"


@pytest.fixture
def stored_run(tmp_path):
    out = tmp_path / "run"
    shutil.copytree(DATA / "run_6290e54", out)
    return out


def test_an_old_run_directory_evaluates(stored_run):
    run = load_run(stored_run, "best", device="cpu")
    assert run.config.model.n_layers == 1 and run.config.model.ffwd_size == 32
    assert run.config.bpe_vocab_size == 512  # the old top-level vocab_size: the BPE target
    result = run_cli("eval", "--out", stored_run, "--data", DATA / "run_6290e54.txt", "--json")
    assert result.rc == 0, result.err
    report = json.loads(result.out)
    assert report["step"] == 4
    assert 3.0 < report["loss"] < 4.0  # a 4-step char model: just under ln(52) = 3.95


def test_an_old_run_directory_resumes_to_the_old_codes_weights(stored_run):
    result = run_cli("train", "--out", stored_run, "--resume", "--data", DATA / "run_6290e54.txt")
    assert result.rc == 0, result.err
    assert "resuming at step 4" in result.err
    records = [json.loads(line) for line in (stored_run / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == [0, 2, 4, 6]
    # the resumed run writes the new layout: the model's keys in their own section
    saved = yaml.safe_load((stored_run / "config.yaml").read_text())
    assert saved["model"]["n_layers"] == 1 and "n_layers" not in saved
    assert saved["bpe_vocab_size"] == 512 and "vocab_size" not in saved
    expected = load_file(DATA / "run_6290e54_step6.safetensors")
    weights = load_run(stored_run, "latest", device="cpu").model.state_dict()
    for name, tensor in expected.items():  # equal here; the tolerance is for other CPUs' kernels
        torch.testing.assert_close(weights[name], tensor, rtol=0, atol=1e-5, msg=name)


def test_a_resumed_run_stopped_before_its_first_step_stays_at_its_step(stored_run, monkeypatch):
    from learngpt.training import record

    monkeypatch.setattr(record.StopSignals, "requested", lambda self: True)  # Ctrl-C at once
    result = run_cli("train", "--out", stored_run, "--resume", "--data", DATA / "run_6290e54.txt")
    assert result.rc == 130, result.err
    assert load_run(stored_run, "latest", device="cpu").manifest["step"] == 4
