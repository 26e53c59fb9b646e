"""`fit(plan)`: train as a Plan says (learngpt/training/plan.py), top to bottom.

    world = process_group(device)         this process's place among the training processes
    model, optimizer, state               seeded; --init-from's weights; --resume's checkpoint
    with claimed(plan, world):            rank 0 locks the run directory: writing starts here
        a text's token files              written into the run directory (rank 0), then read
        batches, estimate windows         the train split's resumable loader; fixed windows
        loop(...)                         lr, batch, forward/backward, clip, step, evaluation,
                                          log, checkpoint, stop: nanochat's base_train.py order

Exact resume: a checkpoint holds the weights, the optimizer's state, the batches' state and the
dropout generators' states after some step n. Resuming rebuilds everything from it and the loop
continues at step n as if it had never stopped: on CPU the final weights are the same as an
uninterrupted run's. With a time budget (max_time) the learning rate depends on the elapsed
time, which no run repeats exactly; the checkpoint keeps the time spent, and a resumed run
spends only what is left of the budget (raise --max-time to train longer).
"""

from __future__ import annotations

import contextlib
import math
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from learngpt.config import TrainConfig
from learngpt.config_edits import warn_config_edits
from learngpt.data import Batches, TokenData, get_batch, open_token_dir
from learngpt.errors import ReportedElsewhere, UserError
from learngpt.evaluate import Batch, batch_losses, eval_batches, mean_loss
from learngpt.model import GPT, build_optimizer
from learngpt.prepare.write import source_record, write_token_files
from learngpt.runs import ANY, build_model
from learngpt.training import distributed
from learngpt.training.distributed import World, gradient_sync, rank_rows
from learngpt.training.plan import DEFAULT_OUT, Plan, TrainRequest, plan_run
from learngpt.training.record import (
    Progress,
    StopSignals,
    dropout_states,
    log,
    plot,
    restore_dropout_states,
)
from learngpt.training.state import TrainState

SPLITS = ("train", "val")


@dataclass
class RunResult:
    """What a training run did: where, how far, and whether a stop signal ended it early."""

    out: Path
    step: int
    val_loss: float | None  # the last estimate's (None: none in this process)
    interrupted: bool
    best: dict[str, Any]  # the best checkpoint's manifest ({} if there is none)
    finished_before: bool = False  # --resume found the run already at its budget
    is_main: bool = True  # False on the training processes other than rank 0 (they say nothing)


@dataclass
class Fit:
    """What the loop trains with, built once, and where it is (`state`, plain data)."""

    plan: Plan
    config: TrainConfig
    world: World
    model: GPT  # the plain model, whose weights are saved
    trainee: nn.Module  # what steps: the model (maybe compiled), in DDP when joined
    evaluated: nn.Module  # what estimates: the trainee outside DDP (ranks run other windows)
    optimizer: torch.optim.Optimizer
    batches: Batches
    eval_windows: dict[str, list[Batch]]  # each split's estimate windows, the same every time
    state: TrainState


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
    """Train NanoGPT into the run directory `out`; return what happened (learngpt.train).

    The arguments are TrainRequest's; every problem is a UserError raised before anything is
    written to `out`.
    """
    request = TrainRequest(
        out, data, resume, overwrite, config_file, overrides or {}, init_from, config
    )
    return fit(plan_run(request))


def fit(plan: Plan) -> RunResult:
    """Train as `plan` says, in this process (one of several when torchrun started it)."""
    processes = max(distributed.launched_world_size(), 1)
    distributed.check_batch_split(plan.config.batch_size, processes, plan.config.grad_accum)
    with distributed.process_group(plan.device) as world:
        return fit_in(plan, world)  # (its DDP model is gone before the process group is)


