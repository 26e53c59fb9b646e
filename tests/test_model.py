"""learngpt/model.py: the production GPT, its KV cache, the sliding context and sampling."""

from __future__ import annotations

import math

import pytest
import torch

from learngpt.config import TrainConfig
from learngpt.engine import KVCache, filter_logits, generate, token_chunks
from learngpt.errors import UserError
from learngpt.model import (
    GPT,
    GPTConfig,
    ShortConvFunction,
    apply_rotary,
    build_optimizer,
    explicit_causal_attention,
    rotary_tables,
)

SWITCHES = [
    {},
    {"rotary": True},
    {"rms_norm": True},
    {"rotary": True, "rms_norm": True, "bf16": True},
    {"activation": "relu_squared", "qk_norm": True, "rotary": True},
    {"ffwd_conv": 3, "rotary": True},
]


SMALL = dict(vocab_size=11, block_size=8, n_layers=2, n_heads=2, embed_size=16)


def small_model(seed: int = 0, **overrides) -> GPT:
    torch.manual_seed(seed)
    model = GPT(GPTConfig(**{**SMALL, **overrides})).eval()
    for block in model.blocks:
        if block.conv is not None:  # zeros at first (the identity): make it matter here
            torch.nn.init.normal_(block.conv.weight, std=0.5)
    return model


def tokens(model: GPT, prompt: torch.Tensor, n: int, seed: int = 0, **kwargs) -> torch.Tensor:
    """All n generated tokens as (B, n), sampled with a generator seeded with `seed`."""
    generator = torch.Generator().manual_seed(seed)
    return torch.stack(list(generate(model, prompt, n, generator=generator, **kwargs)), dim=1)


def test_forward_shapes_and_loss():
    model = small_model()
    idx = torch.randint(11, (3, 8))
    logits, loss = model(idx)
    assert logits.shape == (3, 8, 11)
    assert loss is None
    targets = torch.randint(11, (3, 8))
    logits, loss = model(idx, targets)
    assert loss.shape == ()
    expected = torch.nn.functional.cross_entropy(logits.reshape(-1, 11), targets.reshape(-1))
    torch.testing.assert_close(loss, expected)
    # Small initial weights give nearly uniform predictions: the loss starts near ln(V).
    assert abs(loss.item() - math.log(11)) < 0.1


def test_forward_refuses_more_than_block_size():
    with pytest.raises(ValueError, match="block_size"):
        small_model()(torch.zeros(1, 9, dtype=torch.long))


def test_gpt2_initialisation_statistics():
    config = GPTConfig(vocab_size=100, n_layers=4, embed_size=128, tie_weights=False)
    torch.manual_seed(0)
    model = GPT(config)
    residual_std = 0.02 / math.sqrt(2 * config.n_layers)
    for name, p in model.named_parameters():
        if name.endswith("attn.proj.weight") or name.endswith("ffwd.proj.weight"):
            assert abs(p.std().item() - residual_std) < 0.1 * residual_std, name
        elif p.dim() == 2:
            assert abs(p.std().item() - 0.02) < 0.002, name
            assert abs(p.mean().item()) < 0.002, name
        elif name.endswith(".bias"):
            assert torch.all(p == 0), name
        else:  # norm gains
            assert torch.all(p == 1), name


def test_tied_weights_share_one_matrix():
    tied, untied = small_model(tie_weights=True), small_model(tie_weights=False)
    assert tied.lm_head.weight is tied.token_embedding.weight
    assert untied.lm_head.weight is not untied.token_embedding.weight
    assert untied.num_parameters() - tied.num_parameters() == 11 * 16


@pytest.mark.parametrize("switches", SWITCHES)
def test_optimizer_decays_matrices_only(switches):
    model = small_model(**switches)
    adamw = TrainConfig(muon=False, weight_decay=0.1, learning_rate=1e-3, beta2=0.99)
    optimizer = build_optimizer(model, adamw)
    assert isinstance(optimizer, torch.optim.AdamW)
    decay, no_decay = optimizer.param_groups
    assert decay["weight_decay"] == 0.1 and no_decay["weight_decay"] == 0.0
    assert decay["betas"] == (0.9, 0.99) and decay["lr"] == 1e-3
    assert all(p.dim() == 2 for p in decay["params"])
    assert all(p.dim() == 1 for p in no_decay["params"])
    # every parameter is in exactly one group (the tied matrix once)
    in_groups = [id(p) for p in decay["params"] + no_decay["params"]]
    assert sorted(in_groups) == sorted(id(p) for p in model.parameters())
    names = {id(p): n for n, p in model.named_parameters()}
    no_decay_names = {names[id(p)] for p in no_decay["params"]}
    assert "blocks.0.ln1.weight" in no_decay_names
    assert "token_embedding.weight" in {names[id(p)] for p in decay["params"]}


