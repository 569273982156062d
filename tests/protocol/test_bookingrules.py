"""protocol.bookingrules: the check-in window, the no-show rule and may-book, at explicit
instants (real time, so a daylight-saving change does not move them)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from protocol.bookingrules import (
    PAST_TOLERANCE,
    Bar,
    Barred,
    booking_bar,
    checkin_starts,
    checkin_window,
    in_checkin_window,
    may_book,
    no_show_due,
    past_horizon,
    release_at,
    release_due_before,
    start_in_past,
    suspended,
)

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
END = START + timedelta(hours=2)
EARLY, GRACE = timedelta(minutes=15), timedelta(minutes=10)
MINUTE, SECOND = timedelta(minutes=1), timedelta(seconds=1)


# -- the check-in window ---------------------------------------------------------------------


def test_the_window_runs_from_early_entry_until_the_grace_ends() -> None:
    assert checkin_window(START, END, EARLY, GRACE) == (START - EARLY, START + GRACE)
    assert not in_checkin_window(START, END, EARLY, GRACE, START - EARLY - SECOND)
    assert in_checkin_window(START, END, EARLY, GRACE, START - EARLY)
    assert in_checkin_window(START, END, EARLY, GRACE, START + GRACE - SECOND)
    assert not in_checkin_window(START, END, EARLY, GRACE, START + GRACE)


def test_a_booking_shorter_than_its_grace_cannot_be_checked_in_once_over() -> None:
    end = START + 5 * MINUTE
    assert checkin_window(START, end, EARLY, GRACE) == (START - EARLY, end)
    assert in_checkin_window(START, end, EARLY, GRACE, end - SECOND)
    assert not in_checkin_window(START, end, EARLY, GRACE, end)


def test_the_window_crosses_the_spring_change_in_real_time() -> None:
    # 01:50 CET on 2026-03-29 (00:50Z): the grace ends 10 real minutes later, at 03:00 CEST.
    start = datetime(2026, 3, 29, 0, 50, tzinfo=UTC)
    _opens, closes = checkin_window(start, start + timedelta(hours=1), EARLY, GRACE)
    assert closes == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)


def test_checkin_starts_select_the_bookings_whose_window_holds_an_instant() -> None:
    # A query keeps bookings starting in (after, until] and ending after `at`; it must
    # agree with in_checkin_window for every start around the edges.
    at = START
    after, until = checkin_starts(at, EARLY, GRACE)
    for offset in range(-40 * 60, 40 * 60, 30):
        start = at + timedelta(seconds=offset)
        end = start + timedelta(hours=1)
        selected = after < start <= until and end > at
        assert selected == in_checkin_window(start, end, EARLY, GRACE, at), offset


# -- the no-show rule ------------------------------------------------------------------------


def test_a_booking_is_due_for_release_once_its_grace_has_passed() -> None:
    assert release_at(START, GRACE) == START + GRACE
    assert not no_show_due(START, GRACE, START + GRACE - SECOND)
    assert no_show_due(START, GRACE, START + GRACE)
    assert no_show_due(START, GRACE, END + timedelta(days=1))


def test_release_due_before_is_the_boundary_of_the_same_rule() -> None:
    now = START + timedelta(minutes=12)
    boundary = release_due_before(now, GRACE)
    for offset in range(-5 * 60, 5 * 60):
        start = boundary + timedelta(seconds=offset)
        assert (start <= boundary) == no_show_due(start, GRACE, now), offset


# -- may-book --------------------------------------------------------------------------------


def test_a_suspension_holds_until_its_end() -> None:
    assert not suspended(None, START)
    assert suspended(START + SECOND, START)
    assert not suspended(START, START)  # it has ended


def test_booking_bar_names_what_keeps_a_member_from_booking() -> None:
    later, much_later = START + timedelta(days=1), START + timedelta(days=14)
    assert booking_bar(None, None, START) is None
    assert booking_bar(START - SECOND, START, START) is None  # both over
    assert booking_bar(later, None, START) == Barred(Bar.SUSPENDED, later)
    assert booking_bar(None, later, START) == Barred(Bar.BOOKING_SUSPENDED, later)
    # A suspension by staff comes first, whichever ends later.
    assert booking_bar(later, much_later, START) == Barred(Bar.SUSPENDED, later)
    assert may_book(None, START - SECOND, START)
    assert not may_book(None, later, START)
    assert not may_book(later, None, START)


def test_a_start_may_lie_a_little_in_the_past_and_up_to_the_horizon() -> None:
    # Five minutes, for a booking and a waitlist entry alike.
    assert not start_in_past(START - timedelta(minutes=5), START)
    assert not start_in_past(START - PAST_TOLERANCE, START)
    assert start_in_past(START - PAST_TOLERANCE - SECOND, START)
    horizon = timedelta(days=90)
    assert not past_horizon(START + horizon, START, horizon)
    assert past_horizon(START + horizon + SECOND, START, horizon)
