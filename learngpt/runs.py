"""A run directory (`--out`): what `learngpt train` writes and `sample`, `eval` and `serve` read.

config.yaml       the config the run trains with (every key)
tokenizer.json    the tokenizer (char: built from the whole text; bpe: trained on train text)
run.json          where the data came from (path, SHA-256), processes and rows per rank
train.bin, val.bin, meta.json   a text run's token files (learngpt/data.py): with the
                  tokenizer.json above, the run directory is a token directory of its own
log.jsonl         one JSON object per evaluation
loss.png          the loss curves
latest.json, best.json, ckpt-*/   the checkpoints (learngpt/checkpoint.py)
.lock             one trainer per run directory (below)

One trainer per run directory: an OS advisory lock on `.lock` inside it. The lock is flock(2)
on an open file: the kernel releases it when the process ends, however it ends (a kill -9
included), so a lock left by a dead trainer never blocks. The file itself stays (deleting it
would let two trainers lock two different files); it holds the pid of the last process that
locked it, for the refusal's message only.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
import yaml

from learngpt import checkpoint
from learngpt.config import ConfigError, TrainConfig, config_from_dict, resolve_device
from learngpt.data import META, TRAIN, VAL
from learngpt.errors import UserError
from learngpt.fileio import (
    TEXT_FILE,
    atomic_write_text,
    read_bytes,
    read_text,
    sweep_temporary_files,
)
from learngpt.model import GPT, GPTConfig
from learngpt.tokenizers import TOKENIZER_FILE, Tokenizer

CONFIG = "config.yaml"
TOKENIZER = TOKENIZER_FILE  # a text run's token files share it
RUN_INFO = "run.json"
LOG = "log.jsonl"
PLOT = "loss.png"
LOCK = ".lock"
ANY = object()  # expect_latest for --overwrite: whatever the directory holds now is replaced


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


def build_model(config: TrainConfig, vocab_size: int) -> GPT:
    """The config's model for a tokenizer of vocab_size tokens."""
    try:
        return GPT(dataclasses.replace(config.model, vocab_size=vocab_size))
    except ValueError as exc:  # e.g. rotary with an odd head size
        raise ConfigError(f"cannot build the model: {exc}") from None


def shape_keys(config: TrainConfig) -> list[str]:
    """The (flat) config keys that decide the weights' shape (or meaning: tie_weights, rotary).

    The model's are those its GPTConfig field marks so (a new switch is one unless marked
    otherwise); a resumed run may change the others (dropout, bf16, ...).
    """
    keys = [f.name for f in dataclasses.fields(GPTConfig) if f.metadata["shape"]]
    return [*keys, "tokenizer", *(["bpe_vocab_size"] if config.tokenizer == "bpe" else [])]


def file_digest(path: Path) -> str:
    return hashlib.sha256(read_bytes(Path(path), "data file", TEXT_FILE)).hexdigest()


# Model keys added after checkpoints were first written, with the value that builds the model
# such a checkpoint holds (the recipe's default may differ). Only flat (pre-`model:`) configs
# can lack them.
ABSENT_FROM_OLD_CHECKPOINTS = {"ffwd_conv": 0}


def config_from_checkpoint(state: dict[str, Any], run_dir: Path) -> TrainConfig:
    """The config a checkpoint's state.json holds: a `model:` section, or (older runs) flat."""
    try:
        saved = state["config"]
        if "model" not in saved:
            saved = {**ABSENT_FROM_OLD_CHECKPOINTS, **saved}
        return config_from_dict(saved, TrainConfig)
    except (KeyError, TypeError, UserError) as exc:
        raise UserError(f"checkpoint in {run_dir} holds an unusable config ({exc})") from None


