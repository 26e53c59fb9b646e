"""Encoding pieces of text in worker processes: the ids back in order, memory bounded, and the
workers ended with the run, however it ends.

Each worker is a forked process with two pipes: the UTF-8 bytes of its pieces in, their ids out
(the dtype's raw bytes; nothing is pickled). Piece k goes to worker k % N and the results are
read back in the same order, so they come out in the order of the text. A thread feeds the
workers (it runs the pieces' generator: reading, hashing and cutting the files) while the
caller writes the ids; at most IN_FLIGHT_PER_WORKER pieces per worker are in flight, so memory
holds a few pieces, whatever the corpus.

Stopping: the workers ignore SIGINT and SIGHUP (a terminal sends those to the whole process
group; the main process decides what they mean). However the run ends (the end of the text, an
error, or a signal that prepare's handler turned into an exception), `encode_pieces` ends the
workers (SIGTERM, then SIGKILL) and waits for them before it returns or raises. A main process
killed outright (SIGKILL) takes them along: each asks the kernel for SIGKILL when it dies.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import queue
import signal
import threading
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from learngpt.errors import UserError
from learngpt.tokenizers import Tokenizer
from learngpt.tokenizers.fast import FastEncoder

IN_FLIGHT_PER_WORKER = 2
STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}
STOP_WAIT = 2.0  # seconds a worker has to end on SIGTERM before it is killed
PR_SET_PDEATHSIG = 1  # prctl(2): the signal this process gets when its parent ends


class EncodeError(Exception):
    """A piece that could not be encoded (a character a character tokenizer lacks)."""

    def __init__(self, item: Any, message: str):
        super().__init__(message)
        self.item = item


def worker_count(requested: int) -> int:
    """Encoding processes for --workers `requested` (0: one a core), at most one a core."""
    cores = len(os.sched_getaffinity(0))
    return min(requested, cores) if requested > 0 else cores


def encode_pieces(
    pieces: Iterable[Any], tokenizer: Tokenizer, dtype: str, workers: int
) -> Iterator[tuple[Any, np.ndarray]]:
    """(item, ids) for each item of `pieces` (an object with a `text`), in the given order.

    Close the generator (contextlib.closing) so that the workers end as soon as the caller
    stops, by an error or a signal: they are gone when close() returns."""
    encoder = FastEncoder(tokenizer)  # built once; forked workers share it
    workers = worker_count(workers)
    if workers <= 1:  # no pool: the same encoder in this process
        for item in pieces:
            yield item, _encoded(encoder, item, item.text, dtype)
        return
    pool = _Pool(encoder, dtype)
    try:
        pool.start(workers)
        yield from pool.results(pieces)
    finally:
        pool.stop()


def _encoded(encoder: FastEncoder, item: Any, text: str, dtype: str) -> np.ndarray:
    try:
        return encoder.encode(text, dtype)
    except Exception as exc:  # e.g. UnknownCharactersError: the caller names the file
        raise EncodeError(item, str(exc)) from None


class _Worker:
    def __init__(self, process, tasks, results):
        self.process, self.tasks, self.results = process, tasks, results


class _Pool:
    """Worker processes fed by a thread; `results` reads their answers in order."""

    def __init__(self, encoder: FastEncoder, dtype: str):
        self.encoder, self.dtype = encoder, dtype
        self.workers: list[_Worker] = []
        self.stopping = threading.Event()
        self.feeder: threading.Thread | None = None

    def start(self, count: int) -> None:
        context = multiprocessing.get_context("fork")  # the workers start at once, sharing memory
        # no signal handler may run in a child before it sets its own (it inherits the mask)
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
        try:
            for _ in range(count):
                tasks_out, tasks_in = context.Pipe(duplex=False)
                results_out, results_in = context.Pipe(duplex=False)
                # the parent's ends, its own and the other workers': closed in the child
                inherited = [c for w in self.workers for c in (w.tasks, w.results)]
                inherited += [tasks_in, results_out]
                args = (self.encoder, self.dtype, tasks_out, results_in, inherited, os.getpid())
                process = context.Process(target=_serve, args=args, daemon=True)
                process.start()
                tasks_out.close()
                results_in.close()
                self.workers.append(_Worker(process, tasks_in, results_out))
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)

    def results(self, pieces: Iterable[Any]) -> Iterator[tuple[Any, np.ndarray]]:
        fed: queue.Queue = queue.Queue(IN_FLIGHT_PER_WORKER * len(self.workers))
        self.feeder = threading.Thread(target=self._feed, args=(pieces, fed), daemon=True)
        self.feeder.start()
        while True:
            item, index = fed.get()
            if index is None:
                if item is None:
                    return
                raise item  # the feeder's error: a file that cannot be read, or changed
            yield item, self._answer(self.workers[index], item)

    def _feed(self, pieces: Iterable[Any], fed: queue.Queue) -> None:
        """In the feeder thread: each piece to the next worker, in turn; (item, worker index)
        into `fed`, then (None, None) at the end or (error, None)."""
        try:
            for k, item in enumerate(pieces):
                data = item.text.encode("utf-8")
                item.text = ""  # the worker gets its copy: drop ours
                index = k % len(self.workers)
                if not self._put(fed, (item, index)):
                    return
                self.workers[index].tasks.send_bytes(data)
        except BaseException as exc:  # handed to the main thread, which raises it
            self._put(fed, (exc, None))
            return
        self._put(fed, (None, None))

    def _put(self, fed: queue.Queue, entry: tuple) -> bool:
        while not self.stopping.is_set():
            with contextlib.suppress(queue.Full):
                fed.put(entry, timeout=0.1)
                return True
        return False

    def _answer(self, worker: _Worker, item: Any) -> np.ndarray:
        try:
            header = worker.results.recv_bytes()
            if header != b"ok":
                raise EncodeError(item, header.decode("utf-8", "replace").removeprefix("error:"))
            return np.frombuffer(worker.results.recv_bytes(), self.dtype)
        except EOFError:
            worker.process.join(STOP_WAIT)
            raise UserError(
                f"an encoding process (pid {worker.process.pid}) ended unexpectedly (exit status "
                f"{worker.process.exitcode}); if memory ran out, use fewer --workers or a smaller "
                "--chunk-mb"
            ) from None

    def stop(self) -> None:
        """End every worker and wait for them (and for the feeder thread, briefly)."""
        self.stopping.set()
        for worker in self.workers:
            if worker.process.is_alive():
                worker.process.terminate()
        for worker in self.workers:
            worker.process.join(STOP_WAIT)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()
        if self.feeder is not None:
            self.feeder.join(STOP_WAIT)  # its sends fail at once now that the workers are gone
        for worker in self.workers:
            worker.tasks.close()
            worker.results.close()


def _serve(encoder: FastEncoder, dtype: str, tasks, results, inherited: list, parent: int) -> None:
    """A worker: encode each piece that comes in, until the pipe closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
    _end_with(parent)
    for connection in inherited:
        connection.close()
    while True:
        try:
            data = tasks.recv_bytes()
        except EOFError:
            return
        try:
            ids = encoder.encode(data.decode("utf-8"), dtype)
        except Exception as exc:  # reported by the main process, naming the file
            results.send_bytes(f"error:{exc}".encode("utf-8", "replace"))
            continue
        results.send_bytes(b"ok")
        results.send_bytes(ids)


def _end_with(parent: int) -> None:
    """Ask for SIGKILL when the parent process ends (Linux), and end now if it already has."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:
        os._exit(0)
