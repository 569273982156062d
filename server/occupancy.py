"""Live room occupancy: what the sensors saw, derived into occupied / people / last motion.

The derivation is pure, over plain values and an explicit `now`:

>>> t = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
>>> live = with_motion(Live(), motion=False, at=t)
>>> derive(live, now=t + timedelta(minutes=10), vacancy_timeout=timedelta(minutes=15)).occupied
True
>>> derive(live, now=t + timedelta(minutes=15), vacancy_timeout=timedelta(minutes=15)).occupied
False

A room is occupied when its people count is above zero (where a beam counter watches it),
when its motion sensor says motion goes on, or when motion was seen within the site's
vacancy timeout. `people` is entered minus left, never below zero and never capped at the
capacity (over it raises an alert), back to zero at each daily closing time since counters
drift; it is None for a room without a counter.

The domain functions run in the caller's writer transaction and return the `Changes` to
publish once it has committed: `record_readings` (a batch of Motion and Count events),
`tick` (the scheduler's pass: the nightly reset, walk-ins ended by vacancy, booked rooms
still empty, device health) and `view` for the rooms API."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from protocol.messages import Count, Motion
from protocol.policy import WEEKDAYS, _parse_interval
from server import alerts, bookings, devices, models, policy
from server.checkin import check_in
from server.events import EventBus
from server.site import Room, SiteConfig
from server.timefmt import format_utc

log = logging.getLogger(__name__)

# A booked room with nobody in it this long after the start raises `booked_empty`.
BOOKED_EMPTY_AFTER = timedelta(minutes=1)


# -- the pure derivation ----------------------------------------------------------------


@dataclass(frozen=True)
class Live:
    """What a room's sensors reported, as plain values (a RoomState row)."""

    people: int | None = None  # None: no counter watches the room
    last_motion: datetime | None = None
    motion: bool = False  # the last Motion said motion goes on
    counted_since: datetime | None = None  # the last reset of `people`
    last_activity: datetime | None = None  # the last sensor event applied


@dataclass(frozen=True)
class RoomOccupancy:
    occupied: bool
    people: int | None
    last_motion: datetime | None


def derive(live: Live, *, now: datetime, vacancy_timeout: timedelta) -> RoomOccupancy:
    """The room's occupancy at `now`."""
    recent = live.last_motion is not None and now - live.last_motion < vacancy_timeout
    occupied = (live.people or 0) > 0 or live.motion or recent
    return RoomOccupancy(occupied=occupied, people=live.people, last_motion=live.last_motion)


def with_motion(live: Live, *, motion: bool, at: datetime) -> Live:
    """A Motion event seen at `at`: motion was there then (until then, when it stopped).
    An older event delivered late does not undo what a newer one said."""
    newest = live.last_motion is None or at >= live.last_motion
    # A no-motion report ends motion seen before it; with none before (a sensor's first
    # reading after a start), it says nobody has been seen, and sets no time.
    saw_motion = motion or live.motion
    return replace(
        live,
        last_motion=at if newest and saw_motion else live.last_motion,
        motion=motion if newest else live.motion,
        last_activity=_later(live.last_activity, at),
    )


def with_count(live: Live, *, entered: int, left: int, at: datetime) -> Live:
    """A Count event seen at `at`: people in the room, never below zero, never capped.
    Crossings from before the last reset belong to a day already closed."""
    if live.counted_since is not None and at < live.counted_since:
        return live
    people = max(0, (live.people or 0) + entered - left)
    return replace(live, people=people, last_activity=_later(live.last_activity, at))


def with_reset(live: Live, *, closing: datetime | None) -> Live:
    """The people count back to zero once the site has closed since its last reset."""
    if live.people is None or closing is None:
        return live
    if live.counted_since is not None and live.counted_since >= closing:
        return live
    return replace(live, people=0, counted_since=closing)


def vacant_for(live: Live, *, since: datetime, now: datetime, timeout: timedelta) -> bool:
    """Whether nobody has been seen in the room for `timeout`, counting from `since` at
    the earliest (a walk-in's start)."""
    if (live.people or 0) > 0 or live.motion:
        return False
    seen = [t for t in (since, live.last_motion, live.last_activity) if t is not None]
    return now - max(seen) >= timeout


