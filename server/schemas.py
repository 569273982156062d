"""Request and response bodies of the HTTP API (see API.md).

Request bodies refuse unknown fields (422), so a misspelt field is caught rather than
silently ignored. Text is stripped, must not be empty, and is limited as API.md says.
Times in requests carry an offset; responses write them in UTC with `Z`."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from protocol.policy import Category
from server import models
from server.timefmt import RequestTime, ResponseTime

MAX_ID = 2**62  # ids fit a signed 64-bit column with room to spare
_EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")


def _printable(value: str) -> str:
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        raise ValueError("must not contain control characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text") from None
    return value


def _email(value: str) -> str:
    if not _EMAIL.match(value):
        raise ValueError("is not an e-mail address")
    return value


def _limited(max_length: int) -> StringConstraints:
    return StringConstraints(strip_whitespace=True, min_length=1, max_length=max_length)


Name = Annotated[str, _limited(200), AfterValidator(_printable)]
Label = Annotated[str, _limited(100), AfterValidator(_printable)]
Email = Annotated[str, _limited(254), AfterValidator(_printable), AfterValidator(_email)]
Id = Annotated[int, Field(ge=1, le=MAX_ID)]


class Body(BaseModel):
    """Base of request bodies: unknown fields are an error."""

    model_config = ConfigDict(extra="forbid")


class MemberCreate(Body):
    name: Name
    email: Email | None = None
    category: Category


class MemberPatch(Body):
    """Only the fields given change; `null` clears e-mail and suspension."""

    name: Name | None = None
    email: Email | None = None
    category: Category | None = None
    suspended_until: RequestTime | None = None

    def changes(self) -> dict[str, object]:
        return {field: getattr(self, field) for field in self.model_fields_set}


class MemberOut(BaseModel):
    id: int
    name: str
    email: str | None
    category: str
    suspended_until: ResponseTime | None
    booking_suspended_until: ResponseTime | None  # after too many no-shows
    created_at: ResponseTime

    @classmethod
    def of(cls, member: models.Member) -> MemberOut:
        return cls(
            id=member.id,
            name=member.name,
            email=member.email,
            category=member.category,
            suspended_until=member.suspended_until,
            booking_suspended_until=member.booking_suspended_until,
            created_at=member.created_at,
        )


class CardCreate(Body):
    # Any spelling normalise_uid takes ("04:a1:b2:c3", "0x04A1B2C3"); checked by the domain.
    uid: Annotated[str, Field(min_length=1, max_length=64)]
    label: Label | None = None


class CardOut(BaseModel):
    """A card as the API shows it: never its UID nor its hash."""

    id: int
    member_id: int
    label: str | None
    active: bool
    created_at: ResponseTime
    revoked_at: ResponseTime | None

    @classmethod
    def of(cls, card: models.Card) -> CardOut:
        return cls(
            id=card.id,
            member_id=card.member_id,
            label=card.label,
            active=card.active,
            created_at=card.created_at,
            revoked_at=card.revoked_at,
        )


class MembershipCreate(Body):
    member_id: Id
    plan: Annotated[str, Field(min_length=1, max_length=64)]
    valid_from: RequestTime
    valid_until: RequestTime


class MembershipOut(BaseModel):
    id: int
    member_id: int
    plan: str
    valid_from: ResponseTime
    valid_until: ResponseTime
    created_at: ResponseTime

    @classmethod
    def of(cls, membership: models.Membership) -> MembershipOut:
        return cls(
            id=membership.id,
            member_id=membership.member_id,
            plan=membership.plan,
            valid_from=membership.valid_from,
            valid_until=membership.valid_until,
            created_at=membership.created_at,
        )


class AccessEventOut(BaseModel):
    """One tap: `id` is the door controller's event id; `by` is `server`, `gateway` or
    `expired`. What the door reported doing (its result) wins over the decision sent."""

    id: str
    device: str
    door: str | None
    ts: ResponseTime | None
    received: ResponseTime
    granted: bool
    reason: str | None
    by: str | None
    member_id: int | None

    @classmethod
    def of(cls, event: models.AccessEvent) -> AccessEventOut:
        granted, by = event.granted, event.by
        if event.result_applied is not None:
            granted = bool(event.result_granted)
            by = "expired" if event.result_applied == "none" else event.result_applied
        return cls(
            id=event.event_id,
            device=event.device_id,
            door=event.door_id,
            ts=event.ts,
            received=event.received,
            granted=granted,
            reason=event.reason,
            by=by,
            member_id=event.member_id,
        )


class DeviceOut(BaseModel):
    id: str
    kind: Literal["door", "occupancy"]
    room: str
    door: str | None
    online: bool
    last_seen: ResponseTime | None


class Health(BaseModel):
    status: Literal["ok", "unavailable"]
    db: Literal["ok", "error", "read_only"]  # read_only: the ingest's writes fail
    mqtt: Literal["connected", "disconnected", "disabled"]
    door_path_lag_s: float = 0.0  # age of the oldest door-path message not yet handled


class DeadLetterOut(BaseModel):
    """A message the server could not apply, as staff see it (a card number hidden)."""

    id: int
    topic: str
    device_id: str | None
    payload: str
    error: str
    attempts: int
    received: ResponseTime
    status: Literal["held", "replayed", "discarded"]
    handled_at: ResponseTime | None
    handled_by: str | None
