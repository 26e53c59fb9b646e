"""A request body read up to a limit: refused by its Content-Length before a byte is read, and
while a chunked one streams in, as soon as it passes the limit (413 either way); then parsed as
JSON no deeper than MAX_DEPTH (Python's decoder recurses: 30,000 `[` were a RecursionError)."""

from __future__ import annotations

import json
import logging
import re
from itertools import accumulate
from typing import Any

from starlette.requests import ClientDisconnect, Request

from learngpt.web.generation import BadRequest, json_int

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


MAX_DEPTH = 32  # arrays and objects within one another: a request is one flat object
STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"')  # (whose brackets do not nest anything)
DEPTH = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


def parse_json(body: bytes) -> Any:
    """The JSON value of `body`; BadRequest(400) if it is not JSON or nests deeper than
    MAX_DEPTH (counted first, in one pass, so the decoder never recurses that far)."""
    depth = max(accumulate(DEPTH.get(b, 0) for b in STRINGS.sub(b'""', body)), default=0)
    if depth > MAX_DEPTH:
        raise BadRequest(
            400, f"the body nests arrays or objects {depth} deep; the most accepted is {MAX_DEPTH}"
        )
    try:
        return json.loads(body, parse_int=json_int)
    except (ValueError, RecursionError) as exc:  # ValueError: also bad UTF-8
        raise BadRequest(400, f"the body is not valid JSON ({exc})") from None
