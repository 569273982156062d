"""The waitlist: waiting for a taken hour, my entries, and offers to accept before they
lapse.

| route | what |
| --- | --- |
| `GET /me/waitlist` | open offers (accept by ...), my entries and their state |
| `GET /me/waitlist/join?room=&start=&end=` | wait for a taken hour (or any room like it: ticked)? |
| `POST /me/waitlist/join` | join the waitlist for it |
| `POST /me/waitlist/{id}/leave` | leave it |
| `POST /me/offers/{id}/accept` | book the offered room, then to my bookings |

The rules are the domain's (server.waitlist); each change is audited as through the API."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from server.dashboard.reception.desk import FormDep
from server.db import models
from server.deps import Members, ReadSession, WriteSession, audited, own
from server.errors import DomainError
from server.portal import lines
from server.portal.me import FormError, Me, MeDep, local_instant
from server.schemas import MAX_ID
from server.waitlist import entries, offers

router = APIRouter(prefix="/me", include_in_schema=False)

ItemId = Annotated[int, Path(ge=1, le=MAX_ID)]
Text = Annotated[str | None, Query(max_length=64)]
DONE = ("joined", "left")
SHOWN = 50


@router.get("/waitlist")
def waitlist(
    me: MeDep, session: ReadSession, done: Annotated[str | None, Query(max_length=16)] = None
) -> Response:
    """My open offers and my entries (newest first)."""
    here = me.ctx.site.id
    mine = entries.list_entries(session, member_id=me.member_id, limit=1000, site_id=here)
    mine = mine[-SHOWN:]
    open_offers = offers.list_offers(
        session, member_id=me.member_id, status="offered", site_id=here
    )
    return me.render(
        "portal/waitlist.html",
        page="waitlist",
        offers=[lines.offer_line(me, o) for o in open_offers if o.expires_at > me.now],
        entries=[lines.entry_line(me, e) for e in reversed(mine)],
        done=done if done in DONE else None,
        error=None,
    )


def _join_page(
    me: Me,
    room: str,
    start: str,
    end: str,
    *,
    any_similar: bool = entries.SUGGESTED_ANY_SIMILAR,
    error: str | None = None,
    status: int = 200,
) -> Response:
    return me.render(
        "portal/join.html",
        status=status,
        page="waitlist",
        room_id=room,
        room=lines.room_name(me, room),
        start=start,
        end=end,
        span=_when(me, start, end),
        any_similar=any_similar,
        error=error,
    )


def _when(me: Me, start: str, end: str) -> tuple[object, object] | None:
    try:
        return me.local(local_instant(start, me.zone)), me.local(local_instant(end, me.zone))
    except FormError:
        return None


@router.get("/waitlist/join")
def join_form(me: MeDep, room: Text = None, start: Text = None, end: Text = None) -> Response:
    """Wait for this room and time (or any room like it, proposed)? One button."""
    return _join_page(me, room or "", start or "", end or "")


@router.post("/waitlist/join", dependencies=[Members])
def join(me: MeDep, form: FormDep, session: WriteSession) -> Response:
    """Join the waitlist for the member signed in; to my waitlist."""
    room, start, end = form.get("room"), form.get("start"), form.get("end")
    any_similar = form.get("any_similar") == "on"
    try:
        with session.begin():
            entry = entries.join(
                session,
                site=me.ctx.site,
                member_id=me.member_id,
                start=local_instant(start, me.zone),
                end=local_instant(end, me.zone),
                now=me.now,
                room_id=room,
                any_similar=any_similar,
            )
            audited(me.request, session, "waitlist.join", entry.id, {"member_id": me.member_id})
    except (DomainError, FormError) as exc:
        status = exc.status if isinstance(exc, DomainError) else 422
        return _join_page(
            me, room, start, end, any_similar=any_similar, error=me.explain(exc), status=status
        )
    return me.redirect("/me/waitlist", done="joined")


@router.post("/waitlist/{entry_id}/leave", dependencies=[Members])
def leave(entry_id: ItemId, me: MeDep, session: WriteSession) -> Response:
    """Leave the waitlist (an outstanding offer passes to the next member waiting)."""
    try:
        with session.begin():
            found = entries.get_entry(session, entry_id=entry_id, site_id=me.ctx.site.id)
            own(me.principal, found.member_id)
            entries.cancel_entry(session, site=me.ctx.site, entry_id=entry_id, now=me.now)
            audited(me.request, session, "waitlist.leave", entry_id, {"member_id": me.member_id})
    except DomainError as exc:
        return me.refused(exc)
    return me.redirect("/me/waitlist", done="left")


@router.post("/offers/{offer_id}/accept", dependencies=[Members])
def accept(offer_id: ItemId, me: MeDep, session: WriteSession) -> Response:
    """Book the offered room; to my bookings. A lapsed offer, or a room taken meanwhile,
    is said on a page of its own."""
    try:
        with session.begin():
            offer = offers.get_offer(session, offer_id=offer_id, site_id=me.ctx.site.id)
            own(me.principal, offer.member_id)
            got = offers.accept_or_lapse(session, site=me.ctx.site, offer_id=offer_id, now=me.now)
            if isinstance(got, models.Booking):
                audited(me.request, session, "offer.accept", offer_id, {"booking_id": got.id})
    except DomainError as exc:
        return me.refused(exc)
    if isinstance(got, offers.RoomTaken):
        return me.refused(got)  # the lapsed offer is committed: the entry waits again
    return me.redirect("/me/bookings", done="booked", n=1)
