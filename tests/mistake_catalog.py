"""The mistakes learners make, as small mutations of the answer key (a `--solutions` workspace).

Each row: the step whose check shows it, the learner file, (original, mutated) snippets of that
file, the mistake's key (learngpt/exercises/diagnose.py; its message is `mistakes.<key>` in the
catalogs), and one test of tests/test_<step>.py that the mutation fails (with its arguments).
tests/test_mistakes.py applies each row and asserts that test fails and the diagnosis names it.

PAIRS are two mistakes of one class made together (both rows' edits, or edits of their own where
the two touch the same code); every two mistakes of one class are a pair, unless they are
ALTERNATIVES (two ways of writing one thing wrong) or UNOBSERVABLE (the code then computes what
one of them alone computes).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Mutation:
    step: int
    file: str  # in mygpt/
    edits: tuple[tuple[str, str], ...]  # (original, mutated), each original found once
    key: str
    test: str  # a test function of tests/test_<step>.py that fails with the mutation
    args: dict = field(default_factory=dict)


SAMPLE = "test_generate_samples_from_the_softmax_of_the_logits"
PREFIX = "test_head_ver_1_is_the_prefix_average"
SAME_AS_1 = "test_head_ver_2_is_identical_to_head_ver_1"
EQUAL_SCORES = "test_masked_softmax_of_equal_scores_is_an_average"
VARIANCE = "test_scaled_scores_have_unit_variance_with_unit_variance_q_and_k"
DEFINED = "test_encodings_are_what_the_course_defines"
ADDS = "test_gpt_ver_3_adds_the_encoding_to_the_token_embeddings"
LOGICALLY_EQUAL = "test_multi_head_ver_1_and_multi_head_ver_2_are_logically_equal"
FFN_SHAPES = "test_feed_forward_has_the_course_shapes_and_works_position_wise"
LN_TORCH = "test_layer_norm_matches_torch"
PRE_NORM = "test_block_ver_3_normalises_the_input_of_each_sublayer"
DROP_ONLY = "test_block_ver_4_drops_only_what_the_sublayers_add"
SHAPE = {"shape": (2, 5, 3)}
ATTN = "self.dropout(self.head(self.ln1(x)))"
FORWARD_3 = "self.wei = self.masked_softmax(torch.zeros(T, T, device=x.device, dtype=x.dtype))"
UNMASKED_3 = "self.wei = torch.softmax(torch.zeros(T, T, device=x.device, dtype=x.dtype), dim=-1)"
SOFTMAX = 'F.softmax(scores.masked_fill(future, float("-inf")), dim=-1)'
FFWD = "self.dropout(self.ffwd(self.ln2(x)))"


def m(step, file, edits, key, test, **args) -> Mutation:
    return Mutation(step, file, tuple(edits), key, test, args)


MUTATIONS = (
    # step 1: GPTVer1.generate
    m(1, "gpt_v1.py", [("torch.multinomial(probs, num_samples=1)",
                        "probs.argmax(dim=-1, keepdim=True)")], "1-1.argmax", SAMPLE),
    m(1, "gpt_v1.py", [("torch.multinomial(probs,", "torch.multinomial(logits,")],
      "1-1.sampled_from_logits", SAMPLE),
    m(1, "gpt_v1.py", [("F.softmax(logits, dim=-1)", "F.softmax(logits, dim=0)")],
      "1-1.softmax_over_the_batch", SAMPLE),
    m(1, "gpt_v1.py", [("[:, -1, :]", "[:, 0, :]")], "1-1.first_position",
      "test_generate_follows_the_last_tokens_row"),
    m(1, "gpt_v1.py", [("idx = torch.cat((idx, idx_next), dim=1)", "idx = idx_next")],
      "1-1.context_not_kept", "test_generate_continues_the_context"),
    m(2, "gpt_v1.py", [("self.logits(self.crop_context(idx))", "self.logits(idx)")],
      "1-1.crop_context_unused", "test_generate_reads_only_the_last_block_size_tokens"),
    # step 2: HeadVer1, GPTVer2.logits
    m(2, "head_v1.py", [("x[b, : t + 1].mean(dim=0)", "x[b, : t + 1].sum(dim=0)")],
      "2-1.sum_instead_of_mean", PREFIX, **SHAPE),
    m(2, "head_v1.py", [("x[b, : t + 1].mean(dim=0)", "x[b, :t].mean(dim=0)")],
      "2-1.current_position_left_out", PREFIX, **SHAPE),
    m(2, "head_v1.py", [("x[b, : t + 1].mean(dim=0)", "x[b].mean(dim=0)")],
      "2-1.future_included", PREFIX, **SHAPE),
    m(5, "gpt_v2.py", [("self.contextualizer(self.embed(idx))", "self.embed(idx)")],
      "2-2.contextualizer_unused",
      "test_gpt_ver_2_with_head_ver_4_learns_and_beats_the_plain_average", seed=0),
    m(6, "gpt_v2.py", [("self.contextualizer(self.embed(idx))",
                        "self.contextualizer(self.token_embedding_table(idx))")],
      "2-2.embed_unused", "test_only_gpt_ver_3_tells_the_positions_of_a_repeated_token_apart",
      name="GPTVer3+HeadVer4"),
    # step 3: HeadVer2
    m(3, "head_v2.py", [("torch.tril(torch.ones(T, T, device=x.device, dtype=x.dtype))",
                         "torch.ones(T, T, device=x.device, dtype=x.dtype)")],
      "3-1.future_included", SAME_AS_1, **SHAPE),
    m(3, "head_v2.py", [("wei = wei / wei.sum(dim=1, keepdim=True)", "wei = wei")],
      "3-1.rows_not_normalised", SAME_AS_1, **SHAPE),
    m(3, "head_v2.py", [("torch.tril(", "torch.triu(")], "3-1.upper_triangle", SAME_AS_1,
      **SHAPE),
    m(3, "head_v2.py", [("wei.sum(dim=1, keepdim=True)", "wei.sum(dim=0, keepdim=True)")],
      "3-1.normalised_by_column", SAME_AS_1, **SHAPE),
    # step 4: HeadVer3
    m(4, "head_v3.py", [("masked_fill(future,", "masked_fill(~future,")], "4-1.mask_inverted",
      EQUAL_SCORES),
    m(4, "head_v3.py", [(".triu(diagonal=1)", ".triu(diagonal=0)")], "4-1.diagonal_hidden",
      EQUAL_SCORES),
    m(4, "head_v3.py", [('float("-inf")), dim=-1)', 'float("-inf")), dim=-2)')],
      "4-1.softmax_over_rows", "test_masked_softmax_works_on_batches_of_scores"),
    m(4, "head_v3.py", [('float("-inf")', "0.0")], "4-1.masked_with_zero", EQUAL_SCORES),
    m(4, "head_v3.py", [('F.softmax(scores.masked_fill(future, float("-inf")), dim=-1)',
                         "F.softmax(scores, dim=-1).masked_fill(future, 0.0)")],
      "4-1.masked_after_softmax", EQUAL_SCORES),
    m(4, "head_v3.py", [('F.softmax(scores.masked_fill(future, float("-inf")), dim=-1)',
                         "F.softmax(scores, dim=-1)")], "4-1.hides_nothing", EQUAL_SCORES),
    m(4, "head_v3.py", [("self.wei = self.masked_softmax(torch.zeros(", "wei = self.masked_softmax("
                         "torch.zeros("), ("return self.wei @ x", "return wei @ x")],
      "4-2.wei_not_kept", "test_wei_rows_sum_to_one_and_the_future_is_masked", T=8),
    m(4, "head_v3.py", [(FORWARD_3, UNMASKED_3)], "4-2.future_included",
      "test_wei_rows_sum_to_one_and_the_future_is_masked", T=8),
    # step 5: HeadVer4
    m(5, "head_v4.py", [(" * self.head_size**-0.5", "")], "5-1.not_scaled", VARIANCE,
      head_size=16),
    m(5, "head_v4.py", [(" * self.head_size**-0.5", " * x.shape[-1] ** -0.5")],
      "5-1.scaled_by_embed_size", VARIANCE, head_size=16),
    m(5, "head_v4.py", [(" * self.head_size**-0.5", " / self.head_size")],
      "5-1.scaled_without_sqrt", VARIANCE, head_size=16),
    m(5, "head_v4.py", [("self.wei = self.masked_softmax(scores)",
                         "self.wei = scores.softmax(dim=-1)")],
      "5-1.not_masked", "test_wei_is_normalised_and_masked", debug=False),
    m(5, "head_v4.py", [("return self.wei @ v", "return self.wei @ x")],
      "5-1.weights_times_x", VARIANCE, head_size=16),
    # step 6: GPTVer3
    m(6, "gpt_v3.py", [("pos / max(block_size - 1, 1)", "pos / block_size")],
      "6-2.divided_by_block_size", DEFINED, version="v2"),
    m(6, "gpt_v3.py", [("10000 ** (-torch.arange(", "10000 ** (torch.arange(")],
      "6-3.exponent_sign", DEFINED, version="v3"),
    m(6, "gpt_v3.py", [("pe[:, 0::2] = torch.sin(angle)", "pe[:, 0::2] = torch.cos(angle)"),
                       ("pe[:, 1::2] = torch.cos(", "pe[:, 1::2] = torch.sin(")],
      "6-4.sin_and_cos_swapped", DEFINED, version="v4"),
    m(6, "gpt_v3.py", [(" + self.pos_encoding[:T]", "")], "6-5.positions_not_added", ADDS),
    m(6, "gpt_v3.py", [("self.pos_encoding[:T]", "self.pos_encoding")],
      "6-5.positions_not_cut_to_length", ADDS),
    # step 7: MultiHeadVer1
    m(7, "multi_head_v1.py", [("return self.proj(out)", "return out")],
      "7-1.projection_missing", LOGICALLY_EQUAL),
    m(7, "multi_head_v1.py", [("self.heads], dim=-1)", "self.heads], dim=1)")],
      "7-1.concatenated_over_time", LOGICALLY_EQUAL),
    m(7, "multi_head_v1.py", [("torch.cat([head(x) for head in self.heads], dim=-1)",
                               "sum(head(x) for head in self.heads)")],
      "7-1.heads_added_up", LOGICALLY_EQUAL),
    # step 8: FeedForward, BlockVer1, BlockVer2
    m(8, "feed_forward.py", [("            nn.ReLU(),\n", "")], "8-1.relu_missing", FFN_SHAPES),
    m(8, "feed_forward.py", [("nn.Linear(embed_size, 4 * embed_size)",
                              "nn.Linear(embed_size, embed_size)"),
                             ("nn.Linear(4 * embed_size, embed_size)",
                              "nn.Linear(embed_size, embed_size)")],
      "8-1.hidden_layer_not_4x", FFN_SHAPES),
    m(8, "block_v1.py", [("return self.ffwd(self.head(x))", "return self.head(self.ffwd(x))")],
      "8-2.feed_forward_first", "test_block_ver_1_is_attention_then_feed_forward"),
    m(8, "block_v2.py", [("x = x + self.head(x)", "x = self.head(x)")], "8-3.residual_missing",
      "test_block_ver_2_adds_each_sublayer_to_its_input"),
    m(8, "block_v2.py", [("x = x + self.head(x)  # (B, T, C)\n        x = x + self.ffwd(x)",
                          "x = x + self.ffwd(self.head(x))")],
      "8-3.one_residual_around_both", "test_block_ver_2_adds_each_sublayer_to_its_input"),
    # step 9: LayerNorm, BlockVer3
    m(9, "layer_normalization.py", [("unbiased=False", "unbiased=True")],
      "9-1.unbiased_variance", LN_TORCH, shape=(3, 16)),
    m(9, "layer_normalization.py", [("torch.sqrt(var + self.eps)",
                                     "(torch.sqrt(var) + self.eps)")],
      "9-1.eps_outside_the_root", "test_layer_norm_puts_eps_inside_the_square_root"),
    m(9, "layer_normalization.py", [("return x_hat * self.weight + self.bias", "return x_hat")],
      "9-1.weight_and_bias_unused", LN_TORCH, shape=(3, 16)),
    m(9, "block_v3.py", [("x = x + self.head(self.ln1(x))", "x = self.ln1(x + self.head(x))"),
                         ("x = x + self.ffwd(self.ln2(x))", "x = self.ln2(x + self.ffwd(x))")],
      "9-2.post_norm", PRE_NORM),
    m(9, "block_v3.py", [("x = x + self.head(self.ln1(x))",
                          "x = self.ln1(x)\n        x = x + self.head(x)"),
                         ("x = x + self.ffwd(self.ln2(x))",
                          "x = self.ln2(x)\n        x = x + self.ffwd(x)")],
      "9-2.norm_on_the_residual_path", PRE_NORM),
    # step 10: BlockVer4
    m(10, "block_v4.py", [("self.dropout = nn.Dropout(dropout)", "self.dropout = lambda t: "
                           "nn.functional.dropout(t, dropout, training=True)")],
      "10-1.dropout_in_eval", "test_block_ver_4_output_is_always_the_same_in_eval_mode"),
    m(10, "block_v4.py", [(ATTN, "self.head(self.ln1(self.dropout(x)))"),
                          (FFWD, "self.ffwd(self.ln2(self.dropout(x)))")],
      "10-1.dropout_on_the_input", DROP_ONLY),
    m(10, "block_v4.py", [(f"x = x + {ATTN}", "x = self.dropout(x + self.head(self.ln1(x)))"),
                          (f"x = x + {FFWD}", "x = self.dropout(x + self.ffwd(self.ln2(x)))")],
      "10-1.dropout_on_the_residual_path", DROP_ONLY),
)  # fmt: skip


@dataclass(frozen=True)
class Pair:
    first: str  # its row's test is the failure the pair is checked on
    second: str
    edits: tuple[tuple[str, str], ...] | None = None  # None: the two rows' edits, in turn

    @property
    def keys(self) -> tuple[str, str]:
        return (self.first, self.second)


def pair(first: str, second: str, edits=None) -> Pair:
    return Pair(first, second, None if edits is None else tuple(edits))


# Two ways of getting one thing wrong (the same expression, written wrong one way or the other).
ALTERNATIVES = (
    {"1-1.argmax", "1-1.sampled_from_logits", "1-1.softmax_over_the_batch"},  # how it draws
    {"2-1.current_position_left_out", "2-1.future_included"},  # which positions it averages
    {"3-1.upper_triangle", "3-1.future_included"},  # which positions it averages
    {"3-1.rows_not_normalised", "3-1.normalised_by_column"},  # what it divides by
    {"4-1.mask_inverted", "4-1.diagonal_hidden", "4-1.hides_nothing"},  # which scores it hides
    {"4-1.masked_with_zero", "4-1.masked_after_softmax", "4-1.hides_nothing"},  # how it hides
    {"5-1.not_scaled", "5-1.scaled_by_embed_size", "5-1.scaled_without_sqrt"},  # the scale
    {"6-5.positions_not_added", "6-5.positions_not_cut_to_length"},  # what embed adds
    {"7-1.concatenated_over_time", "7-1.heads_added_up"},  # how the heads are joined
    {"8-3.residual_missing", "8-3.one_residual_around_both"},  # the residuals
    {"9-2.post_norm", "9-2.norm_on_the_residual_path"},  # where the norms are
    {"10-1.dropout_on_the_input", "10-1.dropout_on_the_residual_path"},  # where dropout is
)
# Made together, these compute what one of them alone computes: only that one can be named.
UNOBSERVABLE = {
    # ones(T, T) divided by its columns' sums is ones / T: the plain average of everything
    frozenset({"3-1.future_included", "3-1.normalised_by_column"}),
    # forward's own unmasked softmax of zeros is then what masked_softmax gives: uniform weights
    frozenset({"4-1.hides_nothing", "4-2.future_included"}),
    frozenset({"4-1.masked_with_zero", "4-2.future_included"}),
}

DRAWS = ("1-1.argmax", "1-1.sampled_from_logits", "1-1.softmax_over_the_batch")
SCALES = ("5-1.not_scaled", "5-1.scaled_by_embed_size", "5-1.scaled_without_sqrt")
HOW_4 = ("4-1.masked_with_zero", "4-1.masked_after_softmax")
GPT_V3 = (
    "6-2.divided_by_block_size",
    "6-3.exponent_sign",
    "6-4.sin_and_cos_swapped",
    "6-5.positions_not_added",
    "6-5.positions_not_cut_to_length",
)
UNMASKED_AFTER = "F.softmax(scores, dim={dim}).masked_fill({hidden}, 0.0)"
NOT_KEPT_3 = "wei = torch.softmax(torch.zeros(T, T, device=x.device, dtype=x.dtype), dim=-1)"

PAIRS = (
    # GPTVer1.generate: how it draws x which row it reads, whether it keeps the context, crops
    *(pair(d, other) for d in DRAWS for other in
      ("1-1.first_position", "1-1.context_not_kept", "1-1.crop_context_unused")),
    pair("1-1.first_position", "1-1.context_not_kept"),
    pair("1-1.first_position", "1-1.crop_context_unused"),
    pair("1-1.context_not_kept", "1-1.crop_context_unused"),
    # HeadVer1, GPTVer2
    pair("2-1.sum_instead_of_mean", "2-1.current_position_left_out",
         [("x[b, : t + 1].mean(dim=0)", "x[b, :t].sum(dim=0)")]),
    pair("2-1.sum_instead_of_mean", "2-1.future_included",
         [("x[b, : t + 1].mean(dim=0)", "x[b].sum(dim=0)")]),
    pair("2-2.contextualizer_unused", "2-2.embed_unused",
         [("self.contextualizer(self.embed(idx))", "self.token_embedding_table(idx)")]),
    # HeadVer2
    pair("3-1.upper_triangle", "3-1.rows_not_normalised"),
    pair("3-1.upper_triangle", "3-1.normalised_by_column"),
    pair("3-1.future_included", "3-1.rows_not_normalised"),
    # HeadVer3: which scores masked_softmax hides x how x along which dim; and forward
    pair("4-1.mask_inverted", "4-1.masked_with_zero"),
    pair("4-1.mask_inverted", "4-1.masked_after_softmax",
         [(SOFTMAX, UNMASKED_AFTER.format(dim=-1, hidden="~future"))]),
    pair("4-1.diagonal_hidden", "4-1.masked_with_zero"),
    pair("4-1.diagonal_hidden", "4-1.masked_after_softmax"),
    *(pair("4-1.softmax_over_rows", other) for other in
      ("4-1.mask_inverted", "4-1.diagonal_hidden", "4-1.masked_with_zero")),
    pair("4-1.softmax_over_rows", "4-1.hides_nothing", [(SOFTMAX, "F.softmax(scores, dim=-2)")]),
    pair("4-1.softmax_over_rows", "4-1.masked_after_softmax",
         [(SOFTMAX, UNMASKED_AFTER.format(dim=-2, hidden="future"))]),
    *(pair(key, "4-2.wei_not_kept") for key in
      ("4-1.mask_inverted", "4-1.diagonal_hidden", "4-1.hides_nothing", "4-1.softmax_over_rows",
       "4-1.masked_with_zero", "4-1.masked_after_softmax")),
    *(pair(key, "4-2.future_included") for key in
      ("4-1.mask_inverted", "4-1.diagonal_hidden", "4-1.softmax_over_rows",
       "4-1.masked_after_softmax")),
    pair("4-2.wei_not_kept", "4-2.future_included",
         [(FORWARD_3, NOT_KEPT_3), ("return self.wei @ x", "return wei @ x")]),
    # HeadVer4: the scale x the mask x the values
    *(pair(s, other) for s in SCALES for other in ("5-1.not_masked", "5-1.weights_times_x")),
    pair("5-1.not_masked", "5-1.weights_times_x"),
    # GPTVer3: two of its methods wrong
    *(pair(a, b) for i, a in enumerate(GPT_V3) for b in GPT_V3[i + 1 :]
      if not (a.startswith("6-5") and b.startswith("6-5"))),
    # MultiHeadVer1, FeedForward
    pair("7-1.projection_missing", "7-1.concatenated_over_time"),
    pair("7-1.projection_missing", "7-1.heads_added_up"),
    pair("8-1.relu_missing", "8-1.hidden_layer_not_4x"),
    # LayerNorm: torch.std (unbiased) with eps outside the root, as the course's own code has it
    pair("9-1.unbiased_variance", "9-1.eps_outside_the_root",
         [("var = x.var(dim=-1, keepdim=True, unbiased=False)",
           "std = x.std(dim=-1, keepdim=True)"),
          ("torch.sqrt(var + self.eps)", "(std + self.eps)")]),
    pair("9-1.unbiased_variance", "9-1.weight_and_bias_unused"),
    pair("9-1.eps_outside_the_root", "9-1.weight_and_bias_unused"),
    # BlockVer4
    pair("10-1.dropout_in_eval", "10-1.dropout_on_the_input"),
    pair("10-1.dropout_in_eval", "10-1.dropout_on_the_residual_path"),
)  # fmt: skip
