"""One server application (no MQTT) for the tests' HTTP clients, each test's context set
into it before its client starts: FastAPI builds an included router's routes on the first
request to it in each application, about 25 ms a router, which with a new application per
test was most of the time the API tests took.

    with client_on(ctx) as client:
        client.get("/api/rooms", headers=admin)
"""

from __future__ import annotations

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


@contextmanager
def client_on(ctx: ServerContext) -> Iterator[TestClient]:
    """A TestClient of the shared application serving `ctx`, its lifespan running."""
    with warnings.catch_warnings():
        # Starlette would rather drive its TestClient with httpx2; httpx is what is installed.
        warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
        from fastapi.testclient import TestClient

    app = shared_app()
    app.state.ctx = ctx
    try:
        with TestClient(app) as client:
            yield client
    finally:
        del app.state.ctx
