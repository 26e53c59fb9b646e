"""Checkpoints: a faithful round trip, atomic sets, refusal of damaged and pickled files."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import pickle
import signal
import subprocess
import sys
import textwrap

import pytest
import torch

from learngpt import checkpoint
from learngpt.config import TrainConfig
from learngpt.errors import UserError
from learngpt.model import GPT, GPTConfig, build_optimizer

CONFIG = GPTConfig(vocab_size=20, block_size=8, n_layers=1, n_heads=2, embed_size=8)
ADAMW = TrainConfig(muon=False, weight_decay=0.1, learning_rate=1e-2, beta2=0.95)


def tiny_model_and_optimizer(seed: int = 0):
    torch.manual_seed(seed)
    model = GPT(CONFIG)
    optimizer = build_optimizer(model, ADAMW)
    x = torch.randint(20, (2, 8))
    _, loss = model(x, x)
    loss.backward()
    optimizer.step()  # so that the optimizer has moments to save
    return model, optimizer


def save(run_dir, model, optimizer, step, manifests=("latest",)):
    rngs = {"batch": torch.Generator().manual_seed(step).get_state()}
    info = {"step": step, "val_loss": 1.0 / step, "config": {"n_layers": 1}}
    return checkpoint.save_checkpoint(run_dir, model, optimizer, rngs, info, manifests)


def test_round_trip_restores_weights_optimizer_and_random_states(tmp_path):
    model, optimizer = tiny_model_and_optimizer()
    save(tmp_path, model, optimizer, step=7)
    fresh, fresh_opt = tiny_model_and_optimizer(seed=1)
    manifest = checkpoint.read_manifest(tmp_path)
    checkpoint.load_weights(tmp_path, manifest, fresh)
    rngs = checkpoint.load_train_state(tmp_path, manifest, fresh_opt)
    assert manifest["step"] == 7
    for name, tensor in model.state_dict().items():
        assert torch.equal(tensor, fresh.state_dict()[name]), name
    assert fresh.lm_head.weight is fresh.token_embedding.weight  # still tied after loading
    saved, loaded = optimizer.state_dict(), fresh_opt.state_dict()
    for param, values in saved["state"].items():
        for key, value in values.items():
            assert torch.equal(value, loaded["state"][param][key]), (param, key)
    assert saved["param_groups"] == loaded["param_groups"]
    assert torch.equal(rngs["batch"], torch.Generator().manual_seed(7).get_state())


def test_a_new_save_replaces_the_old_and_best_is_kept_beside_latest(tmp_path):
    model, optimizer = tiny_model_and_optimizer()
    first = save(tmp_path, model, optimizer, step=1, manifests=("latest", "best"))
    second = save(tmp_path, model, optimizer, step=2)
    third = save(tmp_path, model, optimizer, step=3)
    assert checkpoint.read_manifest(tmp_path, "best")["dir"] == first.name
    assert checkpoint.read_manifest(tmp_path, "latest")["dir"] == third.name
    assert first.is_dir() and third.is_dir() and not second.exists()


def test_a_full_disk_during_a_save_leaves_the_previous_checkpoint(tmp_path, monkeypatch):
    model, optimizer = tiny_model_and_optimizer()
    save(tmp_path, model, optimizer, step=1)
    before = {p.name: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    writes = {"n": 0}
    real_write = checkpoint._write

    def write_until_the_disk_is_full(path, data):
        writes["n"] += 1
        if writes["n"] == 2:  # the first file fits, the second does not
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        real_write(path, data)

    monkeypatch.setattr(checkpoint, "_write", write_until_the_disk_is_full)
    with torch.no_grad():
        model.lm_head.weight.add_(1.0)
    with pytest.raises(OSError):
        save(tmp_path, model, optimizer, step=2)
    after = {p.name: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    assert after == before  # not a byte changed, and the half-written directory is gone
    restored, _ = tiny_model_and_optimizer(seed=5)
    checkpoint.load_weights(tmp_path, checkpoint.read_manifest(tmp_path), restored)


@pytest.mark.parametrize("damage", ["truncate", "flip a byte", "delete"])
def test_a_damaged_checkpoint_file_is_refused(tmp_path, damage):
    model, optimizer = tiny_model_and_optimizer()
    ckpt = save(tmp_path, model, optimizer, step=1)
    path = ckpt / "model.safetensors"
    data = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "flip a byte":  # in the tensor data: safetensors alone would not notice
        path.write_bytes(data[:-10] + bytes([data[-10] ^ 0xFF]) + data[-9:])
    else:
        path.unlink()
    with pytest.raises(UserError, match="model.safetensors"):
        checkpoint.load_weights(tmp_path, checkpoint.read_manifest(tmp_path), model)


class RunsCode:
    """Unpickling this runs a shell command: the classic malicious 'checkpoint'."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize("form", ["pickle", "torch.save"])
