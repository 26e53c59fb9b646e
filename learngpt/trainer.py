"""`learngpt train`: train the NanoGPT of learngpt/model.py on a text file, resumably.

    learngpt train [--config FILE] [--data FILE] [--out DIR] [--resume] [--<key> VALUE ...]

The config is built in three layers: TrainConfig's defaults, then the --config file (default
configs/shakespeare_char.yaml; with --resume, the run's own config), then any --<key> flags.
The loop is learngpt/training.py's train(); this module only prepares the data, the model and
the optimizer, and hooks in the progress bar, the log, the checkpoints and the stop signals.

Exact resume: a checkpoint holds the weights, the optimizer state and the states of the random
generators (batches, estimates, dropout) after some step n. Resuming rebuilds everything from it
and the loop continues at step n as if it had never stopped: on CPU the final weights are the
same as an uninterrupted run's. With a time budget (max_time) the learning rate depends on the
elapsed time, which no run repeats exactly; the checkpoint keeps the time spent, and a resumed
run spends only what is left of the budget (raise --max-time to train longer).
"""

from __future__ import annotations

import argparse
import json
import math
import signal
import sys
import threading
import time
import typing
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from learngpt import checkpoint
from learngpt.config import TrainConfig, field_types, load_config
from learngpt.data import load_text
from learngpt.errors import UserError
from learngpt.fileio import atomic_write, atomic_write_text
from learngpt.rundir import (
    LOG,
    PLOT,
    TOKENIZER,
    build_model,
    config_from_checkpoint,
    cpu_has_fast_bf16,
    encode,
    load_tokenizer,
    prepare_out_dir,
    read_run_info,
    resolve_device,
    save_config,
    save_run_info,
    shape_keys,
    split_text,
)
from learngpt.tokenizers import CharTokenizer, Tokenizer, UnknownCharactersError
from learngpt.training import cosine_schedule, train

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = ROOT / "configs" / "shakespeare_char.yaml"
DEFAULT_DATA = ROOT / "data" / "input.txt"
DEFAULT_OUT = Path("runs") / "shakespeare_char"
INTERRUPTED = 130  # the exit status of a program stopped by Ctrl-C

KEY_HELP = {
    "batch_size": "sequences per step",
    "block_size": "context length in tokens",
    "max_iters": "number of optimizer steps",
    "eval_iters": "batches per loss estimate",
    "eval_interval": "steps between loss estimates (and checkpoints)",
    "learning_rate": "peak learning rate",
    "embed_size": "channels (C)",
    "n_layers": "transformer blocks",
    "n_heads": "attention heads (must divide embed_size)",
    "dropout": "dropout rate in [0, 1)",
    "train_ratio": "fraction of the text used for training",
    "seed": "random seed (same seed, same run on CPU)",
    "weight_decay": "AdamW weight decay (matrices only)",
    "grad_clip": "clip the gradient norm to this (0: off)",
    "warmup_iters": "linear warmup steps",
    "min_lr_ratio": "final learning rate / peak",
    "max_time": "time budget in seconds (0: none); the schedule follows it",
    "tokenizer": "char or bpe",
    "vocab_size": "BPE vocabulary size",
    "device": "auto, cpu, cuda or cuda:N",
    "compile": "torch.compile the model",
    "threads": "CPU threads for torch (0: its default)",
}


# ----------------------------------------------------------------------------- command line


def add_command(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "train",
        help="train NanoGPT on a text file (resumable)",
        description="Train NanoGPT on a text file. Every config key is also a flag.",
    )
    p.add_argument(
        "--config", help=f"YAML config file (default {DEFAULT_CONFIG.relative_to(ROOT)})"
    )
    p.add_argument("--data", help=f"UTF-8 text file (default {DEFAULT_DATA.relative_to(ROOT)})")
    p.add_argument("--out", default=str(DEFAULT_OUT), help="run directory (default %(default)s)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out")
    p.add_argument(
        "--overwrite", action="store_true", help="start afresh in --out, replacing its run"
    )
    add_config_flags(p, TrainConfig)
    p.set_defaults(run=run)


def add_config_flags(parser: argparse.ArgumentParser, cls: type) -> None:
    """One flag per config key, --key-with-hyphens; only the flags given land in the namespace."""
    group = parser.add_argument_group("config keys (override the config file)")
    for name, kind in field_types(cls).items():
        flag = "--" + name.replace("_", "-")
        text = KEY_HELP.get(name, f"config key {name}")
        if kind is bool:
            group.add_argument(
                flag, action=argparse.BooleanOptionalAction, default=argparse.SUPPRESS, help=text
            )
        else:
            group.add_argument(
                flag,
                dest=name,
                type=_parse_value(kind),
                default=argparse.SUPPRESS,
                metavar=name.upper(),
                help=text,
            )


