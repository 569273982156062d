"""The live events, one model per kind: what `GET /api/stream` sends as an event's `data`.

The kind of an event follows from its model (`KIND`); every event that concerns a room
names it (`id` of a room event, `room` of a device's, `room_id` of the others'). Times are
written in UTC with `Z`, as the rest of the HTTP API writes them.

>>> BookingEvent(booking_id=7, room_id="sala-a", change="released", status="released",
...              by="sweep").model_dump()["id"]
7
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, computed_field, field_validator, model_validator

from server.timefmt import ResponseTime

# What happened to a booking. `check_in` (a tap, motion, the sweep opening a public event,
# or a reinstated release), `walk_in` (a free room taken by a tap), `check_in_undone` (the
# door stayed shut on the tap that checked it in), `strike_removed` (a released holder was
# let in in time after all: its status is unchanged), `booked` (the demo's traffic).
Change = Literal[
    "booked",
    "check_in",
    "walk_in",
    "check_in_undone",
    "cancelled",
    "released",
    "completed",
    "strike_removed",
]
Status = Literal["booked", "checked_in", "completed", "released", "cancelled"]
# Who or what made the change: a tap the server decided (`tap`), a gateway's grant the
# door applied (`gateway`), what a door's Result taught (`result`), occupancy sensors
# (`motion`, `vacancy`), the scheduler's sweep (`sweep`), staff (`staff`), a request to
# the bookings API (`api`), the demo's traffic (`traffic`).
By = Literal["tap", "gateway", "result", "motion", "vacancy", "sweep", "staff", "api", "traffic"]


class _Live(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    KIND: ClassVar[str]


class RoomEvent(_Live):
    """A room's occupancy changed (as `GET /api/rooms/{id}` tells it)."""

    KIND: ClassVar[str] = "room"
    id: str
    occupied: bool
    people: int | None
    last_motion: ResponseTime | None
    over_capacity: bool


class AccessEvent(_Live):
    """A tap recorded, or what is known of it changed (a decision, the door's Result)."""

    KIND: ClassVar[str] = "access"
    id: str  # the tap's id
    device: str
    door: str | None
    room_id: str | None  # the room of the door the tap was at
    ts: str | None
    received: str
    granted: bool | None
    reason: str | None
    by: str | None
    member_id: int | None
    name: str | None = None  # what the door's display showed


class BookingEvent(_Live):
    """A booking changed: one event for each change of its status (and for a strike
    removed); `status` is the status it has now."""

    KIND: ClassVar[str] = "booking"
    booking_id: int
    room_id: str
    change: Change
    status: Status
    by: By

    @computed_field  # type: ignore[prop-decorator]
    @property
    def id(self) -> int:
        """The booking's id again: the name older readers of the stream know it by."""
        return self.booking_id

    @model_validator(mode="before")
    @classmethod
    def _read_id(cls, data: Any) -> Any:
        """Read back from its JSON: `id` must be the booking's id."""
        if isinstance(data, dict) and "id" in data:
            data = dict(data)
            if data.pop("id") != data.get("booking_id"):
                raise ValueError("`id` is not the booking's id")
        return data


class DeviceStatusEvent(_Live):
    """A device went on- or offline, or a door's mode changed (staff's `mode`)."""

    KIND: ClassVar[str] = "device"
    id: str
    kind: Literal["door", "occupancy"]
    room: str
    door: str | None
    online: bool
    last_seen: str | None
    mode: Literal["normal", "locked", "unlocked"] | None = None  # only when staff set it


class AlertEvent(_Live):
    """An alert raised, counted again or acknowledged (as `GET /api/alerts` lists it)."""

    KIND: ClassVar[str] = "alert"
    id: int
    kind: str
    room_id: str | None
    device_id: str | None
    booking_id: int | None
    details: dict[str, Any]
    created_at: ResponseTime
    acknowledged_at: ResponseTime | None

    @field_validator("details", mode="before")
    @classmethod
    def _no_details(cls, value: Any) -> Any:
        return {} if value is None else value


LiveEvent = RoomEvent | AccessEvent | BookingEvent | DeviceStatusEvent | AlertEvent
# The model of each kind, to read an event back from its JSON.
MODELS: dict[str, type[LiveEvent]] = {
    model.KIND: model
    for model in (RoomEvent, AccessEvent, BookingEvent, DeviceStatusEvent, AlertEvent)
}
KINDS = tuple(MODELS)
