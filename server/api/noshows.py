"""A member's notifications and no-show strikes over HTTP: parse, call
`server.noshows.strikes` (or `server.notify.notifications`), return."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query, Request, Response
from pydantic import BaseModel

from server.db.models import NoShow, Notification
from server.deps import CallerDep, CtxDep, ReadSession, WriteSession, audited, own, routers
from server.noshows import strikes
from server.notify import notifications
from server.people import members
from server.people.schemas import MemberOut
from server.schemas import MAX_ID
from server.site import Language
from server.timefmt import ResponseTime

# staff's routes, and those a member may call too, for their own only
router, member_router = routers("no-shows")

MemberId = Annotated[int, Path(ge=1, le=MAX_ID)]
NoShowId = Annotated[int, Path(ge=1, le=MAX_ID)]


class NotificationOut(BaseModel):
    """A message to a member: `text` in `lang` (the member's, or the one asked for), and
    as ever in Polish and English."""

    id: int
    kind: str
    booking_id: int | None
    offer_id: int | None
    text_pl: str
    text_en: str
    created_at: ResponseTime
    text: str
    lang: Language

    @classmethod
    def of(cls, note: Notification, lang: str) -> NotificationOut:
        text, told_in = notifications.worded(note, lang)
        return cls(
            id=note.id,
            kind=note.kind,
            booking_id=note.booking_id,
            offer_id=note.offer_id,
            text_pl=note.text_pl,
            text_en=note.text_en,
            created_at=note.created_at,
            text=text,
            lang=told_in,
        )


class NoShowOut(BaseModel):
    id: int
    booking_id: int
    at: ResponseTime
    removed_at: ResponseTime | None

    @classmethod
    def of(cls, strike: NoShow) -> NoShowOut:
        return cls(
            id=strike.id, booking_id=strike.booking_id, at=strike.at, removed_at=strike.removed_at
        )


@member_router.get("/members/{member_id}/notifications")
def list_notifications(
    member_id: MemberId,
    principal: CallerDep,
    session: ReadSession,
    lang: Language | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[NotificationOut]:
    """A member's messages, newest first, worded in the member's language or `lang`."""
    own(principal, member_id)
    member = members.get_member(session, member_id=member_id)
    notes = notifications.for_member(session, member_id=member_id, limit=limit)
    return [NotificationOut.of(n, lang or member.lang) for n in notes]


@router.get("/members/{member_id}/no-shows")
def list_no_shows(member_id: MemberId, session: ReadSession) -> list[NoShowOut]:
    """A member's strikes, removed ones included, newest first."""
    return [NoShowOut.of(s) for s in strikes.strikes(session, member_id=member_id)]


@router.delete("/no-shows/{no_show_id}", status_code=204, response_class=Response)
def remove_no_show(
    no_show_id: NoShowId, request: Request, session: WriteSession, ctx: CtxDep
) -> Response:
    """Staff removes a strike (204; again is no error); lifts a booking suspension when
    the member is back under the limit."""
    with session.begin():
        strike = strikes.remove_strike(
            session, site=ctx.site, no_show_id=no_show_id, now=ctx.clock()
        )
        audited(request, session, "noshow.remove", no_show_id, {"member_id": strike.member_id})
    return Response(status_code=204)


@router.post("/members/{member_id}/lift-booking-suspension")
def lift_booking_suspension(
    member_id: MemberId, request: Request, session: WriteSession
) -> MemberOut:
    """Let a member book again at once; the member."""
    with session.begin():
        member = strikes.lift_booking_suspension(session, member_id=member_id)
        audited(request, session, "member.update", member_id, {"booking_suspended_until": None})
    return MemberOut.of(member)
