"""Helpers for the playground's tests: a real server on a free port, SSE parsing, a workspace.

`serving(app)` runs the app under uvicorn in a thread, exactly as `learngpt serve` does, so the
tests talk HTTP to it (streams, disconnects and concurrency included).
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from pathlib import Path

import uvicorn

from learngpt.exercises import workspace


def make_workspace(directory: Path) -> Path:
    """A learner's workspace (`learngpt course start --solutions`) with steps 1-9 solved and
    step 10 (mygpt/block_v4.py) put back to the fresh skeleton, its TODO unwritten."""
    workspace.start(directory, solutions=True)
    fresh = workspace.workspace_files(solutions=False)["mygpt/block_v4.py"]
    (directory / "mygpt" / "block_v4.py").write_text(fresh, encoding="utf-8")
    return directory


@contextlib.contextmanager
def serving(app):
    """Run `app` under uvicorn on a free port of 127.0.0.1; yield its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def events(lines) -> list[tuple[str, dict]]:
    """(event, data) pairs of a server-sent-event stream given as text lines."""
    out, event = [], None
    for line in lines:
        if line.startswith("event: "):
            event = line[len("event: ") :]
        elif line.startswith("data: "):
            out.append((event, json.loads(line[len("data: ") :])))
    return out


def generated_text(stream: list[tuple[str, dict]]) -> str:
    """The prompt and the new text of a finished stream."""
    start = [data["prompt"] for event, data in stream if event == "start"]
    pieces = [data["text"] for event, data in stream if event in ("token", "done")]
    return "".join(start + pieces)
