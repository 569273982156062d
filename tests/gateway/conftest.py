"""Fixtures of the gateway tests: a seeded server context, its HTTP API (TestClient, or
uvicorn on a free port), a broker with the server's door path, and gateways."""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from gatewire import (
    GATEWAY_TOKEN,
    KEY,
    MONDAY_NOON,
    SITE,
    Clock,
    Doors,
    HttpServer,
    Ticker,
    seed,
    server_settings,
)
from support.app import client_on

with warnings.catch_warnings():
    # Starlette would rather drive its TestClient with httpx2; httpx is what is installed.
    warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

from gateway.config import GatewaySettings
from gateway.gateway import Gateway
from protocol.messages import new_id
from protocol.mqtt import MqttClient
from server.adapters.door_ingest import DoorIngest
from server.adapters.policy_notices import PolicyNotices
from server.app import create_app
from server.context import ServerContext
from spacehub.broker import free_port


@pytest.fixture(autouse=True)
def _no_spacehub_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings come from the test, never from the shell that runs it."""
    for name in list(os.environ):
        if name.startswith("SPACEHUB_"):
            monkeypatch.delenv(name)


@pytest.fixture
def server_clock() -> Clock:
    return Clock(MONDAY_NOON)


@pytest.fixture
def ctx(tmp_path: Path, server_clock: Clock) -> Iterator[ServerContext]:
    """A seeded server context on a temporary SQLite file (no broker)."""
    context = ServerContext.create(server_settings(tmp_path), clock=server_clock)
    seed(context)
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def api(ctx: ServerContext) -> Iterator[TestClient]:
    """The server's HTTP API on `ctx`, without MQTT."""
    with client_on(ctx) as client:
        yield client


class System:
    """A server on a real broker: its HTTP API served by uvicorn, its PolicyNotices, and
    (after `start_ingest`) its door path; `doors` plays the door controllers."""

    def __init__(self, broker_url: str, tmp_path: Path) -> None:
        self.broker_url = broker_url
        self.clock = Clock(MONDAY_NOON)
        self.ctx = ServerContext.create(server_settings(tmp_path, broker_url), clock=self.clock)
        seed(self.ctx)
        self.http = HttpServer(create_app(self.ctx.settings, ctx=self.ctx, mqtt=False), free_port())
        self.http.start()
        self.notices_client = MqttClient(broker_url, client_id=f"test-notices-{new_id()[:8]}")
        self.notices = PolicyNotices(self.ctx, self.notices_client)
        self.notices_client.start()
        self.notices.start()
        self.ingest: DoorIngest | None = None
        self.doors = Doors(broker_url)

    def start_ingest(self) -> DoorIngest:
        self.ingest = DoorIngest(self.ctx)
        self.ingest.start()
        assert self.ingest.wait_connected(10)
        return self.ingest

    def stop_ingest(self) -> None:
        if self.ingest is not None:
            self.ingest.stop()
            self.ingest = None

    def gateway_settings(self, **overrides: Any) -> GatewaySettings:
        values: dict[str, Any] = {
            "site": SITE,
            "mqtt_url": self.broker_url,
            "server_url": self.http.url,
            "gateway_token": GATEWAY_TOKEN,
            "card_key": KEY,
        }
        return GatewaySettings(**(values | overrides))

    def close(self) -> None:
        self.doors.stop()
        self.stop_ingest()
        self.notices.stop()
        self.notices_client.stop()
        self.http.stop()
        self.ctx.close()


@pytest.fixture
def system(broker, tmp_path: Path) -> Iterator[System]:
    built = System(broker.url, tmp_path)
    try:
        yield built
    finally:
        built.close()


MakeGateway = Callable[..., Gateway]


@pytest.fixture
def make_gateway(system: System, tmp_path: Path) -> Iterator[MakeGateway]:
    """Start `Gateway`s on the system (stopped after the test): `make_gateway(clock=...,
    limits_clock=..., data_dir=..., **settings)`; each waits until connected and holding a
    snapshot unless `expect_snapshot=False`."""
    started: list[Gateway] = []

    def make(
        *,
        clock: Clock | None = None,
        limits_clock: Callable[[], float] = time.monotonic,
        data_dir: Path | None = None,
        expect_snapshot: bool = True,
        **overrides: Any,
    ) -> Gateway:
        gw = Gateway(
            system.gateway_settings(**overrides),
            data_dir or tmp_path / "gateway",
            clock=clock or Clock(MONDAY_NOON),
            limits_clock=limits_clock,
        )
        started.append(gw)
        gw.start()
        assert gw.client.wait_connected(10)
        if expect_snapshot:
            assert gw.wait_for_snapshot(timeout=10)
        return gw

    yield make
    for gw in started:
        gw.stop()


@pytest.fixture
def idle_gateway(ctx: ServerContext, tmp_path: Path) -> Iterator[Gateway]:
    """A gateway that is never started (no broker, no threads), holding the seeded
    server's snapshot as fetched at MONDAY_NOON; its `limits_clock` is a `Ticker`. A test
    feeds its `on_*` handlers messages directly."""
    with ctx.reads() as session:
        snapshot = ctx.policy.get(session, MONDAY_NOON)
    settings = GatewaySettings(
        site=SITE,
        mqtt_url="mqtt://127.0.0.1:1",
        server_url="http://127.0.0.1:1",
        gateway_token=GATEWAY_TOKEN,
        card_key=KEY,
    )
    gw = Gateway(
        settings, tmp_path / "idle-gateway", clock=Clock(MONDAY_NOON), limits_clock=Ticker()
    )
    gw.store.offer(snapshot, '"seeded"', MONDAY_NOON)
    try:
        yield gw
    finally:
        gw.stop()
