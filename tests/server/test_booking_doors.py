"""Bookings at the doors, through a real broker: check-in on arrival, refusals, walk-in,
no-show release, and check-in racing release."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from doorwire import Clock, Device, door_path
from sqlalchemy import select
from support.factories import add_booking

from server.db import models
from server.noshows.release import sweep

KEY = "test-card-key-0123456789"
START = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)  # Tuesday 18:00 in Warsaw
GRACE = timedelta(minutes=15)
CARDS = {"olena": "04D4E5F6", "anna": "04B2C3D4", "piotr": "04C3D4E5", "ewa": "04A1B2C3"}
CATEGORY = {"olena": "ngo", "anna": "business", "piotr": "resident", "ewa": "staff"}


@pytest.fixture
def hub(broker, tmp_path):
    clock = Clock(START - timedelta(hours=1))
    members = {who: (CATEGORY[who], CARDS[who]) for who in CATEGORY}
    with door_path(broker.url, tmp_path, clock=clock, key=KEY, members=members, wire=Device) as (
        ctx,
        wire,
        ids,
    ):
        yield ctx, clock, wire, ids


def book(ctx, member_id, start=START, attendees=()) -> int:
    return add_booking(ctx, member_id, start, now=start - timedelta(days=1), attendees=attendees)


def status(ctx, booking_id) -> str:
    with ctx.reads() as s:
        return s.get(models.Booking, booking_id).status


def tap(wire, device, who, clock):
    t = wire.tap(device, CARDS[who], ts=clock.now)
    return wire.decision(t)[1]


def test_holder_is_admitted_and_checked_in_others_refused(hub):
    ctx, clock, wire, ids = hub
    booking = book(ctx, ids["anna"], attendees=[ids["olena"]])
    clock.now = START - timedelta(minutes=10)  # early entry
    assert tap(wire, "reader-main", "anna", clock).reason == "booking"
    assert status(ctx, booking) == "booked"  # the entrance does not check in
    decision = tap(wire, "reader-sala-a", "anna", clock)
    assert (decision.granted, decision.reason) == (True, "booking")
    assert status(ctx, booking) == "checked_in"
    clock.now = START + timedelta(minutes=5)
    assert tap(wire, "reader-sala-a", "olena", clock).reason == "booking"  # attendee
    refused = tap(wire, "reader-sala-a", "piotr", clock)
    assert (refused.granted, refused.reason) == (False, "room_booked")
    assert tap(wire, "reader-sala-a", "ewa", clock).reason == "staff"


def test_back_to_back_current_booking_wins_over_next_early_entry(hub):
    ctx, clock, wire, ids = hub
    first = book(ctx, ids["anna"])
    second = book(ctx, ids["olena"], start=START + timedelta(hours=1))
    clock.now = START + timedelta(minutes=5)
    assert tap(wire, "reader-sala-a", "anna", clock).granted
    clock.now = START + timedelta(minutes=50)
    assert tap(wire, "reader-sala-a", "olena", clock).reason == "room_booked"
    assert tap(wire, "reader-main", "olena", clock).reason == "booking"
    assert status(ctx, second) == "booked"
    clock.now = START + timedelta(hours=1, minutes=1)
    assert tap(wire, "reader-sala-a", "olena", clock).reason == "booking"
    assert tap(wire, "reader-sala-a", "anna", clock).reason == "room_booked"
    assert (status(ctx, first), status(ctx, second)) == ("checked_in", "checked_in")


def test_no_show_is_released_and_then_refused(hub):
    ctx, clock, wire, ids = hub
    booking = book(ctx, ids["anna"])
    clock.now = START + GRACE
    with ctx.writes() as s, s.begin():
        sweep(s, site=ctx.site, now=clock.now)
    assert status(ctx, booking) == "released"
    decision = tap(wire, "reader-sala-a", "anna", clock)
    assert (decision.granted, decision.reason) == (False, "booking_released")
    assert status(ctx, booking) == "released"


def test_walk_in_takes_a_free_room_until_the_next_booking(hub):
    ctx, clock, wire, ids = hub
    book(ctx, ids["anna"], start=START + timedelta(hours=2))
    clock.now = START
    decision = tap(wire, "reader-sala-a", "piotr", clock)
    assert (decision.granted, decision.reason) == (True, "walk_in")
    with ctx.reads() as s:
        walk_in = s.scalars(select(models.Booking).where(models.Booking.source == "walk_in")).one()
    assert (walk_in.member_id, walk_in.status) == (ids["piotr"], "checked_in")
    assert (walk_in.start, walk_in.end) == (START, START + timedelta(hours=2))
    # the room is now the walk-in's: a business member may not take it
    assert tap(wire, "reader-sala-a", "anna", clock).reason == "room_booked"


@pytest.mark.parametrize("sweep_first", [False, True])
def test_check_in_racing_release_never_both(hub, sweep_first):
    """At the last moment of grace a tap and the release sweep race: one wins, the door
    opens only if the check-in won, and never on a released booking."""
    ctx, clock, wire, ids = hub
    for i in range(15):
        start = START + timedelta(hours=2 * i)
        booking = book(ctx, ids["anna"], start=start)
        clock.now = start + GRACE - timedelta(milliseconds=1)  # the tap's time: in grace
        gate = threading.Event()

        def release(gate: threading.Event, due: datetime) -> None:
            gate.wait(5)
            with ctx.writes() as s, s.begin():
                sweep(s, site=ctx.site, now=due)

        sweeper = threading.Thread(target=release, args=(gate, start + GRACE))
        sweeper.start()
        if sweep_first:
            gate.set()
            decision = tap(wire, "reader-sala-a", "anna", clock)
        else:
            t = wire.tap("reader-sala-a", CARDS["anna"], ts=clock.now)
            gate.set()
            decision = wire.decision(t)[1]
        sweeper.join(5)
        final = status(ctx, booking)
        assert final in ("checked_in", "released")
        assert decision.granted == (final == "checked_in"), (i, decision, final)


def test_public_booking_puts_its_doors_in_passage_mode_on_the_wire(hub):
    import queue

    from protocol import topics
    from protocol.messages import DoorMode, decode

    ctx, clock, wire, ids = hub
    modes: queue.Queue[tuple[str, str]] = queue.Queue()
    wire.client.subscribe(
        topics.all_commands("piaseczno", "mode"),
        lambda m: modes.put((topics.parse(m.topic).device, decode(DoorMode, m.payload).mode)),
    )
    end = START + timedelta(hours=2)
    add_booking(ctx, ids["olena"], START, end, now=clock.now, room_id="sala-b", public=True)
    clock.now = START + timedelta(minutes=1)

    latest: dict[str, str] = {}
    while {latest.get("reader-sala-b"), latest.get("reader-main")} != {"unlocked"}:
        device, mode = modes.get(timeout=5)
        latest[device] = mode
    assert latest.get("reader-sala-a", "normal") == "normal"
