"""Booking a room: the form a free hour leads to (its second tap books it).

| route | what |
| --- | --- |
| `GET /me/book?room=&start=YYYY-MM-DDTHH:MM[&end=]` | the form: the room and times, a title, |
| | attendees by e-mail, a weekly repeat |
| `POST /me/book` | book for the member signed in (once, or weekly), then to my bookings |

The booking is the domain's (server.bookings.rules): the same rules as the API's, the
member's weekly quota among them; a refusal shows the form again, saying why."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response
from sqlalchemy.orm import Session

from server.bookings import attendees, pricing, quotas, rules
from server.dashboard.reception.desk import FormDep
from server.deps import Members, ReadSession, WriteSession, audited
from server.errors import DomainError
from server.people import members
from server.portal.me import FormError, Me, MeDep, day_and_time, local_instant
from server.schemas import whole_number

router = APIRouter(include_in_schema=False)

Text = Annotated[str | None, Query(max_length=64)]
FIELDS = ("room", "day", "start", "end", "title", "attendees", "weeks")


def _form(
    me: Me,
    session: Session,
    values: dict[str, str],
    *,
    error: str | None = None,
    status: int = 200,
) -> Response:
    site = me.ctx.site
    room = site.room(values.get("room", ""))
    member = members.get_member(session, member_id=me.member_id)
    cost = None
    try:
        start = day_and_time(values["day"], values["start"], me.zone)
        end = day_and_time(values["day"], values["end"], me.zone)
        if end > start:
            cost = pricing.price(site, member.category, start, end)
        usage = quotas.usage(session, site=site, member=member, at=start)
    except FormError:
        usage = quotas.usage(session, site=site, member=member, at=me.now)
    return me.render(
        "portal/book.html",
        status=status,
        page="rooms",
        room=room if room is not None and room.bookable else None,
        values=values,
        error=error,
        cost=cost,
        currency=site.site.currency,
        usage=usage,
        max_weeks=site.bookings.max_occurrences,
    )


@router.get("/me/book")
def book_form(
    me: MeDep, session: ReadSession, room: Text = None, start: Text = None, end: Text = None
) -> Response:
    """The booking form for a room from `start` (an hour, unless `end` says otherwise)."""
    values = dict.fromkeys(FIELDS, "") | {"room": room or "", "weeks": "1"}
    try:
        begins = local_instant(start or "", me.zone)
        ends = local_instant(end, me.zone) if end else begins + timedelta(hours=1)
    except FormError as exc:
        return _form(me, session, values, error=me.explain(exc), status=422)
    values |= {
        "day": me.local(begins).date().isoformat(),
        "start": f"{me.local(begins):%H:%M}",
        "end": f"{me.local(ends):%H:%M}",
    }
    return _form(me, session, values)


def _asked(me: Me, session: Session, values: dict[str, str]) -> tuple[rules.BookingRequest, int]:
    """The form as the domain's request for the member signed in, and how many weeks."""
    start = day_and_time(values["day"], values["start"], me.zone)
    end = day_and_time(values["day"], values["end"], me.zone)
    if end <= start and values["end"] == "00:00":  # until midnight
        end = day_and_time(values["day"], values["end"], me.zone) + timedelta(days=1)
    weeks = values["weeks"] or "1"
    count = whole_number(weeks, most=me.ctx.site.bookings.max_occurrences)
    if count is None:
        raise FormError("portal.err.weeks")
    emails = attendees.parse_emails(values["attendees"])
    request = rules.BookingRequest(
        room_id=values["room"],
        member_id=me.member_id,  # only ever the member signed in
        start=start,
        end=end,
        title=values["title"][: rules.MAX_TITLE + 1] or None,
        attendees=attendees.members_by_email(session, emails) if emails else (),
    )
    return request, count


@router.post("/me/book", dependencies=[Members])
def book(me: MeDep, form: FormDep, session: WriteSession) -> Response:
    """Book, or book weekly; to my bookings, or the form again with the reason."""
    values = {name: form.get(name) for name in FIELDS}
    site, now = me.ctx.site, me.now
    try:
        with session.begin():
            request, weeks = _asked(me, session, values)
            if weeks > 1:
                made = rules.create_series(
                    session, site=site, request=request, weekly=weeks, now=now
                )
            else:
                made = [rules.create_booking(session, site=site, request=request, now=now)]
            audited(me.request, session, "booking.create", made[0].id, rules.audit_detail(made))
    except (DomainError, FormError) as exc:
        status = exc.status if isinstance(exc, DomainError) else 422
        with me.ctx.reads() as reader:
            return _form(me, reader, values, error=me.explain(exc), status=status)
    return me.redirect("/me/bookings", done="booked", n=len(made))
