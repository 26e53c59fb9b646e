"""Checkpoints that survive a kill at any instant and never run code when loaded.

A checkpoint is a directory of three files inside the run directory:

    ckpt-0000500-x1y2z3/
        model.safetensors   the weights (a tied matrix is stored once)
        state.safetensors   the optimizer's tensors and the random generators' states (uint8)
        state.json          step, the optimizer's settings, which weights are tied, ...

It becomes *the* checkpoint only when a small manifest, `latest.json` (or `best.json`), is
rewritten to name it: the files are written and flushed to disk first, the manifest last, and
the manifest is replaced atomically (learngpt/fileio.py). A kill in the middle of a save leaves
the old manifest naming the old, complete directory; the half-written one is swept away by the
next save. Once a manifest names a directory, nothing deletes it until no manifest names it; a
Ctrl-C during a save waits for the save to end (learngpt/interrupts.py). The manifest also
records each file's SHA-256 (and its step, which must be state.json's), so a truncated or
corrupted file is refused with a clear error instead of being half-loaded.

Nothing here unpickles: tensors go through safetensors, everything else through JSON.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load as load_tensors
from safetensors.torch import save as save_tensors
from torch import nn

from learngpt.errors import UserError
from learngpt.fileio import atomic_write_text, read_bytes, read_text, sweep_temporary_files
from learngpt.interrupts import interrupts_deferred

FORMAT = 1
MANIFESTS = ("latest", "best")
CHECKPOINT_FILE = 1 << 40  # a checkpoint file may be large; the limit only refuses the absurd
CKPT_DIR = re.compile(r"ckpt-(\d+)-\w+")  # ckpt-<step>-<random>, as save_checkpoint names them


class CorruptCheckpoint(UserError):
    """A checkpoint file that is missing or does not match its manifest's checksum. `problem`
    says what; the command that meets it may give the advice that fits it (another
    --checkpoint for sample and eval, a new run for train --resume)."""

    def __init__(self, problem: str):
        super().__init__(f"{problem}; retrain")
        self.problem = problem

    def advised(self, advice: str) -> UserError:
        """The same problem, ending with `advice` instead of the plain "retrain"."""
        return UserError(f"{self.problem}; {advice}")


def _write(path: Path, data: bytes) -> None:
    """Write `data` to a new file and flush it to the disk (every checkpoint byte goes here)."""
    with open(path, "xb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _fsync_dir(path: Path) -> None:
    """Make a directory's entries (new files, renames) durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def unwrap(model: nn.Module) -> nn.Module:
    """The plain model inside a torch.compile wrapper (whose state_dict keys are prefixed)."""
    return getattr(model, "_orig_mod", model)


def model_tensors(model: nn.Module) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """The state dict with each shared tensor once, and {alias: stored name} for the others.

    With tie_weights, lm_head.weight *is* token_embedding.weight; safetensors refuses to store
    one tensor under two names, so the second name is recorded as an alias.
    """
    tensors, aliases, seen = {}, {}, {}
    for name, tensor in unwrap(model).state_dict().items():
        key = (tensor.data_ptr(), tensor.shape, tensor.stride())
        if tensor.numel() and key in seen:
            aliases[name] = seen[key]
        else:
            seen[key] = name
            tensors[name] = tensor.detach().cpu().contiguous()
    return tensors, aliases


def save_checkpoint(
    run_dir: Path,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    rng_states: dict[str, torch.Tensor],
    info: dict[str, Any],
    manifests: tuple[str, ...] = ("latest",),
) -> Path:
    """Save a complete checkpoint and make it the one named by each of `manifests`.

    `info` (JSON values: step, config, val_loss, ...) goes into state.json and the manifests.
    Returns the checkpoint directory. If anything fails (a full disk), the new directory is
    removed and the manifests still name the previous, intact checkpoint.
    """
    run_dir = Path(run_dir)
    with interrupts_deferred():  # a Ctrl-C now waits for the save to end
        weights, aliases = model_tensors(model)
        opt_tensors, opt_json = _flatten_optimizer(optimizer.state_dict())
        state_tensors = {**opt_tensors, **{f"rng.{k}": v.cpu() for k, v in rng_states.items()}}
        state = {"format": FORMAT, **info, "aliases": aliases, "optimizer": opt_json}
        files = {
            "model.safetensors": save_tensors(weights),
            "state.safetensors": save_tensors(state_tensors),
            "state.json": json.dumps(state, indent=1).encode("utf-8"),
        }
        step = int(info.get("step", 0))
        ckpt_dir = Path(tempfile.mkdtemp(prefix=f"ckpt-{step:07d}-", dir=run_dir))
        _write_and_commit(run_dir, ckpt_dir, files, info, manifests)
    remove_unused(run_dir)
    return ckpt_dir


