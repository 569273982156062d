"""What the gateway answers a tap: `decide()` over its snapshot, behind the same tap limits
as the server (protocol.attempts), with the staleness rule of the gateway.

>>> answers = TapAnswers(store, card_key, max_age=timedelta(days=7))  # doctest: +SKIP
>>> answers.outcome("reader-main", "04A1B2C3", now=utcnow(), mono_now=5.0)  # doctest: +SKIP
Outcome(granted=True, reason=<Reason.STAFF: 'staff'>, ...)

The order is the server's: an unknown card past its door's bucket is answered
`too_many_attempts` at once from memory; any other tap is decided with `blocked` for a card
in its cooling period, then counted against its card.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta
from enum import Enum

from gateway.snapshot import HeldSnapshot, SnapshotStore
from protocol import attempts
from protocol.attempts import TapLimits
from protocol.cards import card_hash
from protocol.decide import Outcome, decide
from protocol.messages import Reason
from protocol.policy import PolicySnapshot

log = logging.getLogger(__name__)


class Silent(Enum):
    """A tap refused from memory and only counted: past the door's bucket of answers to
    refused taps (protocol.attempts). A card in its cooling period is always answered."""

    FLOOD = "flood"


def gateway_outcome(
    held: HeldSnapshot | None,
    door: str,
    hashed_card: str,
    now: datetime,
    *,
    max_age: timedelta,
    blocked: bool = False,
) -> Outcome | None:
    """What the gateway answers a tap of the card `hashed_card` at door controller `door`:
    `decide()` over the held snapshot, with grants other than `staff` turned into
    `policy_stale` denials when the snapshot was last confirmed more than `max_age` ago;
    `policy_stale` for everyone without a snapshot; None (no answer) for a device that is
    not a door of the snapshot. `blocked`: the card is in its cooling period."""
    if held is None:
        return Outcome(False, Reason.POLICY_STALE)
    if door not in held.snapshot.doors:
        return None
    outcome = decide(held.snapshot, door, hashed_card, now, blocked=blocked)
    stale = now - held.fetched_at > max_age
    if stale and outcome.granted and outcome.reason != Reason.STAFF:
        return Outcome(False, Reason.POLICY_STALE, outcome.member_id)
    return outcome


class TapAnswers:
    """The gateway's answers from the store's newest snapshot, with the tap limits it keeps
    in memory (their settings follow each new snapshot's rules). Thread-safe: paho's
    thread answers at once, the timer thread after the takeover time."""

    def __init__(
        self,
        store: SnapshotStore,
        card_key: str,
        *,
        max_age: timedelta,
        limits: TapLimits | None = None,
    ) -> None:
        self.store = store
        self.max_age = max_age
        self.limits = limits or TapLimits()
        self.throttled = 0  # unknown-card taps answered from memory
        self.cooling = 0  # cards sent into their cooling period
        self._card_key = card_key
        self._following: PolicySnapshot | None = None
        self._lock = threading.Lock()

    def outcome(
        self, door: str, card: str, *, now: datetime, mono_now: float
    ) -> Outcome | Silent | None:
        """The answer to a tap of the canonical `card` at device `door`, at the gateway's
        time `now` and monotonic `mono_now` (the limits' clock); None: not a door of the
        snapshot; Silent: refused, counted and not answered."""
        with self._lock:
            return self._outcome(door, card, now, mono_now)

    def _outcome(
        self, door: str, card: str, now: datetime, mono_now: float
    ) -> Outcome | Silent | None:
        held = self.store.current
        if held is None or door not in held.snapshot.doors:
            return gateway_outcome(held, door, "", now, max_age=self.max_age)
        snapshot = held.snapshot
        if snapshot is not self._following:
            self.limits.follow(snapshot.rules)
            self._following = snapshot
        hashed = card_hash(self._card_key, card)
        if attempts.throttled(self.limits, snapshot, door, hashed, mono_now):
            self.throttled += 1
            if not self.limits.answer_refused(door, now=mono_now):
                return Silent.FLOOD
            return Outcome(False, Reason.TOO_MANY_ATTEMPTS)
        blocked = self.limits.blocked(hashed, now=mono_now)
        outcome = gateway_outcome(held, door, hashed, now, max_age=self.max_age, blocked=blocked)
        if outcome is not None and attempts.count(self.limits, hashed, outcome, mono_now):
            self.cooling += 1
            log.warning(
                "card %s... denied %d times within %g s (the last at %s): "
                "too_many_attempts for %g s",
                hashed[:8],
                self.limits.max_denied,
                self.limits.denied_window_s,
                door,
                self.limits.cooldown_s,
            )
        return outcome
