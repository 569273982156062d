"""A booking's lifecycle: every change of its status goes through `transition`.

`transition` makes one `Move` as one conditional UPDATE (`... WHERE id = :id AND status
IN (:from)`, plus any other condition the change needs), checks that it changed the one
row, bumps the policy once in the transaction (the doors decide from bookings:
server.db.meta) and returns the one `BookingEvent` the change makes, for the caller to
publish once its transaction has committed; None when the UPDATE matched nothing. The
changes:

| from | to | function | who |
| --- | --- | --- | --- |
| (new) | `checked_in` | `start_walk_in` | a tap into a free room |
| `booked` | `checked_in` | `check_in` | a tap, motion, the sweep opening a public event |
| `booked` | `cancelled` | `cancel_booking` | the bookings API |
| `booked` | `released` | `release_booking` | the no-show sweep, staff |
| `checked_in` | `completed` | `complete`, `end_walk_in` | the sweep at its end; vacancy |
| `checked_in` | `completed` | `end_early` | staff: it ends now (`end` moved to now) |
| `checked_in` | `booked` | `undo_check_in` | a door that stayed shut on the tap |
| `checked_in` | `cancelled` | `undo_walk_in` | a door that stayed shut on the tap |
| `released` | `checked_in` | `reinstate` | a holder let in in time after all |

A check-in and a no-show release race on the same row; whichever commits first wins, and
the loser's UPDATE matches nothing. What a freed slot means for the waitlist is not
decided here: whoever frees one offers it (server.waitlist.freed.free_slot)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, update
from sqlalchemy.orm import Session

from protocol.decide import Outcome
from server.bookings.store import insert_booking
from server.db import models
from server.db.meta import bump
from server.errors import Conflict, NotFound
from server.live.kinds import BookingEvent, By, Change, Status
from server.site import SiteConfig

B = models.Booking
_BUMPED = "lifecycle.bumped"  # session.info: the transaction whose policy is bumped already


@dataclass(frozen=True)
class Move:
    """A change of status: from one of `source` to `to`, told as `change`."""

    source: tuple[Status, ...]
    to: Status
    change: Change


CHECK_IN = Move(("booked",), "checked_in", "check_in")
CANCEL = Move(("booked",), "cancelled", "cancelled")
RELEASE = Move(("booked",), "released", "released")
COMPLETE = Move(("checked_in",), "completed", "completed")
UNDO_CHECK_IN = Move(("checked_in",), "booked", "check_in_undone")
UNDO_WALK_IN = Move(("checked_in",), "cancelled", "cancelled")
REINSTATE = Move(("released",), "checked_in", "check_in")


def transition(
    session: Session,
    move: Move,
    *,
    booking_id: int,
    by: By,
    values: dict[str, Any] | None = None,
    where: Sequence[ColumnElement[bool]] = (),
) -> BookingEvent | None:
    """Make `move` on a booking (setting `values` besides, if `where` holds too) in the
    caller's transaction: its event, or None when the UPDATE matched nothing."""
    rows = session.execute(
        update(B)
        .where(B.id == booking_id, B.status.in_(move.source), *where)
        .values(status=move.to, **(values or {}))
        .returning(B.room_id)
        .execution_options(synchronize_session=False)
    ).all()
    if len(rows) != 1:
        return None
    _bump_once(session)
    room_id = rows[0].room_id
    return BookingEvent(
        booking_id=booking_id, room_id=room_id, change=move.change, status=move.to, by=by
    )


def _bump_once(session: Session) -> None:
    """Bump the policy once per transaction however many bookings it changes (a sweep
    releases several); once more in a savepoint, since a rollback of it undoes its bump."""
    tx = session.get_nested_transaction() or session.get_transaction()
    if session.info.get(_BUMPED) is not tx:
        bump(session)
        session.info[_BUMPED] = tx


def changed(session: Session, *, booking_id: int, event: BookingEvent | None) -> models.Booking:
    """The booking as a change left it: NotFound for no booking, Conflict for one the
    change did not apply to (it was no longer in the status the change starts from)."""
    booking = session.get(B, booking_id, populate_existing=True)
    if booking is None:
        raise NotFound(f"booking {booking_id} not found")
    if event is None:
        raise Conflict(f"booking {booking_id} is {booking.status}")
    return booking


# -- the changes ----------------------------------------------------------------------


