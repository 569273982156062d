"""Counting the messages a program receives and cannot apply: per device and reason, with a
log line at most once a minute per device (or per reason), so that a flood of junk costs a
counter and stays quiet. Each program words its own log lines; the counting and the pacing
are here, once, for the door and sensor runners, the gateway and the server.

>>> tally = Tally(clock=lambda: 0.0)
>>> tally.add("reader-main", "invalid")
Counted(device='reader-main', due=True, quiet=0)
>>> tally.add("reader-main", "bad_topic")  # the same device within the minute: not logged
Counted(device='reader-main', due=False, quiet=0)
>>> tally.counts()
{('reader-main', 'invalid'): 1, ('reader-main', 'bad_topic'): 1}
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Hashable
from typing import NamedTuple

LOG_EVERY_S = 60.0  # at most one log line per key this often
MAX_DEVICES = 1000  # devices counted by name; junk naming ever new ones shares one entry


class LogEvery:
    """Says yes to a key at most once every `every` seconds, with how many times it said
    no to that key since; past `max_keys` keys (None: no limit) it forgets them all
    rather than grow.

    >>> logs = LogEvery(60.0, clock=lambda: 0.0)
    >>> logs.due("db"), logs.due("db"), logs.due("db", now=60.0)
    ((True, 0), (False, 0), (True, 1))
    """

    def __init__(
        self, every: float, clock: Callable[[], float], *, max_keys: int | None = MAX_DEVICES
    ) -> None:
        self.every = every
        self.clock = clock
        self.max_keys = max_keys
        self._last: dict[Hashable, float] = {}
        self._quiet: dict[Hashable, int] = {}

    def due(self, key: Hashable, now: float | None = None) -> tuple[bool, int]:
        """(whether to log now, how many were not logged since the last time); `now`
        defaults to the clock."""
        now = self.clock() if now is None else now
        last = self._last.get(key)
        if last is not None and now - last < self.every:
            self._quiet[key] = self._quiet.get(key, 0) + 1
            return False, 0
        if last is None and self.max_keys is not None and len(self._last) >= self.max_keys:
            self._last.clear()  # a flood of junk keys: start over rather than grow
            self._quiet.clear()
        self._last[key] = now
        return True, self._quiet.pop(key, 0)


class Counted(NamedTuple):
    """One message counted: under which device (`others` once too many were named),
    whether a log line is due now, and how many of its key were not logged since the last
    line."""

    device: str
    due: bool
    quiet: int


class Tally:
    """Messages not applied, counted per (device, reason); thread-safe.

    A log line is due at the first message of a key and then at most once every
    `log_every` seconds, the key being the device (`per_reason=False`) or the device and
    the reason. `clock` is a monotonic clock in seconds; `add` takes an explicit `now` too.
    Past `max_devices` devices, the others are counted together as `others`."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        log_every: float = LOG_EVERY_S,
        max_devices: int = MAX_DEVICES,
        others: str = "(other)",
        per_reason: bool = False,
    ) -> None:
        self._max_devices = max_devices
        self._others = others
        self._per_reason = per_reason
        self._counts: Counter[tuple[str, str]] = Counter()
        self._devices: set[str] = set()
        # the keys are bounded by the devices (and the reasons, which the code names)
        self._logs = LogEvery(log_every, clock, max_keys=None)
        self._lock = threading.Lock()

    def add(self, device: str, reason: str, now: float | None = None) -> Counted:
        """Count one message of `device` not applied for `reason`."""
        with self._lock:
            if device not in self._devices:
                if len(self._devices) >= self._max_devices:
                    device = self._others
                self._devices.add(device)
            self._counts[(device, reason)] += 1
            key = (device, reason) if self._per_reason else device
            due, quiet = self._logs.due(key, now)
        return Counted(device, due, quiet)

    def counts(self) -> dict[tuple[str, str], int]:
        """{(device, reason): how many}"""
        with self._lock:
            return dict(self._counts)

    def total(self, *, device: str | None = None, reason: str | None = None) -> int:
        """How many, of one device and/or one reason (every one without either)."""
        return sum(
            n
            for (d, r), n in self.counts().items()
            if (device is None or d == device) and (reason is None or r == reason)
        )
