"""Weeks and days in the site's time zone: the ISO weeks a report covers, the range it may
cover, and the daily closing times at which people counts start again from zero."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from protocol.hours import closing
from server.errors import Invalid
from server.reports.intervals import hours

# The longest range one report covers, in days (a leap year).
MAX_DAYS = 366
# Days a report may start and end on: far enough from datetime's limits that a local day
# and the days around it always convert to UTC.
FIRST_DAY, LAST_DAY = date(1971, 1, 1), date(9998, 12, 31)


@dataclass(frozen=True)
class Week:
    """An ISO week, or the part of one that a report's range covers."""

    label: str  # "2026-W10"
    first_day: date  # local days, both included
    last_day: date
    start: datetime  # UTC: local midnight of `first_day`
    end: datetime  # UTC: local midnight after `last_day`

    @property
    def hours(self) -> float:
        """168 for a whole week; 167 or 169 in a week of a daylight-saving change."""
        return hours([(self.start, self.end)])


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    """The UTC instant at which the local `day` begins."""
    return datetime.combine(day, time(0), tz).astimezone(UTC)


def weeks(first_day: date, last_day: date, tz: ZoneInfo) -> list[Week]:
    """The ISO weeks that `[first_day, last_day]` touches, each cut to the range."""
    out: list[Week] = []
    monday = first_day - timedelta(days=first_day.weekday())
    while monday <= last_day:
        lo, hi = max(monday, first_day), min(monday + timedelta(days=6), last_day)
        year, number, _ = monday.isocalendar()
        out.append(
            Week(
                label=f"{year}-W{number:02d}",
                first_day=lo,
                last_day=hi,
                start=local_midnight(lo, tz),
                end=local_midnight(hi + timedelta(days=1), tz),
            )
        )
        monday += timedelta(days=7)
    return out


def default_range(today: date) -> tuple[date, date]:
    """The last four full ISO weeks before the week of `today`."""
    monday = today - timedelta(days=today.weekday())
    return monday - timedelta(weeks=4), monday - timedelta(days=1)


def check_range(first_day: date, last_day: date) -> None:
    """Invalid (422) unless `first_day <= last_day` and the range is at most a year."""
    if last_day < first_day:
        raise Invalid("`to` is before `from`")
    if (last_day - first_day).days + 1 > MAX_DAYS:
        raise Invalid(f"a report covers at most {MAX_DAYS} days")
    if first_day < FIRST_DAY or last_day > LAST_DAY:
        raise Invalid(f"a report covers days from {FIRST_DAY} to {LAST_DAY}")


def closing_times(
    opening: Mapping[str, Sequence[str]], first_day: date, last_day: date, tz: ZoneInfo
) -> list[datetime]:
    """When the site closes on the days of `[first_day, last_day]` (UTC): the end of each
    open day's last opening interval; a closed day has none. The people counts start again
    from zero then, because beam counters drift (as `server.occupancy.live` does live)."""
    days = (first_day + timedelta(days=n) for n in range((last_day - first_day).days + 1))
    return [c for day in days if (c := closing(opening, day, tz)) is not None]
