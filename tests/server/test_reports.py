"""The utilisation report: its interval arithmetic, weeks in the site's time zone, occupancy
from sensor samples, and the JSON, CSV and SVG a funder's report is made from."""

from __future__ import annotations

import csv
import io
import itertools
import re
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from support.clock import Clock as FakeClock
from support.factories import booking_row, member

from server.api.reports import CSV_COLUMNS, utilisation_csv, utilisation_svg
from server.context import ServerContext
from server.db import models
from server.errors import Invalid
from server.reports.freed import nobody_came
from server.reports.intervals import clip, hours, intersect, union
from server.reports.occupied import CountSample, MotionSample, count_intervals, motion_intervals
from server.reports.outcome import load_outcome
from server.reports.utilisation import Span, room_week, utilisation
from server.reports.weeks import check_range, closing_times, default_range, weeks

Headers = dict[str, str]

WARSAW = ZoneInfo("Europe/Warsaw")
SVG = "{http://www.w3.org/2000/svg}"
MIN = timedelta(minutes=1)
QUARTER = timedelta(minutes=15)
_ids = itertools.count(1)


def at(day: int, hour: int, minute: int = 0, *, month: int = 3) -> datetime:
    """A wall-clock time in Warsaw in 2026, as UTC."""
    return datetime(2026, month, day, hour, minute, tzinfo=WARSAW).astimezone(UTC)


def u(hour: float) -> datetime:
    """An instant on 2 March 2026 UTC, `hour` hours after midnight."""
    return datetime(2026, 3, 2, tzinfo=UTC) + timedelta(hours=hour)


# --- interval arithmetic ------------------------------------------------------------------


def test_union_merges_overlapping_and_touching_and_drops_empty_intervals() -> None:
    got = union([(u(14), u(15)), (u(9), u(11)), (u(10), u(12)), (u(12), u(13)), (u(16), u(16))])
    assert got == [(u(9), u(13)), (u(14), u(15))]
    assert union([]) == []
    assert union([(u(9), u(12)), (u(10), u(11))]) == [(u(9), u(12))]  # one inside another


def test_intersect_keeps_what_both_cover() -> None:
    a = [(u(9), u(12)), (u(14), u(18))]
    b = [(u(11), u(15)), (u(17), u(20))]
    assert intersect(a, b) == [(u(11), u(12)), (u(14), u(15)), (u(17), u(18))]
    assert intersect(a, [(u(12), u(14))]) == []  # touching is not overlapping
    assert intersect(a, []) == []
    # overlapping inputs are merged first, so nothing is counted twice
    assert intersect([(u(9), u(11)), (u(10), u(12))], [(u(8), u(20))]) == [(u(9), u(12))]


def test_clip_cuts_intervals_to_a_window() -> None:
    intervals = [(u(6), u(9)), (u(10), u(11)), (u(23), u(26)), (u(30), u(31))]
    assert clip(intervals, u(8), u(24)) == [(u(8), u(9)), (u(10), u(11)), (u(23), u(24))]
    assert clip(intervals, u(12), u(20)) == []


def test_hours_sums_lengths() -> None:
    assert hours([(u(9), u(10.5)), (u(12), u(12.25))]) == 1.75
    assert hours([]) == 0
    # a plain sum: overlapping intervals count twice unless merged first
    assert hours([(u(9), u(11)), (u(10), u(12))]) == 4
    assert hours(union([(u(9), u(11)), (u(10), u(12))])) == 3


# --- weeks and ranges ---------------------------------------------------------------------


def test_weeks_are_iso_weeks_in_the_site_time_zone() -> None:
    (week,) = weeks(date(2026, 3, 2), date(2026, 3, 8), WARSAW)
    assert week.label == "2026-W10"
    assert (week.first_day, week.last_day) == (date(2026, 3, 2), date(2026, 3, 8))
    assert week.start == datetime(2026, 3, 1, 23, 0, tzinfo=UTC)  # Monday 00:00 CET
    assert week.end == datetime(2026, 3, 8, 23, 0, tzinfo=UTC)
    assert week.hours == 168


