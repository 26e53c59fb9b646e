"""`learngpt prepare` against tiktoken's and tokenizers' own batch encoding, and its peak memory.

Generates synthetic corpora under --dir (nothing is downloaded): lines of the shipped
Shakespeare shuffled with mixed lines (Korean, emoji, accents, CRLF, runs of spaces, blank
lines), in --files files per size. For each size (50, 100, 200 MB by default) it runs
`learngpt prepare` (BPE, --vocab-size) as a subprocess and samples the memory of its whole
process tree (the sum of PSS, and of RSS) every 50 ms: the peak should stay flat as the corpus
grows. On the largest corpus it then
- encodes the first --library-mb (20) MB of the same files with the same vocabulary by
  tiktoken's encode_ordinary_batch and Hugging Face tokenizers' encode_batch (both from text
  already in memory, in 1 MB pieces, on every core; tokenizers with its own GPT-2 split), and
  prints MB/s and prepare's ratio to each (tokenizers takes minutes for all 200 MB);
- checks that the prepared ids equal tiktoken's encoding of each whole file (for every
  --chunk-mb given: prepare runs again with each);
- trains 30 steps from its token files and from 2 MB of tokens (the same vocabulary), with
  --nproc 1 and 2, and prints the peak anonymous memory (RssAnon: not the mapped files).

With --hard MB it measures instead the texts that once had no place to cut (issue 35): one
line of MB megabytes (Shakespeare, its newlines made spaces), MB of indented lines, and MB of
DNA letters on one line (no safe cut at all: forced cuts); each against the plain corpus of the
same size, in the same run: seconds, the ratio, and the largest peak resident memory (VmHWM) of
any one of prepare's processes (the goal: <= 60 s and <= 700 MB for 50 MB on 2 cores).

    .venv/bin/python bench/prepare.py [--sizes 50 100 200] [--files 4] [--chunk-mb 1 0.37]
    .venv/bin/python bench/prepare.py --hard 50
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

from learngpt.prepare.cuts import cutter_for
from learngpt.resources import shakespeare_path
from learngpt.tokenizers import Tokenizer
from learngpt.tokenizers.fast import tiktoken_encoding
from learngpt.tokenizers.gpt2_files import token_string

MIXED = [
    "안녕하세요, 셰익스피어를 읽어 봅시다. 사느냐 죽느냐, 그것이 문제로다.",
    "emoji 😀🎉👩‍👩‍👧 and café naïve façade — “quotes” ½ x² ٣٤",
    "windows line\r\nending\r\n",
    "    indented    with   runs  of     spaces",
    "",
    "\t tabs\tand_underscores it's we'll THEY'RE 12345 3.14159",
]


def make_corpus(folder: Path, megabytes: int, files: int, seed: int = 0) -> list[Path]:
    """`files` files of megabytes/files MB each of shuffled Shakespeare and mixed lines."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = shakespeare_path().read_text(encoding="utf-8").splitlines() + MIXED * 400
    rng = random.Random(seed)
    paths = []
    for i in range(files):
        path = folder / f"part{i}.txt"
        paths.append(path)
        target = megabytes * 1_000_000 // files
        if path.exists() and path.stat().st_size >= target:
            continue
        with open(path, "w", encoding="utf-8", newline="") as f:
            written = 0
            while written < target:
                block = "\n".join(rng.choices(lines, k=20_000)) + "\n"
                f.write(block)
                written += len(block.encode("utf-8"))
    return paths


