"""The one pure function that decides a tap: `decide(snapshot, door, card_hash, now)`.

The server and the gateway both call it, so a door gets the same answer from either.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from protocol.bookingrules import checkin_window, in_checkin_window, no_show_due, suspended
from protocol.messages import Reason
from protocol.policy import BookingPolicy, DoorPolicy, PolicySnapshot

GRANTS = frozenset({Reason.STAFF, Reason.MEMBERSHIP, Reason.BOOKING, Reason.WALK_IN})

Effect = Literal["check_in", "walk_in"]


@dataclass(frozen=True)
class Outcome:
    """What `decide` concluded: whether to open, why, for whom, and for how long.

    `effect` is the state change a grant implies and the server must commit before the
    door hears it: `check_in` of `booking_id`, or a `walk_in` booking of `room` until
    `until`."""

    granted: bool
    reason: Reason
    member_id: int | None = None
    unlock_s: float = 0.0
    booking_id: int | None = None
    effect: Effect | None = None
    room: str | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class _Why:
    reason: Reason
    booking_id: int | None = None
    effect: Effect | None = None
    until: datetime | None = None


def decide(
    snapshot: PolicySnapshot, door: str, card_hash: str, now: datetime, *, blocked: bool = False
) -> Outcome:
    """Decide a tap of the card whose hash is `card_hash` at the door controlled by device
    `door`, at the server's (or gateway's) time `now`; `blocked`: the card is in the
    cooling period of the tap limits (protocol.attempts), and is answered
    `too_many_attempts`.

    The door must be known, then the card and its member. A grant is then sought in the
    order of docs/architecture.md: the room's current booking decides who may enter it (its holder
    and attendees; staff besides; anyone else `room_booked`), then a booking about to
    start (early entry), staff, walk-in into a free bookable room, and a coworking plan
    at its doors in its hours. A door in lockdown turns any grant into `locked_down`.
    """
    door_policy = snapshot.doors.get(door)
    if door_policy is None:
        return Outcome(False, Reason.UNKNOWN_DOOR)
    card = snapshot.cards.get(card_hash)
    if blocked:
        return Outcome(False, Reason.TOO_MANY_ATTEMPTS, card.member_id if card else None)
    if card is None:
        return Outcome(False, Reason.UNKNOWN_CARD)
    member_id = card.member_id
    if not card.active:
        return Outcome(False, Reason.CARD_REVOKED, member_id)
    member = snapshot.members.get(member_id)
    if member is None:
        return Outcome(False, Reason.UNKNOWN_CARD, member_id)
    if suspended(member.suspended_until, now):
        return Outcome(False, Reason.MEMBER_SUSPENDED, member_id)

    if door_policy.kind == "entrance":
        why = _entrance(snapshot, door_policy, member_id, member.category, now)
    else:
        why = _room(snapshot, door_policy, member_id, member.category, now)
    if why.reason not in GRANTS:
        return Outcome(False, why.reason, member_id, booking_id=why.booking_id)
    if door_policy.mode == "locked":
        return Outcome(False, Reason.LOCKED_DOWN, member_id)
    return Outcome(
        True,
        why.reason,
        member_id,
        door_policy.unlock_s,
        booking_id=why.booking_id,
        effect=why.effect,
        room=door_policy.room,
        until=why.until,
    )


def _grace(snapshot: PolicySnapshot) -> timedelta:
    return timedelta(seconds=snapshot.rules.no_show_grace_s)


def _early(snapshot: PolicySnapshot) -> timedelta:
    return timedelta(seconds=snapshot.rules.early_entry_s)


def _live(snapshot: PolicySnapshot, booking: BookingPolicy, now: datetime) -> bool:
    """Whether a booking still holds its room: checked in, or booked and not yet due for
    release as a no-show (a booking past its grace is released, whether or not the sweep
    has run)."""
    return _live_after(booking, _grace(snapshot), now)


def _live_after(booking: BookingPolicy, grace: timedelta, now: datetime) -> bool:
    """`_live`, with the snapshot's grace worked out once for many bookings."""
    if booking.status == "checked_in":
        return True
    return booking.status == "booked" and not no_show_due(booking.start, grace, now)


def _released(snapshot: PolicySnapshot, booking: BookingPolicy, now: datetime) -> bool:
    return _released_after(booking, _grace(snapshot), now)


def _released_after(booking: BookingPolicy, grace: timedelta, now: datetime) -> bool:
    """`_released`, with the snapshot's grace worked out once for many bookings."""
    return booking.start <= now < booking.end and not _live_after(booking, grace, now)


def _holds(snapshot: PolicySnapshot, booking: BookingPolicy, now: datetime) -> bool:
    """Whether a booking holds its room at `now`: live and started, or already checked in
    by early entry (its people are inside, so the room is no longer free)."""
    if not (now < booking.end and _live(snapshot, booking, now)):
        return False
    if booking.start <= now:
        return True
    return booking.status == "checked_in" and _opens(snapshot, booking) <= now