def test_daylight_saving_weeks_have_167_and_169_hours() -> None:
    (spring,) = weeks(date(2026, 3, 23), date(2026, 3, 29), WARSAW)  # clocks forward 29 March
    (autumn,) = weeks(date(2026, 10, 19), date(2026, 10, 25), WARSAW)  # back 25 October
    assert (spring.label, spring.hours) == ("2026-W13", 167)
    assert (autumn.label, autumn.hours) == ("2026-W43", 169)
    assert spring.end == datetime(2026, 3, 29, 22, 0, tzinfo=UTC)  # Monday 00:00 CEST


def test_weeks_are_cut_to_the_range_and_labelled_by_iso_year() -> None:
    got = weeks(date(2026, 12, 30), date(2027, 1, 5), WARSAW)
    assert [(w.label, w.first_day, w.last_day, w.hours) for w in got] == [
        ("2026-W53", date(2026, 12, 30), date(2027, 1, 3), 5 * 24),
        ("2027-W01", date(2027, 1, 4), date(2027, 1, 5), 2 * 24),
    ]


@pytest.mark.parametrize("today", [date(2026, 3, 2), date(2026, 3, 5), date(2026, 3, 8)])
def test_default_range_is_the_last_four_full_weeks(today: date) -> None:
    assert default_range(today) == (date(2026, 2, 2), date(2026, 3, 1))


def test_check_range_refuses_backwards_and_over_a_year() -> None:
    check_range(date(2028, 1, 1), date(2028, 12, 31))  # 366 days of a leap year
    check_range(date(2026, 3, 2), date(2026, 3, 2))  # a single day
    with pytest.raises(Invalid, match="before"):
        check_range(date(2026, 3, 2), date(2026, 3, 1))
    with pytest.raises(Invalid, match="366"):
        check_range(date(2026, 1, 1), date(2027, 1, 2))


def test_closing_times_follow_the_opening_hours() -> None:
    opening = {"mon": ["08:00-12:00", "13:00-21:00"], "sat": ["10:00-24:00"]}
    got = closing_times(opening, date(2026, 3, 2), date(2026, 3, 8), WARSAW)
    # Monday: the end of the last interval; Saturday: open until midnight; closed days: none
    assert got == [at(2, 21), at(8, 0)]
    # in summer time too
    assert closing_times(opening, date(2026, 6, 1), date(2026, 6, 1), WARSAW) == [
        datetime(2026, 6, 1, 19, 0, tzinfo=UTC)
    ]


# --- occupancy from samples ---------------------------------------------------------------


def test_motion_lasts_until_no_motion_plus_the_vacancy_timeout() -> None:
    samples = [
        MotionSample("pir", u(10), True),
        MotionSample("pir", u(11), False),  # seen from 10 to 11: occupied until 11:15
        MotionSample("pir", u(13), True),  # no `no_motion` follows: seen at 13:00 only
        MotionSample("pir", u(15), True),
        MotionSample("pir", u(15.1), False),
    ]
    assert motion_intervals(samples, vacancy_timeout=QUARTER) == [
        (u(10), u(11.25)),
        (u(13), u(13.25)),
        (u(15), u(15.1) + QUARTER),
    ]


def test_motion_of_two_sensors_in_one_room_is_merged_and_paired_per_sensor() -> None:
    samples = [
        MotionSample("pir-1", u(10), True),
        MotionSample("pir-2", u(10.3), True),  # 10:18, before pir-1's 10:21
        MotionSample("pir-1", u(10.1), False),  # given out of order
        MotionSample("pir-2", u(12), False),
    ]
    assert motion_intervals(samples, vacancy_timeout=QUARTER) == [(u(10), u(12.25))]


def test_a_lone_no_motion_marks_nothing() -> None:
    assert motion_intervals([MotionSample("pir", u(10), False)], vacancy_timeout=QUARTER) == []


