"""The member portal (`/me/`): what a member sees once signed in, in their language.

For now one page: their name, their upcoming bookings and a way to sign out; the portal
grows from here (booking, the waitlist, notifications)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from server.bookings import store
from server.dashboard.pages import LangQuery, page_lang, render
from server.deps import CtxDep, ReadSession, session_principal
from server.people import members

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class BookingLine:
    """A booking as the member reads it: room name and local times."""

    room: str
    start: datetime
    end: datetime
    title: str | None


@router.get("/me/")
def portal(request: Request, ctx: CtxDep, session: ReadSession, lang: LangQuery = None) -> Response:
    """The member's page; the sign-in page for anybody not signed in as a member."""
    principal = session_principal(request, ctx)
    if principal is None or principal.member_id is None:
        return RedirectResponse("/", status_code=303)
    member = members.get_member(session, member_id=principal.member_id)
    zone = ZoneInfo(ctx.site.site.timezone)
    upcoming = store.list_bookings(
        session, involving=member.id, status="booked", start_from=ctx.clock(), limit=50
    )
    lines = [
        BookingLine(
            room=(room.name if (room := ctx.site.room(b.room_id)) else b.room_id),
            start=b.start.astimezone(zone),
            end=b.end.astimezone(zone),
            title=b.title,
        )
        for b in upcoming
    ]
    chosen = lang if lang else member.lang
    return render(request, "me.html", page_lang(request, chosen), member=member, bookings=lines)
