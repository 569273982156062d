"""The scheduler's occupancy pass: people counts back to zero after closing time, walk-ins
ended by vacancy, alerts on booked rooms still empty and on devices gone offline."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.bookings.lifecycle import end_walk_in
from server.db import models
from server.live.kinds import DeviceStatusEvent
from server.monitoring import alerts
from server.monitoring.device_status import check_health
from server.occupancy.live import Live, derive, last_closing, vacant_for, with_reset
from server.occupancy.state import (
    Changes,
    has_counter,
    has_sensor,
    live_of,
    room_changes,
    room_rows,
    store_changed,
    vacancy,
)
from server.site import SiteConfig
from server.timefmt import format_utc

# A booked room with nobody in it this long after the start raises `booked_empty`.
BOOKED_EMPTY_AFTER = timedelta(minutes=1)


def tick(
    session: Session, *, site: SiteConfig, now: datetime, since: datetime | None = None
) -> Changes:
    """The periodic pass, in the caller's writer transaction: people counts back to zero
    after closing time, walk-ins ended by vacancy, alerts on booked rooms still empty and
    on devices gone offline; `room` and `device` events for what changed since `since`
    (the previous pass)."""
    changes = Changes()
    health = check_health(session, site=site, now=now, since=since)
    changes.alerts += health.alerts
    changes.devices += [DeviceStatusEvent(**device) for device in health.changed]
    rows = room_rows(session, site=site, room_ids=[r.id for r in site.rooms], now=now)
    before = {
        room_id: live_of(row, counted=has_counter(site, room_id)) for room_id, row in rows.items()
    }
    closing = last_closing(site.site.hours, ZoneInfo(site.site.timezone), now)
    after = {
        room_id: _settle(live, closing=closing, pirs_dead=_pirs_dead(site, room_id, health.offline))
        for room_id, live in before.items()
    }
    store_changed(rows, before, after)
    _end_vacant_walk_ins(session, site=site, rooms=after, now=now, changes=changes)
    _alert_booked_empty(session, site=site, rooms=after, now=now, changes=changes)
    room_changes(
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


def _end_vacant_walk_ins(
    session: Session, *, site: SiteConfig, rooms: dict[str, Live], now: datetime, changes: Changes
) -> None:
    """Walk-ins whose room has been vacant for the vacancy timeout end now."""
    timeout = vacancy(site)
    B = models.Booking
    due = session.execute(
        select(B.id, B.room_id, B.start).where(
            B.status == "checked_in",
            B.source == "walk_in",
            B.start <= now - timeout,
            B.end > now,
            B.room_id.in_(list(rooms)),
        )
    ).all()
    for booking_id, room_id, start in due:
        live = rooms.get(room_id)
        if live is None or not has_sensor(site, room_id):
            continue  # nothing watches the room: the walk-in runs to its end
        if not vacant_for(live, since=start, now=now, timeout=timeout):
            continue
        event = end_walk_in(session, booking_id=booking_id, now=now)
        if event is not None:
            changes.bookings.append(event)


def _alert_booked_empty(
    session: Session, *, site: SiteConfig, rooms: dict[str, Live], now: datetime, changes: Changes
) -> None:
    """A booking still `booked` a minute after its start in a room nobody is in: one
    `booked_empty` alert per booking."""
    B, A = models.Booking, models.Alert
    due = session.execute(
        select(B.id, B.room_id, B.start).where(
            B.status == "booked",
            B.start <= now - BOOKED_EMPTY_AFTER,
            B.end > now,
            B.room_id.in_(list(rooms)),
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
    timeout = vacancy(site)
    for booking_id, room_id, start in due:
        live = rooms.get(room_id)
        if booking_id in alerted or live is None or not has_sensor(site, room_id):
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