def test_people_counts_mark_use_while_someone_is_in() -> None:
    samples = [
        CountSample(u(9), 2),
        CountSample(u(10), -1),
        CountSample(u(11), -1),  # empty at 11
        CountSample(u(12), -3),  # drift: never below zero
        CountSample(u(13), 1),  # so one person in from 13
        CountSample(u(14), 1),
    ]
    got = count_intervals(samples, resets=[u(20)], until=u(24))
    assert got == [(u(9), u(11)), (u(13), u(20))]  # the closing time resets the count


def test_people_still_in_at_the_end_count_until_then() -> None:
    assert count_intervals([CountSample(u(22), 1)], resets=[], until=u(24)) == [(u(22), u(24))]
    assert count_intervals([], resets=[u(20)], until=u(24)) == []


# --- one room's week, pure ----------------------------------------------------------------


def span(category: str, status: str, start: float, end: float, source: str = "api") -> Span:
    """A booking's span as the report reads it a day later; a released one was released
    by the sweep when its grace ended."""
    return Span.of(
        room_id="sala-a",
        category=category,
        status=status,
        source=source,
        start=u(start),
        end=u(end),
        released_at=u(start) + QUARTER if status == "released" else None,
        grace=QUARTER,
        now=u(48),
    )


def test_room_week_splits_hours_by_category() -> None:
    spans = [
        span("resident", "completed", 9, 11),
        span("business", "released", 12, 14),
        span("ngo", "checked_in", 12.5, 13.5, source="walk_in"),
        span("staff", "cancelled", 15, 16),
        span("ngo", "booked", 23, 26),  # runs past the window
    ]
    occupied = [(u(10), u(11.5)), (u(12.5), u(13)), (u(15), u(16))]
    got = room_week(
        room_id="sala-a", name="A", spans=spans, occupied=occupied, start=u(0), end=u(24)
    )
    assert got.booked == {"resident": 2, "ngo": 2, "business": 2, "staff": 0}
    assert got.used_total == 3.0
    assert got.used_in_bookings == {"resident": 1, "ngo": 0.5, "business": 0, "staff": 0}
    # nobody came from 12:15 (the grace's end) to 14:00; released then; the NGO's walk-in
    # used 12:30-13:30 of it again. The NGO's booking still `booked` after its grace (no
    # sweep released it) counts too, from 23:15, and nothing of it was released.
    assert got.no_show == {"resident": 0, "ngo": 0.75, "business": 1.75, "staff": 0}
    assert got.released == {"resident": 0, "ngo": 0, "business": 1.75, "staff": 0}
    assert got.reused == {"resident": 0, "ngo": 0, "business": 1, "staff": 0}


def test_a_walk_in_that_ended_early_counts_until_it_ended() -> None:
    walk_in = Span.of(
        room_id="sala-a",
        category="resident",
        status="completed",
        source="walk_in",
        start=u(10),
        end=u(13),
        completed_at=u(11),
    )
    assert walk_in.end == u(11)
    on_time = Span.of(
        room_id="sala-a",
        category="resident",
        status="completed",
        source="api",
        start=u(10),
        end=u(13),
        completed_at=u(13.01),
    )
    assert on_time.end == u(13)


# --- the report over HTTP -----------------------------------------------------------------


MEMBERS = {
    "resident": "Anna Kowalska",
    "ngo": "Fundacja Źródło",
    "business": "Firma Łąka sp. z o.o.",
    "staff": "Ola Recepcja",
}


def add_members(ctx: ServerContext) -> dict[str, int]:
    with ctx.writes() as s, s.begin():
        return {category: member(s, name, category).id for category, name in MEMBERS.items()}


def add_booking(
    ctx: ServerContext,
    member_id: int,
    start: datetime,
    end: datetime,
    *,
    room_id: str = "sala-a",
    status: str = "completed",
    source: str = "api",
) -> None:
    with ctx.writes() as s, s.begin():
        booking_row(
            s,
            member_id,
            start,
            end,
            room_id=room_id,
            status=status,
            source=source,
            created_at=start - timedelta(days=1),
            released_at=start + QUARTER if status == "released" else None,
            completed_at=end if status == "completed" else None,
        )


