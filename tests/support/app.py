"""One server application (no MQTT) and one running client of it for the tests' HTTP
requests, each test's context set into it before its requests: FastAPI builds an included
router's routes on the first request to it in each application, about 25 ms a router, and
a TestClient starts a thread and an event loop of its own (12 ms, and as long to stop),
which with a new application and client per test was most of the time the API tests took.
The application's lifespan does nothing without MQTT beyond taking the context it is given.

A request the client does not stream is run on the client's event loop in one call
(`OneCall`): Starlette's own transport makes about eight calls across threads for each,
to open its events and streams, start the application, wait for its start and for each
part of the body. Streamed requests (`client.stream`, the live event streams) still go
through Starlette's.

    with client_on(ctx) as client:
        client.get("/api/rooms", headers=admin)
"""

from __future__ import annotations

import atexit
import threading
import warnings
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from functools import cache
from typing import TYPE_CHECKING, Any

import anyio
import httpx

from server.app import create_app
from server.context import ServerContext
from server.settings import Settings

if TYPE_CHECKING:
    from anyio.from_thread import BlockingPortal
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

# The address requests come from, as Starlette's TestClient gives it.
CLIENT_ADDRESS = ("testclient", 50000)


class OneCall(httpx.BaseTransport):
    """Runs a whole request on the application in one call on the portal's event loop,
    and hands streamed requests (`streaming.on`) to Starlette's transport."""

    def __init__(self, app: FastAPI, portal: BlockingPortal, streamed: httpx.BaseTransport):
        self.app, self.portal, self.streamed = app, portal, streamed
        self.streaming = threading.local()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if getattr(self.streaming, "on", False):
            return self.streamed.handle_request(request)
        status, headers, body = self.portal.call(self._exchange, request, request.read())
        return httpx.Response(
            status, headers=headers, stream=httpx.ByteStream(body), request=request
        )

    async def _exchange(
        self, request: httpx.Request, body: bytes
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        url = request.url
        scope = {
            "type": "http",
            "http_version": "1.1",
            "method": request.method,
            "path": url.path,
            "raw_path": url.raw_path.split(b"?", 1)[0],
            "root_path": "",
            "scheme": url.scheme,
            "query_string": url.query,
            "headers": [(k.lower().encode(), v.encode()) for k, v in request.headers.multi_items()],
            "client": CLIENT_ADDRESS,
            "server": [url.host, url.port or 80],
            "extensions": {},
            "state": {},
        }
        sent, answered = False, anyio.Event()
        started: dict[str, Any] = {}
        parts: list[bytes] = []

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if sent:  # the client goes away once the whole answer is in
                await answered.wait()
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": body}

        async def send(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                started.update(message)
            elif message["type"] == "http.response.body":
                parts.append(message.get("body", b""))
                if not message.get("more_body", False):
                    answered.set()

        await self.app(scope, receive, send)
        return started["status"], started.get("headers", []), b"".join(parts)


@cache
def shared_app() -> FastAPI:
    return create_app(Settings(), mqtt=False)


@cache
def _shared_client() -> TestClient:
    """The running client of the shared application, stopped when the process ends; its
    lifespan starts on the context of the first test (`client_on` sets one first)."""
    with warnings.catch_warnings():
        # Starlette would rather drive its TestClient with httpx2; httpx is what is installed.
        warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
        from fastapi.testclient import TestClient

    class Client(TestClient):
        def send(self, request: httpx.Request, *, stream: bool = False, **kwargs: Any) -> Any:
            transport.streaming.on = stream
            try:
                return super().send(request, stream=stream, **kwargs)
            finally:
                transport.streaming.on = False

    client = Client(shared_app())
    client.__enter__()
    atexit.register(client.__exit__, None, None, None)
    transport = OneCall(client.app, client.portal, client._transport)  # type: ignore[arg-type]
    client._transport = transport
    return client


@contextmanager
def client_on(ctx: ServerContext) -> Iterator[TestClient]:
    """The shared client, serving `ctx`, with no cookie of an earlier test."""
    app = shared_app()
    app.state.ctx = ctx
    app.state.ingest = None  # as the lifespan leaves it without MQTT (a test may set one)
    client = _shared_client()
    client.cookies.clear()
    try:
        yield client
    finally:
        client.cookies.clear()
        app.state.ctx = None
