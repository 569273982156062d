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

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from server.context import ServerContext
from server.dashboard.pages import page_lang, render
from server.dashboard.reception.desk import FormDep
from server.db import models, scope
from server.deps import CtxDep, ReadSession, WriteSession
from server.errors import Conflict, DomainError, Forbidden
from server.live.kinds import BookingEvent
from server.notify import links, texts
from server.people import audit
from server.waitlist import freed, offers

router = APIRouter(include_in_schema=False)

TokenQuery = Annotated[str, Query()]  # any length: a bad one gets the page saying so
TEMPLATE = "links/action.html"
Target = models.Booking | models.Offer  # what a link is about: to cancel, to accept


class _Shown(Exception):
    """A page to show instead (a refused link), with its status."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class _Done:
    """What came of a POST: its words, and whether it was refused after all (409)."""

    said: str
    refused: bool = False
    event: BookingEvent | None = None


def _target(
    request: Request, ctx: ServerContext, session: Session, token: str, purpose: links.Purpose
) -> tuple[Target, str]:
    """What a genuine, unexpired token is about, and the page's language: `?lang=`, else
    the member's (the mail's). _Shown for a token that is not."""
    lang = page_lang(request, request.query_params.get("lang"))
    try:
        subject = links.verify(
            links.link_key(ctx.card_key), token, purpose=purpose, now=ctx.clock()
        )
    except links.ExpiredLink:
        raise _Shown(texts.text(lang, "link.expired"), 410) from None
    except links.BadLink:
        raise _Shown(texts.text(lang, "link.bad"), 400) from None
    found: Target | None = (
        session.get(models.Booking, subject)
        if purpose == "cancel"
        else session.get(models.Offer, subject)
    )
    if found is None or not scope.room_at(session, found.room_id, ctx.site.id):
        raise _Shown(texts.text(lang, "link.bad"), 400)  # none, or another site's
    member = session.get(models.Member, found.member_id)
    asked = request.query_params.get("lang")
    return found, page_lang(request, asked or (member.lang if member else None))


def _when(ctx: ServerContext, lang: str, found: Target) -> str:
    zone = ZoneInfo(ctx.site.site.timezone)
    room = ctx.site.room(found.room_id)
    name = room.name if room else found.room_id
    start, end = found.start.astimezone(zone), found.end.astimezone(zone)
    return texts.text(lang, "link.when", room=name, start=start, end=end)


def _page(
    request: Request, lang: str, purpose: str, *, status: int = 200, **values: object
) -> Response:
    shown = {"what": None, "ask": None, "token": None, "message": None, "problem": None}
    return render(request, TEMPLATE, lang, status, purpose=purpose, **(shown | values))


def _ask(
    request: Request, ctx: ServerContext, session: Session, token: str, purpose: links.Purpose,
    asking: Callable[[Target, str], str],
) -> Response:  # fmt: skip
    """The GET page: what the link would do and its button, or why it cannot."""
    lang = page_lang(request, request.query_params.get("lang"))
    found: Target | None = None
    try:
        found, lang = _target(request, ctx, session, token, purpose)
        ask = asking(found, lang)
    except _Shown as shown:
        return _refused(request, ctx, lang, purpose, shown, found)
    return _page(request, lang, purpose, what=_when(ctx, lang, found), ask=ask, token=token)


def _act(
    request: Request, ctx: CtxDep, session: Session, token: str, purpose: links.Purpose,
    doing: Callable[[Target, str, datetime], _Done],
) -> Response:  # fmt: skip
    """The POST: do what the link is for, in one transaction, and say what came of it."""
    lang = page_lang(request, request.query_params.get("lang"))
    found: Target | None = None
    try:
        with session.begin():
            found, lang = _target(request, ctx, session, token, purpose)
            done = doing(found, lang, ctx.clock())
    except _Shown as shown:
        return _refused(request, ctx, lang, purpose, shown, found)
    if done.event is not None:
        ctx.events.publish(done.event)
    what = _when(ctx, lang, found)
    if done.refused:
        return _page(request, lang, purpose, status=409, what=what, problem=done.said)
    return _page(request, lang, purpose, what=what, message=done.said)


def _refused(
    request: Request, ctx: ServerContext, lang: str, purpose: str, shown: _Shown,
    found: Target | None,
) -> Response:  # fmt: skip
    """Why the link does nothing: the page says what it was about when the token was
    good (a booking no longer booked), else only that the link does not work."""
    what = _when(ctx, lang, found) if found is not None else None
    return _page(request, lang, purpose, status=shown.status, what=what, problem=str(shown))


def _audit(session: Session, found: Target, action: str, now: datetime, **detail: object) -> None:
    audit.record(session, actor=f"mail-link:member:{found.member_id}", action=action,
                 target=str(found.id), detail=detail, now=now)  # fmt: skip


# -- cancel -------------------------------------------------------------------------------


def _not_booked(lang: str, booking: Target) -> _Shown:
    status = texts.text(lang, f"desk.status.{booking.status}")
    return _Shown(texts.text(lang, "link.cancel.gone", status=status), 409)


@router.get("/m/cancel")
def cancel_page(
    request: Request, ctx: CtxDep, session: ReadSession, token: TokenQuery = ""
) -> Response:
    """What the link would cancel, and the button; nothing changes."""

    def asking(booking: Target, lang: str) -> str:
        if booking.status != "booked":
            raise _not_booked(lang, booking)
        return texts.text(lang, "link.cancel.ask")

    return _ask(request, ctx, session, token, "cancel", asking)


@router.post("/m/cancel")
def cancel(request: Request, ctx: CtxDep, session: WriteSession, form: FormDep) -> Response:
    """Cancel the booking the link is for, once."""

    def doing(booking: Target, lang: str, now: datetime) -> _Done:
        try:
            _, event = freed.cancel_booking(
                session, site=ctx.site, booking_id=booking.id, now=now, by="api"
            )
        except Conflict:
            raise _not_booked(lang, booking) from None
        _audit(session, booking, "booking.cancel", now, room_id=booking.room_id)
        return _Done(texts.text(lang, "link.cancel.done"), event=event)

    return _act(request, ctx, session, form.get("token"), "cancel", doing)


# -- accept -------------------------------------------------------------------------------


@router.get("/m/accept")
def accept_page(
    request: Request, ctx: CtxDep, session: ReadSession, token: TokenQuery = ""
) -> Response:
    """The offered room and its deadline, and the button; nothing changes."""

    def asking(offer: Target, lang: str) -> str:
        assert isinstance(offer, models.Offer)
        if offer.status != "offered" or offer.expires_at <= ctx.clock():
            raise _Shown(texts.text(lang, "link.accept.gone"), 409)
        zone = ZoneInfo(ctx.site.site.timezone)
        return texts.text(lang, "link.accept.ask", by=offer.expires_at.astimezone(zone))

    return _ask(request, ctx, session, token, "accept", asking)


@router.post("/m/accept")
def accept(request: Request, ctx: CtxDep, session: WriteSession, form: FormDep) -> Response:
    """Book the offered room, once; a room taken meanwhile lapses the offer (committed)."""

    def doing(offer: Target, lang: str, now: datetime) -> _Done:
        try:
            got = offers.accept_or_lapse(session, site=ctx.site, offer_id=offer.id, now=now)
        except Forbidden:
            raise _Shown(texts.text(lang, "link.accept.refused"), 403) from None
        except DomainError:  # lapsed, or accepted already
            raise _Shown(texts.text(lang, "link.accept.gone"), 409) from None
        if isinstance(got, offers.RoomTaken):
            return _Done(texts.text(lang, "link.accept.taken"), refused=True)
        _audit(session, offer, "offer.accept", now, booking_id=got.id)
        return _Done(texts.text(lang, "link.accept.done"))

    return _act(request, ctx, session, form.get("token"), "accept", doing)
