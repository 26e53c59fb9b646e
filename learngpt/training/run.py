"""A training run: text -> tokenizer -> model -> checkpoints in a run directory, resumably.

`train(config, out=...)` is what `learngpt train` calls (and what a script may call). It
prepares the data, the model and the optimizer, runs the loop of learngpt/training/loop.py and
hooks in the progress bar, the log, the checkpoints and the stop signals.

Exact resume: a checkpoint holds the weights, the optimizer state and the states of the random
generators (batches, dropout) after some step n. Resuming rebuilds everything from it
and the loop continues at step n as if it had never stopped: on CPU the final weights are the
same as an uninterrupted run's. With a time budget (max_time) the learning rate depends on the
elapsed time, which no run repeats exactly; the checkpoint keeps the time spent, and a resumed
run spends only what is left of the budget (raise --max-time to train longer).

Fine-tuning (`init_from`): a new run starts from another run's weights and tokenizer (one that
`learngpt import-hf` made from GPT-2, say) on a new text; the model's shape is that run's.
"""

from __future__ import annotations

import json
import math
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from learngpt import checkpoint
from learngpt.config import TrainConfig, load_config
from learngpt.config_edits import warn_config_edits
from learngpt.data import encode, get_batch, load_text, split_text
from learngpt.device import cpu_has_fast_bf16, resolve_device, reuse_freed_cpu_memory
from learngpt.errors import UserError
from learngpt.fileio import atomic_write_text, read_text
from learngpt.interrupts import exit_at_once
from learngpt.model import GPT
from learngpt.plots import pyplot, save_png
from learngpt.resources import shakespeare_path
from learngpt.runlock import ANY, RunLock, check_free
from learngpt.runs import (
    LOG,
    PLOT,
    TOKENIZER,
    LoadedRun,
    build_model,
    config_from_checkpoint,
    load_run,
    load_tokenizer,
    prepare_out_dir,
    read_run_info,
    save_config,
    save_run_info,
    shape_keys,
)
from learngpt.tokenizers import CharTokenizer, Tokenizer, UnknownCharactersError
from learngpt.training import distributed
from learngpt.training.distributed import World
from learngpt.training.loop import History, lr_schedule, train_model
from learngpt.training.optim import build_optimizer

DEFAULT_OUT = Path("runs") / "shakespeare_char"


@dataclass
class RunResult:
    """What a training run did: where, how far, and whether a stop signal ended it early."""

    out: Path
    history: History
    interrupted: bool
    best: dict[str, Any]  # the best checkpoint's manifest ({} if there is none)
    finished_before: bool = False  # --resume found the run already at its budget
    is_main: bool = True  # False on the training processes other than rank 0 (they say nothing)


def train(
    config: TrainConfig | None = None,
    *,
    out: str | Path = DEFAULT_OUT,
    data: str | Path | None = None,
    resume: bool = False,
    overwrite: bool = False,
    config_file: str | Path | None = None,
    overrides: dict[str, Any] | None = None,
    init_from: str | Path | None = None,
) -> RunResult:
    """Train NanoGPT into the run directory `out`; return what happened.

    The config is built in layers: `config` (default: TrainConfig's defaults, or on `resume` the
    run's own config), then `config_file`, then `overrides`. `data` defaults to the text the run
    started on (when resuming), else the shipped Shakespeare. Every problem is a UserError raised
    before anything is written to `out`. `init_from`: a run directory whose weights and tokenizer
    the new run starts from (its shape keys override the config's).
    """
    out, config, data_path, manifest, init = check_run(
        config, out, data, resume, overwrite, config_file, overrides, init_from
    )
    distributed.check_batch_split(
        config.batch_size, max(distributed.launched_world_size(), 1), config.grad_accum
    )
    # the run directory's lock (rank 0 takes it in _train, once everything is checked)
    lock = RunLock(out, expect_latest=ANY if overwrite else manifest and manifest["dir"])
    with distributed.process_group(resolve_device(config.device)) as world, lock:
        return _train(out, config, data_path, manifest, world, init, lock)


