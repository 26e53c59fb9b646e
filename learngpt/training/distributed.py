"""Where a training process runs: the CPU's abilities (bfloat16 kernels, malloc's reuse of freed
memory), and its place among several processes (PyTorch DDP): who this process is, its share of
each batch, and the few things the processes must agree on.

`torchrun --nproc_per_node=N -m learngpt train ...` (or `learngpt train --nproc N`) starts N
copies of the trainer; torchrun tells each its RANK, LOCAL_RANK and WORLD_SIZE in the
environment. Each copy holds the whole model, wrapped in DistributedDataParallel, which
averages the gradients over the processes after each backward pass.

The data stay a single process's data. `batch_size` is the global batch: every process draws
the same (B, T) batch from the same seeded generator as a single process would, and reads only
its B / W rows (`rank_rows`), split once more into grad_accum micro-steps. The mean of the
W processes' gradients of their half-batch means is the gradient of the full batch's mean, so W
processes take the same steps as one (up to float rounding). Dropout draws from each process's
own torch generator, so with dropout > 0 the masks differ from a single process's (equally
random, not the same numbers); the equality holds with dropout 0.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import gc
import inspect
import os
import signal
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel as DDP

from learngpt.errors import UserError

# A collective that waits longer than this raises instead of hanging: a process that died is
# usually noticed at once (its sockets close); this catches one that froze.
TIMEOUT = timedelta(minutes=5)


@dataclass(frozen=True)
class World:
    """This process's place among the training processes (a single process: the defaults)."""

    rank: int = 0
    size: int = 1
    local_rank: int = 0  # the rank on this machine: which GPU is ours
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    joined: bool = False  # a process group is up (launched by torchrun)

    @property
    def is_main(self) -> bool:
        """Rank 0 alone writes the run directory and shows progress."""
        return self.rank == 0

    def all_max(self, *values: float) -> list[float]:
        """The maximum of each value over all processes (every process gets the same list)."""
        if not self.joined:
            return list(values)
        t = torch.tensor(values, dtype=torch.float64, device=self.device)
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        return t.tolist()

    def all_sum(self, tensor: torch.Tensor) -> torch.Tensor:
        """The sum of `tensor` over all processes, on the tensor's own device."""
        if not self.joined:
            return tensor
        t = tensor.to(self.device)
        dist.all_reduce(t)
        return t.to(tensor.device)

    def barrier(self) -> None:
        if self.joined:
            dist.barrier()

    def wrap(self, model: nn.Module) -> nn.Module:
        """The model to train: DDP around it when joined.

        The model's buffers are constants (rotary tables): no syncing them before each forward,
        which would also be a collective in evaluation, where ranks run different numbers.
        """
        if not self.joined:
            return model
        ids = [self.device.index] if self.device.type == "cuda" else None
        no_sync = "forward_sync_buffers"  # torch >= 2.13's name for broadcast_buffers
        if no_sync not in inspect.signature(DDP).parameters:
            no_sync = "broadcast_buffers"
        return DDP(model, device_ids=ids, **{no_sync: False})


ONE_PROCESS = World()


def cpu_has_fast_bf16() -> bool:
    """Whether oneDNN has bfloat16 kernels for this CPU (AVX-512 or Arm BF16).

    Without them (most laptops' AVX2 CPUs) bfloat16 matmuls are emulated, slower than float32.
    """
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):  # a private probe: if it is gone, play safe
        return False


def reuse_freed_cpu_memory() -> bool:
    """Make glibc's malloc keep freed memory for the next tensors instead of unmapping it.

    PyTorch allocates each CPU tensor with malloc and frees it when its last reference goes; a
    training step makes and drops hundreds of tensors of up to a few MB. glibc serves blocks of
    that size from freshly mapped pages and unmaps them on free, so each step faults all its
    pages in again (bench/malloc_reuse.py counts them; docs/recipe.md has the figures). Raising
    malloc's mmap threshold (to its maximum, 32 MB) and its trim threshold keeps those blocks in
    the heap, so the next step reuses the pages: what PyTorch's tuning guide gets from
    preloading jemalloc or tcmalloc.
    The cost: the process keeps its peak memory until it ends. Returns whether it applied
    (glibc only; elsewhere it does nothing).
    """
    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").mallopt
    except (OSError, AttributeError):  # not glibc: macOS, Windows
        return False
    M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's malloc.h
    return bool(mallopt(M_MMAP_THRESHOLD, 32 << 20)) and bool(mallopt(M_TRIM_THRESHOLD, 1 << 30))


def check_batch_split(batch_size: int, world_size: int, grad_accum: int) -> None:
    """batch_size is the global batch: it must split into world_size x grad_accum equal parts."""
    parts = world_size * grad_accum
    if batch_size % parts:
        raise UserError(
            f"batch_size {batch_size} (the global batch) does not split evenly over "
            f"{world_size} process(es) x {grad_accum} micro-step(s) (grad_accum); use a "
            f"batch_size that is a multiple of {parts}, or change --grad-accum / the process count"
        )


def launched_world_size() -> int:
    """WORLD_SIZE as torchrun (or another launcher) set it; 0 when not launched by one."""
    return int(os.environ.get("WORLD_SIZE", 0))