def tree(root: int) -> set[int]:
    """`root` and its descendants' process ids."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
                parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                pass
    pids, grew = {root}, True
    while grew:
        more = {pid for pid, ppid in parents.items() if ppid in pids} - pids
        pids |= more
        grew = bool(more)
    return pids


def tree_memory(root: int) -> tuple[int, int, int]:
    """(sum of PSS, sum of RSS, the largest peak RSS of one process) in bytes of `root` and
    its descendants."""
    pss = rss = largest = 0
    for pid in tree(root):
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    pss += int(line.split()[1]) * 1024
                elif line.startswith("Rss:"):
                    rss += int(line.split()[1]) * 1024
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    largest = max(largest, int(line.split()[1]) * 1024)
        except OSError:
            pass
    return pss, rss, largest


def run_prepare(paths: list[Path], out: Path, vocab_size: int, chunk_mb: float, *extra) -> dict:
    """Run `learngpt prepare`; its seconds and peak memory (PSS and RSS of its process tree)."""
    shutil.rmtree(out, ignore_errors=True)
    command = [sys.executable, "-m", "learngpt", "prepare", "--data", *map(str, paths)]
    command += ["--out", str(out), "--vocab-size", str(vocab_size), "--chunk-mb", str(chunk_mb)]
    command += list(extra)
    started, cpu = time.perf_counter(), cpu_seconds(resource.RUSAGE_CHILDREN)
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    peak = [0, 0, 0]

    def sample() -> None:
        while process.poll() is None:
            now = tree_memory(process.pid)
            peak[:] = [max(a, b) for a, b in zip(peak, now, strict=True)]
            time.sleep(0.05)

    sampler = threading.Thread(target=sample)
    sampler.start()
    _, err = process.communicate()
    seconds = time.perf_counter() - started
    sampler.join()
    if process.returncode:
        raise SystemExit(f"prepare failed: {err}")
    cpu = cpu_seconds(resource.RUSAGE_CHILDREN) - cpu  # its workers' too: it waited for them
    return {
        "seconds": seconds,
        "cpu": cpu,
        "peak_pss": peak[0],
        "peak_rss": peak[1],
        "largest_process": peak[2],
        "stderr": err,
    }


def cpu_seconds(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def anonymous_memory(root: int) -> tuple[int, int]:
    """(sum, largest) of RssAnon in bytes over `root` and its descendants."""
    sizes = [0]
    for pid in tree(root):
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("RssAnon:"):
                    sizes.append(int(line.split()[1]) * 1024)
        except OSError:
            pass
    return sum(sizes), max(sizes)


TRAIN = ["--n-layers", "2", "--embed-size", "64", "--n-heads", "4", "--block-size", "128",
         "--batch-size", "32", "--max-iters", "30", "--eval-interval", "15", "--eval-iters", "4",
         "--device", "cpu", "--threads", "1", "--max-time", "0"]  # fmt: skip


def train_memory(data: Path, out: Path, nproc: int) -> tuple[int, int]:
    """Peak RssAnon (sum over the processes, largest process) of a short `learngpt train`."""
    shutil.rmtree(out, ignore_errors=True)
    command = [sys.executable, "-m", "learngpt", "train", "--data", str(data), "--out", str(out)]
    process = subprocess.Popen(
        [*command, *TRAIN, "--nproc", str(nproc)], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    peak = [0, 0]
    while process.poll() is None:
        total, largest = anonymous_memory(process.pid)
        peak = [max(peak[0], total), max(peak[1], largest)]
        time.sleep(0.05)
    if process.returncode:
        raise SystemExit(f"train failed: {process.stderr.read().decode()[-2000:]}")
    return peak[0], peak[1]


def compare_training(big: Path, paths: list[Path], folder: Path) -> None:
    """Training's anonymous memory on the big token files and on 2 MB of tokens (same vocab)."""
    head = folder / "head.txt"
    head.write_bytes(paths[0].read_bytes()[:3_300_000].rsplit(b"\n", 1)[0])
    small = folder / "small"
    shutil.rmtree(small, ignore_errors=True)
    command = [sys.executable, "-m", "learngpt", "prepare", "--data", str(head)]
    subprocess.run([*command, "--out", str(small), "--tokenizer-from", str(big)], check=True)
    sizes = {d: sum((d / n).stat().st_size for n in ("train.bin", "val.bin")) for d in (big, small)}
    print("\ntraining (30 steps) | token files MB | peak RssAnon MB: all processes | largest")
    for nproc in (1, 2):
        for data in (small, big):
            total, largest = train_memory(data, folder / "run", nproc)
            print(f"--nproc {nproc}            | {sizes[data] / 1e6:14.1f} | "
                  f"{total / 1e6:30.0f} | {largest / 1e6:7.0f}", flush=True)  # fmt: skip


def pieces_of(paths: list[Path], tokenizer: Tokenizer, piece_chars: int = 1_000_000) -> list[str]:
    """The files' text in pieces of about 1 MB cut where encoding is unchanged."""
    cut, pieces = cutter_for(tokenizer), []
    for path in paths:
        text = path.read_bytes().decode("utf-8")
        while text:
            at = cut(text[:piece_chars]) if len(text) > piece_chars else len(text)
            at = at or len(text)
            pieces.append(text[:at])
            text = text[at:]
    return pieces


def hf_tokenizer(tokenizer):
    """The same vocabulary and split as a Hugging Face tokenizer (byte-level BPE)."""
    from tokenizers import Tokenizer as HFTokenizer
    from tokenizers import models, pre_tokenizers

    vocab = {token_string(data): i for i, data in enumerate(tokenizer.vocab)}
    merges = [
        (token_string(tokenizer.vocab[a]), token_string(tokenizer.vocab[b]))
        for (a, b), _ in tokenizer.merges
    ]
    hf = HFTokenizer(models.BPE(vocab, merges))
    # its own GPT-2 split (\p{L}, \p{N}), its fastest; learngpt's pattern differs from it only
    # on rare characters (the output says whether the ids came out equal)
    hf.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    return hf


