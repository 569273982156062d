"""The server's side of the tap limits (protocol.attempts): the limits behind a lock, the
count of taps refused from memory per door and why, and the alerts staff get when a card
starts its cooling period or a door starts throttling unknown cards.

Refusing a tap costs no database access and no hash beyond the card's HMAC, so a flood of
junk taps at one door never delays a known card's decision. Alerts are written by the
after-tap worker, once per card and once per door per cooldown. With several replicas,
each relays the taps it counts against cards (`relays`, server.adapters.live_relay) and
counts the others' (`follow_count`), so a card's denials add up across replicas; each
door's bucket of unknown cards stays a replica's own (it guards that replica's work).

    limiter = Limiter(site=site, after=after, counts=Counter(), monotonic=time.monotonic)
    refused = limiter.refuse(snapshot, device, tap, card_hash)  # None: decide it
    limiter.count(device, card_hash, outcome)  # after deciding
"""

from __future__ import annotations

import logging
import threading
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from protocol.attempts import TapLimits, count, throttled
from protocol.decide import Outcome
from protocol.messages import Reason, Tap
from protocol.policy import AccessRules, PolicySnapshot
from server.access.aftertap import AfterTap
from server.live.relays import Relays
from server.site import Device, SiteConfig

log = logging.getLogger(__name__)

FLOOD = "unknown_card_flood"  # the door's bucket of unknown cards is empty
COOLING = "cooling_period"  # the card was refused too often lately
MAX_REMEMBERED = 20_000  # taps refused from memory whose ids are kept, the newest


@dataclass(frozen=True)
class Counted:
    """A decided tap counted against its card, as another replica follows it."""

    card: str
    granted: bool
    reason: Reason


class Limiter:
    """Tap limits for the server's door path."""

    def __init__(
        self,
        *,
        site: SiteConfig,
        after: AfterTap,
        counts: Counter[tuple[str, str]],
        monotonic: Callable[[], float],
        limits: TapLimits | None = None,
    ) -> None:
        self.site = site
        self.after = after
        self.counts = counts
        self.monotonic = monotonic
        self.limits = limits or TapLimits()
        self._lock = threading.Lock()  # TapLimits is plain state
        self._floods: dict[str, float] = {}  # door device -> when its flood alert was raised
        # (device, tap id) of the taps refused lately: their Results are refused from
        # memory too (a stuck reader sends a Result for every tap)
        self._refused: OrderedDict[tuple[str, str], None] = OrderedDict()
        self.relays: Relays[Counted] = Relays()  # also handed every tap counted here

    def follow(self, rules: AccessRules) -> None:
        """Take the limits of a new snapshot's rules, keeping what was counted."""
        with self._lock:
            self.limits.follow(rules)

    def refuse(
        self, snapshot: PolicySnapshot, device: Device, tap: Tap, card: str
    ) -> tuple[str, bool] | None:
        """Why a tap is refused `too_many_attempts` from memory (`FLOOD` or `COOLING`), and
        whether that is answered; None when it is to be decided. A replayed tap is never
        decided, nor answered: only the flood rule keeps it out of the database. A card in
        its cooling period is always answered (unanswered, a door would fall back on its
        emergency list, which may hold that very card); a flood's taps while the door's
        bucket of answers lasts (protocol.attempts)."""
        now = self.monotonic()
        with self._lock:
            if throttled(self.limits, snapshot, device.id, card, now):
                why = FLOOD
                starts = self._flood_starts(device.id, now)
                answered = not tap.replay and self.limits.answer_refused(device.id, now=now)
            elif not tap.replay and self.limits.blocked(card, now=now):
                why, starts, answered = COOLING, False, True
            else:
                return None
            self.counts[(device.id, why)] += 1
            seen = self.counts[(device.id, why)]
            self._refused[(device.id, tap.id)] = None
            while len(self._refused) > MAX_REMEMBERED:
                self._refused.popitem(last=False)
        if starts:
            log.warning("%s: unknown cards throttled (%d taps so far)", device.id, seen)
            self.after.alert(
                "unknown_card_flood",
                room_id=device.room,
                device_id=device.id,
                details={**self._where(device), "throttled": seen},
            )
        return why, answered

    def refused(self, device_id: str, tap_id: str) -> bool:
        """Whether this tap was answered from memory lately (it has no row)."""
        with self._lock:
            return (device_id, tap_id) in self._refused

    def count(self, device: Device, card: str, outcome: Outcome) -> None:
        """Count a decided tap against its card; the alert when its cooling period starts."""
        with self._lock:
            starts = count(self.limits, card, outcome, self.monotonic())
            cooldown = self.limits.cooldown_s
        self.relays(Counted(card, outcome.granted, outcome.reason))
        if not starts:
            return
        log.warning("%s: a card refused too often, refused for %.0f s", device.id, cooldown)
        self.after.alert(
            "too_many_attempts",
            room_id=device.room,
            device_id=device.id,
            details={**self._where(device), "member_id": outcome.member_id},
        )

    def follow_count(self, counted: Counted) -> None:
        """Count a tap another replica counted (its alert is that replica's)."""
        outcome = Outcome(granted=counted.granted, reason=counted.reason)
        with self._lock:
            count(self.limits, counted.card, outcome, self.monotonic())

    def _flood_starts(self, door: str, now: float) -> bool:
        """Whether a throttled tap at this door is worth an alert: once per cooldown."""
        last = self._floods.get(door)
        if last is not None and now - last < self.limits.cooldown_s:
            return False
        self._floods[door] = now
        return True

    def _where(self, device: Device) -> dict[str, str | None]:
        room = self.site.room(device.room)
        return {"room": room.name if room else device.room, "door": device.door}
