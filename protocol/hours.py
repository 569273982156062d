"""Opening hours and closures, as pure functions of plain values and an explicit time.

Hours are written per weekday in the site's wall-clock time, e.g.
`{"mon": ["08:00-21:00"], "sat": ["10:00-16:00"]}` ("24:00" ends a day at the next
midnight); a day that is not listed is closed. The site's hours, a room's bookable hours
and the daily closing at which people counts start again are all read here, so a door
decision, a booking and a report agree on what "open" means, across daylight-saving
changes too:

>>> warsaw = ZoneInfo("Europe/Warsaw")
>>> hours = {"mon": ["08:00-21:00"]}
>>> is_open(hours, [], warsaw, datetime(2026, 3, 23, 7, 0, tzinfo=UTC))  # 08:00 CET
True
>>> is_open(hours, [date(2026, 3, 23)], warsaw, datetime(2026, 3, 23, 7, 0, tzinfo=UTC))
False
>>> closing(hours, date(2026, 3, 30), warsaw)  # 21:00 CEST
datetime.datetime(2026, 3, 30, 19, 0, tzinfo=datetime.timezone.utc)
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_INTERVAL = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])-([01][0-9]|2[0-3]|24):([0-5][0-9])\Z")

Hours = Mapping[str, Sequence[str]]
Span = tuple[datetime, datetime]


def parse_interval(text: str) -> tuple[time, time | None]:
    """`"08:00-21:00"` as (start, end); an end of `"24:00"` is None (the next midnight).
    ValueError for anything else, or an interval that ends before it starts."""
    m = _INTERVAL.match(text)
    if not m or (m.group(3) == "24" and m.group(4) != "00"):
        raise ValueError(f"{text!r} is not an interval like 08:00-21:00")
    start = time(int(m.group(1)), int(m.group(2)))
    end = None if m.group(3) == "24" else time(int(m.group(3)), int(m.group(4)))
    if end is not None and end <= start:
        raise ValueError(f"{text!r} ends before it starts")
    return start, end


def check_hours(hours: Hours) -> None:
    """ValueError for an unknown weekday or an interval `parse_interval` refuses."""
    for day, intervals in hours.items():
        if day not in WEEKDAYS:
            raise ValueError(f"unknown weekday {day!r} (use {', '.join(WEEKDAYS)})")
        for interval in intervals:
            parse_interval(interval)


def _of_day(hours: Hours, day: date) -> Sequence[str]:
    return hours.get(WEEKDAYS[day.weekday()], ())


def open_at_wall_clock(hours: Hours, local: datetime) -> bool:
    """Whether a local (site time zone) wall-clock time is inside the hours; both passes
    through a repeated autumn hour count, and a skipped spring hour never happens."""
    t = local.time().replace(tzinfo=None)
    for interval in _of_day(hours, local.date()):
        start, end = parse_interval(interval)
        if start <= t and (end is None or t < end):
            return True
    return False


def is_open(hours: Hours, closed_dates: Collection[date], tz: ZoneInfo, at: datetime) -> bool:
    """Whether the site is open at the instant `at`: its local date is not a closed day,
    and its local wall-clock time is inside the hours."""
    local = at.astimezone(tz)
    return local.date() not in closed_dates and open_at_wall_clock(hours, local)


def day_spans(hours: Hours, day: date, tz: ZoneInfo) -> list[Span]:
    """The open intervals of one local day, as UTC instants, in the order written."""
    out = []
    for text in _of_day(hours, day):
        begin, finish = parse_interval(text)
        lo = datetime.combine(day, begin, tz)
        if finish is None:  # "24:00": the next local midnight
            hi = datetime.combine(day + timedelta(days=1), time(0), tz)
        else:
            hi = datetime.combine(day, finish, tz)
        out.append((lo.astimezone(UTC), hi.astimezone(UTC)))
    return out


def within_one_span(hours: Hours, tz: ZoneInfo, start: datetime, end: datetime) -> bool:
    """Whether [start, end) lies inside one open interval of the local day `start` is on."""
    day = start.astimezone(tz).date()
    return any(lo <= start and end <= hi for lo, hi in day_spans(hours, day, tz))


def closing(hours: Hours, day: date, tz: ZoneInfo) -> datetime | None:
    """When the site closes on the local `day` (UTC): the end of its last open interval;
    None for a day that is not open."""
    ends = [hi for _lo, hi in day_spans(hours, day, tz)]
    return max(ends) if ends else None
