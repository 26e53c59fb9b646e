"""Hugging Face GPT-2 checkpoints <-> learngpt run directories.

A Hugging Face GPT-2 directory holds config.json (the shape), model.safetensors (or the older
pytorch_model.bin) and the tokenizer's vocab.json + merges.txt. GPT-2 is the same architecture
as learngpt's model with these options: learned positions, LayerNorm, GELU (tanh approximation),
biases everywhere but the head, the head tied to the token embedding. Two things differ in form:

- the names: transformer.h.0.attn.c_attn.weight is blocks.0.attn.qkv.weight, and so on;
- GPT-2's linear layers are `Conv1D`s, which store their matrix as (in, out), the transpose of
  nn.Linear's (out, in).

import_gpt2 reads such a directory into a run directory (what `learngpt train` writes), so that
sample, eval and load_run work on it; export_gpt2 writes a run back out as one that
transformers.AutoModelForCausalLM.from_pretrained loads. Nothing here needs transformers.
"""

from __future__ import annotations

import dataclasses
import json
import re
import warnings
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from learngpt import checkpoint
from learngpt.config import TrainConfig, config_from_dict
from learngpt.errors import UserError
from learngpt.fileio import can_be_new_directory, check_regular, new_directory
from learngpt.interop.safetensors_header import WEIGHTS_FILE, header_shapes
from learngpt.model import GPT, GPTConfig, build_optimizer
from learngpt.runs import RUN_INFO, TOKENIZER, build_model, load_run, save_config
from learngpt.tokenizers import BPETokenizer, Tokenizer
from learngpt.tokenizers.bpe import GPT2_PATTERN
from learngpt.tokenizers.gpt2_files import gpt2_files_text, read_json, token_string

# learngpt's activation names and Hugging Face's (ACT2FN); gelu_new is GPT-2's
ACTIVATIONS = {"relu": "relu", "gelu": "gelu", "gelu_tanh": "gelu_new"}
HF_ACTIVATIONS = {
    **{hf: ours for ours, hf in ACTIVATIONS.items()},
    "gelu_pytorch_tanh": "gelu_tanh",
}

# The model options GPT-2 can express with any value (a bias it lacks is a zero bias)
ANY_VALUE = {"vocab_size", "block_size", "n_layers", "n_heads", "embed_size", "dropout", "bf16"}
ANY_VALUE |= {"bias", "tie_weights", "ffwd_size", "qkv_bias", "norm_eps"}

WEIGHTS, PICKLED_WEIGHTS = "model.safetensors", "pytorch_model.bin"


def weight_names(n_layers: int) -> dict[str, tuple[str, bool]]:
    """learngpt parameter name -> (GPT-2 name, whether GPT-2 stores it transposed)."""
    names = {
        "token_embedding.weight": ("wte.weight", False),
        "position_embedding.weight": ("wpe.weight", False),
        "ln_f.weight": ("ln_f.weight", False),
        "ln_f.bias": ("ln_f.bias", False),
        "lm_head.weight": ("lm_head.weight", False),
    }
    per_block = {
        "ln1": ("ln_1", False),
        "attn.qkv": ("attn.c_attn", True),
        "attn.proj": ("attn.c_proj", True),
        "ln2": ("ln_2", False),
        "ffwd.fc": ("mlp.c_fc", True),
        "ffwd.proj": ("mlp.c_proj", True),
    }
    for i in range(n_layers):
        for ours, (theirs, transposed) in per_block.items():
            names[f"blocks.{i}.{ours}.weight"] = (f"h.{i}.{theirs}.weight", transposed)
            names[f"blocks.{i}.{ours}.bias"] = (f"h.{i}.{theirs}.bias", False)
    return names


# ---- import -------------------------------------------------------------------------------


