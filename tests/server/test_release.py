"""No-show release: reminders, releases, strikes, suspension, completion, the race with
check-in, and the HTTP API of notifications and strikes. Time moves on a FakeClock."""

from __future__ import annotations

import threading
import time
import types
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, insert, select

from server.bookings import lifecycle
from server.context import ServerContext
from server.db import meta, models
from server.noshows import strikes as noshow_strikes
from server.noshows.release import SweepReport, sweep
from server.waitlist import offers as waitlist_offers

if TYPE_CHECKING:
    from tests.server.conftest import FakeClock

Headers = dict[str, str]
GRACE = timedelta(minutes=15)  # the demo site's no_show_grace
REMIND = timedelta(minutes=5)  # and its reminder_before
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


# --- helpers -----------------------------------------------------------------------------


def new_member(ctx: ServerContext, name: str = "Anna Kowalska") -> int:
    with ctx.writes() as s, s.begin():
        member = models.Member(name=name, category="resident")
        s.add(member)
        s.flush()
        return member.id


def new_booking(
    ctx: ServerContext,
    member_id: int,
    start: datetime,
    end: datetime | None = None,
    *,
    room: str = "sala-a",
    status: str = "booked",
) -> int:
    with ctx.writes() as s, s.begin():
        booking = models.Booking(
            room_id=room, member_id=member_id, start=start, end=end or start + HOUR, status=status
        )
        s.add(booking)
        s.flush()
        return booking.id


def run_sweep(ctx: ServerContext, now: datetime) -> SweepReport:
    with ctx.writes() as s, s.begin():
        return sweep(s, site=ctx.site, now=now)


def booking(ctx: ServerContext, booking_id: int) -> models.Booking:
    with ctx.reads() as s:
        found = s.get(models.Booking, booking_id)
        assert found is not None
        return found


def member(ctx: ServerContext, member_id: int) -> models.Member:
    with ctx.reads() as s:
        found = s.get(models.Member, member_id)
        assert found is not None
        return found


def notes(ctx: ServerContext, member_id: int, kind: str | None = None) -> list[models.Notification]:
    with ctx.reads() as s:
        stmt = select(models.Notification).where(models.Notification.member_id == member_id)
        if kind is not None:
            stmt = stmt.where(models.Notification.kind == kind)
        return list(s.scalars(stmt.order_by(models.Notification.id)))


def strikes(ctx: ServerContext, member_id: int) -> list[models.NoShow]:
    with ctx.reads() as s:
        return noshow_strikes.strikes(s, member_id=member_id)


def policy_n(ctx: ServerContext) -> int:
    with ctx.reads() as s:
        return meta.version(s)[1]


def no_show(ctx: ServerContext, clock: FakeClock, member_id: int) -> SweepReport:
    """A booking starting now that nobody comes to; the clock ends at its release."""
    new_booking(ctx, member_id, clock.now)
    clock.advance(minutes=15)
    return run_sweep(ctx, clock.now)


# --- release -----------------------------------------------------------------------------


def test_released_at_start_plus_grace_and_not_a_second_before(
    ctx: ServerContext, clock: FakeClock
) -> None:
    anna = new_member(ctx)
    start = clock.now + HOUR  # 10:00 UTC, 11:00 in Warsaw
    bid = new_booking(ctx, anna, start, start + 2 * HOUR)

    report = run_sweep(ctx, start + GRACE - timedelta(seconds=1))
    assert report.released == []
    assert booking(ctx, bid).status == "booked"

    report = run_sweep(ctx, start + GRACE)
    assert report.released == [bid]
    released = booking(ctx, bid)
    assert (released.status, released.released_at) == ("released", start + GRACE)
    [strike] = strikes(ctx, anna)
    assert (strike.booking_id, strike.at, strike.removed_at) == (bid, start + GRACE, None)
    [notice] = notes(ctx, anna, "released")
    assert notice.booking_id == bid
    assert "Sala warsztatowa A" in notice.text_pl and "Sala warsztatowa A" in notice.text_en
    assert "11:00–13:00" in notice.text_pl and "do 11:15" in notice.text_pl
    assert "wraca do dyspozycji społeczności" in notice.text_pl
    assert "1 z 3 w ciągu ostatnich 30 dni" in notice.text_pl
    assert "back to the community" in notice.text_en
    assert "1 of 3 in the last 30 days" in notice.text_en