def check_in(session: Session, *, booking_id: int, now: datetime, by: By) -> BookingEvent | None:
    """`booked -> checked_in` as of `now`; None when it is no longer `booked`."""
    stamp = {"checked_in_at": now}
    return transition(session, CHECK_IN, booking_id=booking_id, by=by, values=stamp)


def cancel_booking(
    session: Session, *, booking_id: int, now: datetime, by: By
) -> tuple[models.Booking, BookingEvent]:
    """`booked -> cancelled`: the booking and its event; NotFound for no booking,
    Conflict for one no longer `booked`. The time it frees is for the caller to offer
    (server.waitlist.freed.cancel_booking)."""
    stamp = {"cancelled_at": now}
    event = transition(session, CANCEL, booking_id=booking_id, by=by, values=stamp)
    booking = changed(session, booking_id=booking_id, event=event)
    assert event is not None
    return booking, event


def release_booking(
    session: Session, *, booking_id: int, now: datetime, by: By
) -> BookingEvent | None:
    """`booked -> released`; None when the booking is no longer `booked` (a check-in or
    a cancellation committed first)."""
    stamp = {"released_at": now}
    return transition(session, RELEASE, booking_id=booking_id, by=by, values=stamp)


def complete(session: Session, *, booking_id: int, now: datetime) -> BookingEvent | None:
    """`checked_in -> completed` once its end has come (the sweep)."""
    stamp = {"completed_at": now}
    return transition(session, COMPLETE, booking_id=booking_id, by="sweep", values=stamp)


def end_walk_in(session: Session, *, booking_id: int, now: datetime) -> BookingEvent | None:
    """A walk-in `checked_in -> completed` with its end moved to `now`, so the rest of its
    slot is free (its room stands vacant); None when it is no longer a running walk-in."""
    stamp = {"end": now, "completed_at": now}
    running = (B.source == "walk_in", B.end > now)
    return transition(
        session, COMPLETE, booking_id=booking_id, by="vacancy", values=stamp, where=running
    )


def end_early(session: Session, *, booking_id: int, now: datetime, by: By) -> BookingEvent | None:
    """A running booking `checked_in -> completed` now, its `end` moved to `now` so the
    rest of its slot is free; None unless it is checked in, begun and not yet over (a
    release, a cancellation or the sweep came first)."""
    stamp = {"end": now, "completed_at": now}
    running = (B.start < now, B.end > now)
    return transition(session, COMPLETE, booking_id=booking_id, by=by, values=stamp, where=running)


def start_walk_in(
    session: Session, *, site: SiteConfig, outcome: Outcome, at: datetime, by: By
) -> BookingEvent | None:
    """Book the free room a walk-in grant (`outcome`) admits to for its member, from `at`
    until the grant's `until`, checked in at once, in a savepoint; None when the room is
    no longer free (the rest of the transaction stands)."""
    assert outcome.room and outcome.until and outcome.member_id
    try:
        with session.begin_nested():
            booking = insert_booking(
                session,
                site=site,
                room_id=outcome.room,
                member_id=outcome.member_id,
                start=at,
                end=outcome.until,
                now=at,
                title="Walk-in",
                status="checked_in",
                source="walk_in",
            )
            booking.checked_in_at = at
    except Conflict:
        return None
    return BookingEvent(
        booking_id=booking.id, room_id=outcome.room, change="walk_in", status="checked_in", by=by
    )


def undo_check_in(
    session: Session, *, booking_id: int, checked_in_at: datetime
) -> BookingEvent | None:
    """`checked_in -> booked` again, if it is still the check-in made at `checked_in_at`
    (the door stayed shut on the tap that made it)."""
    same = (B.checked_in_at == checked_in_at,)
    undone = {"checked_in_at": None}
    return transition(
        session, UNDO_CHECK_IN, booking_id=booking_id, by="result", values=undone, where=same
    )


def undo_walk_in(
    session: Session, *, booking_id: int, checked_in_at: datetime, now: datetime
) -> BookingEvent | None:
    """A walk-in booked at `checked_in_at` by a tap whose door stayed shut: cancelled."""
    same = (B.checked_in_at == checked_in_at,)
    stamp = {"cancelled_at": now}
    return transition(
        session, UNDO_WALK_IN, booking_id=booking_id, by="result", values=stamp, where=same
    )


def reinstate(session: Session, *, booking_id: int, at: datetime) -> BookingEvent | None:
    """`released -> checked_in` as of `at`: its holder was let in in time after all."""
    stamp = {"checked_in_at": at}
    return transition(session, REINSTATE, booking_id=booking_id, by="result", values=stamp)
