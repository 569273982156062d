"""Response bodies of the rooms API: each room with its live occupancy and current booking."""

from __future__ import annotations

from pydantic import BaseModel

from server.bookings.schemas import BookingOut
from server.timefmt import ResponseTime


class Occupancy(BaseModel):
    occupied: bool = False
    people: int | None = None
    last_motion: ResponseTime | None = None


class RoomOut(BaseModel):
    id: str
    name: str
    kind: str
    capacity: int | None
    bookable: bool
    occupancy: Occupancy
    current_booking: BookingOut | None
