"""Request limits enforced before a route runs: body size and requests in flight.

A pure ASGI middleware rather than a FastAPI dependency, because both limits
must act before the body is read: an over-size body is refused from its
Content-Length (or as soon as the streamed bytes pass the limit) without
reading the rest, and an overloaded server answers 503 at once instead of
queueing without bound.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# Cheap endpoints that must answer even when the server is saturated.
UNLIMITED_PATHS = frozenset({"/health", "/metrics"})


class LimitsMiddleware:
    def __init__(self, app: ASGIApp, max_body_bytes: int, max_in_flight: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_in_flight = max_in_flight
        self.in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limited = scope["path"] not in UNLIMITED_PATHS
        if limited and self.in_flight >= self.max_in_flight:
            await _error(
                send,
                503,
                "overloaded",
                f"the server is busy ({self.max_in_flight} requests in flight); retry shortly",
                [(b"retry-after", b"1")],
            )
            return
        # Counted from here, before any await, so concurrent arrivals see each other.
        self.in_flight += limited
        try:
            declared = _content_length(scope)
            if declared is not None and declared > self.max_body_bytes:
                await _error(send, 413, "body_too_large", self._too_large(declared))
                return
            body = await self._read_body(receive)
            if body is None:
                await _error(send, 413, "body_too_large", self._too_large(None))
                return
            await self.app(scope, _replay(body, receive), send)
        finally:
            self.in_flight -= limited

    async def _read_body(self, receive: Receive) -> bytes | None:
        """The whole body, or None as soon as it passes the limit (the rest is not read)."""
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return b"".join(chunks)
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    def _too_large(self, size: int | None) -> str:
        told = f"{size} bytes" if size is not None else "the body"
        return (
            f"{told} is over the limit of {self.max_body_bytes} bytes "
            "(PARALLAX_MAX_BODY_BYTES); send fewer documents per request"
        )


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _error(
    send: Send,
    status: int,
    code: str,
    message: str,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    payload = json.dumps({"error": {"code": code, "message": message}}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})