def add_motion(ctx: ServerContext, *events: tuple[datetime, bool], room_id: str = "sala-a") -> None:
    with ctx.writes() as s, s.begin():
        for ts, motion in events:
            s.add(
                models.DeviceEvent(
                    device_id=f"pir-{room_id}",
                    event_id=f"m{next(_ids)}",
                    room_id=room_id,
                    kind="motion",
                    event="motion" if motion else "no_motion",
                    ts=ts,
                    received=ts,
                )
            )


def add_count(
    ctx: ServerContext, ts: datetime, entered: int, left: int, room_id: str = "sala-b"
) -> None:
    with ctx.writes() as s, s.begin():
        s.add(
            models.DeviceEvent(
                device_id=f"counter-{room_id}",
                event_id=f"c{next(_ids)}",
                room_id=room_id,
                kind="count",
                event="count",
                entered=entered,
                left=left,
                ts=ts,
                received=ts,
            )
        )


@pytest.fixture
def a_month_later(clock: FakeClock) -> None:
    """The report is read on 1 April, after the weeks it covers (use is counted up to now)."""
    clock.now = datetime(2026, 4, 1, 12, tzinfo=UTC)


@pytest.fixture
def week_of_use(ctx: ServerContext, a_month_later: None) -> None:
    """Week 10 of 2026 (2-8 March, CET) in both bookable rooms, read a month later."""
    m = add_members(ctx)
    # Sala A: a resident's meeting on Monday, an NGO's workshop on Tuesday, a business
    # that never came on Wednesday (its slot partly taken again by a resident's walk-in)
    # and an NGO booking cancelled on Thursday.
    add_booking(ctx, m["resident"], at(2, 10), at(2, 12))
    add_booking(ctx, m["ngo"], at(3, 16), at(3, 19))
    add_booking(ctx, m["business"], at(4, 10), at(4, 12), status="released")
    add_booking(
        ctx, m["resident"], at(4, 10, 30), at(4, 11, 30), status="completed", source="walk_in"
    )
    add_booking(ctx, m["ngo"], at(5, 10), at(5, 12), status="cancelled")
    add_motion(ctx, (at(2, 10, 5), True), (at(2, 11), False))  # 10:05-11:15 in the booking
    add_motion(ctx, (at(3, 15, 30), True))  # 15:30-15:45, before the workshop
    add_motion(ctx, (at(3, 16), True), (at(3, 18), False))  # 16:00-18:15
    add_motion(ctx, (at(4, 10, 30), True), (at(4, 11), False))  # 10:30-11:15, the walk-in
    # Sala B: staff on Thursday morning, seen by the people counter only; and a staff
    # booking from Sunday 23:00 into the next week.
    add_booking(ctx, m["staff"], at(5, 9), at(5, 10), room_id="sala-b")
    add_booking(ctx, m["staff"], at(8, 23), at(9, 1), room_id="sala-b", status="booked")
    add_count(ctx, at(5, 9, 5), 3, 0)
    add_count(ctx, at(5, 9, 30), 0, 1)
    add_count(ctx, at(5, 9, 50), 0, 2)
    # Not reported: the coworking room is not bookable.
    add_motion(ctx, (at(2, 10), True), (at(2, 11), False), room_id="coworking")


def get_report(client: TestClient, admin: Headers, query: str) -> dict[str, Any]:
    response = client.get(f"/api/reports/utilisation?{query}", headers=admin)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def by_category(resident: float, ngo: float, business: float, staff: float) -> dict[str, float]:
    total = round(resident + ngo + business + staff, 2)
    return {"resident": resident, "ngo": ngo, "business": business, "staff": staff, "total": total}