def fit_in(plan: Plan, world: World) -> RunResult:
    """fit(), in this process of `world`: build, claim the run directory, write, loop."""
    out, config = plan.run_dir.path, fit_to_machine(plan.config, world)
    model, optimizer, state, saved = build(plan, config, world)  # (a checkpoint read is checked)
    if plan.finished:
        best = plan.run_dir.best()
        return RunResult(out, state.step, None, False, best, True, world.is_main)
    with claimed(plan, world):
        if world.is_main:
            write_data(plan)
        world.barrier()  # a text's token files are on disk before any rank reads them
        f = ready(plan, config, world, (model, optimizer, state), saved)
        if world.is_main:
            write_run_files(plan, config, world)
            say_start(plan, model, f.batches, world)
        with StopSignals(world) as stop:
            tokens_per_step = config.batch_size * config.block_size
            progress = Progress(config.max_iters, state.step, tokens_per_step, world.is_main)
            with contextlib.closing(progress):
                loop(f, stop, progress)
            # still under StopSignals: a second Ctrl-C here ends the process cleanly, at once
            if world.is_main:
                plot(plan.run_dir, state)
            if state.stopped:  # its checkpoint (every rank: their generators are gathered)
                save(f, None, distributed.gather_rank_states(world))
    last = state.records[-1]["val_loss"] if state.records else None
    best = plan.run_dir.best() if world.is_main else {}
    return RunResult(out, state.step, last, state.stopped, best, is_main=world.is_main)


# -- the machine, the model, the run directory ----------------------------------------------------


def fit_to_machine(config: TrainConfig, world: World) -> TrainConfig:
    """Set torch up for this device; float32 where the CPU has no fast bfloat16."""
    device = world.device
    if config.model.bf16 and device.type == "cpu" and not distributed.cpu_has_fast_bf16():
        if world.is_main:
            print("note: this CPU has no bfloat16 kernels; training in float32", file=sys.stderr)
        config = config.replace(bf16=False)
    if config.threads:
        torch.set_num_threads(config.threads)
    if device.type == "cpu":
        distributed.reuse_freed_cpu_memory()  # no page faults for each step's fresh tensors
    if device.type == "cuda":  # TF32 matmuls: float32's range, a 10-bit mantissa, much faster
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    return config


def build(
    plan: Plan, config: TrainConfig, world: World
) -> tuple[GPT, torch.optim.Optimizer, TrainState, dict[str, torch.Tensor]]:
    """The model (seeded; --init-from's weights), its optimizer and the loop's state: fresh, or
    as --resume's checkpoint left them; and that checkpoint's random states ({} if none)."""
    torch.manual_seed(config.seed)
    model = build_model(config, config.model.vocab_size)
    if plan.init:
        model.load_state_dict(initial_weights(plan.init.model, config.block_size))
    model.to(world.device)
    distributed.seed_rank(world, config.seed)  # its own dropout masks on each rank
    optimizer = build_optimizer(model, config)
    if not plan.resume:
        return model, optimizer, TrainState(), {}
    saved = plan.run_dir.load_checkpoint(plan.resume, model, optimizer)
    step, elapsed = int(plan.resume["step"]), float(plan.resume.get("elapsed_s", 0.0))
    restore_dropout_states(saved)
    distributed.restore_rank_state(world, saved, config.seed, step)
    best = plan.run_dir.best().get("val_loss")
    state = TrainState(
        step=step,
        started=time.perf_counter() - elapsed,
        best=float("inf") if best is None else best,
        saved_step=step,
        records=[r for r in plan.run_dir.log() if r["step"] <= step],  # the log so far
    )
    return model, optimizer, state, saved


def initial_weights(source: GPT, block_size: int) -> dict[str, torch.Tensor]:
    """The source model's weights for a model with a context of block_size (<= the source's)."""
    weights = source.state_dict()
    if "position_embedding.weight" in weights:
        weights["position_embedding.weight"] = weights["position_embedding.weight"][:block_size]
    return weights


