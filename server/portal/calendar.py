"""My calendar link: the member's own bookings as a feed their calendar app subscribes to.

| route | what |
| --- | --- |
| `GET /me/calendar` | the feed's link (its key made on first view) |
| `POST /me/calendar/new` | a new link; the old one stops working |
| `GET /api/me/calendar.ics?key=...` | the feed (RFC 5545); no sign-in: the key is the |
| | credential; 404 for any other key |
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from server.bookings import member_calendar
from server.deps import CtxDep, Members, ReadSession, WriteSession, audited
from server.openapi import Error
from server.portal.me import MeDep

router = APIRouter(include_in_schema=False)
feed_router = APIRouter(prefix="/api", tags=["calendar"])


@router.get("/me/calendar")
def calendar_page(me: MeDep, session: WriteSession) -> Response:
    """The member's feed link, to copy into a calendar app."""
    with session.begin():
        key = member_calendar.calendar_key(session, member_id=me.member_id)
    base = me.ctx.settings.public_url.rstrip("/")
    link = base + member_calendar.feed_url(key)
    done = me.request.query_params.get("done") == "new"
    return me.render("portal/calendar.html", page="calendar", link=link, done=done)


@router.post("/me/calendar/new", dependencies=[Members])
def new_link(me: MeDep, session: WriteSession) -> Response:
    """A new key: the old link stops working at once (audited)."""
    with session.begin():
        member_calendar.new_key(session, member_id=me.member_id)
        audited(me.request, session, "member.calendar_key", me.member_id)
    return me.redirect("/me/calendar", done="new")


@feed_router.get(
    "/me/calendar.ics",
    response_class=Response,
    responses={404: {"model": Error, "description": "no member's feed has this key"}},
)
def member_feed(
    session: ReadSession, ctx: CtxDep, key: Annotated[str | None, Query(max_length=128)] = None
) -> Response:
    """The bookings a member holds or attends, as iCalendar, for the member whose feed key
    `key` is; 404 for any other key (no sign-in: calendar apps cannot send one)."""
    body = member_calendar.member_feed(session, site=ctx.site, key=key, now=ctx.clock())
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={
            "Content-Disposition": 'inline; filename="bookings.ics"',
            "Cache-Control": "private, no-cache",
        },
    )
