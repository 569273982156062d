"""The utilisation report over HTTP, as JSON, CSV (for the funders' spreadsheets) and an SVG
bar chart (for the dashboard's `<img>`): parse the range, call `server.reports`, render.

`from` and `to` are local days of the site, both included; without them, the last four
full ISO weeks. 422 when `to` is before `from`, the range is over a year, or only one of
the two is given. Weeks at either end of the range are cut to it, so the weeks of one
report add up to exactly its days."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from server.context import ServerContext
from server.deps import CtxDep, ReadSession, Staff
from server.errors import Invalid
from server.reports import utilisation as reports
from server.reports.chart import utilisation_svg
from server.reports.weeks import default_range
from server.site import Language
from server.timefmt import ResponseTime

router = APIRouter(prefix="/api/reports", tags=["reports"], dependencies=[Staff])

FromDay = Annotated[date | None, Query(alias="from")]
ToDay = Annotated[date | None, Query(alias="to")]


def _range(ctx: ServerContext, first: date | None, last: date | None) -> tuple[date, date]:
    if first is None and last is None:
        today = ctx.clock().astimezone(ZoneInfo(ctx.site.site.timezone)).date()
        return default_range(today)
    if first is None or last is None:
        raise Invalid("give both `from` and `to`, or neither")
    return first, last


def _load(
    session: Session, ctx: ServerContext, first: date | None, last: date | None
) -> reports.Utilisation:
    first, last = _range(ctx, first, last)
    return reports.load_utilisation(
        session, site=ctx.site, first_day=first, last_day=last, now=ctx.clock()
    )


# --- JSON ---------------------------------------------------------------------------------


def _hours(value: float) -> float:
    return round(value, 2)


class CategoryHours(BaseModel):
    resident: float
    ngo: float
    business: float
    staff: float
    total: float

    @classmethod
    def of(cls, by_category: dict[str, float]) -> CategoryHours:
        fields = {c: _hours(by_category[c]) for c in reports.CATEGORIES}
        # The total is rounded from the exact sum, so it may differ from the sum of the
        # rounded categories by a hundredth.
        return cls.model_validate({**fields, "total": _hours(sum(by_category.values()))})


class UsedHours(BaseModel):
    total: float
    in_bookings: CategoryHours


class RoomHours(BaseModel):
    room_id: str
    name: str
    booked_hours: CategoryHours
    used_hours: UsedHours
    no_show_hours: CategoryHours
    released_hours: CategoryHours
    reused_hours: CategoryHours

    @classmethod
    def of(cls, room: reports.RoomWeek) -> RoomHours:
        return cls(
            room_id=room.room_id,
            name=room.name,
            booked_hours=CategoryHours.of(room.booked),
            used_hours=UsedHours(
                total=_hours(room.used_total),
                in_bookings=CategoryHours.of(room.used_in_bookings),
            ),
            no_show_hours=CategoryHours.of(room.no_show),
            released_hours=CategoryHours.of(room.released),
            reused_hours=CategoryHours.of(room.reused),
        )


class WeekOut(BaseModel):
    """`start`/`end`: the instants the (possibly cut) week spans; `first_day`/`last_day`:
    its local days, both included; `hours`: its length (167 or 169 across a DST change)."""

    week: str
    start: ResponseTime
    end: ResponseTime
    first_day: date
    last_day: date
    hours: float
    rooms: list[RoomHours]


class UtilisationOut(BaseModel):
    model_config = ConfigDict(serialize_by_alias=True)

    timezone: str
    from_: date = Field(serialization_alias="from")
    to: date
    weeks: list[WeekOut]

    @classmethod
    def of(cls, report: reports.Utilisation) -> UtilisationOut:
        return cls(
            timezone=report.timezone,
            from_=report.first_day,
            to=report.last_day,
            weeks=[
                WeekOut(
                    week=w.week.label,
                    start=w.week.start,
                    end=w.week.end,
                    first_day=w.week.first_day,
                    last_day=w.week.last_day,
                    hours=_hours(w.week.hours),
                    rooms=[RoomHours.of(r) for r in w.rooms],
                )
                for w in report.weeks
            ],
        )


@router.get("/utilisation")
def utilisation(
    session: ReadSession, ctx: CtxDep, first: FromDay = None, last: ToDay = None
) -> UtilisationOut:
    """Per week and bookable room: booked, used, no-show, released and reused hours by
    category."""
    return UtilisationOut.of(_load(session, ctx, first, last))


# --- CSV ----------------------------------------------------------------------------------

CSV_COLUMNS = (
    "week",
    "week_start",
    "room_id",
    "room_name",
    "category",
    "booked_hours",
    "used_hours_in_bookings",
    "no_show_hours",
    "released_hours",
    "reused_hours",
    "used_hours_room_total",
)


def _text_cell(value: str) -> str:
    """A spreadsheet would run text starting with one of these as a formula."""
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


def utilisation_csv(report: reports.Utilisation) -> bytes:
    """One row per week, room and category; UTF-8 with a byte-order mark."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for w in report.weeks:
        for room in w.rooms:
            for category in reports.CATEGORIES:
                writer.writerow(
                    (
                        w.week.label,
                        w.week.first_day.isoformat(),
                        room.room_id,
                        _text_cell(room.name),
                        category,
                        f"{room.booked[category]:.2f}",
                        f"{room.used_in_bookings[category]:.2f}",
                        f"{room.no_show[category]:.2f}",
                        f"{room.released[category]:.2f}",
                        f"{room.reused[category]:.2f}",
                        f"{room.used_total:.2f}",
                    )
                )
    # Excel opens a CSV file without a byte-order mark in the system's ANSI code page
    # (Windows-1250 on a Polish Windows), so UTF-8 "Wejście główne" shows as
    # "WejÅ›cie gÅ‚Ã³wne"; with the BOM it reads the file as UTF-8.
    return "\ufeff".encode() + out.getvalue().encode("utf-8")


@router.get("/utilisation.csv", response_class=Response)
def utilisation_csv_download(
    session: ReadSession, ctx: CtxDep, first: FromDay = None, last: ToDay = None
) -> Response:
    """The report as a CSV download, one row per week, room and category."""
    report = _load(session, ctx, first, last)
    name = f"utilisation-{report.first_day.isoformat()}-{report.last_day.isoformat()}.csv"
    return Response(
        utilisation_csv(report),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


# --- SVG ---------------------------------------------------------------------------------


@router.get("/utilisation.svg", response_class=Response)
def utilisation_chart(
    session: ReadSession,
    ctx: CtxDep,
    first: FromDay = None,
    last: ToDay = None,
    lang: Language | None = None,
) -> Response:
    """Booked, used and no-show hours per room over the range, as an SVG bar chart;
    labels in `lang` (default: the site's language)."""
    report = _load(session, ctx, first, last)
    body = utilisation_svg(report, lang=lang or ctx.site.site.language)
    return Response(body, media_type="image/svg+xml; charset=utf-8")
