"""The models a playground serves: trained runs (`--out`) and a learner's own course models.

Every model is a `Served` entry: a name, a status ("ready", "training", "not written yet",
"failed"), a module to generate with once ready, its tokenizer, its config and its loss curve.
Trained runs are ready at once. A learner's models (learngpt/web/workspace.py) start as
"training" and become ready when their short training ends.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import torch
from torch import nn

from learngpt.runs import RunDir, load_run
from learngpt.tokenizers import Tokenizer
from learngpt.web.i18n import Message, in_lang

READY, TRAINING, NOT_WRITTEN, FAILED = "ready", "training", "not written yet", "failed"


@dataclass
class LossCurve:
    """The loss estimates of a model's training, as log.jsonl records them."""

    steps: list[int] = field(default_factory=list)
    train: list[float] = field(default_factory=list)
    val: list[float] = field(default_factory=list)

    def add(self, record: dict[str, Any]) -> None:
        self.steps.append(record["step"])
        self.train.append(record["train_loss"])
        self.val.append(record["val_loss"])

    def to_dict(self) -> dict[str, list]:
        return {"steps": self.steps, "train": self.train, "val": self.val}


class CourseModel(nn.Module):
    """A course model as learngpt.engine.generate expects one: `config.block_size` and
    forward(idx, targets, last_only) -> (logits, loss), as learngpt.model.GPT's."""

    def __init__(self, model: nn.Module, block_size: int):
        super().__init__()
        self.model = model
        self.config = SimpleNamespace(block_size=block_size)

    def forward(
        self, idx: torch.Tensor, targets: torch.Tensor | None = None, last_only: bool = False
    ):
        logits, loss = self.model(idx, targets)  # (B, T, V)
        return (logits[:, -1:] if last_only else logits), loss


@dataclass
class Served:
    name: str
    kind: str  # "run" (a --out directory) or "workspace" (the learner's mygpt models)
    status: str
    tokenizer: Tokenizer | None = None
    model: nn.Module | None = None
    description: str | Message = ""
    detail: str | Message = ""  # why it is not ready, or the training progress
    config: dict[str, Any] = field(default_factory=dict)
    loss: LossCurve = field(default_factory=LossCurve)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def set_status(self, status: str, detail: str | Message = "") -> None:
        with self.lock:
            self.status, self.detail = status, detail

    def to_json(self, lang: str = "en") -> dict[str, Any]:
        """What /api/runs says about this model; its words in `lang`."""
        with self.lock:
            return {
                "name": self.name,
                "kind": self.kind,
                "status": self.status,
                "detail": in_lang(self.detail, lang),
                "description": in_lang(self.description, lang),
                "parameters": sum(p.numel() for p in self.model.parameters()) if self.model else 0,
                "config": self.config,
                "loss": self.loss.to_dict(),
            }


def run_entry(path: str | Path, name: str, device: str = "cpu") -> Served:
    """A trained run directory, loaded for generation (its best checkpoint)."""
    loaded = load_run(path, "best", device)
    loss = LossCurve()
    for record in RunDir(path).log():
        if "train_loss" in record and "val_loss" in record:
            loss.add(record)
    step, val = loaded.manifest.get("step"), loaded.manifest.get("val_loss")
    about = {"path": str(Path(path)), "which": loaded.which, "step": step}
    if isinstance(val, (int, float)):
        description = Message("web.models.run_val", {**about, "val": val})
    else:
        description = Message("web.models.run", about)
    return Served(
        name=name,
        kind="run",
        status=READY,
        tokenizer=loaded.tokenizer,
        model=loaded.model,
        description=description,
        config=loaded.config.flat(),
        loss=loss,
    )


def unique_names(paths: list[str | Path]) -> list[str]:
    """A short name per run directory: its own name, with a number where two would clash."""
    names: list[str] = []
    for path in paths:
        base = Path(path).resolve().name or "run"
        name, n = base, 2
        while name in names:
            name, n = f"{base}-{n}", n + 1
        names.append(name)
    return names