def over_capacity(people: int | None, capacity: int | None) -> bool:
    return people is not None and capacity is not None and people > capacity


def last_closing(hours: dict[str, list[str]], zone: ZoneInfo, now: datetime) -> datetime | None:
    """The latest daily closing time (end of a day's last opening interval) at or before
    `now`, within the past week; None for a site without opening hours."""
    today = now.astimezone(zone).date()
    for back in range(8):
        closing = _closing(hours, today - timedelta(days=back), zone)
        if closing is not None and closing <= now:
            return closing
    return None


def _closing(hours: dict[str, list[str]], day: date, zone: ZoneInfo) -> datetime | None:
    ends = []
    for text in hours.get(WEEKDAYS[day.weekday()], []):
        _start, finish = _parse_interval(text)
        if finish is None:  # "24:00": the next local midnight
            ends.append(datetime.combine(day + timedelta(days=1), time(0), zone))
        else:
            ends.append(datetime.combine(day, finish, zone))
    return max(ends).astimezone(UTC) if ends else None


def _later(a: datetime | None, b: datetime) -> datetime:
    return b if a is None else max(a, b)


# -- what to publish -----------------------------------------------------------------------


@dataclass
class Changes:
    """What a transaction changed, to publish on the event bus once it has committed."""

    rooms: dict[str, dict[str, Any]] = field(default_factory=dict)
    bookings: list[dict[str, Any]] = field(default_factory=list)
    alerts: list[models.Alert] = field(default_factory=list)
    devices: list[dict[str, Any]] = field(default_factory=list)

    def publish(self, bus: EventBus) -> None:
        for booking in self.bookings:
            bus.publish("booking", booking)
        for alert in {id(a): a for a in self.alerts}.values():
            bus.publish("alert", alerts.alert_event(alert))
        for device in self.devices:
            bus.publish("device", device)
        for room in self.rooms.values():
            bus.publish("room", room)


def _booking_event(room_id: str, booking_id: int, change: str, by: str) -> dict[str, Any]:
    """A `booking` event, as the tap path publishes them, saying which booking and why."""
    return {"room_id": room_id, "change": change, "booking_id": booking_id, "by": by}


def room_event(room: Room, occupancy: RoomOccupancy) -> dict[str, Any]:
    """A room's occupancy as the live stream shows it (the rooms API's, with id)."""
    last = occupancy.last_motion
    return {
        "id": room.id,
        "occupied": occupancy.occupied,
        "people": occupancy.people,
        "last_motion": last and format_utc(last),
        "over_capacity": over_capacity(occupancy.people, room.capacity),
    }


# -- the room_states rows ----------------------------------------------------------------


def _counted(site: SiteConfig, room_id: str) -> bool:
    return any(d.room == room_id and d.sensor == "counter" for d in site.devices)


def _sensed(site: SiteConfig, room_id: str) -> bool:
    return any(d.room == room_id and d.kind == "occupancy" for d in site.devices)


def _live(row: models.RoomState | None, *, counted: bool) -> Live:
    if row is None:
        return Live(people=0 if counted else None)
    return Live(
        people=(row.people or 0) if counted else None,
        last_motion=row.last_motion,
        motion=row.motion,
        counted_since=row.counted_since,
        last_activity=row.updated_at,
    )


def _store(row: models.RoomState, live: Live) -> None:
    row.people = live.people
    row.last_motion = live.last_motion
    row.motion = live.motion
    row.counted_since = live.counted_since
    row.updated_at = live.last_activity