def import_gpt2(src: str | Path, out: str | Path) -> Path:
    """Read the Hugging Face GPT-2 directory `src` into a new run directory `out`.

    Everything is read and checked before anything is written; the run appears whole or not
    at all. Raises UserError naming the file and what is wrong.
    """
    src, out = Path(src), Path(out)
    if not src.is_dir():
        raise UserError(f"{src} is not a directory; pass a Hugging Face GPT-2 model directory")
    if not can_be_new_directory(out):
        raise UserError(f"--out {out} already exists; choose a new run directory")
    hf_config = read_json(src / "config.json")
    tokenizer = read_tokenizer(src)
    config = train_config(hf_config, tokenizer.vocab_size, src)
    # config.json is checked against the weights' own shapes before anything of its size exists
    check_shapes(config, tokenizer.vocab_size, weight_shapes(src), src)
    model = build_model(config, tokenizer.vocab_size)
    model.load_state_dict(our_weights(read_weights(src), model, src))
    with new_directory(out) as tmp:
        tokenizer.save(tmp / TOKENIZER)
        save_config(tmp, config)
        info = {"imported_from": str(src.resolve()), "format": "Hugging Face GPT-2"}
        (tmp / RUN_INFO).write_text(json.dumps(info, indent=1), encoding="utf-8")
        # a checkpoint at step 0, as if trained: load_run, sample and eval read it
        optimizer = build_optimizer(model, config)
        info = {"step": 0, "config": config.to_dict()}
        checkpoint.save_checkpoint(tmp, model, optimizer, {}, info)
    return out


def read_tokenizer(src: Path) -> BPETokenizer:
    """tokenizer.json, which transformers prefers, else GPT-2's vocab.json and merges.txt."""
    if (src / "tokenizer.json").is_file():
        return BPETokenizer.from_tokenizer_json(src / "tokenizer.json")
    return BPETokenizer.from_gpt2(src / "vocab.json", src / "merges.txt")


def train_config(hf: dict[str, Any], vocab_size: int, src: Path) -> TrainConfig:
    """The learngpt config of a GPT-2 config.json; UserError for what learngpt cannot run."""
    where = src / "config.json"
    if hf.get("model_type") != "gpt2":
        raise UserError(f"{where} has model_type {hf.get('model_type')!r}, not 'gpt2'")
    unsupported = {
        "scale_attn_weights": (True, "attention scores always divided by sqrt(head size)"),
        "scale_attn_by_inverse_layer_idx": (False, "no per-layer attention scaling"),
        "add_cross_attention": (False, "no cross-attention"),
    }
    for key, (needed, what) in unsupported.items():
        if hf.get(key, needed) != needed:
            raise UserError(f"{where}: {key} is {hf[key]!r}; learngpt's model has {what}")
    activation = hf.get("activation_function", "gelu_new")
    if activation not in HF_ACTIVATIONS:
        raise UserError(
            f"{where}: activation_function {activation!r} is not one of {', '.join(HF_ACTIVATIONS)}"
        )
    if hf.get("vocab_size") != vocab_size:
        raise UserError(
            f"{where} says vocab_size {hf.get('vocab_size')}, "
            f"but vocab.json holds {vocab_size} tokens"
        )
    try:
        values = {
            "block_size": hf["n_positions"],
            "embed_size": hf["n_embd"],
            "n_layers": hf["n_layer"],
            "n_heads": hf["n_head"],
            "ffwd_size": hf.get("n_inner"),
            "activation": HF_ACTIVATIONS[activation],
            "norm_eps": hf.get("layer_norm_epsilon", 1e-5),
            "dropout": hf.get("resid_pdrop", 0.1),
            "tie_weights": hf.get("tie_word_embeddings", True),
        }
    except KeyError as exc:
        raise UserError(f"{where} lacks the key {exc}; it is not a GPT-2 config") from None
    gpt2 = dict(bias=True, qkv_bias=True, head_bias=False)  # and none of learngpt's additions:
    gpt2 |= dict(rotary=False, rms_norm=False, ffwd_conv=0)
    tokenizer = {"tokenizer": "bpe", "bpe_vocab_size": vocab_size}
    try:
        config = config_from_dict(
            {**TrainConfig().flat(), **values, **gpt2, **tokenizer}, TrainConfig
        )
        return config.with_vocab(vocab_size)
    except UserError as exc:
        raise UserError(f"{where}: {exc}") from None


def weight_shapes(src: Path) -> dict[str, tuple[int, ...]]:
    """{GPT-2 name: shape} of the checkpoint's tensors: from a safetensors file's header alone
    (no tensor loaded); a .bin has no header, so its tensors are loaded (as big as the file)."""
    if (src / WEIGHTS).exists():
        shapes = header_shapes(src / WEIGHTS)
    else:
        shapes = {name: tuple(t.shape) for name, t in read_weights(src).items()}
    return {name.removeprefix("transformer."): shape for name, shape in shapes.items()}


