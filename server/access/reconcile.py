"""What a door did, learnt from its Result, and the state changes a grant implies.

The access service (server.access.service) calls these inside its transactions:
`apply_effect` commits a grant's check-in or walk-in, `follow_result` makes the decision a
door applied the one of record, `undo_effect` takes back a check-in or walk-in for a door
that stayed shut, and `reconcile` applies what a gateway's grant the door applied implies
(check-in, walk-in, a no-show strike removed). Plain functions over a Session, in the
caller's transaction. Every booking they change goes through server.bookings.lifecycle,
and they return its events, to publish after the commit."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import Session

from protocol.bookingrules import checkin_starts
from protocol.decide import Outcome, decide
from protocol.messages import Decision, Reason, Result, Tap
from protocol.policy import PolicySnapshot
from server.access.snapshot import build_snapshot
from server.bookings import lifecycle
from server.bookings.store import overlapping
from server.db import models, scope
from server.live.kinds import BookingEvent, By
from server.noshows.strikes import remove_strike_for_booking
from server.site import Device, SiteConfig

B = models.Booking


def apply_effect(
    session: Session, *, site: SiteConfig, outcome: Outcome, at: datetime, by: By
) -> BookingEvent | None:
    """Commit the state change a grant implies, as of `at`: check the booking in, or book
    the free room as a walk-in from `at`; the change's event (its `booking_id` the
    booking's). None when the booking is no longer `booked` or the room is no longer free."""
    if outcome.effect == "check_in" and outcome.booking_id is not None:
        return lifecycle.check_in(session, booking_id=outcome.booking_id, now=at, by=by)
    if outcome.effect == "walk_in" and outcome.room and outcome.until and outcome.member_id:
        return lifecycle.start_walk_in(session, site=site, outcome=outcome, at=at, by=by)
    return None


def reconcile(
    session: Session,
    *,
    site: SiteConfig,
    event: models.AccessEvent,
    now: datetime,
    applied_reason: str | None = None,
) -> list[BookingEvent]:
    """Apply what a grant the door applied implies, once its Result and its tap (card,
    time) are both recorded; the `booking` events to publish after the commit.

    A gateway's grant at a room's door checks the booking in, or takes the free room as a
    walk-in (when that is what the gateway granted), as of the tap's time, as the server
    would have (`decide()` over the state at that time, as far as the database tells);
    the server applied its own grants already, and the entrance implies neither.
    Any applied grant shows that a holder whose booking was released arrived in time
    (`arrived_in_time`). `applied_reason`: the reason of the decision the door applied,
    as its Result says."""
    if not event.result_granted or event.result_applied not in ("server", "gateway"):
        return []
    if event.card_hash is None or event.ts is None:
        return []  # done when the tap arrives
    device = site.device(event.device_id)
    # the member the card was decided for (a row of an older version may not say)
    member_id = event.member_id or member_of(session, event.card_hash)
    if device is None or device.door is None or member_id is None:
        return []
    room = site.room(device.room)
    changes: list[BookingEvent] = []
    if event.result_applied == "gateway" and room is not None and room.kind != "entrance":
        snapshot = snapshot_as_of(session, site=site, device_id=device.id, at=event.ts)
        outcome = decide(snapshot, device.id, event.card_hash, event.ts)
        granted_reason = applied_reason or event.reason
        wanted = outcome.effect == "check_in" or (
            outcome.effect == "walk_in" and granted_reason in (None, Reason.WALK_IN)
        )
        done = None
        if outcome.granted and wanted:
            done = apply_effect(session, site=site, outcome=outcome, at=event.ts, by="gateway")
        if done is not None:
            event.booking_id = done.booking_id
            changes.append(done)
    changes += arrived_in_time(
        session, site=site, member_id=member_id, room_id=device.room, at=event.ts, now=now
    )
    return changes


def follow_result(event: models.AccessEvent, result: Result) -> None:
    """Make the decision the door applied the one of record; the other one is kept."""
    applied = result.applied
    if applied == "none" or event.by == applied:
        return
    if event.by in (None, "expired"):
        event.by, event.granted = applied, result.granted
        event.reason = result.reason or event.reason
        return
    mine = (event.by, event.granted, event.reason)
    if event.other_by == applied:
        event.by, event.granted, event.reason = (
            event.other_by,
            bool(event.other_granted),
            event.other_reason,
        )
    else:  # its decision has not reached the server (yet): the door's word for it
        event.by, event.granted, event.reason = applied, result.granted, result.reason
    event.other_by, event.other_granted, event.other_reason = mine