def _rows(
    session: Session, *, site: SiteConfig, room_ids: Iterable[str], now: datetime
) -> dict[str, models.RoomState]:
    """The rows of these rooms, locked for this transaction (PostgreSQL; SQLite's writer
    holds the database), made where missing (counting from the last closing time)."""
    wanted = set(room_ids)
    closing = last_closing(site.site.hours, ZoneInfo(site.site.timezone), now)
    locked = (
        select(models.RoomState)
        .where(models.RoomState.room_id.in_(wanted))
        .order_by(models.RoomState.room_id)  # one order, so two writers cannot deadlock
        .with_for_update()
    )
    rows = {r.room_id: r for r in session.scalars(locked)}
    for room_id in wanted - rows.keys():
        counted = _counted(site, room_id)
        row = models.RoomState(room_id=room_id, people=0 if counted else None, motion=False)
        row.counted_since = closing
        session.add(row)
        rows[room_id] = row
    return rows


def view(session: Session, *, site: SiteConfig, room_id: str, now: datetime) -> RoomOccupancy:
    """A room's occupancy now, for the rooms API."""
    row = session.get(models.RoomState, room_id)
    live = _live(row, counted=_counted(site, room_id))
    return derive(live, now=now, vacancy_timeout=_vacancy(site))


def building_people(session: Session, *, site: SiteConfig, now: datetime) -> int | None:
    """How many people are in the building: the entrance counter's room."""
    entrance = next((r for r in site.rooms if r.kind == "entrance"), None)
    if entrance is None:
        return None
    return view(session, site=site, room_id=entrance.id, now=now).people


def _vacancy(site: SiteConfig) -> timedelta:
    return timedelta(seconds=site.walk_in.vacancy_timeout)


def _room_changes(
    session: Session,
    *,
    site: SiteConfig,
    before: dict[str, Live],
    after: dict[str, Live],
    then: datetime,
    now: datetime,
    changes: Changes,
) -> None:
    """A `room` event for each room whose view changed between `then` (before) and `now`
    (after), and an alert for a room that has just gone over its capacity."""
    timeout = _vacancy(site)
    for room_id, live in after.items():
        room = site.room(room_id)
        if room is None:
            continue
        old = room_event(room, derive(before[room_id], now=then, vacancy_timeout=timeout))
        new = room_event(room, derive(live, now=now, vacancy_timeout=timeout))
        if old != new:
            changes.rooms[room_id] = new
        if new["over_capacity"] and not old["over_capacity"]:
            changes.alerts.append(
                alerts.raise_alert(
                    session,
                    kind="over_capacity",
                    now=now,
                    room_id=room_id,
                    details={"people": live.people, "capacity": room.capacity},
                )
            )


def _store_changed(
    rows: dict[str, models.RoomState], before: dict[str, Live], after: dict[str, Live]
) -> None:
    for room_id, live in after.items():
        if live != before[room_id]:
            _store(rows[room_id], live)


# -- sensor events ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Reading:
    """One sensor event: the device that sent it and its Motion or Count."""

    device: str
    message: Motion | Count


@dataclass
class Recorded:
    """What `record_readings` did with a batch."""

    changes: Changes = field(default_factory=Changes)
    new: int = 0
    duplicates: int = 0
    unknown: list[str] = field(default_factory=list)  # devices that are no occupancy sensor


def record_readings(
    session: Session, *, site: SiteConfig, readings: Sequence[Reading], now: datetime
) -> Recorded:
    """Store a batch of sensor events once per (device, id) and apply them, in order, to
    their rooms' live state; fresh motion may check a booking in. In the caller's writer
    transaction."""
    recorded = Recorded()
    fresh = _fresh(session, site=site, readings=readings, recorded=recorded)
    if not fresh:
        return recorded
    sensors = {r.device: site.device(r.device) for r in fresh}
    rooms = {d.room for d in sensors.values() if d is not None}
    rows = _rows(session, site=site, room_ids=rooms, now=now)
    before = {room_id: _live(row, counted=_counted(site, room_id)) for room_id, row in rows.items()}
    after = dict(before)
    synced = _clock_synced(session, sensors)
    motion_at: dict[str, datetime] = {}
    for reading in fresh:
        device = sensors[reading.device]
        assert device is not None  # _fresh kept only the site's sensors
        # The server's clock decides; a device's own time only where its clock is synced.
        at = min(reading.message.ts, now) if synced.get(device.id, True) else now
        session.add(_event_row(reading, device.room, now))
        after[device.room] = _apply(after[device.room], reading.message, device.sensor, at)
        if isinstance(reading.message, Motion) and reading.message.motion:
            motion_at[device.room] = _later(motion_at.get(device.room), at)
    _store_changed(rows, before, after)
    if site.occupancy.motion_check_in:
        for room_id, at in motion_at.items():
            _motion_check_in(session, site=site, room_id=room_id, at=at, now=now, out=recorded)
    _room_changes(
        session, site=site, before=before, after=after, then=now, now=now, changes=recorded.changes
    )
    recorded.new = len(fresh)
    return recorded


