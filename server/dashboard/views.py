"""What the dashboard shows, read from the domain's read functions.

Plain dataclasses of plain values (times already in the site's zone), so the templates
only lay them out, and the same views feed the page, its fragments and the stream's
snapshot. No queries are repeated here that a domain service has."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from server.access.accesslog import access_event, access_events
from server.access.doormodes import effective_modes
from server.bookings.schemas import BookingOut
from server.context import ServerContext
from server.dashboard.health import (
    AlertView,
    DeviceRow,
    alerts,
    devices,
    member_names,
)
from server.db import models
from server.monitoring import device_status
from server.occupancy.evacuation import evacuation_list
from server.occupancy.live import Evidence
from server.occupancy.rooms import get_room, list_rooms
from server.occupancy.roomstate import RoomState, room_now
from server.occupancy.schemas import RoomOut

FEED_SIZE = 15


@dataclass
class BookingView:
    id: int
    title: str
    holder: str
    status: str
    source: str
    start: str  # HH:MM in the site's zone
    end: str
    day: str  # YYYY-MM-DD in the site's zone

    @property
    def can_cancel(self) -> bool:
        return self.status == "booked"

    @property
    def can_release(self) -> bool:
        return self.status == "booked"


@dataclass
class DoorView:
    id: str
    device: str
    mode: str  # what staff set: normal, locked, unlocked
    effective: str  # what the door is asked to follow now (a public event opens a `normal` door)
    actual: str | None = None  # what the door says it applies (None: offline, or not said)

    @property
    def mismatch(self) -> bool:
        return self.actual is not None and self.actual != self.effective


@dataclass
class RoomView:
    id: str
    name: str
    kind: str
    capacity: int | None
    bookable: bool
    occupied: bool
    people: int | None
    motion_sensor: bool  # a PIR watches the room
    last_motion: str | None
    state: RoomState
    evidence: Evidence | None = None  # why it counts as in use: people counted, or motion
    current: BookingView | None = None
    next: BookingView | None = None
    doors: list[DoorView] = field(default_factory=list)

    @property
    def entrance(self) -> bool:
        """The building's entrance: its counter counts the building, not a room."""
        return self.kind == "entrance"


@dataclass
class FeedRow:
    id: str
    time: str  # HH:MM:SS in the site's zone
    door: str
    who: str | None  # None: an unknown card
    granted: bool
    reason: str | None
    by: str | None


@dataclass
class Entered:
    member_id: int
    name: str
    first: str
    last: str


@dataclass
class Evacuation:
    # by the entrance counter (the building card's number, from the same read); None when
    # there is none or no data
    people: int | None
    entered: list[Entered]


# -- rooms ------------------------------------------------------------------------------


def rooms(session: Session, ctx: ServerContext, *, room_id: str | None = None) -> list[RoomView]:
    """Every room of the site (or the one `room_id`; NotFound for an unknown one)."""
    now = ctx.clock()
    found: Sequence[RoomOut] = (
        list_rooms(session, site=ctx.site, now=now)
        if room_id is None
        else [get_room(session, site=ctx.site, room_id=room_id, now=now)]
    )
    known = {r.id: room_now(session, site=ctx.site, room=r, now=now) for r in found}
    names = member_names(
        session,
        [k.later.member_id for k in known.values() if k.later]
        + [r.current_booking.member_id for r in found if r.current_booking],
    )
    modes = effective_modes(session, ctx.site, now)
    actual = device_status.reported_modes(session, site=ctx.site, now=now)
    zone = ZoneInfo(ctx.site.site.timezone)
    views = []
    for room in found:
        current = room.current_booking
        later = known[room.id].later
        seen = room.occupancy
        views.append(
            RoomView(
                id=room.id,
                name=room.name,
                kind=room.kind,
                capacity=room.capacity,
                bookable=room.bookable,
                occupied=seen.occupied,
                people=seen.people,
                motion_sensor=any(
                    d.room == room.id and d.sensor == "pir" for d in ctx.site.devices
                ),
                last_motion=_hhmm(seen.last_motion, zone),
                evidence=known[room.id].evidence,
                state=known[room.id].state,
                current=_booking_view(current, names, zone) if current else None,
                next=_booking_view(later, names, zone) if later else None,
                doors=_doors(session, ctx, room.id, modes, actual),
            )
        )
    return views