def check_run(
    config: TrainConfig | None,
    out: str | Path,
    data: str | Path | None,
    resume: bool,
    overwrite: bool,
    config_file: str | Path | None,
    overrides: dict[str, Any] | None,
    init_from: str | Path | None = None,
) -> tuple[Path, TrainConfig, Path, dict | None, LoadedRun | None]:
    """train()'s checks, writing nothing: the run directory, the config, the data file's path,
    the manifest of the checkpoint to resume from (None for a new run) and the run to start
    from (--init-from)."""
    if resume and overwrite:
        raise UserError("--resume and --overwrite contradict each other; pass one of them")
    check_free(out)  # another trainer in `out`: say so before reading it
    if resume and init_from:
        raise UserError("--resume continues a run, --init-from starts a new one; pass one of them")
    out = Path(out)
    if init_from and Path(init_from).resolve() == out.resolve():
        raise UserError("--init-from and --out are the same run; write the new run elsewhere")
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out} is a file, not a directory; choose a directory path")
    has_run = checkpoint.has_checkpoint(out)
    if resume and not has_run:
        raise UserError(
            f"--resume: no checkpoint in {out} to resume from; drop --resume to start a new run"
        )
    if has_run and not (resume or overwrite):
        step = checkpoint.read_manifest(out).get("step", "?")
        raise UserError(
            f"{out} already holds a run (checkpoint at step {step}); continue it with --resume, "
            "or start afresh with --overwrite or another --out"
        )
    if resume and read_run_info(out).get("imported_from"):
        raise UserError(
            f"--resume: {out} was imported, not trained; fine-tune it into a new run with "
            f"--init-from {out} --out NEW_RUN"
        )
    manifest = checkpoint.read_manifest(out) if resume else None
    saved_state = checkpoint.read_state(out, manifest) if manifest else None
    init = load_run(init_from, which="best", device="cpu") if init_from else None
    config = resolve_config(config, config_file, overrides or {}, out, saved_state, init)
    if saved_state:
        warn_config_edits(out, saved_state)  # --resume rewrites config.yaml: say so
    data_path = resolve_data_path(data, out, resume)
    return out, config, data_path, manifest, init


def _train(
    out: Path,
    config: TrainConfig,
    data_path: Path,
    resume: dict | None,
    world: World,
    init: LoadedRun | None = None,
    lock: RunLock | None = None,
) -> RunResult:
    # the text, split by characters, and the tokenizer
    text = load_text(data_path)
    train_text, val_text = split_text(text, config.train_ratio)
    if resume:
        tokenizer = load_tokenizer(out)
    else:
        tokenizer = init.tokenizer if init else make_tokenizer(config, text, train_text)
    train_data = encode_split(tokenizer, train_text, data_path)
    val_data = encode_split(tokenizer, val_text, data_path)
    check_length(train_data, "training", config, data_path)
    check_length(val_data, "validation", config, data_path)

    # the model and optimizer, fresh or from the latest checkpoint
    device = world.device
    if config.bf16 and device.type == "cpu" and not cpu_has_fast_bf16():
        if world.is_main:
            print("note: this CPU has no bfloat16 kernels; training in float32", file=sys.stderr)
        config = config.replace(bf16=False)
    if config.threads:
        torch.set_num_threads(config.threads)
    if device.type == "cpu":
        reuse_freed_cpu_memory()  # no page faults for each step's fresh tensors
    if device.type == "cuda":
        use_fast_cuda_math()
        # 1M tokens are a few MB: on the GPU, batches are gathered there with no copy per step
        train_data, val_data = train_data.to(device), val_data.to(device)
    torch.manual_seed(config.seed)
    model = build_model(config, tokenizer.vocab_size)
    if init:
        model.load_state_dict(initial_weights(init.model, config.block_size))
    model.to(device)
    distributed.seed_rank(world, config.seed)  # its own dropout masks on each rank
    optimizer = build_optimizer(model, config)
    # the batches draw from their own generator (the estimates draw nothing: spread_eval below)
    rngs = {"batch": torch.Generator().manual_seed(config.seed)}
    start_step, elapsed = 0, 0.0
    if resume:
        checkpoint.load_weights(out, resume, model)
        states = checkpoint.load_train_state(out, resume, optimizer)
        restore_rng_states(rngs, states)
        start_step, elapsed = int(resume["step"]), float(resume.get("elapsed_s", 0.0))
        distributed.restore_rank_state(world, states, config.seed, start_step)
        if start_step >= config.max_iters or 0 < config.max_time <= elapsed:
            history = History(step=start_step)
            best = best_manifest(out)
            return RunResult(out, history, False, best, True, is_main=world.is_main)

    # everything checked (on every rank: none reads while rank 0 writes): only now write
    if world.is_main:
        prepare_out_dir(out)
        if lock:
            lock.acquire()  # one trainer per run directory, until this one ends
    world.barrier()
    if world.is_main:
        if not resume:
            clear_run(out)
            tokenizer.save(out / TOKENIZER)
        save_config(out, config)
        save_run_info(
            out,
            data_path,
            text,
            **distributed_info(config, world),
            **({"init_from": str(Path(init.run_dir).resolve())} if init else {}),
        )
        print(
            f"{'resuming at step ' + str(start_step) if resume else 'training'}: "
            f"{model.num_parameters() / 1e6:.2f}M parameters on {device}"
            f"{f' x {world.size} processes' if world.joined else ''}, "
            f"{len(train_data)} training tokens, run directory {out}",
            file=sys.stderr,
        )
    records = [r for r in read_log(out) if r["step"] <= start_step] if resume else []
    best = best_manifest(out).get("val_loss") if resume else None
    saved_step = start_step if resume else -1
    runner = Runner(out, config, model, optimizer, rngs, records, saved_step, elapsed, best, world)
    compiled = model
    if config.compile:  # compiled and warmed up here, inside the time budget (elapsed)
        started = time.perf_counter()
        compiled = compile_model(model, train_data, config)
        elapsed += time.perf_counter() - started
    trainee = world.wrap(compiled)
    with (
        StopSignals(world) as stop,
        tqdm(
            total=config.max_iters,
            initial=start_step,
            unit="step",
            disable=None if world.is_main else True,
            dynamic_ncols=True,
        ) as bar,
    ):
        runner.bar = bar
        history = train_model(
            trainee,
            train_data,
            val_data,
            config,
            optimizer=optimizer,
            lr_at=lr_schedule(config),
            grad_clip=config.grad_clip,
            max_time=config.max_time,
            start_step=start_step,
            elapsed=elapsed,
            batch_rng=rngs["batch"],
            on_step=runner.on_step,
            on_eval=runner.on_eval,
            should_stop=stop.requested,
            grad_accum=config.grad_accum,
            world=world,
            spread_eval=True,  # they choose the best checkpoint: not by the luck of the draw
        )
        # still under StopSignals: a second Ctrl-C here ends the process cleanly, at once
        if world.is_main:
            runner.plot()
        if history.stopped:
            runner.save(history.step)
    best = best_manifest(out) if world.is_main else {}
    return RunResult(out, history, history.stopped, best, is_main=world.is_main)


