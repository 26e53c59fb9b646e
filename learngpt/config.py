"""Configs: YAML files read into typed dataclasses, checked key by key.

A config file may only name fields of the dataclass; every value must have the field's type, and
`validate()` rejects impossible values. Every message names the offending key.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import torch
import yaml

from learngpt.errors import UserError
from learngpt.fileio import read_text
from learngpt.model import GPTConfig

C = TypeVar("C", bound="CourseConfig")


class ConfigError(UserError):
    """A config that cannot be used; the message names the key."""


def key(default: Any, help: str) -> Any:
    """A config field: its default and the one-line help its command-line flag shows."""
    return dataclasses.field(default=default, metadata={"help": help})


@dataclass
class CourseConfig:
    """The course's training set-up (learngpt/assets/configs/course.yaml says the same)."""

    batch_size: int = key(32, "sequences per step")
    block_size: int = key(8, "context length in tokens (T)")
    max_iters: int = key(5000, "number of optimizer steps")
    eval_iters: int = key(200, "random batches per split for each loss estimate")
    eval_interval: int = key(500, "steps between loss estimates (and checkpoints)")
    learning_rate: float = key(1e-3, "peak learning rate")
    embed_size: int = key(16, "channels (C); must be divisible by n_heads")
    n_layers: int = key(10, "transformer blocks")
    n_heads: int = key(8, "attention heads; head size = embed_size / n_heads")
    dropout: float = key(0.1, "dropout rate in [0, 1)")
    train_ratio: float = key(0.9, "fraction of the text (from its start) used for training")
    seed: int = key(0, "random seed (same seed, same run on CPU)")

    def validate(self) -> None:
        """Raise ConfigError naming the first key whose value is impossible."""
        check_loop_keys(self)
        for key in ("embed_size", "n_layers", "n_heads"):
            _require(key, getattr(self, key) > 0, "must be a positive integer")
        _require("dropout", 0 <= self.dropout < 1, "must be in [0, 1)")
        _require(
            "embed_size",
            self.embed_size % self.n_heads == 0,
            f"({self.embed_size}) must be divisible by n_heads ({self.n_heads})",
        )

    def replace(self: C, **changes: Any) -> C:
        """A checked copy with some keys changed."""
        return config_from_dict({**dataclasses.asdict(self), **changes}, type(self))

    @classmethod
    def normalise(cls, values: dict[str, Any]) -> dict[str, Any]:
        """The keys of a file or a command line, as the fields take them (here: unchanged)."""
        return values

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def check_loop_keys(config: Any) -> None:
    """The keys every training loop reads (CourseConfig's and TrainConfig's)."""
    for key in ("batch_size", "block_size", "max_iters", "eval_iters", "eval_interval"):
        _require(key, getattr(config, key) > 0, "must be a positive integer")
    _require("learning_rate", 0 < config.learning_rate < math.inf, "must be positive and finite")
    _require("train_ratio", 0 < config.train_ratio < 1, "must be strictly between 0 and 1")


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
    config = cls(**checked_values(cls.normalise(values), cls))
    config.validate()
    return config


def checked_values(values: dict[str, Any], cls: type, section: str = "") -> dict[str, Any]:
    """`values` checked against the fields of `cls`; a dataclass field is a section of its own."""
    types_by_key = field_types(cls)
    unknown = [key for key in values if key not in types_by_key]  # YAML keys may be non-str
    if unknown:
        raise ConfigError(
            f"unknown config key '{section}{unknown[0]}'; known keys are: {', '.join(types_by_key)}"
        )
    checked = {}
    for key, value in values.items():
        kind = types_by_key[key]
        if dataclasses.is_dataclass(kind):
            if not isinstance(value, dict):
                raise ConfigError(f"config key '{key}' must be a mapping of keys to values")
            checked[key] = kind(**checked_values(value, kind, f"{key}."))
        else:
            checked[key] = check_value(key, value, kind)
    return checked


def load_config(path: str | Path, cls: type[C] = CourseConfig) -> C:  # type: ignore[assignment]
    """Read a YAML config file into `cls`; every problem is a ConfigError naming file or key."""
    path = Path(path)
    try:
        text = read_text(path, "config file")
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


def recipe_model() -> GPTConfig:
    """The CPU recipe's model (README, "Results"): small and shallow, for an 80-s run on 2 cores."""
    return GPTConfig(
        block_size=128,
        n_layers=2,
        embed_size=128,
        rotary=True,
        bf16=True,
        ffwd_size=768,  # 6 x its 128 channels
        ffwd_conv=4,
    )


