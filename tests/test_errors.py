"""Bad input (issue 6): one `error: ` line, a non-zero status, no traceback, nothing lost.

Every case runs next to a real trained run, and checks that the run's files are byte for byte
what they were: a failed command never damages earlier work.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import pickle

import pytest
import torch
import trainer_helpers
from trainer_helpers import TINY, assert_user_error, run_cli, snapshot

from learngpt import checkpoint

# the tiny trained run each test copies (tests/trainer_helpers.py)
trained_template = trainer_helpers.trained_template
trained_run = trainer_helpers.trained_run


def new_run(run, tmp_path, *argv):
    """`train` into the trained run's directory with --overwrite: the strongest test that a
    bad input is caught before anything is deleted."""
    return ["train", "--out", run.out, "--overwrite", "--data", run.data, *TINY, *argv]


def write(tmp_path, name, content):
    path = tmp_path / name
    (path.write_bytes if isinstance(content, bytes) else path.write_text)(content)
    return path


def damage_latest(run, how):
    manifest = checkpoint.read_manifest(run.out, "best")
    path = run.out / manifest["dir"] / "model.safetensors"
    data = path.read_bytes()
    if how == "truncate":
        path.write_bytes(data[:100])
    else:
        path.write_bytes(data[:-10] + bytes([data[-10] ^ 0xFF]) + data[-9:])


# Each case: (name, build(tmp_path, run) -> argv, fragments the error line must contain).
CASES = [
    # --- the data file
    ("data missing", lambda t, r: new_run(r, t, "--data", t / "nope.txt"), ["does not exist"]),
    ("data empty", lambda t, r: new_run(r, t, "--data", write(t, "e.txt", "")), ["is empty"]),
    (
        "data shorter than block_size + 1",
        lambda t, r: new_run(r, t, "--data", write(t, "s.txt", "To be, or not to be")),
        ["too short", "block_size 16"],
    ),
    (
        "data not UTF-8",
        lambda t, r: new_run(r, t, "--data", write(t, "b.bin", b"\xff\xfe\x00\x81" * 50)),
        ["not UTF-8"],
    ),
    ("data a directory", lambda t, r: new_run(r, t, "--data", t), ["is a directory"]),
    # --- the config file
    ("config missing", lambda t, r: new_run(r, t, "--config", t / "no.yaml"), ["does not exist"]),
    (
        "config not YAML",
        lambda t, r: new_run(r, t, "--config", write(t, "c.yaml", "n_layers: [1, 2\n")),
        ["not valid YAML"],
    ),
    (
        "config unknown key",
        lambda t, r: new_run(r, t, "--config", write(t, "c.yaml", "n_layer: 2\n")),
        ["unknown config key 'n_layer'"],
    ),
    (
        "config wrong type",
        lambda t, r: new_run(r, t, "--config", write(t, "c.yaml", "n_layers: two\n")),
        ["'n_layers'", "int"],
    ),
    (
        "config not a mapping",
        lambda t, r: new_run(r, t, "--config", write(t, "c.yaml", "- 1\n- 2\n")),
        ["mapping"],
    ),
    # --- impossible values (from a flag or a file)
    ("non-positive size", lambda t, r: new_run(r, t, "--n-layers", "0"), ["'n_layers'"]),
    (
        "negative learning rate",
        lambda t, r: new_run(r, t, "--learning-rate", "-0.1"),
        ["learning_rate"],
    ),
    (
        "embed_size not divisible by n_heads",
        lambda t, r: new_run(r, t, "--embed-size", "18", "--n-heads", "4"),
        ["divisible by n_heads"],
    ),
    (
        "train_ratio outside (0, 1)",
        lambda t, r: new_run(r, t, "--train-ratio", "1.5"),
        ["train_ratio"],
    ),
    ("unknown tokenizer", lambda t, r: new_run(r, t, "--tokenizer", "words"), ["'tokenizer'"]),
    # --- the command line
    (
        "unknown flag",
        lambda t, r: new_run(r, t, "--n-layerz", "2"),
        ["unrecognized", "--n-layerz", "learngpt train --help"],
    ),
    ("flag of the wrong type", lambda t, r: new_run(r, t, "--n-layers", "two"), ["--n-layers"]),
    ("unknown command", lambda t, r: ["trian"], ["invalid choice"]),
    # --- the output directory
    (
        "out is a file",
        lambda t, r: ["train", "--out", write(t, "f.txt", "x"), "--data", r.data, *TINY],
        ["is a file"],
    ),
    (
        "out not writable",
        lambda t, r: ["train", "--out", write(t, "f.txt", "x") / "sub", "--data", r.data, *TINY],
        ["cannot write"],
    ),
    (
        "a run already there, without --resume",
        lambda t, r: ["train", "--out", r.out, "--data", r.data, *TINY],
        ["already holds a run", "--resume"],
    ),
    # --- resuming
    (
        "--resume with no checkpoint",
        lambda t, r: ["train", "--out", t / "empty", "--resume", "--data", r.data, *TINY],
        ["no checkpoint"],
    ),
    (
        "--resume changing the model's shape",
        lambda t, r: ["train", "--out", r.out, "--resume", "--n-layers", "2"],
        ["n_layers", "shape"],
    ),
    # --- sampling
    ("sample with no checkpoint", lambda t, r: ["sample", "--out", t], ["no checkpoint"]),
    (
        "sample from no directory",
        lambda t, r: ["sample", "--out", t / "x"],
        ["not a run directory"],
    ),
    (
        "fine-tune from no directory: the error names the path given, not --out",
        lambda t, r: ["train", "--out", t / "ft", "--init-from", t / "x", "--data", r.data, *TINY],
        ["x is not a run directory"],
    ),
    (
        "demo with a negative token count fails before training",
        lambda t, r: ["demo", "--out", t / "demo", "--max-new-tokens", "-5"],
        ["--max-new-tokens"],
    ),
    (
        "serve on a port past 65535",
        lambda t, r: ["serve", "--out", r.out, "--port", "70000"],
        ["65535"],
    ),
    (
        "prompt with unknown characters",
        lambda t, r: ["sample", "--out", r.out, "--prompt", "naïve ☃"],
        ["'ï'", "'☃'", "--drop-unknown"],
    ),
    (
        "negative max-new-tokens",
        lambda t, r: ["sample", "--out", r.out, "--max-new-tokens", "-5"],
        ["--max-new-tokens"],
    ),
    (
        "negative temperature",
        lambda t, r: ["sample", "--out", r.out, "--temperature", "-1"],
        ["--temperature"],
    ),
    ("negative top-k", lambda t, r: ["sample", "--out", r.out, "--top-k", "-3"], ["--top-k"]),
    ("top-p above 1", lambda t, r: ["sample", "--out", r.out, "--top-p", "1.5"], ["--top-p"]),
    # --- damaged checkpoints
    (
        "truncated checkpoint",
        lambda t, r: damage_latest(r, "truncate") or ["sample", "--out", r.out],
        ["model.safetensors", "corrupted"],
    ),
    (
        "corrupted checkpoint",
        lambda t, r: damage_latest(r, "flip") or ["eval", "--out", r.out],
        ["model.safetensors", "corrupted"],
    ),
    (
        "damaged manifest",
        lambda t, r: write(r.out, "best.json", "{not json") and ["sample", "--out", r.out],
        ["best.json", "damaged"],
    ),
]


@pytest.mark.parametrize("build, fragments", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_one_error_line_and_nothing_is_lost(tmp_path, trained_run, build, fragments):
    argv = build(tmp_path, trained_run)  # may damage the run on purpose, before the snapshot
    before = snapshot(trained_run.out)
    result = run_cli(*argv)
    assert_user_error(result, *fragments)
    assert snapshot(trained_run.out) == before


def test_there_are_at_least_18_kinds_of_bad_input():
    assert len(CASES) >= 18


def test_debug_shows_the_traceback(tmp_path):
    with pytest.raises(Exception, match="does not exist"):
        run_cli("--debug", "train", "--data", tmp_path / "nope.txt", "--out", tmp_path / "o")


def test_a_full_disk_while_saving_keeps_the_previous_checkpoint(trained_run, monkeypatch):
    out = trained_run.out
    kept = {k: v for k, v in snapshot(out).items() if k.startswith(("ckpt-", "latest", "best"))}

    def disk_full(path, data):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(checkpoint, "_write", disk_full)
    result = run_cli("train", "--out", out, "--resume", "--max-iters", "9")
    assert_user_error(result, "No space left on device", "step 6", "--resume")
    now = snapshot(out)
    assert {k: v for k, v in now.items() if k.startswith(("ckpt-", "latest", "best"))} == kept
    monkeypatch.undo()
    # the previous checkpoint still loads, and the run resumes from it once there is space
    assert run_cli("sample", "--out", out, "--checkpoint", "latest").rc == 0
    resumed = run_cli("train", "--out", out, "--resume", "--max-iters", "9")
    assert resumed.rc == 0, resumed.err
    assert checkpoint.read_manifest(out)["step"] == 9


class RunsCode:
    """Unpickling this runs a shell command."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def plant_pickle(run_dir, which, file_name, marker):
    """Replace a checkpoint file by a pickle that runs code, fixing up the manifest's checksum
    as a malicious author would; also drop a torch .pt with the same payload beside it."""
    manifest = checkpoint.read_manifest(run_dir, which)
    ckpt = run_dir / manifest["dir"]
    payload = pickle.dumps({"state_dict": RunsCode(marker)})
    (ckpt / file_name).write_bytes(payload)
    torch.save({"model": RunsCode(marker)}, ckpt / "model.pt")
    manifest["files"][file_name] = hashlib.sha256(payload).hexdigest()
    (run_dir / f"{which}.json").write_text(json.dumps(manifest))


