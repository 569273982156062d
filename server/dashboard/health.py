"""What staff watch for trouble: the devices (online, and the mode each door applies
beside the one asked of it), the open alerts, and whether the door path keeps up.

Plain dataclasses of plain values (times already in the site's zone), as in `views`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.access.doormodes import effective_modes
from server.adapters import dead_letters
from server.context import ServerContext
from server.db import models
from server.monitoring import alerts as alerts_service
from server.monitoring import device_status

# A door waits 2 s for a decision; a door path this far behind answers no door in time.
LAG_WARN_S = 10.0


@dataclass
class AlertView:
    id: int
    kind: str
    severity: str  # critical, warning, notice (server.monitoring.alerts)
    where: str  # the room's name
    device: str | None  # what the device is (`door`, `pir`, `counter`), worded as kind.<it>
    time: str  # HH:MM, or YYYY-MM-DD HH:MM when not today
    count: int
    member: str | None = None  # whose card (tap limits), when known
    requested: str | None = None  # door_mode_mismatch: the mode asked of the door
    actual: str | None = None  # and the one it applies


@dataclass
class DeviceRow:
    id: str
    kind: str  # door, pir or counter (`device_word`)
    room: str
    online: bool
    last_seen: str | None  # HH:MM, or YYYY-MM-DD HH:MM when not today
    requested: str | None = None  # doors: the mode asked of it
    actual: str | None = None  # doors: the mode it says it applies (when online)

    @property
    def mismatch(self) -> bool:
        return self.actual is not None and self.actual != self.requested


@dataclass
class DoorPathView:
    """How the server's door path is keeping up: staff see a banner when it is not."""

    lag_s: float  # age of the oldest door-path message not yet handled
    dead_letters: int  # messages set aside, held for staff to see and replay
    writable: bool = True  # False while the database takes none of the ingest's writes

    @property
    def lagging(self) -> bool:
        return self.lag_s > LAG_WARN_S

    @property
    def trouble(self) -> bool:
        return self.lagging or self.dead_letters > 0 or not self.writable


# -- devices ----------------------------------------------------------------------------


def devices(session: Session, ctx: ServerContext) -> list[DeviceRow]:
    """Every device of the site with whether it is online and when it was last heard."""
    now = ctx.clock()
    zone = ZoneInfo(ctx.site.site.timezone)
    today = now.astimezone(zone).date()
    requested = effective_modes(session, ctx.site, now)
    actual = device_status.reported_modes(session, site=ctx.site, now=now)
    rows = []
    for d in device_status.devices(session, site=ctx.site, now=now):
        room = ctx.site.room(d.room)
        rows.append(
            DeviceRow(
                id=d.id,
                kind=device_word(ctx, d.id) or d.kind,
                room=room.name if room else d.room,
                online=d.online,
                last_seen=when(d.last_seen, zone, today),
                requested=requested.get(d.id),
                actual=actual.get(d.id),
            )
        )
    return rows


# -- the door path's health -------------------------------------------------------------


def door_path(session: Session, ingest: object | None, *, site_id: str) -> DoorPathView:
    """The door path's lag and whether the database takes its writes, as the running
    ingest says (0 and yes without one), and the site's dead letters held (the list staff
    see at /reception/dead-letters)."""
    lag = getattr(ingest, "door_path_lag_s", None)
    if lag is None:
        lag = getattr(ingest, "lag_s", 0.0)
    return DoorPathView(
        lag_s=float(lag) if isinstance(lag, int | float) else 0.0,
        dead_letters=dead_letters.held_count(session, site_id=site_id),
        writable=getattr(ingest, "db_writable", True) is not False,
    )


# -- alerts -----------------------------------------------------------------------------


def alerts(session: Session, ctx: ServerContext) -> list[AlertView]:
    """The open (unacknowledged) alerts, the most urgent first, each where it is by the
    room's name and what the device is (a receptionist knows no device ids)."""
    zone = ZoneInfo(ctx.site.site.timezone)
    today = ctx.clock().astimezone(zone).date()
    found = alerts_service.by_severity(
        alerts_service.list_alerts(session, open_only=True, site_id=ctx.site.id)
    )
    names = member_names(
        session, [m for a in found if isinstance(m := (a.details or {}).get("member_id"), int)]
    )
    views = []
    for alert in found:
        device = ctx.site.device(alert.device_id) if alert.device_id else None
        room_id = alert.room_id or (device.room if device else None)
        room = ctx.site.room(room_id) if room_id else None
        details = alert.details or {}
        count = details.get("count", 1)
        member = details.get("member_id")
        views.append(
            AlertView(
                id=alert.id,
                kind=alert.kind,
                severity=alerts_service.severity(alert.kind),
                where=(room.name if room else room_id or alert.device_id or ""),
                device=device_word(ctx, alert.device_id) if alert.device_id else None,
                time=when(alert.created_at, zone, today) or "",
                count=count if isinstance(count, int) else 1,
                member=names.get(member) if isinstance(member, int) else None,
                requested=_mode(details.get("requested")),
                actual=_mode(details.get("actual")),
            )
        )
    return views


def _mode(value: object) -> str | None:
    return value if value in ("normal", "locked", "unlocked") else None  # type: ignore[return-value]


# -- helpers the views share --------------------------------------------------------------


def device_word(ctx: ServerContext, device_id: str) -> str | None:
    """What a device is, as staff name it: `door` (a card reader), `pir` (a motion sensor)
    or `counter` (an entry counter); None for a device the site file does not know."""
    device = ctx.site.device(device_id)
    if device is None:
        return None
    return device.sensor or device.kind


def member_names(session: Session, member_ids: Iterable[int]) -> dict[int, str]:
    ids = set(member_ids)
    if not ids:
        return {}
    M = models.Member
    return {row[0]: row[1] for row in session.execute(select(M.id, M.name).where(M.id.in_(ids)))}


def when(value: datetime | None, zone: ZoneInfo, today: date) -> str | None:
    """HH:MM for today, YYYY-MM-DD HH:MM for another day (site time)."""
    if value is None:
        return None
    local = value.astimezone(zone)
    return local.strftime("%H:%M" if local.date() == today else "%Y-%m-%d %H:%M")
