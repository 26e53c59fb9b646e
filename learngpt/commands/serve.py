"""`learngpt serve`: the playground, a web page to generate, see attention and compare models.

    learngpt serve [--out RUN ...] [--workspace DIR] [--host 127.0.0.1] [--port 8000]

Serves trained runs (each --out) and, with --workspace, the learner's own models from
`learngpt course start DIR`, which are trained briefly in the background first. It listens on
127.0.0.1 (this machine only) unless --host says otherwise. Ctrl-C stops it.
"""

from __future__ import annotations

import argparse
import contextlib
import socket
import sys

from learngpt.commands.arguments import positive
from learngpt.errors import UserError


def add_command(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser("serve", help="a web playground: generate, attention maps, compare")
    p.add_argument(
        "--out", action="append", default=[], metavar="RUN", help="a run directory (repeatable)"
    )
    p.add_argument("--workspace", metavar="DIR", help="a course workspace: serve its mygpt models")
    p.add_argument(
        "--workspace-steps",
        type=positive(int),
        default=300,
        metavar="N",
        help="training steps for each of the workspace's models at start-up (default 300)",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=tcp_port, default=8000, help="1 to 65535 (default 8000)")
    p.add_argument(
        "--max-concurrent", type=positive(int), default=4, metavar="N", help="generations at once"
    )
    p.add_argument("--device", default="cpu", help="cpu (default), auto, cuda or cuda:N")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from learngpt.web import create_app
    from learngpt.web.models import run_entry, unique_names
    from learngpt.web.workspace import Workspace

    if not args.out and not args.workspace:
        raise UserError("nothing to serve; pass --out RUN (a trained run) and/or --workspace DIR")
    served = [
        run_entry(path, name, args.device)
        for path, name in zip(args.out, unique_names(args.out), strict=True)
    ]
    workspace = Workspace(args.workspace, steps=args.workspace_steps) if args.workspace else None
    app = create_app(served, workspace, max_concurrent=args.max_concurrent)
    sock = listening_socket(args.host, args.port)
    print(f"learngpt playground on http://{args.host}:{args.port}/ (Ctrl-C stops)", file=sys.stderr)
    # uvicorn shuts down cleanly on Ctrl-C, then passes the signal on: that is a normal stop
    with contextlib.suppress(KeyboardInterrupt):
        uvicorn.Server(uvicorn.Config(app, log_level="warning")).run(sockets=[sock])
    print("playground stopped", file=sys.stderr)
    return 0


def tcp_port(text: str) -> int:
    """An argparse `type`: a TCP port number (the OS would silently wrap a larger one)."""
    port = positive(int)(text)
    if port > 65535:
        raise argparse.ArgumentTypeError(f"must be a port number from 1 to 65535, got {text}")
    return port


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket bound to host:port, or a UserError saying why not (e.g. the port is taken)."""
    try:
        info = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        sock = socket.socket(info[0], socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(info[4])
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise UserError(
            f"cannot listen on {host}:{port} ({reason}); pick another --port or --host"
        ) from None
    return sock