@contextlib.contextmanager
def claimed(plan: Plan, world: World) -> Iterator[None]:
    """Rank 0 claims the run directory (creates and locks it) for the block; every rank learns
    whether it did, so that none goes on alone into the loop to wait at its first collective
    for a rank 0 that has left. The others then end quietly (rank 0 says why)."""
    world.barrier()  # everything checked, on every rank (none reads while rank 0 writes)
    # what latest.json must still name (another trainer may have changed it since the checks)
    expect_latest = ANY if plan.overwrite else plan.resume["dir"] if plan.resume else None
    with contextlib.ExitStack() as stack:
        refusal: Exception | None = None
        if world.is_main:
            try:
                stack.enter_context(plan.run_dir.claim(expect_latest))
            except Exception as exc:  # (re-raised below, once every rank knows)
                refusal = exc
        if world.all_max(float(refusal is not None))[0]:
            raise refusal or ReportedElsewhere("rank 0 could not claim the run directory")
        yield


def write_data(plan: Plan) -> None:
    """A new run forgets what `--out` held; a text run's ids become token files in it."""
    run_dir, data = plan.run_dir, plan.data
    if not plan.resume:
        run_dir.clear()
    text = data.text
    if text is not None:
        tokens = sum(len(ids) for ids in text.ids.values())
        path, sha256 = Path(text.source["data"]), text.source["data_sha256"]
        files = [source_record(path, text.size, sha256, tokens)]
        write_token_files(run_dir.path, data.tokenizer, text.ids, files, {"chars": text.chars})


def ready(
    plan: Plan,
    config: TrainConfig,
    world: World,
    built: tuple[GPT, torch.optim.Optimizer, TrainState],
    saved: dict[str, torch.Tensor],
) -> Fit:
    """The loop's pieces once the token files are there: the batches (where the checkpoint
    left them), the estimates' windows, the model compiled (inside the time budget) and in DDP."""
    model, optimizer, state = built
    tokens = open_token_dir(plan.data.folder, config.gpt2_dir)
    rows = rank_rows(config.batch_size, world)
    batches = Batches(tokens.train, config.batch_size, config.block_size, config.seed, rows)
    if saved:
        batches.load_state_dict(saved)
    B, T, n = config.batch_size, config.block_size, config.eval_iters
    windows = {name: eval_batches(tokens.split(name), B, T, n) for name in SPLITS}
    trainee: nn.Module = model
    if config.compile:  # compiled and warmed up here, inside the time budget (the clock)
        started = time.perf_counter()
        trainee = compile_model(model, tokens, config)
        state.started -= time.perf_counter() - started
    wrapped = world.wrap(trainee)
    return Fit(plan, config, world, model, wrapped, trainee, optimizer, batches, windows, state)


def compile_model(model: nn.Module, tokens: TokenData, config: TrainConfig) -> nn.Module:
    """torch.compile the model and compile both its graphs now (training and evaluation).

    Static shapes (dynamic=False): training and the estimates use the same (batch, block) shape,
    so nothing recompiles later (unless a split is too short for eval_iters full batches). The
    warm-up runs under fork_rng, and its gradients are dropped: it does not change the run.
    """
    compiled = torch.compile(model, dynamic=False)
    device = next(model.parameters()).device
    x, y = get_batch(tokens.train, config.batch_size, config.block_size, torch.Generator())
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


def write_run_files(plan: Plan, config: TrainConfig, world: World) -> None:
    """The files that say what this run is (rank 0): tokenizer, config.yaml, run.json."""
    run_dir = plan.run_dir
    if plan.resume:  # --resume rewrites config.yaml: say so if it was edited
        warn_config_edits(run_dir, run_dir.saved_config(plan.resume))
    elif plan.data.text is None:  # (a text run's tokenizer.json came with its token files)
        run_dir.save_tokenizer(plan.data.tokenizer)
    run_dir.save_config(config)
    info = {**plan.data.source, **distributed_info(config, world)}
    if plan.init:
        info["init_from"] = str(Path(plan.init.run_dir).resolve())
    run_dir.save_info(info)


def say_start(plan: Plan, model: GPT, batches: Batches, world: World) -> None:
    start = f"resuming at step {plan.resume['step']}" if plan.resume else "training"
    print(
        f"{start}: {model.num_parameters() / 1e6:.2f}M parameters on {world.device}"
        f"{f' x {world.size} processes' if world.joined else ''}, "
        f"{len(batches.data)} training tokens, run directory {plan.run_dir.path}",
        file=sys.stderr,
    )