def _fresh(
    session: Session, *, site: SiteConfig, readings: Sequence[Reading], recorded: Recorded
) -> list[Reading]:
    """The readings of the site's sensors not recorded before (nor earlier in the batch)."""
    sensors = []
    for reading in readings:
        device = site.device(reading.device)
        if device is None or device.kind != "occupancy":
            recorded.unknown.append(reading.device)
        else:
            sensors.append(reading)
    known = devices.known_events(session, ((r.device, r.message.id) for r in sensors))
    fresh = []
    for reading in sensors:
        key = (reading.device, reading.message.id)
        if key in known:
            recorded.duplicates += 1
            continue
        known.add(key)
        fresh.append(reading)
    return fresh


def _clock_synced(session: Session, device_ids: Iterable[str]) -> dict[str, bool]:
    D = models.Device
    rows = session.execute(select(D.id, D.clock_synced).where(D.id.in_(list(device_ids))))
    return {device_id: synced for device_id, synced in rows}


def _apply(live: Live, message: Motion | Count, sensor: str | None, at: datetime) -> Live:
    if isinstance(message, Motion):
        return with_motion(live, motion=message.motion, at=at)
    if sensor != "counter":
        return live  # recorded, but only a beam counter counts people
    return with_count(live, entered=message.entered, left=message.left, at=at)


def _event_row(reading: Reading, room_id: str, now: datetime) -> models.DeviceEvent:
    m = reading.message
    row = models.DeviceEvent(
        device_id=reading.device,
        event_id=m.id,
        room_id=room_id,
        ts=m.ts,
        received=now,
        boot=m.boot,
        seq=m.seq,
    )
    if isinstance(m, Motion):
        row.kind, row.event, row.entered, row.left = "motion", _motion_name(m.motion), 0, 0
    else:
        row.kind, row.event, row.entered, row.left = "count", "count", m.entered, m.left
    return row


def _motion_name(motion: bool) -> str:
    return "motion" if motion else "no_motion"


def _motion_check_in(
    session: Session, *, site: SiteConfig, room_id: str, at: datetime, now: datetime, out: Recorded
) -> None:
    """Check in the booking whose check-in window holds motion seen at `at`: from its
    early entry (only into a room no other booking holds then) until its grace ends."""
    early = timedelta(seconds=site.access.early_entry)
    grace = timedelta(seconds=site.access.no_show_grace)
    B = models.Booking
    candidates = session.execute(
        select(B.id, B.start)
        .where(B.room_id == room_id, B.status == "booked", B.start <= at + early)
        .where(B.start > at - grace)
        .order_by(B.start, B.id)
    ).all()
    for booking_id, start in candidates:
        if at < start and _held_by_another(session, room_id=room_id, booking_id=booking_id, at=at):
            continue
        if check_in(session, booking_id=booking_id, now=now):
            out.changes.bookings.append(_booking_event(room_id, booking_id, "check_in", "motion"))
            return


def _held_by_another(session: Session, *, room_id: str, booking_id: int, at: datetime) -> bool:
    current = bookings.current_booking(session, room_id=room_id, now=at)
    return current is not None and current.id != booking_id


# -- the scheduler's pass ------------------------------------------------------------------