def _parse_value(kind: Any):
    """The argparse `type` for a config field: int, float, str, or an Optional of one."""
    kinds = typing.get_args(kind) or (kind,)
    base = next(k for k in kinds if k is not type(None))
    optional = type(None) in kinds

    def parse(text: str):
        if optional and text.lower() in ("none", "null"):
            return None
        try:
            return base(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {base.__name__}, got {text!r}") from None

    parse.__name__ = base.__name__
    return parse


def config_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The config keys given as flags."""
    keys = field_types(TrainConfig)
    return {k: v for k, v in vars(args).items() if k in keys}


# ----------------------------------------------------------------------------- the run


def run(args: argparse.Namespace) -> int:
    if args.resume and args.overwrite:
        raise UserError("--resume and --overwrite contradict each other; pass one of them")
    out = prepare_out_dir(args.out)
    has_run = checkpoint.has_checkpoint(out)
    if args.resume and not has_run:
        raise UserError(
            f"--resume: no checkpoint in {out} to resume from; drop --resume to start a new run"
        )
    if has_run and not (args.resume or args.overwrite):
        step = checkpoint.read_manifest(out).get("step", "?")
        raise UserError(
            f"{out} already holds a run (checkpoint at step {step}); continue it with --resume, "
            "or start afresh with --overwrite or another --out"
        )
    return train_run(out, args)


def train_run(out: Path, args: argparse.Namespace) -> int:
    resume = checkpoint.read_manifest(out) if args.resume else None
    saved_state = checkpoint.read_state(out, resume) if resume else None
    config = resolve_config(args, out, saved_state)

    # the text, split by characters, and the tokenizer
    data_path = resolve_data_path(args, out, resume is not None)
    text = load_text(data_path)
    train_text, val_text = split_text(text, config.train_ratio)
    tokenizer = load_tokenizer(out) if resume else make_tokenizer(config, text, train_text)
    train_data = encode_split(tokenizer, train_text, data_path)
    val_data = encode_split(tokenizer, val_text, data_path)
    check_length(train_data, "training", config, data_path)
    check_length(val_data, "validation", config, data_path)

    # the model and optimizer, fresh or from the latest checkpoint
    device = resolve_device(config.device)
    if config.bf16 and device.type == "cpu" and not cpu_has_fast_bf16():
        print("note: this CPU has no bfloat16 kernels; training in float32", file=sys.stderr)
        config = config.replace(bf16=False)
    if config.threads:
        torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)
    model = build_model(config, tokenizer.vocab_size).to(device)
    optimizer = model.configure_optimizer(
        config.weight_decay, config.learning_rate, (config.beta1, config.beta2)
    )
    rngs = {  # the batches and the estimates each draw from their own generator
        "batch": torch.Generator().manual_seed(config.seed),
        "eval": torch.Generator().manual_seed(config.seed + 1),
    }
    start_step, elapsed = 0, 0.0
    if resume:
        checkpoint.load_weights(out, resume, model)
        restore_rng_states(rngs, checkpoint.load_train_state(out, resume, optimizer))
        start_step, elapsed = int(resume["step"]), float(resume.get("elapsed_s", 0.0))
        if start_step >= config.max_iters or 0 < config.max_time <= elapsed:
            print(
                f"the run in {out} has already finished (step {start_step}, "
                f"{elapsed:.0f} s); raise --max-iters or --max-time to train further"
            )
            return 0

    # everything checked: only now write to the run directory
    if not resume:
        clear_run(out)
        tokenizer.save(out / TOKENIZER)
    save_config(out, config)
    save_run_info(out, data_path, text)
    records = [r for r in read_log(out) if r["step"] <= start_step] if resume else []
    n_params = sum(p.numel() for p in model.parameters())
    print(
        f"{'resuming at step ' + str(start_step) if resume else 'training'}: "
        f"{n_params / 1e6:.2f}M parameters on {device}, {len(train_data)} training tokens, "
        f"run directory {out}",
        file=sys.stderr,
    )
    best = None
    if resume and checkpoint.has_checkpoint(out, "best"):
        best = checkpoint.read_manifest(out, "best").get("val_loss")
    saved_step = start_step if resume else -1
    runner = Runner(out, config, model, optimizer, rngs, records, saved_step, elapsed, best)
    compiled = torch.compile(model) if config.compile else model
    with (
        StopSignals() as stop,
        tqdm(
            total=config.max_iters,
            initial=start_step,
            unit="step",
            disable=None,
            dynamic_ncols=True,
        ) as bar,
    ):
        runner.bar = bar
        history = train(
            compiled,
            train_data,
            val_data,
            config,
            optimizer=optimizer,
            lr_at=cosine_schedule(config),
            grad_clip=config.grad_clip,
            max_time=config.max_time,
            start_step=start_step,
            elapsed=elapsed,
            batch_rng=rngs["batch"],
            eval_rng=rngs["eval"],
            on_step=runner.on_step,
            on_eval=runner.on_eval,
            should_stop=stop.requested,
        )
    runner.plot()
    if history.stopped:
        runner.save(history.step)
        print(
            f"interrupted at step {history.step}; saved a checkpoint in {out}. "
            f"Resume with: learngpt train --out {out} --resume",
            file=sys.stderr,
        )
        return INTERRUPTED
    best = checkpoint.read_manifest(out, "best") if checkpoint.has_checkpoint(out, "best") else {}
    print(
        f"done at step {history.step}: val loss {history.val_loss[-1]:.4f} "
        f"(best {best.get('val_loss', float('nan')):.4f} at step {best.get('step', '?')}). "
        f"Sample with: learngpt sample --out {out}",
        file=sys.stderr,
    )
    return 0


def resolve_config(args: argparse.Namespace, out: Path, saved_state: dict | None) -> TrainConfig:
    """Defaults < the --config file (default: the shipped one; on --resume the run's) < flags."""
    if args.config is not None or saved_state is None:
        base = load_config(args.config or DEFAULT_CONFIG, TrainConfig)
    else:
        base = config_from_checkpoint(saved_state, out)
    config = base.replace(**config_overrides(args))
    if saved_state is not None:
        check_same_shape(config_from_checkpoint(saved_state, out), config, out)
    return config


def resolve_data_path(args: argparse.Namespace, out: Path, resuming: bool) -> Path:
    """--data; else, on --resume, the text the run started on; else data/input.txt."""
    if args.data:
        return Path(args.data)
    if resuming and read_run_info(out).get("data"):
        return Path(read_run_info(out)["data"])
    return DEFAULT_DATA


def check_same_shape(saved: TrainConfig, config: TrainConfig, out: Path) -> None:
    """--resume must rebuild the same model: refuse a config that changes its shape."""
    for key in shape_keys(saved):
        old, new = getattr(saved, key), getattr(config, key)
        if old != new:
            raise UserError(
                f"--resume: the config changes {key} from {old!r} to {new!r}, which changes the "
                f"model's shape; resume with the run's own config (drop --{key.replace('_', '-')}"
                f" / --config) or start a new run with another --out"
            )


def make_tokenizer(config: TrainConfig, text: str, train_text: str) -> Tokenizer:
    if config.tokenizer == "char":
        return CharTokenizer.from_text(text)  # every character of the text, so val encodes too
    from learngpt.tokenizers.bpe import BPETokenizer

    return BPETokenizer.train(train_text, config.vocab_size)  # learnt from training text only


def encode_split(tokenizer: Tokenizer, text: str, data_path: Path) -> torch.Tensor:
    try:
        return encode(tokenizer, text)
    except UnknownCharactersError as exc:
        raise UserError(
            f"data file {data_path} has {exc}; resume with the run's own --data or start a new run"
        ) from None


def check_length(data: torch.Tensor, split: str, config: TrainConfig, path: Path) -> None:
    if len(data) < config.block_size + 1:
        raise UserError(
            f"data file {path} is too short: its {split} split has {len(data)} tokens, and "
            f"block_size {config.block_size} needs at least {config.block_size + 1}; use a "
            "longer text or a smaller --block-size (or change --train-ratio)"
        )


def clear_run(out: Path) -> None:
    """Forget an earlier run in `out` (only reached for a new run or with --overwrite)."""
    for name in ("latest.json", "best.json", LOG, PLOT):
        (out / name).unlink(missing_ok=True)
    checkpoint.remove_unused(out)


def rng_states(rngs: dict[str, torch.Generator]) -> dict[str, torch.Tensor]:
    """Every random generator the run draws from, as uint8 tensors."""
    states = {name: g.get_state() for name, g in rngs.items()}
    states["torch"] = torch.get_rng_state()  # dropout on CPU
    if torch.cuda.is_available():
        for i, state in enumerate(torch.cuda.get_rng_state_all()):
            states[f"cuda{i}"] = state
    return states


def restore_rng_states(rngs: dict[str, torch.Generator], states: dict[str, torch.Tensor]) -> None:
    try:
        for name, g in rngs.items():
            g.set_state(states[name])
        torch.set_rng_state(states["torch"])
        if torch.cuda.is_available():
            cuda = [states[k] for k in sorted(states) if k.startswith("cuda")]
            if len(cuda) == torch.cuda.device_count():
                torch.cuda.set_rng_state_all(cuda)
    except (KeyError, RuntimeError, TypeError) as exc:
        raise UserError(f"checkpoint random states are damaged ({exc}); retrain") from None


def read_log(out: Path) -> list[dict[str, Any]]:
    try:
        lines = (out / LOG).read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]
    except (OSError, ValueError):
        return []


class StopSignals:
    """While active, SIGINT (Ctrl-C) and SIGTERM ask the loop to stop after the current step.

    A second Ctrl-C stops at once (the previous checkpoint stays).
    """

    def __init__(self):
        self.signal: int | None = None
        self.previous: dict[int, Any] = {}

    def requested(self) -> bool:
        return self.signal is not None

    def _handle(self, signum, frame) -> None:
        if self.signal is not None and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.signal = signum
        tqdm.write("stopping after this step to save a checkpoint...", file=sys.stderr)

    def __enter__(self) -> StopSignals:
        if threading.current_thread() is not threading.main_thread():
            return self  # only the main thread may handle signals
        for signum in (signal.SIGINT, signal.SIGTERM):
            self.previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        for signum, handler in self.previous.items():
            signal.signal(signum, handler)


class Runner:
    """The train() hooks: progress bar, log.jsonl, loss plot and checkpoints."""

    def __init__(self, out, config, model, optimizer, rngs, records, saved_step, elapsed, best):
        self.out, self.config, self.model = out, config, model
        self.optimizer, self.rngs, self.records = optimizer, rngs, records
        self.bar: tqdm | None = None
        self.saved_step = saved_step  # the step of the latest checkpoint on disk (-1: none)
        self.best = math.inf if best is None else best  # the best val loss so far
        self.clock = time.perf_counter() - elapsed  # the run's time so far, across resumes
        self.last_plot = 0.0
        self.speed_mark = (time.perf_counter(), max(saved_step, 0))

    def on_step(self, step: int, loss: float, lr: float) -> None:
        self.bar.update(1)
        now = time.perf_counter()
        t0, step0 = self.speed_mark
        if now - t0 >= 0.5:  # refresh the numbers twice a second, not at every step
            tokens_per_s = (step - step0) * self.config.batch_size * self.config.block_size
            self.bar.set_postfix(
                loss=f"{loss:.3f}", lr=f"{lr:.2e}", tok_s=f"{tokens_per_s / (now - t0):.0f}"
            )
            self.speed_mark = (now, step)

    def on_eval(self, record: dict[str, Any]) -> None:
        self.records.append(record)
        tqdm.write(
            f"step {record['step']}: train loss {record['train_loss']:.4f}, "
            f"val loss {record['val_loss']:.4f}, lr {record['lr']:.2e}, "
            f"{record['tokens_per_s']:.0f} tokens/s"
        )
        lines = "".join(json.dumps(r) + "\n" for r in self.records)
        atomic_write_text(self.out / LOG, lines)
        if record["step"] > 0:
            is_best = record["val_loss"] < self.best
            self.best = min(self.best, record["val_loss"])
            self.save(record["step"], record["val_loss"], best=is_best)
        if time.perf_counter() - self.last_plot > 10:
            self.plot()

    def save(self, step: int, val_loss: float | None = None, best: bool = False) -> None:
        """Save a checkpoint after `step` steps; also as the best one if `best`."""
        if step == self.saved_step and val_loss is None:
            return  # this very state is already on disk
        info = {
            "step": step,
            "elapsed_s": round(time.perf_counter() - self.clock, 3),
            "val_loss": val_loss,
            "config": self.config.to_dict(),
        }
        try:
            checkpoint.save_checkpoint(
                self.out,
                self.model,
                self.optimizer,
                rng_states(self.rngs),
                info,
                ("latest", "best") if best else ("latest",),
            )
        except OSError as exc:
            problem = f"could not save a checkpoint in {self.out} ({exc.strerror or exc})"
            if self.saved_step < 0:
                raise UserError(f"{problem}; free some space and train again") from None
            raise UserError(
                f"{problem}; the previous checkpoint (step {self.saved_step}) is intact; free "
                f"some space, then resume with: learngpt train --out {self.out} --resume"
            ) from None
        self.saved_step = step

    def plot(self) -> None:
        if not self.records:
            return
        plot_losses(self.records, self.out / PLOT)
        self.last_plot = time.perf_counter()


def plot_losses(records: list[dict[str, Any]], path: Path) -> None:
    """The train and val loss estimates against the step, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = [r["step"] for r in records]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(steps, [r["train_loss"] for r in records], label="train")
    ax.plot(steps, [r["val_loss"] for r in records], label="val")
    ax.set_xlabel("step")
    ax.set_ylabel("loss (random-batch estimate)")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=100))
    plt.close(fig)
