"""learnGPT: build a GPT step by step (the course), then train one on a laptop CPU."""

from learngpt.config import CourseConfig, load_config
from learngpt.course import *  # noqa: F403
from learngpt.course import __all__ as _course_all
from learngpt.errors import UserError
from learngpt.tokenizers import CharTokenizer

__all__ = [*_course_all, "CharTokenizer", "CourseConfig", "UserError", "load_config"]
