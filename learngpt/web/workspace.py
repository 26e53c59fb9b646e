"""The learner's own models: the course's steps built from `DIR/mygpt` (`learngpt course start`).

Each step of the course gives a model: the bigram table, then the averaging head, self-attention,
positions, several heads, blocks, layer norm and dropout. The ones whose code the learner has
written are built with the course's set-up (learngpt/assets/configs/course.yaml), trained
briefly one after another in a background thread, and then served like any run. A step whose
code still raises NotImplementedError (a TODO) is shown as "not written yet".
"""

from __future__ import annotations

import importlib
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from learngpt.config import CourseConfig, load_config
from learngpt.data import encode_splits, load_text
from learngpt.errors import UserError
from learngpt.exercises.workspace import lang_of
from learngpt.resources import course_config_path, shakespeare_path
from learngpt.tokenizers import CharTokenizer
from learngpt.training.loop import Hooks, train_model
from learngpt.web.i18n import Message
from learngpt.web.models import FAILED, NOT_WRITTEN, READY, TRAINING, CourseModel, Served

PACKAGE = "mygpt"


def part(module: str, name: str):
    """Class `name` of the learner's mygpt/<module>.py."""
    return getattr(importlib.import_module(f"{PACKAGE}.{module}"), name)


def average(c: CourseConfig) -> nn.Module:
    return part("head_v3", "HeadVer3")()


def head(c: CourseConfig) -> nn.Module:
    """The learner's HeadVer4, one head as wide as the embedding."""
    return part("head_v4", "HeadVer4")(c.block_size, c.embed_size, c.embed_size)


def multi_head(c: CourseConfig) -> nn.Module:
    return part("multi_head_v2", "MultiHeadVer2")(c.block_size, c.embed_size, c.n_heads)


def blocks(version: int) -> Callable[[CourseConfig], nn.Module]:
    """n_layers of the learner's BlockVer<version>, each around a MultiHeadVer2."""

    def build(c: CourseConfig) -> nn.Module:
        Block = part(f"block_v{version}", f"BlockVer{version}")
        extra = (c.dropout,) if version == 4 else ()  # BlockVer4 adds dropout
        return nn.Sequential(
            *(Block(multi_head(c), c.embed_size, *extra) for _ in range(c.n_layers))
        )

    return build


@dataclass
class Step:
    name: str
    description: Message
    gpt: str  # the GPTVer<gpt> class the step's model is, in mygpt/gpt_v<gpt>.py
    contextualizer: Callable[[CourseConfig], nn.Module] | None  # GPTVer1 has none

    def build(self, vocab_size: int, c: CourseConfig) -> nn.Module:
        cls = part(f"gpt_v{self.gpt}", f"GPTVer{self.gpt}")
        if self.contextualizer is None:
            return cls(vocab_size, c.block_size)
        return cls(self.contextualizer(c), vocab_size, c.block_size, c.embed_size)


# one model per idea the course adds, in the course's order
STEPS = [
    Step("step 1 bigram", Message("web.models.bigram"), "1", None),
    Step("step 4 average", Message("web.models.average"), "2", average),
    Step("step 5 attention", Message("web.models.attention"), "2", head),
    Step("step 6 positions", Message("web.models.positions"), "3", head),
    Step("step 7 multi-head", Message("web.models.multi_head"), "4", multi_head),
    Step("step 8 blocks", Message("web.models.blocks"), "4", blocks(2)),
    Step("step 9 layer norm", Message("web.models.layer_norm"), "4", blocks(3)),
    Step("step 10 dropout", Message("web.models.dropout"), "4", blocks(4)),
]


def import_workspace(directory: Path) -> None:
    """Make `import mygpt` find DIR/mygpt (and forget any mygpt imported before)."""
    if not (directory / PACKAGE / "__init__.py").is_file():
        raise UserError(
            f"--workspace {directory} has no {PACKAGE}/ package; "
            f"create one with: learngpt course start {directory}"
        )
    for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
        del sys.modules[name]
    importlib.invalidate_caches()
    sys.path.insert(0, str(directory.resolve()))


def build_step(
    step: Step, vocab_size: int, config: CourseConfig
) -> tuple[nn.Module | None, str, str | Message]:
    """(model, status, detail): the model if the learner's code builds and runs, else why not."""
    try:
        model = CourseModel(step.build(vocab_size, config), config.block_size)
        model(torch.zeros(1, 2, dtype=torch.long))  # the TODOs raise here, in forward
    except NotImplementedError as exc:
        if not str(exc):
            return None, NOT_WRITTEN, Message("web.models.todo_left")
        return None, NOT_WRITTEN, str(exc).splitlines()[0]  # the stub's words, in its language
    except Exception as exc:  # the learner's code may fail in any way: show it, keep serving
        return None, FAILED, f"{type(exc).__name__}: {exc}"
    return model, TRAINING, Message("web.models.waiting")


class Workspace:
    """The learner's models and the thread that trains them at start-up."""

    def __init__(self, directory: str | Path, steps: int = 300, seed: int = 0):
        directory = Path(directory)
        if not directory.is_dir():
            raise UserError(
                f"--workspace {directory} is not a directory; "
                f"create a workspace with: learngpt course start {directory}"
            )
        import_workspace(directory)
        self.lang = lang_of(directory)  # the page speaks it (learngpt/web/i18n.py)
        self.steps = steps
        text = load_text(shakespeare_path())
        self.tokenizer = CharTokenizer.from_text(text)
        base = load_config(course_config_path())
        # a short run: a handful of loss estimates on a few batches each
        self.config = base.replace(
            max_iters=steps, eval_interval=max(1, steps // 4), eval_iters=5, seed=seed
        )
        self.splits = encode_splits(text, self.tokenizer, self.config.train_ratio)
        self.entries: list[Served] = []
        for step in STEPS:
            torch.manual_seed(seed)
            model, status, detail = build_step(step, self.tokenizer.vocab_size, self.config)
            self.entries.append(
                Served(
                    name=f"mygpt {step.name}",
                    kind="workspace",
                    status=status,
                    tokenizer=self.tokenizer,
                    model=model,
                    description=step.description,
                    detail=detail,
                    config=self.config.to_dict(),
                )
            )
        self.stop = threading.Event()
        self.thread = threading.Thread(
            target=self.train_all, name="workspace-training", daemon=True
        )

    def start(self) -> None:
        self.thread.start()

    def train_all(self) -> None:
        for entry in self.entries:
            if entry.status == TRAINING and not self.stop.is_set():
                self.train_one(entry)

    def train_one(self, entry: Served) -> None:
        def on_step(step: int, loss: float, lr: float) -> None:
            progress = {"step": step, "steps": self.steps, "loss": loss}
            entry.set_status(TRAINING, Message("web.models.training", progress))

        def on_eval(record: dict) -> None:
            with entry.lock:
                entry.loss.add(record)

        try:
            torch.manual_seed(self.config.seed)
            train_model(
                entry.model,
                *self.splits,
                self.config,
                Hooks(on_step=on_step, on_eval=on_eval, should_stop=self.stop.is_set),
            )
            entry.model.eval()
            entry.set_status(READY, Message("web.models.trained", {"steps": self.steps}))
        except Exception as exc:  # e.g. a learner's forward that fails on a full batch
            entry.model = None
            entry.set_status(FAILED, f"{type(exc).__name__}: {exc}")
