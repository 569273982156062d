"""The pages the one-click links in e-mails open (server.notify.links): cancel a booking,
accept a waitlist offer. No sign-in: the signed token is the permission, for that one
thing, until it expires.

| route | what |
| --- | --- |
| `GET /m/cancel?token=...` | what will be cancelled, and one button |
| `POST /m/cancel` (`token`) | cancel it (server.waitlist.freed.cancel_booking), audited |
| `GET /m/accept?token=...` | the offered room and its deadline, and one button |
| `POST /m/accept` (`token`) | book it (server.waitlist.offers.accept), audited |

A GET changes nothing (mail scanners open links to look at them). A token that is not
ours, was changed or is for the other action gets 400, an expired one 410, a booking no
longer booked or an offer no longer open 409; each a page in the reader's language (the
member's, unless `?lang=` says otherwise). Audited as `mail-link:member:<id>`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from server.context import ServerContext
from server.dashboard.pages import LangQuery, page_lang, render
from server.dashboard.reception.desk import FormDep
from server.db import models
from server.deps import CtxDep, ReadSession, WriteSession
from server.errors import Conflict, DomainError, Forbidden
from server.notify import links, texts
from server.people import audit
from server.waitlist import freed, offers

router = APIRouter(include_in_schema=False)

TokenQuery = Annotated[str, Query()]  # any length: a bad one gets the page saying so
TEMPLATE = "links/action.html"


class _Shown(Exception):
    """A page to show instead (a refused link), with its status."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def _subject(ctx: ServerContext, token: str, purpose: links.Purpose, lang: str) -> int:
    try:
        return links.verify(links.link_key(ctx.card_key), token, purpose=purpose, now=ctx.clock())
    except links.ExpiredLink:
        raise _Shown(texts.text(lang, "link.expired"), 410) from None
    except links.BadLink:
        raise _Shown(texts.text(lang, "link.bad"), 400) from None


def _lang(request: Request, session: Session, member_id: int) -> str:
    """`?lang=` when given, else the member's language (the mail's)."""
    member = session.get(models.Member, member_id)
    asked = request.query_params.get("lang")
    return page_lang(request, asked or (member.lang if member else None))


def _when(ctx: ServerContext, lang: str, room_id: str, start: datetime, end: datetime) -> str:
    zone = ZoneInfo(ctx.site.site.timezone)
    room = ctx.site.room(room_id)
    return texts.text(lang, "link.when", room=room.name if room else room_id,
                      start=start.astimezone(zone), end=end.astimezone(zone))  # fmt: skip


def _page(
    request: Request, lang: str, purpose: str, *, status: int = 200, **values: object
) -> Response:
    shown = {"what": None, "ask": None, "token": None, "message": None, "problem": None}
    return render(request, TEMPLATE, lang, status, purpose=purpose, **(shown | values))


def _refused(request: Request, lang: str, purpose: str, shown: _Shown) -> Response:
    return _page(request, lang, purpose, status=shown.status, problem=str(shown))


# -- cancel -------------------------------------------------------------------------------


def _booking(session: Session, ctx: ServerContext, token: str, lang: str) -> models.Booking:
    booking = session.get(models.Booking, _subject(ctx, token, "cancel", lang))
    if booking is None:
        raise _Shown(texts.text(lang, "link.bad"), 400)
    return booking


def _not_booked(lang: str, booking: models.Booking) -> _Shown:
    status = texts.text(lang, f"desk.status.{booking.status}")
    return _Shown(texts.text(lang, "link.cancel.gone", status=status), 409)


@router.get("/m/cancel")
def cancel_page(
    request: Request,
    ctx: CtxDep,
    session: ReadSession,
    token: TokenQuery = "",
    lang: LangQuery = None,
) -> Response:
    """What the link would cancel, and the button; nothing changes."""
    lang = page_lang(request, lang)
    try:
        booking = _booking(session, ctx, token, lang)
        lang = _lang(request, session, booking.member_id)
        if booking.status != "booked":
            raise _not_booked(lang, booking)
    except _Shown as shown:
        return _refused(request, lang, "cancel", shown)
    what = _when(ctx, lang, booking.room_id, booking.start, booking.end)
    return _page(
        request, lang, "cancel", what=what, ask=texts.text(lang, "link.cancel.ask"), token=token
    )


