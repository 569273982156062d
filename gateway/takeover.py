"""When the gateway takes over: the server replicas it has heard, the taps waiting for the
server's decision, and the answers that can wait.

- A replica counts as online while its last valid Status says `online` and it was heard
  within three of its intervals. Only a valid `offline` Status (its own or its last will)
  or that silence takes it away; a malformed status changes nothing (`server_status`
  raises, the guard counts it). An emptied retained topic means the replica is gone.
- A tap waits for the takeover time when a replica is online, else not at all; it is
  answered when its time is up unless a decision for it was heard first.

>>> pending = Pending()
>>> pending.add(("reader-main", "t1"), tap, now=10.0, due=10.5)  # doctest: +SKIP
True
>>> pending.due(now=11.0)  # doctest: +SKIP
[('reader-main', Tap(id='t1', ...))]
"""

from __future__ import annotations

import heapq
import itertools
import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime

from gateway.rejects import Rejected
from protocol.messages import Decision, Status, Tap, decode

Key = tuple[str, str]  # (device, tap id)

# Answers that can wait go out after this long without a tap, or after this long at most
# (a door waits 2 s), and so many wait at most.
QUIET_S = 0.05
LATE_MAX_S = 1.0
MAX_LATE = 10_000
# Junk may name a new tap id or replica in every message: memory stays bounded.
MAX_DECIDED = 100_000
MAX_REPLICAS = 64


def server_status(payload: bytes) -> Status | None:
    """The Status a server replica published; None for an emptied retained topic (the
    replica is gone). Raises ProtocolError for an invalid one, Rejected for a Status of
    another kind of sender: neither may change what the gateway believes."""
    if not payload:
        return None
    status = decode(Status, payload)
    if status.kind != "server":
        raise Rejected("wrong_kind", f"a {status.kind} status on a server's topic")
    return status


def heard_at(status: Status, received: float, *, retained: bool, now: datetime) -> float:
    """When a status was heard, on the monotonic clock of `received`: a retained one may be
    old (a replica that died with the broker), so its age by its own time stamp counts."""
    if not retained:
        return received
    return received - max(0.0, (now - status.ts).total_seconds())


class Replicas:
    """The server replicas' valid statuses and last wills, and when each was heard."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: dict[str, tuple[bool, float, float]] = {}  # online, heard, interval_s

    def update(self, instance: str, status: Status | None, heard: float) -> None:
        """`heard` is a `time.monotonic()`; None clears the replica (an emptied topic).
        Raises Rejected for a new replica past `MAX_REPLICAS`."""
        with self._lock:
            if status is None:
                self._seen.pop(instance, None)
                return
            if instance not in self._seen and len(self._seen) >= MAX_REPLICAS:
                raise Rejected("too_many_replicas", f"{MAX_REPLICAS} replicas known already")
            self._seen[instance] = (status.state == "online", heard, status.interval_s)

    def any_online(self, now: float) -> bool:
        """Whether a replica says online and was heard within three of its intervals."""
        with self._lock:
            return any(
                online and now - heard <= 3 * interval
                for online, heard, interval in self._seen.values()
            )


@dataclass(order=True)
class _Due:
    at: float
    seq: int
    key: Key = field(compare=False)


class Pending:
    """The timer thread's work, behind one condition that also wakes it: taps waiting for
    their takeover time, every tap id recently decided (by anyone), and answers that can
    wait for a pause in the taps.

    An answer that can wait is a flood's `too_many_attempts`: published once no tap has
    come for `quiet_s`, or once the oldest has waited `late_max_s` (well inside a door's
    2 s), so that a flood's answers, and the broker's echo of them, never queue in front
    of a known card's tap or answer."""

    def __init__(
        self,
        *,
        quiet_s: float = QUIET_S,
        late_max_s: float = LATE_MAX_S,
        max_late: int = MAX_LATE,
    ) -> None:
        self.cond = threading.Condition()
        self.dropped_late = 0  # answers that found the queue full: the door times out
        self._quiet = quiet_s
        self._late_max = late_max_s
        self._max_late = max_late
        self._heap: list[_Due] = []
        self._waiting: dict[Key, Tap] = {}
        self._decided: dict[Key, float] = {}
        self._late: deque[tuple[float, str, Decision]] = deque()
        self._last_tap = float("-inf")
        self._seq = itertools.count()

    def __len__(self) -> int:
        """How many taps wait."""
        with self.cond:
            return len(self._waiting)

    def add(self, key: Key, tap: Tap, *, now: float, due: float) -> bool:
        """Keep a tap heard at `now` until `due`; False for one already decided or waiting
        (a repeat)."""
        with self.cond:
            self._last_tap = now
            if key in self._decided or key in self._waiting:
                return False
            self._waiting[key] = tap
            heapq.heappush(self._heap, _Due(due, next(self._seq), key))
            self.cond.notify()
            return True

    def take(self, key: Key, now: float) -> bool:
        """Mark a tap heard at `now` decided, to be answered at once; False for a repeat."""
        with self.cond:
            self._last_tap = now
            if key in self._decided or key in self._waiting:
                return False
            self._remember(key, now)
            return True

    def decided(self, key: Key, now: float) -> bool:
        """A decision for `key` was heard; returns whether its tap was still waiting."""
        with self.cond:
            if key not in self._decided:
                self._remember(key, now)
            return self._waiting.pop(key, None) is not None

    def defer(self, device: str, decision: Decision, now: float) -> bool:
        """Keep an answer that can wait; False when too many wait already (dropped)."""
        with self.cond:
            if len(self._late) >= self._max_late:
                self.dropped_late += 1
                return False
            self._late.append((now, device, decision))
            self.cond.notify()
            return True

    def due(self, now: float) -> list[tuple[str, Tap]]:
        """Take the taps whose time is up (device, tap), marking them decided. Call with
        `cond` held."""
        taken = []
        while self._heap and self._heap[0].at <= now:
            key = heapq.heappop(self._heap).key
            tap = self._waiting.pop(key, None)
            if tap is not None:  # else a decision came in time
                self._remember(key, now)
                taken.append((key[0], tap))
        return taken

    def late(self, now: float) -> list[tuple[str, Decision]]:
        """Take the answers that waited enough (device, decision). Call with `cond` held."""
        if not self._late or now < self._late_at():
            return []
        taken = [(device, decision) for _, device, decision in self._late]
        self._late.clear()
        return taken

    def next_at(self, default: float) -> float:
        """When the next tap or the waiting answers are due, or `default`. Call with `cond`
        held."""
        at = min(default, self._heap[0].at) if self._heap else default
        return min(at, self._late_at()) if self._late else at

    def forget(self, before: float) -> None:
        """Forget the tap ids decided before `before`. Call with `cond` held."""
        for key in [k for k, at in self._decided.items() if at < before]:
            del self._decided[key]

    def _remember(self, key: Key, now: float) -> None:
        self._decided[key] = now
        if len(self._decided) > MAX_DECIDED:  # the oldest first: dicts keep their order
            del self._decided[next(iter(self._decided))]

    def _late_at(self) -> float:
        return min(self._last_tap + self._quiet, self._late[0][0] + self._late_max)
