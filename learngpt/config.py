"""Configs: YAML files read into typed dataclasses, checked key by key.

A config file may only name fields of the dataclass; every value must have the field's type, and
`validate()` rejects impossible values. Every message names the offending key.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml

from learngpt.errors import UserError

C = TypeVar("C", bound="CourseConfig")


class ConfigError(UserError):
    """A config that cannot be used; the message names the key."""


@dataclass
class CourseConfig:
    """The course's training set-up (configs/course.yaml)."""

    batch_size: int = 32
    block_size: int = 8
    max_iters: int = 5000
    eval_iters: int = 200
    eval_interval: int = 500
    learning_rate: float = 1e-3
    embed_size: int = 16
    n_layers: int = 10
    n_heads: int = 8
    dropout: float = 0.1
    train_ratio: float = 0.9
    seed: int = 0

    def validate(self) -> None:
        """Raise ConfigError naming the first key whose value is impossible."""
        for key in ("batch_size", "block_size", "max_iters", "eval_iters", "eval_interval"):
            _require(key, getattr(self, key) > 0, "must be a positive integer")
        for key in ("embed_size", "n_layers", "n_heads"):
            _require(key, getattr(self, key) > 0, "must be a positive integer")
        _require("learning_rate", self.learning_rate > 0, "must be positive")
        _require("dropout", 0 <= self.dropout < 1, "must be in [0, 1)")
        _require("train_ratio", 0 < self.train_ratio < 1, "must be strictly between 0 and 1")
        _require(
            "embed_size",
            self.embed_size % self.n_heads == 0,
            f"({self.embed_size}) must be divisible by n_heads ({self.n_heads})",
        )

    def replace(self: C, **changes: Any) -> C:
        """A checked copy with some keys changed."""
        return config_from_dict({**dataclasses.asdict(self), **changes}, type(self))

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _require(key: str, ok: bool, what: str) -> None:
    if not ok:
        raise ConfigError(f"config key '{key}' {what}")


def field_types(cls: type) -> dict[str, Any]:
    """The resolved type of each field of a config dataclass."""
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


def check_value(key: str, value: Any, expected: Any) -> Any:
    """Return `value` if it has the type `expected` (int is accepted for float), else raise."""
    allowed = typing.get_args(expected) if _is_union(expected) else (expected,)
    for kind in allowed:
        if kind is type(None) and value is None:
            return value
        if kind is float and isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if kind is int and isinstance(value, int) and not isinstance(value, bool):
            return value
        if kind in (str, bool) and isinstance(value, kind):
            return value
    names = " or ".join("null" if k is type(None) else k.__name__ for k in allowed)
    raise ConfigError(f"config key '{key}' must be {names}, got {value!r}")


def _is_union(tp: Any) -> bool:
    return typing.get_origin(tp) in (typing.Union, types.UnionType)


def config_from_dict(values: dict[str, Any], cls: type[C] = CourseConfig) -> C:  # type: ignore[assignment]
    """Build and validate a config from a mapping; unknown keys and wrong types are errors."""
    types_by_key = field_types(cls)
    unknown = sorted(set(values) - set(types_by_key))
    if unknown:
        raise ConfigError(
            f"unknown config key '{unknown[0]}'; known keys are: {', '.join(types_by_key)}"
        )
    checked = {key: check_value(key, value, types_by_key[key]) for key, value in values.items()}
    config = cls(**checked)
    config.validate()
    return config


def load_config(path: str | Path, cls: type[C] = CourseConfig) -> C:  # type: ignore[assignment]
    """Read a YAML config file into `cls`; every problem is a ConfigError naming file or key."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist; pass an existing --config") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from None
    try:
        values = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" (line {where.line + 1})" if where else ""
        raise ConfigError(f"config file {path} is not valid YAML{line}; fix its syntax") from None
    if values is None:
        values = {}
    if not isinstance(values, dict):
        raise ConfigError(f"config file {path} must be a mapping of keys to values")
    try:
        return config_from_dict(values, cls)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
