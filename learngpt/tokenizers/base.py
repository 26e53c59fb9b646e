"""What every tokenizer offers: text <-> token ids, a vocabulary size, and a JSON file form."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from learngpt.errors import UserError
from learngpt.fileio import read_text


class Tokenizer:
    """Base class: subclasses set `kind`, implement encode, decode, vocab_size and the dict form."""

    kind: str = ""

    @property
    def vocab_size(self) -> int:
        raise NotImplementedError

    def encode(self, text: str) -> list[int]:
        raise NotImplementedError

    def decode(self, ids: list[int]) -> str:
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:
        raise NotImplementedError

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Tokenizer:
        raise NotImplementedError

    def save(self, path: str | Path) -> None:
        """Write the tokenizer as JSON (atomically: a temporary file, then a rename)."""
        from learngpt.fileio import atomic_write_text

        atomic_write_text(Path(path), json.dumps({"kind": self.kind, **self.to_dict()}))

    @classmethod
    def load(cls, path: str | Path) -> Tokenizer:
        """Read a tokenizer saved by `save`, of this class or (from the base class) of any kind."""
        path = Path(path)
        try:
            data = json.loads(read_text(path, "tokenizer file"))
            kind = data.pop("kind")
        except FileNotFoundError:
            raise UserError(f"tokenizer file {path} does not exist") from None
        except (OSError, ValueError, KeyError, AttributeError, TypeError) as exc:
            raise UserError(f"tokenizer file {path} is damaged ({exc}); retrain it") from None
        kinds = {sub.kind: sub for sub in _all_subclasses(Tokenizer)}
        target = kinds.get(kind) if cls is Tokenizer else cls
        if target is None or target.kind != kind:
            raise UserError(f"tokenizer file {path} holds a '{kind}' tokenizer, not '{cls.kind}'")
        try:
            return target.from_dict(data)
        except (KeyError, ValueError, TypeError) as exc:
            raise UserError(f"tokenizer file {path} is damaged ({exc}); retrain it") from None


def _all_subclasses(cls: type) -> list[type]:
    out = []
    for sub in cls.__subclasses__():
        out += [sub, *_all_subclasses(sub)]
    return out
