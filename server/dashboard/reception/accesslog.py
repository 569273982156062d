"""The access log page (`GET /reception/access-log`, staff): every tap at every door,
newest first, a page at a time, with local times, room names and members' names, so
staff can answer "who came in on Tuesday evening".

A GET form filters it: a local day and a span of that day's hours, a door, a member's
name, admitted or refused. The rows come from server.access.accesslog; this module only
reads the form and lays the rows out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from server.access.accesslog import LogFilter, LogRow, access_page, local_start, outcome
from server.context import ServerContext
from server.dashboard.pages import page_lang
from server.dashboard.reception.listing import Filters, cursor, list_texts, refuse, show
from server.deps import CtxDep, ReadSession, Staff
from server.errors import Invalid

router = APIRouter(include_in_schema=False, dependencies=[Staff])

PAGE = 50
LIST = list_texts("log", "/reception/access-log")
RESULTS = {"": None, "granted": True, "refused": False}
MAX_WHO = 200


@dataclass(frozen=True)
class Form(Filters):
    day: str = ""
    since: str = ""
    until: str = ""
    door: str = ""
    who: str = ""
    result: str = ""


@dataclass(frozen=True)
class Line:
    """One tap as the table shows it (times in the site's zone)."""

    day: str  # YYYY-MM-DD
    time: str  # HH:MM:SS
    iso: str  # for <time datetime>
    door: str  # the room's name
    who: str | None  # None: an unknown card
    granted: bool
    reason: str | None
    by: str | None


def doors(ctx: ServerContext) -> dict[str, str]:
    """Every door of the site by id, named by the room it opens into."""
    names = {room.id: room.name for room in ctx.site.rooms}
    return {d.door: names.get(d.room, d.door) for d in ctx.site.door_devices() if d.door}


def read_form(ctx: ServerContext, form: Form) -> LogFilter:
    """The filter the form asks for; Invalid with a catalogue key when a field is not
    valid (a date, a time, an end before the start, a door, a result)."""
    zone = ZoneInfo(ctx.site.site.timezone)
    since, until = _time(form.since), _time(form.until)
    day = _day(form.day)
    if day is None and (since or until):
        day = ctx.clock().astimezone(zone).date()  # hours without a day: today's
    start = end = None
    if day is not None:
        try:
            start = local_start(day, zone, since or time(0))
            end = local_start(day, zone, until) if until else local_start(day + timedelta(1), zone)
        except (Invalid, OverflowError):
            raise Invalid("log.bad_day") from None
        if start >= end:
            raise Invalid("log.bad_span")
    if form.door and form.door not in doors(ctx):
        raise Invalid("log.bad_door")
    if form.result not in RESULTS:
        raise Invalid("log.bad_result")
    if len(form.who) > MAX_WHO:
        raise Invalid("log.bad_who")
    return LogFilter(
        start=start,
        end=end,
        door=form.door or None,
        name=form.who or None,
        granted=RESULTS[form.result],
        site=ctx.site.id,
    )


def _day(text: str) -> date | None:
    """`YYYY-MM-DD` (what a date field sends), or nothing."""
    if not text:
        return None
    try:
        if len(text) != 10:
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise Invalid("log.bad_day") from None


def _time(text: str) -> time | None:
    """`HH:MM` or `HH:MM:SS` (what a time field sends), or nothing."""
    if not text:
        return None
    try:
        if len(text) not in (5, 8):
            raise ValueError(text)
        return time.fromisoformat(text)
    except ValueError:
        raise Invalid("log.bad_time") from None


def lines(ctx: ServerContext, rows: list[LogRow], zone: ZoneInfo) -> list[Line]:
    """The rows as the table shows them."""
    named = doors(ctx)
    shown = []
    for row in rows:
        event = row.event
        local: datetime = event.received.astimezone(zone)
        granted, by = outcome(event)
        shown.append(
            Line(
                day=local.strftime("%Y-%m-%d"),
                time=local.strftime("%H:%M:%S"),
                iso=local.isoformat(timespec="seconds"),
                door=named.get(event.door_id or "", event.door_id or event.device_id),
                who=row.member_name,
                granted=granted,
                reason=event.reason,
                by=by,
            )
        )
    return shown


@router.get("/reception/access-log")
def access_log(request: Request, ctx: CtxDep, session: ReadSession) -> HTMLResponse:
    lang = page_lang(request, request.query_params.get("lang"))
    form = Form.of(request)
    zone = ZoneInfo(ctx.site.site.timezone)
    values = {"doors": doors(ctx), "page_id": "access-log", "zone": zone.key} | LIST
    template = "reception/accesslog.html"
    try:
        where, before = read_form(ctx, form), cursor(request)
    except Invalid as bad:
        return refuse(request, template, lang, form=form, bad=bad, **values)
    page = access_page(session, where, before=before, limit=PAGE)
    rows = lines(ctx, page.rows, zone)
    return show(
        request, template, lang, form=form, rows=rows, after=page.next, first=before is None,
        **values,
    )  # fmt: skip
