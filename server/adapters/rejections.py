"""What can never apply: MQTT messages the server refuses, counted per device and reason
and logged at most once per device a minute, so a flood of junk is cheap and quiet.

    rejections = Rejections("door path")
    message = decoded(Tap, payload)          # Rejected("not_json" | "too_large" | ...)
    rejections.reject(device_of(topic), "unknown_device", "...")
    rejections.counts()                      # {(device, reason): n}, for health and /metrics
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from protocol import topics
from protocol.messages import M, ProtocolError, decode
from server.errors import Rejected

log = logging.getLogger(__name__)

LOG_EVERY_S = 60.0  # at most one log line per device (and per kind of trouble) this often
MAX_KEYS = 1000  # devices counted by name; more (junk ids) are counted together
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


class LogEvery:
    """Says yes to a key at most once every `every` seconds; the keys are bounded."""

    def __init__(self, every: float, clock: Callable[[], float]) -> None:
        self.every = every
        self.clock = clock
        self._last: dict[str, float] = {}
        self._quiet: dict[str, int] = {}

    def due(self, key: str) -> tuple[bool, int]:
        """(whether to log now, how many were not logged since the last time)."""
        now = self.clock()
        last = self._last.get(key)
        if last is not None and now - last < self.every:
            self._quiet[key] = self._quiet.get(key, 0) + 1
            return False, 0
        if last is None and len(self._last) >= MAX_KEYS:
            self._last.clear()  # a flood of junk ids: start over rather than grow
            self._quiet.clear()
        self._last[key] = now
        return True, self._quiet.pop(key, 0)


class Rejections:
    """Messages that can never apply, counted per (device, reason), and logged at most
    once per device a minute. The health endpoint and /metrics read `counts()`."""

    def __init__(self, name: str, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.name = name
        self._counts: dict[tuple[str, str], int] = {}
        self._devices: set[str] = set()
        self._logs = LogEvery(LOG_EVERY_S, clock)
        self._lock = threading.Lock()

    def reject(self, device: str, reason: str, detail: str = "") -> None:
        with self._lock:
            if device not in self._devices:
                if len(self._devices) >= MAX_KEYS:
                    device = OTHER
                self._devices.add(device)
            key = (device, reason)
            self._counts[key] = self._counts.get(key, 0) + 1
            now, quiet = self._logs.due(device)
        if now:
            more = f" ({quiet} more from it since the last line)" if quiet else ""
            log.warning(
                "%s: ignored a message from %s: %s: %.200r%s",
                self.name,
                device,
                reason,
                detail,
                more,
            )

    def counts(self) -> dict[tuple[str, str], int]:
        """{(device, reason): how many}"""
        with self._lock:
            return dict(self._counts)

    def count(self, *, device: str | None = None, reason: str | None = None) -> int:
        """How many, of one device and/or one reason (every one without either)."""
        return sum(
            n
            for (d, r), n in self.counts().items()
            if (device is None or d == device) and (reason is None or r == reason)
        )
