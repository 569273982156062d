"""Sensor events: a batch of Motion and Count events stored once per (device, id) and
applied, in order, to their rooms' live state; fresh motion may check a booking in."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from protocol.bookingrules import checkin_starts
from protocol.messages import Count, Motion
from server.bookings.lifecycle import check_in
from server.bookings.store import current_booking
from server.db import models
from server.monitoring.device_status import store_new_events
from server.occupancy.live import Live, later, with_count, with_motion
from server.occupancy.state import (
    Changes,
    has_counter,
    live_of,
    room_changes,
    room_rows,
    store_changed,
)
from server.site import Device, SiteConfig


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
    devices = {d: site.device(d) for d in {r.device for r in readings}}  # looked up once
    fresh = _fresh(session, devices=devices, readings=readings, now=now, recorded=recorded)
    if not fresh:
        return recorded
    sensors = {r.device: devices[r.device] for r in fresh}
    rooms = {d.room for d in sensors.values() if d is not None}
    rows = room_rows(session, site=site, room_ids=rooms, now=now)
    before = {
        room_id: live_of(row, counted=has_counter(site, room_id)) for room_id, row in rows.items()
    }
    after = dict(before)
    synced = _clock_synced(session, sensors)
    motion_at: dict[str, datetime] = {}
    for reading in fresh:
        device = sensors[reading.device]
        assert device is not None  # _fresh kept only the site's sensors
        # The server's clock decides; a device's own time only where its clock is synced.
        at = min(reading.message.ts, now) if synced.get(device.id, True) else now
        after[device.room] = _apply(after[device.room], reading.message, device.sensor, at)
        if isinstance(reading.message, Motion) and reading.message.motion:
            motion_at[device.room] = later(motion_at.get(device.room), at)
    store_changed(rows, before, after)
    if site.occupancy.motion_check_in:
        for room_id, at in motion_at.items():
            _motion_check_in(session, site=site, room_id=room_id, at=at, now=now, out=recorded)
    room_changes(
        session, site=site, before=before, after=after, then=now, now=now, changes=recorded.changes
    )
    recorded.new = len(fresh)
    return recorded


def _fresh(
    session: Session,
    *,
    devices: dict[str, Device | None],
    readings: Sequence[Reading],
    now: datetime,
    recorded: Recorded,
) -> list[Reading]:
    """Store the readings of the site's sensors once per (device, id), in one statement;
    the ones not recorded before (nor earlier in the batch), in order."""
    rows: dict[tuple[str, str], tuple[Reading, dict[str, object]]] = {}
    for reading in readings:
        device = devices[reading.device]
        if device is None or device.kind != "occupancy":
            recorded.unknown.append(reading.device)
            continue
        key = (reading.device, reading.message.id)
        if key in rows:
            recorded.duplicates += 1
            continue
        rows[key] = reading, _event_row(reading, device.room, now)
    if not rows:
        return []
    stored = store_new_events(session, [row for _reading, row in rows.values()])
    fresh = [reading for key, (reading, _row) in rows.items() if key in stored]
    recorded.duplicates += len(rows) - len(fresh)
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


def _event_row(reading: Reading, room_id: str, now: datetime) -> dict[str, object]:
    """The reading's `device_events` row, as the values to insert."""
    m = reading.message
    row: dict[str, object] = {
        "device_id": reading.device,
        "event_id": m.id,
        "room_id": room_id,
        "ts": m.ts,
        "received": now,
        "boot": m.boot,
        "seq": m.seq,
    }
    if isinstance(m, Motion):
        row |= {"kind": "motion", "event": _motion_name(m.motion), "entered": 0, "left": 0}
    else:
        row |= {"kind": "count", "event": "count", "entered": m.entered, "left": m.left}
    return row


def _motion_name(motion: bool) -> str:
    return "motion" if motion else "no_motion"


def _motion_check_in(
    session: Session, *, site: SiteConfig, room_id: str, at: datetime, now: datetime, out: Recorded
) -> None:
    """Check in the booking whose check-in window (`protocol.bookingrules`) holds motion
    seen at `at`: from its early entry (only into a room no other booking holds then)
    until its grace ends."""
    early = timedelta(seconds=site.access.early_entry)
    grace = timedelta(seconds=site.access.no_show_grace)
    after, until = checkin_starts(at, early, grace)
    B = models.Booking
    candidates = session.execute(
        select(B.id, B.start)
        .where(B.room_id == room_id, B.status == "booked", B.start > after, B.start <= until)
        .where(B.end > at)
        .order_by(B.start, B.id)
    ).all()
    for booking_id, start in candidates:
        if at < start and _held_by_another(session, room_id=room_id, booking_id=booking_id, at=at):
            continue
        event = check_in(session, booking_id=booking_id, now=now, by="motion")
        if event is not None:
            out.changes.bookings.append(event)
            return


def _held_by_another(session: Session, *, room_id: str, booking_id: int, at: datetime) -> bool:
    current = current_booking(session, room_id=room_id, now=at)
    return current is not None and current.id != booking_id
