"""The site's devices: whether each is online, their door events, and their health.

Plain functions over a Session, in the caller's transaction. A device is online when its
last status said so and it has not been silent for three of its status intervals since;
one that has never been heard from is neither alerted on nor announced."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal, cast

from pydantic import BaseModel
from sqlalchemy import Table, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from protocol.messages import DoorEvent, Status
from server.db import models
from server.monitoring import alerts
from server.site import Device, SiteConfig
from server.timefmt import ResponseTime, format_utc

log = logging.getLogger(__name__)

DEFAULT_STATUS_INTERVAL_S = 60.0
SILENCE_FACTOR = 3  # a device silent for this many status intervals counts as offline
# Door events staff must see; `opened`, `closed` and `exit_request` are only recorded.
DOOR_ALERTS = ("forced", "held_open", "fire_release", "tamper")


class DeviceOut(BaseModel):
    """A device as the API and the live stream show it."""

    id: str
    kind: Literal["door", "occupancy"]
    room: str
    door: str | None
    online: bool
    last_seen: ResponseTime | None


def device_online(row: models.Device | None, now: datetime) -> bool:
    """Online when its last status said so and it has not been silent for more than
    three of its status intervals since."""
    if row is None or not row.online or row.last_seen is None:
        return False
    interval = DEFAULT_STATUS_INTERVAL_S
    if isinstance(row.status, dict):
        value = row.status.get("interval_s")
        if isinstance(value, int | float) and value > 0:
            interval = float(value)
    return now - row.last_seen <= timedelta(seconds=SILENCE_FACTOR * interval)


def reported_mode(row: models.Device | None) -> str | None:
    """The DoorMode a door said it applies in its last Status; None when it did not say."""
    if row is None or not isinstance(row.status, dict):
        return None
    mode = row.status.get("mode")
    return mode if isinstance(mode, str) else None


def reported_modes(session: Session, *, site: SiteConfig, now: datetime) -> dict[str, str]:
    """Door device id -> the mode it says it applies, for the doors online that say so."""
    rows = {r.id: r for r in session.scalars(select(models.Device))}
    modes = {}
    for device in site.door_devices():
        row = rows.get(device.id)
        mode = reported_mode(row)
        if mode is not None and device_online(row, now):
            modes[device.id] = mode
    return modes


def record_status(
    session: Session, device_id: str, status: Status, *, now: datetime
) -> tuple[models.Device | None, bool]:
    """Store a device's status (online, last seen, clock synced, the whole message);
    the row and whether that changed what staff see of it (online, or its door's mode).
    Nothing for a device without a row."""
    device = session.get(models.Device, device_id)
    if device is None:
        return None, False
    was = device_online(device, now), reported_mode(device)
    device.online = status.state == "online"
    device.last_seen = min(status.ts, now)  # a retained status may be old
    device.clock_synced = status.clock_synced
    device.status = status.model_dump(mode="json")
    return device, (device_online(device, now), reported_mode(device)) != was


def _out(device: Device, row: models.Device | None, now: datetime) -> DeviceOut:
    return DeviceOut(
        id=device.id,
        kind=device.kind,
        room=device.room,
        door=device.door,
        online=device_online(row, now),
        last_seen=row.last_seen if row else None,
    )


def devices(session: Session, *, site: SiteConfig, now: datetime) -> list[DeviceOut]:
    """Every device of the site file, in its order, with whether it is online now."""
    rows = {d.id: d for d in session.scalars(select(models.Device))}
    return [_out(d, rows.get(d.id), now) for d in site.devices]


def device_event(device: Device, row: models.Device | None, *, now: datetime) -> dict[str, Any]:
    """A device as the API and the live stream (`device` events) show it."""
    return _out(device, row, now).model_dump(mode="json")


# -- events recorded once per (device, id) ----------------------------------------------


def known_events(session: Session, pairs: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which of these (device, event id) pairs are recorded already."""
    wanted = list(set(pairs))
    if not wanted:
        return set()
    E = models.DeviceEvent
    found = session.execute(
        select(E.device_id, E.event_id).where(tuple_(E.device_id, E.event_id).in_(wanted))
    ).all()
    return {(d, e) for d, e in found}


def store_new_events(session: Session, rows: list[dict[str, object]]) -> set[tuple[str, str]]:
    """Insert these `device_events` rows, skipping those whose (device, event id) is
    recorded already, in one statement; the (device, event id) pairs inserted."""
    table = cast(Table, models.DeviceEvent.__table__)
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = (
        insert(table)
        .on_conflict_do_nothing(index_elements=["device_id", "event_id"])
        .returning(table.c.device_id, table.c.event_id)
    )
    return {(d, e) for d, e in session.execute(statement, rows)}


def record_door_event(
    session: Session, *, site: SiteConfig, device_id: str, event: DoorEvent, now: datetime
) -> models.Alert | None:
    """Record a door event once; a forced door, one held open, a fire release or tamper
    raises an alert, which is returned (to publish after the commit)."""
    device = site.device(device_id)
    if device is None or device.kind != "door":
        log.warning("door event %s from %r (no door controller) dropped", event.id, device_id)
        return None
    if known_events(session, [(device_id, event.id)]):
        return None
    session.add(
        models.DeviceEvent(
            device_id=device_id,
            event_id=event.id,
            room_id=device.room,
            kind="door",
            event=event.event,
            ts=event.ts,
            received=now,
            boot=event.boot,
            seq=event.seq,
        )
    )
    if event.event not in DOOR_ALERTS:
        return None
    return alerts.raise_alert(
        session,
        kind=event.event,
        now=now,
        room_id=device.room,
        device_id=device_id,
        details={"door": device.door, "event_id": event.id, "ts": format_utc(event.ts)},
    )


# -- health --------------------------------------------------------------------------------


@dataclass
class Health:
    """What a health check found: new or bumped alerts, devices whose online state changed
    (as `device` events) and the devices offline now."""

    alerts: list[models.Alert] = field(default_factory=list)
    changed: list[dict[str, Any]] = field(default_factory=list)
    offline: set[str] = field(default_factory=set)


def check_health(
    session: Session, *, site: SiteConfig, now: datetime, since: datetime | None = None
) -> Health:
    """Alert once per outage on each device gone offline (last will, or silent for three
    status intervals); report those that went on- or offline by silence since `since`."""
    health = Health()
    rows = {r.id: r for r in session.scalars(select(models.Device).filter_by(site_id=site.id))}
    for device in site.devices:
        row = rows.get(device.id)
        if row is None or row.last_seen is None:
            continue  # never heard from: not installed yet, nothing went wrong
        online = device_online(row, now)
        if since is not None and device_online(row, since) != online:
            health.changed.append(device_event(device, row, now=now))
        if online:
            continue
        health.offline.add(device.id)
        if not _alerted(session, device.id, row.last_seen):
            health.alerts.append(_offline_alert(session, device, row, now))
    return health


def _alerted(session: Session, device_id: str, last_seen: datetime) -> bool:
    """An open offline alert stands, or one was raised since the device was last heard."""
    A = models.Alert
    found = session.scalar(
        select(A.id)
        .where(
            A.kind == "device_offline",
            A.device_id == device_id,
            (A.acknowledged_at.is_(None)) | (A.created_at >= last_seen),
        )
        .limit(1)
    )
    return found is not None


def _offline_alert(
    session: Session, device: Device, row: models.Device, now: datetime
) -> models.Alert:
    said_offline = not row.online  # its last will (or a clean goodbye) arrived
    log.warning("device %s is offline (%s)", device.id, "last will" if said_offline else "silent")
    return alerts.raise_alert(
        session,
        kind="device_offline",
        now=now,
        room_id=device.room,
        device_id=device.id,
        details={
            "last_seen": row.last_seen and format_utc(row.last_seen),
            "reason": "offline" if said_offline else "silent",
        },
    )