def distributed_info(config: TrainConfig, world: World) -> dict[str, int]:
    """For run.json: how the global batch was split over processes and micro-steps."""
    return {
        "world_size": world.size,
        "grad_accum": config.grad_accum,
        "rows_per_rank": config.batch_size // (world.size * config.grad_accum),
    }


def use_fast_cuda_math() -> None:
    """TF32 matmuls and convolutions on CUDA: float32 range, 10-bit mantissa, much faster."""
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True


def compile_model(model: torch.nn.Module, train_data: torch.Tensor, config: TrainConfig):
    """torch.compile the model and compile both its graphs now (training and evaluation).

    Static shapes (dynamic=False): training and the estimates use the same (batch, block) shape,
    so nothing recompiles later (unless a split is too short for eval_iters full batches). The
    warm-up runs under fork_rng, and its gradients are dropped: it does not change the run.
    """
    compiled = torch.compile(model, dynamic=False)
    device = next(model.parameters()).device
    x, y = get_batch(train_data, config.batch_size, config.block_size, torch.Generator())
    x, y = x.to(device), y.to(device)
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        compiled.train()
        compiled(x, y)[1].backward()
        model.zero_grad(set_to_none=True)
        compiled.eval()
        with torch.no_grad():
            compiled(x, y)
        compiled.train()
    return compiled


def best_manifest(out: Path) -> dict[str, Any]:
    return checkpoint.read_manifest(out, "best") if checkpoint.has_checkpoint(out, "best") else {}


def resolve_config(
    config: TrainConfig | None,
    config_file: str | Path | None,
    overrides: dict[str, Any],
    out: Path,
    saved_state: dict | None,
    init: LoadedRun | None = None,
) -> TrainConfig:
    """The defaults (or the run's own config on --resume) < the config file < the overrides.

    With `init` (--init-from), the model's shape keys are the source run's, over all of those.
    """
    if config_file is not None:
        base = load_config(config_file, TrainConfig)
    elif config is not None:
        base = config
    elif saved_state is not None:
        base = config_from_checkpoint(saved_state, out)
    else:
        base = TrainConfig()
    if init is not None:
        base = base.replace(**{key: getattr(init.config, key) for key in shape_keys(init.config)})
    config = base.replace(**overrides)
    if saved_state is not None:
        check_same_shape(config_from_checkpoint(saved_state, out), config)
    if init is not None:
        check_same_shape(init.config, config, "--init-from")
    return config


