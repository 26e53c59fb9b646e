"""`learngpt sample`: streaming, same seed same text (cached or not), prompts, checkpoints."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import trainer_helpers
from trainer_helpers import assert_user_error, run_cli

from learngpt.engine import stream_text

# the tiny trained run each test copies (tests/trainer_helpers.py)
trained_template = trainer_helpers.trained_template
trained_run = trainer_helpers.trained_run


def sample(run, *extra):
    result = run_cli("sample", "--out", run.out, "--max-new-tokens", "60", *extra)
    assert result.rc == 0, result.err
    return result


def test_same_seed_same_text_with_and_without_the_kv_cache(trained_run):
    # block_size is 16: 60 new tokens slide the context several times
    cached = sample(trained_run, "--seed", "3", "--prompt", "ROMEO:")
    uncached = sample(trained_run, "--seed", "3", "--prompt", "ROMEO:", "--no-kv-cache")
    again = sample(trained_run, "--seed", "3", "--prompt", "ROMEO:")
    other_seed = sample(trained_run, "--seed", "4", "--prompt", "ROMEO:")
    assert cached.out == uncached.out == again.out
    assert cached.out != other_seed.out
    assert cached.out.startswith("ROMEO:") and len(cached.out) == len("ROMEO:") + 60 + 1


def test_temperature_zero_is_greedy_whatever_the_seed(trained_run):
    a = sample(trained_run, "--temperature", "0", "--seed", "1")
    b = sample(trained_run, "--temperature", "0", "--seed", "2")
    assert a.out == b.out


def test_num_samples_and_the_checkpoint_used_is_named(trained_run):
    result = sample(trained_run, "--num-samples", "2", "--top-k", "5", "--top-p", "0.9")
    assert result.out.count("---------------") == 1
    assert "best checkpoint" in result.err and "step " in result.err
    latest = sample(trained_run, "--checkpoint", "latest")
    assert "latest checkpoint" in latest.err


def test_unknown_prompt_characters_are_named_or_dropped(trained_run):
    bad = run_cli("sample", "--out", trained_run.out, "--prompt", "Hi ☃ ✈!")
    assert_user_error(bad, "'☃'", "'✈'", "--drop-unknown")
    dropped = sample(trained_run, "--prompt", "Hi ☃ ✈!", "--drop-unknown", "--seed", "5")
    plain = sample(trained_run, "--prompt", "Hi  !", "--seed", "5")
    assert dropped.out == plain.out


class ByteTokenizer:
    """Token = one UTF-8 byte, like the first 256 tokens of a byte-level BPE."""

    def decode(self, ids):
        return bytes(ids).decode("utf-8", errors="replace")


def test_streaming_never_prints_half_a_character():
    text = "añb€c😀"
    ids = list(text.encode("utf-8"))
    pieces = list(stream_text(ByteTokenizer(), [], iter(ids)))
    assert "".join(pieces) == text
    assert all("\ufffd" not in piece for piece in pieces)
    assert len(pieces) == len(text)  # each character as soon as its last byte arrives


@pytest.mark.parametrize("prompt_ids", [[], list(b"ab")])
def test_streaming_yields_only_the_new_text(prompt_ids):
    pieces = list(stream_text(ByteTokenizer(), prompt_ids, iter(list(b"xyz"))))
    assert pieces == ["x", "y", "z"]


def test_a_reader_that_stops_early_is_not_an_error(trained_run):
    """`learngpt sample | head`: the closed pipe ends sampling quietly, with status 0."""
    argv = [sys.executable, "-m", "learngpt", "sample", "--out", trained_run.out]
    proc = subprocess.Popen(
        [str(a) for a in [*argv, "--max-new-tokens", "100000"]],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert len(proc.stdout.read(10)) == 10
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 0, err
    assert "Traceback" not in err and "error" not in err
