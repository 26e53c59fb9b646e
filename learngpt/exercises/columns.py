"""Text as a terminal shows it: Hangul (and every East Asian wide character) takes two columns.

`width` measures a line in columns; `wrap` breaks text into lines of at most that many columns,
at spaces (a word longer than the line is left whole), as textwrap does for ASCII.
"""

from __future__ import annotations

import unicodedata


def width(text: str) -> int:
    """How many columns `text` takes in a terminal."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def pad(text: str, columns: int) -> str:
    """`text` with spaces after it up to `columns` columns."""
    return text + " " * max(columns - width(text), 0)


def wrap(text: str, columns: int) -> list[str]:
    """`text`'s words in lines of at most `columns` columns (whitespace collapsed)."""
    lines: list[str] = []
    line = ""
    for word in text.split():
        if line and width(line) + 1 + width(word) > columns:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    return [*lines, line] if line else lines