def resolve_data_path(data: str | Path | None, out: Path, resuming: bool) -> Path:
    """`data`; else, on resume, the text the run started on; else the shipped Shakespeare."""
    if data:
        return Path(data)
    if resuming and read_run_info(out).get("data"):
        return Path(read_run_info(out)["data"])
    return shakespeare_path()


def check_same_shape(saved: TrainConfig, config: TrainConfig, flag: str = "--resume") -> None:
    """--resume must rebuild the same model, --init-from the source run's (with a context as
    long or shorter): refuse a config that changes its shape."""
    for key in shape_keys(saved):
        old, new = getattr(saved, key), getattr(config, key)
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


def initial_weights(source: GPT, block_size: int) -> dict[str, torch.Tensor]:
    """The source model's weights for a model with a context of block_size (<= the source's)."""
    weights = source.state_dict()
    if "position_embedding.weight" in weights:
        weights["position_embedding.weight"] = weights["position_embedding.weight"][:block_size]
    return weights


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
            f"data file {data_path} has {exc}; the tokenizer of the run this one continues "
            "(--resume, --init-from) cannot encode them: use a text it knows or start a new run"
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
        lines = read_text(out / LOG, "log file").splitlines()
        return [json.loads(line) for line in lines if line.strip()]
    except (OSError, ValueError, UserError):
        return []


class StopSignals:
    """While active, SIGINT (Ctrl-C) and SIGTERM ask the loop to stop after the current step.

    A second Ctrl-C stops at once (the previous checkpoint stays), except in a process that
    torchrun started: torchrun forwards the signal, and ends a process that takes too long.
    """

    def __init__(self, world: World = distributed.ONE_PROCESS):
        self.world = world
        self.signal: int | None = None
        self.previous: dict[int, Any] = {}

    def requested(self) -> bool:
        return self.signal is not None

    def _handle(self, signum, frame) -> None:
        if self.signal is not None:
            if signum == signal.SIGINT and not self.world.joined:
                exit_at_once()  # (a save in progress finishes first: learngpt/interrupts.py)
            return
        self.signal = signum
        if self.world.is_main:
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
    """The train() hooks: progress bar, log.jsonl, loss plot and checkpoints.

    Every training process has one (saving gathers their random states), rank 0's writes.
    """

    def __init__(
        self, out, config, model, optimizer, rngs, records, saved_step, elapsed, best, world
    ):
        self.out, self.config, self.model, self.world = out, config, model, world
        self.optimizer, self.rngs, self.records = optimizer, rngs, records
        self.bar: tqdm | None = None
        self.saved_step = saved_step  # the step of the latest checkpoint on disk (-1: none)
        self.best = math.inf if best is None else best  # the best val loss so far
        self.clock = time.perf_counter() - elapsed  # the run's time so far, across resumes
        self.last_plot = 0.0
        self.speed_mark = (time.perf_counter(), max(saved_step, 0))

    def on_step(self, step: int, loss: torch.Tensor, lr: float) -> None:
        self.bar.update(1)
        now = time.perf_counter()
        t0, step0 = self.speed_mark
        if now - t0 >= 0.5:  # refresh the numbers twice a second, not at every step
            tokens_per_s = (step - step0) * self.config.batch_size * self.config.block_size
            self.bar.set_postfix(
                loss=f"{loss.item():.3f}", lr=f"{lr:.2e}", tok_s=f"{tokens_per_s / (now - t0):.0f}"
            )
            self.speed_mark = (now, step)

    def on_eval(self, record: dict[str, Any]) -> None:
        if self.world.is_main:
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
        if self.world.is_main and time.perf_counter() - self.last_plot > 10:
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
        states = rng_states(self.rngs) | distributed.gather_rank_states(self.world)
        if not self.world.is_main:
            self.saved_step = step
            return
        try:
            checkpoint.save_checkpoint(
                self.out,
                self.model,
                self.optimizer,
                states,
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
    steps = [r["step"] for r in records]
    fig, ax = pyplot().subplots(figsize=(6, 4))
    ax.plot(steps, [r["train_loss"] for r in records], label="train")
    ax.plot(steps, [r["val_loss"] for r in records], label="val")
    ax.set_xlabel("step")
    ax.set_ylabel("loss (estimate on fixed windows)")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    save_png(fig, path, dpi=100)
