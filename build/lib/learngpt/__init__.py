"""learnGPT: build a GPT step by step (the course), then train one on a laptop CPU.

The public API, for scripts and notebooks:

    import learngpt
    result = learngpt.train(learngpt.TrainConfig(max_iters=200), out="runs/mine")
    run = learngpt.load_run("runs/mine")          # run.model, run.tokenizer, run.config
    ids = learngpt.generate(run.model, prompt_ids, 100)

and the course's classes (learngpt.GPTVer1 ... learngpt.NanoGPT), the tokenizers and configs.
"""

from learngpt.config import CourseConfig, TrainConfig, load_config
from learngpt.course import *  # noqa: F403
from learngpt.course import __all__ as _course_all
from learngpt.errors import UserError
from learngpt.generate import generate
from learngpt.model import GPT, GPTConfig
from learngpt.runs import load_run
from learngpt.tokenizers import BPETokenizer, CharTokenizer
from learngpt.training.run import train

__all__ = [
    *_course_all,
    "BPETokenizer",
    "CharTokenizer",
    "CourseConfig",
    "GPT",
    "GPTConfig",
    "TrainConfig",
    "UserError",
    "generate",
    "load_config",
    "load_run",
    "train",
]
