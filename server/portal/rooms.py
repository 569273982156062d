"""The rooms a member may book and their free hours on a day.

| route | what |
| --- | --- |
| `GET /me/rooms?day=YYYY-MM-DD[&room=ID]` | each bookable room (size, equipment, who may book it, |
| | the price an hour for the member) and its hours that day: a free one leads to the booking |
| | form, a taken one to the waitlist |
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from server.bookings import pricing, quotas
from server.bookings.slots import Slot, day_slots
from server.deps import ReadSession
from server.people import members
from server.portal.me import MeDep, week_days
from server.site import Room

router = APIRouter(include_in_schema=False)

DayQuery = Annotated[str | None, Query(max_length=10)]


@dataclass(frozen=True)
class RoomDay:
    """A room on the day shown: what it is, what it costs the member, its slots."""

    room: Room
    hourly: Decimal
    slots: list[Slot]


def chosen_day(value: str | None, today: date, last: date) -> date:
    """`YYYY-MM-DD` between today and the booking horizon; today otherwise."""
    try:
        day = date.fromisoformat(value or "")
    except ValueError:
        return today
    return day if today <= day <= last else today


def shown_rooms(rooms: Sequence[Room], asked: str | None) -> list[Room]:
    """The bookable rooms, or only the one asked for when it is one of them."""
    bookable = [r for r in rooms if r.bookable]
    return [r for r in bookable if r.id == asked] or bookable


@router.get("/me/rooms")
def rooms(me: MeDep, session: ReadSession, day: DayQuery = None, room: DayQuery = None) -> Response:
    """The rooms and their hours on a day (today unless chosen); one room when `room`
    names a bookable one."""
    site, now = me.ctx.site, me.now
    last = (now + timedelta(seconds=site.bookings.horizon)).astimezone(me.zone).date()
    shown = chosen_day(day, me.today, last)
    member = members.get_member(session, member_id=me.member_id)
    hour_from = datetime(2000, 1, 3, 12)  # any hour: the rate is by length
    listed = [
        RoomDay(
            room=room,
            hourly=pricing.price(site, member.category, hour_from, hour_from + timedelta(hours=1)),
            slots=day_slots(session, site=site, room_id=room.id, day=shown, now=now),
        )
        for room in shown_rooms(site.rooms, room)
    ]
    at = datetime.combine(shown, datetime.min.time(), me.zone)
    return me.render(
        "portal/rooms.html",
        page="rooms",
        day=shown,
        days=week_days(me.today),
        first=me.today,
        last=last,
        rooms=listed,
        room=room if len(listed) == 1 and room else "",
        currency=site.site.currency,
        usage=quotas.usage(session, site=site, member=member, at=at),
    )
