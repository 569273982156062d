"""The policy snapshot: everything a tap is decided from, as plain data.

The server builds it from its database and decides from it; the gateway fetches it over
HTTP and decides from the same model when the server is silent. It carries card hashes,
never raw UIDs, and no names.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.dataclasses import dataclass

from protocol import hours as site_hours
from protocol.messages import UtcTime

Category = Literal["resident", "ngo", "business", "staff"]
DoorModeName = Literal["normal", "locked", "unlocked"]


class WeeklyHours(BaseModel):
    """Opening hours per weekday, e.g. `{"mon": ["08:00-21:00"], "sat": ["10:00-16:00"]}`;
    a day that is not listed is closed (the rules are `protocol.hours`)."""

    model_config = ConfigDict(frozen=True)

    days: dict[str, list[str]] = Field(default_factory=dict)

    @field_validator("days")
    @classmethod
    def _check(cls, days: dict[str, list[str]]) -> dict[str, list[str]]:
        site_hours.check_hours(days)
        return days

    def is_open(self, local: datetime) -> bool:
        """Whether a local (site time zone) wall-clock time is inside the hours."""
        return site_hours.open_at_wall_clock(self.days, local)


class DoorPolicy(BaseModel):
    id: str
    room: str
    kind: Literal["entrance", "room"]
    mode: DoorModeName = "normal"
    unlock_s: float = 5.0


# A snapshot holds a member, a card and a booking for each of tens of thousands: each is a
# frozen dataclass with slots (validated as a model is, and the same in JSON), which holds
# its values without a dict of its own, a third of a model's size.
@dataclass(frozen=True, slots=True, kw_only=True)
class MemberPolicy:
    category: Category
    suspended_until: UtcTime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CardPolicy:
    member_id: int
    active: bool = True


class PlanPolicy(BaseModel):
    doors: list[str]
    hours: Literal["opening", "always"] = "opening"


class MembershipPolicy(BaseModel):
    plan: str
    valid_from: UtcTime
    valid_until: UtcTime


class RoomPolicy(BaseModel):
    kind: str
    bookable: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class BookingPolicy:
    """A booking as the doors see it: who may enter which room when."""

    id: int
    room: str
    member_id: int
    # A tuple, not a list: a snapshot's bookings are never changed, and a booking holding
    # only plain values is one object less for the garbage collector to walk, tens of
    # thousands of times on every rebuild. On the wire it is a JSON array either way.
    attendees: tuple[int, ...] = ()
    start: UtcTime
    end: UtcTime
    status: Literal["booked", "checked_in", "released"]

    def admits(self, member_id: int) -> bool:
        return member_id == self.member_id or member_id in self.attendees


class AccessRules(BaseModel):
    """The site's booking rules that a door decision depends on (seconds)."""

    early_entry_s: float = 900.0
    no_show_grace_s: float = 900.0
    walk_in_categories: list[Category] = Field(default_factory=list)
    walk_in_max_s: float = 3 * 3600.0
    # tap limits (protocol.attempts)
    max_denied_taps: int = Field(default=5, ge=1, le=1000)
    denied_window_s: float = Field(default=60.0, gt=0, le=86_400)
    attempts_cooldown_s: float = Field(default=300.0, ge=0, le=86_400)
    unknown_taps_burst: int = Field(default=10, ge=1, le=10_000)
    unknown_taps_per_minute: float = Field(default=30.0, gt=0, le=60_000)


class PolicySnapshot(BaseModel):
    """Everything `decide()` needs. Keys of `doors` are door-controller device ids; keys of
    `cards` are card hashes (protocol.cards.card_hash)."""

    model_config = ConfigDict(frozen=True)

    v: int = 1
    site: str
    epoch: str = ""
    n: int = 0
    generated_at: UtcTime
    timezone: str = "UTC"
    opening_hours: WeeklyHours = Field(default_factory=WeeklyHours)
    closed_dates: list[date] = Field(default_factory=list)
    doors: dict[str, DoorPolicy] = Field(default_factory=dict)
    members: dict[int, MemberPolicy] = Field(default_factory=dict)
    cards: dict[str, CardPolicy] = Field(default_factory=dict)
    plans: dict[str, PlanPolicy] = Field(default_factory=dict)
    memberships: dict[int, list[MembershipPolicy]] = Field(default_factory=dict)
    rooms: dict[str, RoomPolicy] = Field(default_factory=dict)
    # Bookings that are not cancelled or completed, from a day back to the coming days.
    bookings: list[BookingPolicy] = Field(default_factory=list)
    rules: AccessRules = Field(default_factory=AccessRules)

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, name: str) -> str:
        # Refused here, when the snapshot is loaded, rather than by every decide() after.
        try:
            ZoneInfo(name)
        except (ValueError, ZoneInfoNotFoundError):
            raise ValueError(f"unknown time zone {name!r}") from None
        return name

    # Plain properties, not cached_property: model_copy(update=...) copies the instance
    # __dict__, so a cached zone or closed set would outlive the fields it came from.
    # ZoneInfo keeps its own cache of zones, so this costs little.
    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def local(self, now: datetime) -> datetime:
        return now.astimezone(self.zone)

    def is_open(self, now: datetime) -> bool:
        """Whether the site is open at `now`: inside opening hours and not a closed day."""
        return site_hours.is_open(self.opening_hours.days, self.closed_dates, self.zone, now)

    def age(self, now: datetime) -> timedelta:
        return now - self.generated_at