def undo_effect(
    session: Session, *, event: models.AccessEvent, now: datetime
) -> list[BookingEvent]:
    """The door stayed shut on a tap whose grant the server had committed a state change
    for (a slow server's grant, while the door applied the gateway's denial, or nothing in
    time): undo it, since check-ins follow what the doors did. A walk-in booked by that
    grant is cancelled; a booking it checked in is `booked` again, unless someone the
    booking admits has been let in at that door since."""
    booking = session.get(models.Booking, event.booking_id) if event.booking_id else None
    if booking is None or booking.checked_in_at != event.received:
        return []  # nothing this tap did, or something changed it since
    if booking.source == "walk_in" and booking.start == event.received:
        done = lifecycle.undo_walk_in(
            session, booking_id=booking.id, checked_in_at=event.received, now=now
        )
    elif _let_in_since(session, event, [booking.member_id, *booking.attendee_ids]):
        return []
    else:
        done = lifecycle.undo_check_in(session, booking_id=booking.id, checked_in_at=event.received)
    if done is None:
        return []
    event.booking_id = None
    return [done]


def _let_in_since(session: Session, event: models.AccessEvent, member_ids: list[int]) -> bool:
    """Whether any of these members was let in at the event's door after it."""
    A = models.AccessEvent
    opened = or_(A.result_granted.is_(True), (A.result_applied.is_(None) & A.granted.is_(True)))
    stmt = select(A.id).where(
        A.door_id == event.door_id,
        A.id != event.id,
        A.received >= event.received,
        A.member_id.in_(member_ids),
        opened,
    )
    return session.scalar(stmt.limit(1)) is not None


def snapshot_as_of(
    session: Session, *, site: SiteConfig, device_id: str, at: datetime
) -> PolicySnapshot:
    """The policy snapshot as it stood at `at`, as far as the database tells: bookings
    released or checked in after `at` were still `booked` then. The door is in normal
    mode: it opened, whatever its mode is now."""
    snapshot = build_snapshot(session, site, at)
    ids = [b.id for b in snapshot.bookings if b.status != "booked"]
    later = set(
        session.scalars(
            select(B.id).where(
                B.id.in_(ids),
                ((B.status == "released") & (B.released_at > at))
                | ((B.status == "checked_in") & (B.checked_in_at > at)),
            )
        )
    )
    bookings = [replace(b, status="booked") if b.id in later else b for b in snapshot.bookings]
    doors = dict(snapshot.doors)
    if device_id in doors:
        doors[device_id] = doors[device_id].model_copy(update={"mode": "normal"})
    return snapshot.model_copy(update={"bookings": bookings, "doors": doors})


# Released bookings whose check-in window holds a grant's time (`arrived_in_time`), built
# once: this runs for every Result of a grant. At a room's door, that room's; at the
# entrance, the holder's bookings of this site's rooms (the member's index leads).
_RELEASED_IN_WINDOW = (
    B.status == "released",
    B.start > bindparam("after"),
    B.start <= bindparam("until"),
    B.end > bindparam("at"),
)
_RELEASED_AT_ROOM = (
    select(B).where(B.room_id == bindparam("room"), *_RELEASED_IN_WINDOW).order_by(B.start, B.id)
)
_RELEASED_OF_HOLDER = (
    select(B)
    .where(
        B.member_id == bindparam("member"),
        B.room_id.in_(scope.rooms(bindparam("site"))),
        *_RELEASED_IN_WINDOW,
    )
    .order_by(B.start, B.id)
)


def arrived_in_time(
    session: Session, *, site: SiteConfig, member_id: int, room_id: str, at: datetime, now: datetime
) -> list[BookingEvent]:
    """A grant applied at `at` to a member at a room's door (or the entrance) inside the
    check-in window of a booking that was released all the same (the grant was learnt
    too late): its no-show strike is removed, and at the room's door the booking is
    checked in again, as of `at`, if no other booking took the room meanwhile.

    At the room's door anyone the booking admits counts (their tap would have checked it
    in); at the entrance only its holder, and the booking stays released."""
    room = site.room(room_id)
    entrance = room is not None and room.kind == "entrance"
    early = timedelta(seconds=site.access.early_entry)
    grace = timedelta(seconds=site.access.no_show_grace)
    after, until = checkin_starts(at, early, grace)  # the check-in window holds `at`
    window = {"after": after, "until": until, "at": at}
    found = (
        session.scalars(_RELEASED_OF_HOLDER, {**window, "member": member_id, "site": site.id})
        if entrance
        else session.scalars(_RELEASED_AT_ROOM, {**window, "room": room_id})
    )
    changes: list[BookingEvent] = []
    for booking in found:
        if booking.member_id != member_id and member_id not in booking.attendee_ids:
            continue
        removed = _has_strike(session, booking.id)
        if removed:
            remove_strike_for_booking(session, site=site, booking_id=booking.id, now=now)
        done = None if entrance else _reinstate(session, booking, at)
        if done is None and removed:
            done = BookingEvent(
                booking_id=booking.id,
                room_id=booking.room_id,
                change="strike_removed",
                status="released",
                by="result",
            )
        if done is not None:
            changes.append(done)
    return changes


