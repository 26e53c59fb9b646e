"""The evidence behind the answers to the course's questions (docs/answers.md).

One module per kind of evidence, each a few functions that compute numbers and tables from the
course's own classes; `learngpt answers` (command.py) prints every table and draws every figure:

  cost.py        7a: parameters and matmul FLOPs of HeadVer4 vs MultiHeadVer1
  speed.py       7c: MultiHeadVer2 vs MultiHeadVer1, timed, and what the profiler sees
  layer_norm.py  9a, 9b: what LayerNorm's output looks like; gradient norms through a deep stack
  dropout.py     10a, 10b: dropout in train and eval mode
  experiments.py 7b, 8a, 8b, 9c, 10c: the 5-seed results of `learngpt experiment`, summarised

tests/test_answers.py recomputes the tables and compares them with the ones in the docs.
"""


def markdown_table(rows: list[list[str]]) -> str:
    """A header row and data rows as a markdown table."""
    lines = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
    lines += ["| " + " | ".join(row) + " |" for row in rows[1:]]
    return "\n".join(lines)
