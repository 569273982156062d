"""The waitlist and its offers over HTTP: parse, call `server.waitlist`, return."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Path, Query, Request, Response
from pydantic import BaseModel, Field, model_validator

from server import deps
from server.bookings.schemas import BookingOut, RoomId
from server.db import models
from server.deps import CallerDep, CtxDep, ReadSession, WriteSession, routers
from server.schemas import MAX_ID, Body, Id
from server.timefmt import RequestTime, ResponseTime
from server.waitlist import entries, offers

# staff's routes, and those a member may call too, for their own only
router, member_router = routers("waitlist")

EntryId = Annotated[int, Path(ge=1, le=MAX_ID)]
OfferId = Annotated[int, Path(ge=1, le=MAX_ID)]
EntryStatus = Literal["waiting", "offered", "booked", "expired", "cancelled"]
OfferStatus = Literal["offered", "accepted", "expired"]


class WaitlistCreate(Body):
    """Wait for one room (`room_id`), or for any bookable room of a `kind` holding at
    least `min_capacity` people: exactly one of `room_id` and `kind`. With `room_id`,
    `any_similar` waits for that room or any bookable room of its kind holding
    `min_capacity` people (by default as many as the room named)."""

    member_id: Id
    room_id: RoomId | None = None
    kind: Annotated[str, Field(min_length=1, max_length=32)] | None = None
    min_capacity: Annotated[int, Field(ge=1, le=100_000)] | None = None
    any_similar: bool = False
    start: RequestTime
    end: RequestTime

    @model_validator(mode="after")
    def _room_or_kind(self) -> WaitlistCreate:
        if (self.room_id is None) == (self.kind is None):
            raise ValueError("give exactly one of room_id and kind")
        if self.any_similar and self.room_id is None:
            raise ValueError("any_similar goes with room_id")
        if self.min_capacity is not None and self.kind is None and not self.any_similar:
            raise ValueError("min_capacity goes with kind or any_similar")
        return self


class WaitlistOut(BaseModel):
    id: int
    member_id: int
    room_id: str | None
    kind: str | None
    min_capacity: int | None
    start: ResponseTime
    end: ResponseTime
    status: str
    created_at: ResponseTime

    @classmethod
    def of(cls, entry: models.WaitlistEntry) -> WaitlistOut:
        return cls(
            id=entry.id,
            member_id=entry.member_id,
            room_id=entry.room_id,
            kind=entry.kind,
            min_capacity=entry.min_capacity,
            start=entry.start,
            end=entry.end,
            status=entry.status,
            created_at=entry.created_at,
        )


class OfferOut(BaseModel):
    id: int
    waitlist_id: int
    member_id: int
    room_id: str
    start: ResponseTime
    end: ResponseTime
    expires_at: ResponseTime
    status: str
    booking_id: int | None
    created_at: ResponseTime

    @classmethod
    def of(cls, offer: models.Offer) -> OfferOut:
        return cls(
            id=offer.id,
            waitlist_id=offer.waitlist_id,
            member_id=offer.member_id,
            room_id=offer.room_id,
            start=offer.start,
            end=offer.end,
            expires_at=offer.expires_at,
            status=offer.status,
            booking_id=offer.booking_id,
            created_at=offer.created_at,
        )


@member_router.post("/waitlist", status_code=201)
def join(
    body: WaitlistCreate,
    request: Request,
    principal: CallerDep,
    session: WriteSession,
    ctx: CtxDep,
) -> WaitlistOut:
    """Wait for a room and time; 201 with the entry, 403 when the member may not book.
    Audited (`waitlist.join`)."""
    deps.own(principal, body.member_id)
    with session.begin():
        entry = entries.join(
            session,
            site=ctx.site,
            member_id=body.member_id,
            start=body.start,
            end=body.end,
            now=ctx.clock(),
            room_id=body.room_id,
            kind=body.kind,
            min_capacity=body.min_capacity,
            any_similar=body.any_similar,
        )
        deps.audited(request, session, "waitlist.join", entry.id, {"member_id": body.member_id})
    return WaitlistOut.of(entry)


@member_router.get("/waitlist")
def list_entries(
    principal: CallerDep,
    session: ReadSession,
    ctx: CtxDep,
    member_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    status: EntryStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[WaitlistOut]:
    """This site's entries (those made at it) in the order they are served, oldest
    first."""
    member_id = deps.own_filter(principal, member_id)
    found = entries.list_entries(
        session, member_id=member_id, status=status, limit=limit, site_id=ctx.site.id
    )
    return [WaitlistOut.of(e) for e in found]


@member_router.get("/waitlist/{entry_id}")
def get_entry(
    entry_id: EntryId, principal: CallerDep, session: ReadSession, ctx: CtxDep
) -> WaitlistOut:
    """One entry; 404 when unknown or for a room of another site."""
    entry = entries.get_entry(session, entry_id=entry_id, site_id=ctx.site.id)
    deps.own(principal, entry.member_id)
    return WaitlistOut.of(entry)


@member_router.delete("/waitlist/{entry_id}", status_code=204, response_class=Response)
def cancel_entry(
    entry_id: EntryId,
    request: Request,
    principal: CallerDep,
    session: WriteSession,
    ctx: CtxDep,
) -> Response:
    """Leave the waitlist (204); an outstanding offer passes to the next member waiting.
    409 when the entry was booked already. Audited (`waitlist.leave`)."""
    with session.begin():
        found = entries.get_entry(session, entry_id=entry_id, site_id=ctx.site.id)
        deps.own(principal, found.member_id)
        entry = entries.cancel_entry(session, site=ctx.site, entry_id=entry_id, now=ctx.clock())
        deps.audited(request, session, "waitlist.leave", entry_id, {"member_id": entry.member_id})
    return Response(status_code=204)


@member_router.get("/offers")
def list_offers(
    principal: CallerDep,
    session: ReadSession,
    ctx: CtxDep,
    member_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    status: OfferStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[OfferOut]:
    """Offers of this site's rooms, newest first."""
    member_id = deps.own_filter(principal, member_id)
    found = offers.list_offers(
        session, member_id=member_id, status=status, limit=limit, site_id=ctx.site.id
    )
    return [OfferOut.of(o) for o in found]


@member_router.get("/offers/{offer_id}")
def get_offer(
    offer_id: OfferId, principal: CallerDep, session: ReadSession, ctx: CtxDep
) -> OfferOut:
    """One offer; 404 when unknown or of another site's room."""
    offer = offers.get_offer(session, offer_id=offer_id, site_id=ctx.site.id)
    deps.own(principal, offer.member_id)
    return OfferOut.of(offer)


@member_router.post("/offers/{offer_id}/accept", status_code=201)
def accept_offer(
    offer_id: OfferId,
    request: Request,
    principal: CallerDep,
    session: WriteSession,
    ctx: CtxDep,
) -> BookingOut:
    """Book the offered room: 201 with the booking (`source: "waitlist"`); 409 when the
    offer lapsed or was accepted already, or the room was booked meanwhile. Audited
    (`offer.accept`)."""
    with session.begin():
        found = offers.get_offer(session, offer_id=offer_id, site_id=ctx.site.id)
        deps.own(principal, found.member_id)
        got = offers.accept_or_lapse(session, site=ctx.site, offer_id=offer_id, now=ctx.clock())
        if isinstance(got, models.Booking):
            deps.audited(request, session, "offer.accept", offer_id, {"booking_id": got.id})
    if isinstance(got, offers.RoomTaken):
        raise got  # the lapsed offer is committed with the transaction
    return BookingOut.of(got, currency=ctx.site.site.currency)
