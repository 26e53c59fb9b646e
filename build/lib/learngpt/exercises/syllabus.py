"""The course as exercises: its ten steps, their TODOs (in the course's words, Korean and English),
the hints, and which workspace file holds which class of learngpt/course.

The TODO ids match the `# BEGIN SOLUTION <id>` markers in learngpt/course/stepNN_*.py.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Todo:
    id: str  # "5-1": step 5, first TODO
    ko: str
    en: str

    @property
    def step(self) -> int:
        return int(self.id.split("-")[0])

    def instruction(self, lang: str = "ko") -> str:
        """Both languages, `lang` first."""
        first, second = (self.ko, self.en) if lang == "ko" else (self.en, self.ko)
        return f"{first}\n{second}"


@dataclass(frozen=True)
class Step:
    number: int
    title: str  # the course's heading
    teaches: str
    classes: tuple[str, ...]  # the classes this step's TODOs are in
    needs: tuple[int, ...]  # earlier steps whose code this step's tests run
    hints: tuple[str, ...]  # from a nudge to nearly the answer


@dataclass(frozen=True)
class WorkspaceFile:
    name: str  # the file in mygpt/
    module: str  # the learngpt.course module that holds the reference
    classes: tuple[str, ...]


TODOS = (
    Todo(
        "1-1",
        "`GPTVer1.generate`를 구현해주세요: max_new_tokens 번 (1) self.crop_context(idx)의 "
        "예측(logits)을 구하고 (2) 마지막 예측에 softmax를 적용하고 (3) 그 분포에서 "
        "샘플링하여 (4) context에 이어 붙입니다.",
        "Write `GPTVer1.generate`: max_new_tokens times, (1) get the predictions (logits) of "
        "self.crop_context(idx), "
        "(2) apply softmax to the last one, (3) sample from that distribution, "
        "(4) append the sample to the context.",
    ),
    Todo(
        "2-1",
        "`HeadVer1.forward`를 2중 for문(batch, time)으로 구현해주세요: 각 위치의 출력은 그 위치와 "
        "이전 모든 위치의 embedding vector의 평균입니다.",
        "Write `HeadVer1.forward` with two nested for loops (batch, time): the output at each "
        "position is the mean of the vectors at that position and at every earlier one.",
    ),
    Todo(
        "2-2",
        "`GPTVer2.logits`를 구현해주세요: embedding(self.embed(idx)) -> "
        "head(self.contextualizer) -> FC(self.lm_head)로 "
        "(batch_size, block_size, vocab_size) 크기의 logits을 만듭니다.",
        "Write `GPTVer2.logits`: embedding (self.embed(idx)) -> head (self.contextualizer) -> "
        "FC (self.lm_head), giving logits of shape (batch_size, block_size, vocab_size).",
    ),
    Todo(
        "3-1",
        "`HeadVer2.forward`: HeadVer1과 같은 평균을 matrix multiplication으로 구현해주세요 "
        "(hint: torch.tril(...)).",
        "Write `HeadVer2.forward`: HeadVer1's average as one matrix multiplication "
        "(hint: torch.tril(...)).",
    ),
    Todo(
        "4-1",
        "`HeadVer3.masked_softmax`: (..., T, T) score에서 미래 위치(열 > 행)를 -inf로 가린 뒤 "
        "마지막 차원에 softmax를 적용해주세요.",
        "Write `HeadVer3.masked_softmax`: set the future (column > row) of the (..., T, T) "
        "scores to -inf, then take softmax over the last dimension.",
    ),
    Todo(
        "4-2",
        "`HeadVer3.forward`: HeadVer2를 softmax를 사용하여 구현하고 가중치를 self.wei에 "
        "저장해주세요 (hint: softmax([0, 0, -inf, -inf]) = [0.5, 0.5, 0, 0]).",
        "Write `HeadVer3.forward`: HeadVer2's average with softmax, keeping the weights in "
        "self.wei (hint: softmax([0, 0, -inf, -inf]) = [0.5, 0.5, 0, 0]).",
    ),
    Todo(
        "5-1",
        "`HeadVer4.forward`: Attention(Q, K, V) = softmax(QK^T / sqrt(d_k))V 를 HeadVer3의 "
        "전략(masked_softmax)으로 구현하고 self.var = (Q@K^T / sqrt(d_k)).var(), self.wei = 최종 "
        "wei를 저장해주세요. 위의 if debug: 는 test code를 위한 부분이니 수정하지 말아주세요.",
        "Write `HeadVer4.forward`: Attention(Q, K, V) = softmax(Q K^T / sqrt(d_k)) V with "
        "HeadVer3's masked softmax; keep self.var = (Q @ K^T / sqrt(d_k)).var() and self.wei = "
        "the final weights. The `if debug:` block above is for the tests: leave it as it is.",
    ),
    Todo(
        "6-1",
        "`GPTVer3.pos_encodings_v1`: 모든 channel에 위치 index 자체를 담은 "
        "(block_size, embed_size) 텐서를 반환해주세요.",
        "Write `GPTVer3.pos_encodings_v1`: a (block_size, embed_size) tensor holding the "
        "position index itself in every channel.",
    ),
    Todo(
        "6-2",
        "`GPTVer3.pos_encodings_v2`: 위치 index를 마지막 index(block_size - 1)로 나눈 값을 모든 "
        "channel에 담아주세요.",
        "Write `GPTVer3.pos_encodings_v2`: the position index divided by the last index "
        "(block_size - 1), in every channel.",
    ),
    Todo(
        "6-3",
        "`GPTVer3.pos_encodings_v3`: channel i에 sin(pos * 10000^(-i / embed_size))를 담아주세요.",
        "Write `GPTVer3.pos_encodings_v3`: sin(pos * 10000^(-i / embed_size)) in channel i.",
    ),
    Todo(
        "6-4",
        "`GPTVer3.pos_encodings_v4`: Vaswani et al. 2017의 sinusoid, channel 2i에 "
        "sin(pos / 10000^(2i / embed_size)), channel 2i + 1에 같은 각도의 cos을 담아주세요.",
        "Write `GPTVer3.pos_encodings_v4`, the sinusoids of Vaswani et al. 2017: "
        "sin(pos / 10000^(2i / embed_size)) in channel 2i, the cos of that angle in "
        "channel 2i + 1.",
    ),
    Todo(
        "6-5",
        "`GPTVer3.embed`: token embedding에 positional encoding(self.pos_encoding의 앞 T개 행)을 "
        "더해주세요 (x = tok_emb + pos_emb).",
        "Write `GPTVer3.embed`: add the positional encoding (the first T rows of "
        "self.pos_encoding) to the token embeddings (x = tok_emb + pos_emb).",
    ),
    Todo(
        "7-1",
        "`MultiHeadVer1.forward`: input x를 n_heads 개의 self-attention head를 통과한 후 "
        "head_output을 concatenate하고, projection layer(FC)를 통과시켜 multi-head attention을 "
        "구현해주세요.",
        "Write `MultiHeadVer1.forward`: pass x through each of the n_heads self-attention heads, "
        "concatenate their outputs, then apply the projection layer (FC).",
    ),
    Todo(
        "8-1",
        "`FeedForward`를 구현해주세요. FFNN(x) = max(0, xW_1 + b_1)W_2 + b_2 "
        "(W_1의 shape은 (embed_size, 4 * embed_size), W_2의 shape은 (4 * embed_size, embed_size)).",
        "Write `FeedForward`: FFNN(x) = max(0, x W_1 + b_1) W_2 + b_2, with W_1 of shape "
        "(embed_size, 4 * embed_size) and W_2 of shape (4 * embed_size, embed_size).",
    ),
    Todo(
        "8-2",
        "`BlockVer1.forward`: Multi-Head Attention을 통과한 뒤 FeedForward layer를 통과시키면 "
        "됩니다.",
        "Write `BlockVer1.forward`: the multi-head attention, then the feed-forward layer.",
    ),
    Todo(
        "8-3",
        "`BlockVer2.forward`: Multi-Head Attention과 FeedForward에 대해 각각 residual "
        "connection을 추가하면 됩니다.",
        "Write `BlockVer2.forward`: add a residual connection around the multi-head attention "
        "and around the feed-forward.",
    ),
    Todo(
        "9-1",
        "`BlockVer3`에서 사용할 `LayerNorm`을 구현해주세요: 마지막(feature) 차원의 평균과 분산으로 "
        "정규화(분모 sqrt(var + eps))한 뒤 self.weight를 곱하고 self.bias를 더합니다.",
        "Write `LayerNorm.forward`, used by `BlockVer3`: normalise over the last (feature) "
        "dimension with its mean and variance (divide by sqrt(var + eps)), then multiply by "
        "self.weight and add self.bias.",
    ),
    Todo(
        "9-2",
        "`BlockVer3.forward`: LayerNorm(self.ln1, self.ln2)을 Multi-Head의 input, FeedForward의 "
        "input 총 2곳에 추가하시면 됩니다.",
        "Write `BlockVer3.forward`: put a LayerNorm (self.ln1, self.ln2) at the input of the "
        "multi-head attention and at the input of the feed-forward.",
    ),
    Todo(
        "10-1",
        "`BlockVer4`를 구현해주세요: Dropout layer를 추가하면 됩니다. Dropout은 Multi-Head의 "
        "output, FeedForward의 output 총 2곳에 추가하시면 됩니다.",
        "Write `BlockVer4` (`__init__` and `forward`): add dropout to the output of the "
        "multi-head attention and to the output of the feed-forward.",
    ),
)

STEPS = (
    Step(
        1,
        "a naive LM (GPTVer1)",
        "a bigram language model and how a language model generates text by sampling",
        ("GPTVer1",),
        (),
        (
            "Each round, self.logits(idx) gives (B, T, V); only the last position predicts the "
            "next token: logits[:, -1, :].",
            "F.softmax(..., dim=-1) turns those logits into probabilities, and "
            "torch.multinomial(probs, num_samples=1) draws one token per row: (B, 1).",
            "for _ in range(max_new_tokens): "
            "logits = self.logits(self.crop_context(idx))[:, -1, :]; "
            "probs = F.softmax(logits, dim=-1); idx_next = torch.multinomial(probs, 1); "
            "idx = torch.cat((idx, idx_next), dim=1). Return idx.",
        ),
    ),
    Step(
        2,
        "taking the past into account (HeadVer1 & GPTVer2)",
        "averaging the past, and a model of embedding -> contextualizer -> lm_head",
        ("HeadVer1", "GPTVer2"),
        (1,),
        (
            "Batches never talk to each other: loop over b in range(B) and t in range(T).",
            "The output at (b, t) is x[b, :t + 1].mean(dim=0); start from out = "
            "torch.zeros_like(x). GPTVer2.logits reads self.embed(idx) first.",
            "out[b, t] = x[b, : t + 1].mean(dim=0) inside both loops. GPTVer2.logits: "
            "return self.lm_head(self.contextualizer(self.embed(idx))).",
        ),
    ),
    Step(
        3,
        "vectorizing for loops (HeadVer2)",
        "the same average as one matrix multiplication",
        ("HeadVer2",),
        (2,),
        (
            "A (T, T) matrix whose row t has weights on columns 0..t, times x (B, T, C), averages "
            "every prefix at once.",
            "torch.tril(torch.ones(T, T)) has ones on and below the diagonal; divide each row by "
            "its sum so that the weights of a row add up to 1.",
            "wei = torch.tril(torch.ones(T, T)); wei = wei / wei.sum(dim=1, keepdim=True); "
            "return wei @ x.",
        ),
    ),
    Step(
        4,
        "masking & normalization (HeadVer3)",
        "the average as softmax over scores whose future is -inf",
        ("HeadVer3",),
        (2, 3),
        (
            "softmax of equal scores gives equal weights; a score of -inf gives weight 0.",
            "future = torch.ones(T, T, dtype=torch.bool).triu(diagonal=1) marks what must be "
            "hidden; scores.masked_fill(future, float('-inf')) hides it.",
            "masked_softmax: return F.softmax(scores.masked_fill(future, float('-inf')), dim=-1). "
            "forward: self.wei = self.masked_softmax(torch.zeros(T, T)); return self.wei @ x.",
        ),
    ),
    Step(
        5,
        "self-attention mechanism (HeadVer4)",
        "one head of causal self-attention, and why the scores are scaled by 1/sqrt(d_k)",
        ("HeadVer4",),
        (1, 2, 4),
        (
            "The scores are q @ k.transpose(-2, -1): (B, T, hs) @ (B, hs, T) -> (B, T, T).",
            "Scale them by self.head_size ** -0.5, store their variance in self.var, then use "
            "self.masked_softmax on them.",
            "scores = q @ k.transpose(-2, -1) * self.head_size**-0.5; self.var = scores.var(); "
            "self.wei = self.masked_softmax(scores); return self.wei @ v.",
        ),
    ),
    Step(
        6,
        "positional encodings (GPTVer3)",
        "why attention needs positions, and four ways to encode them",
        ("GPTVer3",),
        (1, 2, 4, 5),
        (
            "pos = torch.arange(block_size, dtype=torch.float32)[:, None] is (T, 1); "
            "broadcasting against a (C,) row of channel terms makes a (T, C) table.",
            "v1: pos.expand(block_size, embed_size); v2 divides by block_size - 1; v3 multiplies "
            "by 10000 ** (-i / C); v4 fills pe[:, 0::2] with sin and pe[:, 1::2] with cos.",
            "v4: two_i = torch.arange(0, C, 2); angle = pos / 10000 ** (two_i / C); "
            "pe[:, 0::2] = sin(angle); pe[:, 1::2] = cos(angle). embed: "
            "return self.token_embedding_table(idx) + self.pos_encoding[:T].",
        ),
    ),
    Step(
        7,
        "multi-head attention (MultiHeadVer1)",
        "several small heads instead of one wide head, for the same cost",
        ("MultiHeadVer1",),
        (1, 2, 4, 5),
        (
            "self.heads is a ModuleList: call every head on the same x.",
            "Each head returns (B, T, head_size); torch.cat(..., dim=-1) puts them side by side "
            "into (B, T, C).",
            "return self.proj(torch.cat([head(x) for head in self.heads], dim=-1)).",
        ),
    ),
    Step(
        8,
        "feed forward network & residual connection (BlockVer1, BlockVer2)",
        "thinking about what attention gathered, and why deep stacks need a residual path",
        ("FeedForward", "BlockVer1", "BlockVer2"),
        (1, 2, 4),
        (
            "The feed-forward network works on each position alone: nn.Linear layers act on the "
            "last dimension only.",
            "FeedForward: nn.Linear(C, 4 * C), nn.ReLU(), nn.Linear(4 * C, C) (an nn.Sequential "
            "is handy). BlockVer1 is self.ffwd(self.head(x)).",
            "BlockVer2.forward: x = x + self.head(x); x = x + self.ffwd(x); return x.",
        ),
    ),
    Step(
        9,
        "Layer Normalization (LayerNorm, BlockVer3)",
        "normalising each position's features, and pre-norm blocks",
        ("LayerNorm", "BlockVer3"),
        (1, 2, 4, 8),
        (
            "Mean and variance are taken over the last dimension with keepdim=True, so they "
            "broadcast back over the features.",
            "Use the biased variance, x.var(dim=-1, keepdim=True, unbiased=False), as torch's "
            "LayerNorm does; BlockVer3 normalises inside the residual branches.",
            "LayerNorm: (x - mean) / torch.sqrt(var + self.eps) * self.weight + self.bias. "
            "BlockVer3: x = x + self.head(self.ln1(x)); x = x + self.ffwd(self.ln2(x)).",
        ),
    ),
    Step(
        10,
        "Dropout (BlockVer4)",
        "dropout: different in training, the identity in evaluation, and a cure for overfitting",
        ("BlockVer4",),
        (1, 2, 4, 8, 9),
        (
            "nn.Dropout(p) zeroes elements with probability p in train mode and does nothing in "
            "eval mode; create it in __init__.",
            "Apply it to what each branch adds to the residual path, not to the path itself.",
            "self.dropout = nn.Dropout(dropout); x = x + self.dropout(self.head(self.ln1(x))); "
            "x = x + self.dropout(self.ffwd(self.ln2(x))).",
        ),
    ),
)

# The learner's files, in the order the course introduces them, and where their classes live.
WORKSPACE_FILES = (
    WorkspaceFile("gpt_v1.py", "step01_bigram", ("GPTVer1",)),
    WorkspaceFile("head_v1.py", "step02_loop_average", ("HeadVer1",)),
    WorkspaceFile("gpt_v2.py", "step02_loop_average", ("GPTVer2",)),
    WorkspaceFile("head_v2.py", "step03_matmul_average", ("HeadVer2",)),
    WorkspaceFile("head_v3.py", "step04_softmax_average", ("HeadVer3",)),
    WorkspaceFile("head_v4.py", "step05_self_attention", ("HeadVer4",)),
    WorkspaceFile("gpt_v3.py", "step06_positional_encoding", ("GPTVer3",)),
    WorkspaceFile("multi_head_v1.py", "step07_multi_head", ("MultiHeadVer1",)),
    WorkspaceFile("multi_head_v2.py", "step07_multi_head", ("MultiHeadVer2",)),
    WorkspaceFile("gpt_v4.py", "step07_multi_head", ("GPTVer4",)),
    WorkspaceFile("feed_forward.py", "step08_feed_forward", ("FeedForward",)),
    WorkspaceFile("block_v1.py", "step08_feed_forward", ("BlockVer1",)),
    WorkspaceFile("block_v2.py", "step08_feed_forward", ("BlockVer2",)),
    WorkspaceFile("layer_normalization.py", "step09_layer_norm", ("LayerNorm",)),
    WorkspaceFile("block_v3.py", "step09_layer_norm", ("BlockVer3",)),
    WorkspaceFile("block_v4.py", "step10_dropout", ("BlockVer4",)),
)


def get_step(number: int) -> Step:
    for step in STEPS:
        if step.number == number:
            return step
    raise ValueError(f"the course has steps 1 to {len(STEPS)}, not {number}")


def todos_of(step: int) -> list[Todo]:
    return [todo for todo in TODOS if todo.step == step]


def get_todo(todo_id: str) -> Todo:
    return next(todo for todo in TODOS if todo.id == todo_id)


def files_of(step: int) -> list[WorkspaceFile]:
    """The workspace files the learner edits in `step`."""
    classes = set(get_step(step).classes)
    return [f for f in WORKSPACE_FILES if classes & set(f.classes)]
