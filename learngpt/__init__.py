"""learnGPT: build a GPT step by step (the course), then train one on a laptop CPU.

The public API, for scripts and notebooks:

    import learngpt
    result = learngpt.train(learngpt.TrainConfig(max_iters=200), out="runs/mine")
    run = learngpt.load_run("runs/mine")          # run.model, run.tokenizer, run.config
    ids = learngpt.generate(run.model, prompt_ids, 100)

and the course's classes (learngpt.GPTVer1 ... learngpt.NanoGPT), the tokenizers and configs.
Each name is imported when it is first used, so that `learngpt train` (which imports this
package first) loads only what training needs, not the course.
"""

from __future__ import annotations

import importlib
from typing import Any

# each public name and the module it comes from (the course's classes: learngpt.course)
_HOMES = {
    "BPETokenizer": "learngpt.tokenizers",
    "CharTokenizer": "learngpt.tokenizers",
    "CourseConfig": "learngpt.config",
    "GPT": "learngpt.model",
    "GPTConfig": "learngpt.model",
    "TrainConfig": "learngpt.config",
    "UserError": "learngpt.errors",
    "generate": "learngpt.engine",  # (the module is not called generate: its name would shadow)
    "load_config": "learngpt.config",
    "load_run": "learngpt.runs",
    "train": "learngpt.training.fit",
}


def _course_names() -> list[str]:
    return list(importlib.import_module("learngpt.course").__all__)


def __getattr__(name: str) -> Any:
    if name == "__all__":
        return [*_course_names(), *_HOMES]
    if name in _HOMES:
        return getattr(importlib.import_module(_HOMES[name]), name)
    if not name.startswith("_") and name in _course_names():
        return getattr(importlib.import_module("learngpt.course"), name)
    raise AttributeError(f"module 'learngpt' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOMES, *_course_names()})
