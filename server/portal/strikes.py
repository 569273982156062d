"""My no-show strikes and what they mean.

| route | what |
| --- | --- |
| `GET /me/strikes` | the rule in words (N no-shows within M days suspend booking for K |
| | days), the member's strikes that count now, and a suspension with its end |
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from fastapi import APIRouter
from fastapi.responses import Response

from protocol.bookingrules import suspended
from server.db import models
from server.deps import ReadSession
from server.noshows import strikes as noshows
from server.people import members
from server.portal.lines import room_name
from server.portal.me import MeDep

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class Strike:
    at: datetime
    room: str
    counts: bool  # within the window and not removed by staff


@router.get("/me/strikes")
def my_strikes(me: MeDep, session: ReadSession) -> Response:
    """The no-show rule, and where the member stands."""
    site, now = me.ctx.site, me.now
    rules = site.bookings
    since = now - timedelta(seconds=rules.no_show_window)
    member = members.get_member(session, member_id=me.member_id)
    listed = []
    for strike in noshows.strikes(session, member_id=me.member_id)[:50]:
        booking = session.get(models.Booking, strike.booking_id)
        listed.append(
            Strike(
                at=me.local(strike.at),
                room=room_name(me, booking.room_id) if booking else "",
                counts=strike.removed_at is None and strike.at > since,
            )
        )
    until = member.booking_suspended_until
    return me.render(
        "portal/strikes.html",
        page="strikes",
        active=noshows.active_strikes(session, site=site, member_id=me.member_id, now=now),
        limit=rules.no_show_limit,
        window_days=round(rules.no_show_window / 86400),
        suspension_days=round(rules.no_show_suspension / 86400),
        grace_minutes=round(site.access.no_show_grace / 60),
        strikes=listed,
        suspended_until=me.local(until) if until and suspended(until, now) else None,
    )
