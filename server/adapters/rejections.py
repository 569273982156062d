"""What can never apply: MQTT messages the server refuses, counted per device and reason
and logged at most once per device a minute, so a flood of junk is cheap and quiet.

    rejections = Rejections("door path")
    message = decoded(Tap, payload)          # Rejected("not_json" | "too_large" | ...)
    rejections.reject(device_of(topic), "unknown_device", "...")
    rejections.counts()                      # {(device, reason): n}, for health and /metrics
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from protocol import topics
from protocol.messages import M, ProtocolError, decode
from protocol.rejections import LOG_EVERY_S, LogEvery, Tally
from server.errors import Rejected

# LogEvery and LOG_EVERY_S: the inbox and the scheduler pace their own lines with them.
__all__ = ["INVALID", "LOG_EVERY_S", "LogEvery", "Rejections", "decoded", "device_of"]

log = logging.getLogger(__name__)

INVALID = "(invalid)"  # the device of a topic that names none validly
OTHER = "(other)"


def device_of(topic: str) -> str:
    """The device a message's topic names, for counting; INVALID when it names none."""
    try:
        return topics.parse(topic).device or INVALID
    except topics.TopicError:
        return INVALID


def decoded(model: type[M], payload: bytes) -> M:
    """The payload as `model`, or Rejected naming why not."""
    try:
        return decode(model, payload)
    except ProtocolError as exc:
        text = str(exc)
        if "bytes is over" in text:
            reason = "too_large"
        elif text.startswith("not "):
            reason = "not_json"  # nor UTF-8
        elif "must be a JSON object" in text:
            reason = "not_an_object"
        else:
            reason = "invalid_payload"  # a field missing, of the wrong type or out of range
        raise Rejected(reason, text) from None


class Rejections:
    """Messages that can never apply, counted per (device, reason), and logged at most
    once per device a minute. The health endpoint and /metrics read `counts()`."""

    def __init__(self, name: str, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.name = name
        self._tally = Tally(clock=clock, others=OTHER)

    def reject(self, device: str, reason: str, detail: str = "") -> None:
        counted = self._tally.add(device, reason)
        if counted.due:
            more = f" ({counted.quiet} more from it since the last line)" if counted.quiet else ""
            log.warning(
                "%s: ignored a message from %s: %s: %.200r%s",
                self.name,
                counted.device,
                reason,
                detail,
                more,
            )

    def counts(self) -> dict[tuple[str, str], int]:
        """{(device, reason): how many}"""
        return self._tally.counts()

    def count(self, *, device: str | None = None, reason: str | None = None) -> int:
        """How many, of one device and/or one reason (every one without either)."""
        return self._tally.total(device=device, reason=reason)