def test_release_is_not_repeated(ctx: ServerContext, clock: FakeClock) -> None:
    anna = new_member(ctx)
    bid = new_booking(ctx, anna, clock.now)
    assert run_sweep(ctx, clock.now + GRACE).released == [bid]
    assert run_sweep(ctx, clock.now + GRACE + timedelta(seconds=1)) == SweepReport()
    assert len(strikes(ctx, anna)) == 1
    assert len(notes(ctx, anna, "released")) == 1


def test_overdue_bookings_are_all_released_by_one_sweep(
    ctx: ServerContext, clock: FakeClock
) -> None:
    """After an outage: every booking whose grace ended meanwhile, even one already over."""
    anna = new_member(ctx)
    over = new_booking(ctx, anna, clock.now - 3 * HOUR, clock.now - 2 * HOUR)
    running = new_booking(ctx, anna, clock.now - HOUR, clock.now + HOUR, room="sala-b")
    assert run_sweep(ctx, clock.now).released == [over, running]
    assert booking(ctx, over).released_at == clock.now


def test_checked_in_booking_is_never_released(ctx: ServerContext, clock: FakeClock) -> None:
    anna = new_member(ctx)
    start = clock.now
    bid = new_booking(ctx, anna, start, start + 2 * HOUR)
    with ctx.writes() as s, s.begin():
        assert lifecycle.check_in(s, booking_id=bid, now=start + timedelta(minutes=14), by="tap")
    for minutes in (15, 16, 60, 119):
        assert run_sweep(ctx, start + timedelta(minutes=minutes)).released == []
    assert booking(ctx, bid).status == "checked_in"
    assert strikes(ctx, anna) == []
    assert notes(ctx, anna) == []


def test_cancelled_booking_is_not_released(ctx: ServerContext, clock: FakeClock) -> None:
    anna = new_member(ctx)
    bid = new_booking(ctx, anna, clock.now, status="cancelled")
    assert run_sweep(ctx, clock.now + GRACE) == SweepReport()
    assert booking(ctx, bid).status == "cancelled"


def test_release_update_matches_nothing_after_a_check_in(
    ctx: ServerContext, clock: FakeClock
) -> None:
    anna = new_member(ctx)
    bid = new_booking(ctx, anna, clock.now)
    with ctx.writes() as s, s.begin():
        assert lifecycle.check_in(
            s, booking_id=bid, now=clock.now + GRACE - timedelta(seconds=1), by="tap"
        )
    with ctx.writes() as s, s.begin():
        assert not lifecycle.release_booking(s, booking_id=bid, now=clock.now + GRACE, by="sweep")
    assert booking(ctx, bid).status == "checked_in"


