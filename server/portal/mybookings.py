"""My bookings: upcoming and past, cancelling one, adding attendees to one.

| route | what |
| --- | --- |
| `GET /me/bookings` | what the member holds or attends, upcoming and past, status in words |
| `GET`/`POST /me/bookings/{id}/cancel` | are you sure? then cancel (holder only) |
| `GET`/`POST /me/bookings/{id}/attendees` | add members by e-mail (holder only) |

A booking of someone else is refused as the API refuses it (403, `deps.own`): attendees
see a booking, only its holder changes it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from server.bookings import attendees, store
from server.dashboard.reception.desk import FormDep
from server.deps import Members, ReadSession, WriteSession, audited, own
from server.errors import DomainError
from server.portal import lines
from server.portal.me import Me, MeDep
from server.schemas import MAX_ID
from server.waitlist import freed

router = APIRouter(prefix="/me/bookings", include_in_schema=False)

BookingId = Annotated[int, Path(ge=1, le=MAX_ID)]
DONE = ("booked", "cancelled", "attendees")
PAST = 30  # past bookings listed, of those that ended in the last PAST_WINDOW
PAST_WINDOW = timedelta(days=90)


@router.get("")
def my_bookings(
    me: MeDep,
    session: ReadSession,
    done: Annotated[str | None, Query(max_length=16)] = None,
    n: Annotated[int, Query(ge=0, le=1000)] = 1,
) -> Response:
    """My bookings at this site: upcoming ones (soonest first; not those given up) and
    past ones (latest first)."""
    here = me.ctx.site.id
    found = store.list_bookings(
        session, involving=me.member_id, start_from=me.now, limit=200, site_id=here
    )
    past = store.list_bookings(
        session,
        site_id=here,
        involving=me.member_id,
        start_from=me.now - PAST_WINDOW,
        end_to=me.now,
        limit=500,
    )
    ended = [b for b in past if b.end <= me.now][-PAST:]
    return me.render(
        "portal/bookings.html",
        page="bookings",
        upcoming=[lines.booking_line(me, b) for b in found if b.status in store.CURRENT],
        past=[lines.booking_line(me, b) for b in reversed(ended)],
        done=done if done in DONE else None,
        n=n,
    )


def _mine(
    me: Me, session: ReadSession, booking_id: int, page: Callable[[lines.BookingLine], Response]
) -> Response:
    """`page` of the member's own booking (as its holder); else the refusal (403 for
    someone else's, 404 for none)."""
    try:
        booking = store.get_booking(session, booking_id=booking_id, site_id=me.ctx.site.id)
        own(me.principal, booking.member_id)
    except DomainError as exc:
        return me.refused(exc)
    return page(lines.booking_line(me, booking))


@router.get("/{booking_id}/cancel")
def cancel_form(booking_id: BookingId, me: MeDep, session: ReadSession) -> Response:
    """Are you sure? The booking and one button."""
    return _mine(
        me, session, booking_id, lambda b: me.render("portal/cancel.html", page="bookings", b=b)
    )


@router.post("/{booking_id}/cancel", dependencies=[Members])
def cancel(booking_id: BookingId, me: MeDep, session: WriteSession) -> Response:
    """Cancel the member's booking (audited, as through the API); to my bookings."""
    ctx = me.ctx
    try:
        with session.begin():
            found = store.get_booking(session, booking_id=booking_id, site_id=ctx.site.id)
            own(me.principal, found.member_id)
            booking, event = freed.cancel_booking(
                session, site=ctx.site, booking_id=booking_id, now=me.now, by="api"
            )
            audited(me.request, session, "booking.cancel", booking_id, {"room_id": booking.room_id})
    except DomainError as exc:
        return me.refused(exc)
    ctx.events.publish(event)
    return me.redirect("/me/bookings", done="cancelled")


def _attendees_page(
    me: Me,
    line: lines.BookingLine,
    *,
    emails: str = "",
    error: str | None = None,
    status: int = 200,
) -> Response:
    return me.render(
        "portal/attendees.html",
        status=status,
        page="bookings",
        b=line,
        emails=emails,
        error=error,
        max_emails=attendees.MAX_AT_ONCE,
    )


@router.get("/{booking_id}/attendees")
def attendees_form(booking_id: BookingId, me: MeDep, session: ReadSession) -> Response:
    """Who else may come: members' e-mail addresses."""
    return _mine(me, session, booking_id, lambda b: _attendees_page(me, b))


@router.post("/{booking_id}/attendees", dependencies=[Members])
def add_attendees(
    booking_id: BookingId, me: MeDep, form: FormDep, session: WriteSession
) -> Response:
    """Add the members of these addresses to the booking (audited); to my bookings, or
    the form again saying which address is no member's."""
    typed = form.get("emails")[:6000]
    try:
        with session.begin():
            booking = store.get_booking(session, booking_id=booking_id, site_id=me.ctx.site.id)
            own(me.principal, booking.member_id)
            ids = attendees.members_by_email(session, attendees.parse_emails(typed))
            attendees.add_attendees(session, booking_id=booking_id, member_ids=ids, now=me.now)
            audited(me.request, session, "booking.attendees", booking_id, {"added": ids})
    except DomainError as exc:
        error, status = me.explain(exc), exc.status
        with me.ctx.reads() as reader:
            return _mine(
                me,
                reader,
                booking_id,
                lambda b: _attendees_page(me, b, emails=typed, error=error, status=status),
            )
    return me.redirect("/me/bookings", done="attendees")
