"""The doors' side of the wire and a staff member's server context, for the tests of a door
path nothing can stall (test_poison.py, test_disk_full.py)."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
from sqlalchemy import func, select
from support.factories import card, live_settings, member
from support.waiting import wait_for  # noqa: F401  (the tests import it from here)

from protocol import topics
from protocol.messages import Decision, Message, ProtocolError, Tap, decode, new_id
from protocol.mqtt import MqttClient
from server.adapters.door_ingest import DoorIngest
from server.context import ServerContext
from server.db import models
from server.db.meta import bump

SITE = "piaseczno"
KEY = "test-card-key-0123456789"
STAFF = "04A1B2C3"
ADMIN = "ingest-admin-token-0123456789"


class Doors:
    """The doors' side of the wire: publishes anything, hears the server's decisions."""

    def __init__(self, url: str) -> None:
        self.answered: Counter[str] = Counter()
        self._cond = threading.Condition()
        self.client = MqttClient(url, client_id=f"test-doors-{new_id()[:8]}")
        self.client.subscribe(topics.all_commands(SITE, "decision"), self._heard)
        self.client.start()
        assert self.client.wait_connected(10)

    def _heard(self, msg: paho.MQTTMessage) -> None:
        try:
            decision = decode(Decision, bytes(msg.payload))
        except ProtocolError:
            return  # the poison this wire sent itself
        if decision.by == "server":
            with self._cond:
                self.answered[decision.id] += 1
                self._cond.notify_all()

    def send(self, topic: str, payload: bytes | Message) -> paho.MQTTMessageInfo:
        return self.client.publish(topic, payload)

    def retain(self, topic: str, payload: bytes) -> None:
        self.client.publish(topic, payload, retain=True).wait_for_publish(5)

    def tap(self, device: str = "reader-main") -> Tap:
        tap = Tap(id=new_id(), ts=datetime.now(UTC), card=STAFF)
        self.send(topics.tap(SITE, device), tap).wait_for_publish(5)
        return tap

    def wait_answered(self, ids: list[str], timeout: float) -> None:
        with self._cond:
            done = self._cond.wait_for(lambda: all(self.answered[i] for i in ids), timeout)
        missing = [i for i in ids if not self.answered[i]]
        assert done, f"{len(missing)} of {len(ids)} taps never answered"


def staff_context(url: str, tmp_path: Path) -> ServerContext:
    ctx = ServerContext.create(live_settings(tmp_path, url, KEY, admin_token=ADMIN))
    with ctx.writes() as s, s.begin():
        card(s, member(s, "Ewa Nowak", "staff").id, STAFF, KEY)
        bump(s)
    return ctx


def staff_contexts(url: str, tmp_path: Path) -> Iterator[ServerContext]:
    """`staff_context` for a fixture: yields it, closes it afterwards."""
    ctx = staff_context(url, tmp_path)
    try:
        yield ctx
    finally:
        ctx.close()


def started(ctx: ServerContext) -> DoorIngest:
    ingest = DoorIngest(ctx)
    ingest.start()
    assert ingest.wait_connected(10)
    return ingest


def send_with_a_restart(
    ctx: ServerContext,
    doors: Doors,
    stream: list[tuple[str, bytes | Message]],
    ingests: list[DoorIngest],
    *,
    down_for: int,
) -> None:
    """Publish `stream` while the server's door path (the last of `ingests`) stops halfway
    and starts again, on the same persistent session, `down_for` messages later (appended
    to `ingests`); return once the broker has every message."""
    infos = []
    for n, (topic, payload) in enumerate(stream):
        infos.append(doors.send(topic, payload))
        if n == len(stream) // 2:
            ingests[-1].stop()
        if n == len(stream) // 2 + down_for:
            ingests.append(started(ctx))
    for info in infos:
        info.wait_for_publish(10)


def server_rows(ctx: ServerContext, tap_ids: list[str]) -> Counter[str]:
    """How many access events the server recorded for each of these taps."""
    with ctx.reads() as s:
        A = models.AccessEvent
        ours = A.event_id.in_(tap_ids)
        return Counter(s.scalars(select(A.event_id).where(ours, A.by == "server")))


def rows(ctx: ServerContext, model: Any) -> int:
    with ctx.reads() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0