def _write_and_commit(
    run_dir: Path,
    ckpt_dir: Path,
    files: dict[str, bytes],
    info: dict[str, Any],
    manifests: tuple[str, ...],
) -> None:
    """Write `files` into `ckpt_dir`, then the manifests that name it (the commit point)."""
    try:
        for name, data in files.items():
            _write(ckpt_dir / name, data)
        _fsync_dir(ckpt_dir)
        manifest = {
            "format": FORMAT,
            "dir": ckpt_dir.name,
            **{k: v for k, v in info.items() if k != "config"},
            "files": {name: hashlib.sha256(data).hexdigest() for name, data in files.items()},
        }
        for which in manifests:  # the commit point: from here on the new checkpoint is live
            atomic_write_text(run_dir / f"{which}.json", json.dumps(manifest, indent=1))
        _fsync_dir(run_dir)
    except BaseException:
        # before the commit point the new directory is garbage; after it, it is a checkpoint
        live = named_directories(run_dir)
        if live is not None and ckpt_dir.name not in live:
            shutil.rmtree(ckpt_dir, ignore_errors=True)
        raise


def named_directories(run_dir: Path) -> set[str] | None:
    """The checkpoint directories the manifests name; None if a manifest exists but cannot be
    read (then nothing may be deleted: it might name any of them)."""
    live = set()
    for which in MANIFESTS:
        path = Path(run_dir) / f"{which}.json"
        if not path.exists():
            continue
        try:
            live.add(json.loads(read_text(path, "checkpoint manifest"))["dir"])
        except (OSError, ValueError, KeyError, TypeError, UserError):
            return None
    return live


def remove_unused(run_dir: Path) -> None:
    """Delete checkpoint directories that no manifest names (old ones, half-written ones), and
    the temporary files of writes that a kill cut short."""
    live = named_directories(run_dir)
    if live is None:
        return
    for path in run_dir.glob("ckpt-*"):
        if path.is_dir() and path.name not in live:
            shutil.rmtree(path, ignore_errors=True)
    sweep_temporary_files(run_dir)


def has_checkpoint(run_dir: Path, which: str = "latest") -> bool:
    return (Path(run_dir) / f"{which}.json").is_file()


def read_manifest(run_dir: Path, which: str = "latest") -> dict[str, Any]:
    """The manifest of the `which` checkpoint; UserError if there is none or it is damaged."""
    path = Path(run_dir) / f"{which}.json"
    if not path.exists():  # (a device or a FIFO there is named as such below)
        raise UserError(
            f"no checkpoint in {run_dir} ({path.name} is missing); "
            "train first with: learngpt train --out " + str(run_dir)
        )
    try:
        manifest = json.loads(read_text(path, "checkpoint manifest"))
        if not (isinstance(manifest["dir"], str) and isinstance(manifest["files"], dict)):
            raise TypeError("bad field types")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UserError(f"checkpoint manifest {path} is damaged ({exc}); retrain") from None
    if manifest.get("format") != FORMAT:
        raise UserError(f"checkpoint {path} has an unknown format; it was not written by learngpt")
    if "/" in manifest["dir"] or manifest["dir"].startswith("."):
        raise UserError(f"checkpoint manifest {path} names a directory outside {run_dir}")
    problem = manifest_problem(manifest)
    if problem:
        raise UserError(f"checkpoint manifest {path} is damaged ({problem}); retrain")
    return manifest


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def manifest_problem(manifest: dict[str, Any]) -> str | None:
    """What is wrong with a manifest's own fields (None: nothing): step, dir, times, loss."""
    step = manifest.get("step")
    if not (isinstance(step, int) and not isinstance(step, bool) and step >= 0):
        return f"its step {step!r} is not a count of steps"
    match = CKPT_DIR.fullmatch(manifest["dir"])
    if not match or int(match.group(1)) != step:
        return f"its dir {manifest['dir']!r} is not the checkpoint of step {step}"
    elapsed = manifest.get("elapsed_s", 0.0)
    if not (_is_number(elapsed) and elapsed >= 0):
        return f"its elapsed_s {elapsed!r} is not a time"
    if manifest.get("val_loss") is not None and not _is_number(manifest["val_loss"]):
        return f"its val_loss {manifest['val_loss']!r} is not a loss"
    return None


