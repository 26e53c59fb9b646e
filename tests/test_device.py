"""learngpt.device.reuse_freed_cpu_memory (device choice and the bf16 probe: test_train.py)."""

from __future__ import annotations

import subprocess
import sys

import pytest

# Like a training step: tensors of a few MB live together, then all are freed; the step repeats.
CHURN = """
import resource, sys, torch
from learngpt.device import reuse_freed_cpu_memory
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
    # 20 steps of 62 MB. By default glibc gives the freed heap top back to the system, and
    # each step faults its pages in again: about 300,000 faults, or about 19,000 in the runs
    # where a small block happens to pin the heap's top (it varies from run to run).
    # With the reuse: 0 to about 1,500, whichever happens.
    default, reuse = page_faults("default"), page_faults("reuse")
    assert default > 10_000
    assert reuse < default / 10