class RunDir:
    """A run directory and every file in it: config, tokenizer, run.json, log, plot, checkpoints.

    Reading never writes. Only the trainer's main process writes, after every check has passed
    (learngpt/training/fit.py); `claim()` is where it starts to.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)

    def __str__(self) -> str:
        return str(self.path)

    # -- reading
    def check_free(self) -> None:
        """UserError if another trainer holds the directory now (below)."""
        check_free(self.path)

    def has_checkpoint(self, which: str = "latest") -> bool:
        return checkpoint.has_checkpoint(self.path, which)

    def manifest(self, which: str = "latest") -> dict[str, Any]:
        return checkpoint.read_manifest(self.path, which)

    def best(self) -> dict[str, Any]:
        """The best checkpoint's manifest ({} if there is none)."""
        return self.manifest("best") if self.has_checkpoint("best") else {}

    def saved_config(self, manifest: dict[str, Any]) -> TrainConfig:
        """The config of the checkpoint that `manifest` names."""
        return config_from_checkpoint(checkpoint.read_state(self.path, manifest), self.path)

    def tokenizer(self) -> Tokenizer:
        return Tokenizer.load(self.path / TOKENIZER)

    def info(self) -> dict[str, Any]:
        """run.json ({} if absent or unreadable)."""
        return read_run_info(self.path)

    def log(self) -> list[dict[str, Any]]:
        """log.jsonl's records ([] if absent or unreadable)."""
        try:
            lines = read_text(self.path / LOG, "log file").splitlines()
            return [json.loads(line) for line in lines if line.strip()]
        except (OSError, ValueError, UserError):
            return []

    def load_checkpoint(self, manifest: dict, model, optimizer) -> dict[str, torch.Tensor]:
        """Load the weights and the optimizer of `manifest`'s checkpoint; its random states."""
        checkpoint.load_weights(self.path, manifest, model)
        return checkpoint.load_train_state(self.path, manifest, optimizer)

    # -- writing (the trainer's main process only)
    @contextlib.contextmanager
    def claim(self, expect_latest: str | None | object = ANY) -> Iterator[RunDir]:
        """Create the directory (checked writable) and lock it for a run that writes into it
        until the block ends: the one place a run starts writing.

        The lock (below) is one trainer's per directory; `expect_latest`: the
        checkpoint latest.json named when the run was checked (None: none; ANY: --overwrite),
        refused if another trainer changed it since. UserError naming the holder's pid.
        """
        prepare_out_dir(self.path)
        with RunLock(self.path, expect_latest).acquire():
            yield self

    def clear(self) -> None:
        """Forget an earlier run (only for a new run or with --overwrite): its checkpoints, log,
        plot and token files (meta.json first: without it the others no longer count)."""
        for name in ("latest.json", "best.json", LOG, PLOT, META, TRAIN, VAL):
            (self.path / name).unlink(missing_ok=True)
        checkpoint.remove_unused(self.path)

    def save_config(self, config: TrainConfig) -> None:
        save_config(self.path, config)

    def save_tokenizer(self, tokenizer: Tokenizer) -> None:
        tokenizer.save(self.path / TOKENIZER)

    def save_info(self, info: dict[str, Any]) -> None:
        atomic_write_text(self.path / RUN_INFO, json.dumps(info, indent=1))

    def save_log(self, records: list[dict[str, Any]]) -> None:
        atomic_write_text(self.path / LOG, "".join(json.dumps(r) + "\n" for r in records))

    def save_checkpoint(self, model, optimizer, states, info, manifests) -> None:
        """A checkpoint named by each of `manifests` (learngpt/checkpoint.py)."""
        checkpoint.save_checkpoint(self.path, model, optimizer, states, info, manifests)


def save_config(run_dir: Path, config: TrainConfig) -> None:
    text = "# the config this run trains with (learngpt train)\n" + yaml.safe_dump(
        config.to_dict(), sort_keys=False
    )
    atomic_write_text(run_dir / CONFIG, text)


def read_run_info(run_dir: Path) -> dict[str, Any]:
    try:
        return json.loads(read_text(run_dir / RUN_INFO, "run file"))
    except (OSError, ValueError, UserError):
        return {}


def load_tokenizer(run_dir: Path) -> Tokenizer:
    return Tokenizer.load(run_dir / TOKENIZER)


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
    run = RunDir(run_dir)
    manifest = run.manifest(which)
    config = run.saved_config(manifest)
    tokenizer = run.tokenizer()
    model = build_model(config, tokenizer.vocab_size)
    checkpoint.load_weights(run_dir, manifest, model)
    torch_device = resolve_device(device)
    model.to(torch_device).eval()
    return LoadedRun(config, tokenizer, model, manifest, torch_device, which, run_dir)


# -- the lock --------------------------------------------------------------------------------------


def check_free(run_dir: str | Path) -> None:
    """UserError if a trainer holds `run_dir` now (checked first, before reading the run, so a
    second trainer is told so, not that a checkpoint vanished under it). Creates nothing."""
    path = Path(run_dir) / LOCK
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return  # no lock file: no trainer ever held it (or we cannot tell: acquire() will)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        raise UserError(_in_use(path.parent, _holder(fd))) from None
    finally:
        os.close(fd)


class RunLock:
    """Held from `acquire()` until `release()` (or the process's end).

    `expect_latest`: the checkpoint directory latest.json named when the run was checked (None:
    no checkpoint). If another trainer changed it before this one got the lock, the checks
    no longer hold and acquire() refuses.
    """

    def __init__(self, run_dir: str | Path, expect_latest: str | None | object = ANY):
        self.path = Path(run_dir) / LOCK
        self.expect_latest = expect_latest
        self.fd: int | None = None

    def acquire(self) -> RunLock:
        """Lock the run directory (which must exist), or UserError naming the holder's pid."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            os.close(fd)
            raise UserError(_in_use(self.path.parent, holder)) from None
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self.fd = fd
        self._check_unchanged()
        sweep_temporary_files(self.path.parent)  # left by a killed trainer; none is writing now
        return self

    def _check_unchanged(self) -> None:
        if self.expect_latest is ANY:
            return
        run_dir = self.path.parent
        has = checkpoint.has_checkpoint(run_dir)
        latest = checkpoint.read_manifest(run_dir)["dir"] if has else None
        if latest != self.expect_latest:
            self.release()
            raise UserError(
                f"another learngpt train changed {self.path.parent} while this one was "
                "starting; look at it, then train again"
            )

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)  # closing the only descriptor drops the lock
            self.fd = None

    def __enter__(self) -> RunLock:
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def _in_use(run_dir: Path, holder: str) -> str:
    return (
        f"{run_dir} is in use by another learngpt train (process {holder}); wait for it to "
        "end, stop it, or train into another --out"
    )


def _holder(fd: int) -> str:
    """The pid the holder wrote (it writes it just after locking: wait a moment for it)."""
    for _ in range(50):
        with contextlib.suppress(OSError, ValueError):
            return str(int(os.pread(fd, 32, 0).decode().strip()))
        time.sleep(0.01)
    return "unknown"
