"""Opening hours, closed dates and booking windows across daylight-saving changes.

Europe/Warsaw goes from 02:00 CET (UTC+1) to 03:00 CEST (UTC+2) on Sunday 2026-03-29 and
back from 03:00 CEST to 02:00 CET on Sunday 2026-10-25. Opening hours are wall-clock times
of the site (Mon-Fri 08:00-21:00, Sat 10:00-16:00), so their UTC instants move by an hour
across a change; bookings, grace, early entry and walk-in are stored and counted in UTC,
so they last their real length however the wall clock jumps.

Every `now` is written in UTC (as the server's clock gives it) with its Warsaw time beside.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from protocol.cards import card_hash
from protocol.decide import Outcome, decide
from protocol.messages import Reason
from protocol.policy import PolicySnapshot, WeeklyHours

KEY = b"test-dst-key"
WARSAW = ZoneInfo("Europe/Warsaw")

STAFF, COWORKER, H24, HOLDER, RESIDENT = 1, 2, 3, 4, 5
CATEGORY = {STAFF: "staff", COWORKER: "business", H24: "ngo", HOLDER: "business",
            RESIDENT: "resident"}  # fmt: skip
MAIN, SALA_A, COWORK = "reader-main", "reader-sala-a", "reader-cowork"
ALL_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def snapshot_data(bookings: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    membership = {"valid_from": utc(2026, 1, 1), "valid_until": utc(2027, 1, 1)}
    return {
        "site": "piaseczno",
        "generated_at": utc(2026, 1, 1),
        "timezone": "Europe/Warsaw",
        "opening_hours": {
            "days": {d: ["08:00-21:00"] for d in ("mon", "tue", "wed", "thu", "fri")}
            | {"sat": ["10:00-16:00"]}
        },
        "doors": {
            MAIN: {"id": "main", "room": "main", "kind": "entrance"},
            SALA_A: {"id": "sala-a", "room": "sala-a", "kind": "room"},
            COWORK: {"id": "coworking", "room": "coworking", "kind": "room"},
        },
        "members": {m: {"category": c} for m, c in CATEGORY.items()},
        "cards": {card_hash(KEY, f"04{m:06X}"): {"member_id": m} for m in CATEGORY},
        "plans": {
            "coworking": {"doors": ["main", "coworking"], "hours": "opening"},
            "coworking-24h": {"doors": ["main", "coworking"], "hours": "always"},
        },
        "memberships": {
            COWORKER: [{"plan": "coworking", **membership}],
            H24: [{"plan": "coworking-24h", **membership}],
        },
        "rooms": {
            "main": {"kind": "entrance"},
            "sala-a": {"kind": "meeting", "bookable": True},
            "coworking": {"kind": "coworking"},
        },
        "bookings": bookings or [],
        "rules": {
            "early_entry_s": 900,
            "no_show_grace_s": 900,
            "walk_in_categories": ["resident", "ngo", "staff"],
            "walk_in_max_s": 3 * 3600,
        },
    }


def build(**changes: Any) -> PolicySnapshot:
    data = snapshot_data()
    data.update(changes)
    return PolicySnapshot.model_validate(data)


def tap(snapshot: PolicySnapshot, device: str, member: int, now: datetime) -> Outcome:
    return decide(snapshot, device, card_hash(KEY, f"04{member:06X}"), now)


def coworker(snapshot: PolicySnapshot, now: datetime, device: str = MAIN) -> Reason:
    return tap(snapshot, device, COWORKER, now).reason


OPEN, CLOSED = Reason.MEMBERSHIP, Reason.OUTSIDE_HOURS


# -- the premises ------------------------------------------------------------------------------


def test_warsaw_changes_clocks_on_the_days_the_tests_assume() -> None:
    def offset(*args: int) -> timedelta:
        return utc(*args).astimezone(WARSAW).utcoffset()  # type: ignore[return-value]

    assert offset(2026, 3, 29, 0, 59) == timedelta(hours=1)  # 01:59 CET
    assert offset(2026, 3, 29, 1, 0) == timedelta(hours=2)  # 03:00 CEST
    assert offset(2026, 10, 25, 0, 59) == timedelta(hours=2)  # 02:59 CEST
    assert offset(2026, 10, 25, 1, 0) == timedelta(hours=1)  # 02:00 CET, again
    assert [date(2026, 3, d).strftime("%a") for d in (23, 28, 29, 30)] == [
        "Mon", "Sat", "Sun", "Mon"]  # fmt: skip
    assert [date(2026, 10, d).strftime("%a") for d in (23, 24, 25, 26)] == [
        "Fri", "Sat", "Sun", "Mon"]  # fmt: skip


# -- opening hours around the spring change --------------------------------------------------------

SPRING = [
    # (what, now UTC, reason) -- Monday before (CET), Saturday before, Monday after (CEST)
    ("Mon 03-23 07:59 CET", utc(2026, 3, 23, 6, 59), CLOSED),
    ("Mon 03-23 08:00 CET", utc(2026, 3, 23, 7, 0), OPEN),
    ("Mon 03-23 20:59 CET", utc(2026, 3, 23, 19, 59), OPEN),
    ("Mon 03-23 21:00 CET", utc(2026, 3, 23, 20, 0), CLOSED),
    ("Sat 03-28 09:59 CET", utc(2026, 3, 28, 8, 59), CLOSED),
    ("Sat 03-28 10:00 CET", utc(2026, 3, 28, 9, 0), OPEN),
    ("Sat 03-28 15:59 CET", utc(2026, 3, 28, 14, 59), OPEN),
    ("Sat 03-28 16:00 CET", utc(2026, 3, 28, 15, 0), CLOSED),
    ("Sun 03-29 12:00 CEST", utc(2026, 3, 29, 10, 0), CLOSED),
    ("Mon 03-30 07:59 CEST", utc(2026, 3, 30, 5, 59), CLOSED),
    ("Mon 03-30 08:00 CEST", utc(2026, 3, 30, 6, 0), OPEN),
    ("Mon 03-30 08:59 CEST (07:00Z, opening on the 23rd)", utc(2026, 3, 30, 6, 59), OPEN),
    ("Mon 03-30 20:59 CEST", utc(2026, 3, 30, 18, 59), OPEN),
    ("Mon 03-30 21:00 CEST", utc(2026, 3, 30, 19, 0), CLOSED),
    ("Mon 03-30 21:59 CEST (20:59Z, open on the 23rd)", utc(2026, 3, 30, 19, 59), CLOSED),
]

AUTUMN = [
    ("Fri 10-23 07:59 CEST", utc(2026, 10, 23, 5, 59), CLOSED),
    ("Fri 10-23 08:00 CEST", utc(2026, 10, 23, 6, 0), OPEN),
    ("Fri 10-23 20:59 CEST", utc(2026, 10, 23, 18, 59), OPEN),
    ("Fri 10-23 21:00 CEST", utc(2026, 10, 23, 19, 0), CLOSED),
    ("Sat 10-24 09:59 CEST", utc(2026, 10, 24, 7, 59), CLOSED),
    ("Sat 10-24 10:00 CEST", utc(2026, 10, 24, 8, 0), OPEN),
    ("Sat 10-24 15:59 CEST", utc(2026, 10, 24, 13, 59), OPEN),
    ("Sat 10-24 16:00 CEST", utc(2026, 10, 24, 14, 0), CLOSED),
    ("Sun 10-25 12:00 CET", utc(2026, 10, 25, 11, 0), CLOSED),
    ("Mon 10-26 07:00 CET (06:00Z, opening on the 23rd)", utc(2026, 10, 26, 6, 0), CLOSED),
    ("Mon 10-26 07:59 CET", utc(2026, 10, 26, 6, 59), CLOSED),
    ("Mon 10-26 08:00 CET", utc(2026, 10, 26, 7, 0), OPEN),
    ("Mon 10-26 20:00 CET (19:00Z, closing on the 23rd)", utc(2026, 10, 26, 19, 0), OPEN),
    ("Mon 10-26 20:59 CET", utc(2026, 10, 26, 19, 59), OPEN),
    ("Mon 10-26 21:00 CET", utc(2026, 10, 26, 20, 0), CLOSED),
]


@pytest.mark.parametrize(("now", "reason"), [c[1:] for c in SPRING], ids=[c[0] for c in SPRING])
def test_opening_hours_around_the_spring_change(now: datetime, reason: Reason) -> None:
    snapshot = build()
    assert coworker(snapshot, now) == reason
    assert coworker(snapshot, now, COWORK) == reason
    assert snapshot.is_open(now) == (reason == OPEN)


@pytest.mark.parametrize(("now", "reason"), [c[1:] for c in AUTUMN], ids=[c[0] for c in AUTUMN])
def test_opening_hours_around_the_autumn_change(now: datetime, reason: Reason) -> None:
    snapshot = build()
    assert coworker(snapshot, now) == reason
    assert coworker(snapshot, now, COWORK) == reason
    assert snapshot.is_open(now) == (reason == OPEN)


@pytest.mark.parametrize("day", [date(2026, 3, 29), date(2026, 10, 25)], ids=str)
def test_the_change_days_are_sundays_closed_all_day(day: date) -> None:
    snapshot = build()
    start = utc(day.year, day.month, day.day) - timedelta(hours=2)  # local midnight or so
    for minutes in range(0, 28 * 60, 10):
        now = start + timedelta(minutes=minutes)
        if now.astimezone(WARSAW).date() != day:
            continue
        assert coworker(snapshot, now) == CLOSED, now
        # A 24-hour plan and staff do not look at opening hours.
        assert tap(snapshot, MAIN, H24, now).reason == Reason.MEMBERSHIP
        assert tap(snapshot, MAIN, STAFF, now).reason == Reason.STAFF


def _open_minutes(snapshot: PolicySnapshot, day: date) -> int:
    """Real minutes of `day` (Warsaw) in which the coworker is let in."""
    start = utc(day.year, day.month, day.day) - timedelta(hours=3)
    count = 0
    for minutes in range(30 * 60):
        now = start + timedelta(minutes=minutes)
        if now.astimezone(WARSAW).date() == day and coworker(snapshot, now) == OPEN:
            count += 1
    return count


def test_hours_are_wall_clock_on_the_change_days() -> None:
    # Sunday hours across the change: the wall clock decides, so 01:00-04:00 lasts two real
    # hours in spring and four in autumn; 02:00-03:00 never happens in spring (the clock
    # jumps over it) and happens twice in autumn.
    across = build(opening_hours={"days": {"sun": ["01:00-04:00"]}})
    assert _open_minutes(across, date(2026, 3, 29)) == 120
    assert _open_minutes(across, date(2026, 10, 25)) == 240
    gap = build(opening_hours={"days": {"sun": ["02:00-03:00"]}})
    assert _open_minutes(gap, date(2026, 3, 29)) == 0
    assert _open_minutes(gap, date(2026, 10, 25)) == 120
    assert coworker(gap, utc(2026, 10, 25, 0, 30)) == OPEN  # 02:30 CEST
    assert coworker(gap, utc(2026, 10, 25, 1, 30)) == OPEN  # 02:30 CET, the second time
    assert coworker(gap, utc(2026, 10, 25, 2, 0)) == CLOSED  # 03:00 CET
    # A whole day open is 23 real hours in spring and 25 in autumn.
    every_day = build(opening_hours={"days": {d: ["00:00-24:00"] for d in ALL_DAYS}})
    assert _open_minutes(every_day, date(2026, 3, 29)) == 23 * 60
    assert _open_minutes(every_day, date(2026, 10, 25)) == 25 * 60
    assert _open_minutes(every_day, date(2026, 3, 30)) == 24 * 60


def test_weekly_hours_read_the_wall_clock_whatever_the_fold() -> None:
    hours = WeeklyHours(days={"sun": ["02:00-03:00"]})
    first = utc(2026, 10, 25, 0, 30).astimezone(WARSAW)
    second = utc(2026, 10, 25, 1, 30).astimezone(WARSAW)
    assert (first.fold, second.fold) == (0, 1)
    assert hours.is_open(first) and hours.is_open(second)


# -- booking windows across the spring change ------------------------------------------------------


def booking(
    id: int, start: datetime, end: datetime, status: str = "booked", member: int = HOLDER
) -> dict[str, Any]:
    return {"id": id, "room": "sala-a", "member_id": member, "start": start, "end": end,
            "status": status}  # fmt: skip


def with_bookings(*bookings: dict[str, Any]) -> PolicySnapshot:
    return PolicySnapshot.model_validate(snapshot_data(list(bookings)))


def local(*args: int, fold: int = 0) -> datetime:
    return datetime(*args, tzinfo=WARSAW, fold=fold).astimezone(UTC)


# 01:30 CET -> 03:30 CEST on 2026-03-29: one real hour, though the wall clock shows two.
SPRING_START, SPRING_END = local(2026, 3, 29, 1, 30), local(2026, 3, 29, 3, 30)


def test_spring_booking_is_one_real_hour() -> None:
    assert utc(2026, 3, 29, 0, 30) == SPRING_START
    assert utc(2026, 3, 29, 1, 30) == SPRING_END


def test_spring_booking_check_in_window_is_real_time() -> None:
    snapshot = with_bookings(booking(1, SPRING_START, SPRING_END))
    # Early entry from 01:15 CET (00:15Z), grace until 01:45 CET (00:45Z).
    assert tap(snapshot, SALA_A, HOLDER, utc(2026, 3, 29, 0, 14)).reason == Reason.NO_MEMBERSHIP
    for now in (utc(2026, 3, 29, 0, 15), utc(2026, 3, 29, 0, 30), utc(2026, 3, 29, 0, 44, 59)):
        outcome = tap(snapshot, SALA_A, HOLDER, now)
        assert (outcome.reason, outcome.effect, outcome.booking_id) == (
            Reason.BOOKING, "check_in", 1)  # fmt: skip
    # 01:45 CET: a no-show now, whatever the wall clock does next.
    for now in (utc(2026, 3, 29, 0, 45), utc(2026, 3, 29, 1, 0), utc(2026, 3, 29, 1, 29)):
        assert tap(snapshot, SALA_A, HOLDER, now).reason == Reason.BOOKING_RELEASED
        assert tap(snapshot, MAIN, HOLDER, now).reason == Reason.BOOKING_RELEASED


def test_spring_checked_in_holder_is_admitted_across_the_gap() -> None:
    snapshot = with_bookings(booking(1, SPRING_START, SPRING_END, status="checked_in"))
    for now, wall in [
        (utc(2026, 3, 29, 0, 59), "01:59 CET"),
        (utc(2026, 3, 29, 1, 0), "03:00 CEST"),
        (utc(2026, 3, 29, 1, 29), "03:29 CEST"),
    ]:
        for device in (SALA_A, MAIN):
            outcome = tap(snapshot, device, HOLDER, now)
            assert (outcome.reason, outcome.effect) == (Reason.BOOKING, None), (wall, device)
    # 03:30 CEST is its end.
    assert tap(snapshot, SALA_A, HOLDER, SPRING_END).reason == Reason.NO_MEMBERSHIP
    assert tap(snapshot, SALA_A, RESIDENT, utc(2026, 3, 29, 1, 10)).reason == Reason.ROOM_BOOKED
    assert tap(snapshot, SALA_A, RESIDENT, SPRING_END).reason == Reason.WALK_IN


def test_grace_that_ends_inside_the_missing_hour_ends_fifteen_real_minutes_later() -> None:
    # 01:50 CET + 15 minutes is 03:05 CEST (a wall-clock "02:05" does not exist).
    start = local(2026, 3, 29, 1, 50)
    assert start == utc(2026, 3, 29, 0, 50)
    snapshot = with_bookings(booking(2, start, local(2026, 3, 29, 4, 0)))
    assert tap(snapshot, SALA_A, HOLDER, utc(2026, 3, 29, 1, 4, 59)).effect == "check_in"
    assert tap(snapshot, SALA_A, HOLDER, utc(2026, 3, 29, 1, 5)).reason == Reason.BOOKING_RELEASED


def test_early_entry_before_a_start_just_after_the_gap_is_fifteen_real_minutes() -> None:
    # A booking at 03:05 CEST (01:05Z) opens at 01:50 CET (00:50Z): 15 real minutes before,
    # 1 h 15 min before on the wall clock.
    start = local(2026, 3, 29, 3, 5)
    assert start == utc(2026, 3, 29, 1, 5)
    snapshot = with_bookings(booking(3, start, local(2026, 3, 29, 4, 0)))
    assert tap(snapshot, SALA_A, HOLDER, utc(2026, 3, 29, 0, 49)).reason == Reason.NO_MEMBERSHIP
    assert tap(snapshot, SALA_A, HOLDER, utc(2026, 3, 29, 0, 50)).effect == "check_in"
    assert tap(snapshot, MAIN, HOLDER, utc(2026, 3, 29, 0, 50)).reason == Reason.BOOKING


def test_walk_in_across_the_spring_change_is_three_real_hours() -> None:
    now = local(2026, 3, 29, 1, 30)  # 00:30Z
    outcome = tap(with_bookings(), SALA_A, RESIDENT, now)
    assert outcome.reason == Reason.WALK_IN
    assert outcome.until == utc(2026, 3, 29, 3, 30)  # 05:30 CEST: four hours on the clock
    assert outcome.until - now == timedelta(hours=3)


# -- booking windows across the autumn change ------------------------------------------------------

# 01:30 CEST -> 03:30 CET on 2026-10-25: three real hours, though the clock shows two.
AUTUMN_START, AUTUMN_END = local(2026, 10, 25, 1, 30), local(2026, 10, 25, 3, 30)


def test_autumn_booking_is_three_real_hours() -> None:
    assert utc(2026, 10, 24, 23, 30) == AUTUMN_START
    assert utc(2026, 10, 25, 2, 30) == AUTUMN_END


def test_autumn_checked_in_holder_is_admitted_through_the_repeated_hour() -> None:
    snapshot = with_bookings(booking(4, AUTUMN_START, AUTUMN_END, status="checked_in"))
    for now in (
        utc(2026, 10, 25, 0, 30),  # 02:30 CEST
        utc(2026, 10, 25, 1, 30),  # 02:30 CET, the second time
        utc(2026, 10, 25, 2, 29),  # 03:29 CET
    ):
        assert tap(snapshot, SALA_A, HOLDER, now).reason == Reason.BOOKING
        assert tap(snapshot, MAIN, HOLDER, now).reason == Reason.BOOKING
    assert tap(snapshot, SALA_A, HOLDER, AUTUMN_END).reason == Reason.NO_MEMBERSHIP


def test_autumn_grace_is_not_fooled_by_the_repeated_hour() -> None:
    # A booking at the first 02:30 (CEST, 00:30Z). At the second 02:30 (CET, 01:30Z) the
    # wall clock shows its start again, but an hour has passed: the holder is a no-show.
    start = local(2026, 10, 25, 2, 30, fold=0)
    assert start == utc(2026, 10, 25, 0, 30)
    snapshot = with_bookings(booking(5, start, local(2026, 10, 25, 4, 0)))
    assert tap(snapshot, SALA_A, HOLDER, utc(2026, 10, 25, 0, 44)).effect == "check_in"
    second = utc(2026, 10, 25, 1, 30)
    assert second.astimezone(WARSAW).strftime("%H:%M") == "02:30"
    assert tap(snapshot, SALA_A, HOLDER, second).reason == Reason.BOOKING_RELEASED
    # A booking at the second 02:30 (CET) is not open for early entry at the first one.
    later = with_bookings(booking(6, local(2026, 10, 25, 2, 30, fold=1), local(2026, 10, 25, 4)))
    assert tap(later, SALA_A, HOLDER, utc(2026, 10, 25, 0, 30)).reason == Reason.NO_MEMBERSHIP
    assert tap(later, SALA_A, HOLDER, utc(2026, 10, 25, 1, 15)).effect == "check_in"


def test_walk_in_across_the_autumn_change_is_three_real_hours() -> None:
    now = local(2026, 10, 25, 1, 30)  # 23:30Z on the 24th
    outcome = tap(with_bookings(), SALA_A, RESIDENT, now)
    assert outcome.until == utc(2026, 10, 25, 2, 30)  # 03:30 CET: two hours on the clock
    assert outcome.until - now == timedelta(hours=3)
    # Capped by a booking at the second 02:00 (CET, 01:00Z).
    capped = with_bookings(booking(7, local(2026, 10, 25, 2, 0, fold=1), local(2026, 10, 25, 4)))
    assert tap(capped, SALA_A, RESIDENT, now).until == utc(2026, 10, 25, 1, 0)


# -- closed dates ----------------------------------------------------------------------------------

INDEPENDENCE_DAY = date(2026, 11, 11)  # a Wednesday, CET


def test_public_holiday_closes_opening_hours_plans() -> None:
    snapshot = build(closed_dates=[INDEPENDENCE_DAY])
    noon = utc(2026, 11, 11, 11, 0)  # 12:00 CET
    assert coworker(snapshot, noon) == CLOSED
    assert coworker(snapshot, noon, COWORK) == CLOSED
    assert not snapshot.is_open(noon)
    # Not a 24-hour plan, and not staff.
    assert tap(snapshot, MAIN, H24, noon).reason == Reason.MEMBERSHIP
    assert tap(snapshot, COWORK, STAFF, noon).reason == Reason.STAFF
    # The days around it are ordinary working days.
    assert coworker(snapshot, utc(2026, 11, 10, 11, 0)) == OPEN
    assert coworker(snapshot, utc(2026, 11, 12, 7, 0)) == OPEN  # 08:00 CET
    # Without the closure the same Wednesday noon is open.
    assert coworker(build(), noon) == OPEN


def test_public_holiday_does_not_close_booked_rooms() -> None:
    # Rooms are "closed on public holidays unless booked": a booking admits its holder.
    start, end = utc(2026, 11, 11, 9, 0), utc(2026, 11, 11, 11, 0)  # 10:00-12:00 CET
    data = snapshot_data([booking(8, start, end)])
    data["closed_dates"] = [INDEPENDENCE_DAY]
    snapshot = PolicySnapshot.model_validate(data)
    outcome = tap(snapshot, SALA_A, HOLDER, utc(2026, 11, 11, 9, 5))
    assert (outcome.reason, outcome.effect) == (Reason.BOOKING, "check_in")
    assert tap(snapshot, MAIN, HOLDER, utc(2026, 11, 11, 9, 5)).reason == Reason.BOOKING


def test_closed_date_follows_the_local_date() -> None:
    every_day = {"days": {d: ["00:00-24:00"] for d in ALL_DAYS}}
    snapshot = build(opening_hours=every_day, closed_dates=[INDEPENDENCE_DAY])
    assert coworker(snapshot, utc(2026, 11, 10, 22, 59)) == OPEN  # 23:59 CET on the 10th
    assert coworker(snapshot, utc(2026, 11, 10, 23, 0)) == CLOSED  # 00:00 CET on the 11th
    assert coworker(snapshot, utc(2026, 11, 11, 22, 59)) == CLOSED  # 23:59 CET on the 11th
    assert coworker(snapshot, utc(2026, 11, 11, 23, 0)) == OPEN  # 00:00 CET on the 12th


def test_closed_date_on_a_change_day_is_a_local_day_of_23_or_25_hours() -> None:
    every_day = {"days": {d: ["00:00-24:00"] for d in ALL_DAYS}}
    spring = build(opening_hours=every_day, closed_dates=[date(2026, 3, 29)])
    assert coworker(spring, utc(2026, 3, 28, 22, 59)) == OPEN  # 23:59 CET on the 28th
    assert coworker(spring, utc(2026, 3, 28, 23, 0)) == CLOSED  # 00:00 CET on the 29th
    assert coworker(spring, utc(2026, 3, 29, 21, 59)) == CLOSED  # 23:59 CEST on the 29th
    assert coworker(spring, utc(2026, 3, 29, 22, 0)) == OPEN  # 00:00 CEST on the 30th
    assert _open_minutes(spring, date(2026, 3, 29)) == 0
    autumn = build(opening_hours=every_day, closed_dates=[date(2026, 10, 24)])
    assert coworker(autumn, utc(2026, 10, 23, 21, 59)) == OPEN  # 23:59 CEST on the 23rd
    assert coworker(autumn, utc(2026, 10, 23, 22, 0)) == CLOSED  # 00:00 CEST on the 24th
    assert coworker(autumn, utc(2026, 10, 24, 21, 59)) == CLOSED  # 23:59 CEST on the 24th
    assert coworker(autumn, utc(2026, 10, 24, 22, 0)) == OPEN  # 00:00 CEST on the 25th
    assert _open_minutes(autumn, date(2026, 10, 25)) == 25 * 60


def test_closed_dates_survive_the_json_round_trip() -> None:
    snapshot = build(closed_dates=[INDEPENDENCE_DAY, date(2026, 12, 24)])
    received = PolicySnapshot.model_validate_json(snapshot.model_dump_json())
    assert received.closed_dates == [INDEPENDENCE_DAY, date(2026, 12, 24)]
    assert coworker(received, utc(2026, 11, 11, 11, 0)) == CLOSED
