"""The playground's web app: one page, its static files, and a small JSON / server-sent-events API.

    GET  /                  the page (learngpt/assets/web/index.html), in the learner's language
    GET  /static/...        its script and style sheet
    GET  /api/runs          the models: name, status, config, loss curve (?lang=: their words)
    GET  /api/status        generations waiting, running and finished (completed, cancelled,
                            failed), and the most that ever ran at once
    POST /api/generate      {prompt, max_new_tokens, temperature, top_k, top_p, seed, run,
                             attention} -> server-sent events: [queued...], start, token...,
                             [attention], done (or error)

Generations run in a pool of worker threads (at most `max_concurrent` at once), so the event
loop stays free to serve pages and to notice clients that leave: a client that disconnects sets
its generation's stop flag, and the worker stops at the next token. Up to MAX_WAITING are
admitted (running or waiting their turn, in order); a waiting one is told so at once, and again
every QUEUED_EVERY seconds (`queued`: its place in the line), never left in silence; beyond
that, 503 with Retry-After.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from learngpt.engine import encode_prompt, unknown_chars
from learngpt.resources import asset
from learngpt.web.body import parse_json, read_body
from learngpt.web.generation import BadRequest, parse_request, run_generation
from learngpt.web.generation import Request as GenerateRequest
from learngpt.web.i18n import page_response, query_lang
from learngpt.web.models import READY, Served
from learngpt.web.workspace import Workspace

MAX_BODY_BYTES = 64 * 1024
MAX_WAITING = 64  # requests beyond this many running or waiting get 503
QUEUED_EVERY = 5.0  # seconds: how often a waiting stream hears that it still waits


class Busy(BadRequest):
    """503: too many generations running or waiting; try again in `retry_after` seconds."""

    def __init__(self, retry_after: int):
        super().__init__(503, f"too many generations at once; try again in {retry_after} s")
        self.headers = {"Retry-After": str(retry_after)}


@dataclass
class Job:
    """One admitted generation: its place in the line, its events, its stop flag."""

    ticket: int  # the order it was admitted in (the workers take them in this order)
    waits: bool  # no worker was free when it was admitted
    events: asyncio.Queue = field(default_factory=asyncio.Queue)
    stop: threading.Event = field(default_factory=threading.Event)


def error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def sse(event: str, data: dict[str, Any]) -> str:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n"


class Playground:
    """The models and the generation pool behind the app."""

    def __init__(self, served: list[Served], workspace: Workspace | None, max_concurrent: int):
        self.served = {entry.name: entry for entry in served}
        self.workspace = workspace
        self.max_concurrent = max_concurrent
        self.pool = ThreadPoolExecutor(max_concurrent, thread_name_prefix="generate")
        self.lock = threading.Lock()
        self.active = 0  # running or waiting for a worker
        self.running = 0  # in a worker now
        self.peak_running = 0  # the most ever running at once (<= max_concurrent)
        self.finished: Counter[str] = Counter()
        self.admitted = self.started = 0  # generations ever admitted, ever taken by a worker
        self.seconds = 2.0  # how long a generation takes, on average lately (for Retry-After)

    def models(self) -> list[Served]:
        return [*self.served.values(), *(self.workspace.entries if self.workspace else [])]

    def find(self, name: str | None) -> Served:
        models = self.models()
        if not models:
            raise BadRequest(404, "no models are served; start with: learngpt serve --out RUN")
        if name is None:
            return models[0]
        for entry in models:
            if entry.name == name:
                return entry
        names = ", ".join(e.name for e in models)
        raise BadRequest(404, f"no run named '{name}'; the runs are: {names}")

    def submit(self, entry: Served, params: GenerateRequest, prompt_ids: list[int]) -> Job:
        """Admit a generation and queue it for a worker (Busy when MAX_WAITING are in)."""
        loop = asyncio.get_running_loop()
        with self.lock:
            if self.active >= MAX_WAITING:
                ahead = self.active - self.max_concurrent + 1
                raise Busy(min(60, math.ceil(self.seconds * ahead / self.max_concurrent)))
            self.active += 1
            job = Job(self.admitted, waits=self.active > self.max_concurrent)
            self.admitted += 1

        def emit(event: str, data: dict[str, Any]) -> None:
            loop.call_soon_threadsafe(job.events.put_nowait, (event, data))

        def work() -> None:  # always runs, even for a client gone: it frees the place
            outcome, started = "failed", time.perf_counter()
            with self.lock:
                self.started += 1
                self.running += 1
                self.peak_running = max(self.peak_running, self.running)
            try:
                outcome = run_generation(entry, params, prompt_ids, emit, job.stop)
            finally:
                with self.lock:
                    self.active -= 1
                    self.running -= 1
                    self.finished[outcome] += 1
                    if outcome == "completed":
                        self.seconds = 0.8 * self.seconds + 0.2 * (time.perf_counter() - started)
                emit("end", {})  # wakes the stream if nothing else will

        self.pool.submit(work)
        return job

    def place(self, job: Job) -> int | None:
        """The job's place in the line of waiting generations (1: next), None once started."""
        with self.lock:
            ahead = job.ticket - self.started
            return ahead + 1 if ahead >= 0 else None

    async def stream(self, job: Job):
        """The events of one generation, as server-sent-event text; `queued` while it waits."""
        try:
            if job.waits and (place := self.place(job)) is not None:
                yield self.queued(place)
            while True:
                try:
                    event, data = await asyncio.wait_for(job.events.get(), QUEUED_EVERY)
                except asyncio.TimeoutError:
                    if (place := self.place(job)) is not None:
                        yield self.queued(place)
                    continue
                if event == "end":
                    break
                yield sse(event, data)
        finally:  # the stream ended, or the client left (this task was cancelled)
            job.stop.set()

    def queued(self, place: int) -> str:
        return sse("queued", {"place": place, "max_concurrent": self.max_concurrent})

    def close(self) -> None:
        if self.workspace:
            self.workspace.stop.set()
        self.pool.shutdown(wait=False, cancel_futures=True)