def distributed_info(config: TrainConfig, world: World) -> dict[str, int]:
    """For run.json: how the global batch was split over processes and micro-steps."""
    return {
        "world_size": world.size,
        "grad_accum": config.grad_accum,
        "rows_per_rank": config.batch_size // (world.size * config.grad_accum),
    }


# -- the loop and its parts -----------------------------------------------------------------------


def loop(f: Fit, stop: StopSignals, progress: Progress) -> None:
    """Step until max_iters, a stop signal or the time budget, estimating the loss on the way.

    Everything between two steps depends only on the model, the optimizer, the batches and the
    generators, so saving those after step n and resuming from them continues exactly.
    """
    c, s, world = f.config, f.state, f.world
    lr_at = lr_schedule(c)
    lr = lr_at(s.step, time.perf_counter() - s.started)
    logged = s.step if f.plan.resume else -1  # a resumed run's log has its step's estimate
    while True:
        # the stop decision, agreed by every rank in one all-reduce: stop if any rank was asked
        # to; the slowest clock; no room for another step and the final estimate?
        now = time.perf_counter() - s.started
        asked, now, projected = world.all_max(stop.requested(), now, now + s.eval_seconds)
        last_step = s.step >= c.max_iters or 0 < c.max_time <= projected
        if (s.step % c.eval_interval == 0 or last_step) and s.step > logged:
            started = time.perf_counter()
            # evaluation: each rank's share of the windows, summed over the ranks (all-reduce)
            losses = {}
            for name, windows in f.eval_windows.items():
                share = batch_losses(f.evaluated, windows, world.rank, world.size)
                losses[name] = mean_loss(world.all_sum(share), windows)
            record = estimate_record(s, losses, lr, c)
            # the log: log.jsonl and a line (rank 0)
            if world.is_main:
                log(f.plan.run_dir, s, record)
            # the checkpoint (not of step 0): every rank's generators (an all-gather), saved
            if s.step > 0:
                save(f, losses["val"], distributed.gather_rank_states(world))
            s.train_seconds, s.steps_timed = 0.0, 0
            s.eval_seconds = time.perf_counter() - started
        if last_step or asked:
            s.stopped = bool(asked) and not last_step
            break
        t0 = time.perf_counter()
        # the learning rate of this step, on every param group (times its lr_scale: Muon's)
        lr = lr_at(s.step, now)
        for group in f.optimizer.param_groups:
            group["lr"] = lr * group.get("lr_scale", 1.0)
        # the batch: this rank's rows of the next global batch, (B/W, T)
        x, y = next(f.batches)
        # forward and backward, in grad_accum micro-steps (DDP all-reduces the gradients)
        f.optimizer.zero_grad(set_to_none=True)
        loss = forward_backward(f.trainee, x, y, c.grad_accum, world.device)
        # clip the gradient's global norm, then step
        if c.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(f.trainee.parameters(), c.grad_clip)
        f.optimizer.step()
        s.step += 1
        s.steps_timed += 1
        s.train_seconds += time.perf_counter() - t0
        progress.step(s.step, loss, lr)


def forward_backward(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, grad_accum: int, device: torch.device
) -> torch.Tensor:
    """This rank's rows of the batch (B/W, T) in grad_accum micro-steps of (B/(W*K), T), one
    backward each (their gradients add up to the whole batch's); their summed loss (a tensor).
    Under DDP the gradients are all-reduced in the last micro-step's backward only."""
    losses = []
    micro = zip(x.chunk(grad_accum), y.chunk(grad_accum), strict=True)
    for i, (xb, yb) in enumerate(micro):
        with gradient_sync(model, enabled=i == grad_accum - 1):
            _, loss = model(xb.to(device), yb.to(device))
            if grad_accum > 1:
                loss = loss / grad_accum  # the K gradients add up to the mean's
            loss.backward()
        losses.append(loss.detach())
    return sum(losses)