@pytest.mark.parametrize("switches", SWITCHES)
def test_kv_cached_logits_equal_uncached(switches):
    model = small_model(**switches)
    idx = torch.randint(11, (2, 8))
    full, _ = model(idx)  # (B, T, V)
    cache = KVCache(model.config, batch_size=2, device="cpu", dtype=torch.float32)
    prefix, _ = model(idx[:, :3], cache=cache)  # a 3-token prompt, then one token at a time
    steps = [model(idx[:, t : t + 1], cache=cache)[0] for t in range(3, 8)]
    cached = torch.cat([prefix, *steps], dim=1)
    torch.testing.assert_close(cached, full, rtol=1e-5, atol=1e-5)
    assert cache.length == 8


def test_cache_writes_several_positions_after_a_prefix():
    model = small_model()
    idx = torch.randint(11, (1, 8))
    cache = KVCache(model.config, batch_size=1, device="cpu", dtype=torch.float32)
    model(idx[:, :3], cache=cache)
    chunk, _ = model(idx[:, 3:7], cache=cache)  # 4 new positions at once see 3 cached ones
    torch.testing.assert_close(chunk, model(idx[:, :7])[0][:, 3:7], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("switches", SWITCHES)
def test_cached_and_uncached_sampling_give_the_same_tokens(switches):
    model = small_model(**switches)
    prompt = torch.randint(11, (2, 3))
    # 40 new tokens with block_size 8: the window slides many times
    cached = tokens(model, prompt, 40, seed=5, use_kv_cache=True, top_k=8, top_p=0.9)
    uncached = tokens(model, prompt, 40, seed=5, use_kv_cache=False, top_k=8, top_p=0.9)
    assert cached.shape == (2, 40)
    assert torch.equal(cached, uncached)


def test_a_prompt_longer_than_block_size_slides_in_both_modes():
    model = small_model()
    prompt = torch.randint(11, (1, 20))
    cached = tokens(model, prompt, 12, seed=1, use_kv_cache=True)
    uncached = tokens(model, prompt, 12, seed=1, use_kv_cache=False)
    assert torch.equal(cached, uncached)
    # only the last block_size tokens of the prompt matter
    assert torch.equal(cached, tokens(model, prompt[:, -8:], 12, seed=1))


def test_the_window_restarts_from_its_last_half_when_full():
    """The documented rule, replayed by hand with plain forward passes and greedy decoding."""
    model = small_model(seed=3)
    prompt = torch.randint(11, (1, 5))
    window, expected = prompt, []
    for _ in range(20):
        next_id = model(window)[0][:, -1].argmax(-1)
        expected.append(next_id.item())
        window = torch.cat([window, next_id[:, None]], dim=1)
        if window.shape[1] > 8:  # block_size 8: keep the last 4 tokens
            window = window[:, -4:]
    for use_kv_cache in (True, False):
        got = tokens(model, prompt, 20, temperature=0, use_kv_cache=use_kv_cache)
        assert got[0].tolist() == expected


def test_temperature_zero_is_greedy():
    model = small_model(seed=1)
    prompt = torch.randint(11, (2, 3))
    greedy = tokens(model, prompt, 6, temperature=0, use_kv_cache=False)
    window = prompt
    for t in range(6):  # the window never exceeds block_size 8 here
        argmax = model(window)[0][:, -1].argmax(-1)
        assert torch.equal(greedy[:, t], argmax)
        window = torch.cat([window, argmax[:, None]], dim=1)
    # greedy ignores the random generator
    assert torch.equal(greedy, tokens(model, prompt, 6, seed=99, temperature=0))


def test_same_seed_same_text_other_seed_other_text():
    model = small_model()
    prompt = torch.zeros(1, 1, dtype=torch.long)
    a, b = tokens(model, prompt, 30, seed=7), tokens(model, prompt, 30, seed=7)
    assert torch.equal(a, b)
    assert not torch.equal(a, tokens(model, prompt, 30, seed=8))


def test_generate_streams_one_step_at_a_time_and_restores_train_mode():
    model = small_model(dropout=0.5).train()
    stream = generate(model, torch.zeros(3, 1, dtype=torch.long), 4)
    first = next(stream)
    assert first.shape == (3,) and first.dtype == torch.long
    assert not model.training  # no dropout while sampling
    assert len(list(stream)) == 3
    assert model.training


def test_top_k_keeps_exactly_the_k_largest():
    logits = torch.tensor([[1.0, 5.0, 3.0, 4.0, 2.0]])
    kept = filter_logits(logits, top_k=2).isfinite()
    assert kept.tolist() == [[False, True, False, True, False]]
    assert filter_logits(logits, top_k=99).isfinite().all()
    # sampled tokens never leave the top k
    model = small_model(seed=2)
    prompt = torch.zeros(1, 1, dtype=torch.long)
    last_logits = model(prompt)[0][:, -1]
    top3 = set(last_logits.topk(3).indices[0].tolist())
    for seed in range(30):
        first = next(
            generate(model, prompt, 1, top_k=3, generator=torch.Generator().manual_seed(seed))
        )
        assert first.item() in top3


def test_top_p_keeps_the_smallest_set_with_enough_mass():
    probs = torch.tensor([[0.05, 0.5, 0.15, 0.3]])
    logits = probs.log()
    assert filter_logits(logits, top_p=0.75).isfinite().tolist() == [[False, True, False, True]]
    assert filter_logits(logits, top_p=0.85).isfinite().tolist() == [[False, True, True, True]]
    assert filter_logits(logits, top_p=0.1).isfinite().tolist() == [[False, True, False, False]]
    assert filter_logits(logits, top_p=1.0).isfinite().all()


def test_temperature_sharpens_and_flattens():
    logits = torch.tensor([[2.0, 1.0, 0.0]])
    cold = torch.softmax(filter_logits(logits, temperature=0.5), -1)
    hot = torch.softmax(filter_logits(logits, temperature=2.0), -1)
    plain = torch.softmax(logits, -1)
    assert cold[0, 0] > plain[0, 0] > hot[0, 0]


@pytest.mark.parametrize(
    "kwargs, word",
    [
        ({"temperature": -1.0}, "temperature"),
        ({"top_k": 0}, "top_k"),
        ({"top_p": 0.0}, "top_p"),
        ({"top_p": 1.5}, "top_p"),
        ({"max_new_tokens": -1}, "max_new_tokens"),
    ],
)
def test_bad_sampling_settings_are_refused_at_once(kwargs, word):
    model = small_model()
    args = {"max_new_tokens": 5, **kwargs}
    with pytest.raises(UserError, match=word):
        generate(model, torch.zeros(1, 1, dtype=torch.long), **args)  # no next() needed


def test_an_empty_prompt_is_refused():
    with pytest.raises(UserError, match="prompt"):
        generate(small_model(), torch.zeros(1, 0, dtype=torch.long), 5)


def test_rotary_scores_depend_only_on_the_distance():
    cos, sin = rotary_tables(block_size=32, head_size=8)
    q, k = torch.randn(8), torch.randn(8)

    def score(m: int, n: int) -> torch.Tensor:
        qm = apply_rotary(q.view(1, 1, 1, 8), cos[m], sin[m])
        kn = apply_rotary(k.view(1, 1, 1, 8), cos[n], sin[n])
        return (qm * kn).sum()

    torch.testing.assert_close(score(5, 2), score(25, 22))
    torch.testing.assert_close(score(9, 9), score(0, 0))
    assert not torch.allclose(score(5, 2), score(5, 4))


def test_bf16_only_changes_training_forward_passes_and_only_a_little():
    exact, fast = small_model(seed=4), small_model(seed=4, bf16=True)
    idx, targets = torch.randint(11, (4, 8)), torch.randint(11, (4, 8))
    # eval mode (evaluation, sampling): float32, the very same numbers
    assert torch.equal(exact(idx, targets)[0], fast(idx, targets)[0])
    exact.train()
    fast.train()
    (exact_logits, exact_loss), (fast_logits, fast_loss) = exact(idx, targets), fast(idx, targets)
    assert fast_logits.dtype == torch.bfloat16 and fast_loss.dtype == torch.float32
    assert not torch.equal(fast_logits.float(), exact_logits)  # it did run in bfloat16
    torch.testing.assert_close(fast_loss, exact_loss, rtol=1e-2, atol=1e-2)
    fast_loss.backward()
    assert all(p.grad.dtype == torch.float32 for p in fast.parameters())


def test_explicit_attention_is_torchs_causal_attention_values_and_gradients():
    torch.manual_seed(0)
    q, k, v = (torch.randn(3, 2, 16, 8, dtype=torch.float64, requires_grad=True) for _ in range(3))
    ours = explicit_causal_attention(q, k, v)
    ours_grads = torch.autograd.grad(ours.square().sum(), (q, k, v))
    theirs = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
    theirs_grads = torch.autograd.grad(theirs.square().sum(), (q, k, v))
    torch.testing.assert_close(ours, theirs)
    for mine, reference in zip(ours_grads, theirs_grads, strict=True):
        torch.testing.assert_close(mine, reference)
    # the mask: changing a later key or value leaves earlier positions' outputs alone
    k2, v2 = k.detach().clone(), v.detach().clone()
    k2[:, :, 9:] += 1.0
    v2[:, :, 9:] -= 2.0
    changed = explicit_causal_attention(q.detach(), k2, v2)
    torch.testing.assert_close(changed[:, :, :9], ours.detach()[:, :, :9])
    assert not torch.allclose(changed[:, :, 9:], ours.detach()[:, :, 9:])


def test_cpu_bf16_training_runs_the_explicit_attention_and_nothing_else_does(monkeypatch):
    calls = []
    real = explicit_causal_attention

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr("learngpt.model.explicit_causal_attention", counted)
    idx = torch.randint(11, (2, 8))
    for bf16, train, expected in ((True, True, 2), (True, False, 0), (False, True, 0)):
        calls.clear()
        model = small_model(bf16=bf16, rotary=True).train(train)
        model(idx, idx)
        assert len(calls) == expected, (bf16, train)  # one call per layer, training in bf16 only


def test_rms_norm_gives_unit_root_mean_square():
    model = small_model(rms_norm=True)
    x = 3 * torch.randn(4, 16) + 1
    y = model.ln_f(x)
    torch.testing.assert_close(y.pow(2).mean(-1), torch.ones(4), rtol=1e-3, atol=1e-3)
    assert model.ln_f.bias is None


@pytest.mark.parametrize("switches", SWITCHES)
def test_it_learns_a_repeating_pattern(switches):
    model = small_model(**switches).train()
    data = torch.tensor([0, 1, 2, 3, 4, 5, 6] * 20)
    adamw = TrainConfig(muon=False, weight_decay=0.1, learning_rate=1e-2, beta2=0.95)
    optimizer = build_optimizer(model, adamw)
    x, y = data[:-1].unfold(0, 8, 7), data[1:].unfold(0, 8, 7)  # (B, 8) windows
    first = None
    for _ in range(60):
        _, loss = model(x, y)
        first = first if first is not None else loss.item()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert loss.item() < 0.2 * first


def course_weights_into(model: GPT, course) -> None:
    """Copy the course NanoGPT's weights into model.py's GPT (the two name things differently)."""
    ours = {
        "token_embedding.weight": course.token_embedding_table.weight,
        "position_embedding.weight": course.position_embedding_table.weight,
        "ln_f.weight": course.ln_f.weight,
        "ln_f.bias": course.ln_f.bias,
        "lm_head.weight": course.lm_head.weight,
        "lm_head.bias": course.lm_head.bias,
    }
    for i, block in enumerate(course.contextualizer):
        head, net = block.head, block.ffwd.net
        # one (3C, C) matrix: the query rows, then the key rows, then the value rows
        qkv = torch.cat([head.query.weight, head.key.weight, head.value.weight])
        ours |= {
            f"blocks.{i}.attn.qkv.weight": qkv,
            f"blocks.{i}.attn.proj.weight": head.proj.weight,
            f"blocks.{i}.attn.proj.bias": head.proj.bias,
            f"blocks.{i}.ffwd.fc.weight": net[0].weight,
            f"blocks.{i}.ffwd.fc.bias": net[0].bias,
            f"blocks.{i}.ffwd.proj.weight": net[2].weight,
            f"blocks.{i}.ffwd.proj.bias": net[2].bias,
        }
        for ln in ("ln1", "ln2"):
            ours[f"blocks.{i}.{ln}.weight"] = getattr(block, ln).weight
            ours[f"blocks.{i}.{ln}.bias"] = getattr(block, ln).bias
    missing, unexpected = model.load_state_dict(ours, strict=True)
    assert not missing and not unexpected


def test_with_switches_off_it_computes_the_course_nanogpt():
    from learngpt.course.nanogpt import NanoGPT

    torch.manual_seed(0)
    course = NanoGPT(vocab_size=11, block_size=8, embed_size=16, n_layers=3, n_heads=4, dropout=0.1)
    # Random, not initial, values everywhere (gains and biases too), so every weight matters.
    with torch.no_grad():
        for p in course.parameters():
            p.copy_(torch.randn_like(p) * 0.5)
    model = GPT(
        GPTConfig(
            vocab_size=11,
            block_size=8,
            n_layers=3,
            n_heads=4,
            embed_size=16,
            dropout=0.1,
            tie_weights=False,
        )
    )
    course_weights_into(model, course)
    course.eval()
    model.eval()
    idx = torch.randint(11, (4, 8))
    targets = torch.randint(11, (4, 8))
    course_logits, course_loss = course(idx, targets)
    logits, loss = model(idx, targets)
    torch.testing.assert_close(logits, course_logits, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(loss, course_loss, rtol=1e-4, atol=1e-4)
    # shorter contexts too (positions 0 .. T-1 in both)
    torch.testing.assert_close(model(idx[:, :3])[0], course(idx[:, :3])[0], rtol=1e-4, atol=1e-4)


def test_nanogpt_dropout_adds_no_weights_and_acts_only_in_training():
    plain = small_model(dropout=0.3)
    everywhere = small_model(dropout=0.3, nanogpt_dropout=True)
    weights = plain.state_dict()
    assert all(torch.equal(weights[k], v) for k, v in everywhere.state_dict().items())
    idx = torch.randint(11, (2, 8))
    torch.testing.assert_close(everywhere(idx)[0], plain(idx)[0])  # eval mode: no dropout
    plain.train(), everywhere.train()
    torch.manual_seed(1)
    a = plain(idx)[0]
    torch.manual_seed(1)
    b = everywhere(idx)[0]
    assert not torch.allclose(a, b)  # more places drop


def test_relu_squared_and_qk_norm_change_the_function():
    idx = torch.randint(11, (2, 8))
    base = small_model()(idx)[0]
    for switch in ({"activation": "relu_squared"}, {"qk_norm": True}):
        assert not torch.allclose(small_model(**switch)(idx)[0], base)


def test_short_conv_is_x_plus_a_causal_depthwise_convolution():
    x = torch.randn(2, 7, 5, dtype=torch.float64, requires_grad=True)
    w = torch.randn(3, 5, dtype=torch.float64, requires_grad=True)
    # torch's conv1d: channels first, one filter per channel (groups), left padding only;
    # conv1d correlates, so tap k (the position k back) is the filter's last-but-k entry
    filters = w.flip(0).t().unsqueeze(1)  # (C, 1, K)
    padded = torch.nn.functional.pad(x.transpose(1, 2), (2, 0))
    expected = x + torch.nn.functional.conv1d(padded, filters, groups=5).transpose(1, 2)
    torch.testing.assert_close(ShortConvFunction.apply(x, w), expected)
    assert torch.autograd.gradcheck(ShortConvFunction.apply, (x, w))  # the hand-written backward


def test_ffwd_conv_sees_only_the_past_and_starts_as_the_identity():
    idx = torch.randint(11, (1, 8))
    changed = idx.clone()
    changed[0, 5] = (idx[0, 5] + 1) % 11
    model = small_model(ffwd_conv=4, rotary=True)
    a, b = model(idx)[0], model(changed)[0]
    torch.testing.assert_close(a[:, :5], b[:, :5])  # positions before 5 cannot see it
    assert not torch.allclose(a[:, 5:], b[:, 5:])
    torch.manual_seed(0)
    fresh = GPT(GPTConfig(**SMALL, rotary=True, ffwd_conv=4))
    torch.manual_seed(0)
    plain = GPT(GPTConfig(**SMALL, rotary=True))
    plain.load_state_dict(fresh.state_dict(), strict=False)  # all but the zero conv weights
    torch.testing.assert_close(fresh(idx)[0], plain(idx)[0])


def test_token_chunks_gives_the_first_rows_ids_in_order():
    model = small_model()
    prompt = torch.randint(11, (2, 3))
    every = tokens(model, prompt, 23, seed=4)[0].tolist()
    for chunk in (1, 5, 16):
        steps = generate(model, prompt, 23, generator=torch.Generator().manual_seed(4))
        assert list(token_chunks(steps, chunk)) == every


def test_the_public_generate_is_the_function_even_after_its_module_is_imported():
    import learngpt
    import learngpt.engine

    assert learngpt.generate is learngpt.engine.generate