@pytest.mark.parametrize(
    "argv, which, file_name",
    [
        (["sample"], "best", "model.safetensors"),
        (["eval"], "best", "model.safetensors"),
        (["train", "--resume"], "latest", "model.safetensors"),
        (["train", "--resume"], "latest", "state.safetensors"),
    ],
)
def test_a_checkpoint_carrying_pickled_code_runs_nothing(
    trained_run, tmp_path, argv, which, file_name
):
    marker = tmp_path / "pwned"
    plant_pickle(trained_run.out, which, file_name, marker)
    result = run_cli(argv[0], "--out", trained_run.out, *argv[1:])
    assert_user_error(result, file_name, "damaged")
    assert not marker.exists()


@pytest.mark.parametrize(
    "flag, value",
    [
        ("--beta1", "1.0"),
        ("--beta2", "-0.1"),
        ("--weight-decay", "-1"),
        ("--grad-clip", "-1"),
        ("--warmup-iters", "-5"),
        ("--min-lr-ratio", "1.5"),
        ("--max-time", "-10"),
        ("--bpe-vocab-size", "100"),
        ("--device", "gpu"),
        ("--threads", "-1"),
        ("--dropout", "1.0"),
        ("--block-size", "0"),
    ],
)
def test_impossible_trainer_values_name_their_key(tmp_path, trained_run, flag, value):
    before = snapshot(trained_run.out)
    result = run_cli(*new_run(trained_run, tmp_path, flag, value))
    assert_user_error(result, f"'{flag[2:].replace('-', '_')}'")
    assert snapshot(trained_run.out) == before


def test_a_full_disk_outside_a_checkpoint_is_one_line_too(trained_run, tmp_path, monkeypatch):
    from learngpt import runs

    real_write = runs.atomic_write_text

    def disk_full(path, text):
        if path.name != "log.jsonl":  # the log of estimates: the run's first write after step 0
            return real_write(path, text)
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(runs, "atomic_write_text", disk_full)
    before = snapshot(trained_run.out)
    result = run_cli("train", "--out", trained_run.out, "--resume", "--max-iters", "9")
    assert_user_error(result, "No space left on device", "log.jsonl")
    assert result.rc == 1
    kept = ("ckpt-", "latest", "best")
    assert {k: v for k, v in snapshot(trained_run.out).items() if k.startswith(kept)} == {
        k: v for k, v in before.items() if k.startswith(kept)
    }
