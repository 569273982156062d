"""What the gateway tests share: the seeded members and cards, the doors' side of the wire,
and the server's HTTP API served by uvicorn on a free port."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import paho.mqtt.client as paho
import uvicorn
from fastapi import FastAPI
from support import waiting
from support.clock import Clock  # noqa: F401  (for the tests)
from support.database import migrated_database
from support.factories import card, member, membership

from protocol import topics
from protocol.messages import Decision, Tap, decode, new_id
from protocol.mqtt import MqttClient
from server.context import ServerContext
from server.db.meta import bump
from server.settings import Settings

# Wait until a predicate holds (for state with no event to wait on).
wait_for = partial(waiting.wait_for, timeout=10.0, every=0.01)


SITE = "piaseczno"
KEY = "gateway-test-card-key-0123"
ADMIN_TOKEN = "admin-token-0123456789abcdef"
GATEWAY_TOKEN = "gateway-token-0123456789abcdef"
# Monday 2026-11-30 12:00 in Warsaw (UTC+1): inside opening hours.
MONDAY_NOON = datetime(2026, 11, 30, 11, 0, tzinfo=UTC)
CARDS = {"staff": "04A1B2C3", "coworker": "04B2C3D4", "resident": "04C3D4E5"}
UNKNOWN_CARD = "0DEADBEEF0"


class Ticker:
    """A monotonic clock (seconds) that stands still until a test moves it."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def message(topic: str, payload: bytes, *, retain: bool = False) -> paho.MQTTMessage:
    """An MQTT message as paho hands it to a handler."""
    msg = paho.MQTTMessage(topic=topic.encode())
    msg.payload = payload
    msg.retain = retain
    return msg


def server_settings(tmp_path: Path, mqtt_url: str = "mqtt://127.0.0.1:1") -> Settings:
    """The server's settings for a test: a SQLite file in `tmp_path`, both tokens, the key."""
    site_config = Path("firmware_configs/sites/piaseczno.toml")
    return Settings(
        database_url=migrated_database(tmp_path / "spacehub.db", site_config),
        mqtt_url=mqtt_url,
        site_config=site_config,
        admin_token=ADMIN_TOKEN,
        gateway_token=GATEWAY_TOKEN,
        card_key=KEY,
    )


def seed(ctx: ServerContext) -> None:
    """A staff member, a coworker with a plan, a resident without one."""
    with ctx.writes() as s, s.begin():
        staff = member(s, "Ewa Nowak", "staff")
        coworker = member(s, "Anna Kowalska", "business")
        resident = member(s, "Jan Zieliński", "resident")
        for who, key in [(staff, "staff"), (coworker, "coworker"), (resident, "resident")]:
            card(s, who.id, CARDS[key], KEY)
        plan = (MONDAY_NOON - timedelta(days=10), MONDAY_NOON + timedelta(days=20))
        membership(s, coworker.id, "coworking", *plan)
        bump(s)


@dataclass(frozen=True)
class Heard:
    device: str
    decision: Decision
    at: float  # time.monotonic()


class Doors:
    """Plays the door controllers' side of the wire: publishes taps, hears decisions."""

    def __init__(self, url: str) -> None:
        self._heard: list[Heard] = []
        self._cond = threading.Condition()
        self.client = MqttClient(url, client_id=f"test-doors-{new_id()[:8]}")
        self.client.subscribe(topics.all_commands(SITE, "decision"), self._on_decision)
        self.client.start()
        assert self.client.wait_connected(10)

    def _on_decision(self, msg) -> None:
        device = topics.parse(msg.topic).device or ""
        heard = Heard(device, decode(Decision, msg.payload), time.monotonic())
        with self._cond:
            self._heard.append(heard)
            self._cond.notify_all()

    def tap(self, device: str, card: str) -> tuple[Tap, float]:
        """Publish a tap; returns it and the monotonic time just before it was sent."""
        tap = Tap(id=new_id(), ts=datetime.now(UTC), card=card)
        sent = time.monotonic()
        self.client.publish(topics.tap(SITE, device), tap).wait_for_publish(5)
        return tap, sent

    def first(self, tap: Tap, timeout: float = 5.0) -> Heard:
        """The first decision for `tap`."""
        with self._cond:
            assert self._cond.wait_for(lambda: self.all(tap), timeout), f"no decision {tap.id}"
            return self.all(tap)[0]

    def all(self, tap: Tap) -> list[Heard]:
        with self._cond:
            return [h for h in self._heard if h.decision.id == tap.id]

    def settle(self, tap: Tap, wait: float) -> list[Heard]:
        """Every decision for `tap` heard within `wait` seconds from now (to show that no
        second one comes)."""
        time.sleep(wait)
        return self.all(tap)

    def stop(self) -> None:
        self.client.stop()


def sync(doors: Doors, counted, timeout: float = 10.0) -> None:
    """Wait until a listener hears taps: publish a probe tap from a device that is no door
    until `counted()` (e.g. the gateway's tap counter) moves."""
    start = counted()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        doors.tap("probe", CARDS["staff"])
        probe_deadline = time.monotonic() + 0.3
        while time.monotonic() < probe_deadline:
            if counted() > start:
                return
            time.sleep(0.01)
    raise AssertionError("the listener never heard a tap")


class HttpServer:
    """An ASGI app served by uvicorn on 127.0.0.1:`port` in a thread."""

    def __init__(self, app: FastAPI, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="test-http", daemon=True)

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert self.thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.01)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)
