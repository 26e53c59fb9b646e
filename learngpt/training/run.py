"""A training run: text -> tokenizer -> model -> checkpoints in a run directory, resumably.

`train(config, out=...)` is what `learngpt train` calls (and what a script may call):

    plan = check_run(...)                 every check, nothing written (RunPlan)
    tokenizer, splits = read_data(plan)   a text file's ids, or token files' (memory-mapped)
    state = build_state(...)              model, optimizer, generators; restored on --resume
    with claimed(plan, world):            rank 0 locks the run directory and writes from here on
        loop.run(state)                   with a Recorder's hooks: log, checkpoints, plot

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

import contextlib
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from learngpt.config import TrainConfig, load_config
from learngpt.config_edits import warn_config_edits
from learngpt.data import TokenSplits, get_batch, text_splits
from learngpt.device import cpu_has_fast_bf16, resolve_device, reuse_freed_cpu_memory
from learngpt.errors import ReportedElsewhere, UserError
from learngpt.model import GPT
from learngpt.resources import shakespeare_path
from learngpt.runlock import ANY
from learngpt.runs import LoadedRun, RunDir, build_model, load_run, shape_keys
from learngpt.token_files import check_same_tokens, is_token_dir, token_splits
from learngpt.tokenizers import CharTokenizer, Tokenizer
from learngpt.training import distributed, loop
from learngpt.training.distributed import World
from learngpt.training.loop import History
from learngpt.training.optim import build_optimizer
from learngpt.training.record import Recorder, StopSignals, restore_rng_states
from learngpt.training.schedule import lr_schedule
from learngpt.training.state import Clock, Hooks, TrainState

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


@dataclass
class RunPlan:
    """What train() checked before writing anything."""

    run_dir: RunDir
    config: TrainConfig
    data_path: Path
    resume: dict[str, Any] | None  # the manifest of the checkpoint to resume from
    init: LoadedRun | None  # the run to start from (--init-from)
    overwrite: bool = False

    @property
    def out(self) -> Path:
        return self.run_dir.path

    @property
    def expect_latest(self) -> str | None | object:
        """The checkpoint latest.json must still name when the run locks its directory."""
        if self.overwrite:
            return ANY  # whatever is there is replaced
        return self.resume["dir"] if self.resume else None


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
    run's own config), then `config_file`, then `overrides` (flat keys: n_layers=4). `data`
    defaults to the text the run started on (when resuming), else the shipped Shakespeare.
    Every problem is a UserError raised before anything is written to `out`. `init_from`: a run
    directory whose weights and tokenizer the new run starts from (its shape keys win).
    """
    plan = check_run(config, out, data, resume, overwrite, config_file, overrides, init_from)
    c = plan.config
    distributed.check_batch_split(
        c.batch_size, max(distributed.launched_world_size(), 1), c.grad_accum
    )
    with distributed.process_group(resolve_device(c.device)) as world:
        return run_training(plan, world)


def check_run(
    config: TrainConfig | None,
    out: str | Path,
    data: str | Path | None,
    resume: bool,
    overwrite: bool,
    config_file: str | Path | None,
    overrides: dict[str, Any] | None,
    init_from: str | Path | None = None,
) -> RunPlan:
    """train()'s checks, writing nothing: the run directory, the config, the data file's path,
    the checkpoint to resume from and the run to start from (--init-from)."""
    if resume and overwrite:
        raise UserError("--resume and --overwrite contradict each other; pass one of them")
    if resume and init_from:
        raise UserError("--resume continues a run, --init-from starts a new one; pass one of them")
    run_dir = RunDir(out)
    if init_from and Path(init_from).resolve() == run_dir.path.resolve():
        raise UserError("--init-from and --out are the same run; write the new run elsewhere")
    check_run_dir(run_dir, resume, overwrite)
    manifest = run_dir.manifest() if resume else None
    saved = run_dir.saved_config(manifest) if manifest else None
    init = load_run(init_from, which="best", device="cpu") if init_from else None
    config = resolve_config(config, config_file, overrides or {}, saved, init)
    data_path = resolve_data_path(data, run_dir, resume)
    if config.tokenizer == "gpt2" and not config.gpt2_dir and not (resume or init):
        # a new run builds GPT-2's tokenizer (a resumed or fine-tuned one keeps its own)
        raise UserError("--tokenizer gpt2 needs --gpt2-dir DIR (GPT-2's vocab.json, merges.txt)")
    if resume and is_token_dir(data_path):  # refused here, before --nproc starts any process
        check_same_tokens(data_path, run_dir.info(), run_dir.path)
    return RunPlan(run_dir, config, data_path, manifest, init, overwrite)


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
    if resume and run_dir.info().get("imported_from"):
        raise UserError(
            f"--resume: {out} was imported, not trained; fine-tune it into a new run with "
            f"--init-from {out} --out NEW_RUN"
        )