def libraries(paths: list[Path], tokenizer, megabytes: float) -> dict[str, float]:
    """MB/s of tiktoken's and tokenizers' batch encoding of the files' first `megabytes` (text
    in memory, in 1 MB pieces)."""
    pieces = pieces_of(paths, tokenizer)[: max(1, round(megabytes))]
    size = sum(len(p.encode("utf-8")) for p in pieces) / 1e6
    threads = len(os.sched_getaffinity(0))
    encoding = tiktoken_encoding(tokenizer)
    started, cpu = time.perf_counter(), cpu_seconds(resource.RUSAGE_SELF)
    encoding.encode_ordinary_batch(pieces, num_threads=threads)
    tiktoken_s = time.perf_counter() - started
    tiktoken_cpu = cpu_seconds(resource.RUSAGE_SELF) - cpu
    hf, hf_s, same = hf_tokenizer(tokenizer), 0.0, True
    cpu = cpu_seconds(resource.RUSAGE_SELF)
    for first in range(0, len(pieces), 4 * threads):  # a batch at a time: its Encodings are big
        batch = pieces[first : first + 4 * threads]
        started = time.perf_counter()
        ids = [e.ids for e in hf.encode_batch(batch, add_special_tokens=False)]
        hf_s += time.perf_counter() - started
        if first == 0:  # the same ids as tiktoken's on the first batch?
            same = all(a == encoding.encode_ordinary(p) for a, p in zip(ids, batch, strict=True))
    hf_cpu = cpu_seconds(resource.RUSAGE_SELF) - cpu  # the id comparison included: a little
    return {
        "tiktoken": (size / tiktoken_s, size / tiktoken_cpu),
        "tokenizers": (size / hf_s, size / hf_cpu),
        "same": same,
        "mb": size,
    }


def check_ids(paths: list[Path], out: Path) -> bool:
    """Whether train.bin + val.bin are each file's ids as tiktoken encodes the whole file."""
    meta = json.loads((out / "meta.json").read_text())
    tokenizer = Tokenizer.load(out / "tokenizer.json")
    encoding = tiktoken_encoding(tokenizer)
    stream = np.concatenate(
        [np.fromfile(out / n, dtype=meta["dtype"]) for n in ("train.bin", "val.bin")]
    )
    at = 0
    for path in paths:
        ids = encoding.encode_to_numpy(path.read_bytes().decode("utf-8"))
        if not np.array_equal(stream[at : at + len(ids)], ids):
            return False
        at += len(ids) + (meta["separator"] is not None)
    return at - (meta["separator"] is not None) == len(stream)