@pytest.mark.usefixtures("week_of_use")
def test_a_week_of_use_as_json(client: TestClient, admin: Headers) -> None:
    report = get_report(client, admin, "from=2026-03-02&to=2026-03-08")
    assert report["timezone"] == "Europe/Warsaw"
    assert (report["from"], report["to"]) == ("2026-03-02", "2026-03-08")
    (week,) = report["weeks"]
    assert {k: v for k, v in week.items() if k != "rooms"} == {
        "week": "2026-W10",
        "start": "2026-03-01T23:00:00Z",
        "end": "2026-03-08T23:00:00Z",
        "first_day": "2026-03-02",
        "last_day": "2026-03-08",
        "hours": 168,
    }
    sala_a, sala_b = week["rooms"]
    assert sala_a == {
        "room_id": "sala-a",
        "name": "Sala warsztatowa A",
        # 2 h meeting + 1 h walk-in; the workshop; the no-show; nothing cancelled counts
        "booked_hours": by_category(3, 3, 2, 0),
        "used_hours": {
            # 70 + 15 + 135 + 45 minutes
            "total": 4.42,
            # the meeting's 70 minutes and the walk-in's 45; the workshop's 135
            "in_bookings": {**by_category(1.92, 2.25, 0, 0), "total": 4.17},
        },
        # the business's no-show from the end of its grace: released then, and the
        # walk-in's hour of it used again
        "no_show_hours": by_category(0, 0, 1.75, 0),
        "released_hours": by_category(0, 0, 1.75, 0),
        "reused_hours": by_category(0, 0, 1, 0),
    }
    assert sala_b == {
        "room_id": "sala-b",
        "name": "Sala konferencyjna B",
        "booked_hours": by_category(0, 0, 0, 2),  # 1 h + Sunday's last hour
        "used_hours": {"total": 0.75, "in_bookings": by_category(0, 0, 0, 0.75)},
        # Sunday's booking, still `booked` a month on: nobody came after 23:15, and no
        # sweep gave it back
        "no_show_hours": by_category(0, 0, 0, 0.75),
        "released_hours": by_category(0, 0, 0, 0),
        "reused_hours": by_category(0, 0, 0, 0),
    }


@pytest.mark.usefixtures("week_of_use")
def test_weeks_at_the_ends_of_a_range_are_cut_to_it(client: TestClient, admin: Headers) -> None:
    report = get_report(client, admin, "from=2026-03-04&to=2026-03-09")
    w10, w11 = report["weeks"]
    assert (w10["week"], w10["first_day"], w10["hours"]) == ("2026-W10", "2026-03-04", 120)
    assert (w11["week"], w11["last_day"], w11["hours"]) == ("2026-W11", "2026-03-09", 24)
    # Monday and Tuesday are outside: only the no-show and the walk-in remain in Sala A
    assert w10["rooms"][0]["booked_hours"] == by_category(1, 0, 2, 0)
    assert w10["rooms"][1]["booked_hours"]["staff"] == 2
    assert w11["rooms"][1]["booked_hours"]["staff"] == 1  # Monday 00:00-01:00


@pytest.mark.usefixtures("a_month_later")
def test_motion_across_the_range_edges_counts_inside_it(
    ctx: ServerContext, client: TestClient, admin: Headers
) -> None:
    add_motion(ctx, (at(1, 23, 50), True), (at(2, 0, 10), False))  # into Monday: until 00:25
    add_motion(ctx, (at(8, 23), True), (at(9, 2), False))  # ends after Sunday
    add_motion(ctx, (at(9, 3), True))  # after the range
    report = get_report(client, admin, "from=2026-03-02&to=2026-03-08")
    assert report["weeks"][0]["rooms"][0]["used_hours"]["total"] == round(25 / 60 + 1, 2)


def test_people_counted_before_the_range_are_in_at_its_start(
    ctx: ServerContext, client: TestClient, admin: Headers
) -> None:
    add_count(ctx, at(28, 15, month=2), 5, 0)  # Saturday; the 16:00 closing resets it
    add_count(ctx, at(1, 20), 2, 0)  # Sunday evening (closed: no reset)
    add_count(ctx, at(2, 0, 30), 0, 2)  # they leave after midnight
    report = get_report(client, admin, "from=2026-03-02&to=2026-03-08")
    assert report["weeks"][0]["rooms"][1]["used_hours"]["total"] == 0.5


