"""Fixtures of the browser tests: headless Chromium driven by Playwright, and the demo site
running in this process (a broker, the server on a free port, the door controllers on
gpiozero mock pins), so a test can both click in the browser and read a relay pin.

Chromium is Debian's `/usr/bin/chromium` (CI installs it); without it the tests are skipped.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from support.database import migrated_database

from server.context import ServerContext
from server.settings import Settings
from spacehub.broker import free_port, mosquitto_path, start_broker
from spacehub.demo import SITE_CONFIG, Building, demo_site, seed, start_devices
from spacehub.demomail import MailCatcher

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TOKEN = "browser-test-admin-token-0123456789"


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """A headless Chromium (Playwright's sync API), shared by a module's tests. Not longer:
    while Playwright runs, its event loop is the thread's running loop, and any other
    test's `asyncio.run` would fail."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (CI installs Debian's chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    playwright = sync_api.sync_playwright().start()
    try:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            yield browser
        finally:
            browser.close()
    finally:
        playwright.stop()


@dataclass
class LiveSite:
    url: str
    token: str
    broker_url: str
    ctx: ServerContext
    building: Building

    def strike(self, device: str) -> bool:
        """Whether the strike relay pin of a door controller is high (released)."""
        config = self.building.doors[device].config
        return bool(self.building.pins[device].pin(config.pins.strike).state)


@pytest.fixture
def live_site(tmp_path: Path) -> Iterator[LiveSite]:
    """The demo site without traffic: members and cards, no bookings; Mosquitto where it is
    installed, else the embedded broker."""
    with running_site(tmp_path) as site:
        yield site


@pytest.fixture
def mailbox() -> Iterator[MailCatcher]:
    """A real SMTP server (the demo's, aiosmtpd) that keeps what it is sent."""
    catcher = MailCatcher()
    catcher.start()
    try:
        yield catcher
    finally:
        catcher.stop()


@pytest.fixture
def live_site_with_mail(tmp_path: Path, mailbox: MailCatcher) -> Iterator[LiveSite]:
    """`live_site` whose server sends its mail to `mailbox`, with links to itself in it."""
    with running_site(tmp_path, smtp_url=mailbox.url) as site:
        yield site


@contextmanager
def running_site(tmp_path: Path, **settings: Any) -> Iterator[LiveSite]:
    """The demo site's server, broker and door controllers, with `settings` on top."""
    import uvicorn

    from server.app import create_app

    kind = "mosquitto" if mosquitto_path() else "embedded"
    if kind == "embedded":
        pytest.importorskip("amqtt", reason="no broker: neither mosquitto nor amqtt")
    broker = start_broker(kind, port=free_port(), data_dir=tmp_path / "broker")
    building: Building | None = None
    ctx: ServerContext | None = None
    server: uvicorn.Server | None = None
    thread: threading.Thread | None = None
    # Bound here and handed to uvicorn: a port only named could be taken meanwhile (by
    # another test's connection, which the system gives ports from the same range).
    listening = socket.create_server(("127.0.0.1", 0))
    port = listening.getsockname()[1]
    try:
        config = Settings(
            database_url=migrated_database(tmp_path / "spacehub.db"),
            mqtt_url=broker.url,
            site_config=SITE_CONFIG,
            admin_token=TOKEN,
            card_key="browser-test-card-key-0123456789",
            public_url=f"http://127.0.0.1:{port}",
            **settings,
        )
        ctx = ServerContext.create(config, site=demo_site(None))
        seed(ctx, traffic=False)
        # The door controllers only: the tests play the occupancy sensors on the wire.
        building = start_devices(ctx, broker.url, tmp_path, kinds=("door",))
        server = uvicorn.Server(
            uvicorn.Config(
                create_app(config, ctx=ctx),
                host="127.0.0.1",
                port=port,
                log_level="warning",
                timeout_graceful_shutdown=1,  # open event streams must not hold it up
            )
        )
        thread = threading.Thread(
            target=server.run, args=([listening],), name="uvicorn", daemon=True
        )
        thread.start()
        deadline = time.monotonic() + 15
        while not server.started:
            assert time.monotonic() < deadline, "the server did not start"
            assert thread.is_alive(), "the server stopped while starting"
            time.sleep(0.05)
        for door in building.doors.values():
            assert door.client.wait_connected(10), door.config.device
        yield LiveSite(
            url=f"http://127.0.0.1:{port}",
            token=TOKEN,
            broker_url=broker.url,
            ctx=ctx,
            building=building,
        )
    finally:
        if server is not None and thread is not None:
            server.should_exit = True
            thread.join(15)
        if building is not None:
            building.stop()
        if ctx is not None:
            ctx.close()
        listening.close()
        broker.stop()


@pytest.fixture
def page(chromium: Any, live_site: LiveSite) -> Iterator[Any]:
    """A fresh browser context (no cookies) and page, desktop-sized; closed before the
    site stops, so no event stream is left open to hold the server up."""
    context = chromium.new_context(viewport={"width": 1440, "height": 1000})
    try:
        yield context.new_page()
    finally:
        context.close()
