"""The evidence behind the answers to the course's questions (docs/answers.md tells how it is made).

One module per kind of evidence, each a few functions that compute numbers and tables from the
course's own classes; `learngpt answers` (learngpt/commands/answers.py) prints every table and
draws every figure:

  cost.py        7a: parameters and matmul FLOPs of HeadVer4 vs MultiHeadVer1
  speed.py       7c: MultiHeadVer2 vs MultiHeadVer1, timed, and what the profiler sees
  layer_norm.py  9a, 9b: what LayerNorm's output looks like; gradient norms through a deep stack
  dropout.py     10a, 10b: dropout in train and eval mode
  experiments.py 7b, 8a, 8b, 9c, 10c: the 5-seed results of `learngpt experiment`, read from
                 the JSON file it wrote (docs/experiments.json)

tests/test_answers.py recomputes the tables and compares them with the ones in the docs.
"""
