"""The plan of a training run: everything `learngpt train` checks and reads before it writes.

    plan = plan_run(TrainRequest(...))
        check_run      the run directory (free, and a run in it only with --resume or
                       --overwrite), the config (defaults, or the run's own on --resume <
                       --config file < flags), the checkpoint to resume from, the run to start
                       from (--init-from), the device
        find_data      the token files and their tokenizer: a token directory (`learngpt
                       prepare`, nanoGPT's) read in place; or a text file, read and encoded
                       here, whose token files learngpt/training/fit.py writes into the run
                       directory (so --resume needs nothing outside it)

Nothing here writes: every problem is a UserError before anything changes on disk. Then
learngpt/training/fit.py trains as the plan says.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from learngpt.config import TrainConfig, load_config, resolve_device
from learngpt.data import (
    TextTokens,
    check_same_tokens,
    check_splits_long_enough,
    holds_token_files,
    is_token_dir,
    load_text,
    open_token_dir,
    text_sha256,
    text_tokens,
)
from learngpt.errors import UserError
from learngpt.resources import shakespeare_path
from learngpt.runs import LoadedRun, RunDir, load_run, shape_keys
from learngpt.tokenizers import Tokenizer, new_tokenizer

DEFAULT_OUT = Path("runs") / "shakespeare_char"

TEXT_REMEDY = "use a longer text or a smaller --block-size (or change --train-ratio)"
TOKENS_REMEDY = (
    "prepare more text into it or use a smaller --block-size (or prepare it again with "
    "another --val-ratio)"
)


@dataclass
class TrainRequest:
    """What `learngpt train` was asked for (its flags), or what a script passed to train().

    The config is built in layers: `config` (default: TrainConfig's defaults, or on `resume`
    the run's own config), then `config_file`, then `overrides` (flat keys: n_layers=4).
    `data`: a text file or a token directory (default: on --resume the run's own data, else
    the shipped Shakespeare). `init_from`: a run whose weights and tokenizer the new run
    starts from (its shape keys win).
    """

    out: str | Path = DEFAULT_OUT
    data: str | Path | None = None
    resume: bool = False
    overwrite: bool = False
    config_file: str | Path | None = None
    overrides: dict[str, Any] = field(default_factory=dict)
    init_from: str | Path | None = None
    config: TrainConfig | None = None


@dataclass
class RunData:
    """What a run trains on: token files, read in place, and the tokenizer of their ids."""

    tokenizer: Tokenizer
    folder: Path  # the token directory: --data DIR, or a text run's own run directory
    source: dict[str, Any]  # where the ids came from, for run.json
    text: TextTokens | None = None  # a text's ids, to be written into the run directory first


@dataclass
class Plan:
    """What a run will do, checked: fit(plan) follows it."""

    run_dir: RunDir
    config: TrainConfig  # with data: the model's vocab_size is the tokenizer's
    device: torch.device
    data_path: Path  # the --data the run reads (a text run's ids end up in run_dir)
    resume: dict[str, Any] | None  # the manifest of the checkpoint to resume from
    init: LoadedRun | None  # the run to start from (--init-from)
    overwrite: bool = False
    finished: bool = False  # --resume found the run at its budget already
    data: RunData | None = None  # None until find_data (the --nproc launcher needs none)


def plan_run(request: TrainRequest) -> Plan:
    """Every check and every read a run needs, in order; nothing written."""
    plan = check_run(request)
    data = find_data(plan, request.data is not None)
    config = plan.config.with_vocab(data.tokenizer.vocab_size)
    return dataclasses.replace(plan, config=config, data=data)


def check_run(request: TrainRequest) -> Plan:
    """The run directory, the config, the resume point and the --init-from run (no data yet)."""
    r = request
    if r.resume and r.overwrite:
        raise UserError("--resume and --overwrite contradict each other; pass one of them")
    if r.resume and r.init_from:
        raise UserError("--resume continues a run, --init-from starts a new one; pass one of them")
    run_dir = RunDir(r.out)
    if r.init_from and Path(r.init_from).resolve() == run_dir.path.resolve():
        raise UserError("--init-from and --out are the same run; write the new run elsewhere")
    check_run_dir(run_dir, r.resume, r.overwrite)
    manifest = run_dir.manifest() if r.resume else None
    saved = run_dir.saved_config(manifest) if manifest else None
    init = load_run(r.init_from, which="best", device="cpu") if r.init_from else None
    config = resolve_config(r.config, r.config_file, r.overrides, saved, init)
    if config.tokenizer == "gpt2" and not config.gpt2_dir and not (r.resume or init):
        # a new run builds GPT-2's tokenizer (a resumed or fine-tuned one keeps its own)
        raise UserError("--tokenizer gpt2 needs --gpt2-dir DIR (GPT-2's vocab.json, merges.txt)")
    data_path = resolve_data_path(r.data, run_dir, r.resume)
    if not r.resume and data_path.resolve() == run_dir.path.resolve():
        raise UserError("--data and --out are the same directory; write the run to another --out")
    if r.resume and is_token_dir(data_path):  # refused here, before --nproc starts any process
        check_same_tokens(data_path, run_dir.info(), run_dir.path)
    device = resolve_device(config.device)
    finished = manifest is not None and reached_budget(config, manifest)
    return Plan(run_dir, config, device, data_path, manifest, init, r.overwrite, finished)


def check_run_dir(run_dir: RunDir, resume: bool, overwrite: bool) -> None:
    """`--out` can take this run: a new run, or --resume / --overwrite of the one it holds."""
    out = run_dir.path
    run_dir.check_free()  # another trainer in `out`: say so before reading it
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out} is a file, not a directory; choose a directory path")
    has_run = run_dir.has_checkpoint()
    if resume and not has_run:
        raise UserError(
            f"--resume: no checkpoint in {out} to resume from; drop --resume to start a new run"
        )
    if has_run and not (resume or overwrite):
        step = run_dir.manifest().get("step", "?")
        raise UserError(
            f"{out} already holds a run (checkpoint at step {step}); continue it with --resume, "
            "or start afresh with --overwrite or another --out"
        )
    if holds_token_files(out) and not run_dir.info():  # a new run would clear them away
        raise UserError(
            f"--out {out} holds token files but no run (a `learngpt prepare` directory?); "
            f"train into another --out (with --data {out} to train on them)"
        )
    if resume and run_dir.info().get("imported_from"):
        raise UserError(
            f"--resume: {out} was imported, not trained; fine-tune it into a new run with "
            f"--init-from {out} --out NEW_RUN"
        )


def reached_budget(config: TrainConfig, manifest: dict[str, Any]) -> bool:
    """Whether the checkpoint to resume from has already spent the budget of steps or seconds."""
    step, elapsed = int(manifest["step"]), float(manifest.get("elapsed_s", 0.0))
    return step >= config.max_iters or 0 < config.max_time <= elapsed


def find_data(plan: Plan, data_given: bool) -> RunData:
    """The token files the run reads and their tokenizer (the run's own on --resume, the
    source run's with --init-from, else the data's)."""
    config, run_dir = plan.config, plan.run_dir
    own = run_dir.tokenizer() if plan.resume else plan.init.tokenizer if plan.init else None
    if plan.resume and holds_token_files(run_dir.path):  # a text run's own token files
        if data_given:
            check_same_text(plan.data_path, run_dir)
        tokens = open_token_dir(run_dir.path)
        lengths, remedy = {"train": len(tokens.train), "val": len(tokens.val)}, TEXT_REMEDY
        data = RunData(own, run_dir.path, run_dir.info())
    elif is_token_dir(plan.data_path):
        data, lengths = token_dir_data(plan.data_path, config.gpt2_dir, own)
        remedy = TOKENS_REMEDY
    else:
        if plan.resume:  # an older text run: the text it started on, encoded once more
            check_same_text(plan.data_path, run_dir)

        def tokenizer_for(text: str, train_text: str) -> Tokenizer:
            if own is not None:
                return own
            sample = text if config.tokenizer == "char" else train_text  # BPE: train text only
            return new_tokenizer(config.tokenizer, sample, config.bpe_vocab_size, config.gpt2_dir)

        text = text_tokens(plan.data_path, config.train_ratio, tokenizer_for)
        data = RunData(text.tokenizer, run_dir.path, text.source, text)
        lengths, remedy = {k: len(v) for k, v in text.ids.items()}, TEXT_REMEDY
    check_splits_long_enough(lengths, config.block_size, plan.data_path, remedy)
    return data


def token_dir_data(
    folder: Path, gpt2_dir: str, own: Tokenizer | None
) -> tuple[RunData, dict[str, int]]:
    """A token directory's data, and the length of each split.

    `own`: the tokenizer the run must keep (--resume, --init-from), which must be the one the
    ids were encoded with; None for a new run, which takes the directory's.
    """
    tokens = open_token_dir(folder, gpt2_dir)
    if own is not None and own.to_dict() != tokens.tokenizer.to_dict():
        raise UserError(
            f"--data {folder} was encoded with another tokenizer than the run's "
            f"({tokens.tokenizer!r}); prepare it with --tokenizer-from RUN"
        )
    source = {"data": str(Path(folder).resolve()), "data_sha256": tokens.fingerprint}
    source["tokens"] = len(tokens.train) + len(tokens.val)
    data = RunData(own or tokens.tokenizer, Path(folder), source)
    return data, {"train": len(tokens.train), "val": len(tokens.val)}


def check_same_text(path: Path, run_dir: RunDir) -> None:
    """--resume of a text run: --data, if given, must be the text the run started on."""
    recorded = run_dir.info().get("data_sha256")
    if path.is_dir() or (recorded and text_sha256(load_text(path)) != recorded):
        raise UserError(
            f"--resume: --data {path} is not the text the run in {run_dir} started on (its "
            "SHA-256 differs from run.json's); resume without --data, or start a new run "
            "with another --out"
        )


def resolve_config(
    config: TrainConfig | None,
    config_file: str | Path | None,
    overrides: dict[str, Any],
    saved: TrainConfig | None,
    init: LoadedRun | None = None,
) -> TrainConfig:
    """The defaults (or the run's own config on --resume) < the config file < the overrides.

    With `init` (--init-from), the model's shape keys are the source run's, over all of those.
    """
    if config_file is not None:
        base = load_config(config_file, TrainConfig)
    elif config is not None:
        base = config
    elif saved is not None:
        base = saved
    else:
        base = TrainConfig()
    if init is not None:
        source = init.config.flat()
        base = base.replace(**{key: source[key] for key in shape_keys(init.config)})
    config = base.replace(**overrides)
    if saved is not None:
        check_same_shape(saved, config)
    if init is not None:
        check_same_shape(init.config, config, "--init-from")
    return config


def resolve_data_path(data: str | Path | None, run_dir: RunDir, resuming: bool) -> Path:
    """`data`; else, on resume, the data the run started on; else the shipped Shakespeare."""
    if data:
        return Path(data)
    if resuming and run_dir.info().get("data"):
        return Path(run_dir.info()["data"])
    return shakespeare_path()


def check_same_shape(saved: TrainConfig, config: TrainConfig, flag: str = "--resume") -> None:
    """--resume must rebuild the same model, --init-from the source run's (with a context as
    long or shorter): refuse a config that changes its shape."""
    before, after = saved.flat(), config.flat()
    for key in shape_keys(saved):
        old, new = before[key], after[key]
        if old == new or (flag == "--init-from" and key == "block_size" and new < old):
            continue  # a shorter context uses the first rows of the position table
        option = "--" + key.replace("_", "-")
        if flag == "--resume":
            remedy = f"resume with the run's own config (drop {option} / --config) or start a new "
            remedy += "run with another --out"
        elif key == "block_size":
            remedy = f"the context can only shrink: pass --block-size {old} or less"
        else:
            remedy = f"the new run keeps the shape of the run it starts from: drop {option}"
        raise UserError(
            f"{flag}: the config changes {key} from {old!r} to {new!r}, which changes the "
            f"model's shape; {remedy}"
        )
