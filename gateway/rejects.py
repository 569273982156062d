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
import time
from collections.abc import Callable

import paho.mqtt.client as paho

from protocol import topics
from protocol.messages import ProtocolError
from protocol.rejections import LOG_EVERY_S, MAX_DEVICES, Tally

log = logging.getLogger(__name__)

TopicHandler = Callable[[topics.Topic, paho.MQTTMessage], None]

# Junk may name a new device in every message: past MAX_DEVICES, the rest share one entry.
OTHERS = "*others*"


class Rejected(Exception):
    """A message a handler will not handle, counted under `reason` (e.g. `unknown_device`)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(detail or reason)
        self.reason = reason
        self.detail = detail or reason


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
        self._tally = Tally(
            clock=clock, log_every=log_every_s, max_devices=max_devices, others=OTHERS
        )

    def count(self, device: str, reason: str, detail: str, *, trace: bool = False) -> bool:
        """Count one rejected message of `device`; log it unless that device was logged
        within the last minute. Returns whether it was logged."""
        counted = self._tally.add(device, reason)
        if not counted.due:
            return False
        also = f" ({counted.quiet} more since the last report)" if counted.quiet else ""
        log.warning(
            "dropped a message from %r: %s: %s%s",
            counted.device,
            reason,
            detail,
            also,
            exc_info=trace,
        )
        return True

    def counts(self) -> dict[tuple[str, str], int]:
        """Rejected messages so far, per (device, reason)."""
        return self._tally.counts()

    def total(self, reason: str | None = None) -> int:
        """Rejected messages so far, of one reason or of all."""
        return self._tally.total(reason=reason)

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
