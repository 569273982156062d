"""Helpers of the door tests: a hand-moved clock, a list for a broker, a door's config,
and paho messages as the broker would hand them to a handler."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
from support.clock import MonotonicClock as Clock  # noqa: F401  (for the tests)

from devices.config import DoorConfig
from protocol.messages import Message, Result, decode, encode

SITE, DEVICE = "piaseczno", "reader-sala-a"
STRIKE, GREEN, RED, CONTACT, EXIT, FIRE = 17, 27, 22, 24, 25, 5
EPOCH = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
UNREACHABLE = "mqtt://127.0.0.1:9"  # for runners that are never started


def door_config(data_dir: Path, **extra: Any) -> DoorConfig:
    """A door with every input wired, a synced clock, and `extra` top-level keys."""
    return DoorConfig.model_validate(
        {
            "site": SITE,
            "device": DEVICE,
            "data_dir": str(data_dir),
            "mqtt": {"url": UNREACHABLE},
            "pins": {
                "strike": STRIKE,
                "green": GREEN,
                "red": RED,
                "contact": CONTACT,
                "exit": EXIT,
                "fire": FIRE,
            },
            "timing": {"unlock": "5s", "decision_timeout": "2s"},
            "clock_synced": True,
            **extra,
        }
    )


class Sent(list[tuple[str, Message, bool]]):
    """What a controller published, in order."""

    def __call__(self, topic: str, message: Message, retain: bool) -> None:
        # Round-trip through the wire format, so a payload that would not encode fails here.
        decode(type(message), encode(message))
        self.append((topic, message, retain))

    def results(self) -> list[tuple[str, str, bool, str | None]]:
        return [
            (m.tap, m.applied, m.granted, m.reason) for _, m, _ in self if isinstance(m, Result)
        ]


def mqtt_message(topic: str | bytes, payload: bytes | Message) -> paho.MQTTMessage:
    """A QoS 1 message as paho hands it to a subscription's handler."""
    msg = paho.MQTTMessage(mid=1, topic=topic.encode() if isinstance(topic, str) else topic)
    msg.payload = payload if isinstance(payload, bytes) else encode(payload)
    msg.qos = 1
    return msg
