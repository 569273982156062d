"""Which mode each door should follow now: `normal`, `locked` or `unlocked`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db import models
from server.db.scope import own_rooms
from server.site import SiteConfig


def effective_modes(session: Session, site: SiteConfig, now: datetime) -> dict[str, str]:
    """Door-controller id -> mode. A mode staff set (lockdown, passage) wins; otherwise a
    live public booking (an open workshop) puts its room's door and the site's entrance
    in passage mode for its duration."""
    staff = dict(session.execute(select(models.Door.id, models.Door.mode)).all())
    public_rooms = set(
        session.scalars(
            select(models.Booking.room_id).where(
                models.Booking.public.is_(True),
                models.Booking.status.in_(("booked", "checked_in")),
                models.Booking.start <= now,
                models.Booking.end > now,
                models.Booking.room_id.in_(own_rooms(session, site.id)),
            )
        )
    )
    modes = {}
    for device in site.door_devices():
        mode = staff.get(device.door or "", "normal")
        room = site.room(device.room)
        opens_for_public = device.room in public_rooms or (
            bool(public_rooms) and room is not None and room.kind == "entrance"
        )
        if mode == "normal" and opens_for_public:
            mode = "unlocked"
        modes[device.id] = mode
    return modes
