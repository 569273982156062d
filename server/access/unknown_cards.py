"""Cards just tapped at a reader that the site does not know: what the reception desk
offers for enrolment ("the card tapped at the entrance at 10:02: enrol it for Anna?").

Kept in memory only, a handful per reader for a few minutes, and only what enrolment
needs: the card's keyed hash (never its UID), the reader and the time. With several
replicas, each relays the ones it hears to the others (`relays`,
server.adapters.live_relay), so any replica's reception desk offers them.

    recent = RecentUnknownCards()
    recent.add("door-main", card_hash, at=now)          # the tap path, on `unknown_card`
    recent.latest("door-main", since=page_opened, now=now)   # the reception page
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta

from server.live.relays import Relays

PER_READER = 5
KEEP = timedelta(minutes=5)


@dataclass(frozen=True)
class UnknownTap:
    device_id: str
    card_hash: str
    at: datetime


class RecentUnknownCards:
    """The latest unknown cards per reader, newest last; older than `keep` are gone."""

    def __init__(self, *, per_reader: int = PER_READER, keep: timedelta = KEEP) -> None:
        self.keep = keep
        self._per_reader = per_reader
        self._taps: dict[str, deque[UnknownTap]] = {}
        self._lock = threading.Lock()
        self.relays: Relays[UnknownTap] = Relays()  # also handed every card added here

    def add(self, device_id: str, card_hash: str, *, at: datetime) -> None:
        """Remember an unknown card tapped at `device_id` (the oldest of a full reader
        goes), and hand it to the relays."""
        tap = UnknownTap(device_id=device_id, card_hash=card_hash, at=at)
        self.add_relayed(tap)
        self.relays(tap)

    def add_relayed(self, tap: UnknownTap) -> None:
        """Remember an unknown card another replica heard."""
        with self._lock:
            taps = self._taps.setdefault(tap.device_id, deque(maxlen=self._per_reader))
            taps.append(tap)

    def latest(self, device_id: str, *, since: datetime, now: datetime) -> UnknownTap | None:
        """The newest unknown card tapped at `device_id` after `since` and not older than
        `keep`; None when there is none."""
        with self._lock:
            self._forget(now)
            for tap in reversed(self._taps.get(device_id, ())):
                if tap.at > since:
                    return tap
        return None

    def find(self, device_id: str, card_hash: str, *, now: datetime) -> UnknownTap | None:
        """The tap of this card at this reader, while it is kept (the enrolment's check
        that the card offered was really tapped there, lately)."""
        with self._lock:
            self._forget(now)
            for tap in self._taps.get(device_id, ()):
                if tap.card_hash == card_hash:
                    return tap
        return None

    def taken(self, card_hash: str) -> None:
        """Forget a card once it is enrolled."""
        with self._lock:
            for device_id, taps in self._taps.items():
                kept = [t for t in taps if t.card_hash != card_hash]
                self._taps[device_id] = deque(kept, maxlen=self._per_reader)

    def _forget(self, now: datetime) -> None:
        cutoff = now - self.keep
        for taps in self._taps.values():
            while taps and taps[0].at < cutoff:
                taps.popleft()