# The learning-rate schedules' shapes by name (learngpt/training/fit.py draws them: SHAPES).
LR_SCHEDULES = ("cosine", "wsd")

# Keys that older run directories wrote at the top level, under another name.
RENAMED = {"vocab_size": "bpe_vocab_size"}
MODEL_KEYS = {f.name for f in dataclasses.fields(GPTConfig)}


@dataclass
class TrainConfig:
    """Everything `learngpt train` needs: the model's settings (`model`) and the trainer's.

    The defaults are the CPU recipe (README, "Results"), tuned for `learngpt train --max-time 80`
    on a 2-core CPU. In YAML the model's settings are a `model:` section; on the command line
    (and in replace() and older files) they are flat keys, --n-layers, routed into it.
    """

    # the loop (the course's keys, with the recipe's values; max_iters, train_ratio the course's)
    batch_size: int = key(24, "sequences per step")
    max_iters: int = key(5000, "number of optimizer steps")
    eval_iters: int = key(
        10, "batches per split for each loss estimate (the same windows each time, spread out)"
    )
    eval_interval: int = key(1000, "steps between loss estimates (and checkpoints)")
    learning_rate: float = key(1.6e-2, "peak learning rate")
    train_ratio: float = key(0.9, "fraction of the text (from its start) used for training")
    seed: int = key(1337, "random seed (same seed, same run on CPU)")
    model: GPTConfig = dataclasses.field(
        default_factory=recipe_model, metadata={"help": "the model (learngpt.model.GPTConfig)"}
    )
    # the optimizer: AdamW, weight decay on matrices only; or Muon for the blocks' matrices
    muon: bool = key(True, "Muon (orthogonalised momentum) for the blocks' weight matrices")
    muon_lr_ratio: float = key(1.0, "Muon's learning rate / learning_rate (RMS-matched to AdamW)")
    muon_momentum: float = key(0.95, "Muon's momentum")
    muon_ns_steps: int = key(5, "Muon's Newton-Schulz iterations per step")
    weight_decay: float = key(
        0.4, "decoupled weight decay of the weight matrices, Muon's and AdamW's (no biases, norms)"
    )
    beta1: float = key(0.9, "AdamW first-moment decay")
    beta2: float = key(0.99, "AdamW second-moment decay")
    grad_clip: float = key(1.0, "clip the gradient's global norm to this (0: off)")
    grad_accum: int = key(
        1, "micro-steps per step: each runs batch_size / (processes x grad_accum) rows"
    )
    # the learning-rate schedule: linear warmup, then decay to min_lr_ratio * learning_rate
    lr_schedule: str = key(
        "cosine", "'cosine' (decay all along) or 'wsd' (warmup, stable, then linear decay)"
    )
    decay_ratio: float = key(0.5, "wsd only: the fraction of the budget spent decaying")
    warmup_iters: int = key(50, "steps of linear warmup")
    min_lr_ratio: float = key(0.0, "final learning rate / peak")
    max_time: float = key(0.0, "time budget in seconds (0: none); the schedule then follows it")
    # the data
    tokenizer: str = key(
        "char", "'char' (one token per character), 'bpe' (byte-level BPE) or 'gpt2' (GPT-2's)"
    )
    bpe_vocab_size: int = dataclasses.field(
        default=512,
        metadata={"help": "BPE only: tokens to learn (>= 256)", "aliases": ["vocab_size"]},
    )
    gpt2_dir: str = key("", "tokenizer gpt2 only: the folder of GPT-2's vocab.json, merges.txt")
    # the machine
    device: str = key("auto", "auto (cuda if present), cpu, cuda or cuda:N")
    compile: bool = key(False, "torch.compile the model (slow first step, faster later)")
    threads: int = key(0, "CPU threads for torch (0: its default; 1 on a busy machine)")

    @property
    def block_size(self) -> int:
        """The windows the loop cuts are the model's context."""
        return self.model.block_size

    @classmethod
    def normalise(cls, values: dict[str, Any]) -> dict[str, Any]:
        """Flat model keys (flags, older files) into the `model` section; old names renamed."""
        values = {
            RENAMED.get(k, k) if k not in cls.__dataclass_fields__ else k: v
            for k, v in values.items()
        }
        section = values.pop("model", None)
        if section is not None and not isinstance(section, dict):
            raise ConfigError("config key 'model' must be a mapping of keys to values")
        flat = {k: values.pop(k) for k in list(values) if k in MODEL_KEYS}
        return {**values, "model": {**(section or {}), **flat}}

    def replace(self, **changes: Any) -> TrainConfig:
        """A checked copy with some keys changed (model keys flat: replace(n_layers=4))."""
        return config_from_dict({**self.to_dict(), **changes}, TrainConfig)

    def with_vocab(self, vocab_size: int) -> TrainConfig:
        """This config for a tokenizer of vocab_size tokens (the model's vocabulary)."""
        return dataclasses.replace(
            self, model=dataclasses.replace(self.model, vocab_size=vocab_size)
        )

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def flat(self) -> dict[str, Any]:
        """Every key by its flag's name: the trainer's, then the model's (vocab_size aside)."""
        model = {k: v for k, v in dataclasses.asdict(self.model).items() if k != "vocab_size"}
        return {**{k: v for k, v in self.to_dict().items() if k != "model"}, **model}

    def validate(self) -> None:
        check_loop_keys(self)
        problem = self.model.problem()
        if problem:
            _require(problem[0], False, problem[1])
        _require("weight_decay", self.weight_decay >= 0, "must be >= 0")
        for key in ("beta1", "beta2"):
            _require(key, 0 <= getattr(self, key) < 1, "must be in [0, 1)")
        _require("grad_clip", self.grad_clip >= 0, "must be >= 0 (0 turns clipping off)")
        _require("grad_accum", self.grad_accum > 0, "must be a positive integer")
        _require(
            "grad_accum",
            self.batch_size % self.grad_accum == 0,
            f"({self.grad_accum}) must divide batch_size ({self.batch_size})",
        )
        self._validate_schedule()
        self._validate_machine()

    def _validate_schedule(self) -> None:
        _require("warmup_iters", self.warmup_iters >= 0, "must be >= 0")
        _require("min_lr_ratio", 0 <= self.min_lr_ratio <= 1, "must be in [0, 1]")
        _require("muon_lr_ratio", 0 < self.muon_lr_ratio < math.inf, "must be positive")
        _require("muon_momentum", 0 <= self.muon_momentum < 1, "must be in [0, 1)")
        _require("muon_ns_steps", 0 < self.muon_ns_steps < 100, "must be in 1 .. 99")
        _require(
            "lr_schedule",
            self.lr_schedule in LR_SCHEDULES,
            f"must be one of {', '.join(repr(s) for s in LR_SCHEDULES)}",
        )
        _require("decay_ratio", 0 < self.decay_ratio <= 1, "must be in (0, 1]")
        _require("max_time", self.max_time >= 0, "must be >= 0 seconds (0: no time limit)")

    def _validate_machine(self) -> None:
        tokenizers = ("char", "bpe", "gpt2")
        _require("tokenizer", self.tokenizer in tokenizers, "must be 'char', 'bpe' or 'gpt2'")
        _require(
            "bpe_vocab_size",
            self.bpe_vocab_size >= 256,
            "must be >= 256 (the 256 bytes, then merges)",
        )
        device_ok = self.device in ("auto", "cpu", "cuda") or (
            self.device.startswith("cuda:") and self.device[5:].isdigit()
        )
        _require("device", device_ok, "must be 'auto', 'cpu', 'cuda' or 'cuda:N'")
        _require("threads", self.threads >= 0, "must be >= 0 (0: torch's default)")


def resolve_device(name: str) -> torch.device:
    """The device a config's `device` key (or a --device flag) names: auto is cuda if present."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise UserError(f"--device {name}: no CUDA GPU is available; use --device cpu")
    return torch.device(name)


@dataclass
class Flag:
    """One config key as a command-line flag: its type, help, default and other names."""

    kind: Any
    help: str
    default: Any
    aliases: tuple[str, ...] = ()


def flags(cls: type) -> dict[str, Flag]:
    """Every key of the config class `cls` by name, flat: a section's keys stand for themselves.

    The model's vocab_size is no flag (the tokenizer decides it).
    """
    defaults = cls()
    out = {}
    for f in dataclasses.fields(cls):
        kind = field_types(cls)[f.name]
        if dataclasses.is_dataclass(kind):
            section = getattr(defaults, f.name)
            for sub in dataclasses.fields(kind):
                if sub.name != "vocab_size":
                    out[sub.name] = Flag(
                        field_types(kind)[sub.name],
                        sub.metadata["help"],
                        getattr(section, sub.name),
                    )
            continue
        aliases = tuple(f.metadata.get("aliases", ()))
        out[f.name] = Flag(kind, f.metadata.get("help", ""), getattr(defaults, f.name), aliases)
    return out
