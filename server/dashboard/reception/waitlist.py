"""The reception desk's waitlist: who waits for which room and time, the open offers and
when they lapse (local times), removing an entry and accepting an offer for a member
(both audited, as through the API).

| route | what |
| --- | --- |
| `GET /reception/waitlist` | the entries waiting and the open offers |
| `POST /reception/waitlist/{id}/remove` | the member leaves the waitlist (`waitlist.leave`) |
| `POST /reception/offers/{id}/accept` | book the offered slot for them (`offer.accept`) |"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from server.dashboard.pages import LangQuery, page_lang, render
from server.dashboard.reception import refusals
from server.dashboard.reception.bookings import member_names
from server.dashboard.reception.forms import FormDep, check_csrf, csrf_token, redirect, site_zone
from server.db import models
from server.deps import CtxDep, ReadSession, Staff, WriteSession, audited
from server.errors import DomainError
from server.schemas import MAX_ID
from server.waitlist import entries, offers

router = APIRouter(prefix="/reception", include_in_schema=False, dependencies=[Staff])

ItemId = Annotated[int, Path(ge=1, le=MAX_ID)]
DONE = ("removed", "accepted")
LISTED = 500


@dataclass(frozen=True)
class Line:
    """An entry or an offer as the page lists it (times in the site's zone)."""

    id: int
    member: str
    room: str
    day: str
    start: str
    end: str
    status: str
    expires: str = ""


def _span(start: datetime, end: datetime, zone: ZoneInfo) -> tuple[str, str, str]:
    local = start.astimezone(zone)
    return (
        local.strftime("%d.%m.%Y"),
        local.strftime("%H:%M"),
        end.astimezone(zone).strftime("%H:%M"),
    )


def _room_name(request: Request, room_id: str | None, kind: str | None) -> str:
    room = request.app.state.ctx.site.room(room_id) if room_id else None
    return room.name if room else (room_id or kind or "–")


def _page(
    request: Request,
    session: Session,
    lang: str,
    *,
    error: str | None = None,
    done: str | None = None,
    status: int = 200,
) -> Response:
    zone = site_zone(request)
    waiting = [
        e
        for state in ("waiting", "offered")
        for e in entries.list_entries(session, status=state, limit=LISTED)
    ]
    waiting.sort(
        key=lambda e: (_room_name(request, e.room_id, e.kind), e.start, e.created_at, e.id)
    )
    open_offers = offers.list_offers(session, status="offered", limit=LISTED)
    names = member_names(
        session, {e.member_id for e in waiting} | {o.member_id for o in open_offers}
    )
    lines = [
        Line(
            e.id,
            names.get(e.member_id, f"#{e.member_id}"),
            _room_name(request, e.room_id, e.kind),
            *_span(e.start, e.end, zone),
            status=e.status,
        )
        for e in waiting
    ]
    offered = [
        Line(
            o.id,
            names.get(o.member_id, f"#{o.member_id}"),
            _room_name(request, o.room_id, None),
            *_span(o.start, o.end, zone),
            status=o.status,
            expires=o.expires_at.astimezone(zone).strftime("%d.%m.%Y %H:%M"),
        )
        for o in sorted(open_offers, key=lambda o: o.expires_at)
    ]
    return render(
        request,
        "reception/waitlist.html",
        lang,
        status=status,
        entries=lines,
        offers=offered,
        error=error,
        done=done,
        csrf_token=csrf_token(request),
    )


@router.get("/waitlist")
def waitlist(
    request: Request,
    session: ReadSession,
    done: Annotated[str | None, Query(max_length=16)] = None,
    lang: LangQuery = None,
) -> Response:
    """The waiting entries by room and time, and the offers open now."""
    return _page(request, session, page_lang(request, lang), done=done if done in DONE else None)


def _refused(request: Request, ctx: CtxDep, exc: DomainError, lang: str | None) -> Response:
    chosen = page_lang(request, lang)
    error = refusals.explain(chosen, exc, site=ctx.site, zone=site_zone(request))
    with ctx.reads() as reader:
        return _page(request, reader, chosen, error=error, status=exc.status)


@router.post("/waitlist/{entry_id}/remove")
def remove(
    entry_id: ItemId,
    request: Request,
    form: FormDep,
    session: WriteSession,
    ctx: CtxDep,
    lang: LangQuery = None,
) -> Response:
    """Take a member off the waitlist; an offer they held passes to the next in line."""
    check_csrf(request, form)
    try:
        with session.begin():
            entry = entries.cancel_entry(session, site=ctx.site, entry_id=entry_id, now=ctx.clock())
            audited(request, session, "waitlist.leave", entry_id, {"member_id": entry.member_id})
    except DomainError as exc:
        return _refused(request, ctx, exc, lang)
    return redirect("/reception/waitlist", done="removed", lang=lang)


@router.post("/offers/{offer_id}/accept")
def accept(
    offer_id: ItemId,
    request: Request,
    form: FormDep,
    session: WriteSession,
    ctx: CtxDep,
    lang: LangQuery = None,
) -> Response:
    """Book an offered slot on the member's behalf (they asked at the desk)."""
    check_csrf(request, form)
    try:
        with session.begin():
            got = offers.accept_or_lapse(session, site=ctx.site, offer_id=offer_id, now=ctx.clock())
            if isinstance(got, models.Booking):
                audited(request, session, "offer.accept", offer_id, {"booking_id": got.id})
        if isinstance(got, offers.RoomTaken):
            raise got
    except DomainError as exc:
        return _refused(request, ctx, exc, lang)
    return redirect("/reception/waitlist", done="accepted", lang=lang)
