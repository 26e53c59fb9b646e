"""reuse_freed_cpu_memory (learngpt/training/distributed.py); the bf16 probe: test_train.py."""

from __future__ import annotations

import subprocess
import sys

import pytest

# Like a training step: tensors of a few MB live together, then all are freed; the step repeats.
CHURN = """
import ctypes, ctypes.util, resource, sys, torch
from learngpt.training.distributed import reuse_freed_cpu_memory
# Start from glibc at its worst: every big block is its own mmap, handed back when freed.
libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
M_MMAP_THRESHOLD = -3  # a fixed threshold also stops glibc from adapting it
assert libc.mallopt(M_MMAP_THRESHOLD, 128 << 10)
if sys.argv[1] == "reuse":
    assert reuse_freed_cpu_memory()
def step():
    held = [torch.ones(n << 18) for n in (3, 5, 4, 6, 2, 8, 3)]
    held += [t * 2 for t in held]
for _ in range(3):
    step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):
    step()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def page_faults(setting: str) -> int:
    command = [sys.executable, "-c", CHURN, setting]
    return int(subprocess.run(command, capture_output=True, text=True, check=True).stdout)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc only")
def test_reused_memory_spares_the_page_faults_of_each_step():
    # 20 steps of 62 MB touch about 317,000 pages. glibc's default lies anywhere between
    # faulting them all in again each step and reusing them (its mmap threshold adapts to the
    # blocks freed so far: 768 to 301,440 faults from run to run), so both runs start from the
    # worst case, which a long run can fall into at any step. With the reuse: 0 to ~1,500.
    pages_touched = 20 * sum(2 * (n << 18) * 4 for n in (3, 5, 4, 6, 2, 8, 3)) // 4096
    handed_back, reuse = page_faults("hand-back"), page_faults("reuse")
    assert handed_back > 0.9 * pages_touched
    assert reuse < pages_touched / 50