def tick(
    session: Session, *, site: SiteConfig, now: datetime, since: datetime | None = None
) -> Changes:
    """The periodic pass, in the caller's writer transaction: people counts back to zero
    after closing time, walk-ins ended by vacancy, alerts on booked rooms still empty and
    on devices gone offline; `room` and `device` events for what changed since `since`
    (the previous pass)."""
    changes = Changes()
    health = devices.check_health(session, site=site, now=now, since=since)
    changes.alerts += health.alerts
    changes.devices += health.changed
    rows = _rows(session, site=site, room_ids=[r.id for r in site.rooms], now=now)
    before = {room_id: _live(row, counted=_counted(site, room_id)) for room_id, row in rows.items()}
    closing = last_closing(site.site.hours, ZoneInfo(site.site.timezone), now)
    after = {
        room_id: _settle(live, closing=closing, pirs_dead=_pirs_dead(site, room_id, health.offline))
        for room_id, live in before.items()
    }
    _store_changed(rows, before, after)
    _end_vacant_walk_ins(session, site=site, rooms=after, now=now, changes=changes)
    _alert_booked_empty(session, site=site, rooms=after, now=now, changes=changes)
    _room_changes(
        session, site=site, before=before, after=after, then=since or now, now=now, changes=changes
    )
    return changes


def _settle(live: Live, *, closing: datetime | None, pirs_dead: bool) -> Live:
    live = with_reset(live, closing=closing)
    if pirs_dead and live.motion:
        live = replace(live, motion=False)  # a dead sensor does not hold a room occupied
    return live


def _pirs_dead(site: SiteConfig, room_id: str, offline: set[str]) -> bool:
    pirs = [d.id for d in site.devices if d.room == room_id and d.sensor == "pir"]
    return bool(pirs) and all(p in offline for p in pirs)


def end_walk_in(session: Session, *, booking_id: int, now: datetime) -> bool:
    """A walk-in `checked_in -> completed` with its end moved to `now`, so the rest of its
    slot is free: one conditional UPDATE; False when it is no longer a running walk-in."""
    B = models.Booking
    result = session.execute(
        update(B)
        .where(B.id == booking_id, B.status == "checked_in", B.source == "walk_in", B.end > now)
        .values(status="completed", end=now, completed_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    policy.bump(session)
    return True


def _end_vacant_walk_ins(
    session: Session, *, site: SiteConfig, rooms: dict[str, Live], now: datetime, changes: Changes
) -> None:
    """Walk-ins whose room has been vacant for the vacancy timeout end now."""
    timeout = _vacancy(site)
    B = models.Booking
    due = session.execute(
        select(B.id, B.room_id, B.start).where(
            B.status == "checked_in", B.source == "walk_in", B.start <= now - timeout, B.end > now
        )
    ).all()
    for booking_id, room_id, start in due:
        live = rooms.get(room_id)
        if live is None or not _sensed(site, room_id):
            continue  # nothing watches the room: the walk-in runs to its end
        if not vacant_for(live, since=start, now=now, timeout=timeout):
            continue
        if end_walk_in(session, booking_id=booking_id, now=now):
            changes.bookings.append(_booking_event(room_id, booking_id, "completed", "vacancy"))


def _alert_booked_empty(
    session: Session, *, site: SiteConfig, rooms: dict[str, Live], now: datetime, changes: Changes
) -> None:
    """A booking still `booked` a minute after its start in a room nobody is in: one
    `booked_empty` alert per booking."""
    B, A = models.Booking, models.Alert
    due = session.execute(
        select(B.id, B.room_id, B.start).where(
            B.status == "booked", B.start <= now - BOOKED_EMPTY_AFTER, B.end > now
        )
    ).all()
    if not due:
        return
    alerted = set(
        session.scalars(
            select(A.booking_id).where(
                A.kind == "booked_empty", A.booking_id.in_([b for b, _, _ in due])
            )
        )
    )
    timeout = _vacancy(site)
    for booking_id, room_id, start in due:
        live = rooms.get(room_id)
        if booking_id in alerted or live is None or not _sensed(site, room_id):
            continue
        if derive(live, now=now, vacancy_timeout=timeout).occupied:
            continue
        changes.alerts.append(
            alerts.raise_alert(
                session,
                kind="booked_empty",
                now=now,
                room_id=room_id,
                booking_id=booking_id,
                details={"start": format_utc(start)},
            )
        )
