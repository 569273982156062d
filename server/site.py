"""The site inventory (rooms, doors, devices, plans, hours, rules) from its TOML file."""

from __future__ import annotations

import tomllib
from datetime import date
from functools import cache
from pathlib import Path
from typing import Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from protocol.durations import parse_duration
from protocol.homeassistant import DEFAULT_PREFIX, check_prefix
from protocol.policy import Category, WeeklyHours
from protocol.topics import ID_RE, TopicError

# The languages of pages and notices (server.notify.texts has every text in each).
Language = Literal["pl", "en", "uk"]
LANGUAGES: tuple[Language, ...] = get_args(Language)


class SiteConfigError(ValueError):
    """A site file that does not validate; the message names the file, the key and why."""


def _id(value: str) -> str:
    if not ID_RE.match(value):
        raise ValueError("must be 1-64 characters from [a-z0-9_-]")
    return value


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _seconds(value: object) -> float:
    """Durations are written in the file as `90s`, `15m`, `2h`."""
    return parse_duration(value)  # type: ignore[arg-type]


class SiteInfo(_Model):
    id: str
    name: str = Field(max_length=200)
    timezone: str = "UTC"
    locale: str = "pl"  # its language (before any `-`) is one of LANGUAGES
    currency: str = "PLN"
    hours: dict[str, list[str]] = Field(default_factory=dict)
    closures: dict[str, list[date]] = Field(default_factory=dict)

    _check_id = field_validator("id")(_id)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @field_validator("locale")
    @classmethod
    def _locale(cls, value: str) -> str:
        if _language_of(value) not in LANGUAGES:
            raise ValueError(f"the language of {value!r} must be one of {', '.join(LANGUAGES)}")
        return value

    @property
    def language(self) -> Language:
        """The site's language: of its pages by default, and of a member unless they chose."""
        return _language_of(self.locale)  # type: ignore[return-value]

    @field_validator("hours")
    @classmethod
    def _hours(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        WeeklyHours(days=value)
        return value


class SiteAccessRules(_Model):
    """The site file's `[access]` table. The policy snapshot carries the part a decision
    needs of it (and of `[walk_in]`) as `protocol.policy.AccessRules`."""

    unlock: float = 5.0
    decision_timeout: float = 2.0
    gateway_takeover: float = 0.5
    held_open: float = 30.0
    early_entry: float = 900.0
    no_show_grace: float = 900.0
    # tap limits (protocol.attempts): this many denials of one card within the window,
    # and the card is refused `too_many_attempts` for the cooldown
    max_denied_taps: int = Field(default=5, ge=1, le=1000)
    denied_window: float = 60.0
    attempts_cooldown: float = 300.0
    # unknown cards per door: a burst, then this many a minute
    unknown_taps_burst: int = Field(default=10, ge=1, le=10_000)
    unknown_taps_per_minute: float = Field(default=30.0, gt=0, le=60_000)

    _durations = field_validator(
        "unlock",
        "decision_timeout",
        "gateway_takeover",
        "held_open",
        "early_entry",
        "no_show_grace",
        "denied_window",
        "attempts_cooldown",
        mode="before",
    )(classmethod(lambda cls, v: _seconds(v)))


class WalkIn(_Model):
    categories: list[Category] = Field(default_factory=list)
    max: float = 3 * 3600.0
    vacancy_timeout: float = 900.0

    _durations = field_validator("max", "vacancy_timeout", mode="before")(
        classmethod(lambda cls, v: _seconds(v))
    )


class OccupancyRules(_Model):
    """What the rooms' occupancy sensors may do besides showing who is there."""

    # Fresh motion in a booked room inside its check-in window checks the booking in.
    motion_check_in: bool = False


class BookingRules(_Model):
    """How rooms are booked, and what a no-show costs."""

    max_length: float = 12 * 3600.0
    horizon: float = 90 * 86400.0  # how far ahead a booking may start
    max_occurrences: int = Field(default=26, ge=1, le=200)  # of a weekly repeat
    reminder_before: float = 300.0  # before the release, remind the holder
    remind_before_start: float = 2 * 3600.0  # e-mail the holder, with a cancel link
    offer_hold: float = 600.0  # how long a waitlist offer is held
    # A freed slot covering only part of a waiting member's time is offered if that part
    # (what is left of it) lasts at least this long (server.waitlist.offers.offered_part).
    min_partial_offer: float = 3600.0
    no_show_limit: int = Field(default=3, ge=1)  # strikes in `no_show_window`...
    no_show_window: float = 30 * 86400.0
    no_show_suspension: float = 14 * 86400.0  # ...suspend booking for this long
    public_holidays: str | None = "PL"  # country whose public holidays close the site
    # Hours a member of a category may hold in one ISO week (`[bookings.quotas]`, e.g.
    # `resident = "10h"`); a category not named has no limit (server.bookings.quotas).
    quotas: dict[Category, float] = Field(default_factory=dict)

    @field_validator("quotas", mode="before")
    @classmethod
    def _quota_durations(cls, value: object) -> object:
        if isinstance(value, dict):
            return {category: _seconds(limit) for category, limit in value.items()}
        return value

    _durations = field_validator(
        "max_length",
        "horizon",
        "reminder_before",
        "remind_before_start",
        "offer_hold",
        "min_partial_offer",
        "no_show_window",
        "no_show_suspension",
        mode="before",
    )(classmethod(lambda cls, v: _seconds(v)))


class Privacy(_Model):
    """The site file's `[privacy]` table: how long events are kept, and whom to ask."""

    # Access events, device events (the occupancy history) older than this are purged daily.
    retention_days: int = Field(default=90, ge=1, le=3650)
    contact: str | None = Field(default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")


class HomeAssistant(_Model):
    """The site file's `[home_assistant]` table: MQTT discovery of the rooms and doors
    (protocol.homeassistant), off unless `discovery = true`."""

    discovery: bool = False
    prefix: str = DEFAULT_PREFIX  # Home Assistant's discovery prefix
    # The one server replica that publishes, so that every config names one availability.
    instance: str = Field(default="main", pattern=r"^[a-z0-9_-]{1,32}$")

    @field_validator("prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        try:
            return check_prefix(value)
        except TopicError as exc:
            raise ValueError(str(exc)) from None

    def published_by(self, instance: str) -> bool:
        """Whether the server replica `instance` publishes the site's discovery."""
        return self.discovery and instance == self.instance


class Room(_Model):
    id: str
    name: str = Field(max_length=200)
    kind: Literal["entrance", "meeting", "coworking", "workshop"]
    capacity: int | None = Field(default=None, ge=1)
    bookable: bool = False
    # When the room may be booked, as site hours are written; none means at any hour.
    hours: dict[str, list[str]] | None = None
    # What is in it, as words of the catalogue (`equipment.<id>`: projector, whiteboard, ...).
    equipment: list[str] = Field(default_factory=list, max_length=32)

    _check_id = field_validator("id")(_id)

    @field_validator("hours")
    @classmethod
    def _hours(cls, value: dict[str, list[str]] | None) -> dict[str, list[str]] | None:
        if value is not None:
            WeeklyHours(days=value)
        return value


class Device(_Model):
    id: str
    kind: Literal["door", "occupancy"]
    room: str
    door: str | None = None
    sensor: Literal["pir", "counter"] | None = None

    _check_id = field_validator("id")(_id)

    @model_validator(mode="after")
    def _kind_fields(self) -> Device:
        if self.kind == "door" and self.door is None:
            raise ValueError(f"door controller {self.id!r} needs `door`")
        if self.kind == "occupancy" and self.sensor is None:
            raise ValueError(f"occupancy sensor {self.id!r} needs `sensor`")
        return self


class Plan(_Model):
    id: str
    name: str = Field(max_length=200)
    doors: list[str]
    hours: Literal["opening", "always"] = "opening"
    # Other sites of the network whose plan of this id its holders get there too.
    partners: list[str] = Field(default_factory=list, max_length=100)

    _check_id = field_validator("id")(_id)

    @field_validator("partners")
    @classmethod
    def _partners(cls, value: list[str]) -> list[str]:
        for site_id in value:
            _id(site_id)
        _unique("partners", value)
        return value


class SiteConfig(_Model):
    """One site, as written in `firmware_configs/sites/<site>.toml`."""

    site: SiteInfo
    access: SiteAccessRules = Field(default_factory=SiteAccessRules)
    walk_in: WalkIn = Field(default_factory=WalkIn)
    occupancy: OccupancyRules = Field(default_factory=OccupancyRules)
    bookings: BookingRules = Field(default_factory=BookingRules)
    privacy: Privacy = Field(default_factory=Privacy)
    home_assistant: HomeAssistant = Field(default_factory=HomeAssistant)
    rates: dict[Category, float] = Field(default_factory=dict)
    rooms: list[Room]
    devices: list[Device] = Field(default_factory=list)
    plans: list[Plan] = Field(default_factory=list)

    @model_validator(mode="after")
    def _references(self) -> SiteConfig:
        rooms = {r.id for r in self.rooms}
        doors = {d.door for d in self.devices if d.door}
        _unique("rooms", [r.id for r in self.rooms])
        _unique("devices", [d.id for d in self.devices])
        _unique("plans", [p.id for p in self.plans])
        _unique("doors", [d.door for d in self.devices if d.door])
        for device in self.devices:
            if device.room not in rooms:
                raise ValueError(f"device {device.id!r} names unknown room {device.room!r}")
        for plan in self.plans:
            if self.id in plan.partners:
                raise ValueError(f"plan {plan.id!r} names its own site as a partner")
            for door in plan.doors:
                if door not in doors:
                    raise ValueError(f"plan {plan.id!r} names unknown door {door!r}")
        return self

    @property
    def id(self) -> str:
        return self.site.id

    @property
    def opening_hours(self) -> WeeklyHours:
        return WeeklyHours(days=self.site.hours)

    def closed_dates(self, years: range) -> list[date]:
        """Closure days of the file and the public holidays of `years`."""
        days = set(self.site.closures.get("dates", []))
        if self.bookings.public_holidays:
            days.update(_public_holidays(self.bookings.public_holidays, years))
        return sorted(days)

    def room(self, room_id: str) -> Room | None:
        return next((r for r in self.rooms if r.id == room_id), None)

    def device(self, device_id: str) -> Device | None:
        return next((d for d in self.devices if d.id == device_id), None)

    def plan(self, plan_id: str) -> Plan | None:
        return next((p for p in self.plans if p.id == plan_id), None)

    def door_devices(self) -> list[Device]:
        return [d for d in self.devices if d.kind == "door"]


@cache
def _public_holidays(country: str, years: range) -> frozenset[date]:
    """A country's public holidays in `years`: the same on every snapshot built, and
    computing them costs more than the rest of the snapshot's rules."""
    import holidays

    return frozenset(holidays.country_holidays(country, years=years))


def _language_of(locale: str) -> str:
    """`pl` of `pl`, `pl-PL` or `pl_PL`."""
    return locale.replace("_", "-").split("-")[0].lower()


def _unique(what: str, ids: list[str]) -> None:
    seen: set[str] = set()
    for i in ids:
        if i in seen:
            raise ValueError(f"{what}: {i!r} appears twice")
        seen.add(i)


def load_site(path: str | Path) -> SiteConfig:
    """Read and validate a site file; SiteConfigError names the file, the key and why."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SiteConfigError(f"{path}: no such file") from None
    except tomllib.TOMLDecodeError as exc:
        raise SiteConfigError(f"{path}: not valid TOML: {exc}") from None
    try:
        return SiteConfig.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(p) for p in err["loc"]) or "(top level)"
        raise SiteConfigError(f"{path}: {key}: {err['msg']}") from None
