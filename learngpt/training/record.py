"""What a training run leaves behind as it goes: progress bar, log.jsonl, loss plot, checkpoints.

`Recorder` hears the loop (TrainState's hooks) and writes through the run's RunDir; every
training process has one (saving gathers their random states), rank 0's writes. `StopSignals`
turns Ctrl-C and SIGTERM into a stop request the loop sees before its next step.
"""

from __future__ import annotations

import math
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from learngpt.config import TrainConfig
from learngpt.errors import UserError
from learngpt.interrupts import exit_at_once
from learngpt.plots import pyplot, save_png
from learngpt.runs import PLOT, RunDir
from learngpt.training import distributed
from learngpt.training.distributed import World
from learngpt.training.state import TrainState


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


class Recorder:
    """The trainer's hooks: progress bar, log.jsonl, loss plot and checkpoints of `state`.

    `model` is the plain model (not compiled, not wrapped in DDP) whose weights are saved;
    `records` the log so far and `saved_step` the step of the checkpoint on disk (-1: none).
    """

    def __init__(self, run_dir: RunDir, config: TrainConfig, model, state: TrainState):
        self.run_dir, self.config, self.model, self.state = run_dir, config, model, state
        self.world = state.world
        self.records: list[dict[str, Any]] = []
        self.saved_step = -1
        self.best = math.inf  # the best val loss so far
        self.bar: tqdm | None = None
        self.last_plot = 0.0
        self.speed_mark = (time.perf_counter(), state.step)

    def resume_from(self, records: list[dict[str, Any]], best: float | None) -> None:
        """Continue the log and the best loss of the checkpoint at state.step."""
        self.records = [r for r in records if r["step"] <= self.state.step]
        self.saved_step = self.state.step
        self.best = math.inf if best is None else best

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
            self.run_dir.save_log(self.records)
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
            "elapsed_s": round(self.state.clock.elapsed(), 3),
            "val_loss": val_loss,
            "config": self.config.to_dict(),
        }
        states = rng_states({"batch": self.state.batch_rng})
        states |= distributed.gather_rank_states(self.world)
        if self.world.is_main:
            manifests = ("latest", "best") if best else ("latest",)
            try:
                self.run_dir.save_checkpoint(
                    self.model, self.state.optimizer, states, info, manifests
                )
            except OSError as exc:
                raise self.save_failed(exc) from None
        self.saved_step = step

    def save_failed(self, exc: OSError) -> UserError:
        out = self.run_dir
        problem = f"could not save a checkpoint in {out} ({exc.strerror or exc})"
        if self.saved_step < 0:
            return UserError(f"{problem}; free some space and train again")
        return UserError(
            f"{problem}; the previous checkpoint (step {self.saved_step}) is intact; free "
            f"some space, then resume with: learngpt train --out {out} --resume"
        )

    def plot(self) -> None:
        if not self.records:
            return
        plot_losses(self.records, self.run_dir.path / PLOT)
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