def run_training(plan: RunPlan, world: World) -> RunResult:
    """Train as `plan` says, in this process of `world`."""
    tokenizer, splits = read_data(plan)
    config = fit_to_machine(plan.config.with_vocab(tokenizer.vocab_size), world)
    if world.device.type == "cuda":  # ids in memory (a few MB) go there; token files stay on disk
        splits = splits.to(world.device)
    model = build_start_model(plan, config, world)
    state = build_state(plan, config, model, splits, world)
    if plan.resume and finished(config, state):
        history = History(step=state.step)
        return RunResult(plan.out, history, False, plan.run_dir.best(), True, world.is_main)
    with claimed(plan, world):
        if world.is_main:
            if plan.resume:  # --resume rewrites config.yaml: say so if it was edited
                warn_config_edits(plan.run_dir, plan.run_dir.saved_config(plan.resume))
            start_writing(plan, config, tokenizer, splits, world)
            say_start(plan, config, model, splits, world)
        history = run_loop(plan, config, model, state)
    best = plan.run_dir.best() if world.is_main else {}
    return RunResult(plan.out, history, history.stopped, best, is_main=world.is_main)


@contextlib.contextmanager
def claimed(plan: RunPlan, world: World) -> Iterator[None]:
    """Rank 0 claims the run directory (creates and locks it) for the block; every rank learns
    whether it did, so that none goes on alone into the loop to wait at its first collective
    for a rank 0 that has left. The others then end quietly (rank 0 says why)."""
    world.barrier()  # everything checked, on every rank (none reads while rank 0 writes)
    with contextlib.ExitStack() as stack:
        refusal: Exception | None = None
        if world.is_main:
            try:
                stack.enter_context(plan.run_dir.claim(plan.expect_latest))
            except Exception as exc:  # (re-raised below, once every rank knows)
                refusal = exc
        if world.all_max(float(refusal is not None))[0]:
            raise refusal or ReportedElsewhere("rank 0 could not claim the run directory")
        yield


def finished(config: TrainConfig, state: TrainState) -> bool:
    """Whether a resumed run has already spent its budget of steps or seconds."""
    return state.step >= config.max_iters or 0 < config.max_time <= state.clock.resumed


def read_data(plan: RunPlan) -> tuple[Tokenizer, TokenSplits]:
    """The run's tokenizer and token ids: the one place a run gets its training data.

    A text file is read, split by characters and encoded here; a token directory (`learngpt
    prepare`, or nanoGPT's) is read in place, memory-mapped (learngpt/token_files.py).
    """
    config = plan.config
    own = run_tokenizer(plan)
    if is_token_dir(plan.data_path):
        tokenizer, splits = token_splits(plan.data_path, config.gpt2_dir, own)
    else:

        def tokenizer_for(text: str, train_text: str) -> Tokenizer:
            return own if own is not None else make_tokenizer(config, text, train_text)

        tokenizer, splits = text_splits(plan.data_path, config.train_ratio, tokenizer_for)
    splits.check_length(config.block_size, plan.data_path)
    return tokenizer, splits


def run_tokenizer(plan: RunPlan) -> Tokenizer | None:
    """The tokenizer the run must keep: its own (--resume), its source's (--init-from), or
    None for a new run (the data's)."""
    if plan.resume:
        return plan.run_dir.tokenizer()
    return plan.init.tokenizer if plan.init else None


def fit_to_machine(config: TrainConfig, world: World) -> TrainConfig:
    """Set torch up for this device; float32 where the CPU has no fast bfloat16."""
    device = world.device
    if config.model.bf16 and device.type == "cpu" and not cpu_has_fast_bf16():
        if world.is_main:
            print("note: this CPU has no bfloat16 kernels; training in float32", file=sys.stderr)
        config = config.replace(bf16=False)
    if config.threads:
        torch.set_num_threads(config.threads)
    if device.type == "cpu":
        reuse_freed_cpu_memory()  # no page faults for each step's fresh tensors
    if device.type == "cuda":
        use_fast_cuda_math()
    return config


def build_start_model(plan: RunPlan, config: TrainConfig, world: World) -> GPT:
    """The model, seeded, with the --init-from run's weights if any, on the device."""
    torch.manual_seed(config.seed)
    model = build_model(config, config.model.vocab_size)
    if plan.init:
        model.load_state_dict(initial_weights(plan.init.model, config.block_size))
    model.to(world.device)
    distributed.seed_rank(world, config.seed)  # its own dropout masks on each rank
    return model


