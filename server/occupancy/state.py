"""A room's live state as stored (the `room_states` rows), its view now, and what a
transaction changed, to publish once it has committed."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db import models
from server.live.events import EventBus
from server.live.kinds import BookingEvent, DeviceStatusEvent, RoomEvent
from server.monitoring import alerts
from server.occupancy.live import Live, RoomOccupancy, derive, last_closing, over_capacity
from server.site import Room, SiteConfig

# -- what to publish -----------------------------------------------------------------------


@dataclass
class Changes:
    """What a transaction changed, to publish on the event bus once it has committed."""

    rooms: dict[str, RoomEvent] = field(default_factory=dict)
    bookings: list[BookingEvent] = field(default_factory=list)  # from server.bookings.lifecycle
    alerts: list[models.Alert] = field(default_factory=list)
    devices: list[DeviceStatusEvent] = field(default_factory=list)

    def publish(self, bus: EventBus) -> None:
        bus.publish_all(self.bookings)
        bus.publish_all(alerts.alert_event(a) for a in {id(a): a for a in self.alerts}.values())
        bus.publish_all(self.devices)
        bus.publish_all(self.rooms.values())


def room_event(room: Room, occupancy: RoomOccupancy) -> RoomEvent:
    """A room's occupancy as the live stream shows it (the rooms API's, with id)."""
    return RoomEvent(
        id=room.id,
        occupied=occupancy.occupied,
        people=occupancy.people,
        last_motion=occupancy.last_motion,
        over_capacity=over_capacity(occupancy.people, room.capacity),
    )


# -- the room_states rows ----------------------------------------------------------------


def has_counter(site: SiteConfig, room_id: str) -> bool:
    """Whether a beam counter watches the room (else its `people` is None)."""
    return any(d.room == room_id and d.sensor == "counter" for d in site.devices)


def has_sensor(site: SiteConfig, room_id: str) -> bool:
    """Whether any occupancy sensor watches the room."""
    return any(d.room == room_id and d.kind == "occupancy" for d in site.devices)


def live_of(row: models.RoomState | None, *, counted: bool) -> Live:
    """A room's stored row as plain values (a room never heard of is empty)."""
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


def room_rows(
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
        counted = has_counter(site, room_id)
        row = models.RoomState(room_id=room_id, people=0 if counted else None, motion=False)
        row.counted_since = closing
        session.add(row)
        rows[room_id] = row
    return rows


def view(session: Session, *, site: SiteConfig, room_id: str, now: datetime) -> RoomOccupancy:
    """A room's occupancy now, for the rooms API."""
    row = session.get(models.RoomState, room_id)
    live = live_of(row, counted=has_counter(site, room_id))
    return derive(live, now=now, vacancy_timeout=vacancy(site))


def building_people(session: Session, *, site: SiteConfig, now: datetime) -> int | None:
    """How many people are in the building: the entrance counter's room."""
    entrance = next((r for r in site.rooms if r.kind == "entrance"), None)
    if entrance is None:
        return None
    return view(session, site=site, room_id=entrance.id, now=now).people


def vacancy(site: SiteConfig) -> timedelta:
    """The site's vacancy timeout."""
    return timedelta(seconds=site.walk_in.vacancy_timeout)


def room_changes(
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
    timeout = vacancy(site)
    for room_id, live in after.items():
        room = site.room(room_id)
        if room is None:
            continue
        old = room_event(room, derive(before[room_id], now=then, vacancy_timeout=timeout))
        new = room_event(room, derive(live, now=now, vacancy_timeout=timeout))
        if old != new:
            changes.rooms[room_id] = new
        if new.over_capacity and not old.over_capacity:
            changes.alerts.append(
                alerts.raise_alert(
                    session,
                    kind="over_capacity",
                    now=now,
                    room_id=room_id,
                    details={"people": live.people, "capacity": room.capacity},
                )
            )


def store_changed(
    rows: dict[str, models.RoomState], before: dict[str, Live], after: dict[str, Live]
) -> None:
    """Write back the rows whose live state changed."""
    for room_id, live in after.items():
        if live != before[room_id]:
            _store(rows[room_id], live)
