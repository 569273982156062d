"""The reception desk's utilisation report: for a chosen range of local days, per week and
room, booked, used, no-show, released and reused hours as tables (and the last three by
member category over the whole range), the same as a bar chart (SVG
drawn on the server, with its title, description and a text label on every bar), and the
link to the CSV download (`GET /api/reports/utilisation.csv`).

| route | what |
| --- | --- |
| `GET /reception/reports?from=&to=` | the report; without a range, the last four full weeks |"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response
from markupsafe import Markup

from server.dashboard.reception.desk import Desk, DeskDep
from server.deps import ReadSession, Staff
from server.errors import Invalid
from server.notify.texts import text
from server.reports import utilisation as reports
from server.reports.chart import utilisation_svg
from server.reports.outcome import outcome_of
from server.reports.weeks import default_range

router = APIRouter(prefix="/reception", include_in_schema=False, dependencies=[Staff])

Day = Annotated[str | None, Query(max_length=10)]


@dataclass(frozen=True)
class RoomLine:
    """One room's hours in one week, written as the reader writes numbers."""

    name: str
    booked: str
    used: str
    used_in_bookings: str
    no_show: str
    released: str
    reused: str


@dataclass(frozen=True)
class CategoryLine:
    """One member category's hours nobody came to, and what became of them, written as
    the reader writes numbers."""

    category: str
    no_show: str
    released: str
    reused: str


def _hours(value: float, lang: str) -> str:
    return f"{value:.2f}".replace(".", text(lang, "chart.decimal"))


def _line(room: reports.RoomWeek, lang: str) -> RoomLine:
    return RoomLine(
        name=room.name,
        booked=_hours(sum(room.booked.values()), lang),
        used=_hours(room.used_total, lang),
        used_in_bookings=_hours(sum(room.used_in_bookings.values()), lang),
        no_show=_hours(sum(room.no_show.values()), lang),
        released=_hours(sum(room.released.values()), lang),
        reused=_hours(sum(room.reused.values()), lang),
    )


def _categories(report: reports.Utilisation, lang: str) -> list[CategoryLine]:
    """The range's no-show, released and reused hours by the holder's category."""
    by_category = outcome_of(report).by_category
    return [
        CategoryLine(
            category=text(lang, f"category.{category}"),
            no_show=_hours(hours.no_show, lang),
            released=_hours(hours.released, lang),
            reused=_hours(hours.reused, lang),
        )
        for category, hours in by_category.items()
    ]


def _days(desk: Desk, first: str | None, last: str | None) -> tuple[date, date]:
    """The range asked for; the last four full weeks when neither day is given."""
    if not first and not last:
        return default_range(desk.today)
    try:
        return date.fromisoformat(first or ""), date.fromisoformat(last or "")
    except ValueError:
        raise Invalid("a report covers the days from `from` to `to`") from None


@router.get("/reports")
def report_page(
    desk: DeskDep,
    session: ReadSession,
    first: Annotated[Day, Query(alias="from")] = None,
    last: Annotated[Day, Query(alias="to")] = None,
) -> Response:
    """The utilisation report of a range of local days, as tables and a chart."""
    try:
        first_day, last_day = _days(desk, first, last)
        report = reports.load_utilisation(
            session,
            site=desk.ctx.site,
            first_day=first_day,
            last_day=last_day,
            now=desk.ctx.clock(),
        )
    except Invalid as exc:
        return desk.render(
            "reception/reports.html",
            status=exc.status,
            error=desk.explain(exc),
            first=first or "",
            last=last or "",
            weeks=[],
            categories=[],
            chart=None,
            csv=None,
        )
    svg = utilisation_svg(report, lang=desk.lang)  # type: ignore[arg-type]
    query = f"from={first_day.isoformat()}&to={last_day.isoformat()}"
    return desk.render(
        "reception/reports.html",
        error=None,
        first=first_day.isoformat(),
        last=last_day.isoformat(),
        weeks=[(w.week, [_line(r, desk.lang) for r in w.rooms]) for w in report.weeks],
        categories=_categories(report, desk.lang),
        # the SVG escapes every text it writes; the XML declaration stays out of HTML
        chart=Markup(svg.split("\n", 1)[1]),  # noqa: S704
        csv=f"/api/reports/utilisation.csv?{query}",
    )