LAYER_QKV = re.compile(r"h\.(\d+)\.attn\.c_attn\.weight")


def check_shapes(
    config: TrainConfig, vocab_size: int, shapes: dict[str, tuple[int, ...]], src: Path
) -> None:
    """UserError if config.json's sizes differ from the weights' shapes; allocates nothing (the
    model is built on the meta device, after its layer count is checked against the file's)."""
    model_config = config.model
    layers = sum(1 for name in shapes if LAYER_QKV.fullmatch(name))
    if model_config.n_layers != layers:
        raise UserError(
            f"{src}: config.json says n_layer {model_config.n_layers}, but the weights hold "
            f"{layers} layers"
        )
    sizes = {  # config.json's sizes against the dimension that holds each, before the model
        "n_embd": (model_config.embed_size, "wte.weight", 1),
        "n_positions": (config.block_size, "wpe.weight", 0),
        "n_inner": (model_config.ffwd_size, "h.0.mlp.c_fc.weight", 1),
    }
    for key, (value, tensor, dim) in sizes.items():
        shape = shapes.get(tensor, ())
        if value is not None and len(shape) > dim and value != shape[dim]:
            raise UserError(
                f"{src}: config.json says {key} {value}, but tensor {tensor} has shape {shape}"
            )
    try:
        with torch.device("meta"):
            model = build_model(config, vocab_size)
    except RuntimeError as exc:  # e.g. a size whose byte count overflows
        raise UserError(f"{src}: config.json's sizes cannot be built ({exc})") from None
    names = weight_names(model_config.n_layers)
    for name, target in model.state_dict().items():
        if name == "lm_head.weight" and model_config.tie_weights:
            continue
        theirs, transposed = names[name]
        shape = shapes.get(theirs)
        if shape is None:
            continue  # our_weights names the missing tensor
        shape = shape[::-1] if transposed and len(shape) == 2 else shape
        if shape != tuple(target.shape):
            raise UserError(
                f"{src}: tensor {theirs} has shape {shape}, but config.json implies "
                f"{tuple(target.shape)}"
            )


def read_weights(src: Path) -> dict[str, torch.Tensor]:
    """The checkpoint's tensors by name (safetensors preferred; a .bin only as plain tensors)."""
    if (src / WEIGHTS).exists():
        check_regular(src / WEIGHTS, "weights file", WEIGHTS_FILE)
        try:
            return load_file(src / WEIGHTS)
        except (SafetensorError, OSError, ValueError) as exc:
            raise UserError(f"{src / WEIGHTS} is not a readable safetensors file ({exc})") from None
    if (src / PICKLED_WEIGHTS).exists():
        check_regular(src / PICKLED_WEIGHTS, "weights file", WEIGHTS_FILE)
        tensors = load_plain_tensors(src / PICKLED_WEIGHTS)
        if isinstance(tensors, dict) and all(isinstance(t, torch.Tensor) for t in tensors.values()):
            return tensors
        raise UserError(f"{src / PICKLED_WEIGHTS} does not hold a mapping of names to tensors")
    raise UserError(f"{src} has neither {WEIGHTS} nor {PICKLED_WEIGHTS}")


def load_plain_tensors(path: Path) -> object:
    """torch.load with weights_only: tensors and plain containers; a pickle that names anything
    else (code to run) is refused in one line, without torch's advice to load it unsafely."""
    try:
        with warnings.catch_warnings():  # torch's warnings about the file's format: not ours
            warnings.simplefilter("ignore")
            return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises UnpicklingError, RuntimeError, EOFError, ...
        named = re.search(r"Unsupported global: GLOBAL ([\w.]+)", str(exc))
        what = f"it names {named.group(1)}" if named else f"{type(exc).__name__}"
        raise UserError(
            f"refusing {path}: it holds more than plain tensors ({what}), and loading it could "
            f"run code; convert it to {WEIGHTS} with a tool you trust"
        ) from None


# GPT-2's causal-mask buffers, in older checkpoints: not weights
MASK_BUFFER = re.compile(r"h\.\d+\.attn\.(bias|masked_bias)")


