"""A request body read up to a limit: refused by its Content-Length before a byte is read, and
while a chunked one streams in, as soon as it passes the limit (413 either way)."""

from __future__ import annotations

import logging

from starlette.requests import ClientDisconnect, Request

from learngpt.web.generation import BadRequest

log = logging.getLogger("learngpt.web")


async def read_body(request: Request, limit: int) -> bytes | None:
    """The body, of at most `limit` bytes; BadRequest(413 or 400); None if the client left
    before sending all of it (logged in one line: that is the client's doing, not a bug)."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not (declared.isascii() and declared.isdigit() and len(declared) < 20):
            raise BadRequest(400, f"Content-Length {declared[:40]!r} is not a byte count")
        if int(declared) > limit:
            raise BadRequest(413, f"the request body is over {limit} bytes")
    chunks, size = [], 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:  # stop reading: the rest is never buffered
                raise BadRequest(413, f"the request body is over {limit} bytes")
            chunks.append(chunk)
    except ClientDisconnect:
        client = request.client
        log.warning(
            "warning: %s %s: the client%s disconnected after %d bytes of its body",
            request.method,
            request.url.path,
            f" {client.host}:{client.port}" if client else "",
            size,
        )
        return None
    return b"".join(chunks)
