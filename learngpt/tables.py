"""Tables of strings, as markdown (for docs/) or as aligned text (for a terminal).

A table is a list of rows, the first one the header; every row has as many cells as the header.
"""

from __future__ import annotations


def markdown_table(rows: list[list[str]]) -> str:
    """A header row and data rows as a markdown table."""
    lines = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
    lines += ["| " + " | ".join(row) + " |" for row in rows[1:]]
    return "\n".join(lines)


def text_table(rows: list[list[str]]) -> str:
    """The rows with their columns right-aligned, two spaces apart."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.rjust(w) for cell, w in zip(row, widths, strict=True)) for row in rows
    )
