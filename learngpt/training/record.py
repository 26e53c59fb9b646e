"""What a training run leaves behind as it goes: progress bar, log.jsonl, loss plot, checkpoints;
and how it is asked to stop.

learngpt/training/fit.py's loop calls these in the open: `log` (rank 0) after each estimate,
`plot` with the checkpoints, `Progress.step` after each step; a checkpoint holds
`dropout_states()`. `StopSignals` turns Ctrl-C and SIGTERM into a stop request the loop reads (and
agrees on with every rank) before its next step.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from learngpt.errors import UserError
from learngpt.interrupts import exit_at_once
from learngpt.plots import pyplot, save_png
from learngpt.runs import PLOT, RunDir
from learngpt.training.distributed import ONE_PROCESS, World
from learngpt.training.state import TrainState


def dropout_states() -> dict[str, torch.Tensor]:
    """This process's torch generators, which dropout draws from, as uint8 tensors."""
    states = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        for i, state in enumerate(torch.cuda.get_rng_state_all()):
            states[f"cuda{i}"] = state
    return states


def restore_dropout_states(states: dict[str, torch.Tensor]) -> None:
    try:
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

    def __init__(self, world: World = ONE_PROCESS):
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


class Progress:
    """The progress bar (if `shown`: rank 0's): a tick per step of `total`; the loss, the rate and
    the speed twice a second."""

    def __init__(self, total: int, step: int, tokens_per_step: int, shown: bool):
        self.tokens_per_step = tokens_per_step
        self.bar = tqdm(
            total=total,
            initial=step,
            unit="step",
            disable=None if shown else True,
            dynamic_ncols=True,
        )
        self.mark = (time.perf_counter(), step)

    def step(self, step: int, loss: torch.Tensor, lr: float) -> None:
        """After a step; `loss` is read (a wait for the device) only when the numbers change."""
        self.bar.update(1)
        now = time.perf_counter()
        t0, step0 = self.mark
        if now - t0 >= 0.5:
            speed = (step - step0) * self.tokens_per_step / (now - t0)
            self.bar.set_postfix(loss=f"{loss.item():.3f}", lr=f"{lr:.2e}", tok_s=f"{speed:.0f}")
            self.mark = (now, step)

    def close(self) -> None:
        self.bar.close()


def log(run_dir: RunDir, state: TrainState, record: dict[str, Any]) -> None:
    """An estimate into log.jsonl and onto the terminal (rank 0)."""
    state.records.append(record)
    tqdm.write(
        f"step {record['step']}: train loss {record['train_loss']:.4f}, "
        f"val loss {record['val_loss']:.4f}, lr {record['lr']:.2e}, "
        f"{record['tokens_per_s']:.0f} tokens/s"
    )
    run_dir.save_log(state.records)


def plot(run_dir: RunDir, state: TrainState) -> None:
    if state.records:
        plot_losses(state.records, run_dir.path / PLOT)
        state.last_plot = time.perf_counter()


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
