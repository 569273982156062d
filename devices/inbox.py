"""What a device receives from the broker, read so that no message can stop it: the topic
and the payload are parsed and validated in one place that never raises, and whatever
cannot be applied is counted per reason and logged at most once a minute per reason (a
flood of junk must neither stop the door nor fill its SD card with logs).

>>> rejected = Rejects("reader-main")
>>> read(msg, "piaseczno", "reader-main", {"mode": DoorMode})  # doctest: +SKIP
Unread(reason='invalid', detail="...cmd/mode': not JSON ...")
>>> rejected.count("invalid", "cmd/mode: not JSON", now=12.0)
>>> rejected.counts["invalid"]
1
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping
from typing import NamedTuple

import paho.mqtt.client as paho

from protocol import topics
from protocol.messages import Message, ProtocolError, decode
from protocol.rejections import Tally

log = logging.getLogger(__name__)

# Commands a working system sends now and then (the second answer to a tap, the retained
# mode of an older server): worth a count, not a warning.
ORDINARY = frozenset({"not_pending", "stale", "expired", "locked_down"})
_DETAIL_CHARS = 200  # a junk topic or payload is quoted this far at most


class Rejects:
    """Messages a device received and did not apply, counted per reason (`counts`);
    each reason is logged at its first occurrence, then at most once a minute
    (protocol.rejections.LOG_EVERY_S) with how many came meanwhile. `now` is the runner's
    monotonic clock."""

    def __init__(self, device: str) -> None:
        self.device = device
        self._tally = Tally(per_reason=True)

    @property
    def counts(self) -> Counter[str]:
        """How many messages were not applied, per reason."""
        return Counter({reason: n for (_, reason), n in self._tally.counts().items()})

    def count(self, reason: str, detail: str, now: float, *, exc_info: bool = False) -> None:
        """Count one message not applied, and log it unless `reason` was logged less than
        a minute ago."""
        counted = self._tally.add(self.device, reason, now)
        if not counted.due:
            return
        log.log(
            logging.INFO if reason in ORDINARY else logging.WARNING,
            "%s: %d message(s) not applied (%s) since this was last logged; the latest: %s",
            self.device,
            counted.quiet + 1,
            reason,
            detail[:_DETAIL_CHARS],
            exc_info=exc_info,
        )


class Unread(NamedTuple):
    """Why a message holds no command for this device, and what to log about it."""

    reason: str
    detail: str


def read(
    msg: paho.MQTTMessage, site: str, device: str, models: Mapping[str, type[Message]]
) -> Message | Unread:
    """The command in `msg` for this device, decoded with `models[kind]`; or why there is
    none: "bad_topic" (not a topic of docs/protocol.md, or not UTF-8), "not_ours" (another
    device's, or not a command), "unknown_kind" (a command of ours this program does not
    know) or "invalid" (payload not JSON, too large, invalid or out of range)."""
    try:
        topic = msg.topic  # paho decodes it here, and raises on bytes that are not UTF-8
    except UnicodeDecodeError:
        return Unread("bad_topic", describe(msg))
    try:
        parsed = topics.parse(topic)
    except topics.TopicError:
        ours = paho.topic_matches_sub(topics.device_commands(site, device), topic)
        return Unread("unknown_kind" if ours else "bad_topic", describe(msg))
    if (parsed.site, parsed.device, parsed.direction) != (site, device, "cmd"):
        return Unread("not_ours", describe(msg))
    model = models.get(parsed.kind)
    if model is None:
        return Unread("unknown_kind", describe(msg))
    try:
        return decode(model, bytes(msg.payload))
    except ProtocolError as exc:
        return Unread("invalid", f"{topic!r}: {exc}")


def describe(msg: paho.MQTTMessage) -> str:
    """The topic of `msg` and its size, printable whatever they hold (not the payload: it
    may hold a card UID or a name)."""
    try:
        topic = repr(msg.topic[:_DETAIL_CHARS])
    except UnicodeDecodeError:
        topic = "(a topic that is not UTF-8)"
    return f"{topic} ({len(msg.payload)} bytes)"