def status_json(playground: Playground) -> dict[str, Any]:
    """/api/status: how busy the server is."""
    with playground.lock:
        return {
            "active": playground.active,
            "running": playground.running,
            "waiting": playground.active - playground.running,
            "peak_running": playground.peak_running,
            "max_concurrent": playground.max_concurrent,
            "finished": dict(playground.finished),
        }


def lifespan(playground: Playground, workspace: Workspace | None):
    """Start the workspace's training with the server; stop the generations with it."""

    @contextlib.asynccontextmanager
    async def span(app: Starlette):
        if workspace:
            workspace.start()
        yield
        playground.close()

    return span


def create_app(
    served: list[Served], workspace: Workspace | None = None, max_concurrent: int = 4
) -> Starlette:
    """The ASGI app serving `served` (trained runs) and the learner's `workspace` models."""
    playground = Playground(served, workspace, max_concurrent)
    web = asset("web")

    async def index(request: Request):  # in the learner's language (learngpt/web/i18n.py)
        return page_response(request, workspace.lang if workspace else None)

    async def runs(request: Request):
        lang = query_lang(request)
        return JSONResponse({"runs": [entry.to_json(lang) for entry in playground.models()]})

    async def status(request: Request):
        return JSONResponse(status_json(playground))

    async def generate(request: Request):
        try:
            body = await read_body(request, MAX_BODY_BYTES)
            if body is None:  # the client left mid-body: nobody to answer
                return Response(status_code=400)
            params = parse_request(parse_json(body))
            entry = playground.find(params.run)
            if entry.status != READY:
                raise BadRequest(409, f"'{entry.name}' is not ready: {entry.status} {entry.detail}")
            unknown = unknown_chars(entry.tokenizer, params.prompt)
            if unknown:
                shown = ", ".join(repr(c) for c in unknown)
                raise BadRequest(422, f"'{entry.name}' does not know these characters: {shown}")
            prompt_ids = encode_prompt(entry.tokenizer, params.prompt, drop_unknown=False)
            job = playground.submit(entry, params, prompt_ids)
        except BadRequest as exc:
            return error(exc.status, str(exc), getattr(exc, "headers", None))
        return StreamingResponse(
            playground.stream(job),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache"},
        )

    app = Starlette(
        routes=[
            Route("/", index),
            Route("/api/runs", runs),
            Route("/api/status", status),
            Route("/api/generate", generate, methods=["POST"]),
            Mount("/static", StaticFiles(directory=web), name="static"),
        ],
        lifespan=lifespan(playground, workspace),
    )
    app.state.playground = playground
    return app