def test_a_pickled_payload_is_never_unpickled_even_with_a_matching_manifest(tmp_path, form):
    model, optimizer = tiny_model_and_optimizer()
    ckpt = save(tmp_path, model, optimizer, step=1)
    marker = tmp_path / "pwned"
    payload_file = ckpt / "model.safetensors"
    if form == "pickle":
        payload_file.write_bytes(pickle.dumps(RunsCode(marker)))
    else:
        torch.save({"model": RunsCode(marker)}, payload_file)
    # the attacker controls the whole directory: make the checksum match the payload
    manifest = checkpoint.read_manifest(tmp_path)
    manifest["files"]["model.safetensors"] = hashlib.sha256(payload_file.read_bytes()).hexdigest()
    (tmp_path / "latest.json").write_text(json.dumps(manifest))
    with pytest.raises(UserError, match="damaged"):
        checkpoint.load_weights(tmp_path, checkpoint.read_manifest(tmp_path), model)
    assert not marker.exists()
    # and the payload is real: unpickling it does run the command
    armed = tmp_path / "armed"
    pickle.loads(pickle.dumps(RunsCode(armed)))
    assert armed.exists()


def test_old_and_half_written_checkpoint_directories_are_swept(tmp_path):
    model, optimizer = tiny_model_and_optimizer()
    (tmp_path / "ckpt-0000005-leftover").mkdir()  # what a kill -9 mid-save leaves
    (tmp_path / "ckpt-0000005-leftover" / "model.safetensors").write_bytes(b"half")
    ckpt = save(tmp_path, model, optimizer, step=6)
    assert [p.name for p in tmp_path.glob("ckpt-*")] == [ckpt.name]


SAVE_IN_A_LOOP = textwrap.dedent(
    """
    import sys, time, torch
    from pathlib import Path
    from learngpt import checkpoint
    from learngpt.config import TrainConfig
    from learngpt.model import GPT, GPTConfig, build_optimizer

    run_dir = Path(sys.argv[1])
    torch.manual_seed(0)
    model = GPT(GPTConfig(vocab_size=20, block_size=8, n_layers=1, n_heads=2, embed_size=8))
    adamw = TrainConfig(muon=False, weight_decay=0.1, learning_rate=1e-2, beta2=0.95)
    optimizer = build_optimizer(model, adamw)
    info = {"step": 1, "config": {}}
    checkpoint.save_checkpoint(run_dir, model, optimizer, {}, info)
    real_write = checkpoint._write

    def slow_write(path, data):  # a slow disk: 64-byte chunks, announcing the first one
        with open(path, "xb") as f:
            for i in range(0, len(data), 64):
                f.write(data[i : i + 64])
                f.flush()
                if i == 64:
                    print("writing", flush=True)
                time.sleep(0.01)

    checkpoint._write = slow_write
    with torch.no_grad():
        for p in model.parameters():
            p.add_(1.0)
    for step in range(2, 100):
        checkpoint.save_checkpoint(run_dir, model, optimizer, {}, {"step": step, "config": {}})
    """
)


def test_kill_9_in_the_middle_of_a_save_leaves_the_previous_checkpoint(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-c", SAVE_IN_A_LOOP, str(tmp_path)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    try:
        assert proc.stdout.readline().strip() == "writing"  # step 2 is half written
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == -signal.SIGKILL
    manifest = checkpoint.read_manifest(tmp_path)
    assert manifest["step"] == 1
    assert len(list(tmp_path.glob("ckpt-*"))) == 2  # the complete one and the torn one
    torch.manual_seed(0)
    expected = GPT(CONFIG)
    loaded = GPT(CONFIG)
    checkpoint.load_weights(tmp_path, manifest, loaded)
    for name, tensor in expected.state_dict().items():
        assert torch.equal(tensor, loaded.state_dict()[name]), name