@router.post("/m/cancel")
def cancel(
    request: Request,
    ctx: CtxDep,
    session: WriteSession,
    form: FormDep,
    lang: LangQuery = None,
) -> Response:
    """Cancel the booking the link is for, once."""
    lang = page_lang(request, lang)
    now = ctx.clock()
    token = form.get("token")
    try:
        with session.begin():
            booking = _booking(session, ctx, token, lang)
            lang = _lang(request, session, booking.member_id)
            try:
                booking, event = freed.cancel_booking(
                    session, site=ctx.site, booking_id=booking.id, now=now, by="api"
                )
            except Conflict:
                raise _not_booked(lang, booking) from None
            audit.record(session, actor=f"mail-link:member:{booking.member_id}",
                         action="booking.cancel", target=str(booking.id),
                         detail={"room_id": booking.room_id}, now=now)  # fmt: skip
    except _Shown as shown:
        return _refused(request, lang, "cancel", shown)
    ctx.events.publish(event)
    what = _when(ctx, lang, booking.room_id, booking.start, booking.end)
    return _page(request, lang, "cancel", what=what, message=texts.text(lang, "link.cancel.done"))


# -- accept -------------------------------------------------------------------------------


def _offer(session: Session, ctx: ServerContext, token: str, lang: str) -> models.Offer:
    offer = session.get(models.Offer, _subject(ctx, token, "accept", lang))
    if offer is None:
        raise _Shown(texts.text(lang, "link.bad"), 400)
    return offer


@router.get("/m/accept")
def accept_page(
    request: Request,
    ctx: CtxDep,
    session: ReadSession,
    token: TokenQuery = "",
    lang: LangQuery = None,
) -> Response:
    """The offered room and its deadline, and the button; nothing changes."""
    lang = page_lang(request, lang)
    try:
        offer = _offer(session, ctx, token, lang)
        lang = _lang(request, session, offer.member_id)
        if offer.status != "offered" or offer.expires_at <= ctx.clock():
            raise _Shown(texts.text(lang, "link.accept.gone"), 409)
    except _Shown as shown:
        return _refused(request, lang, "accept", shown)
    zone = ZoneInfo(ctx.site.site.timezone)
    ask = texts.text(lang, "link.accept.ask", by=offer.expires_at.astimezone(zone))
    what = _when(ctx, lang, offer.room_id, offer.start, offer.end)
    return _page(request, lang, "accept", what=what, ask=ask, token=token)


@router.post("/m/accept")
def accept(
    request: Request,
    ctx: CtxDep,
    session: WriteSession,
    form: FormDep,
    lang: LangQuery = None,
) -> Response:
    """Book the offered room, once."""
    lang = page_lang(request, lang)
    now = ctx.clock()
    token = form.get("token")
    try:
        with session.begin():
            offer = _offer(session, ctx, token, lang)
            lang = _lang(request, session, offer.member_id)
            got = _accepted(session, ctx, offer, lang, now)
            if isinstance(got, models.Booking):
                audit.record(session, actor=f"mail-link:member:{offer.member_id}",
                             action="offer.accept", target=str(offer.id),
                             detail={"booking_id": got.id}, now=now)  # fmt: skip
    except _Shown as shown:
        return _refused(request, lang, "accept", shown)
    what = _when(ctx, lang, offer.room_id, offer.start, offer.end)
    if not isinstance(got, models.Booking):  # the room was taken: the lapse is committed
        return _page(request, lang, "accept", status=409, what=what,
                     problem=texts.text(lang, "link.accept.taken"))  # fmt: skip
    return _page(request, lang, "accept", what=what, message=texts.text(lang, "link.accept.done"))


def _accepted(
    session: Session, ctx: ServerContext, offer: models.Offer, lang: str, now: datetime
) -> models.Booking | offers.RoomTaken:
    try:
        return offers.accept_or_lapse(session, site=ctx.site, offer_id=offer.id, now=now)
    except Forbidden:
        raise _Shown(texts.text(lang, "link.accept.refused"), 403) from None
    except DomainError:  # lapsed, or accepted already
        raise _Shown(texts.text(lang, "link.accept.gone"), 409) from None
