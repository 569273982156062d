"""Fixtures of the server tests: a ServerContext on a temporary SQLite file, a moved clock,
and a TestClient of the application without MQTT."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import pytest

with warnings.catch_warnings():
    # Starlette would rather drive its TestClient with httpx2; httpx is what is installed.
    warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

from fastapi import FastAPI
from support.clock import Clock as FakeClock
from support.database import migrated_database

from server.app import create_app
from server.context import ServerContext
from server.settings import Settings

ADMIN_TOKEN = "admin-token-0123456789abcdef"
GATEWAY_TOKEN = "gateway-token-0123456789abcdef"
CARD_KEY = "k" * 32
SITE_CONFIG = Path("firmware_configs/sites/piaseczno.toml")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))  # a Monday, 10:00 in Warsaw


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        database_url=migrated_database(tmp_path / "db.sqlite", SITE_CONFIG),
        site_config=SITE_CONFIG,
        admin_token=ADMIN_TOKEN,
        gateway_token=GATEWAY_TOKEN,
        card_key=CARD_KEY,
    )


@pytest.fixture
def ctx(settings: Settings, clock: FakeClock) -> Iterator[ServerContext]:
    context = ServerContext.create(settings, clock=clock)
    try:
        yield context
    finally:
        context.close()


@cache
def shared_app() -> FastAPI:
    """One application (no MQTT) for the tests' clients, each test's context set into it:
    FastAPI builds an included router's routes on the first request to it in each
    application, about 25 ms a router, which in a new app per test was most of the time
    the API tests took."""
    return create_app(Settings(), mqtt=False)


@pytest.fixture
def client(ctx: ServerContext) -> Iterator[TestClient]:
    """The app with its lifespan running, on `ctx`; no MQTT."""
    app = shared_app()
    app.state.ctx = ctx
    try:
        with TestClient(app) as test_client:
            yield test_client
    finally:
        del app.state.ctx


@pytest.fixture
def admin() -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture
def gateway() -> dict[str, str]:
    return {"Authorization": f"Bearer {GATEWAY_TOKEN}"}
