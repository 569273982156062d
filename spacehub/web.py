"""The server's HTTP side under uvicorn, stopping promptly with dashboards open.

A dashboard's event stream (`GET /api/stream`) never ends by itself, so uvicorn's graceful
shutdown would wait its whole timeout for it and then cancel it with a traceback. Here,
once the other requests have had `STREAM_GRACE` seconds to finish, the connections still
open are closed as if their clients had gone: each stream ends through its own
disconnect path, and the browser reconnects to whatever server comes next.

    server = HttpServer(app, port=8000)
    server.bind()       # the port is ours (or a CliError says whose it is)
    server.start()      # on a thread of its own; serves on server.inner_url
    server.open()       # and now on port 8000 too
    server.stop()       # well within a second, event streams or not
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import uvicorn

from spacehub.errors import CliError

STREAM_GRACE = 0.3  # seconds the requests in flight get before their connections close
GRACEFUL_TIMEOUT = 2  # uvicorn's own limit, should a request outlive its closed connection


class PromptServer(uvicorn.Server):
    """uvicorn's Server, whose shutdown closes the connections still open after
    `STREAM_GRACE` seconds instead of waiting for them to end."""

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        closing = asyncio.get_running_loop().call_later(STREAM_GRACE, self._close_connections)
        try:
            await super().shutdown(sockets)
        finally:
            closing.cancel()

    def _close_connections(self) -> None:
        for connection in list(self.server_state.connections):
            transport = getattr(connection, "transport", None)
            if transport is not None:
                transport.close()  # the protocol sees the connection lost: a disconnect


def config(app: Any, host: str, port: int, **options: Any) -> uvicorn.Config:
    """uvicorn's Config for `app`, with the graceful timeout this module relies on."""
    return uvicorn.Config(
        app, host=host, port=port, timeout_graceful_shutdown=GRACEFUL_TIMEOUT, **options
    )


class HttpServer:
    """`app` served on host:`port` by a `PromptServer` on a thread of its own, and on an
    inner port (`inner_url`, chosen by the system) for the programs of the same demo.

    Requests on `port` wait until `open` is called, so that whoever finds the server up
    finds everything else up too, while the demo's own gateway already fetches its
    snapshot through the inner port. Logging is left to the program's own configuration
    (no uvicorn log config); the access log is on with `access_log`."""

    def __init__(
        self, app: Any, *, host: str = "127.0.0.1", port: int, access_log: bool = False
    ) -> None:
        self.host, self.port = host, port
        self._open = threading.Event()
        gated = _Gate(app, port, lambda: self._open.is_set() or self.server.should_exit)
        self.server = PromptServer(
            config(gated, host, port, log_config=None, access_log=access_log)
        )
        self._thread: threading.Thread | None = None
        self._socks: list[socket.socket] = []

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def inner_url(self) -> str:
        assert len(self._socks) == 2, "bind() first"
        return f"http://{self.host}:{self._socks[1].getsockname()[1]}"

    def bind(self) -> None:
        """Take the port (CliError if something else has it) and an inner one; `start`
        serves on them."""
        if self._socks:
            return
        for port in (self.port, 0):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((self.host, port))
            except OSError as exc:
                sock.close()
                self._close_sockets()
                raise CliError(
                    f"cannot listen on {self.host}:{port} for HTTP: {exc.strerror} "
                    "(another demo or server running? choose another --http-port)"
                ) from None
            self._socks.append(sock)

    def start(self, timeout: float = 30.0) -> None:
        """Listen, start the application (its lifespan), and return once it serves on
        the inner port (on `port` once `open`)."""
        self.bind()
        self._thread = threading.Thread(target=self._serve, name=f"http-{self.port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            self._thread.join(0.01)
            if not self._thread.is_alive():
                raise CliError(f"the server on {self.url} did not start (see the log above)")
            if time.monotonic() > deadline:
                self.stop()
                raise CliError(f"the server on {self.url} did not start in time")

    def open(self) -> None:
        """Answer the requests on `port` (those waiting, then all)."""
        self._open.set()

    def _serve(self) -> None:
        try:
            self.server.run(sockets=self._socks)
        finally:
            self._close_sockets()

    def _close_sockets(self) -> None:
        for sock in self._socks:
            sock.close()
        self._socks = []

    def stop(self, timeout: float = 10.0) -> None:
        """Stop taking requests, end the open ones (event streams included) and the
        application's lifespan; return once the thread has."""
        if self._thread is None:
            self._close_sockets()  # bound, never started
            return
        self.server.should_exit = True
        self._thread.join(timeout)
        self._thread = None


class _Gate:
    """An ASGI app that holds the HTTP requests to `port` until `is_open()`."""

    def __init__(self, app: Any, port: int, is_open: Callable[[], bool]) -> None:
        self.app, self.port, self.is_open = app, port, is_open

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and (scope.get("server") or ("", 0))[1] == self.port:
            while not self.is_open():
                await asyncio.sleep(0.01)
        await self.app(scope, receive, send)
