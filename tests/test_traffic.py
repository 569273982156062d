"""The demo's simulated visitors drive the real devices, and through them the server: taps
become access events, beams become counts, motion makes rooms occupied, a tap at a booked
room checks its booking in. Through a real (embedded) broker and a real SQLite database."""

from __future__ import annotations

import itertools
import logging
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import pytest
from sqlalchemy import func, select
from support import waiting
from support.clock import MonotonicClock as Clock
from support.database import migrated_database

from protocol.messages import new_id
from server.adapters.door_ingest import DoorIngest
from server.adapters.sensor_ingest import SensorIngest
from server.bookings import store as bookings
from server.context import ServerContext
from server.db import models
from server.occupancy import state as occupancy
from server.settings import Settings
from spacehub.building import Building, start_devices
from spacehub.gestures import Party
from spacehub.scheduler import Script
from spacehub.seed import demo_site, seed
from spacehub.traffic import Traffic

wait_for = partial(waiting.wait_for, timeout=15.0, every=0.05)


def _settings(tmp_path: Path, mqtt_url: str = "mqtt://127.0.0.1:1") -> Settings:
    return Settings(
        database_url=migrated_database(tmp_path / "spacehub.db"),
        mqtt_url=mqtt_url,
        admin_token="admin-token-0123456789abcdef",
        card_key="test-card-key-0123456789",
        instance=f"t{new_id()[:6].lower().replace('-', 'x').replace('_', 'x')}",
    )


@dataclass
class Demo:
    ctx: ServerContext
    building: Building


@pytest.fixture
def demo(embedded_broker, tmp_path: Path) -> Iterator[Demo]:  # type: ignore[no-untyped-def]
    """The demo's server side (door path and sensor ingest) and every demo device on mock
    pins, seeded as `spacehub demo --traffic` seeds it; devices online."""
    ctx = ServerContext.create(_settings(tmp_path, embedded_broker.url), site=demo_site(None))
    seed(ctx, traffic=True)
    doors, sensors = DoorIngest(ctx), SensorIngest(ctx)
    building: Building | None = None
    try:
        doors.start()
        sensors.start()
        assert doors.wait_connected(10)  # both of the door path's connections
        assert sensors.client.wait_connected(10)
        building = start_devices(ctx, embedded_broker.url, tmp_path)
        wait_for(lambda: online(ctx) == len(ctx.site.devices), what="every device online")
        yield Demo(ctx, building)
    finally:
        if building is not None:
            building.stop()
        sensors.stop()
        doors.stop()
        ctx.close()


def online(ctx: ServerContext) -> int:
    with ctx.reads() as s:
        return s.scalar(select(func.count()).where(models.Device.online.is_(True))) or 0


def access_events(ctx: ServerContext, **where: object) -> list[models.AccessEvent]:
    with ctx.reads() as s:
        stmt = select(models.AccessEvent).filter_by(**where).order_by(models.AccessEvent.id)
        return list(s.scalars(stmt))


def device_events(ctx: ServerContext, **where: object) -> list[models.DeviceEvent]:
    with ctx.reads() as s:
        stmt = select(models.DeviceEvent).filter_by(**where).order_by(models.DeviceEvent.id)
        return list(s.scalars(stmt))


def room(ctx: ServerContext, room_id: str) -> occupancy.RoomOccupancy:
    with ctx.reads() as s:
        return occupancy.view(s, site=ctx.site, room_id=room_id, now=ctx.clock())


def door_alerts(ctx: ServerContext) -> int:
    """Alerts of a door forced or held open: the simulation never causes one."""
    with ctx.reads() as s:
        kinds = models.Alert.kind.in_(("forced", "held_open"))
        return s.scalar(select(func.count()).where(kinds)) or 0


def status(ctx: ServerContext, booking_id: int) -> str:
    with ctx.reads() as s:
        return bookings.get_booking(s, booking_id=booking_id).status


def test_a_booking_holder_and_a_guest_arrive_check_in_move_about_and_leave(demo: Demo) -> None:
    ctx = demo.ctx
    traffic = Traffic(ctx, demo.building, rng=random.Random(1), speed=100)
    olena = traffic.people["Olena Szewczenko"]  # no plan: only her booking lets her in
    with ctx.reads() as s:
        (booking,) = bookings.list_bookings(s, room_id="sala-a", member_id=olena.member_id)
    assert booking.status == "booked"  # seeded to start in a minute: early entry
    party = Party((olena,), guests=1)

    assert traffic.perform(traffic.arrive(party)) is True
    wait_for(lambda: room(ctx, "main").people == 2, what="two people counted in")
    (tap,) = access_events(ctx, device_id="reader-main")
    assert (tap.granted, tap.reason, tap.member_id) == (True, "booking", olena.member_id)

    assert traffic.perform(traffic.enter_room(party, "sala-a")) is True
    wait_for(lambda: status(ctx, booking.id) == "checked_in", what="booking checked in")
    (tap,) = access_events(ctx, device_id="reader-sala-a")
    assert (tap.granted, tap.reason) == (True, "booking")
    wait_for(lambda: room(ctx, "sala-a").occupied, what="motion in sala-a")
    assert device_events(ctx, device_id="pir-sala-a", event="motion")

    traffic.perform(traffic.leave_room(party, "sala-a"))
    traffic.perform(traffic.leave(party))
    wait_for(lambda: room(ctx, "main").people == 0, what="both counted out")
    exits = device_events(ctx, device_id="reader-main", event="exit_request")
    assert len(exits) == 1  # nobody needs a card to leave
    opened = device_events(ctx, kind="door", event="opened")
    assert {e.device_id for e in opened} == {"reader-main", "reader-sala-a"}
    assert door_alerts(ctx) == 0
    assert all(door.controller.door_closed for door in demo.building.doors.values())