def test_a_daylight_saving_week(ctx: ServerContext, client: TestClient, admin: Headers) -> None:
    m = add_members(ctx)
    # Sunday 29 March, 01:00-04:00 on the wall clock: two real hours (02:00-03:00 never was)
    add_booking(ctx, m["ngo"], at(29, 1), at(29, 4))
    report = get_report(client, admin, "from=2026-03-23&to=2026-03-29")
    (week,) = report["weeks"]
    assert (week["week"], week["hours"]) == ("2026-W13", 167)
    assert week["end"] == "2026-03-29T22:00:00Z"
    assert week["rooms"][0]["booked_hours"]["ngo"] == 2


def test_the_default_is_the_last_four_full_weeks(client: TestClient, admin: Headers) -> None:
    report = get_report(client, admin, "")  # the clock stands on Monday 2 March 2026
    assert (report["from"], report["to"]) == ("2026-02-02", "2026-03-01")
    assert [w["week"] for w in report["weeks"]] == [f"2026-W0{n}" for n in (6, 7, 8, 9)]
    assert all(w["hours"] == 168 for w in report["weeks"])
    assert [r["room_id"] for r in report["weeks"][0]["rooms"]] == ["sala-a", "sala-b"]


# --- CSV ----------------------------------------------------------------------------------


