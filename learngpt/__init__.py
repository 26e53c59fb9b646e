"""learnGPT: build a GPT step by step (the course), then train one on a laptop CPU."""

from learngpt.config import CourseConfig, TrainConfig, load_config
from learngpt.course import *  # noqa: F403
from learngpt.course import __all__ as _course_all
from learngpt.errors import UserError
from learngpt.model import GPT, GPTConfig
from learngpt.tokenizers import BPETokenizer, CharTokenizer

__all__ = [
    *_course_all,
    "BPETokenizer",
    "CharTokenizer",
    "CourseConfig",
    "GPT",
    "GPTConfig",
    "TrainConfig",
    "UserError",
    "load_config",
]
