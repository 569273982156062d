"""Fixtures of the server tests: a ServerContext on a temporary SQLite file, a moved clock,
and a TestClient of the application without MQTT."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

with warnings.catch_warnings():
    # Starlette would rather drive its TestClient with httpx2; httpx is what is installed.
    warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

from support.app import client_on
from support.clock import Clock as FakeClock
from support.database import migrated_database
from support.smtp import mail_context, smtp_server

from server.app import create_app
from server.context import ServerContext
from server.settings import Settings
from server.site import load_site
from spacehub.demomail import MailCatcher, install

KON_CONFIG = Path("firmware_configs/sites/konstancin.toml")  # a second site
ADMIN_TOKEN = "admin-token-0123456789abcdef"
GATEWAY_TOKEN = "gateway-token-0123456789abcdef"
CARD_KEY = "k" * 32
SITE_CONFIG = Path("firmware_configs/sites/piaseczno.toml")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))  # a Monday, 10:00 in Warsaw


# Read and validated once (the site is frozen); each test's copy has its own database.
SITE = load_site(SITE_CONFIG)
SETTINGS = Settings(
    site_config=SITE_CONFIG,
    admin_token=ADMIN_TOKEN,
    gateway_token=GATEWAY_TOKEN,
    card_key=CARD_KEY,
)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    database_url = migrated_database(tmp_path / "db.sqlite", SITE_CONFIG)
    return SETTINGS.model_copy(update={"database_url": database_url})


@pytest.fixture
def ctx(settings: Settings, clock: FakeClock) -> Iterator[ServerContext]:
    context = ServerContext.create(settings, clock=clock, site=SITE)
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def client(ctx: ServerContext) -> Iterator[TestClient]:
    """The app with its lifespan running, on `ctx`; no MQTT (support.app)."""
    with client_on(ctx) as test_client:
        yield test_client


@pytest.fixture
def admin() -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture
def gateway() -> dict[str, str]:
    return {"Authorization": f"Bearer {GATEWAY_TOKEN}"}


@pytest.fixture
def mailbox() -> Iterator[MailCatcher]:
    """A real SMTP server (aiosmtpd on a free port) that keeps what it is sent."""
    with smtp_server() as catcher:
        yield catcher


@pytest.fixture
def mail_ctx(settings: Settings, clock: FakeClock, mailbox: MailCatcher) -> Iterator[ServerContext]:
    """A context whose mail goes to `mailbox`; a test module serves it to `client` with
    its own `ctx` fixture returning it."""
    context = mail_context(settings, clock, mailbox.url)
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def demo(mail_ctx: ServerContext, mailbox: MailCatcher) -> Iterator[TestClient]:
    """An app as `spacehub demo` builds it: mail to its own SMTP server (`mailbox`),
    /demo/mail installed."""
    app = create_app(mail_ctx.settings, ctx=mail_ctx, mqtt=False)
    install(app, mailbox)
    with TestClient(app) as client:
        yield client


@pytest.fixture
def kon(ctx: ServerContext, settings: Settings, clock: FakeClock) -> Iterator[ServerContext]:
    """Konstancin's server on the database of `ctx` (Piaseczno's)."""
    context = ServerContext.create(
        settings.model_copy(update={"site_config": KON_CONFIG}),
        clock=clock,
        site=load_site(KON_CONFIG),
    )
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def serve() -> Iterator[Any]:
    """`serve(ctx)`: the test client serving that site's server (one at a time)."""
    opened: list[Any] = []

    def on(context: ServerContext) -> TestClient:
        for done in opened:
            done.__exit__(None, None, None)
        opened.clear()
        manager = client_on(context)
        opened.append(manager)
        return manager.__enter__()

    yield on
    for done in opened:
        done.__exit__(None, None, None)