def _booking_view(
    booking: models.Booking | BookingOut, names: dict[int, str], zone: ZoneInfo
) -> BookingView:
    return BookingView(
        id=booking.id,
        title=booking.title or "",
        holder=names.get(booking.member_id, f"#{booking.member_id}"),
        status=booking.status,
        source=booking.source,
        start=booking.start.astimezone(zone).strftime("%H:%M"),
        end=booking.end.astimezone(zone).strftime("%H:%M"),
        day=booking.start.astimezone(zone).strftime("%Y-%m-%d"),
    )


def _doors(
    session: Session,
    ctx: ServerContext,
    room_id: str,
    modes: dict[str, str],
    actual: dict[str, str],
) -> list[DoorView]:
    views = []
    for device in ctx.site.door_devices():
        if device.room != room_id or device.door is None:
            continue
        door = session.get(models.Door, device.door)
        views.append(
            DoorView(
                id=device.door,
                device=device.id,
                mode=door.mode if door else "normal",
                effective=modes.get(device.id, "normal"),
                actual=actual.get(device.id),
            )
        )
    return views


# -- the door events ------------------------------------------------------------------


def feed(session: Session, ctx: ServerContext, *, limit: int = FEED_SIZE) -> list[FeedRow]:
    """The newest taps at every door of the site, with the member's name."""
    events = access_events(session, limit=limit, site=ctx.site.id)
    names = member_names(session, [e.member_id for e in events if e.member_id])
    zone = ZoneInfo(ctx.site.site.timezone)
    rows = []
    for event in events:
        shown = access_event(event)
        rows.append(
            FeedRow(
                id=f"{event.device_id}:{event.event_id}",
                time=event.received.astimezone(zone).strftime("%H:%M:%S"),
                door=_door_name(ctx, event.device_id),
                who=names.get(event.member_id) if event.member_id else None,
                granted=bool(shown["granted"]),
                reason=shown["reason"],
                by=shown["by"],
            )
        )
    return rows


def _door_name(ctx: ServerContext, device_id: str) -> str:
    device = ctx.site.device(device_id)
    room = ctx.site.room(device.room) if device else None
    return room.name if room else device_id


# -- evacuation -------------------------------------------------------------------------


def evacuation(session: Session, ctx: ServerContext) -> Evacuation:
    """The evacuation list (server.occupancy.evacuation), with times in the site's zone."""
    found = evacuation_list(session, site=ctx.site, now=ctx.clock())
    zone = ZoneInfo(ctx.site.site.timezone)
    entered = [
        Entered(
            member_id=e.member_id,
            name=e.name,
            first=e.first.astimezone(zone).strftime("%H:%M"),
            last=e.last.astimezone(zone).strftime("%H:%M"),
        )
        for e in found.entered
    ]
    return Evacuation(people=found.people, entered=entered)


# -- the whole screen -----------------------------------------------------------------


@dataclass
class Dashboard:
    rooms: list[RoomView]
    alerts: list[AlertView]
    feed: list[FeedRow]
    evacuation: Evacuation
    devices: list[DeviceRow]

    def as_json(self) -> dict[str, Any]:
        """For the stream's snapshot: plain JSON values."""
        return asdict(self)


def dashboard(session: Session, ctx: ServerContext) -> Dashboard:
    room_views = rooms(session, ctx)
    return Dashboard(
        rooms=room_views,
        alerts=alerts(session, ctx),
        feed=feed(session, ctx),
        evacuation=evacuation(session, ctx),
        devices=devices(session, ctx),
    )


# -- helpers ----------------------------------------------------------------------------


def _hhmm(value: datetime | None, zone: ZoneInfo) -> str | None:
    return None if value is None else value.astimezone(zone).strftime("%H:%M")
