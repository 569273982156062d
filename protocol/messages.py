"""Pydantic models of every payload of docs/protocol.md v1, with `encode` and `decode`.

>>> tap = Tap(id="e1", ts=utcnow(), card="04a1b2c3")
>>> tap.card
'04A1B2C3'
>>> decode(Tap, encode(tap)).id
'e1'

Readers ignore fields they do not know and read a higher `v` the same way, so every model
allows extra fields and accepts any `v` >= 1.
"""

from __future__ import annotations

import json
import re
import secrets
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationError,
)

from protocol.cards import CardError, normalise_uid

MAX_PAYLOAD = 4096
# A command dated further ahead of the receiver's synced clock than this is ignored, so
# that a message from the future cannot pin a door (docs/protocol.md, "Commands in time").
MAX_AHEAD = timedelta(minutes=5)
MAX_N = 2**63 - 1  # `n` counters fit a signed 64-bit integer (a database column)
MAX_SEQ = 2**53  # JSON numbers are exact up to here in every language
EVENT_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}\Z")  # \Z: "$" would allow a trailing newline


class ProtocolError(ValueError):
    """A payload that docs/protocol.md does not allow: too large, not JSON, or invalid."""


def utcnow() -> datetime:
    """Now, aware and in UTC: every program's wall clock (tests pass their own instead)."""
    return datetime.now(UTC)


def new_id() -> str:
    """A fresh event id: 22 url-safe random characters (as unique as a UUID)."""
    return secrets.token_urlsafe(16)


def from_the_future(ts: datetime, now: datetime) -> bool:
    """Whether a message dated `ts` is more than `MAX_AHEAD` ahead of `now`."""
    return ts - now > MAX_AHEAD


def format_time(value: datetime) -> str:
    """RFC 3339 in UTC with a `Z` suffix, to the millisecond."""
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("time must carry a time zone (RFC 3339, UTC with Z)")
    if value.utcoffset().total_seconds() != 0:  # type: ignore[union-attr]
        raise ValueError("time must be in UTC (Z)")
    return value.astimezone(UTC)


def _event_id(value: str) -> str:
    if not EVENT_ID_RE.match(value):
        raise ValueError("id must be 1-64 characters from [A-Za-z0-9_-]")
    return value


def _card(value: str) -> str:
    try:
        return normalise_uid(value)
    except CardError as exc:
        raise ValueError(str(exc)) from None


UtcTime = Annotated[datetime, AfterValidator(_utc), PlainSerializer(format_time, return_type=str)]
EventId = Annotated[str, AfterValidator(_event_id)]
CardUid = Annotated[str, AfterValidator(_card)]
Short = Annotated[str, Field(min_length=1, max_length=64)]


class Reason(StrEnum):
    """Decision reasons of docs/protocol.md. A new one may be added; unknown denials are plain."""

    STAFF = "staff"
    MEMBERSHIP = "membership"
    BOOKING = "booking"
    WALK_IN = "walk_in"
    UNKNOWN_CARD = "unknown_card"
    CARD_REVOKED = "card_revoked"
    MEMBER_SUSPENDED = "member_suspended"
    OUTSIDE_HOURS = "outside_hours"
    NO_MEMBERSHIP = "no_membership"
    ROOM_BOOKED = "room_booked"
    BOOKING_RELEASED = "booking_released"
    NO_ACCESS = "no_access"
    UNKNOWN_DOOR = "unknown_door"
    LOCKED_DOWN = "locked_down"
    TOO_MANY_ATTEMPTS = "too_many_attempts"
    POLICY_STALE = "policy_stale"


class Message(BaseModel):
    """Base of every payload: `v` is 1 or higher, unknown fields are kept and ignored."""

    # No inf/NaN: JSON has neither, and pydantic would write them as null, which no reader
    # could decode back.
    model_config = ConfigDict(extra="allow", frozen=True, allow_inf_nan=False)

    v: int = Field(default=1, ge=1, le=1_000_000)


class DeviceEvent(Message):
    """An event a device sends: an id unique per device, its time, and boot/seq for gaps."""

    id: EventId
    ts: UtcTime
    boot: Short | None = None
    seq: int | None = Field(default=None, ge=1, le=MAX_SEQ)


DoorModeName = Literal["normal", "locked", "unlocked"]


class Status(Message):
    """Retained availability of a device, gateway or server replica (also its last will)."""

    state: Literal["online", "offline"]
    kind: Literal["door", "occupancy", "gateway", "server"]
    version: str = Field(default="0.1.0", max_length=32)
    ts: UtcTime
    # A day at most: a heartbeat interval is a duration the server does arithmetic with.
    interval_s: float = Field(default=60.0, gt=0, le=86_400)
    clock_synced: bool = True
    queued: int = Field(default=0, ge=0, le=MAX_SEQ)
    dropped: int = Field(default=0, ge=0, le=MAX_SEQ)
    mode: DoorModeName | None = None  # doors: the DoorMode the door applies now


