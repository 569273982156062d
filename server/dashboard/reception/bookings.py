"""The reception desk's bookings: a room's day or week as a table (local times, holders'
names, status, attendees), booking a room (with attendees and a weekly repeat), and
cancelling, releasing or ending one, each after a confirmation page.

| route | what |
| --- | --- |
| `GET /reception/bookings?room=&day=&view=day\\|week` | the schedule |
| `GET`/`POST /reception/bookings/new` | the booking form |
| `GET /reception/bookings/{id}/{action}` | confirm `cancel`, `release` or `end` |
| `POST /reception/bookings/{id}/{action}` | do it, then back to the schedule |

The rules are the domain's (server.bookings, server.waitlist.freed); a refusal is shown in
the reader's language (server.dashboard.reception.refusals)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.bookings import rules, store
from server.dashboard.reception import refusals
from server.dashboard.reception.desk import Desk, DeskDep, FormDep, local_span
from server.db import models
from server.deps import ReadSession, Staff, WriteSession, audited
from server.errors import DomainError
from server.live.kinds import BookingEvent
from server.people import members
from server.reports.weeks import local_midnight
from server.schemas import MAX_ID
from server.waitlist import freed

router = APIRouter(prefix="/reception/bookings", include_in_schema=False, dependencies=[Staff])

Action = Literal["cancel", "release", "end"]
BookingId = Annotated[int, Path(ge=1, le=MAX_ID)]
Text = Annotated[str | None, Query(max_length=100)]
DONE = ("created", "cancel", "release", "end")
MEMBER_CHOICES = 200
FIELDS = ("room", "day", "start", "end", "holder", "title", "weeks", "until", "q")


@dataclass(frozen=True)
class Row:
    """One booking as the schedule shows it (times in the site's zone)."""

    id: int
    day: date
    start: str
    end: str
    holder: str
    title: str
    status: str
    attendees: int

    @property
    def actions(self) -> tuple[Action, ...]:
        if self.status == "booked":
            return ("cancel", "release")
        return ("end",) if self.status == "checked_in" else ()


def member_names(session: Session, ids: set[int]) -> dict[int, str]:
    M = models.Member
    return {row.id: row.name for row in session.execute(select(M.id, M.name).where(M.id.in_(ids)))}


def _rows(
    session: Session, *, room_id: str, start: datetime, end: datetime, zone: ZoneInfo
) -> list[Row]:
    found = store.list_bookings(session, room_id=room_id, start_from=start, end_to=end, limit=1000)
    names = member_names(session, {b.member_id for b in found})

    def hhmm(at: datetime) -> str:
        return at.astimezone(zone).strftime("%H:%M")

    return [
        Row(
            id=b.id,
            day=max(b.start, start).astimezone(zone).date(),  # one begun before: the first day
            start=hhmm(b.start),
            end=hhmm(b.end),
            holder=names.get(b.member_id, f"#{b.member_id}"),
            title=b.title or "",
            status=b.status,
            attendees=len(b.attendees),
        )
        for b in found
    ]


def _rooms(desk: Desk) -> list[tuple[str, str]]:
    return [(r.id, r.name) for r in desk.ctx.site.rooms if r.bookable]


def _room(desk: Desk, room: str | None) -> str:
    ids = [room_id for room_id, _ in _rooms(desk)]
    return room if room in ids else ids[0]


@router.get("")
def schedule(
    desk: DeskDep,
    session: ReadSession,
    room: Text = None,
    day: Text = None,
    view: Literal["day", "week"] = "day",
    done: Text = None,
    n: Annotated[int, Query(ge=0, le=1000)] = 1,
) -> Response:
    """A room's day, or the week (Monday to Sunday) of that day, as a table."""
    zone = desk.zone
    room_id = _room(desk, room)
    shown = desk.day(day)
    first = shown - timedelta(days=shown.weekday()) if view == "week" else shown
    step = timedelta(days=7 if view == "week" else 1)
    start, end = local_midnight(first, zone), local_midnight(first + step, zone)
    return desk.render(
        "reception/bookings.html",
        rooms=_rooms(desk),
        room_id=room_id,
        view=view,
        day=shown,
        days=[first + timedelta(days=i) for i in range(step.days)],
        prev=shown - step,
        next=shown + step,
        rows=_rows(session, room_id=room_id, start=start, end=end, zone=zone),
        done=done if done in DONE else None,
        n=n,
    )


# -- booking a room -----------------------------------------------------------------------


def _form_page(
    desk: Desk,
    session: Session,
    values: dict[str, object],
    *,
    error: str | None = None,
    status: int = 200,
) -> Response:
    query = str(values.get("q") or "")
    found = members.list_members(session, query=query or None, limit=MEMBER_CHOICES)
    chosen = {str(a) for a in values.get("attendees", [])}  # type: ignore[attr-defined]
    return desk.render(
        "reception/booking_new.html",
        status=status,
        rooms=_rooms(desk),
        members=[(m.id, m.name) for m in found],
        values=values,
        chosen=chosen,
        error=error,
        max_weeks=desk.ctx.site.bookings.max_occurrences,
    )


@router.get("/new")
def new_booking(
    desk: DeskDep, session: ReadSession, room: Text = None, day: Text = None, q: Text = None
) -> Response:
    """The booking form; `q` narrows the members to choose from (name or e-mail)."""
    values: dict[str, object] = dict.fromkeys(FIELDS, "") | {
        "room": _room(desk, room),
        "day": desk.day(day).isoformat(),
        "q": q or "",
        "attendees": [],
    }
    return _form_page(desk, session, values)


@dataclass(frozen=True)
class Asked:
    """A booking form as the domain wants it: what to book, and how many weeks of it."""

    booking: rules.BookingRequest
    weeks: int


def _parse(form: dict[str, object], zone: ZoneInfo) -> Asked:
    """The form's fields as a request; refusals.FormError (a text key) when malformed."""
    day, start, end = local_span(str(form["day"]), str(form["start"]), str(form["end"]), zone)
    try:
        holder = int(str(form["holder"]))
        attendees = [int(a) for a in form["attendees"]]  # type: ignore[attr-defined]
    except ValueError:
        raise refusals.FormError("desk.bk.err.holder") from None
    weeks = refusals.weeks_asked(day, str(form["weeks"]), str(form["until"]))
    asked = rules.BookingRequest(
        room_id=str(form["room"]),
        member_id=holder,
        start=start,
        end=end,
        title=str(form["title"]) or None,
        attendees=[a for a in attendees if a != holder],
    )
    return Asked(booking=asked, weeks=weeks)


def _book(desk: Desk, session: Session, asked: Asked) -> list[models.Booking]:
    """Book once, or weekly, in the caller's transaction; audited (`booking.create`)."""
    site, now = desk.ctx.site, desk.ctx.clock()
    if asked.weeks > 1:
        made = rules.create_series(
            session, site=site, request=asked.booking, weekly=asked.weeks, now=now
        )
    else:
        made = [rules.create_booking(session, site=site, request=asked.booking, now=now)]
    audited(desk.request, session, "booking.create", made[0].id, rules.audit_detail(made))
    return made


@router.post("/new")
def create(desk: DeskDep, form: FormDep, session: WriteSession) -> Response:
    """Book (or book weekly); back to the room's day, or the form again with the error."""
    values: dict[str, object] = {f: form.get(f) for f in FIELDS}
    values["attendees"] = form.getlist("attendees")
    try:
        asked = _parse(values, desk.zone)
        with session.begin():
            made = _book(desk, session, asked)
    except (refusals.FormError, DomainError) as exc:
        status = exc.status if isinstance(exc, DomainError) else 422
        return _form_page(desk, session, values, error=desk.explain(exc), status=status)
    return desk.redirect(
        "/reception/bookings",
        room=asked.booking.room_id,
        day=asked.booking.start.astimezone(desk.zone).date().isoformat(),
        view="week" if len(made) > 1 else None,
        done="created",
        n=len(made),
    )


# -- cancel, release, end early -------------------------------------------------------------


def _confirm_page(
    desk: Desk,
    session: Session,
    booking_id: int,
    action: Action,
    *,
    error: str | None = None,
    status: int = 200,
) -> Response:
    booking = store.get_booking(session, booking_id=booking_id, site_id=desk.ctx.site.id)
    found = _rows(
        session, room_id=booking.room_id, start=booking.start, end=booking.end, zone=desk.zone
    )
    (row,) = [r for r in found if r.id == booking_id]
    room = desk.ctx.site.room(booking.room_id)
    return desk.render(
        "reception/booking_confirm.html",
        status=status,
        row=row,
        room_id=booking.room_id,
        room_name=room.name if room else booking.room_id,
        action=action,
        error=error,
    )


@router.get("/{booking_id}/{action}")
def confirm(booking_id: BookingId, action: Action, desk: DeskDep, session: ReadSession) -> Response:
    """Are you sure? A page with the booking and one button (no script needed)."""
    return _confirm_page(desk, session, booking_id, action)


# What each action does to a booking (the domain's), made by staff.
CHANGES: dict[str, Callable[..., tuple[models.Booking, BookingEvent]]] = {
    "cancel": partial(freed.cancel_booking, by="staff"),
    "release": freed.release_now,
    "end": partial(freed.end_booking, by="staff"),
}


@router.post("/{booking_id}/{action}")
def act(booking_id: BookingId, action: Action, desk: DeskDep, session: WriteSession) -> Response:
    """Cancel, release or end the booking (audited), then back to its day."""
    ctx = desk.ctx
    try:
        with session.begin():
            booking, event = CHANGES[action](
                session, site=ctx.site, booking_id=booking_id, now=ctx.clock()
            )
            audited(
                desk.request, session, f"booking.{action}", booking_id, {"room_id": booking.room_id}
            )
    except DomainError as exc:
        with ctx.reads() as reader:
            error = desk.explain(exc)
            return _confirm_page(desk, reader, booking_id, action, error=error, status=exc.status)
    ctx.events.publish(event)
    day = booking.start.astimezone(desk.zone).date().isoformat()
    return desk.redirect("/reception/bookings", room=booking.room_id, day=day, done=action)