@contextlib.contextmanager
def process_group(device: torch.device) -> Iterator[World]:
    """Join the other training processes if a launcher started us; leave the group at the end.

    The backend follows the device: NCCL between GPUs, gloo between CPU processes. Each process
    on a machine takes the GPU of its LOCAL_RANK (unless a device was named, like cuda:1).
    """
    if not launched_world_size():
        yield World(device=device)
        return
    rank, size = int(os.environ["RANK"]), launched_world_size()
    local_rank = int(os.environ.get("LOCAL_RANK", 0))
    if device.type == "cuda":
        if device.index is None:
            device = torch.device("cuda", local_rank)
        if device.index >= torch.cuda.device_count():
            raise UserError(
                f"process {local_rank} on this machine needs {device} but there are only "
                f"{torch.cuda.device_count()} GPU(s); start at most one process per GPU"
            )
        torch.cuda.set_device(device)
    dist.init_process_group("nccl" if device.type == "cuda" else "gloo", timeout=TIMEOUT)
    try:
        yield World(rank, size, local_rank, device, joined=True)
        # torch's DDP wrapper sits in reference cycles of its own: free the run's now, while the
        # group is up, not whenever the collector runs (maybe at exit, after the group is gone)
        gc.collect()
        # leave together: a rank done early would otherwise tear its side of the group down
        # while rank 0 still writes the last checkpoint (gloo then aborts it)
        dist.barrier()
    except RuntimeError as exc:
        # a collective failed: another process died or froze; its own error says why
        if not isinstance(exc, getattr(dist, "DistError", ())) and "gloo" not in str(exc):
            raise
        raise UserError(
            f"rank {rank} lost the other training processes ({exc}); the latest checkpoint "
            "is intact: fix what stopped them, then train again with --resume"
        ) from exc
    finally:
        dist.destroy_process_group()


def rank_rows(batch_size: int, world: World) -> slice:
    """The rows of a global batch that this process trains on."""
    rows = batch_size // world.size
    return slice(world.rank * rows, (world.rank + 1) * rows)


def gradient_sync(model: nn.Module, enabled: bool) -> contextlib.AbstractContextManager:
    """Within it, backward() all-reduces the gradients only if `enabled` (DDP's no_sync)."""
    if isinstance(model, DDP) and not enabled:
        return model.no_sync()
    return contextlib.nullcontext()


def without_ddp(model: nn.Module) -> nn.Module:
    """The module inside DDP: evaluation runs a different number of forwards on each rank."""
    return model.module if isinstance(model, DDP) else model


# Dropout draws from torch's global generator, which each rank must seed differently (the same
# masks on every rank's rows would be correlated noise). Rank 0 keeps the single-process stream.
def seed_rank(world: World, seed: int, step: int = 0) -> None:
    if world.rank:
        torch.manual_seed(seed + 1_000_003 * world.rank + step)


def gather_rank_states(world: World) -> dict[str, torch.Tensor]:
    """Every other rank's dropout generator state, for rank 0 to save ({} for one process).

    Called on every rank (it is a collective); keys: rank{r}.torch and, on a GPU, rank{r}.cuda.
    """
    if not world.joined:
        return {}
    local = {"torch": torch.get_rng_state()}
    if world.device.type == "cuda":
        local["cuda"] = torch.cuda.get_rng_state(world.device)
    states = {}
    for name, state in local.items():
        gathered = [torch.empty_like(state, device=world.device) for _ in range(world.size)]
        dist.all_gather(gathered, state.to(world.device))
        for rank in range(1, world.size):
            states[f"rank{rank}.{name}"] = gathered[rank].cpu()
    return states


def restore_rank_state(world: World, states: dict[str, torch.Tensor], seed: int, step: int) -> None:
    """Rank r > 0 takes back its own dropout generator; a checkpoint saved with fewer processes
    has none for it, and the rank then starts a fresh stream of its own."""
    if not world.rank:
        return
    own = states.get(f"rank{world.rank}.torch")
    if own is None:
        seed_rank(world, seed, step)
        return
    torch.set_rng_state(own)
    if world.device.type == "cuda" and f"rank{world.rank}.cuda" in states:
        torch.cuda.set_rng_state(states[f"rank{world.rank}.cuda"], world.device)


def launch(nproc: int, argv: list[str]) -> int:
    """Run `python -m learngpt ARGV` in `nproc` processes on this machine through torchrun's
    launcher (torch.distributed.run); return the exit status of the run.

    Ctrl-C reaches the launcher, which passes it on to every process (each stops after its
    step, rank 0 saves); a process that fails ends the others. The launcher's signal handlers
    and environment changes are undone afterwards.
    """
    from torch.distributed.elastic.multiprocessing.api import SignalException
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.run import parse_args, run

    signals = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)
    handlers = {s: signal.getsignal(s) for s in signals}
    environ = dict(os.environ)
    args = parse_args(["--standalone", f"--nproc_per_node={nproc}", "--module", "learngpt", *argv])
    try:
        run(args)
        return 0
    except ChildFailedError as exc:
        status = exc.get_first_failure()[1].exitcode
        return 128 - status if status < 0 else status or 1  # killed by signal N: 128 + N
    except SignalException as exc:
        return 128 + int(exc.sigval)
    finally:
        for s, handler in handlers.items():
            signal.signal(s, handler)
        os.environ.clear()
        os.environ.update(environ)
