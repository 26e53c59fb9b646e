"""Step 7: multi-head attention (MultiHeadVer1, MultiHeadVer2) and GPTVer4."""

import torch
import torch.nn.functional as F

from learngpt import GPTVer4, HeadVer4, MultiHeadVer1, MultiHeadVer2
from learngpt.experiments import (
    EXPERIMENTS,
    best_time,
    count_flops,
    format_table,
    one_cpu_thread,
    run_experiment,
)
from learngpt.measure import count_parameters


def test_head_ver_4_and_multi_head_ver_1_are_equally_expensive(course_config):
    B, T, C, H = course_config.batch_size, course_config.block_size, 16, 8
    single = HeadVer4(T, C, head_size=C)
    multi = MultiHeadVer1(T, C, n_heads=H)
    x = torch.randn(B, T, C)

    # H heads of size C / H hold as many weights as one head of size C: 3 * C * C ...
    assert count_parameters(multi.heads) == count_parameters(single) == 3 * C * C
    # ... and do as many multiply-adds: the projections, Q K^T and wei @ V all split over heads.
    assert sum(count_flops(head, x) for head in multi.heads) == count_flops(single, x)
    # The only extra cost is the (C, C) output projection that mixes the heads.
    assert count_parameters(multi) == count_parameters(single) + C * C + C
    assert count_flops(multi, x) == count_flops(single, x) + 2 * B * T * C * C


def test_multi_head_helps(course_config, char_splits, char_tokenizer):
    experiment = EXPERIMENTS["multi-head"]  # GPTVer4 with MultiHeadVer1 vs with one HeadVer4
    config = experiment.config(course_config, setup="test")
    result = run_experiment(experiment, config, *char_splits, char_tokenizer.vocab_size)
    (seed,) = result.seeds
    assert result.holds(seed), format_table(result)


def test_multi_head_ver_2_is_faster_than_ver_1(course_config):
    B, T, C, H = course_config.batch_size, course_config.block_size, 16, 8
    torch.manual_seed(0)
    ver1 = MultiHeadVer1(T, C, H)
    ver2 = MultiHeadVer2.from_ver1(ver1)
    x = torch.randn(B, T, C)
    with one_cpu_thread():  # fewer threads, less noise from a busy machine
        # What training pays for: a forward and a backward pass.
        time_ver1 = best_time(lambda: ver1(x).sum().backward())
        time_ver2 = best_time(lambda: ver2(x).sum().backward())
    print(f"MultiHeadVer1 {time_ver1 * 1e6:.0f} us, MultiHeadVer2 {time_ver2 * 1e6:.0f} us")
    # Ver2 does 3 projections where Ver1 does 3 * H small ones, and one batched attention where
    # Ver1 loops over H heads: about 2x faster here (the softmax work itself is the same), so
    # asking for 1.3x leaves room for a busy machine.
    assert time_ver2 * 1.3 < time_ver1


def test_multi_head_ver_1_and_multi_head_ver_2_are_logically_equal():
    torch.manual_seed(0)
    ver1 = MultiHeadVer1(block_size=8, embed_size=16, n_heads=4)
    ver2 = MultiHeadVer2.from_ver1(ver1)
    # Copying is the pinned layout: head h's query weight is rows h*hs:(h+1)*hs of Ver2's.
    assert torch.equal(ver2.query.weight[4:8], ver1.heads[1].query.weight)
    for T in (8, 3, 1):  # full blocks and the shorter contexts of generation
        x = torch.randn(5, T, 16)
        torch.testing.assert_close(ver2(x), ver1(x))


def test_each_head_of_multi_head_ver_2_is_torch_causal_attention():
    torch.manual_seed(0)
    B, T, C, H = 3, 8, 16, 4
    mha = MultiHeadVer2(T, C, H)
    x = torch.randn(B, T, C)
    q, k, v = (mha.split_heads(layer(x)) for layer in (mha.query, mha.key, mha.value))
    # torch's attention scales by 1/sqrt(head_size) by default, as the course does.
    heads = F.scaled_dot_product_attention(q, k, v, is_causal=True)  # (B, H, T, hs)
    expected = mha.proj(heads.transpose(1, 2).reshape(B, T, C))
    torch.testing.assert_close(mha(x), expected)


def test_gpt_ver_4_learns_positions_and_normalises_before_lm_head():
    torch.manual_seed(0)
    V, T, C = 11, 8, 16
    model = GPTVer4(MultiHeadVer2(T, C, 4), V, T, C)
    assert "pos_encoding" not in dict(model.named_buffers())  # step 6's fixed table is gone
    assert model.position_embedding_table.weight.shape == (T, C)
    assert model.position_embedding_table.weight.requires_grad
    # The same token at every position: only the learned positions tell them apart.
    logits = model.logits(torch.full((1, T), 3))
    assert not torch.allclose(logits[0, 0], logits[0, 1])
    # What lm_head reads is normalised: its input has mean 0, variance 1 per position.
    seen = {}
    model.lm_head.register_forward_hook(lambda m, inp, out: seen.update(x=inp[0]))
    model.logits(torch.randint(V, (2, T)))
    torch.testing.assert_close(seen["x"].mean(-1), torch.zeros(2, T), atol=1e-5, rtol=0)
    torch.testing.assert_close(
        seen["x"].var(-1, unbiased=False), torch.ones(2, T), atol=1e-3, rtol=0
    )
