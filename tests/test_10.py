"""Step 10: dropout (BlockVer4)."""

import torch

from learngpt import BlockVer3, BlockVer4, MultiHeadVer2
from learngpt.experiments import EXPERIMENTS, format_table, run_experiment


def make_block(dropout: float = 0.1) -> BlockVer4:
    torch.manual_seed(0)
    return BlockVer4(MultiHeadVer2(8, 16, 4), 16, dropout)


def test_block_ver_4_output_is_always_different_in_train_mode():
    block = make_block().train()
    x = torch.randn(4, 8, 16)
    outputs = [block(x) for _ in range(5)]
    # Every call draws a fresh dropout mask, so no two outputs agree.
    for i in range(len(outputs)):
        for j in range(i + 1, len(outputs)):
            assert not torch.allclose(outputs[i], outputs[j])


def test_block_ver_4_output_is_always_the_same_in_eval_mode():
    block = make_block().eval()
    x = torch.randn(4, 8, 16)
    outputs = [block(x) for _ in range(5)]
    for out in outputs[1:]:
        assert torch.equal(out, outputs[0])
    # In eval mode dropout is the identity: the block is BlockVer3 with the same weights.
    same = BlockVer3(block.head, 16)
    same.load_state_dict(block.state_dict())
    torch.testing.assert_close(outputs[0], same(x))


def test_block_ver_4_drops_at_the_rate_asked_for():
    block = make_block(dropout=0.5).train()
    # Watch the dropout applied to the attention's output (its first call).
    seen = []

    def keep(module, inputs, output):
        seen.append((inputs[0], output))

    block.dropout.register_forward_hook(keep)
    block(torch.randn(64, 8, 16))
    before, after = seen[0]
    dropped = (after == 0) & (before != 0)
    assert 0.45 < dropped.float().mean().item() < 0.55
    kept = after != 0
    torch.testing.assert_close(after[kept], before[kept] * 2)  # survivors scaled by 1 / (1 - p)


def test_dropout_helps(course_config, char_splits, char_tokenizer):
    # Trained on the first 0.1 % of the text the model overfits: with dropout its train loss is
    # higher (it memorises less) and its validation loss lower.
    experiment = EXPERIMENTS["dropout"]  # n_layers x BlockVer4 vs n_layers x BlockVer3
    config = experiment.config(course_config, setup="test")
    result = run_experiment(experiment, config, *char_splits, char_tokenizer.vocab_size)
    (seed,) = result.seeds
    assert seed.train_margin < 0, format_table(result)  # higher train loss with dropout
    assert seed.val_margin > 0, format_table(result)  # lower validation loss with dropout
    assert result.holds(seed), format_table(result)  # and both by a clear margin
