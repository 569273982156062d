"""A message between its arrival and its acknowledgement (`Letter`), how long the inbox
waits before trying a failed one again, and what it counts (server.adapters.inbox)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import paho.mqtt.client as paho

FIRST_RETRY_S = 0.05  # doubling up to MOST_RETRY_S
MOST_RETRY_S = 2.0


def retry_delay(attempts: int) -> float:
    """Seconds before try `attempts + 1`: FIRST_RETRY_S, doubling, at most MOST_RETRY_S."""
    return min(MOST_RETRY_S, FIRST_RETRY_S * 2 ** max(0, min(attempts - 1, 16)))


@dataclass(eq=False)
class Letter:
    """One message between its arrival and its acknowledgement."""

    topic: str
    payload: bytes
    msg: paho.MQTTMessage | None  # None: fed directly (tests)
    connection: int  # the connection it came on: only that one may acknowledge it
    seq: int  # arrival order
    received: float  # time.monotonic()
    received_at: datetime
    attempts: int = 0
    failing_since: float | None = None
    not_yet_since: float | None = None
    elsewhere: bool = False  # held for what another replica may be applying
    poisoned: bool = False  # a bug: only its dead letter is left to write
    error: str = ""

    @property
    def key(self) -> tuple[str, bytes]:
        return self.topic, self.payload


@dataclass
class InboxStats:
    received: int = 0
    acked: int = 0
    retries: int = 0
    dead_letters: int = 0
    redelivered: int = 0  # copies of a message the broker sent again after a reconnect
