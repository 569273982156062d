"""The booking lifecycle (server.bookings.lifecycle): each status change is one conditional
UPDATE that bumps the policy once per transaction and makes exactly one typed event; every
path that changes a booking publishes that one event after its commit, and every live
event read back from the stream validates against the model of its kind."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from protocol.decide import Outcome
from protocol.messages import Motion, Reason, Tap, new_id
from server.adapters.scheduler import Scheduler
from server.bookings import lifecycle
from server.context import ServerContext
from server.db import meta, models
from server.live.kinds import MODELS, BookingEvent
from server.occupancy.readings import Reading, record_readings
from server.people import members
from server.waitlist import offers as waitlist_offers

if TYPE_CHECKING:
    from tests.server.conftest import FakeClock

HOUR = timedelta(hours=1)
GRACE = timedelta(minutes=15)  # the demo site's no_show_grace
ANNA = "04B2C3D4"


def add_member(ctx: ServerContext, name: str = "Anna Kowalska", card: str | None = None) -> int:
    with ctx.writes() as s, s.begin():
        member = members.create_member(s, name=name, category="business")
        if card is not None:
            members.add_card(s, card_key=ctx.card_key, member_id=member.id, uid=card)
        return member.id


def add_booking(ctx: ServerContext, member_id: int, start: datetime, **row: Any) -> int:
    """A booking of Sala A for an hour from `start`, `booked` unless `row` says otherwise."""
    with ctx.writes() as s, s.begin():
        booking = models.Booking(
            **{"room_id": "sala-a", "status": "booked", **row},
            member_id=member_id,
            start=start,
            end=start + HOUR,
        )
        s.add(booking)
        s.flush()
        return booking.id


def policy_n(ctx: ServerContext) -> int:
    with ctx.reads() as s:
        return meta.version(s)[1]


def status_of(ctx: ServerContext, booking_id: int) -> str:
    with ctx.reads() as s:
        booking = s.get(models.Booking, booking_id)
        assert booking is not None
        return booking.status


# -- each change ----------------------------------------------------------------------

RUNNING = {"status": "checked_in"}
WALK_IN = {"status": "checked_in", "source": "walk_in"}
# The change: (the booking before, its keywords besides the booking's id, what its event
# says: `change`, the status after, `by`).
CHANGES: dict[str, tuple[dict[str, str], set[str], tuple[str, str, str]]] = {
    "check_in": ({}, {"now", "by"}, ("check_in", "checked_in", "tap")),
    "release_booking": ({}, {"now", "by"}, ("released", "released", "sweep")),
    "complete": (RUNNING, {"now"}, ("completed", "completed", "sweep")),
    "end_walk_in": (WALK_IN, {"now"}, ("completed", "completed", "vacancy")),
    "end_early": (RUNNING, {"now", "by"}, ("completed", "completed", "staff")),
    "undo_check_in": (RUNNING, {"checked_in_at"}, ("check_in_undone", "booked", "result")),
    "undo_walk_in": (WALK_IN, {"checked_in_at", "now"}, ("cancelled", "cancelled", "result")),
    "reinstate": ({"status": "released"}, {"at"}, ("check_in", "checked_in", "result")),
}


@pytest.mark.parametrize("name", list(CHANGES))
def test_a_change_is_one_event_and_one_bump_and_never_twice(
    ctx: ServerContext, clock: FakeClock, name: str
) -> None:
    before, keywords, (said, after, by) = CHANGES[name]
    at = clock.now - timedelta(minutes=1)  # when it was checked in (or is to be)
    start = clock.now - timedelta(minutes=5)
    booking_id = add_booking(ctx, add_member(ctx), start, checked_in_at=at, **before)
    given = {"now": clock.now, "at": at, "checked_in_at": at, "by": by}

    def change(s: Session) -> BookingEvent | None:
        made: BookingEvent | None = getattr(lifecycle, name)(
            s, booking_id=booking_id, **{k: given[k] for k in keywords}
        )
        return made

    n = policy_n(ctx)
    with ctx.writes() as s, s.begin():
        event = change(s)
    assert event == BookingEvent(
        booking_id=booking_id,
        room_id="sala-a",
        change=said,
        status=after,
        by=by,  # type: ignore[arg-type]
    )
    assert event.model_dump()["id"] == booking_id
    assert status_of(ctx, booking_id) == after
    assert policy_n(ctx) == n + 1
    with ctx.writes() as s, s.begin():  # the same change again: its UPDATE matches nothing
        assert change(s) is None
    assert status_of(ctx, booking_id) == after
    assert policy_n(ctx) == n + 1


def test_cancel_and_what_refuses_it(ctx: ServerContext, clock: FakeClock) -> None:
    from server.errors import Conflict, NotFound

    booking_id = add_booking(ctx, add_member(ctx), clock.now + HOUR)
    with ctx.writes() as s, s.begin():
        booking, event = lifecycle.cancel_booking(s, booking_id=booking_id, now=clock.now, by="api")
        assert (booking.status, booking.cancelled_at) == ("cancelled", clock.now)
    assert (event.change, event.status, event.by) == ("cancelled", "cancelled", "api")
    n = policy_n(ctx)
    with ctx.writes() as s, s.begin(), pytest.raises(Conflict, match="is cancelled"):
        lifecycle.cancel_booking(s, booking_id=booking_id, now=clock.now, by="api")
    with ctx.writes() as s, s.begin(), pytest.raises(NotFound):
        lifecycle.cancel_booking(s, booking_id=booking_id + 100, now=clock.now, by="api")
    assert policy_n(ctx) == n


def test_end_early_ends_a_running_booking_now(ctx: ServerContext, clock: FakeClock) -> None:
    booking_id = add_booking(ctx, add_member(ctx), clock.now - HOUR / 2, status="checked_in")
    with ctx.writes() as s, s.begin():
        event = lifecycle.end_early(s, booking_id=booking_id, now=clock.now, by="staff")
    assert event is not None
    with ctx.reads() as s:
        booking = s.get(models.Booking, booking_id)
        assert booking is not None
        assert (booking.status, booking.completed_at, booking.end) == (
            "completed",
            clock.now,
            clock.now,
        )


@pytest.mark.parametrize(
    "row",
    [
        {"status": "booked"},  # not checked in
        {"status": "checked_in", "start": "later"},  # not begun
        {"status": "checked_in", "start": "over"},  # its end has come: the sweep's
    ],
)
def test_end_early_refuses_what_is_not_running(
    ctx: ServerContext, clock: FakeClock, row: dict[str, str]
) -> None:
    start = {"later": clock.now + HOUR, "over": clock.now - 2 * HOUR}.get(
        row.get("start", ""), clock.now - HOUR / 2
    )
    booking_id = add_booking(ctx, add_member(ctx), start, status=row["status"])
    n = policy_n(ctx)
    with ctx.writes() as s, s.begin():
        assert lifecycle.end_early(s, booking_id=booking_id, now=clock.now, by="staff") is None
    assert (status_of(ctx, booking_id), policy_n(ctx)) == (row["status"], n)


def test_a_release_first_then_end_early_is_refused(ctx: ServerContext, clock: FakeClock) -> None:
    from server.errors import Conflict
    from server.waitlist import freed

    booking_id = add_booking(ctx, add_member(ctx), clock.now - GRACE)
    with ctx.writes() as s, s.begin():
        assert lifecycle.release_booking(s, booking_id=booking_id, now=clock.now, by="sweep")
    n = policy_n(ctx)
    with ctx.writes() as s, s.begin(), pytest.raises(Conflict, match="is released"):
        freed.end_booking(s, site=ctx.site, booking_id=booking_id, now=clock.now, by="staff")
    assert (status_of(ctx, booking_id), policy_n(ctx)) == ("released", n)


def test_a_walk_in_is_booked_checked_in_unless_the_room_is_taken(
    ctx: ServerContext, clock: FakeClock
) -> None:
    grant = Outcome(
        granted=True,
        reason=Reason.WALK_IN,
        member_id=add_member(ctx),
        effect="walk_in",
        room="sala-b",
        until=clock.now + HOUR,
    )
    with ctx.writes() as s, s.begin():
        event = lifecycle.start_walk_in(s, site=ctx.site, outcome=grant, at=clock.now, by="tap")
        assert event is not None
        # The room is taken now (by the first): None, and the transaction stands.
        assert (
            lifecycle.start_walk_in(s, site=ctx.site, outcome=grant, at=clock.now, by="tap") is None
        )
    assert (event.room_id, event.change, event.status) == ("sala-b", "walk_in", "checked_in")
    with ctx.reads() as s:
        walk_in = s.get(models.Booking, event.booking_id)
        assert walk_in is not None
        assert (walk_in.status, walk_in.source, walk_in.checked_in_at, walk_in.end) == (
            "checked_in",
            "walk_in",
            clock.now,
            clock.now + HOUR,
        )


def test_one_bump_per_transaction_and_again_after_a_savepoint_rolled_back(
    ctx: ServerContext, clock: FakeClock
) -> None:
    anna = add_member(ctx)
    ids = [add_booking(ctx, anna, clock.now + i * HOUR) for i in range(3)]
    n = policy_n(ctx)
    with ctx.writes() as s, s.begin():
        for booking_id in ids[:2]:
            assert lifecycle.release_booking(s, booking_id=booking_id, now=clock.now, by="sweep")
    assert policy_n(ctx) == n + 1  # two releases, one transaction
    with ctx.writes() as s, s.begin():
        with pytest.raises(RuntimeError), s.begin_nested():
            lifecycle.release_booking(s, booking_id=ids[2], now=clock.now, by="sweep")
            raise RuntimeError("undo the savepoint, its bump with it")
        assert lifecycle.check_in(s, booking_id=ids[2], now=clock.now, by="tap")
    assert status_of(ctx, ids[2]) == "checked_in"
    assert policy_n(ctx) == n + 2  # the check-in bumped, though the undone release had


# -- every path publishes its one event, and every event is its model -------------------


def _listen(ctx: ServerContext, scenario: Callable[[], None]) -> list[tuple[str, dict[str, Any]]]:
    async def run() -> list[tuple[str, dict[str, Any]]]:
        sub = ctx.events.subscribe()
        await asyncio.to_thread(scenario)
        seen = [(event.kind, event.data) for event in sub.delivered()]
        sub.close()
        return seen

    return asyncio.run(run())


def test_every_path_publishes_one_event_per_change_and_each_is_its_model(
    ctx: ServerContext, clock: FakeClock, client: TestClient, admin: dict[str, str]
) -> None:
    anna = add_member(ctx, card=ANNA)
    bob = add_member(ctx, "Bob Nowak")
    tapped = add_booking(ctx, anna, clock.now)  # Anna taps in at Sala A
    moved = add_booking(ctx, bob, clock.now - 10 * timedelta(minutes=1), room_id="sala-b")
    cancelled = add_booking(ctx, bob, clock.now + 3 * HOUR)
    released = add_booking(ctx, bob, clock.now + 4 * HOUR)
    no_show = add_booking(ctx, bob, clock.now - GRACE - timedelta(minutes=1), room_id="coworking")

    def scenario() -> None:
        tap = Tap(id=new_id(), ts=clock.now, card=ANNA)
        ctx.access.handle_tap("reader-sala-a", tap, lambda decision: None)
        with ctx.writes() as s, s.begin():
            motion = Motion(id=new_id(), ts=clock.now, motion=True)
            done = record_readings(
                s, site=ctx.site, readings=[Reading("pir-sala-b", motion)], now=clock.now
            )
        done.changes.publish(ctx.events)
        cancel = client.post(f"/api/bookings/{cancelled}/cancel", headers=admin)
        assert cancel.status_code == 200, cancel.text
        release = client.post(f"/api/bookings/{released}/release", headers=admin)
        assert release.status_code == 200, release.text
        Scheduler(ctx, on_report=lambda r: ctx.events.publish_all(r.booking_events())).run_once()

    seen = _listen(ctx, scenario)
    for kind, data in seen:  # each reads back as its model, and writes out the same JSON
        assert MODELS[kind].model_validate(data).model_dump(mode="json") == data, (kind, data)
    changes = [
        (d["booking_id"], d["room_id"], d["change"], d["status"], d["by"])
        for kind, d in seen
        if kind == "booking"
    ]
    assert sorted(changes) == sorted(
        [
            (tapped, "sala-a", "check_in", "checked_in", "tap"),
            (moved, "sala-b", "check_in", "checked_in", "motion"),
            (cancelled, "sala-a", "cancelled", "cancelled", "api"),
            (released, "sala-a", "released", "released", "staff"),
            (no_show, "coworking", "released", "released", "sweep"),
        ]
    )
    [access] = [d for kind, d in seen if kind == "access"]
    assert (access["device"], access["room_id"], access["granted"]) == (
        "reader-sala-a",
        "sala-a",
        True,
    )


def test_publish_takes_a_model_only(ctx: ServerContext) -> None:
    with pytest.raises(TypeError, match="not a live event"):
        ctx.events.publish({"room_id": "sala-a", "change": "released"})  # type: ignore[arg-type]


# -- a freed slot: the change stands whatever becomes of the offer ---------------------


@pytest.fixture
def broken_waitlist(monkeypatch: pytest.MonkeyPatch) -> None:
    """An offer that writes something, then fails."""

    def offer_freed_slot(session: Any, **kw: Any) -> Any:
        session.add(models.Member(name="half-done", category="resident"))
        session.flush()
        raise RuntimeError("waitlist broke")

    monkeypatch.setattr(waitlist_offers, "offer_freed_slot", offer_freed_slot)


@pytest.mark.parametrize("how", ["cancel", "release"])
def test_a_failing_offer_never_undoes_the_cancellation_or_release(
    ctx: ServerContext,
    clock: FakeClock,
    client: TestClient,
    admin: dict[str, str],
    broken_waitlist: None,
    caplog: pytest.LogCaptureFixture,
    how: str,
) -> None:
    booking_id = add_booking(ctx, add_member(ctx), clock.now + HOUR)
    with caplog.at_level(logging.ERROR, logger="server.waitlist.freed"):
        response = client.post(f"/api/bookings/{booking_id}/{how}", headers=admin)
    assert response.status_code == 200, response.text
    status = "cancelled" if how == "cancel" else "released"
    assert response.json()["status"] == status
    assert status_of(ctx, booking_id) == status
    with ctx.reads() as s:  # the offer's own writes were undone
        assert s.scalars(select(models.Member).where(models.Member.name == "half-done")).all() == []
    assert "offering the freed slot of sala-a" in caplog.text
