"""Bookings over HTTP: parse, call `server.bookings` (and `server.waitlist.freed` to cancel),
return."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query, Request

from server.bookings import rules, store
from server.bookings.schemas import BookingCreate, BookingOut, RoomId, SeriesOut, Status
from server.deps import (
    CallerDep,
    CtxDep,
    ReadSession,
    WriteSession,
    audited,
    own,
    own_filter,
    routers,
)
from server.schemas import MAX_ID
from server.timefmt import RequestTime
from server.waitlist import freed

# staff's routes, and those a member may call too, for their own only
router, member_router = routers("bookings")

BookingId = Annotated[int, Path(ge=1, le=MAX_ID)]


@member_router.post("/bookings", status_code=201)
def create_booking(
    body: BookingCreate,
    request: Request,
    principal: CallerDep,
    session: WriteSession,
    ctx: CtxDep,
) -> BookingOut | SeriesOut:
    """Book a room (201 with the booking), or with `repeat` a weekly series (201 with
    `series_id` and every booking); 409 when it overlaps, naming what is in the way.
    Recorded in the audit log (`booking.create`, one entry for a series)."""
    own(principal, body.member_id)
    currency = ctx.site.site.currency
    asked = rules.BookingRequest(**body.model_dump(exclude={"repeat"}))
    with session.begin():
        if body.repeat is None:
            booking = rules.create_booking(session, site=ctx.site, request=asked, now=ctx.clock())
            audited(request, session, "booking.create", booking.id, rules.audit_detail([booking]))
            return BookingOut.of(booking, currency=currency)
        series = rules.create_series(
            session, site=ctx.site, request=asked, weekly=body.repeat.weekly, now=ctx.clock()
        )
        audited(request, session, "booking.create", series[0].id, rules.audit_detail(series))
        return SeriesOut(
            series_id=series[0].series_id or "",
            bookings=[BookingOut.of(b, currency=currency) for b in series],
        )


@member_router.get("/bookings")
def list_bookings(
    principal: CallerDep,
    session: ReadSession,
    ctx: CtxDep,
    room_id: Annotated[RoomId | None, Query()] = None,
    member_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    status: Status | None = None,
    start_from: Annotated[RequestTime | None, Query(alias="from")] = None,
    end_to: Annotated[RequestTime | None, Query(alias="to")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
) -> list[BookingOut]:
    """This site's bookings by start, filtered; `from`/`to` keep those overlapping
    [from, to)."""
    found = store.list_bookings(
        session,
        room_id=room_id,
        member_id=member_id if principal.role != "member" else None,
        involving=own_filter(principal, member_id) if principal.role == "member" else None,
        status=status,
        start_from=start_from,
        end_to=end_to,
        limit=limit,
        offset=offset,
        site_id=ctx.site.id,
    )
    return [BookingOut.of(b, currency=ctx.site.site.currency) for b in found]


@member_router.get("/bookings/{booking_id}")
def get_booking(
    booking_id: BookingId, principal: CallerDep, session: ReadSession, ctx: CtxDep
) -> BookingOut:
    """One booking; 404 when unknown or of another site."""
    booking = store.get_booking(session, booking_id=booking_id, site_id=ctx.site.id)
    own(principal, booking.member_id, *booking.attendee_ids)
    return BookingOut.of(booking, currency=ctx.site.site.currency)


@member_router.post("/bookings/{booking_id}/cancel")
def cancel_booking(
    booking_id: BookingId,
    request: Request,
    principal: CallerDep,
    session: WriteSession,
    ctx: CtxDep,
) -> BookingOut:
    """Cancel a booking that is still `booked` (200 with it, now `cancelled`); 409 when it
    is checked in, released, completed or cancelled already. Audited (`booking.cancel`)."""
    with session.begin():
        found = store.get_booking(session, booking_id=booking_id, site_id=ctx.site.id)
        own(principal, found.member_id)  # attendees see a booking; its holder cancels
        booking, event = freed.cancel_booking(
            session, site=ctx.site, booking_id=booking_id, now=ctx.clock(), by="api"
        )
        audited(request, session, "booking.cancel", booking_id, {"room_id": booking.room_id})
    ctx.events.publish(event)
    return BookingOut.of(booking, currency=ctx.site.site.currency)


@router.post("/bookings/{booking_id}/end")
def end_booking(
    booking_id: BookingId, request: Request, session: WriteSession, ctx: CtxDep
) -> BookingOut:
    """End a checked-in booking now (200 with it, now `completed`, its `end` now); the rest
    of its slot is offered to the waitlist. 409 unless it is checked in and running.
    Audited (`booking.end`)."""
    with session.begin():
        booking, event = freed.end_booking(
            session, site=ctx.site, booking_id=booking_id, now=ctx.clock(), by="staff"
        )
        audited(request, session, "booking.end", booking_id, {"room_id": booking.room_id})
    ctx.events.publish(event)
    return BookingOut.of(booking, currency=ctx.site.site.currency)
