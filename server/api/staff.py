"""What staff do from the dashboard: open a door remotely, lock a door down or hold it open,
and give a booked room back now; each recorded in the audit log (`server.people.audit`).

The two small door operations live here beside their routes, as plain functions (no
FastAPI in them); giving a room back is `server.waitlist.freed.release_now`, which the
reception desk's pages call too. Every action is logged, and
kept in the audit log, with who asked (bearer token or signed-in browser) and from where."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path, Request
from pydantic import BaseModel
from sqlalchemy.orm import Session

from protocol import topics
from protocol.messages import DoorCommand, new_id
from server.bookings.schemas import BookingOut
from server.db import models
from server.db.meta import bump
from server.deps import CtxDep, Staff, WriteSession, actor, client_address
from server.errors import Conflict, NotFound
from server.live.kinds import DeviceStatusEvent
from server.monitoring.device_status import device_event
from server.openapi import unavailable
from server.people import audit
from server.schemas import MAX_ID, Body
from server.site import SiteConfig
from server.timefmt import ResponseTime
from server.waitlist.freed import release_now

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api", tags=["staff"], dependencies=[Staff])

COMMAND_TTL = timedelta(seconds=10)  # a remote opening that arrives later is ignored
PUBLISH_WAIT_S = 3.0

DoorId = Annotated[str, Path(min_length=1, max_length=64)]
BookingId = Annotated[int, Path(ge=1, le=MAX_ID)]
Mode = Literal["normal", "locked", "unlocked"]


class ModeIn(Body):
    mode: Mode


class DoorModeOut(BaseModel):
    door: str
    device: str
    mode: Mode


class UnlockOut(BaseModel):
    door: str
    device: str
    command_id: str
    unlock_s: float
    expires: ResponseTime


# -- the domain operations --------------------------------------------------------------


def door_device(site: SiteConfig, door: str) -> str:
    """The id of the controller of `door`; NotFound when the site has no such door."""
    for device in site.door_devices():
        if device.door == door:
            return device.id
    raise NotFound(f"door {door!r} not found")


def unlock_command(site: SiteConfig, *, now: datetime) -> DoorCommand:
    """A one-off remote opening for the site's unlock time, void after `COMMAND_TTL`."""
    return DoorCommand(id=new_id(), ts=now, expires=now + COMMAND_TTL, unlock_s=site.access.unlock)


def set_door_mode(session: Session, *, site: SiteConfig, door: str, mode: Mode) -> str:
    """Set what staff want a door to follow (lockdown, passage, normal) in the caller's
    transaction; the door path republishes the retained DoorMode. Returns the device id."""
    device = door_device(site, door)
    row = session.get(models.Door, door)
    if row is None:
        raise NotFound(f"door {door!r} not found")
    if row.mode != mode:
        row.mode = mode
        bump(session)  # `locked` refuses every grant: the snapshot must say so
    return device


# -- routes -----------------------------------------------------------------------------


def _who(request: Request) -> str:
    return f"{actor(request)} from {client_address(request)}"


@router.post(
    "/doors/{door}/unlock",
    status_code=202,
    responses=unavailable("the server is not connected to the broker"),
)
def unlock(door: DoorId, request: Request, session: WriteSession, ctx: CtxDep) -> UnlockOut:
    """Open a door once, remotely (202 once the broker has the command); 404 for an
    unknown door, 409 when it is locked down, 503 when the server has no broker
    connection. Recorded in the audit log before it is sent."""
    device = door_device(ctx.site, door)
    now = ctx.clock()
    with session.begin():
        row = session.get(models.Door, door)
        if row is not None and row.mode == "locked":
            raise Conflict(f"door {door!r} is locked down: set it back to normal first")
        ingest = getattr(request.app.state, "ingest", None)
        if ingest is None or not ingest.client.connected:
            raise HTTPException(status_code=503, detail="the server is not connected to the broker")
        command = unlock_command(ctx.site, now=now)
        entry = audit.record(
            session,
            actor=actor(request),
            action="door.unlock",
            target=door,
            detail={
                "device": device,
                "unlock_s": command.unlock_s,
                "command_id": command.id,
                "client": client_address(request),
            },
            now=now,
        ).id
    info = ingest.client.publish(topics.door_command(ctx.site.id, device), command)
    try:
        info.wait_for_publish(PUBLISH_WAIT_S)
        failed = None if info.is_published() else "the broker did not take the command in time"
    except (RuntimeError, ValueError) as exc:  # paho: not connected, or the queue is full
        failed = f"the command was not sent: {exc}"
    if failed is not None:
        with session.begin():
            audit.amend(session, entry_id=entry, sent=False)
        raise HTTPException(status_code=503, detail=failed)
    log.info("staff: remote unlock of door %s (%s) by %s", door, device, _who(request))
    return UnlockOut(
        door=door,
        device=device,
        command_id=command.id,
        unlock_s=command.unlock_s,
        expires=command.expires,
    )


@router.put("/doors/{door}/mode")
def put_mode(
    door: DoorId, body: ModeIn, request: Request, session: WriteSession, ctx: CtxDep
) -> DoorModeOut:
    """`{"mode": "normal"|"locked"|"unlocked"}`: lockdown, passage mode or back to normal;
    the door follows within a second. 404 for an unknown door. Recorded in the audit log
    with the change."""
    now = ctx.clock()
    with session.begin():
        device = set_door_mode(session, site=ctx.site, door=door, mode=body.mode)
        audit.record(
            session,
            actor=actor(request),
            action="door.mode",
            target=door,
            detail={"device": device, "mode": body.mode, "client": client_address(request)},
            now=now,
        )
        shown = device_event(
            ctx.site.device(device),  # type: ignore[arg-type]
            session.get(models.Device, device),
            now=now,
        )
    log.info("staff: door %s (%s) set to %s by %s", door, device, body.mode, _who(request))
    ctx.events.publish(DeviceStatusEvent(**shown, mode=body.mode))
    return DoorModeOut(door=door, device=device, mode=body.mode)


@router.post("/bookings/{booking_id}/release")
def release(
    booking_id: BookingId, request: Request, session: WriteSession, ctx: CtxDep
) -> BookingOut:
    """Give the room of a `booked` booking back now, without a no-show strike (200 with the
    booking, now `released`); 409 when it is checked in, cancelled or over already."""
    now = ctx.clock()
    with session.begin():
        booking, event = release_now(session, site=ctx.site, booking_id=booking_id, now=now)
        out = BookingOut.of(booking, currency=ctx.site.site.currency)
        audit.record(
            session,
            actor=actor(request),
            action="booking.release",
            target=str(booking_id),
            detail={"room_id": out.room_id, "client": client_address(request)},
            now=now,
        )
    log.info("staff: booking %s of %s released by %s", booking_id, out.room_id, _who(request))
    ctx.events.publish(event)
    return out
