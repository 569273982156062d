"""One server application (no MQTT) and one running client of it for the tests' HTTP
requests, each test's context set into it before its requests: FastAPI builds an included
router's routes on the first request to it in each application, about 25 ms a router, and
a TestClient starts a thread and an event loop of its own (12 ms, and as long to stop),
which with a new application and client per test was most of the time the API tests took.
The application's lifespan does nothing without MQTT beyond taking the context it is given.

    with client_on(ctx) as client:
        client.get("/api/rooms", headers=admin)
"""

from __future__ import annotations

import atexit
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import TYPE_CHECKING

from server.app import create_app
from server.context import ServerContext
from server.settings import Settings

if TYPE_CHECKING:
    from fastapi import FastAPI
    from fastapi.testclient import TestClient


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

    client = TestClient(shared_app())
    client.__enter__()
    atexit.register(client.__exit__, None, None, None)
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
