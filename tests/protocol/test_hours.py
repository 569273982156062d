"""protocol.hours: opening hours and closures at explicit instants, across Europe/Warsaw's
daylight-saving changes (02:00 CET -> 03:00 CEST on Sunday 2026-03-29, 03:00 CEST ->
02:00 CET on Sunday 2026-10-25)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from protocol.hours import (
    check_hours,
    closing,
    day_spans,
    is_open,
    open_at_wall_clock,
    parse_interval,
    within_one_span,
)

WARSAW = ZoneInfo("Europe/Warsaw")
WEEK = {d: ["08:00-21:00"] for d in ("mon", "tue", "wed", "thu", "fri")} | {"sat": ["10:00-16:00"]}
EVERY_DAY = {d: ["00:00-24:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
SPRING, AUTUMN = date(2026, 3, 29), date(2026, 10, 25)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# -- parsing ---------------------------------------------------------------------------------


def test_an_interval_is_two_wall_clock_times_and_24_00_is_the_next_midnight() -> None:
    assert parse_interval("08:00-21:30") == (time(8), time(21, 30))
    assert parse_interval("00:00-24:00") == (time(0), None)


@pytest.mark.parametrize(
    "text", ["8:00-21:00", "08:00-24:30", "21:00-08:00", "10:00-10:00", "08:00-25:00", "x"]
)
def test_a_bad_interval_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"08:00-21:00|ends before it starts"):
        parse_interval(text)


def test_hours_name_known_weekdays_only() -> None:
    check_hours(WEEK)
    with pytest.raises(ValueError, match="unknown weekday 'monday'"):
        check_hours({"monday": ["08:00-21:00"]})
    with pytest.raises(ValueError, match="not an interval"):
        check_hours({"mon": ["8-21"]})


# -- open or closed --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (utc(2026, 3, 27, 6, 59), False),  # Fri 07:59 CET
        (utc(2026, 3, 27, 7, 0), True),  # Fri 08:00 CET
        (utc(2026, 3, 27, 19, 59), True),  # Fri 20:59 CET
        (utc(2026, 3, 27, 20, 0), False),  # Fri 21:00 CET: the end is not inside
        (utc(2026, 3, 29, 10, 0), False),  # Sunday: not listed, closed
        (utc(2026, 3, 30, 6, 0), True),  # Mon 08:00 CEST: an hour earlier in UTC
        (utc(2026, 3, 30, 5, 59), False),  # Mon 07:59 CEST
        (utc(2026, 3, 30, 19, 0), False),  # Mon 21:00 CEST
        (utc(2026, 10, 24, 8, 0), True),  # Sat 10:00 CEST
        (utc(2026, 10, 24, 14, 0), False),  # Sat 16:00 CEST
        (utc(2026, 10, 26, 6, 0), False),  # Mon 07:00 CET (08:00 the week before)
        (utc(2026, 10, 26, 7, 0), True),  # Mon 08:00 CET
    ],
)
def test_is_open_reads_the_site_wall_clock(at: datetime, expected: bool) -> None:
    assert is_open(WEEK, [], WARSAW, at) is expected


def test_a_closed_date_closes_its_whole_local_day() -> None:
    holiday = date(2026, 11, 11)
    assert is_open(EVERY_DAY, [holiday], WARSAW, utc(2026, 11, 10, 22, 59))  # 23:59 the 10th
    assert not is_open(EVERY_DAY, [holiday], WARSAW, utc(2026, 11, 10, 23, 0))  # 00:00 the 11th
    assert not is_open(EVERY_DAY, [holiday], WARSAW, utc(2026, 11, 11, 22, 59))
    assert is_open(EVERY_DAY, [holiday], WARSAW, utc(2026, 11, 11, 23, 0))  # 00:00 the 12th
    # A closed date on a change day is a local day of 23 hours.
    assert not is_open(EVERY_DAY, [SPRING], WARSAW, utc(2026, 3, 28, 23, 0))  # 00:00 CET
    assert not is_open(EVERY_DAY, [SPRING], WARSAW, utc(2026, 3, 29, 21, 59))  # 23:59 CEST
    assert is_open(EVERY_DAY, [SPRING], WARSAW, utc(2026, 3, 29, 22, 0))


def test_both_passes_through_the_repeated_autumn_hour_are_open() -> None:
    hours = {"sun": ["02:00-03:00"]}
    first = utc(2026, 10, 25, 0, 30).astimezone(WARSAW)  # 02:30 CEST
    second = utc(2026, 10, 25, 1, 30).astimezone(WARSAW)  # 02:30 CET
    assert (first.fold, second.fold) == (0, 1)
    assert open_at_wall_clock(hours, first) and open_at_wall_clock(hours, second)
    assert not is_open(hours, [], WARSAW, utc(2026, 10, 25, 2, 0))  # 03:00 CET


# -- a day's intervals and its closing -------------------------------------------------------


def test_day_spans_are_utc_instants_that_follow_the_offset() -> None:
    assert day_spans(WEEK, date(2026, 3, 27), WARSAW) == [
        (utc(2026, 3, 27, 7), utc(2026, 3, 27, 20))
    ]
    assert day_spans(WEEK, date(2026, 3, 30), WARSAW) == [
        (utc(2026, 3, 30, 6), utc(2026, 3, 30, 19))
    ]
    assert day_spans(WEEK, SPRING, WARSAW) == []


def test_a_whole_change_day_lasts_23_or_25_real_hours() -> None:
    [(lo, hi)] = day_spans(EVERY_DAY, SPRING, WARSAW)
    assert (lo, hi - lo) == (utc(2026, 3, 28, 23), timedelta(hours=23))
    [(lo, hi)] = day_spans(EVERY_DAY, AUTUMN, WARSAW)
    assert (lo, hi - lo) == (utc(2026, 10, 24, 22), timedelta(hours=25))


def test_an_interval_across_the_spring_gap_is_one_real_hour_shorter() -> None:
    [(lo, hi)] = day_spans({"sun": ["01:00-04:00"]}, SPRING, WARSAW)
    assert (lo, hi) == (utc(2026, 3, 29, 0), utc(2026, 3, 29, 2))


def test_closing_is_the_end_of_the_last_interval_or_none() -> None:
    split = {"mon": ["08:00-12:00", "18:00-22:00"], "tue": ["20:00-24:00", "08:00-10:00"]}
    assert closing(split, date(2026, 3, 2), WARSAW) == utc(2026, 3, 2, 21)  # 22:00 CET
    assert closing(split, date(2026, 3, 3), WARSAW) == utc(2026, 3, 3, 23)  # midnight CET
    assert closing(split, date(2026, 3, 4), WARSAW) is None
    assert closing(WEEK, date(2026, 3, 27), WARSAW) == utc(2026, 3, 27, 20)  # 21:00 CET
    assert closing(WEEK, date(2026, 3, 30), WARSAW) == utc(2026, 3, 30, 19)  # 21:00 CEST
    assert closing(EVERY_DAY, AUTUMN, WARSAW) == utc(2026, 10, 25, 23)  # midnight CET


def test_within_one_span_needs_the_whole_booking_inside_one_interval() -> None:
    hours = {"mon": ["08:00-12:00", "12:00-16:00"]}
    day = date(2026, 3, 30)  # CEST

    def inside(start: int, end: int) -> bool:
        lo = datetime.combine(day, time(start), WARSAW)
        hi = datetime.combine(day, time(end), WARSAW)
        return within_one_span(hours, WARSAW, lo, hi)

    assert inside(8, 12) and inside(12, 16) and inside(9, 10)
    assert not inside(11, 13)  # across two intervals
    assert not inside(7, 9) and not inside(15, 17)