@pytest.mark.usefixtures("week_of_use")
def test_csv_download(client: TestClient, admin: Headers) -> None:
    response = client.get(
        "/api/reports/utilisation.csv?from=2026-03-02&to=2026-03-08", headers=admin
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == (
        'attachment; filename="utilisation-2026-03-02-2026-03-08.csv"'
    )
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert len(rows) == 1 + 1 * 2 * 4  # a week, two rooms, four categories
    table = {(r[2], r[4]): r for r in rows[1:]}
    assert table["sala-a", "business"] == [
        "2026-W10", "2026-03-02", "sala-a", "Sala warsztatowa A", "business",
        "2.00", "0.00", "1.75", "1.75", "1.00", "4.42",
    ]  # fmt: skip
    assert table["sala-a", "resident"][5:7] == ["3.00", "1.92"]
    assert table["sala-b", "staff"][5:] == ["2.00", "0.75", "0.75", "0.00", "0.00", "0.75"]
    assert response.content.endswith(b"\r\n")


def test_csv_keeps_polish_letters_and_defuses_formulas() -> None:
    report = utilisation(
        timezone="Europe/Warsaw",
        first_day=date(2026, 3, 2),
        last_day=date(2026, 3, 8),
        rooms=[("sala-c", "Sala ćwiczeń „Źródło”"), ("x", "=HYPERLINK(1)")],
        spans=[],
        occupied={},
    )
    body = utilisation_csv(report)
    assert body.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[1][3] == "Sala ćwiczeń „Źródło”"
    assert rows[5][3] == "'=HYPERLINK(1)"


# --- SVG ----------------------------------------------------------------------------------


@pytest.mark.usefixtures("week_of_use")
def test_svg_chart_is_well_formed_and_labelled(client: TestClient, admin: Headers) -> None:
    response = client.get(
        "/api/reports/utilisation.svg?from=2026-03-02&to=2026-03-08", headers=admin
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("image/svg+xml")
    root = ET.fromstring(response.content)
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    assert root[0].tag == f"{SVG}title"  # the first child, where readers look for it
    assert root[0].text == "Wykorzystanie sal 2026-03-02 – 2026-03-08"
    desc = root.find(f"{SVG}desc")
    assert desc is not None and desc.text is not None
    assert "Sala warsztatowa A: Zarezerwowane 8,00 h" in desc.text
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "Sala warsztatowa A" in texts
    assert "Sala konferencyjna B" in texts
    # every bar says what it is and how much, so colour is never the only key
    assert "Zarezerwowane: 8,00 h" in texts
    assert "Wykorzystane (czujniki): 4,42 h" in texts
    assert "Nieobecności: 1,75 h" in texts
    assert "Nieobecności: 0,75 h" in texts  # Sala B's Sunday booking
    fills = {r.get("fill") for r in root.iter(f"{SVG}rect")}
    assert {"url(#p-booked)", "url(#p-used)", "url(#p-no-show)"} <= fills


def test_svg_in_english_and_ukrainian(client: TestClient, admin: Headers) -> None:
    for lang, title, booked in [
        ("en", "Room utilisation", "Booked: 0.00 h"),
        ("uk", "Використання залів", "Заброньовано: 0,00 год"),
    ]:
        response = client.get(
            f"/api/reports/utilisation.svg?from=2026-03-02&to=2026-03-08&lang={lang}",
            headers=admin,
        )
        assert response.status_code == 200, response.text
        root = ET.fromstring(response.content)
        assert root.get("lang") == lang
        assert (root[0].text or "").startswith(title)
        assert booked in [t.text for t in root.iter(f"{SVG}text")]


def test_svg_escapes_room_names() -> None:
    report = utilisation(
        timezone="Europe/Warsaw",
        first_day=date(2026, 3, 2),
        last_day=date(2026, 3, 2),
        rooms=[("r", "Sala <A> & „B”")],
        spans=[],
        occupied={},
    )
    root = ET.fromstring(utilisation_svg(report, lang="pl").encode())
    assert "Sala <A> & „B”" in [t.text for t in root.iter(f"{SVG}text")]


# --- access and bad input -----------------------------------------------------------------

PATHS = ["/api/reports/utilisation", "/api/reports/utilisation.csv", "/api/reports/utilisation.svg"]


@pytest.mark.parametrize("path", PATHS)
def test_reports_need_a_token(client: TestClient, gateway: Headers, path: str) -> None:
    response = client.get(f"{path}?from=2026-03-02&to=2026-03-08")
    assert response.status_code == 401
    assert client.get(path, headers=gateway).status_code == 403


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(
    ("query", "why"),
    [
        ("from=2026-03-08&to=2026-03-02", "before"),
        ("from=2026-01-01&to=2027-01-02", "366"),
        ("from=2026-03-02", "both"),
        ("to=2026-03-02", "both"),
        ("from=2026-02-30&to=2026-03-02", "date"),
        ("from=yesterday&to=2026-03-02", "date"),
        ("from=0001-01-01&to=0001-01-02", "from"),
    ],
)
def test_bad_ranges_are_422(
    client: TestClient, admin: Headers, path: str, query: str, why: str
) -> None:
    response = client.get(f"{path}?{query}", headers=admin)
    assert response.status_code == 422, response.text
    assert why in response.text


def test_an_unknown_chart_language_is_422(client: TestClient, admin: Headers) -> None:
    response = client.get("/api/reports/utilisation.svg?lang=de", headers=admin)
    assert response.status_code == 422, response.text
    assert "lang" in response.text


# --- the report never counts the future (issue 10: 17 hours "used" three minutes in) --------


def test_a_room_occupied_since_three_minutes_ago_counts_three_minutes(
    ctx: ServerContext, client: TestClient, admin: Headers
) -> None:
    now = ctx.clock()  # Monday 2 March, 10:00 in Warsaw; the hub closes at 21:00
    add_count(ctx, now - 3 * MIN, 4, 0)  # four people came into Sala B and are still in
    report = get_report(client, admin, "from=2026-03-02&to=2026-03-02")
    assert report["weeks"][0]["rooms"][1]["used_hours"]["total"] == round(3 / 60, 2)


def test_motion_seen_a_minute_ago_counts_until_now_not_the_vacancy_timeout(
    ctx: ServerContext, client: TestClient, admin: Headers
) -> None:
    now = ctx.clock()
    m = add_members(ctx)
    add_booking(ctx, m["ngo"], now - 10 * MIN, now + timedelta(hours=2), status="checked_in")
    add_motion(ctx, (now - 10 * MIN, True), (now - MIN, False))
    (week,) = get_report(client, admin, "from=2026-03-02&to=2026-03-02")["weeks"]
    sala_a = week["rooms"][0]
    assert sala_a["used_hours"]["total"] == round(10 / 60, 2)
    assert sala_a["used_hours"]["in_bookings"]["ngo"] == round(10 / 60, 2)
    assert sala_a["booked_hours"]["ngo"] == round(130 / 60, 2)  # booked time is a plan: all


# --- what went back to the pool: the reception desk's page --------------------------------


@pytest.mark.usefixtures("week_of_use")
def test_the_report_page_shows_released_and_reused_hours(
    client: TestClient, admin: Headers
) -> None:
    page = client.get("/reception/reports?from=2026-03-02&to=2026-03-08&lang=en", headers=admin)
    assert page.status_code == 200, page.text
    week = page.text.split('id="week-2026-W10"')[1].split("</table>")[0]
    assert "Released to others (h)</th>" in week and "Used again (h)</th>" in week
    cells = r"Sala warsztatowa A</th>\s*" + r"\s*".join([r"<td[^>]*>([\d.]+)</td>"] * 6)
    found = re.search(cells, week)
    assert found is not None
    # booked, used, used in bookings, no-show, released, reused
    assert found.groups() == ("8.00", "4.42", "4.17", "1.75", "1.75", "1.00")
    categories = page.text.split('id="rep-categories"')[1].split("</table>")[0]
    business = re.search(
        r"Business</th>\s*" + r"\s*".join([r"<td[^>]*>([\d.]+)</td>"] * 3), categories
    )
    assert business is not None and business.groups() == ("1.75", "1.75", "1.00")


# --- the hours nobody came to: the rule, and the outcome summed from the database ---------


@pytest.mark.parametrize(
    ("status", "released_at", "now", "expected"),
    [
        # released by the sweep at its grace's end: all of it back to the pool
        ("released", 10.25, 13, ((10.25, 12), (10.25, 12))),
        # released late (a sweep that did not run for a while): back from then only
        ("released", 11, 13, ((10.25, 12), (11, 12))),
        # released by staff before it began (the holder called): counted from the grace
        ("released", 9, 13, ((10.25, 12), (10.25, 12))),
        # still booked after its grace: nobody came, and nothing went back
        ("booked", None, 13, ((10.25, 12), None)),
        # still inside its grace: its holder may come yet
        ("booked", None, 10.1, (None, None)),
        ("completed", None, 13, (None, None)),
        ("checked_in", None, 11, (None, None)),
        ("cancelled", None, 13, (None, None)),
    ],
)
def test_nobody_came_counts_from_the_end_of_the_grace(
    status: str, released_at: float | None, now: float, expected: tuple
) -> None:
    got = nobody_came(
        status=status,
        start=u(10),
        end=u(12),
        released_at=None if released_at is None else u(released_at),
        grace=QUARTER,
        now=u(now),
    )
    as_hours = tuple(None if i is None else (u(i[0]), u(i[1])) for i in expected)
    assert got == as_hours


def test_a_booking_shorter_than_its_grace_has_no_no_show_hours() -> None:
    got = nobody_came(
        status="released", start=u(10), end=u(10.2), released_at=u(10.2), grace=QUARTER, now=u(11)
    )
    assert got == (None, None)


@pytest.mark.usefixtures("week_of_use")
def test_the_outcome_sums_the_report(ctx: ServerContext, clock: FakeClock) -> None:
    with ctx.reads() as s:
        got = load_outcome(
            s, site=ctx.site, first_day=date(2026, 3, 2), last_day=date(2026, 3, 8), now=clock.now
        )
    # the business's 10:15-12:00 released, 1 h of it walked into; the staff's Sunday
    # booking still `booked` 23:15-24:00 in the week, never released
    assert got.total.no_show == pytest.approx(2.5)
    assert got.total.released == pytest.approx(1.75)
    assert got.total.reused == pytest.approx(1.0)
    assert got.total.released_share == pytest.approx(0.7)
    assert got.total.reused_share == pytest.approx(1 / 1.75)
    assert got.by_category["business"].released_share == pytest.approx(1.0)
    assert got.by_category["staff"].released_share == 0.0
    assert got.by_category["resident"].reused_share == 0.0  # nothing released: no share
    assert got.by_room["sala-a"].reused == pytest.approx(1.0)