def test_check_in_between_selection_and_update_wins(
    ctx: ServerContext, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sweep selected the booking as `booked`; a check-in lands before its UPDATE
    (on PostgreSQL another transaction may commit there): no release, no strike, no notice."""
    anna = new_member(ctx)
    bid = new_booking(ctx, anna, clock.now)
    real = lifecycle.release_booking

    def check_in_first(session: Any, *, booking_id: int, now: datetime, by: Any) -> Any:
        assert lifecycle.check_in(session, booking_id=booking_id, now=now, by="tap")
        return real(session, booking_id=booking_id, now=now, by=by)

    monkeypatch.setattr(lifecycle, "release_booking", check_in_first)
    before = policy_n(ctx)
    report = run_sweep(ctx, clock.now + GRACE)
    assert report.released == []
    assert booking(ctx, bid).status == "checked_in"
    assert strikes(ctx, anna) == []
    assert notes(ctx, anna) == []
    assert policy_n(ctx) == before + 1  # the check-in's bump; the sweep changed nothing


def race(
    ctx: ServerContext, booking_id: int, due: datetime, *, tap_first: bool
) -> tuple[bool, bool]:
    """A check-in and a sweep started together in two threads: (checked in, released)."""
    gate = threading.Barrier(2)
    outcome: dict[str, Any] = {}

    def tap() -> None:
        gate.wait()
        with ctx.writes() as s, s.begin():
            # UPDATE bookings SET status='checked_in' ... WHERE id=? AND status='booked'
            done = lifecycle.check_in(s, booking_id=booking_id, now=due, by="tap")
            outcome["checked_in"] = done is not None

    def sweeper() -> None:
        gate.wait()
        outcome["released"] = run_sweep(ctx, due).released

    threads = [threading.Thread(target=tap), threading.Thread(target=sweeper)]
    if not tap_first:
        threads.reverse()
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    return outcome["checked_in"], outcome["released"] == [booking_id]


@pytest.mark.slow  # 150 races of two threads on one SQLite file
def test_check_in_racing_sweep_exactly_one_wins(ctx: ServerContext, clock: FakeClock) -> None:
    """Two threads, one SQLite file, the last instant of grace: every time, either the
    check-in or the release wins, never both and never neither."""
    anna = new_member(ctx)
    wins = {"checked_in": 0, "released": 0}
    for i in range(150):
        start = clock.now + i * 2 * HOUR
        bid = new_booking(ctx, anna, start)
        checked_in, released = race(ctx, bid, start + GRACE, tap_first=bool(i % 2))
        assert checked_in != released, (i, checked_in, released)
        final = booking(ctx, bid).status
        assert final == ("checked_in" if checked_in else "released")
        wins[final] += 1
    assert len(strikes(ctx, anna)) == wins["released"]


# --- reminders ---------------------------------------------------------------------------


def test_reminder_once_before_release(ctx: ServerContext, clock: FakeClock) -> None:
    anna = new_member(ctx)
    start = clock.now + HOUR  # 11:00 in Warsaw; released at 11:15, reminded from 11:10
    bid = new_booking(ctx, anna, start)
    remind_at = start + GRACE - REMIND

    assert run_sweep(ctx, remind_at - timedelta(seconds=1)).reminded == []
    assert run_sweep(ctx, remind_at).reminded == [bid]
    assert booking(ctx, bid).reminded_at == remind_at
    assert run_sweep(ctx, remind_at + timedelta(minutes=1)).reminded == []
    report = run_sweep(ctx, start + GRACE)
    assert (report.reminded, report.released) == ([], [bid])

    [reminder] = notes(ctx, anna, "reminder")
    assert reminder.booking_id == bid
    assert reminder.text_pl == (
        "Przypomnienie: Twoja rezerwacja (Sala warsztatowa A, 11:00) zostanie zwolniona "
        "o 11:15, jeśli nie zameldujesz się kartą przy drzwiach."
    )
    assert reminder.text_en == (
        "Reminder: your booking of Sala warsztatowa A at 11:00 will be released at 11:15 "
        "unless you check in by tapping your card at the door."
    )
    assert [n.kind for n in notes(ctx, anna)] == ["reminder", "released"]


def test_no_reminder_for_a_booking_already_due(ctx: ServerContext, clock: FakeClock) -> None:
    anna = new_member(ctx)
    bid = new_booking(ctx, anna, clock.now - timedelta(minutes=20))
    report = run_sweep(ctx, clock.now)
    assert (report.reminded, report.released) == ([], [bid])
    assert [n.kind for n in notes(ctx, anna)] == ["released"]
    assert booking(ctx, bid).reminded_at is None


def test_no_reminder_after_check_in(ctx: ServerContext, clock: FakeClock) -> None:
    anna = new_member(ctx)
    bid = new_booking(ctx, anna, clock.now)
    with ctx.writes() as s, s.begin():
        lifecycle.check_in(s, booking_id=bid, now=clock.now, by="tap")
    assert run_sweep(ctx, clock.now + GRACE - REMIND).reminded == []


def test_reminder_times_are_local_across_dst(ctx: ServerContext, clock: FakeClock) -> None:
    """After the clocks go forward (29 March 2026) Warsaw is UTC+2."""
    anna = new_member(ctx)
    start = datetime.fromisoformat("2026-04-01T16:00:00+00:00")
    new_booking(ctx, anna, start)
    run_sweep(ctx, start + GRACE - REMIND)
    [reminder] = notes(ctx, anna, "reminder")
    assert "18:00) zostanie zwolniona o 18:15" in reminder.text_pl


# --- strikes and suspension --------------------------------------------------------------


def test_three_no_shows_suspend_booking_once(ctx: ServerContext, clock: FakeClock) -> None:
    anna = new_member(ctx)
    assert no_show(ctx, clock, anna).suspended == []
    clock.advance(days=5)
    assert no_show(ctx, clock, anna).suspended == []
    assert member(ctx, anna).booking_suspended_until is None
    clock.advance(days=5)
    third = no_show(ctx, clock, anna)
    assert third.suspended == [anna]
    assert member(ctx, anna).booking_suspended_until == clock.now + 14 * DAY
    [notice] = notes(ctx, anna, "booking_suspended")
    assert "3 nieobecnościach" in notice.text_pl and "3 no-shows" in notice.text_en
    assert "3 z 3" in notes(ctx, anna, "released")[-1].text_pl

    clock.advance(days=1)
    fourth = no_show(ctx, clock, anna)
    assert fourth.released and fourth.suspended == []
    assert len(notes(ctx, anna, "booking_suspended")) == 1
    # ...the suspension runs on from the latest no-show
    assert member(ctx, anna).booking_suspended_until == clock.now + 14 * DAY


def test_strikes_older_than_the_window_do_not_count(ctx: ServerContext, clock: FakeClock) -> None:
    anna = new_member(ctx)
    no_show(ctx, clock, anna)
    clock.advance(days=31)
    no_show(ctx, clock, anna)
    clock.advance(days=1)
    report = no_show(ctx, clock, anna)
    assert report.suspended == []
    assert member(ctx, anna).booking_suspended_until is None
    assert "2 z 3" in notes(ctx, anna, "released")[-1].text_pl
    assert len(strikes(ctx, anna)) == 3


def test_strikes_are_per_member(ctx: ServerContext, clock: FakeClock) -> None:
    anna, piotr = new_member(ctx), new_member(ctx, "Piotr Nowak")
    for who in (anna, anna, piotr):
        no_show(ctx, clock, who)
    assert member(ctx, anna).booking_suspended_until is None
    assert member(ctx, piotr).booking_suspended_until is None


def test_several_no_shows_in_one_sweep_suspend_once(ctx: ServerContext, clock: FakeClock) -> None:
    anna = new_member(ctx)
    for hours_ago in (4, 3, 2, 1):
        new_booking(ctx, anna, clock.now - hours_ago * HOUR)
    report = run_sweep(ctx, clock.now)
    assert len(report.released) == 4
    assert report.suspended == [anna]
    assert len(notes(ctx, anna, "booking_suspended")) == 1


def test_removing_a_strike_lifts_the_suspension(ctx: ServerContext, clock: FakeClock) -> None:
    anna = new_member(ctx)
    for _ in range(4):
        no_show(ctx, clock, anna)
        clock.advance(days=1)
    first, second = sorted(strikes(ctx, anna), key=lambda n: n.id)[:2]
    with ctx.writes() as s, s.begin():
        noshow_strikes.remove_strike(s, site=ctx.site, no_show_id=first.id, now=clock.now)
    assert member(ctx, anna).booking_suspended_until is not None  # still 3 of 3
    with ctx.writes() as s, s.begin():
        removed = noshow_strikes.remove_strike(
            s, site=ctx.site, no_show_id=second.id, now=clock.now
        )
        assert removed.removed_at == clock.now
    assert member(ctx, anna).booking_suspended_until is None
    assert sum(1 for n in strikes(ctx, anna) if n.removed_at is None) == 2


def test_removing_a_strike_twice_keeps_the_first_time(ctx: ServerContext, clock: FakeClock) -> None:
    anna = new_member(ctx)
    no_show(ctx, clock, anna)
    [strike] = strikes(ctx, anna)
    removed_at = clock.now
    for _ in range(2):
        with ctx.writes() as s, s.begin():
            noshow_strikes.remove_strike(s, site=ctx.site, no_show_id=strike.id, now=clock.now)
        clock.advance(minutes=1)
    assert strikes(ctx, anna)[0].removed_at == removed_at


def test_removed_strikes_do_not_count(ctx: ServerContext, clock: FakeClock) -> None:
    anna = new_member(ctx)
    no_show(ctx, clock, anna)
    with ctx.writes() as s, s.begin():
        noshow_strikes.remove_strike(
            s, site=ctx.site, no_show_id=strikes(ctx, anna)[0].id, now=clock.now
        )
    no_show(ctx, clock, anna)
    no_show(ctx, clock, anna)
    assert member(ctx, anna).booking_suspended_until is None


def test_remove_strike_for_booking(ctx: ServerContext, clock: FakeClock) -> None:
    """The gateway's log shows the holder arrived in time: the strike goes, and with it a
    suspension it caused."""
    anna = new_member(ctx)
    for _ in range(3):
        no_show(ctx, clock, anna)
    last = strikes(ctx, anna)[0]
    unknown = new_booking(ctx, anna, clock.now + DAY)
    with ctx.writes() as s, s.begin():
        strike = noshow_strikes.remove_strike_for_booking(
            s, site=ctx.site, booking_id=last.booking_id, now=clock.now
        )
        assert strike is not None and strike.id == last.id
        assert (
            noshow_strikes.remove_strike_for_booking(
                s, site=ctx.site, booking_id=unknown, now=clock.now
            )
            is None
        )
    assert member(ctx, anna).booking_suspended_until is None


def test_lift_booking_suspension(ctx: ServerContext, clock: FakeClock) -> None:
    anna = new_member(ctx)
    for _ in range(3):
        no_show(ctx, clock, anna)
    with ctx.writes() as s, s.begin():
        lifted = noshow_strikes.lift_booking_suspension(s, member_id=anna)
        assert lifted.booking_suspended_until is None
    assert member(ctx, anna).booking_suspended_until is None
    assert len(strikes(ctx, anna)) == 3  # the strikes stay


def test_unknown_ids_are_not_found(ctx: ServerContext, clock: FakeClock) -> None:
    from server.errors import NotFound

    with ctx.writes() as s, s.begin():
        with pytest.raises(NotFound):
            noshow_strikes.remove_strike(s, site=ctx.site, no_show_id=999, now=clock.now)
        with pytest.raises(NotFound):
            noshow_strikes.lift_booking_suspension(s, member_id=999)
        with pytest.raises(NotFound):
            noshow_strikes.strikes(s, member_id=999)


# --- completion and the policy version ---------------------------------------------------


def test_checked_in_booking_completes_at_its_end(ctx: ServerContext, clock: FakeClock) -> None:
    anna = new_member(ctx)
    start, end = clock.now, clock.now + 2 * HOUR
    bid = new_booking(ctx, anna, start, end, status="checked_in")
    assert run_sweep(ctx, end - timedelta(seconds=1)).completed == []
    assert booking(ctx, bid).status == "checked_in"
    assert run_sweep(ctx, end).completed == [bid]
    done = booking(ctx, bid)
    assert (done.status, done.completed_at) == ("completed", end)
    assert run_sweep(ctx, end + HOUR).completed == []
    assert strikes(ctx, anna) == []


def test_policy_version_bumps_once_per_sweep_that_changes_doors(
    ctx: ServerContext, clock: FakeClock
) -> None:
    anna = new_member(ctx)
    for room in ("sala-a", "sala-b"):
        new_booking(ctx, anna, clock.now, room=room)
    n = policy_n(ctx)
    run_sweep(ctx, clock.now + GRACE - REMIND)  # reminders only
    assert policy_n(ctx) == n
    run_sweep(ctx, clock.now + GRACE)  # two releases
    assert policy_n(ctx) == n + 1
    run_sweep(ctx, clock.now + GRACE + timedelta(seconds=1))  # nothing
    assert policy_n(ctx) == n + 1
    new_booking(ctx, anna, clock.now + 2 * HOUR, status="checked_in")
    run_sweep(ctx, clock.now + 3 * HOUR)  # a completion
    assert policy_n(ctx) == n + 2


# --- the waitlist ------------------------------------------------------------------------


def test_freed_rest_of_the_slot_is_offered(
    ctx: ServerContext, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[dict[str, Any]] = []

    def offer_freed_slot(session: Any, **kw: Any) -> Any:
        calls.append(kw)
        return types.SimpleNamespace(id=77)

    monkeypatch.setattr(waitlist_offers, "offer_freed_slot", offer_freed_slot)
    anna = new_member(ctx)
    start = clock.now
    running = new_booking(ctx, anna, start, start + 2 * HOUR)
    new_booking(ctx, anna, start - 3 * HOUR, start - 2 * HOUR, room="sala-b")  # over
    now = start + timedelta(minutes=40)  # a late sweep
    report = run_sweep(ctx, now)
    assert running in report.released and len(report.released) == 2
    assert report.offered == [77]
    [call] = calls
    end = start + 2 * HOUR
    # The whole slot: a member waiting for its time, which has begun, is offered the rest
    # (accepted, it is booked from then: tests/server/test_waitlist.py).
    assert call == {"site": ctx.site, "room_id": "sala-a", "start": start, "end": end, "now": now}


def test_a_failing_offer_does_not_hold_back_the_release(
    ctx: ServerContext, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    def offer_freed_slot(session: Any, **kw: Any) -> Any:
        session.add(models.Member(name="half-done", category="resident"))
        session.flush()
        raise RuntimeError("waitlist broke")

    monkeypatch.setattr(waitlist_offers, "offer_freed_slot", offer_freed_slot)
    anna = new_member(ctx)
    bid = new_booking(ctx, anna, clock.now)
    report = run_sweep(ctx, clock.now + GRACE)
    assert (report.released, report.offered) == ([bid], [])
    assert booking(ctx, bid).status == "released"
    with ctx.reads() as s:  # the offer's own writes were undone
        assert s.scalars(select(models.Member).where(models.Member.name == "half-done")).all() == []


def test_released_slot_goes_to_the_waitlist(ctx: ServerContext, clock: FakeClock) -> None:
    """With the real waitlist: the first member waiting for the room gets an offer."""
    anna, piotr = new_member(ctx), new_member(ctx, "Piotr Nowak")
    start = clock.now + HOUR
    new_booking(ctx, anna, start, start + 2 * HOUR)
    with ctx.writes() as s, s.begin():
        s.add(
            models.WaitlistEntry(
                site_id=ctx.site.id,
                member_id=piotr,
                room_id="sala-a",
                start=start + HOUR,
                end=start + 2 * HOUR,
            )
        )
    report = run_sweep(ctx, start + GRACE)
    assert len(report.offered) == 1
    with ctx.reads() as s:
        offer = s.get(models.Offer, report.offered[0])
        assert offer is not None
        assert (offer.member_id, offer.room_id, offer.status) == (piotr, "sala-a", "offered")


# --- scale -------------------------------------------------------------------------------


def test_sweep_uses_the_status_start_index(ctx: ServerContext, clock: FakeClock) -> None:
    """The candidate queries are range scans of (status, start), never a table scan."""
    queries: list[tuple[str, Any]] = []
    with ctx.writes() as s, s.begin():
        conn = s.connection()

        def record(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
            if statement.lstrip().upper().startswith("SELECT") and "FROM bookings" in statement:
                queries.append((statement, parameters))

        event.listen(conn, "before_cursor_execute", record)
        try:
            sweep(s, site=ctx.site, now=clock.now)
        finally:
            event.remove(conn, "before_cursor_execute", record)
        assert len(queries) == 4  # public bookings to open, reminders, releases, completions
        if ctx.engine.dialect.name == "postgresql":
            # a handful of rows: PostgreSQL would rather scan them, unless told not to
            conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
            explain = "EXPLAIN "
        else:
            explain = "EXPLAIN QUERY PLAN "
        for statement, parameters in queries:
            plan = " ".join(
                str(row[-1]) for row in conn.exec_driver_sql(explain + statement, parameters)
            )
            assert "ix_bookings_status_start" in plan, plan
            assert "USING INDEX" in plan or "Index" in plan, plan


@pytest.mark.slow  # 100,000 rows written before the sweep is timed
def test_sweep_of_100000_bookings_is_quick(ctx: ServerContext, clock: FakeClock) -> None:
    anna = new_member(ctx)
    step = timedelta(minutes=5)
    past = clock.now - 200 * DAY  # 100,000 five-minute bookings: 200 days back, 147 ahead
    rows = [
        {
            "room_id": "sala-a",
            "member_id": anna,
            "start": past + i * step,
            "end": past + (i + 1) * step,
            # the past is over; from the one whose grace ends now on, all are booked
            "status": "completed" if past + i * step < clock.now - GRACE else "booked",
        }
        for i in range(100_000)
    ]
    with ctx.writes() as s, s.begin():
        s.execute(insert(models.Booking), rows)
    began = time.perf_counter()
    report = run_sweep(ctx, clock.now)
    took = time.perf_counter() - began
    assert (len(report.released), len(report.reminded)) == (1, 1)
    began = time.perf_counter()
    run_sweep(ctx, clock.now + timedelta(seconds=1))
    idle = time.perf_counter() - began
    assert took < 0.5 and idle < 0.1, (took, idle)


# --- HTTP API ----------------------------------------------------------------------------


ENDPOINTS = [
    ("GET", "/api/members/1/notifications"),
    ("GET", "/api/members/1/no-shows"),
    ("DELETE", "/api/no-shows/1"),
    ("POST", "/api/members/1/lift-booking-suspension"),
]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_api_needs_a_token(client: TestClient, method: str, path: str) -> None:
    assert client.request(method, path).status_code == 401
    bad = {"Authorization": "Bearer nope"}
    assert client.request(method, path, headers=bad).status_code == 401


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_api_unknown_ids_are_404(
    client: TestClient, admin: Headers, method: str, path: str
) -> None:
    response = client.request(method, path.replace("/1", "/424242"), headers=admin)
    assert response.status_code == 404
    assert "not found" in response.json()["detail"]


@pytest.mark.parametrize("bad", ["0", "-1", str(2**62 + 1), "abc"])
def test_api_path_ids_are_checked(client: TestClient, admin: Headers, bad: str) -> None:
    for method, path in ENDPOINTS:
        assert (
            client.request(method, path.replace("/1", f"/{bad}"), headers=admin).status_code == 422
        )


def test_api_notifications_newest_first(
    client: TestClient, admin: Headers, ctx: ServerContext, clock: FakeClock
) -> None:
    anna = new_member(ctx)
    bid = new_booking(ctx, anna, clock.now)
    run_sweep(ctx, clock.now + GRACE - REMIND)
    run_sweep(ctx, clock.now + GRACE)

    response = client.get(f"/api/members/{anna}/notifications", headers=admin)
    assert response.status_code == 200
    body = response.json()
    assert [n["kind"] for n in body] == ["released", "reminder"]
    fields = {"id", "kind", "booking_id", "offer_id", "text_pl", "text_en", "created_at"}
    assert set(body[0]) == fields | {"text", "lang"}
    assert body[0]["booking_id"] == bid and body[0]["offer_id"] is None
    assert body[0]["created_at"] == "2026-03-02T09:15:00Z"
    # in the member's language (Polish, the site's, unless they chose another)
    assert (body[0]["lang"], body[0]["text"]) == ("pl", body[0]["text_pl"])

    pl = client.get(f"/api/members/{anna}/notifications?lang=pl", headers=admin).json()
    en = client.get(f"/api/members/{anna}/notifications?lang=en", headers=admin).json()
    assert pl[0]["text"] == pl[0]["text_pl"] and en[0]["text"] == en[0]["text_en"]
    assert (pl[0]["lang"], en[0]["lang"]) == ("pl", "en")
    uk = client.get(f"/api/members/{anna}/notifications?lang=uk", headers=admin).json()
    assert uk[0]["lang"] == "uk" and "Зараховано неявку: 1 з 3" in uk[0]["text"]
    german = client.get(f"/api/members/{anna}/notifications?lang=de", headers=admin)
    assert german.status_code == 422
    one = client.get(f"/api/members/{anna}/notifications?limit=1", headers=admin).json()
    assert [n["kind"] for n in one] == ["released"]


def test_a_member_told_in_ukrainian_gets_the_release_notice_in_ukrainian(
    client: TestClient, admin: Headers, ctx: ServerContext, clock: FakeClock
) -> None:
    body = {"name": "Olena Szewczenko", "category": "ngo", "lang": "uk"}
    olena = client.post("/api/members", json=body, headers=admin).json()["id"]
    start = clock.now + HOUR  # 11:00 in Warsaw
    new_booking(ctx, olena, start, start + 2 * HOUR)
    run_sweep(ctx, start + GRACE - REMIND)
    assert run_sweep(ctx, start + GRACE).released != []

    released, reminder = client.get(f"/api/members/{olena}/notifications", headers=admin).json()
    assert (released["kind"], released["lang"], reminder["lang"]) == ("released", "uk", "uk")
    assert released["text"] == (
        "Ваше бронювання (Sala warsztatowa A, 02.03.2026, 11:00–13:00) знято, бо до 11:15 "
        "ніхто не відмітився карткою біля дверей. Зала знову доступна для спільноти. "
        "Зараховано неявку: 1 з 3 протягом останніх 30 днів."
    )
    assert reminder["text"].startswith("Нагадування: ваше бронювання (Sala warsztatowa A, 11:00)")
    # Polish and English as ever, beside it
    assert "1 z 3 w ciągu ostatnich 30 dni" in released["text_pl"]
    assert "1 of 3 in the last 30 days" in released["text_en"]
    # a member who changes language reads the same messages in the new one
    client.patch(f"/api/members/{olena}", json={"lang": "en"}, headers=admin)
    [en, _] = client.get(f"/api/members/{olena}/notifications", headers=admin).json()
    assert (en["lang"], en["text"]) == ("en", en["text_en"])


def test_api_a_message_from_before_the_catalogue_keeps_its_own_words(
    client: TestClient, admin: Headers, ctx: ServerContext, clock: FakeClock
) -> None:
    """Messages recorded before 0005 have no parameters: Polish (or English) it is."""
    olena = new_member(ctx)
    with ctx.writes() as s, s.begin():
        s.get(models.Member, olena).lang = "uk"  # type: ignore[union-attr]
        s.add(
            models.Notification(
                member_id=olena,
                kind="reminder",
                text_pl="Stare",
                text_en="Old",
                created_at=clock.now,
            )
        )
    url = f"/api/members/{olena}/notifications"
    [note] = client.get(url, headers=admin).json()
    assert (note["lang"], note["text"]) == ("pl", "Stare")
    [note] = client.get(url + "?lang=en", headers=admin).json()
    assert (note["lang"], note["text"]) == ("en", "Old")


def test_api_no_shows_and_removing_one(
    client: TestClient, admin: Headers, ctx: ServerContext, clock: FakeClock
) -> None:
    anna = new_member(ctx)
    assert client.get(f"/api/members/{anna}/no-shows", headers=admin).json() == []
    for _ in range(3):
        no_show(ctx, clock, anna)
    assert member(ctx, anna).booking_suspended_until is not None
    body = client.get(f"/api/members/{anna}/no-shows", headers=admin).json()
    assert len(body) == 3
    assert set(body[0]) == {"id", "booking_id", "at", "removed_at"}
    assert body[0]["at"] == "2026-03-02T09:45:00Z" and body[0]["removed_at"] is None

    clock.advance(minutes=1)
    for _ in range(2):  # removing again is no error
        response = client.delete(f"/api/no-shows/{body[0]['id']}", headers=admin)
        assert response.status_code == 204 and response.content == b""
    after = client.get(f"/api/members/{anna}/no-shows", headers=admin).json()
    assert after[0]["removed_at"] == "2026-03-02T09:46:00Z"
    assert member(ctx, anna).booking_suspended_until is None


def test_api_lift_booking_suspension(
    client: TestClient, admin: Headers, ctx: ServerContext, clock: FakeClock
) -> None:
    anna = new_member(ctx)
    for _ in range(3):
        no_show(ctx, clock, anna)
    response = client.post(f"/api/members/{anna}/lift-booking-suspension", headers=admin)
    assert response.status_code == 200
    assert response.json()["id"] == anna and response.json()["name"] == "Anna Kowalska"
    assert member(ctx, anna).booking_suspended_until is None