def test_a_card_that_opens_nothing_leaves_the_door_shut(demo: Demo) -> None:
    traffic = Traffic(demo.ctx, demo.building, rng=random.Random(2), speed=100)
    jan = traffic.people["Jan Zieliński"]  # suspended
    assert traffic.perform(traffic.arrive(Party((jan,)))) is False
    (tap,) = access_events(demo.ctx, device_id="reader-main")
    assert (tap.granted, tap.reason) == (False, "member_suspended")
    assert not device_events(demo.ctx, kind="door", event="opened")
    assert not device_events(demo.ctx, device_id="counter-main")


def test_a_fast_seeded_day_moves_every_kind_of_device(
    demo: Demo, caplog: pytest.LogCaptureFixture
) -> None:
    ctx = demo.ctx
    caplog.set_level(logging.ERROR, logger="spacehub")
    traffic = Traffic(ctx, demo.building, rng=random.Random(7), speed=40)
    traffic.start()
    try:
        wait_for(
            lambda: (
                len(access_events(ctx, granted=True)) >= 4
                and len(device_events(ctx, kind="motion")) >= 2
                and len(device_events(ctx, kind="count")) >= 2
            ),
            timeout=60,
            what="taps, motion and counts",
        )
    finally:
        began = time.monotonic()
        traffic.stop()
        stopped_in = time.monotonic() - began
    assert stopped_in < 2.0
    assert traffic.failures == 0
    assert not [r for r in caplog.records if r.name.startswith("spacehub.")]
    assert door_alerts(ctx) == 0
    wait_for(
        lambda: all(door.controller.door_closed for door in demo.building.doors.values()),
        timeout=2,
        what="every door closed after stop",
    )


# -- the scheduler alone, on a hand-moved clock ------------------------------------------


@pytest.fixture
def quiet(tmp_path: Path) -> Iterator[ServerContext]:
    """A seeded demo database, no broker and no devices."""
    ctx = ServerContext.create(_settings(tmp_path), site=demo_site(None))
    seed(ctx, traffic=False)
    try:
        yield ctx
    finally:
        ctx.close()


def test_the_scheduler_steps_scripts_in_time_order_and_closes_them_on_stop(
    quiet: ServerContext,
) -> None:
    clock = Clock(0.0)
    traffic = Traffic(quiet, Building(), rng=random.Random(3), clock=clock)
    assert set(traffic.people) >= {"Anna Kowalska", "Piotr Wiśniewski"}
    done: list[str] = []

    def script(name: str, waits: list[float]) -> Script[None]:
        try:
            for wait in waits:
                done.append(f"{name}@{clock.now:g}")
                yield wait
            done.append(f"{name} ends@{clock.now:g}")
        finally:
            done.append(f"{name} closed")

    def broken() -> Script[None]:
        yield 1.0
        raise RuntimeError("a visitor tripped")

    traffic.spawn(script("a", [2.0, 5.0]))
    traffic.spawn(script("b", [1.0]), delay=1.0)
    traffic.spawn(broken())
    assert traffic.run_due() == 1.0  # a and broken ran; b and broken are due at 1
    clock.now = 1.0
    assert traffic.run_due() == 1.0  # broken failed: counted, the others go on
    assert traffic.failures == 1
    clock.now = 2.0
    assert traffic.run_due() == 5.0
    assert done == ["a@0", "b@1", "a@2", "b ends@2", "b closed"]
    traffic.stop()  # a is still waiting: closed
    assert done[-1] == "a closed"


def test_bookings_made_by_a_seeded_day_are_near_and_repeatable(tmp_path: Path) -> None:
    now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday, 10:00 in Warsaw

    def bookings_made(seed_: int) -> list[tuple[str, int, timedelta, timedelta, str | None]]:
        folder = tmp_path / f"seed{seed_}-{new_id()[:6]}"
        folder.mkdir()
        ctx = ServerContext.create(_settings(folder), site=demo_site(None), clock=lambda: now)
        try:
            seed(ctx, traffic=False)
            traffic = Traffic(ctx, Building(), rng=random.Random(seed_))
            made = [traffic.book_soon() for _ in range(4)]
            with ctx.reads() as s:
                found = [bookings.get_booking(s, booking_id=b) for b in made if b is not None]
            return [
                (b.room_id, b.member_id, b.start - now, b.end - b.start, b.title) for b in found
            ]
        finally:
            ctx.close()

    day = bookings_made(5)
    assert day == bookings_made(5)
    assert len(day) == 4  # two rooms, each with room for two in the next two hours
    first_lead = day[0][2]
    assert timedelta(minutes=1) <= first_lead <= timedelta(minutes=6)  # about to start
    for room_id in {b[0] for b in day}:
        slots = sorted((lead, lead + length) for r, _, lead, length, _ in day if r == room_id)
        assert all(a_end <= b_start for (_, a_end), (b_start, _) in itertools.pairwise(slots))
    for _room, _member, lead, length, title in day:
        assert lead <= timedelta(hours=2)
        assert timedelta(minutes=30) <= length <= timedelta(minutes=90)
        assert title
