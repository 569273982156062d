"""The door controllers' side of the wire, for tests of the server's door path."""

from __future__ import annotations

import queue
from datetime import UTC, datetime

import pytest

from protocol import topics
from protocol.messages import Decision, Tap, decode, new_id
from protocol.mqtt import MqttClient

SITE = "piaseczno"


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
