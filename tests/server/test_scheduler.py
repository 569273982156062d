"""The scheduler thread: passes on a moved clock, a real-clock release within a second,
waiting for the door-path backlog, and carrying on after a failing pass."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from support.factories import booking_row, member, row
from support.waiting import eventually, wait_for

from server.adapters.scheduler import Scheduler
from server.context import ServerContext
from server.db import models
from server.db.meta import version
from server.noshows import release
from server.noshows.release import SweepReport
from server.settings import Settings
from server.waitlist import offers

if TYPE_CHECKING:
    from tests.server.conftest import FakeClock

GRACE = timedelta(minutes=15)
HOUR = timedelta(hours=1)


def new_booking(ctx: ServerContext, start: datetime, end: datetime | None = None) -> int:
    with ctx.writes() as s, s.begin():
        return booking_row(s, member(s).id, start, end).id


def booking(ctx: ServerContext, booking_id: int) -> models.Booking:
    return row(ctx, models.Booking, booking_id)


@pytest.fixture
def running() -> Iterator[list[Scheduler]]:
    """Schedulers a test starts; stopped however the test ends."""
    started: list[Scheduler] = []
    try:
        yield started
    finally:
        for scheduler in started:
            scheduler.stop()


def test_run_once_sweeps_at_the_clocks_now(ctx: ServerContext, clock: FakeClock) -> None:
    bid = new_booking(ctx, clock.now)
    scheduler = Scheduler(ctx)
    clock.advance(minutes=14, seconds=59)
    assert scheduler.run_once().released == []
    clock.advance(seconds=1)
    assert scheduler.run_once().released == [bid]
    assert booking(ctx, bid).released_at == clock.now
    assert scheduler.passes == 2


def test_thread_releases_within_a_second_on_the_real_clock(
    settings: Settings, running: list[Scheduler]
) -> None:
    """An overdue booking goes at the first pass; one whose grace ends half a second from
    now goes less than a second after that."""
    ctx = ServerContext.create(settings)  # the system clock
    try:
        now = datetime.now(UTC)
        overdue = new_booking(ctx, now - GRACE - HOUR)
        soon = new_booking(ctx, now - GRACE + timedelta(seconds=0.5))
        due = booking(ctx, soon).start + GRACE
        scheduler = Scheduler(ctx)
        running.append(scheduler)
        scheduler.start()
        assert eventually(lambda: booking(ctx, overdue).status == "released", 1.0)
        assert eventually(lambda: booking(ctx, soon).status == "released", 2.0)
        released_at = booking(ctx, soon).released_at
        assert released_at is not None
        assert timedelta(0) <= released_at - due < timedelta(seconds=1)
    finally:
        for scheduler in running:
            scheduler.stop()
        ctx.close()


def test_first_pass_waits_for_the_backlog(
    ctx: ServerContext, clock: FakeClock, running: list[Scheduler]
) -> None:
    bid = new_booking(ctx, clock.now - HOUR)
    backlog_applied = threading.Event()
    scheduler = Scheduler(ctx, interval=0.01, start_after=backlog_applied)
    running.append(scheduler)
    scheduler.start()
    time.sleep(0.2)
    assert scheduler.passes == 0
    assert booking(ctx, bid).status == "booked"
    backlog_applied.set()
    assert eventually(lambda: booking(ctx, bid).status == "released", 2.0)


def test_first_pass_runs_anyway_after_the_timeout(
    ctx: ServerContext, clock: FakeClock, running: list[Scheduler], caplog: pytest.LogCaptureFixture
) -> None:
    bid = new_booking(ctx, clock.now - HOUR)
    scheduler = Scheduler(ctx, interval=0.01, start_after=threading.Event(), start_timeout=0.1)
    running.append(scheduler)
    with caplog.at_level(logging.WARNING, logger="server.adapters.scheduler"):
        scheduler.start()
        assert eventually(lambda: booking(ctx, bid).status == "released", 2.0)
    assert "backlog not applied" in caplog.text


def test_stop_while_waiting_for_the_backlog(ctx: ServerContext) -> None:
    scheduler = Scheduler(ctx, start_after=threading.Event())
    scheduler.start()
    began = time.monotonic()
    scheduler.stop()
    assert time.monotonic() - began < 1
    assert scheduler.passes == 0


def test_a_failing_pass_is_logged_and_the_loop_goes_on(
    ctx: ServerContext,
    clock: FakeClock,
    running: list[Scheduler],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    real = release.sweep
    failures: list[int] = []

    def flaky(session: Any, **kw: Any) -> SweepReport:
        if len(failures) < 2:
            failures.append(1)
            raise RuntimeError("database hiccup")
        return real(session, **kw)

    monkeypatch.setattr(release, "sweep", flaky)
    bid = new_booking(ctx, clock.now - HOUR)
    scheduler = Scheduler(ctx, interval=0.01)
    running.append(scheduler)
    with caplog.at_level(logging.ERROR, logger="server.adapters.scheduler"):
        scheduler.start()
        assert eventually(lambda: booking(ctx, bid).status == "released", 2.0)
    assert len(failures) == 2
    assert caplog.text.count("scheduler pass failed") == 2


def test_offers_past_their_hold_expire(ctx: ServerContext, clock: FakeClock) -> None:
    bid = new_booking(ctx, clock.now + HOUR)
    with ctx.writes() as s, s.begin():
        holder = s.get(models.Booking, bid)
        assert holder is not None
        entry = models.WaitlistEntry(
            site_id=ctx.site.id,
            member_id=holder.member_id,
            room_id="sala-b",
            start=clock.now,
            end=clock.now + HOUR,
            status="offered",
        )
        s.add(entry)
        s.flush()
        offer = models.Offer(
            waitlist_id=entry.id,
            member_id=holder.member_id,
            room_id="sala-b",
            start=clock.now,
            end=clock.now + HOUR,
            expires_at=clock.now + timedelta(minutes=10),
        )
        s.add(offer)
        s.flush()
        offer_id = offer.id
    scheduler = Scheduler(ctx)
    scheduler.run_once()
    clock.advance(minutes=10)
    scheduler.run_once()
    with ctx.reads() as s:
        found = s.get(models.Offer, offer_id)
        assert found is not None and found.status == "expired"


def test_a_failing_waitlist_does_not_hold_back_releases(
    ctx: ServerContext,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(session: Any, **kw: Any) -> int:
        raise RuntimeError("waitlist broke")

    monkeypatch.setattr(offers, "expire_offers", broken)
    bid = new_booking(ctx, clock.now - HOUR)
    with caplog.at_level(logging.ERROR, logger="server.adapters.scheduler"):
        assert Scheduler(ctx).run_once().released == [bid]
    assert booking(ctx, bid).status == "released"
    assert "expiring waitlist offers failed" in caplog.text


def test_on_report_hears_of_committed_changes(ctx: ServerContext, clock: FakeClock) -> None:
    heard: list[tuple[SweepReport, str]] = []

    def on_report(report: SweepReport) -> None:
        # runs after the commit: another session sees the release
        heard.append((report, booking(ctx, report.released[0]).status))

    scheduler = Scheduler(ctx, on_report=on_report)
    scheduler.run_once()
    assert heard == []  # nothing changed, nothing said
    bid = new_booking(ctx, clock.now - HOUR)
    scheduler.run_once()
    assert [(r.released, status) for r, status in heard] == [([bid], "released")]


def test_a_sweep_of_many_goes_a_batch_a_transaction(
    ctx: ServerContext, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each sweep releases `releases` at most and says when more are due; one pass sweeps
    again until none is, releasing them all (and their snapshot is built, on the builder's
    thread)."""
    with ctx.writes() as s, s.begin():
        holder = member(s).id
        starts = [clock.now - HOUR + i * GRACE / 10 for i in range(5)]
        ids = [booking_row(s, holder, at, at + GRACE / 10).id for at in starts]
    clock.advance(minutes=20)
    with ctx.writes() as s, s.begin():
        first = release.sweep(s, site=ctx.site, now=clock.now, releases=2)
    assert (first.released, first.more) == (ids[:2], True)
    monkeypatch.setattr("server.adapters.scheduler.RELEASES_BATCH", 2)
    scheduler = Scheduler(ctx)
    scheduler.builder.start()
    try:
        report = scheduler.run_once()
        assert (report.released, report.more) == (ids[2:], False)
        assert [booking(ctx, bid).status for bid in ids] == ["released"] * 5
        with ctx.reads() as s:
            current = version(s)
        wait_for(lambda: ctx.policy.held(current, clock.now), what="the snapshot built")
    finally:
        scheduler.builder.stop()
