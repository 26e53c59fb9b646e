"""A run directory (`--out`): what `learngpt train` writes and `sample`, `eval` and `serve` read.

config.yaml       the config the run trains with (every key)
tokenizer.json    the tokenizer (char: built from the whole text; bpe: trained on train text)
run.json          where the text came from (path, size, SHA-256), processes and rows per rank
log.jsonl         one JSON object per evaluation
loss.png          the loss curves
latest.json, best.json, ckpt-*/   the checkpoints (learngpt/checkpoint.py)
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import torch
import yaml

from learngpt import checkpoint
from learngpt.config import ConfigError, TrainConfig, config_from_dict
from learngpt.device import resolve_device
from learngpt.errors import UserError
from learngpt.fileio import TEXT_FILE, atomic_write_text, read_bytes, read_text
from learngpt.model import GPT, GPTConfig
from learngpt.tokenizers import Tokenizer

CONFIG = "config.yaml"
TOKENIZER = "tokenizer.json"
RUN_INFO = "run.json"
LOG = "log.jsonl"
PLOT = "loss.png"


def prepare_out_dir(path: str | Path) -> Path:
    """Create the output directory if needed and make sure we can write into it."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise UserError(f"--out {path} is a file, not a directory; choose a directory path")
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".write-test-", dir=path)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise UserError(
            f"cannot write to --out {path} ({exc.strerror}); choose a directory you can write to"
        ) from None
    return path


def existing_run_dir(path: str | Path) -> Path:
    """An output directory that must already exist (for sample and eval)."""
    path = Path(path)
    if not path.is_dir():
        raise UserError(
            f"{path} is not a run directory; train one first: learngpt train --out {path}"
        )
    return path


def model_config(config: TrainConfig, vocab_size: int) -> GPTConfig:
    """GPTConfig from the TrainConfig keys of the same names; vocab_size from the tokenizer."""
    names = {f.name for f in dataclasses.fields(GPTConfig)} - {"vocab_size"}
    return GPTConfig(vocab_size=vocab_size, **{n: getattr(config, n) for n in names})


def build_model(config: TrainConfig, vocab_size: int) -> GPT:
    try:
        return GPT(model_config(config, vocab_size))
    except ValueError as exc:  # e.g. rotary with an odd head size
        raise ConfigError(f"cannot build the model: {exc}") from None


# Model keys that a resumed run may change: they change how the model computes, not its weights.
# Any other model key (a new switch included) is taken to change the weights' shape or meaning.
NOT_SHAPE_KEYS = {"vocab_size", "dropout", "bf16", "nanogpt_dropout"}


def shape_keys(config: TrainConfig) -> list[str]:
    """The config keys that decide the weights' shape (or meaning: tie_weights, rotary, ...)."""
    keys = [f.name for f in dataclasses.fields(GPTConfig) if f.name not in NOT_SHAPE_KEYS]
    return [*keys, "tokenizer", *(["vocab_size"] if config.tokenizer == "bpe" else [])]


def save_config(run_dir: Path, config: TrainConfig) -> None:
    text = "# the config this run trains with (learngpt train)\n" + yaml.safe_dump(
        config.to_dict(), sort_keys=False
    )
    atomic_write_text(run_dir / CONFIG, text)


def file_digest(path: Path) -> str:
    return hashlib.sha256(read_bytes(Path(path), "data file", TEXT_FILE)).hexdigest()


def save_run_info(run_dir: Path, data_path: Path, text: str, **details: Any) -> None:
    """run.json: the text's path, digest and size, and `details` (e.g. how many processes)."""
    info = {
        "data": str(Path(data_path).resolve()),
        "data_sha256": file_digest(data_path),
        "chars": len(text),
        **details,
    }
    atomic_write_text(run_dir / RUN_INFO, json.dumps(info, indent=1))


def read_run_info(run_dir: Path) -> dict[str, Any]:
    try:
        return json.loads(read_text(run_dir / RUN_INFO, "run file"))
    except (OSError, ValueError, UserError):
        return {}


def load_tokenizer(run_dir: Path) -> Tokenizer:
    return Tokenizer.load(run_dir / TOKENIZER)


# Model keys added after checkpoints were first written, with the value that builds the model
# such a checkpoint holds (the recipe's default may differ).
ABSENT_FROM_OLD_CHECKPOINTS = {"ffwd_conv": 0}


def config_from_checkpoint(state: dict[str, Any], run_dir: Path) -> TrainConfig:
    try:
        return config_from_dict({**ABSENT_FROM_OLD_CHECKPOINTS, **state["config"]}, TrainConfig)
    except (KeyError, TypeError, UserError) as exc:
        raise UserError(f"checkpoint in {run_dir} holds an unusable config ({exc})") from None


@dataclasses.dataclass
class LoadedRun:
    config: TrainConfig
    tokenizer: Tokenizer
    model: GPT
    manifest: dict[str, Any]
    device: torch.device
    which: str  # the checkpoint loaded: "best" or "latest"
    run_dir: Path


def load_run(run_dir: str | Path, which: str = "best", device: str = "auto") -> LoadedRun:
    """The model of a run's `which` checkpoint ("best" or "latest"), in eval mode, on `device`."""
    run_dir = existing_run_dir(run_dir)
    if which == "best" and not checkpoint.has_checkpoint(run_dir, "best"):
        which = "latest"  # stopped before its first estimate: no best yet
    manifest = checkpoint.read_manifest(run_dir, which)
    config = config_from_checkpoint(checkpoint.read_state(run_dir, manifest), run_dir)
    tokenizer = load_tokenizer(run_dir)
    model = build_model(config, tokenizer.vocab_size)
    checkpoint.load_weights(run_dir, manifest, model)
    torch_device = resolve_device(device)
    model.to(torch_device).eval()
    return LoadedRun(config, tokenizer, model, manifest, torch_device, which, run_dir)
