"""The door controllers' side of the wire, and a running door path, for tests of the
server's door path."""

from __future__ import annotations

import queue
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from support.clock import Clock
from support.factories import card, live_settings, member

from protocol import topics
from protocol.messages import Decision, Tap, decode, new_id
from protocol.mqtt import MqttClient
from server.adapters.door_ingest import DoorIngest
from server.context import ServerContext
from server.db.meta import bump

SITE = "piaseczno"


@contextmanager
def door_path(
    broker_url: str,
    tmp_path: Path,
    *,
    clock: Clock,
    key: str,
    members: dict[str, tuple[str, str]],
    wire: Callable[[str], Any],
) -> Iterator[tuple[ServerContext, Any, dict[str, int]]]:
    """A server context whose door path runs on the broker, with `members` (who ->
    (category, card)) and their cards, and `wire(url)` playing the doors; yields the
    context, the wire and the members' ids."""
    ctx = ServerContext.create(live_settings(tmp_path, broker_url, key), clock=clock)
    ids = {}
    with ctx.writes() as s, s.begin():
        for who, (category, uid) in members.items():
            ids[who] = member(s, who.title() + " Testowa", category).id
            card(s, ids[who], uid, key)
        bump(s)
    ingest = DoorIngest(ctx)
    ingest.start()
    assert ingest.wait_connected(10)
    doors = wire(broker_url)
    try:
        yield ctx, doors, ids
    finally:
        doors.client.stop()
        ingest.stop()
        ctx.close()


class Device:
    """Plays the door controllers' side of the wire."""

    def __init__(self, url: str) -> None:
        self.decisions: queue.Queue[tuple[str, Decision]] = queue.Queue()
        self.client = MqttClient(url, client_id=f"test-device-{new_id()[:8]}")
        self.client.subscribe(
            topics.all_commands(SITE, "decision"),
            lambda m: self.decisions.put(
                (topics.parse(m.topic).device, decode(Decision, m.payload))
            ),
        )
        self.client.start()
        assert self.client.wait_connected(10)

    def tap(self, device: str, card: str, *, ts: datetime | None = None, **fields) -> Tap:
        tap = Tap(id=new_id(), ts=ts or datetime.now(UTC), card=card, **fields)
        self.client.publish(topics.tap(SITE, device), tap).wait_for_publish(5)
        return tap

    def decision(self, tap: Tap, timeout: float = 5.0) -> tuple[str, Decision]:
        device, decision = self.decisions.get(timeout=timeout)
        assert decision.id == tap.id
        return device, decision

    def no_decision(self, wait: float = 0.5) -> None:
        with pytest.raises(queue.Empty):
            self.decisions.get(timeout=wait)