def our_weights(hf: dict[str, torch.Tensor], model: GPT, src: Path) -> dict[str, torch.Tensor]:
    """GPT-2's tensors renamed, transposed and checked against the shapes `model` expects."""
    hf = {name.removeprefix("transformer."): t for name, t in hf.items()}
    hf = {name: t for name, t in hf.items() if not MASK_BUFFER.fullmatch(name)}
    if model.config.tie_weights:
        hf.pop("lm_head.weight", None)  # the same matrix as wte, when saved twice
    expected = model.state_dict()
    names = weight_names(model.config.n_layers)
    ours = {}
    for name, target in expected.items():
        if name == "lm_head.weight" and model.config.tie_weights:
            continue  # the token embedding's matrix (set below)
        theirs, transposed = names[name]
        if theirs not in hf:
            raise UserError(f"{src}: the checkpoint lacks the tensor {theirs}")
        tensor = hf.pop(theirs)
        tensor = tensor.t() if transposed and tensor.dim() == 2 else tensor
        if tensor.shape != target.shape:
            raise UserError(
                f"{src}: tensor {theirs} has shape {tuple(tensor.shape)}, but config.json "
                f"implies {tuple(target.shape)}"
            )
        ours[name] = tensor.to(torch.float32).contiguous()
    if model.config.tie_weights:
        ours["lm_head.weight"] = ours["token_embedding.weight"]
    if hf:
        raise UserError(f"{src}: the checkpoint has tensors GPT-2 does not, e.g. {sorted(hf)[0]}")
    return ours


# ---- export -------------------------------------------------------------------------------


def export_gpt2(run_dir: str | Path, dest: str | Path, which: str = "best") -> list[str]:
    """Write the run's model (and tokenizer, where GPT-2 can express it) to the new directory
    `dest` in Hugging Face GPT-2 form. Returns notes on what was left out."""
    dest = Path(dest)
    if not can_be_new_directory(dest):
        raise UserError(f"{dest} already exists; choose a new directory to export to")
    run = load_run(run_dir, which=which, device="cpu")
    check_gpt2_options(run.model.config)
    files, notes = tokenizer_files(run.tokenizer, run.config.block_size)
    with new_directory(dest) as tmp:
        config = hf_config(run.model.config, run.tokenizer)
        (tmp / "config.json").write_text(json.dumps(config, indent=1), encoding="utf-8")
        save_file(gpt2_weights(run.model), tmp / WEIGHTS, metadata={"format": "pt"})
        for name, text in files.items():
            (tmp / name).write_text(text, encoding="utf-8")
    return notes


def check_gpt2_options(config: GPTConfig) -> None:
    """UserError naming the first option GPT-2's architecture cannot express."""
    problems = [
        ("rotary", config.rotary, "GPT-2 learns a position table: train with --no-rotary"),
        ("rms_norm", config.rms_norm, "GPT-2 uses LayerNorm: train with --no-rms-norm"),
        ("ffwd_conv", config.ffwd_conv, "GPT-2 has no convolution: train with --ffwd-conv 0"),
        ("activation", config.activation not in ACTIVATIONS, f"GPT-2 has {', '.join(ACTIVATIONS)}"),
        (
            "head_bias",
            config.bias and config.head_bias,
            "GPT-2's head has no bias: train with --no-head-bias",
        ),
    ]
    # an option not judged here (a newer switch) passes only at its default value
    judged = ANY_VALUE | {name for name, _, _ in problems}
    defaults = GPTConfig(vocab_size=config.vocab_size)
    problems += [
        (f.name, getattr(config, f.name) != getattr(defaults, f.name), "GPT-2 has no such option")
        for f in dataclasses.fields(GPTConfig)
        if f.name not in judged
    ]
    for name, bad, how in problems:
        if bad:
            value = getattr(config, name)
            raise UserError(f"cannot export as GPT-2: the run has {name}={value!r}; {how}")


def hf_config(config: GPTConfig, tokenizer: Tokenizer) -> dict[str, Any]:
    end = getattr(tokenizer, "special_tokens", {}).get("<|endoftext|>")
    return {
        "architectures": ["GPT2LMHeadModel"],
        "model_type": "gpt2",
        "vocab_size": config.vocab_size,
        "n_positions": config.block_size,
        "n_embd": config.embed_size,
        "n_layer": config.n_layers,
        "n_head": config.n_heads,
        "n_inner": config.ffwd_size,
        "activation_function": ACTIVATIONS[config.activation],
        "layer_norm_epsilon": config.norm_eps,
        "resid_pdrop": config.dropout,
        "embd_pdrop": 0.0,
        "attn_pdrop": 0.0,
        "initializer_range": 0.02,
        "tie_word_embeddings": config.tie_weights,
        "bos_token_id": end,
        "eos_token_id": end,
        "torch_dtype": "float32",
    }