class Tap(DeviceEvent):
    """A card presented at a door: `card` is canonical (see protocol.cards)."""

    card: CardUid
    tech: str | None = Field(default=None, max_length=32)
    reader: str | None = Field(default=None, max_length=32)
    replay: bool = False


class Decision(Message):
    """The answer to a tap, on the door's `cmd/decision`, echoing the tap's id."""

    id: EventId
    granted: bool
    reason: str = Field(pattern=r"^[a-z_]{1,40}$")
    unlock_s: float = Field(default=5.0, ge=0, le=3600)
    by: Literal["server", "gateway"] = "server"
    reader: str | None = Field(default=None, max_length=32)
    name: str | None = Field(default=None, max_length=200)


class Result(Message):
    """What the door actually did with a tap."""

    id: EventId
    tap: EventId
    applied: Literal["server", "gateway", "none"]
    granted: bool
    ts: UtcTime | None = None
    reason: str | None = Field(default=None, max_length=40)
    boot: Short | None = None
    seq: int | None = Field(default=None, ge=1, le=MAX_SEQ)


DoorEventKind = Literal[
    "opened", "closed", "forced", "held_open", "exit_request", "fire_release", "tamper"
]


class DoorEvent(DeviceEvent):
    event: DoorEventKind


class Motion(DeviceEvent):
    motion: bool


class Count(DeviceEvent):
    entered: int = Field(default=0, ge=0, le=10_000)
    left: int = Field(default=0, ge=0, le=10_000)


class DoorCommand(Message):
    """A one-off remote opening; ignored when received after `expires`."""

    id: EventId
    ts: UtcTime
    expires: UtcTime
    command: Literal["unlock"] = "unlock"
    unlock_s: float = Field(default=5.0, gt=0, le=3600)


class DoorMode(Message):
    """Retained: `locked` refuses every grant, `unlocked` holds the door open. `n` is the
    server's command counter: a door applies a newer `n`, never an older one."""

    ts: UtcTime
    mode: DoorModeName
    n: int | None = Field(default=None, ge=0, le=MAX_N)


class EmergencyList(Message):
    """Retained: salted hashes of the staff cards a door admits on its own, one salt per
    door; `kdf` names the hash (protocol.cards.emergency_hash), SHA-256 when absent; `n`
    orders lists as it does DoorMode."""

    ts: UtcTime
    salt: str = Field(pattern=r"^[0-9a-f]{8,128}$")
    cards: list[Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]] = Field(max_length=50)
    kdf: str | None = Field(default=None, pattern=r"^[a-z0-9:]{1,40}$")
    n: int | None = Field(default=None, ge=0, le=MAX_N)


class PolicyNotice(Message):
    epoch: str = Field(min_length=1, max_length=64)
    n: int = Field(ge=0, le=MAX_N)
    ts: UtcTime


M = TypeVar("M", bound=Message)


def encode(message: Message) -> bytes:
    """Serialise a payload to compact UTF-8 JSON; raise ProtocolError over 4 KiB."""
    data = message.model_dump_json(exclude_none=True).encode()
    if len(data) > MAX_PAYLOAD:
        raise ProtocolError(f"payload of {len(data)} bytes is over {MAX_PAYLOAD}")
    return data


def _not_json(constant: str) -> Any:
    raise ProtocolError(f"not JSON: {constant} is not a JSON value")


# Built once: json.loads with any option builds a new decoder on every call.
_JSON = json.JSONDecoder(parse_constant=_not_json)


def decode(model: type[M], payload: bytes | str) -> M:
    """Parse and validate a payload; raise ProtocolError with a readable reason."""
    if isinstance(payload, str):
        try:
            payload = payload.encode()
        except UnicodeError as exc:  # a lone surrogate has no UTF-8 form
            raise ProtocolError(f"not UTF-8: {exc}") from None
    if len(payload) > MAX_PAYLOAD:
        raise ProtocolError(f"payload of {len(payload)} bytes is over {MAX_PAYLOAD}")
    try:
        # Decoded here: json.loads(bytes) would also take UTF-16 and UTF-32.
        data: Any = _JSON.decode(payload.decode())
    except (UnicodeError, json.JSONDecodeError) as exc:
        raise ProtocolError(f"not JSON: {exc}") from None
    except RecursionError:  # 4 KiB of "[" nests deeper than Python's recursion limit
        raise ProtocolError("not JSON: nested too deeply") from None
    if not isinstance(data, dict):
        raise ProtocolError("payload must be a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or model.__name__
        raise ProtocolError(f"{model.__name__}.{where}: {first['msg']}") from None
