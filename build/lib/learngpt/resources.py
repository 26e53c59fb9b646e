"""Files that ship inside the package (learngpt/assets/), found with importlib.resources.

They are read from the installed package, so `learngpt` works from any directory after a plain
`pip install`, not only inside a checkout.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def asset(*parts: str) -> Path:
    """The path of a shipped file, e.g. asset("configs", "course.yaml")."""
    return Path(str(files("learngpt").joinpath("assets", *parts)))


def shakespeare_path() -> Path:
    """The tiny-Shakespeare text the course and `learngpt train` use when given no --data."""
    return asset("shakespeare.txt")


def course_config_path() -> Path:
    """The course's training set-up, as the course's code reads it."""
    return asset("configs", "course.yaml")