def _opens(snapshot: PolicySnapshot, booking: BookingPolicy) -> datetime:
    """When the booking's check-in window opens (its early entry)."""
    opens, _closes = checkin_window(booking.start, booking.end, _early(snapshot), _grace(snapshot))
    return opens


def _early_check_in(snapshot: PolicySnapshot, booking: BookingPolicy, now: datetime) -> bool:
    """Whether `now` is in the booking's check-in window before its start (early entry)."""
    window = (booking.start, booking.end, _early(snapshot), _grace(snapshot))
    return now < booking.start and in_checkin_window(*window, now) and _live(snapshot, booking, now)


# The bookings of the latest snapshots in order, all and by room: sorted once per
# snapshot rather than on every tap. Keyed by the bookings list itself (a snapshot is
# never changed once made; a model_copy shares the list unless it replaces it).
_ORDERED: dict[int, tuple[list[BookingPolicy], int, dict[str | None, list[BookingPolicy]]]] = {}
_ORDERED_MAX = 8


def _bookings(snapshot: PolicySnapshot, room: str | None = None) -> list[BookingPolicy]:
    """The snapshot's bookings (of `room`, if given) in order of start, then id, so that
    the answer never depends on the order the server listed them in. Not to be changed:
    the list is the snapshot's for every tap."""
    listed = snapshot.bookings
    held = _ORDERED.get(id(listed))
    if held is None or held[0] is not listed or held[1] != len(listed):
        ordered = sorted(listed, key=lambda b: (b.start, b.id))
        by_room: dict[str | None, list[BookingPolicy]] = {None: ordered}
        for b in ordered:
            by_room.setdefault(b.room, []).append(b)
        if len(_ORDERED) >= _ORDERED_MAX:
            _ORDERED.clear()
        held = _ORDERED[id(listed)] = (listed, len(listed), by_room)
    return held[2].get(room, [])


def _check_in(snapshot: PolicySnapshot, booking: BookingPolicy) -> _Why:
    effect: Effect | None = "check_in" if booking.status == "booked" else None
    return _Why(Reason.BOOKING, booking.id, effect)


def _room(
    snapshot: PolicySnapshot, door: DoorPolicy, member_id: int, category: str, now: datetime
) -> _Why:
    bookings = _bookings(snapshot, door.room)
    current = next((b for b in bookings if _holds(snapshot, b, now)), None)
    if current is not None:
        if current.admits(member_id):
            return _check_in(snapshot, current)
        return _Why(Reason.STAFF if category == "staff" else Reason.ROOM_BOOKED)
    for b in bookings:
        if b.admits(member_id) and _early_check_in(snapshot, b, now):
            return _check_in(snapshot, b)
    if category == "staff":
        return _Why(Reason.STAFF)
    room = snapshot.rooms.get(door.room)
    if room is not None and room.bookable and category in snapshot.rules.walk_in_categories:
        until = now + timedelta(seconds=snapshot.rules.walk_in_max_s)
        for b in bookings:
            if now < b.start < until and _live(snapshot, b, b.start):
                until = b.start
        return _Why(Reason.WALK_IN, effect="walk_in", until=until)
    released = next(
        (b for b in bookings if b.member_id == member_id and _released(snapshot, b, now)), None
    )
    if released is not None:
        return _Why(Reason.BOOKING_RELEASED, released.id)
    return _Why(_membership(snapshot, door, member_id, now))


def _entrance(
    snapshot: PolicySnapshot, door: DoorPolicy, member_id: int, category: str, now: datetime
) -> _Why:
    released = None
    early, grace = _early(snapshot), _grace(snapshot)
    for b in _bookings(snapshot):
        if not (now < b.end and b.admits(member_id)):
            continue  # over (neither open nor released now), or not theirs
        if _live_after(b, grace, now) and checkin_window(b.start, b.end, early, grace)[0] <= now:
            return _Why(Reason.BOOKING, b.id)
        if released is None and b.member_id == member_id and _released_after(b, grace, now):
            released = b
    if category == "staff":
        return _Why(Reason.STAFF)
    reason = _membership(snapshot, door, member_id, now)
    if reason not in GRANTS and released is not None:
        return _Why(Reason.BOOKING_RELEASED, released.id)
    return _Why(reason)


def _membership(
    snapshot: PolicySnapshot, door: DoorPolicy, member_id: int, now: datetime
) -> Reason:
    """`membership` if an active plan covers this door now; otherwise the closest denial."""
    active = [
        m
        for m in snapshot.memberships.get(member_id, [])
        if m.valid_from <= now < m.valid_until and m.plan in snapshot.plans
    ]
    if not active:
        return Reason.NO_MEMBERSHIP
    covering = [snapshot.plans[m.plan] for m in active if door.id in snapshot.plans[m.plan].doors]
    if not covering:
        return Reason.NO_ACCESS
    if any(p.hours == "always" or snapshot.is_open(now) for p in covering):
        return Reason.MEMBERSHIP
    return Reason.OUTSIDE_HOURS
