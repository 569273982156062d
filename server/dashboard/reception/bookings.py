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

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.bookings import rules, store
from server.dashboard.pages import LangQuery, page_lang, render
from server.dashboard.reception import refusals
from server.dashboard.reception.forms import (
    FormDep,
    check_csrf,
    csrf_token,
    local_day,
    local_instant,
    redirect,
    site_zone,
)
from server.db import models
from server.deps import CtxDep, ReadSession, Staff, WriteSession, audited
from server.errors import DomainError
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
            day=b.start.astimezone(zone).date(),
            start=hhmm(b.start),
            end=hhmm(b.end),
            holder=names.get(b.member_id, f"#{b.member_id}"),
            title=b.title or "",
            status=b.status,
            attendees=len(b.attendees),
        )
        for b in found
    ]


def _rooms(request: Request) -> list[tuple[str, str]]:
    return [(r.id, r.name) for r in request.app.state.ctx.site.rooms if r.bookable]


def _room(request: Request, room: str | None) -> str:
    ids = [room_id for room_id, _ in _rooms(request)]
    return room if room in ids else ids[0]


@router.get("")
def schedule(
    request: Request,
    session: ReadSession,
    room: Text = None,
    day: Text = None,
    view: Literal["day", "week"] = "day",
    done: Text = None,
    n: Annotated[int, Query(ge=0, le=1000)] = 1,
    lang: LangQuery = None,
) -> Response:
    """A room's day, or the week (Monday to Sunday) of that day, as a table."""
    zone = site_zone(request)
    room_id = _room(request, room)
    shown = local_day(request, day)
    first = shown - timedelta(days=shown.weekday()) if view == "week" else shown
    length = 7 if view == "week" else 1
    step = timedelta(days=length)
    rows = _rows(
        session,
        room_id=room_id,
        start=local_midnight(first, zone),
        end=local_midnight(first + step, zone),
        zone=zone,
    )
    return render(
        request,
        "reception/bookings.html",
        page_lang(request, lang),
        rooms=_rooms(request),
        room_id=room_id,
        view=view,
        day=shown,
        days=[first + timedelta(days=i) for i in range(length)],
        prev=shown - step,
        next=shown + step,
        rows=rows,
        done=done if done in DONE else None,
        n=n,
    )


# -- booking a room -----------------------------------------------------------------------


def _form_page(
    request: Request,
    session: Session,
    lang: str,
    values: dict[str, object],
    *,
    error: str | None = None,
    status: int = 200,
) -> Response:
    query = str(values.get("q") or "")
    found = members.list_members(session, query=query or None, limit=MEMBER_CHOICES)
    chosen = {str(a) for a in values.get("attendees", [])}  # type: ignore[attr-defined]
    return render(
        request,
        "reception/booking_new.html",
        lang,
        status=status,
        rooms=_rooms(request),
        members=[(m.id, m.name) for m in found],
        values=values,
        chosen=chosen,
        error=error,
        csrf_token=csrf_token(request),
        max_weeks=request.app.state.ctx.site.bookings.max_occurrences,
    )


@router.get("/new")
def new_booking(
    request: Request,
    session: ReadSession,
    room: Text = None,
    day: Text = None,
    q: Text = None,
    lang: LangQuery = None,
) -> Response:
    """The booking form; `q` narrows the members to choose from (name or e-mail)."""
    values: dict[str, object] = dict.fromkeys(FIELDS, "") | {
        "room": _room(request, room),
        "day": local_day(request, day).isoformat(),
        "q": q or "",
        "attendees": [],
    }
    return _form_page(request, session, page_lang(request, lang), values)


@dataclass(frozen=True)
class Asked:
    """A booking form as the domain wants it: what to book, and how many weeks of it."""

    booking: rules.BookingRequest
    weeks: int


def _parse(form: dict[str, object], zone: ZoneInfo) -> Asked:
    """The form's fields as a request; refusals.FormError (a text key) when malformed."""
    try:
        day = date.fromisoformat(str(form["day"]))
        start = local_instant(day, time.fromisoformat(str(form["start"])), zone)
        end = local_instant(day, time.fromisoformat(str(form["end"])), zone)
    except ValueError:
        raise refusals.FormError("desk.bk.err.when") from None
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