def _has_strike(session: Session, booking_id: int) -> bool:
    N = models.NoShow
    stmt = select(N.id).where(N.booking_id == booking_id, N.removed_at.is_(None))
    return session.scalar(stmt) is not None


def _reinstate(session: Session, booking: models.Booking, at: datetime) -> BookingEvent | None:
    """`released -> checked_in` as of `at`, unless another booking holds part of the rest
    of the slot."""
    start = max(at, booking.start)
    if start < booking.end and overlapping(
        session, room_id=booking.room_id, start=start, end=booking.end, exclude_id=booking.id
    ):
        return None
    return lifecycle.reinstate(session, booking_id=booking.id, at=at)


def complete_row(
    session: Session,
    site: SiteConfig,
    event: models.AccessEvent,
    tap: Tap,
    hashed: str,
    now: datetime,
) -> list[BookingEvent]:
    """The tap of a row the gateway's decision made: fill in the card and times, then
    apply what a Result already there implies (rows of older versions only: a Result
    now waits for its tap)."""
    event.ts = tap.ts
    event.card_hash = hashed
    event.replay = tap.replay
    event.boot = tap.boot
    if event.member_id is None:
        event.member_id = member_of(session, hashed)
    return reconcile(session, site=site, event=event, now=now)


def tap_row(device: Device, tap: Tap, hashed: str, now: datetime) -> models.AccessEvent:
    """A new row for a tap of `device` (card `hashed`) received `now`, to be decided."""
    return models.AccessEvent(
        device_id=device.id,
        event_id=tap.id,
        door_id=device.door,
        ts=tap.ts,
        received=now,
        card_hash=hashed,
        replay=tap.replay,
        boot=tap.boot,
    )


def server_answered_too(event: models.AccessEvent, outcome: Outcome) -> None:
    """A row the gateway's decision made for a tap the server had answered before that
    decision was recorded: the server's decision is the one of record and the gateway's is
    kept beside it, as when the gateway's comes after the server's record."""
    if event.by == "gateway":
        event.other_by, event.other_granted, event.other_reason = (
            "gateway",
            event.granted,
            event.reason,
        )
    event.by, event.granted, event.reason = "server", outcome.granted, outcome.reason
    event.member_id = outcome.member_id


def member_of(session: Session, hashed: str) -> int | None:
    """The member holding the card of this hash (revoked or not), if it is known."""
    return session.scalar(select(models.Card.member_id).where(models.Card.uid_hash == hashed))


_EVENT = select(models.AccessEvent).where(
    models.AccessEvent.device_id == bindparam("device"),
    models.AccessEvent.event_id == bindparam("event"),
)


def find_event(session: Session, device_id: str, event_id: str) -> models.AccessEvent | None:
    """The row of a device's event (a tap's, by its id), if it has one."""
    return session.scalars(_EVENT, {"device": device_id, "event": event_id}).first()


def record_gateway(
    session: Session, device: Device, decision: Decision, now: datetime
) -> models.AccessEvent | None:
    """The tap's row with the gateway's decision in it: the decision of record when
    nobody had answered the tap (not seen yet, or expired), else kept beside the server's
    until the door's Result says which one it applied. None when recorded already."""
    event = find_event(session, device.id, decision.id)
    if event is None:
        # The tap is still to come (or lost): it will be a duplicate, unanswered.
        event = models.AccessEvent(
            device_id=device.id, event_id=decision.id, door_id=device.door, received=now
        )
        session.add(event)
    if event.by in (None, "expired"):
        event.by, event.granted, event.reason = "gateway", decision.granted, decision.reason
    elif event.by == "gateway" or event.other_by == "gateway":
        if event.reason is not None:
            return None
        event.reason = decision.reason
    else:
        event.other_by = "gateway"
        event.other_granted, event.other_reason = decision.granted, decision.reason
    return event
