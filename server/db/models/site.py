"""The sites' inventory: each site, its rooms, doors, devices and plans."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from server.db.models.base import Base, new_salt


class Site(Base):
    __tablename__ = "sites"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64))


class Room(Base):
    __tablename__ = "rooms"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    capacity: Mapped[int | None]
    bookable: Mapped[bool] = mapped_column(Boolean, default=False)
    # Secrets of the room's calendar feed: busy times only, or names and titles (staff).
    calendar_key: Mapped[str | None] = mapped_column(String(64))
    staff_calendar_key: Mapped[str | None] = mapped_column(String(64))
    panel_key: Mapped[str | None] = mapped_column(String(64))  # of the door panel's page


class Door(Base):
    __tablename__ = "doors"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    room_id: Mapped[str] = mapped_column(ForeignKey("rooms.id"))
    mode: Mapped[str] = mapped_column(String(16), default="normal")
    # The salt of the door's EmergencyList, drawn once: the stored hashes depend on it.
    emergency_salt: Mapped[str | None] = mapped_column(String(64), default=new_salt)


class Device(Base):
    __tablename__ = "devices"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"))
    kind: Mapped[str] = mapped_column(String(16))
    room_id: Mapped[str | None] = mapped_column(ForeignKey("rooms.id"))
    door_id: Mapped[str | None] = mapped_column(ForeignKey("doors.id"))
    online: Mapped[bool] = mapped_column(Boolean, default=False)
    last_seen: Mapped[datetime | None]
    clock_synced: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[dict | None] = mapped_column(JSON)


class Plan(Base):
    """A site's plan as its site file says it: what a partner site, which reads only its
    own file, needs to admit the plan's holders (server.access.snapshot)."""

    __tablename__ = "plans"

    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"), primary_key=True)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    partners: Mapped[list[str]] = mapped_column(JSON, default=list)  # site ids
