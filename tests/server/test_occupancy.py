"""Room occupancy: the pure derivation with an explicit `now`, then the domain functions
(sensor readings, the scheduler's tick, door events, device health) on a real database
with a FakeClock, the rooms API, and room events on the event bus."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from protocol.messages import Count, DoorEvent, Motion, Status, new_id
from server.adapters.scheduler import Scheduler
from server.bookings import store
from server.context import ServerContext
from server.db import models
from server.live.kinds import BookingEvent
from server.monitoring import device_status
from server.occupancy.live import (
    Live,
    RoomOccupancy,
    derive,
    last_closing,
    over_capacity,
    vacant_for,
    with_count,
    with_motion,
    with_reset,
)
from server.occupancy.readings import Reading, Recorded, record_readings
from server.occupancy.state import Changes, building_people
from server.occupancy.state import view as room_view
from server.occupancy.tick import tick as occupancy_tick
from server.site import OccupancyRules, SiteConfig

if TYPE_CHECKING:
    from tests.server.conftest import FakeClock

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # Monday 10:00 in Warsaw
MIN = timedelta(minutes=1)
TIMEOUT = timedelta(minutes=15)  # the demo site's vacancy timeout
WARSAW = ZoneInfo("Europe/Warsaw")
HOURS = {d: ["08:00-21:00"] for d in ("mon", "tue", "wed", "thu", "fri")} | {"sat": ["10:00-16:00"]}


# --- the pure derivation ---------------------------------------------------------------


def test_motion_makes_a_room_occupied_until_the_vacancy_timeout() -> None:
    live = with_motion(Live(), motion=True, at=T0)
    live = with_motion(live, motion=False, at=T0 + MIN)
    assert derive(live, now=T0 + MIN, vacancy_timeout=TIMEOUT).occupied
    assert derive(live, now=T0 + 15 * MIN, vacancy_timeout=TIMEOUT).occupied
    vacant = derive(live, now=T0 + 16 * MIN, vacancy_timeout=TIMEOUT)
    assert (vacant.occupied, vacant.people, vacant.last_motion) == (False, None, T0 + MIN)


def test_motion_that_goes_on_keeps_a_room_occupied() -> None:
    live = with_motion(Live(), motion=True, at=T0)
    assert derive(live, now=T0 + 3 * TIMEOUT, vacancy_timeout=TIMEOUT).occupied


def test_a_late_motion_event_does_not_undo_a_newer_one() -> None:
    live = with_motion(Live(), motion=True, at=T0 + MIN)
    late = with_motion(live, motion=False, at=T0)
    assert (late.motion, late.last_motion) == (True, T0 + MIN)


def test_people_are_entered_minus_left_never_below_zero_and_never_capped() -> None:
    live = Live(people=0)
    live = with_count(live, entered=3, left=1, at=T0)
    assert live.people == 2
    live = with_count(live, entered=0, left=5, at=T0)
    assert live.people == 0
    live = with_count(live, entered=500, left=0, at=T0)
    assert live.people == 500
    assert over_capacity(live.people, 40)
    assert not over_capacity(None, 40) and not over_capacity(50, None)
    assert derive(live, now=T0 + 10 * TIMEOUT, vacancy_timeout=TIMEOUT).occupied
    assert not derive(Live(people=0), now=T0, vacancy_timeout=TIMEOUT).occupied


@pytest.mark.parametrize(
    ("local_now", "local_closing"),
    [
        (datetime(2026, 3, 2, 10, 0), datetime(2026, 2, 28, 16, 0)),  # Monday morning: Saturday
        (datetime(2026, 3, 2, 21, 0), datetime(2026, 3, 2, 21, 0)),  # at closing
        (datetime(2026, 3, 2, 20, 59), datetime(2026, 2, 28, 16, 0)),
        (datetime(2026, 3, 29, 12, 0), datetime(2026, 3, 28, 16, 0)),  # DST Sunday
        (datetime(2026, 3, 30, 22, 0), datetime(2026, 3, 30, 21, 0)),  # first CEST Monday
    ],
)
def test_last_closing_is_the_end_of_a_day_s_opening_hours(
    local_now: datetime, local_closing: datetime
) -> None:
    now = local_now.replace(tzinfo=WARSAW).astimezone(UTC)
    expected = local_closing.replace(tzinfo=WARSAW).astimezone(UTC)
    assert last_closing(HOURS, WARSAW, now) == expected
    assert last_closing({}, WARSAW, now) is None


def test_the_people_count_resets_once_after_closing() -> None:
    closing = datetime(2026, 3, 2, 20, 0, tzinfo=UTC)
    counted = Live(people=7, counted_since=closing - timedelta(days=1))
    reset = with_reset(counted, closing=closing)
    assert (reset.people, reset.counted_since) == (0, closing)
    assert with_reset(reset, closing=closing) == reset
    assert with_reset(Live(), closing=closing) == Live()  # no counter: stays None
    # A crossing from before the reset belongs to a closed day.
    assert with_count(reset, entered=2, left=0, at=closing - MIN).people == 0
    assert with_count(reset, entered=2, left=0, at=closing + MIN).people == 2


def test_vacant_for_counts_from_the_last_sign_of_anyone() -> None:
    live = with_motion(Live(), motion=False, at=T0 + 2 * MIN)
    assert not vacant_for(live, since=T0, now=T0 + 16 * MIN, timeout=TIMEOUT)
    assert vacant_for(live, since=T0, now=T0 + 17 * MIN, timeout=TIMEOUT)
    assert not vacant_for(Live(), since=T0, now=T0 + 14 * MIN, timeout=TIMEOUT)
    assert not vacant_for(Live(people=1), since=T0, now=T0 + TIMEOUT, timeout=TIMEOUT)


# --- helpers of the domain tests ---------------------------------------------------------


def motion(device: str, at: datetime, on: bool = True, **fields: object) -> Reading:
    return Reading(device, Motion(id=new_id(), ts=at, motion=on, **fields))


def count(device: str, at: datetime, entered: int = 0, left: int = 0) -> Reading:
    return Reading(device, Count(id=new_id(), ts=at, entered=entered, left=left))


def record(ctx: ServerContext, *readings: Reading, site: SiteConfig | None = None) -> Recorded:
    with ctx.writes() as s, s.begin():
        done = record_readings(s, site=site or ctx.site, readings=readings, now=ctx.clock())
    done.changes.publish(ctx.events)
    return done


def tick(ctx: ServerContext, since: datetime | None = None) -> Changes:
    with ctx.writes() as s, s.begin():
        changes = occupancy_tick(s, site=ctx.site, now=ctx.clock(), since=since)
    changes.publish(ctx.events)
    return changes


def view(ctx: ServerContext, room: str) -> RoomOccupancy:
    with ctx.reads() as s:
        return room_view(s, site=ctx.site, room_id=room, now=ctx.clock())


def new_booking(
    ctx: ServerContext,
    start: datetime,
    *,
    room: str = "sala-a",
    hours: float = 1,
    status: str = "booked",
    source: str = "api",
) -> int:
    with ctx.writes() as s, s.begin():
        member = models.Member(name="Anna Kowalska", category="resident")
        s.add(member)
        s.flush()
        booking = models.Booking(
            room_id=room,
            member_id=member.id,
            start=start,
            end=start + timedelta(hours=hours),
            status=status,
            source=source,
            checked_in_at=start if status == "checked_in" else None,
        )
        s.add(booking)
        s.flush()
        return booking.id


def booking(ctx: ServerContext, booking_id: int) -> models.Booking:
    with ctx.reads() as s:
        found = s.get(models.Booking, booking_id)
        assert found is not None
        return found


def alerts_of(ctx: ServerContext, kind: str) -> list[models.Alert]:
    with ctx.reads() as s:
        A = models.Alert
        return list(s.scalars(select(A).where(A.kind == kind).order_by(A.id)))


def policy_n(ctx: ServerContext) -> int:
    with ctx.reads() as s:
        return s.get(models.Meta, 1).policy_n  # type: ignore[union-attr]


# --- sensor readings -------------------------------------------------------------------


def test_motion_makes_a_room_occupied_and_the_api_shows_it(
    ctx: ServerContext, clock: FakeClock, client: TestClient, admin: dict[str, str]
) -> None:
    record(ctx, motion("pir-sala-a", clock.now), motion("pir-sala-a", clock.now, on=False))
    rooms = {r["id"]: r for r in client.get("/api/rooms", headers=admin).json()}
    assert rooms["sala-a"]["occupancy"] == {
        "occupied": True,
        "people": None,
        "last_motion": "2026-03-02T09:00:00Z",
    }
    assert rooms["sala-b"]["occupancy"] == {"occupied": False, "people": 0, "last_motion": None}
    clock.advance(minutes=15)
    room = client.get("/api/rooms/sala-a", headers=admin).json()
    assert room["occupancy"]["occupied"] is False
    assert room["occupancy"]["last_motion"] == "2026-03-02T09:00:00Z"


def test_counts_in_and_out_never_below_zero(ctx: ServerContext, clock: FakeClock) -> None:
    record(
        ctx,
        count("counter-sala-b", clock.now, entered=3),
        count("counter-sala-b", clock.now, left=1),
    )
    assert (view(ctx, "sala-b").people, view(ctx, "sala-b").occupied) == (2, True)
    record(ctx, count("counter-sala-b", clock.now, left=5))
    assert view(ctx, "sala-b").people == 0
    record(ctx, count("counter-sala-b", clock.now, entered=1))
    assert view(ctx, "sala-b").people == 1
    assert view(ctx, "sala-a").people is None  # no counter watches sala-a


def test_the_building_count_is_the_entrance_counter(ctx: ServerContext, clock: FakeClock) -> None:
    record(ctx, count("counter-main", clock.now, entered=4, left=1))
    with ctx.reads() as s:
        assert building_people(s, site=ctx.site, now=clock.now) == 3


def test_over_capacity_is_not_capped_and_alerts_once(ctx: ServerContext, clock: FakeClock) -> None:
    record(ctx, count("counter-sala-b", clock.now, entered=41))
    assert view(ctx, "sala-b").people == 41  # capacity 40: shown as it is
    record(ctx, count("counter-sala-b", clock.now, entered=2))
    [alert] = alerts_of(ctx, "over_capacity")
    assert (alert.room_id, alert.details) == ("sala-b", {"people": 41, "capacity": 40, "count": 1})
    record(ctx, count("counter-sala-b", clock.now, left=10))
    record(ctx, count("counter-sala-b", clock.now, entered=10))
    [alert] = alerts_of(ctx, "over_capacity")  # still open: the second time is counted on it
    assert alert.details["count"] == 2  # type: ignore[index]


def test_a_duplicate_sensor_event_counts_once(ctx: ServerContext, clock: FakeClock) -> None:
    reading = count("counter-sala-b", clock.now, entered=1)
    first = record(ctx, reading, reading)
    again = record(ctx, reading)
    assert (first.new, first.duplicates, again.new, again.duplicates) == (1, 1, 0, 1)
    assert view(ctx, "sala-b").people == 1
    with ctx.reads() as s:
        rows = s.scalars(
            select(models.DeviceEvent).where(models.DeviceEvent.event_id == reading.message.id)
        )
        assert len(list(rows)) == 1


def test_events_of_unknown_devices_are_not_applied(ctx: ServerContext, clock: FakeClock) -> None:
    done = record(ctx, motion("pir-ghost", clock.now), motion("reader-main", clock.now))
    assert (done.new, done.unknown) == (0, ["pir-ghost", "reader-main"])


def test_an_unsynced_device_clock_is_not_trusted(ctx: ServerContext, clock: FakeClock) -> None:
    with ctx.writes() as s, s.begin():
        s.get(models.Device, "pir-sala-a").clock_synced = False  # type: ignore[union-attr]
    record(ctx, motion("pir-sala-a", clock.now - timedelta(hours=5), on=True))
    assert view(ctx, "sala-a").last_motion == clock.now


# --- check-in by motion ---------------------------------------------------------------------


def test_motion_checks_in_a_booking_inside_its_window(ctx: ServerContext, clock: FakeClock) -> None:
    early = new_booking(ctx, clock.now + 10 * MIN)  # early entry is 15 minutes
    before = policy_n(ctx)
    done = record(ctx, motion("pir-sala-a", clock.now))
    assert booking(ctx, early).status == "checked_in"
    assert booking(ctx, early).checked_in_at == clock.now
    assert policy_n(ctx) > before
    assert done.changes.bookings == [
        BookingEvent(
            room_id="sala-a", change="check_in", booking_id=early, status="checked_in", by="motion"
        )
    ]


def test_motion_late_in_the_grace_period_checks_in(ctx: ServerContext, clock: FakeClock) -> None:
    late = new_booking(ctx, clock.now - 14 * MIN)
    record(ctx, motion("pir-sala-a", clock.now))
    assert booking(ctx, late).status == "checked_in"


@pytest.mark.parametrize("offset", [16 * MIN, -16 * MIN])
def test_motion_outside_the_window_does_not_check_in(
    ctx: ServerContext, clock: FakeClock, offset: timedelta
) -> None:
    outside = new_booking(ctx, clock.now + offset)
    record(ctx, motion("pir-sala-a", clock.now))
    assert booking(ctx, outside).status == "booked"


def test_no_motion_and_another_room_do_not_check_in(ctx: ServerContext, clock: FakeClock) -> None:
    booked = new_booking(ctx, clock.now)
    record(ctx, motion("pir-sala-a", clock.now, on=False), motion("pir-sala-b", clock.now))
    assert booking(ctx, booked).status == "booked"


def test_early_motion_does_not_check_in_while_another_booking_holds_the_room(
    ctx: ServerContext, clock: FakeClock
) -> None:
    new_booking(ctx, clock.now - 50 * MIN, status="checked_in")  # until now + 10 min
    next_one = new_booking(ctx, clock.now + 10 * MIN)
    record(ctx, motion("pir-sala-a", clock.now))
    assert booking(ctx, next_one).status == "booked"


def test_counts_never_check_in(ctx: ServerContext, clock: FakeClock) -> None:
    booked = new_booking(ctx, clock.now, room="sala-b")
    record(ctx, count("counter-sala-b", clock.now, entered=5))
    assert booking(ctx, booked).status == "booked"


def test_motion_does_not_check_in_where_the_site_does_not_allow_it(
    ctx: ServerContext, clock: FakeClock
) -> None:
    assert ctx.site.occupancy.motion_check_in  # on in the demo
    site = ctx.site.model_copy(update={"occupancy": OccupancyRules(motion_check_in=False)})
    booked = new_booking(ctx, clock.now)
    record(ctx, motion("pir-sala-a", clock.now), site=site)
    assert booking(ctx, booked).status == "booked"


# --- the tick: closing time, walk-ins, booked-but-empty -------------------------------------


def test_the_people_count_resets_at_closing_time(ctx: ServerContext, clock: FakeClock) -> None:
    record(ctx, count("counter-main", clock.now, entered=5))
    tick(ctx)
    assert view(ctx, "main").people == 5
    clock.now = datetime(2026, 3, 2, 19, 59, tzinfo=UTC)  # 20:59 in Warsaw
    tick(ctx)
    assert view(ctx, "main").people == 5
    clock.now = datetime(2026, 3, 2, 20, 0, 1, tzinfo=UTC)  # 21:00:01, closed
    changes = tick(ctx, since=clock.now - timedelta(seconds=1))
    assert view(ctx, "main").people == 0
    assert changes.rooms["main"].people == 0
    record(ctx, count("counter-main", clock.now - 2 * MIN, entered=3))  # late, from before
    assert view(ctx, "main").people == 0
    record(ctx, count("counter-main", clock.now, entered=1, left=0))
    tick(ctx)
    assert view(ctx, "main").people == 1


def test_a_walk_in_ends_once_its_room_has_been_vacant(ctx: ServerContext, clock: FakeClock) -> None:
    start = clock.now
    walk_in = new_booking(ctx, start, hours=3, status="checked_in", source="walk_in")
    clock.advance(minutes=1)
    record(ctx, motion("pir-sala-a", clock.now))
    clock.advance(minutes=1)
    record(ctx, motion("pir-sala-a", clock.now, on=False))  # last seen at start + 2 min
    clock.now = start + 16 * MIN
    tick(ctx)
    assert booking(ctx, walk_in).status == "checked_in"
    before = policy_n(ctx)
    clock.now = start + 17 * MIN
    changes = tick(ctx)
    ended = booking(ctx, walk_in)
    assert (ended.status, ended.end, ended.completed_at) == ("completed", clock.now, clock.now)
    assert policy_n(ctx) > before
    assert changes.bookings == [
        BookingEvent(
            room_id="sala-a",
            change="completed",
            booking_id=walk_in,
            status="completed",
            by="vacancy",
        )
    ]
    # The rest of the slot is free again.
    with ctx.reads() as s:
        assert (
            store.overlapping(s, room_id="sala-a", start=clock.now, end=start + timedelta(hours=3))
            == []
        )


def test_a_walk_in_is_kept_while_someone_is_counted_or_moving(
    ctx: ServerContext, clock: FakeClock
) -> None:
    start = clock.now
    counted = new_booking(ctx, start, room="sala-b", hours=3, status="checked_in", source="walk_in")
    moving = new_booking(ctx, start, hours=3, status="checked_in", source="walk_in")
    record(ctx, count("counter-sala-b", clock.now, entered=1), motion("pir-sala-a", clock.now))
    clock.advance(hours=2)
    tick(ctx)
    assert booking(ctx, counted).status == "checked_in"
    assert booking(ctx, moving).status == "checked_in"  # motion still goes on


def test_a_dead_motion_sensor_does_not_hold_a_room_occupied(
    ctx: ServerContext, clock: FakeClock
) -> None:
    record(ctx, motion("pir-sala-a", clock.now))
    status = Status(state="online", kind="occupancy", ts=clock.now, interval_s=300)
    ctx.access.handle_status("pir-sala-a", status)
    clock.advance(minutes=10)
    tick(ctx)
    assert view(ctx, "sala-a").occupied
    clock.advance(minutes=10)  # silent for three intervals and more: offline
    tick(ctx)
    assert not view(ctx, "sala-a").occupied


def test_a_booked_room_still_empty_after_its_start_alerts_once(
    ctx: ServerContext, clock: FakeClock
) -> None:
    empty = new_booking(ctx, clock.now)
    busy = new_booking(ctx, clock.now, room="sala-b")
    record(ctx, count("counter-sala-b", clock.now, entered=2))
    clock.advance(seconds=30)
    tick(ctx)
    assert alerts_of(ctx, "booked_empty") == []
    clock.advance(seconds=31)
    changes = tick(ctx)
    [alert] = alerts_of(ctx, "booked_empty")
    assert (alert.booking_id, alert.room_id) == (empty, "sala-a")
    assert [a.id for a in changes.alerts] == [alert.id]
    with ctx.writes() as s, s.begin():
        s.get(models.Alert, alert.id).acknowledged_at = clock.now  # type: ignore[union-attr]
    clock.advance(minutes=1)
    assert tick(ctx).alerts == []
    assert len(alerts_of(ctx, "booked_empty")) == 1
    assert booking(ctx, busy).status == "booked"


# --- devices ----------------------------------------------------------------------------


def test_a_silent_device_is_offline_and_alerts_once_per_outage(
    ctx: ServerContext, clock: FakeClock
) -> None:
    status = Status(state="online", kind="door", ts=clock.now, interval_s=60)
    ctx.access.handle_status("reader-sala-a", status)
    since = clock.now
    clock.advance(seconds=180)
    assert tick(ctx, since=since).alerts == []  # three intervals: still online
    since = clock.now
    clock.advance(seconds=1)
    changes = tick(ctx, since=since)
    [alert] = alerts_of(ctx, "device_offline")
    assert (alert.device_id, alert.room_id, alert.details["reason"]) == (  # type: ignore[index]
        "reader-sala-a",
        "sala-a",
        "silent",
    )
    assert [d.id for d in changes.devices] == ["reader-sala-a"]
    assert changes.devices[0].online is False
    with ctx.writes() as s, s.begin():
        s.get(models.Alert, alert.id).acknowledged_at = clock.now  # type: ignore[union-attr]
    for _ in range(3):
        since = clock.now
        clock.advance(minutes=1)
        changes = tick(ctx, since=since)
        assert (changes.alerts, changes.devices) == ([], [])
    # Back, and gone again: a second outage, a second alert.
    ctx.access.handle_status("reader-sala-a", status.model_copy(update={"ts": clock.now}))
    clock.advance(minutes=4)
    tick(ctx)
    assert len(alerts_of(ctx, "device_offline")) == 2


def test_a_last_will_is_offline_at_once(ctx: ServerContext, clock: FakeClock) -> None:
    ctx.access.handle_status("pir-cowork", Status(state="online", kind="occupancy", ts=clock.now))
    tick(ctx)
    assert alerts_of(ctx, "device_offline") == []
    ctx.access.handle_status("pir-cowork", Status(state="offline", kind="occupancy", ts=clock.now))
    tick(ctx)
    tick(ctx)
    [alert] = alerts_of(ctx, "device_offline")
    assert alert.details["reason"] == "offline"  # type: ignore[index]


def test_devices_never_heard_from_raise_nothing(ctx: ServerContext, clock: FakeClock) -> None:
    clock.advance(days=2)
    assert tick(ctx).alerts == []


@pytest.mark.parametrize("kind", ["forced", "held_open", "fire_release", "tamper"])
def test_door_events_staff_must_see_raise_alerts(
    ctx: ServerContext, clock: FakeClock, kind: str
) -> None:
    event = DoorEvent(id=new_id(), ts=clock.now, event=kind)  # type: ignore[arg-type]
    with ctx.writes() as s, s.begin():
        alert = device_status.record_door_event(
            s, site=ctx.site, device_id="reader-main", event=event, now=clock.now
        )
        again = device_status.record_door_event(
            s, site=ctx.site, device_id="reader-main", event=event, now=clock.now
        )
    assert alert is not None and again is None
    assert (alert.kind, alert.device_id, alert.room_id) == (kind, "reader-main", "main")


def test_ordinary_door_events_are_only_recorded(ctx: ServerContext, clock: FakeClock) -> None:
    with ctx.writes() as s, s.begin():
        for name in ("opened", "closed", "exit_request"):
            event = DoorEvent(id=new_id(), ts=clock.now, event=name)  # type: ignore[arg-type]
            assert (
                device_status.record_door_event(
                    s, site=ctx.site, device_id="reader-sala-b", event=event, now=clock.now
                )
                is None
            )
    with ctx.reads() as s:
        rows = list(s.scalars(select(models.DeviceEvent).where(models.DeviceEvent.kind == "door")))
    assert sorted(r.event for r in rows) == ["closed", "exit_request", "opened"]
    assert {r.room_id for r in rows} == {"sala-b"}


# --- the event bus ---------------------------------------------------------------------


def test_room_changes_are_published_as_room_events(ctx: ServerContext, clock: FakeClock) -> None:
    async def scenario() -> list[tuple[str, dict]]:
        sub = ctx.events.subscribe()
        await asyncio.to_thread(record, ctx, motion("pir-sala-a", clock.now))
        await asyncio.to_thread(record, ctx, motion("pir-sala-a", clock.now, on=False))
        await asyncio.to_thread(record, ctx, count("counter-sala-b", clock.now, entered=41))
        since = clock.now
        clock.advance(minutes=15)
        await asyncio.to_thread(tick, ctx, since)
        seen = [(event.kind, event.data) for event in sub.delivered()]
        sub.close()
        return seen

    seen = asyncio.run(scenario())
    rooms = [data for kind, data in seen if kind == "room"]
    assert rooms == [
        {
            "id": "sala-a",
            "occupied": True,
            "people": None,
            "last_motion": "2026-03-02T09:00:00Z",
            "over_capacity": False,
        },
        {
            "id": "sala-b",
            "occupied": True,
            "people": 41,
            "last_motion": None,
            "over_capacity": True,
        },
        {
            "id": "sala-a",
            "occupied": False,
            "people": None,
            "last_motion": "2026-03-02T09:00:00Z",
            "over_capacity": False,
        },
    ]
    [alert] = [data for kind, data in seen if kind == "alert"]
    assert (alert["kind"], alert["room_id"]) == ("over_capacity", "sala-b")


def test_status_changes_are_published_as_device_events(
    ctx: ServerContext, clock: FakeClock
) -> None:
    async def scenario() -> list[dict]:
        sub = ctx.events.subscribe()
        for state in ("online", "online", "offline"):
            status = Status(state=state, kind="occupancy", ts=clock.now)  # type: ignore[arg-type]
            await asyncio.to_thread(ctx.access.handle_status, "pir-sala-b", status)
        seen = []
        while (event := await sub.get(timeout=0.5)) is not None:
            assert event.kind == "device"
            seen.append(event.data)
        sub.close()
        return seen

    assert [(d["id"], d["online"]) for d in asyncio.run(scenario())] == [
        ("pir-sala-b", True),  # the heartbeat that followed changed nothing
        ("pir-sala-b", False),
    ]


def test_the_scheduler_runs_the_occupancy_tick(ctx: ServerContext, clock: FakeClock) -> None:
    walk_in = new_booking(ctx, clock.now, hours=3, status="checked_in", source="walk_in")
    scheduler = Scheduler(ctx)
    scheduler.run_once()
    clock.advance(minutes=15)
    scheduler.run_once()
    assert booking(ctx, walk_in).status == "completed"
    assert booking(ctx, walk_in).end == clock.now


def test_a_first_no_motion_reading_does_not_make_a_room_occupied():
    from server.occupancy.live import Live, derive, with_motion

    at = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    live = with_motion(Live(), motion=False, at=at)
    assert live.last_motion is None
    assert not derive(live, now=at, vacancy_timeout=900).occupied
