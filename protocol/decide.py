"""The one pure function that decides a tap: `decide(snapshot, door, card_hash, now)`.

The server and the gateway both call it, so a door gets the same answer from either.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from protocol.messages import Reason
from protocol.policy import PolicySnapshot

GRANTS = frozenset({Reason.STAFF, Reason.MEMBERSHIP, Reason.BOOKING, Reason.WALK_IN})


@dataclass(frozen=True)
class Outcome:
    """What `decide` concluded: whether to open, why, for whom, and for how long."""

    granted: bool
    reason: Reason
    member_id: int | None = None
    unlock_s: float = 0.0


def decide(snapshot: PolicySnapshot, door: str, card_hash: str, now: datetime) -> Outcome:
    """Decide a tap of the card whose hash is `card_hash` at the door controlled by device
    `door`, at the server's (or gateway's) time `now`.

    Order: the door must be known, then the card and its member; a grant is then sought
    (staff anywhere at any time, then a coworking plan at its doors inside its hours), and
    a door in lockdown turns any grant into `locked_down`.
    """
    door_policy = snapshot.doors.get(door)
    if door_policy is None:
        return Outcome(False, Reason.UNKNOWN_DOOR)
    card = snapshot.cards.get(card_hash)
    if card is None:
        return Outcome(False, Reason.UNKNOWN_CARD)
    member_id = card.member_id
    if not card.active:
        return Outcome(False, Reason.CARD_REVOKED, member_id)
    member = snapshot.members.get(member_id)
    if member is None:
        return Outcome(False, Reason.UNKNOWN_CARD, member_id)
    if member.suspended_until is not None and member.suspended_until > now:
        return Outcome(False, Reason.MEMBER_SUSPENDED, member_id)

    reason = _grant_or_denial(snapshot, door, member_id, member.category, now)
    if reason in GRANTS:
        if door_policy.mode == "locked":
            return Outcome(False, Reason.LOCKED_DOWN, member_id)
        return Outcome(True, reason, member_id, door_policy.unlock_s)
    return Outcome(False, reason, member_id)


def _grant_or_denial(
    snapshot: PolicySnapshot, door: str, member_id: int, category: str, now: datetime
) -> Reason:
    if category == "staff":
        return Reason.STAFF
    return _membership(snapshot, door, member_id, now)


def _membership(snapshot: PolicySnapshot, door: str, member_id: int, now: datetime) -> Reason:
    """`membership` if an active plan covers this door now; otherwise the closest denial."""
    active = [
        m
        for m in snapshot.memberships.get(member_id, [])
        if m.valid_from <= now < m.valid_until and m.plan in snapshot.plans
    ]
    if not active:
        return Reason.NO_MEMBERSHIP
    door_id = snapshot.doors[door].id
    covering = [snapshot.plans[m.plan] for m in active if door_id in snapshot.plans[m.plan].doors]
    if not covering:
        return Reason.NO_ACCESS
    if any(p.hours == "always" or snapshot.is_open(now) for p in covering):
        return Reason.MEMBERSHIP
    return Reason.OUTSIDE_HOURS
