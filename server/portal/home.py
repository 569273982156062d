"""The portal's front page and its sign-in form.

| route | what |
| --- | --- |
| `GET /me/` | signed in: offers to accept, the next bookings, the menu; else the sign-in form |
| `GET /me/?room=ID` | (a door panel's QR code) signed in: that room's free hours |
| `POST /me/signin/link` | e-mail me a sign-in link (the same answer for any address) |
| `GET /me/static/portal.css` | the portal's style sheet |

The password form posts to `/login` (server.dashboard.signin), which brings a member
back to `/me/`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from server.bookings import store
from server.dashboard.pages import LangQuery, page_lang, static_file
from server.dashboard.reception.forms import read_form
from server.deps import CtxDep, ReadSession, session_principal
from server.people import logins, members
from server.portal import lines
from server.portal.me import page, signed_in, url
from server.waitlist import offers

router = APIRouter(include_in_schema=False)

NEXT_BOOKINGS = 5


@router.get("/me/")
def home(
    request: Request,
    ctx: CtxDep,
    session: ReadSession,
    lang: LangQuery = None,
    room: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    """The member's front page; the sign-in form for anybody not signed in."""
    me = signed_in(request, ctx, lang)
    if me is not None and room is not None and (found := ctx.site.room(room)) is not None:
        return me.redirect("/me/rooms", room=found.id)
    if me is None:
        if session_principal(request, ctx) is not None:  # staff: their dashboard
            return RedirectResponse("/", status_code=303)
        chosen = page_lang(request, lang)
        sent = request.query_params.get("sent") == "1"
        return page(request, "portal/signin.html", chosen, sent=sent, error=None)
    member = members.get_member(session, member_id=me.member_id)
    upcoming = [
        b
        for b in store.list_bookings(
            session, involving=me.member_id, start_from=me.now, limit=50, site_id=me.ctx.site.id
        )
        if b.status in store.CURRENT
    ][:NEXT_BOOKINGS]
    open_offers = offers.list_offers(
        session, member_id=me.member_id, status="offered", site_id=me.ctx.site.id
    )
    return me.render(
        "portal/home.html",
        page="home",
        member=member,
        bookings=[lines.booking_line(me, b) for b in upcoming],
        offers=[lines.offer_line(me, o) for o in open_offers if o.expires_at > me.now],
    )


@router.post("/me/signin/link")
async def send_link(request: Request, ctx: CtxDep, lang: LangQuery = None) -> Response:
    """Send a sign-in link to the address, if it is an account's; the same answer (back
    to the form, saying a link is on its way) whatever the address."""
    form = await read_form(request)
    email = form.get("email", "")[:254]
    if "@" in email:
        with ctx.writes() as session, session.begin():
            logins.send_link(
                session,
                email=email,
                site=ctx.site,
                base_url=ctx.settings.public_url,
                now=ctx.clock(),
            )
    chosen = page_lang(request, lang)
    return RedirectResponse(url("/me/", chosen, sent=1), status_code=303)


@router.get("/me/static/portal.css")
def style_sheet(request: Request) -> Response:
    body, etag = static_file("portal.css")
    headers = {"ETag": f'"{etag}"', "Cache-Control": "public, max-age=3600"}
    if request.headers.get("if-none-match") == f'"{etag}"':
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="text/css; charset=utf-8", headers=headers)