def make_hard(folder: Path, megabytes: int) -> dict[str, Path]:
    """The texts with no newline to cut at: one line, indented lines, DNA letters on one line."""
    folder.mkdir(parents=True, exist_ok=True)
    size = megabytes * 1_000_000
    shakespeare = shakespeare_path().read_text(encoding="utf-8")
    rng = random.Random(0)
    texts = {
        "one line": lambda: shakespeare.replace("\n", " "),
        "indented lines": lambda: "".join(f"    {line}\n" for line in shakespeare.splitlines()),
        "DNA, one line": lambda: "".join(rng.choices("ACGT", k=1_000_000)),
    }
    paths = {}
    for name, text in texts.items():
        path = paths[name] = folder / (name.replace(" ", "_").replace(",", "") + ".txt")
        if not (path.exists() and path.stat().st_size == size):
            unit = text()
            path.write_text((unit * (size // len(unit) + 1))[:size], encoding="utf-8")
    return paths


def hard_texts(args: argparse.Namespace) -> None:
    """--hard: the uncuttable texts of issue 35 against the plain corpus, in the same run; then
    the two that cannot be cut at all or were re-scanned, with 10 KB pieces (--chunk-mb 0.01,
    the plain corpus's vocabulary: no learning), and DNA with half the BPE sample."""
    plain = make_corpus(args.dir / f"corpus{args.hard}", args.hard, 1)
    hard = make_hard(args.dir / "hard", args.hard)
    chunk, learned = args.chunk_mb[0], ["--tokenizer-from", str(args.dir / "out-plain")]
    runs = [
        ("plain lines (baseline)", plain, chunk, [], "out-plain"),
        *((name, [path], chunk, [], "out-hard") for name, path in hard.items()),
        ("one line, 10 KB pieces", [hard["one line"]], 0.01, learned, "out-hard"),
        ("DNA, 10 KB pieces", [hard["DNA, one line"]], 0.01, learned, "out-hard"),
        ("DNA, --sample-mb 2", [hard["DNA, one line"]], chunk, ["--sample-mb", "2"], "out-hard"),
    ]
    print("text                   |  MB | prepare s | ratio to plain | largest process MB")
    baseline = None
    for name, paths, chunk_mb, extra, out in runs:
        megabytes = sum(p.stat().st_size for p in paths) / 1e6
        r = run_prepare(paths, args.dir / out, args.vocab_size, chunk_mb, *extra)
        baseline = baseline or r["seconds"]
        notes = [line for line in r["stderr"].splitlines() if line.startswith("warning")]
        print(
            f"{name:22} | {megabytes:3.0f} | {r['seconds']:9.1f} | "
            f"{r['seconds'] / baseline:14.2f} | {r['largest_process'] / 1e6:18.0f}",
            *[f"  {n[:150]}" for n in notes],
            sep="\n",
            flush=True,
        )
    print(f"load average after: {os.getloadavg()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[50, 100, 200], help="MB")
    parser.add_argument("--files", type=int, default=4)
    parser.add_argument("--vocab-size", type=int, default=4096)
    parser.add_argument("--chunk-mb", type=float, nargs="+", default=[1.0, 0.37])
    parser.add_argument("--dir", type=Path, default=Path("/tmp/learngpt-bench-prepare"))
    parser.add_argument("--skip-train", action="store_true", help="skip training's memory")
    parser.add_argument("--library-mb", type=float, default=20, help="text the libraries encode")
    parser.add_argument("--hard", type=int, metavar="MB", help="only the texts without newlines")
    args = parser.parse_args()

    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo if "model name" in line), "?")
    print(f"CPU: {cpu}, {len(os.sched_getaffinity(0))} cores; load average {os.getloadavg()}")
    if args.hard:
        return hard_texts(args)
    print(
        "size MB | prepare s | MB/s | CPU s | peak PSS MB | peak RSS MB (sums over its processes)"
    )
    results = {}
    for size in sorted(args.sizes):
        paths = make_corpus(args.dir / f"corpus{size}", size, args.files)
        megabytes = sum(p.stat().st_size for p in paths) / 1e6
        r = run_prepare(paths, args.dir / f"out{size}", args.vocab_size, args.chunk_mb[0])
        results[size] = (paths, megabytes, r)
        print(
            f"{megabytes:7.1f} | {r['seconds']:9.1f} | {megabytes / r['seconds']:4.1f} | "
            f"{r['cpu']:5.0f} | {r['peak_pss'] / 1e6:11.0f} | {r['peak_rss'] / 1e6:11.0f}",
            flush=True,
        )
    paths, megabytes, r = results[max(results)]
    out = args.dir / f"out{max(results)}"
    tokenizer = Tokenizer.load(out / "tokenizer.json")
    lib = libraries(paths, tokenizer, args.library_mb)
    speed, per_cpu = megabytes / r["seconds"], megabytes / r["cpu"]
    print(f"\nvocabulary {tokenizer.vocab_size}, the same files and ids; MB of UTF-8 text:")
    print("encoder                                     | MB/s | ratio | MB per CPU-s | ratio")
    print(f"learngpt prepare, {megabytes:.0f} MB, the whole job     | {speed:4.1f} |  1.00 | "
          f"{per_cpu:12.2f} |  1.00")  # fmt: skip
    for name in ("tiktoken", "tokenizers"):
        what = f"{name} batch, first {lib['mb']:.0f} MB, in memory"
        wall, cpu = lib[name]
        print(f"{what:43} | {wall:4.1f} | {speed / wall:5.2f} | {cpu:12.2f} | {per_cpu / cpu:5.2f}")
    print(f"tokenizers' ids (GPT-2's split) equal tiktoken's on the first pieces: {lib['same']}")
    same = check_ids(paths, out)
    print(f"ids equal tiktoken's whole-file encoding (--chunk-mb {args.chunk_mb[0]}): {same}")
    for chunk_mb in args.chunk_mb[1:]:
        again = run_prepare(paths, out, args.vocab_size, chunk_mb)
        print(
            f"ids equal tiktoken's whole-file encoding (--chunk-mb {chunk_mb}, "
            f"{again['seconds']:.1f} s): {check_ids(paths, out)}"
        )
    if not args.skip_train:
        compare_training(out, paths, args.dir)
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