def gpt2_weights(model: GPT) -> dict[str, torch.Tensor]:
    """The model's tensors under GPT-2's names; biases it lacks (bias/qkv_bias off) are zeros."""
    ours = model.state_dict()
    tensors = {}
    for name, (theirs, transposed) in weight_names(model.config.n_layers).items():
        if name == "lm_head.weight":
            if model.config.tie_weights:
                continue  # transformers ties it to wte itself
            tensors[name] = ours[name].clone()
            continue
        if name in ours:
            tensor = ours[name].t() if transposed else ours[name]
        else:  # a bias this model does without (bias or qkv_bias off): GPT-2's is zero
            tensor = torch.zeros(ours[name.removesuffix("bias") + "weight"].shape[0])
        tensors[f"transformer.{theirs}"] = tensor.detach().to(torch.float32).contiguous().clone()
    return tensors


def tokenizer_files(tokenizer: Tokenizer, block_size: int) -> tuple[dict[str, str], list[str]]:
    """Hugging Face tokenizer files for a byte-level BPE; ({}, [why not]) for any other."""
    if not isinstance(tokenizer, BPETokenizer):
        return {}, [
            f"tokenizer not exported: GPT-2 tokenizers are byte-level BPE, not {tokenizer.kind}"
        ]
    if tokenizer.pattern not in (None, GPT2_PATTERN):
        return {}, ["tokenizer not exported: its split pattern is not GPT-2's"]
    try:
        vocab_json, merges_txt = gpt2_files_text(
            tokenizer.vocab, tokenizer.merges, tokenizer.special_tokens
        )
    except ValueError as exc:
        return {}, [f"tokenizer not exported: {exc}"]
    specials = tokenizer.special_tokens
    end = "<|endoftext|>" if "<|endoftext|>" in specials else None
    # GPT-2's pattern is what Hugging Face's ByteLevel pre-tokenizer splits by (use_regex);
    # without a pattern, BPE runs over the whole text, as learngpt's default tokenizer does.
    use_regex = tokenizer.pattern is not None
    fast = fast_tokenizer_json(tokenizer, json.loads(vocab_json), use_regex)
    tokenizer_config = {
        # GPT2Tokenizer always splits by GPT-2's pattern; without one, the generic class runs
        # tokenizer.json as written
        "tokenizer_class": "GPT2Tokenizer" if use_regex else "PreTrainedTokenizerFast",
        "model_max_length": block_size,
        "add_prefix_space": False,
        **({"bos_token": end, "eos_token": end, "unk_token": end} if end else {}),
    }
    files = {
        "tokenizer.json": json.dumps(fast, ensure_ascii=False),
        "tokenizer_config.json": json.dumps(tokenizer_config, indent=1),
    }
    if use_regex:  # the slow GPT2Tokenizer reads these and always splits by GPT-2's pattern
        files |= {"vocab.json": vocab_json, "merges.txt": merges_txt}
    return files, []


def fast_tokenizer_json(tokenizer: BPETokenizer, vocab: dict, use_regex: bool) -> dict[str, Any]:
    """Hugging Face's tokenizer.json for a byte-level BPE (vocab: vocab.json's mapping)."""
    specials = tokenizer.special_tokens
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True}
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [
            {
                "id": i,
                "content": text,
                "single_word": False,
                "lstrip": False,
                "rstrip": False,
                "normalized": False,
                "special": True,
            }
            for text, i in sorted(specials.items(), key=lambda item: item[1])
        ],
        "normalizer": None,
        "pre_tokenizer": {**byte_level, "use_regex": use_regex},
        "post_processor": {**byte_level, "trim_offsets": False, "use_regex": use_regex},
        "decoder": {**byte_level, "use_regex": use_regex},
        "model": {
            "type": "BPE",
            "dropout": None,
            "unk_token": None,
            "continuing_subword_prefix": None,
            "end_of_word_suffix": None,
            "fuse_unk": False,
            "byte_fallback": False,
            "vocab": vocab,
            "merges": [
                [token_string(tokenizer.vocab[a]), token_string(tokenizer.vocab[b])]
                for (a, b), _ in tokenizer.merges
            ],
        },
    }