@router.post("/new")
def create(
    request: Request, form: FormDep, session: WriteSession, ctx: CtxDep, lang: LangQuery = None
) -> Response:
    """Book (or book weekly); back to the room's day, or the form again with the error."""
    check_csrf(request, form)
    chosen = page_lang(request, lang)
    values: dict[str, object] = {f: form.get(f) for f in FIELDS}
    values["attendees"] = form.getlist("attendees")
    zone = site_zone(request)
    try:
        asked = _parse(values, zone)
        with session.begin():
            if asked.weeks > 1:
                made = rules.create_series(
                    session,
                    site=ctx.site,
                    request=asked.booking,
                    weekly=asked.weeks,
                    now=ctx.clock(),
                )
            else:
                made = [
                    rules.create_booking(
                        session, site=ctx.site, request=asked.booking, now=ctx.clock()
                    )
                ]
            audited(request, session, "booking.create", made[0].id, rules.audit_detail(made))
    except (refusals.FormError, DomainError) as exc:
        error = refusals.explain(chosen, exc, site=ctx.site, zone=zone)
        status = 422 if isinstance(exc, refusals.FormError) else exc.status
        return _form_page(request, session, chosen, values, error=error, status=status)
    day = asked.booking.start.astimezone(zone).date()
    return redirect(
        "/reception/bookings",
        room=asked.booking.room_id,
        day=day.isoformat(),
        view="week" if len(made) > 1 else None,
        done="created",
        n=len(made),
        lang=lang,
    )


# -- cancel, release, end early -------------------------------------------------------------


def _confirm_page(
    request: Request,
    session: Session,
    booking_id: int,
    action: Action,
    lang: str,
    *,
    error: str | None = None,
    status: int = 200,
) -> Response:
    booking = store.get_booking(session, booking_id=booking_id)
    zone = site_zone(request)
    (row,) = [
        r
        for r in _rows(
            session, room_id=booking.room_id, start=booking.start, end=booking.end, zone=zone
        )
        if r.id == booking_id
    ]
    room = request.app.state.ctx.site.room(booking.room_id)
    return render(
        request,
        "reception/booking_confirm.html",
        lang,
        status=status,
        row=row,
        room_id=booking.room_id,
        room_name=room.name if room else booking.room_id,
        action=action,
        error=error,
        csrf_token=csrf_token(request),
    )


@router.get("/{booking_id}/{action}")
def confirm(
    booking_id: BookingId,
    action: Action,
    request: Request,
    session: ReadSession,
    lang: LangQuery = None,
) -> Response:
    """Are you sure? A page with the booking and one button (no script needed)."""
    return _confirm_page(request, session, booking_id, action, page_lang(request, lang))


@router.post("/{booking_id}/{action}")
def act(
    booking_id: BookingId,
    action: Action,
    request: Request,
    form: FormDep,
    session: WriteSession,
    ctx: CtxDep,
    lang: LangQuery = None,
) -> Response:
    """Cancel, release or end the booking (audited), then back to its day."""
    check_csrf(request, form)
    now = ctx.clock()
    try:
        with session.begin():
            if action == "cancel":
                booking, event = freed.cancel_booking(
                    session, site=ctx.site, booking_id=booking_id, now=now, by="staff"
                )
            elif action == "release":
                booking, event = freed.release_now(
                    session, site=ctx.site, booking_id=booking_id, now=now
                )
            else:
                booking, event = freed.end_booking(
                    session, site=ctx.site, booking_id=booking_id, now=now, by="staff"
                )
            audited(request, session, f"booking.{action}", booking_id, {"room_id": booking.room_id})
    except DomainError as exc:
        chosen = page_lang(request, lang)
        error = refusals.explain(chosen, exc, site=ctx.site, zone=site_zone(request))
        with ctx.reads() as reader:
            return _confirm_page(
                request, reader, booking_id, action, chosen, error=error, status=exc.status
            )
    ctx.events.publish(event)
    day = booking.start.astimezone(site_zone(request)).date().isoformat()
    return redirect("/reception/bookings", room=booking.room_id, day=day, done=action, lang=lang)