def build_state(
    plan: RunPlan, config: TrainConfig, model: GPT, splits: TokenSplits, world: World
) -> TrainState:
    """The loop's state: fresh, or restored from the checkpoint to resume from."""
    optimizer = build_optimizer(model, config)
    # the batches draw from their own generator (the estimates draw nothing: spread windows)
    batch_rng = torch.Generator().manual_seed(config.seed)
    step, elapsed = 0, 0.0
    if plan.resume:
        states = plan.run_dir.load_checkpoint(plan.resume, model, optimizer)
        restore_rng_states({"batch": batch_rng}, states)
        step, elapsed = int(plan.resume["step"]), float(plan.resume.get("elapsed_s", 0.0))
        distributed.restore_rank_state(world, states, config.seed, step)
    return TrainState(
        model=model,
        optimizer=optimizer,
        config=config,
        splits={"train": splits.train, "val": splits.val},
        batch_rng=batch_rng,
        lr_at=lr_schedule(config),
        grad_clip=config.grad_clip,
        grad_accum=config.grad_accum,
        max_time=config.max_time,
        step=step,
        clock=Clock(elapsed),
        world=world,
    )


def run_loop(plan: RunPlan, config: TrainConfig, model: GPT, state: TrainState) -> History:
    """loop.run(state) with the progress bar, the log, the checkpoints and the stop signals."""
    recorder = Recorder(plan.run_dir, config, model, state)
    if plan.resume:
        recorder.resume_from(plan.run_dir.log(), plan.run_dir.best().get("val_loss"))
    trainee = model
    if config.compile:  # compiled and warmed up here, inside the time budget (the clock)
        started = time.perf_counter()
        trainee = compile_model(model, state.splits["train"], config)
        state.clock = Clock(state.clock.resumed + time.perf_counter() - started)
    state.model = state.world.wrap(trainee)
    bar = tqdm(
        total=config.max_iters,
        initial=state.step,
        unit="step",
        disable=None if state.world.is_main else True,
        dynamic_ncols=True,
    )
    with StopSignals(state.world) as stop, bar:
        recorder.bar = bar
        state.hooks = Hooks(recorder.on_step, recorder.on_eval, stop.requested)
        history = loop.run(state)
        # still under StopSignals: a second Ctrl-C here ends the process cleanly, at once
        if state.world.is_main:
            recorder.plot()
        if history.stopped:
            recorder.save(history.step)
    state.hooks = Hooks()  # no cycle back to the recorder: the DDP model goes when the run does
    return history


def start_writing(
    plan: RunPlan, config: TrainConfig, tokenizer: Tokenizer, splits: TokenSplits, world: World
) -> None:
    """The run directory's files that say what this run is (rank 0, after every check)."""
    run_dir = plan.run_dir
    if not plan.resume:
        run_dir.clear()
        run_dir.save_tokenizer(tokenizer)
    run_dir.save_config(config)
    info = {**splits.source, **distributed_info(config, world)}
    if plan.init:
        info["init_from"] = str(Path(plan.init.run_dir).resolve())
    run_dir.save_info(info)


def say_start(plan: RunPlan, config: TrainConfig, model: GPT, splits: TokenSplits, world: World):
    start = f"resuming at step {plan.resume['step']}" if plan.resume else "training"
    print(
        f"{start}: {model.num_parameters() / 1e6:.2f}M parameters on {world.device}"
        f"{f' x {world.size} processes' if world.joined else ''}, "
        f"{len(splits.train)} training tokens, run directory {plan.out}",
        file=sys.stderr,
    )


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
    """`data`; else, on resume, the text the run started on; else the shipped Shakespeare."""
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


def initial_weights(source: GPT, block_size: int) -> dict[str, torch.Tensor]:
    """The source model's weights for a model with a context of block_size (<= the source's)."""
    weights = source.state_dict()
    if "position_embedding.weight" in weights:
        weights["position_embedding.weight"] = weights["position_embedding.weight"][:block_size]
    return weights


def make_tokenizer(config: TrainConfig, text: str, train_text: str) -> Tokenizer:
    if config.tokenizer == "char":
        return CharTokenizer.from_text(text)  # every character of the text, so val encodes too
    if config.tokenizer == "gpt2":
        from learngpt.prepare.vocab import gpt2_tokenizer  # (prepare imports tiktoken: lazily)

        return gpt2_tokenizer(config.gpt2_dir)
    from learngpt.tokenizers.bpe import BPETokenizer  # (its regex import is slow: only for bpe)

    return BPETokenizer.train(train_text, config.bpe_vocab_size)  # learnt from training text only
