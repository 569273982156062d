"""Tap rate limits that the server and the gateway apply alike, before `decide()`.

Two rules, both from the site's `AccessRules`:

- a card denied `max_denied` times within `denied_window_s` is answered
  `too_many_attempts` for `cooldown_s` (someone trying a found or cloned card at every
  door, or a reader stuck on a card);
- taps of cards the policy does not know are throttled per door: each door has a bucket of
  `unknown_burst` unknown-card taps that refills at `unknown_per_minute`; past it an
  unknown card is answered `too_many_attempts` from memory, without a record of its own,
  so a flood of junk never delays a known card's decision.

Taps refused from memory are answered only while the door's bucket of such answers lasts
(`unknown_burst` at once, then `REFUSED_ANSWERS_PER_S`); past it the door hears nothing and
times out, as with no server. A person at the door still hears why; a flood's answers would
cost the broker, the gateway and the server a message each way per junk tap, and the known
cards queued behind them their time.

The limiter holds plain values and takes an explicit `now` (a monotonic time in seconds),
like `decide()`; its memory is bounded (`max_cards`), the oldest cards forgotten first.

>>> limits = TapLimits(max_denied=2, denied_window_s=60, cooldown_s=300)
>>> limits.blocked("h1", now=0.0)
False
>>> limits.denied("h1", now=1.0), limits.denied("h1", now=2.0)
(False, True)
>>> limits.blocked("h1", now=3.0), limits.blocked("h1", now=303.0)
(True, False)
"""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import dataclass, field

from protocol.decide import Outcome
from protocol.messages import Reason
from protocol.policy import AccessRules, PolicySnapshot

REFUSED_ANSWERS_PER_S = 1.0

# Denials that say nothing about the card: they never count towards its limit.
NOT_THE_CARDS_FAULT = frozenset({Reason.LOCKED_DOWN, Reason.POLICY_STALE, Reason.UNKNOWN_DOOR})


@dataclass
class _Card:
    denials: deque[float] = field(default_factory=deque)
    blocked_until: float = float("-inf")


@dataclass
class _Bucket:
    tokens: float
    at: float


class TapLimits:
    """Per-card denial counting and per-door throttling of unknown cards."""

    def __init__(
        self,
        *,
        max_denied: int = 5,
        denied_window_s: float = 60.0,
        cooldown_s: float = 300.0,
        unknown_burst: int = 10,
        unknown_per_minute: float = 30.0,
        max_cards: int = 10_000,
    ) -> None:
        self.max_denied = max_denied
        self.denied_window_s = denied_window_s
        self.cooldown_s = cooldown_s
        self.unknown_burst = unknown_burst
        self.unknown_per_minute = unknown_per_minute
        self.max_cards = max_cards
        self._cards: OrderedDict[str, _Card] = OrderedDict()
        self._doors: dict[str, _Bucket] = {}
        self._answers: dict[str, _Bucket] = {}  # per door: answers to refused taps

    def follow(self, rules: AccessRules) -> None:
        """Take the limits of the site's rules (they may have changed), keeping what was
        counted."""
        self.max_denied = rules.max_denied_taps
        self.denied_window_s = rules.denied_window_s
        self.cooldown_s = rules.attempts_cooldown_s
        self.unknown_burst = rules.unknown_taps_burst
        self.unknown_per_minute = rules.unknown_taps_per_minute

    def blocked(self, card_hash: str, *, now: float) -> bool:
        """Whether the card is in its cooling period."""
        card = self._cards.get(card_hash)
        return card is not None and now < card.blocked_until

    def denied(self, card_hash: str, *, now: float) -> bool:
        """Count a denial of the card; True when this one starts its cooling period."""
        card = self._cards.get(card_hash)
        if card is None:
            card = self._cards[card_hash] = _Card()
            while len(self._cards) > self.max_cards:
                self._cards.popitem(last=False)
        else:
            self._cards.move_to_end(card_hash)
        if now < card.blocked_until:
            return False
        window = card.denials
        window.append(now)
        while window and window[0] <= now - self.denied_window_s:
            window.popleft()
        if len(window) < self.max_denied:
            return False
        window.clear()
        card.blocked_until = now + self.cooldown_s
        return True

    def granted(self, card_hash: str) -> None:
        """A grant clears the card's count of denials."""
        card = self._cards.get(card_hash)
        if card is not None:
            card.denials.clear()

    def unknown_allowed(self, door: str, *, now: float) -> bool:
        """Take one unknown-card tap from the door's bucket; False when it is empty."""
        return _take(self._doors, door, self.unknown_burst, self.unknown_per_minute / 60.0, now)

    def answer_refused(self, door: str, *, now: float) -> bool:
        """Whether a tap refused at this door is answered (`too_many_attempts`), taken from
        the door's bucket of such answers; False: counted, not answered."""
        return _take(self._answers, door, self.unknown_burst, REFUSED_ANSWERS_PER_S, now)


def _take(buckets: dict[str, _Bucket], door: str, burst: int, per_s: float, now: float) -> bool:
    """Take one token from the door's bucket (`burst` at most, refilled at `per_s`)."""
    bucket = buckets.get(door)
    if bucket is None:
        bucket = buckets[door] = _Bucket(float(burst), now)
    refill = (now - bucket.at) * per_s
    bucket.tokens = min(float(burst), bucket.tokens + max(0.0, refill))
    bucket.at = now
    if bucket.tokens < 1.0:
        return False
    bucket.tokens -= 1.0
    return True


def throttled(
    limits: TapLimits, snapshot: PolicySnapshot, door: str, card: str, now: float
) -> bool:
    """Whether a tap of an unknown card at a known door is past the door's bucket: it is
    answered `too_many_attempts` without being decided or recorded on its own."""
    return (
        card not in snapshot.cards
        and door in snapshot.doors
        and not limits.unknown_allowed(door, now=now)
    )


def count(limits: TapLimits, card: str, outcome: Outcome, now: float) -> bool:
    """Count a decided tap against its card; True when this denial starts the card's
    cooling period (worth an alert)."""
    if outcome.granted:
        limits.granted(card)
        return False
    if outcome.reason is Reason.TOO_MANY_ATTEMPTS or outcome.reason in NOT_THE_CARDS_FAULT:
        return False
    return limits.denied(card, now=now)
