"""Request and response bodies of the bookings and rooms API (see docs/api.md).

Like `server.schemas`: request bodies refuse unknown fields, request times carry an offset,
response times are UTC with `Z`. A price is a decimal string with two places ("80.00"),
so no client has to round a float; `currency` says in what."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from server.db import models
from server.schemas import Body, Id, Name
from server.timefmt import RequestTime, ResponseTime

RoomId = Annotated[str, Field(min_length=1, max_length=64)]
Status = Literal["booked", "checked_in", "completed", "released", "cancelled"]


class Repeat(Body):
    """`{"weekly": n}`: n occurrences a week apart (the site's limit is checked by the domain)."""

    weekly: Annotated[int, Field(ge=1, le=1000)]


class BookingCreate(Body):
    room_id: RoomId
    member_id: Id
    start: RequestTime
    end: RequestTime
    title: Name | None = None
    attendees: Annotated[list[Id], Field(max_length=200)] = []
    public: bool = False
    repeat: Repeat | None = None


class BookingOut(BaseModel):
    id: int
    room_id: str
    member_id: int
    start: ResponseTime
    end: ResponseTime
    status: str
    title: str | None
    attendees: list[int]
    public: bool
    price: str
    currency: str
    source: str
    series_id: str | None
    created_at: ResponseTime
    checked_in_at: ResponseTime | None
    released_at: ResponseTime | None
    cancelled_at: ResponseTime | None
    completed_at: ResponseTime | None

    @classmethod
    def of(cls, booking: models.Booking, *, currency: str) -> BookingOut:
        return cls(
            id=booking.id,
            room_id=booking.room_id,
            member_id=booking.member_id,
            start=booking.start,
            end=booking.end,
            status=booking.status,
            title=booking.title,
            attendees=sorted(booking.attendee_ids),
            public=booking.public,
            price=f"{booking.price:.2f}",
            currency=currency,
            source=booking.source,
            series_id=booking.series_id,
            created_at=booking.created_at,
            checked_in_at=booking.checked_in_at,
            released_at=booking.released_at,
            cancelled_at=booking.cancelled_at,
            completed_at=booking.completed_at,
        )


class SeriesOut(BaseModel):
    """A weekly repeat: every occurrence, in order, sharing `series_id`."""

    series_id: str
    bookings: list[BookingOut]


class FreeInterval(BaseModel):
    start: ResponseTime
    end: ResponseTime


class AvailabilityOut(BaseModel):
    """Free intervals of a room in [from, to); `from` is a Python keyword, hence `from_`."""

    model_config = ConfigDict(serialize_by_alias=True)

    room_id: str
    from_: ResponseTime = Field(serialization_alias="from")
    to: ResponseTime
    free: list[FreeInterval]

    @classmethod
    def of(
        cls, room_id: str, start: datetime, end: datetime, free: list[tuple[datetime, datetime]]
    ) -> AvailabilityOut:
        return cls(
            room_id=room_id,
            from_=start,
            to=end,
            free=[FreeInterval(start=s, end=e) for s, e in free],
        )