def estimate_record(
    s: TrainState, losses: dict[str, float], lr: float, c: TrainConfig
) -> dict[str, Any]:
    """log.jsonl's line for an estimate: the losses, the rate, the clock, the steps' speed."""
    tokens = s.steps_timed * c.batch_size * c.block_size
    speed = tokens / s.train_seconds if s.train_seconds else 0.0
    return {
        "step": s.step,
        "train_loss": losses["train"],
        "val_loss": losses["val"],
        "lr": lr,
        "elapsed_s": round(time.perf_counter() - s.started, 3),
        "tokens_per_s": round(speed, 1),
    }


def save(f: Fit, val_loss: float | None, rank_states: dict[str, torch.Tensor]) -> None:
    """A checkpoint after f.state.step (rank 0 writes it): weights, optimizer, the batches' and
    the generators' states (`rank_states`: the other ranks', gathered), and the best one too if
    `val_loss` is the lowest yet (None: a stop's save between estimates)."""
    s, run_dir = f.state, f.plan.run_dir
    if s.step == s.saved_step and val_loss is None:
        return  # this very state is already on disk
    best = val_loss is not None and val_loss < s.best
    s.best = val_loss if best else s.best
    info = {"step": s.step, "elapsed_s": round(time.perf_counter() - s.started, 3)}
    info |= {"val_loss": val_loss, "config": f.config.to_dict()}
    states = f.batches.state_dict() | dropout_states() | rank_states
    if f.world.is_main:
        try:
            run_dir.save_checkpoint(
                f.model, f.optimizer, states, info, ("latest", "best") if best else ("latest",)
            )
        except OSError as exc:
            raise save_failed(run_dir.path, s.saved_step, exc) from None
        if time.perf_counter() - s.last_plot > 10:  # the plot follows the checkpoints
            plot(run_dir, s)
    s.saved_step = s.step


def save_failed(out: Path, saved_step: int, exc: OSError) -> UserError:
    problem = f"could not save a checkpoint in {out} ({exc.strerror or exc})"
    if saved_step < 0:
        return UserError(f"{problem}; free some space and train again")
    return UserError(
        f"{problem}; the previous checkpoint (step {saved_step}) is intact; free "
        f"some space, then resume with: learngpt train --out {out} --resume"
    )


# -- the learning rate: linear warmup, then a decay whose shape is data ---------------------------
# The budget is max_iters steps, or, with a time budget (max_time > 0), max_time seconds,
# whichever is further spent; the decay follows that fraction. A shape maps it to the rate
# between the peak (learning_rate) and the floor (min_lr_ratio * learning_rate).


def cosine(peak: float, floor: float, progress: float, config: Any) -> float:
    """Half a cosine from the peak to the floor over the whole budget."""
    return floor + (peak - floor) * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))


def wsd(peak: float, floor: float, progress: float, config: Any) -> float:
    """Warmup-stable-decay (the speed-runs'): the peak, then linear to the floor over the last
    decay_ratio of the budget."""
    decay = min(1.0, max(0.0, (progress - 1 + config.decay_ratio) / config.decay_ratio))
    return peak - (peak - floor) * decay


# The shapes by config.lr_schedule's name (learngpt.config.LR_SCHEDULES names them).
SHAPES: dict[str, Callable[[float, float, float, Any], float]] = {
    "cosine": cosine,
    "wsd": wsd,
}


def lr_schedule(config: Any) -> Callable[[int, float], float]:
    """lr_at(step, elapsed_s): the learning rate of the next step, by config.lr_schedule."""
    peak, floor = config.learning_rate, config.learning_rate * config.min_lr_ratio
    shape = SHAPES[config.lr_schedule]

    def lr_at(step: int, elapsed: float) -> float:
        progress = step / config.max_iters
        if config.max_time > 0:
            progress = max(progress, elapsed / config.max_time)
        warmup = min(1.0, (step + 1) / (config.warmup_iters + 1))
        return shape(peak, floor, progress, config) * warmup

    return lr_at
