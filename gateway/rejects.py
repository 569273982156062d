"""Messages the gateway cannot handle: counted per device and reason, logged at most once
per device and minute, and never raised into paho's loop (docs/protocol.md: no message, however
malformed, may stop a consumer).

>>> rejects = Rejects()
>>> on_tap = rejects.guard(handle_tap)  # doctest: +SKIP
>>> client.subscribe(topics.all_events(site, "tap"), on_tap)  # doctest: +SKIP
>>> rejects.counts()  # doctest: +SKIP
{('BAD', 'bad_topic'): 120}

A guarded handler gets the parsed topic and the message; whatever it raises is counted:
`TopicError` as `bad_topic`, `ProtocolError` (not JSON, invalid, out of range) as
`invalid`, `Rejected` under its own reason, anything else as `failed` (a bug: logged with
its traceback, still at most once a minute per device).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import paho.mqtt.client as paho

from protocol import topics
from protocol.messages import ProtocolError

log = logging.getLogger(__name__)

TopicHandler = Callable[[topics.Topic, paho.MQTTMessage], None]

LOG_EVERY_S = 60.0
# Junk may name a new device in every message: past this many, the rest share one entry.
MAX_DEVICES = 1000
OTHERS = "*others*"


class Rejected(Exception):
    """A message a handler will not handle, counted under `reason` (e.g. `unknown_device`)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(detail or reason)
        self.reason = reason
        self.detail = detail or reason


@dataclass
class _Device:
    logged_at: float
    unlogged: int = 0  # rejected since the last log line


def sender(topic: str) -> str:
    """Who a topic claims to come from, even when it is not a valid topic: the device id
    of `dev/{device}/...`, `server/{instance}` of `sys/server/{instance}/...`, else `?`."""
    parts = topic.split("/")
    if len(parts) > 3 and parts[2] == "dev":
        return parts[3][:64]
    if len(parts) > 4 and parts[2] == "sys":
        return f"{parts[3][:16]}/{parts[4][:64]}"
    return "?"


def _topic_of(msg: paho.MQTTMessage) -> str:
    # paho raises on reading a topic that is not UTF-8; such a topic is no spacehub topic.
    try:
        return msg.topic
    except UnicodeDecodeError:
        return bytes(msg._topic).decode("utf-8", "replace")


class Rejects:
    """The count of rejected messages per (device, reason); thread-safe.

    `clock` is a monotonic clock in seconds (a test moves it) for the once-a-minute log."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        log_every_s: float = LOG_EVERY_S,
        max_devices: int = MAX_DEVICES,
    ) -> None:
        self._clock = clock
        self._every = log_every_s
        self._max_devices = max_devices
        self._lock = threading.Lock()
        self._counts: Counter[tuple[str, str]] = Counter()
        self._devices: dict[str, _Device] = {}

    def count(self, device: str, reason: str, detail: str, *, trace: bool = False) -> bool:
        """Count one rejected message of `device`; log it unless that device was logged
        within the last minute. Returns whether it was logged."""
        now = self._clock()
        with self._lock:
            if device not in self._devices and len(self._devices) >= self._max_devices:
                device = OTHERS
            self._counts[(device, reason)] += 1
            seen = self._devices.get(device)
            if seen is not None and now - seen.logged_at < self._every:
                seen.unlogged += 1
                return False
            before = seen.unlogged if seen is not None else 0
            self._devices[device] = _Device(logged_at=now)
        also = f" ({before} more since the last report)" if before else ""
        log.warning(
            "dropped a message from %r: %s: %s%s", device, reason, detail, also, exc_info=trace
        )
        return True

    def counts(self) -> dict[tuple[str, str], int]:
        """Rejected messages so far, per (device, reason)."""
        with self._lock:
            return dict(self._counts)

    def total(self, reason: str | None = None) -> int:
        """Rejected messages so far, of one reason or of all."""
        with self._lock:
            return sum(n for (_, r), n in self._counts.items() if reason in (None, r))

    def guard(self, handler: TopicHandler) -> Callable[[paho.MQTTMessage], None]:
        """`handler(topic, msg)` as an MQTT handler that parses the topic first and counts
        whatever either raises instead of raising it."""

        def guarded(msg: paho.MQTTMessage) -> None:
            name = _topic_of(msg)
            who = sender(name)
            try:
                topic = topics.parse(name)
                who = topic.device or "/".join(filter(None, (topic.kind, topic.instance)))
                handler(topic, msg)
            except topics.TopicError as exc:
                self.count(who, "bad_topic", str(exc))
            except ProtocolError as exc:
                self.count(who, "invalid", f"{name}: {exc}")
            except Rejected as exc:
                self.count(who, exc.reason, f"{name}: {exc.detail}")
            except Exception as exc:
                self.count(who, "failed", f"{name}: {exc!r}", trace=True)

        guarded.__name__ = getattr(handler, "__name__", "handler")
        return guarded
