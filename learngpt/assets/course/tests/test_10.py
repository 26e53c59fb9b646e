"""Step 10: dropout (BlockVer4).

Run `pytest tests/test_10.py -s -vv` to see the numbers behind each claim.
"""

from __future__ import annotations

import mygpt
import pytest
import torch
from mygpt import BlockVer4, MultiHeadVer2

from learngpt.exercises.catalog import say
from learngpt.exercises.testkit import assert_close, claim_holds, record

# What a BlockVer4 runs: its own TODO, BlockVer3's (its forward may be inherited), LayerNorm, the
# feed-forward, and the masked softmax of the MultiHeadVer2 given to it.
BLOCK_TODOS = ("10-1", "9-2", "9-1", "8-1", "4-1")


def make_block(dropout: float = 0.1) -> BlockVer4:
    torch.manual_seed(0)
    return BlockVer4(MultiHeadVer2(8, 16, 4), 16, dropout)


@pytest.mark.todos(*BLOCK_TODOS)
def test_block_ver_4_output_is_always_different_in_train_mode():
    block = make_block().train()
    x = torch.randn(4, 8, 16)
    outputs = [block(x) for _ in range(5)]
    for i in range(len(outputs)):
        for j in range(i + 1, len(outputs)):
            assert not torch.allclose(outputs[i], outputs[j]), say("tests.10.train_differs")
    diff = float((outputs[0] - outputs[1]).abs().max())
    dropped = float((outputs[0] != outputs[1]).float().mean())
    record("dropout_train", {"diff": diff, "dropped": dropped})


def without_dropout(block: BlockVer4, x: torch.Tensor) -> torch.Tensor:
    """BlockVer3's formula on `block`'s own sub-layers, with every dropout off (eval mode), however
    the block holds its dropout (its own module, functional, or inside self.head and self.ffwd)."""
    training = block.training
    block.eval()
    h = x + block.head(block.ln1(x))
    out = h + block.ffwd(block.ln2(h))
    block.train(training)
    return out


@pytest.mark.todos(*BLOCK_TODOS)
def test_block_ver_4_output_is_always_the_same_in_eval_mode():
    block = make_block().eval()
    x = torch.randn(4, 8, 16)
    outputs = [block(x) for _ in range(5)]
    for out in outputs[1:]:
        assert torch.equal(out, outputs[0]), say("tests.10.eval_same")
    no_dropout = make_block(0.0)
    no_dropout.load_state_dict(block.state_dict())  # this block's weights, dropout 0
    assert_close(no_dropout.train()(x), outputs[0], say("check.dropout_zero"))
    composed = without_dropout(block, x)
    assert_close(outputs[0], composed, say("tests.10.eval_is_v3"))
    record("dropout_eval", {"diff": float((outputs[0] - composed).abs().max())})


@pytest.mark.todos(*BLOCK_TODOS)
def test_block_ver_4_drops_only_what_the_sublayers_add():
    """With p = 1 dropout zeroes all it touches: only the residual path, x itself, is left."""
    block = make_block(1.0).train()
    x = torch.randn(4, 8, 16)
    assert_close(block(x), x, say("check.dropout_all"))


@pytest.mark.todos(*BLOCK_TODOS)
def test_dropout_helps(course_config, char_splits, char_tokenizer):
    # Trained on the first 0.1 % of the text the model overfits: with dropout its train loss is
    # higher (it memorises less) and its validation loss lower.
    claim_holds(mygpt, "dropout", course_config, char_splits, char_tokenizer.vocab_size)