def _read_verified(run_dir: Path, manifest: dict[str, Any], name: str) -> bytes:
    """A checkpoint file's bytes, checked against the SHA-256 the manifest recorded."""
    path = Path(run_dir) / manifest["dir"] / name
    try:
        data = read_bytes(path, "checkpoint file", CHECKPOINT_FILE)
    except OSError as exc:
        raise CorruptCheckpoint(f"cannot read checkpoint file {path} ({exc.strerror})") from None
    if hashlib.sha256(data).hexdigest() != manifest["files"].get(name):
        raise CorruptCheckpoint(
            f"checkpoint file {path} is corrupted or was replaced (its checksum does not match)"
        )
    return data


def read_state(run_dir: Path, manifest: dict[str, Any]) -> dict[str, Any]:
    """state.json of a checkpoint: step, config, ... (checked, parsed as JSON only), which must
    agree with the manifest that names it."""
    data = _read_verified(run_dir, manifest, "state.json")
    try:
        state = json.loads(data)
        if not isinstance(state, dict):
            raise ValueError("not a JSON object")
    except ValueError as exc:
        raise UserError(f"checkpoint state.json in {manifest['dir']} is damaged ({exc})") from None
    for key in ("format", "step"):
        if state.get(key) != manifest.get(key):
            raise UserError(
                f"checkpoint manifest in {run_dir} says {key} {manifest.get(key)!r}, but the "
                f"checkpoint it names ({manifest['dir']}) holds {key} {state.get(key)!r}; the "
                "manifest was edited or damaged: retrain"
            )
    return state


def _load(run_dir: Path, manifest: dict[str, Any], name: str) -> dict[str, torch.Tensor]:
    data = _read_verified(run_dir, manifest, name)
    try:
        return load_tensors(data)
    except Exception as exc:  # safetensors raises its own error types for a malformed file
        raise UserError(f"checkpoint file {manifest['dir']}/{name} is damaged ({exc})") from None


def load_weights(run_dir: Path, manifest: dict[str, Any], model: nn.Module) -> None:
    """Load the checkpoint's weights into `model`, which must have the same shape."""
    state = read_state(run_dir, manifest)
    tensors = _load(run_dir, manifest, "model.safetensors")
    for alias, name in state.get("aliases", {}).items():
        if name in tensors:
            tensors[alias] = tensors[name]
    try:
        unwrap(model).load_state_dict(tensors, strict=True)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[-1].strip()
        raise UserError(
            f"checkpoint in {run_dir} does not fit the model built from its config ({first})"
        ) from None


def load_train_state(
    run_dir: Path, manifest: dict[str, Any], optimizer: torch.optim.Optimizer
) -> dict[str, torch.Tensor]:
    """Restore the optimizer from the checkpoint; return the saved generator states by name."""
    state = read_state(run_dir, manifest)
    tensors = _load(run_dir, manifest, "state.safetensors")
    try:
        optimizer.load_state_dict(_unflatten_optimizer(tensors, state["optimizer"]))
    except (KeyError, ValueError, TypeError) as exc:
        raise UserError(
            f"checkpoint optimizer state in {run_dir} does not fit this model ({exc})"
        ) from None
    return {k.removeprefix("rng."): v for k, v in tensors.items() if k.startswith("rng.")}


def _flatten_optimizer(sd: dict[str, Any]) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """An optimizer state_dict as tensors named optim.<param>.<key>, plus JSON for the rest."""
    tensors, scalars = {}, {}
    for param, values in sd["state"].items():
        for key, value in values.items():
            if isinstance(value, torch.Tensor):
                tensors[f"optim.{param}.{key}"] = value.detach().cpu().contiguous()
            else:
                scalars[f"{param}.{key}"] = value
    return tensors, {"param_groups": sd["param_groups"], "scalars": scalars}


def _unflatten_optimizer(tensors: dict[str, torch.Tensor], saved: dict[str, Any]) -> dict:
    state: dict[int, dict[str, Any]] = {}
    for name, tensor in tensors.items():
        if name.startswith("optim."):
            _, param, key = name.split(".", 2)
            state.setdefault(int(param), {})[key] = tensor
    for name, value in saved["scalars"].items():
        param, key = name.split(".", 1)
        state.setdefault(int(param), {})[key] = value
    groups = [dict(g) for g in saved["param_groups"]]
    for group in groups:
        if "betas" in group:
            group["betas"] = tuple(group["betas"])
    return {"state": state, "param_groups": groups}
