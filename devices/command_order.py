"""Commands in time (docs/protocol.md): which retained command (DoorMode, EmergencyList) a door
applies over the one it holds, and which command is dated too far ahead to believe.

Pure functions of plain values; the door controller calls them with its wall clock.

>>> held = DoorMode(ts=now, mode="locked", n=7)  # doctest: +SKIP
>>> verdict(DoorMode(ts=now, mode="normal", n=6), held, wall=now, synced=True)  # doctest: +SKIP
'stale'
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal, Protocol

from protocol.messages import from_the_future

Verdict = Literal["apply", "same", "stale", "from_the_future"]


class Retained(Protocol):
    """What ordering reads of a retained command: its time and the server's counter."""

    @property
    def ts(self) -> datetime: ...

    @property
    def n(self) -> int | None: ...


def too_early(ts: datetime, wall: datetime, synced: bool) -> bool:
    """Whether a command dated `ts` is more than 5 minutes ahead of a synced clock; an
    unsynced clock (a Pi before NTP answered) cannot tell, so nothing is."""
    return synced and from_the_future(ts, wall)


def verdict(new: Retained, held: Retained | None, *, wall: datetime, synced: bool) -> Verdict:
    """Whether to apply `new` over `held`: a newer `n` wins and an older or equal one never
    does; a command without `n` (an older server) is ordered by `ts` and never wins over
    one that carried `n`; "same" is the held command again (a retained redelivery)."""
    if new == held:
        return "same"
    if too_early(new.ts, wall, synced):
        return "from_the_future"
    if held is None:
        return "apply"
    if new.n is not None:
        return "apply" if held.n is None or new.n > held.n else "stale"
    if held.n is not None or new.ts < held.ts:
        return "stale"
    return "apply"
