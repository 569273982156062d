"""The policy snapshot built from the database, and the cache the tap path decides from.

The cache compares the stored policy version (server.db.meta, which every write that can
change a decision bumps) with the one it built and rebuilds when they differ, so every
replica (and the gateway, through PolicyNotice) sees the change."""

from __future__ import annotations

import dataclasses
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from operator import attrgetter
from typing import Any, Generic, TypeVar, TypeVarTuple

from sqlalchemy import ColumnElement, Result, Select, and_, or_, select, type_coerce
from sqlalchemy.orm import Session
from sqlalchemy.types import NullType

from protocol.policy import (
    AccessRules,
    BookingPolicy,
    CardPolicy,
    DoorPolicy,
    MemberPolicy,
    MembershipPolicy,
    PlanPolicy,
    PolicySnapshot,
    RoomPolicy,
)
from server.db import models
from server.db.meta import version
from server.db.scope import own_rooms
from server.site import SiteConfig

# How far ahead the snapshot carries bookings: a gateway cut off from the server keeps
# admitting their holders for this long.
SNAPSHOT_HORIZON = timedelta(days=7)
# A snapshot is rebuilt this often even when nothing changed, so its window moves on.
REBUILD_AFTER = timedelta(hours=1)
EMPTY = PolicySnapshot(site="", generated_at=datetime(1970, 1, 1, tzinfo=UTC))


def build_snapshot(
    session: Session, site: SiteConfig, now: datetime, previous: PolicySnapshot | None = None
) -> PolicySnapshot:
    """Everything `decide()` needs, from the database and the site file. Every row is read
    again; a member, card or booking whose values are those it had in `previous` (the
    snapshot this one replaces) keeps its model from there (models are never changed)."""
    epoch, n = version(session)
    before = previous or EMPTY
    rooms = {r.id: r for r in site.rooms}
    modes = dict(session.execute(select(models.Door.id, models.Door.mode)).all())
    doors = {
        d.id: DoorPolicy(
            id=d.door,
            room=d.room,
            kind="entrance" if rooms[d.room].kind == "entrance" else "room",
            mode=modes.get(d.door, "normal"),  # type: ignore[arg-type]
            unlock_s=site.access.unlock,
        )
        for d in site.door_devices()
        if d.door
    }
    return PolicySnapshot(
        site=site.id,
        epoch=epoch,
        n=n,
        generated_at=now,
        timezone=site.site.timezone,
        opening_hours=site.opening_hours,
        closed_dates=site.closed_dates(range(now.year - 1, now.year + 2)),
        doors=doors,
        members=_members(session, before.members),
        cards=_cards(session, before.cards),
        plans={p.id: PlanPolicy(doors=p.doors, hours=p.hours) for p in site.plans},
        memberships=_memberships(session, site, now),
        rooms={r.id: RoomPolicy(kind=r.kind, bookable=r.bookable) for r in site.rooms},
        bookings=_bookings(session, site, now, before.bookings),
        rules=AccessRules(
            early_entry_s=site.access.early_entry,
            no_show_grace_s=site.access.no_show_grace,
            walk_in_categories=site.walk_in.categories,
            walk_in_max_s=site.walk_in.max,
            max_denied_taps=site.access.max_denied_taps,
            denied_window_s=site.access.denied_window,
            attempts_cooldown_s=site.access.attempts_cooldown,
            unknown_taps_burst=site.access.unknown_taps_burst,
            unknown_taps_per_minute=site.access.unknown_taps_per_minute,
        ),
    )


# A snapshot of 10,000 members is rebuilt on every policy change: its tables are read as
# columns (`_rows`), and the members, cards and bookings not kept from the snapshot before
# are made without validating again what the database holds (`_Made`). Kept ones are
# fewer objects made and fewer for the garbage collector to walk.
RowT = TypeVar("RowT")
Columns = TypeVarTuple("Columns")


class _Made(Generic[RowT]):
    """Rows of a snapshot's table (a slotted dataclass of protocol.policy) made from their
    values in the order of its fields, unvalidated, and their values read back in it."""

    def __init__(self, row: type[RowT]) -> None:
        names = [field.name for field in dataclasses.fields(row)]  # type: ignore[arg-type]
        self.row = row
        self._setters = [getattr(row, name).__set__ for name in names]  # the slots'
        self.values: Callable[[RowT], tuple[Any, ...]] = attrgetter(*names)

    def __call__(self, values: tuple[Any, ...]) -> RowT:
        made = self.row.__new__(self.row)
        for set_value, value in zip(self._setters, values, strict=True):
            set_value(made, value)
        return made


_member = _Made(MemberPolicy)
_card = _Made(CardPolicy)
_booking = _Made(BookingPolicy)


def _rows(session: Session, statement: Select[*Columns]) -> Result[*Columns]:
    """The rows of `statement` through the session's connection, without the ORM's result
    layer (which costs a tenth of a build)."""
    return session.connection().execute(statement)


class _Times:
    """Times read as the driver gives them (`stored(column)`) and made aware datetimes as
    the column type makes them, once for each distinct value: a week of bookings has a few
    hundred start and end times among tens of thousands of rows, so there is less to
    parse and, in the snapshot held, one object a time rather than one a row."""

    def __init__(self, session: Session) -> None:
        dialect = session.connection().dialect
        made = models.UtcDateTime().dialect_impl(dialect).result_processor(dialect, None)
        self._made: Callable[[Any], Any] = made or (lambda value: value)
        self._seen: dict[Any, datetime] = {}

    @staticmethod
    def stored(column: Any) -> ColumnElement[Any]:
        return type_coerce(column, NullType())

    def __call__(self, value: Any) -> datetime:
        made = self._seen.get(value)
        if made is None:
            made = self._seen[value] = self._made(value)
        return made


def _members(session: Session, before: dict[int, MemberPolicy]) -> dict[int, MemberPolicy]:
    """Every member's policy; members of the same category and suspension share one."""
    M = models.Member
    alike: dict[tuple[str, datetime | None], MemberPolicy] = {
        (m.category, m.suspended_until): m for m in before.values()
    }
    members = {}
    for id_, category, until in _rows(session, select(M.id, M.category, M.suspended_until)):
        policy = alike.get((category, until))
        if policy is None:
            policy = alike[category, until] = _member((category, until))
        members[id_] = policy
    return members


def _cards(session: Session, before: dict[str, CardPolicy]) -> dict[str, CardPolicy]:
    """Every card's policy, by its hash."""
    C = models.Card
    cards = {}
    for uid_hash, member_id, active in _rows(session, select(C.uid_hash, C.member_id, C.active)):
        values = (member_id, active)
        card = before.get(uid_hash)
        if card is None or _card.values(card) != values:
            card = _card(values)
        cards[uid_hash] = card
    return cards


def _memberships(
    session: Session, site: SiteConfig, now: datetime
) -> dict[int, list[MembershipPolicy]]:
    """Memberships not yet over of the site's plans, and of other sites' plans that name
    this site a partner, which admit here as this site's plan of the same id (and not at
    all where this site has no plan of that id)."""
    Ms, P = models.Membership, models.Plan
    plans = {p.id for p in site.plans}
    partnered = [
        and_(Ms.site_id == other, Ms.plan == plan)
        for other, plan, partners in session.execute(
            select(P.site_id, P.id, P.partners).where(P.site_id != site.id)
        )
        if site.id in partners and plan in plans
    ]
    rows = session.execute(
        select(Ms.member_id, Ms.plan, Ms.valid_from, Ms.valid_until).where(
            Ms.valid_until > now, or_(Ms.site_id == site.id, *partnered)
        )
    )
    memberships: dict[int, list[MembershipPolicy]] = {}
    for member_id, plan, valid_from, valid_until in rows:
        memberships.setdefault(member_id, []).append(
            MembershipPolicy(plan=plan, valid_from=valid_from, valid_until=valid_until)
        )
    return memberships


def _bookings(
    session: Session, site: SiteConfig, now: datetime, before: list[BookingPolicy]
) -> list[BookingPolicy]:
    """Bookings of the site's rooms the doors must know: not cancelled or completed, from
    a day back to the snapshot horizon ahead."""
    B, A = models.Booking, models.BookingAttendee
    held = (
        B.room_id.in_(own_rooms(session, site.id)),
        B.status.in_(("booked", "checked_in", "released")),
        B.end > now - timedelta(days=1),
        B.start < now + SNAPSHOT_HORIZON,
    )
    listed: dict[int, list[int]] = {}
    for booking_id, member_id in _rows(
        session, select(A.booking_id, A.member_id).join(B, B.id == A.booking_id).where(*held)
    ):
        listed.setdefault(booking_id, []).append(member_id)
    attendees = {booking_id: tuple(members) for booking_id, members in listed.items()}
    times = _Times(session)
    columns = (B.id, B.room_id, B.member_id, times.stored(B.start), times.stored(B.end), B.status)
    rows = _rows(session, select(*columns).where(*held).order_by(B.id))
    kept = {b.id: b for b in before}
    bookings = []
    for id_, room, member_id, start, end, status in rows:
        values = (
            id_,
            sys.intern(room),  # one string a room and status, not one a row
            member_id,
            attendees.get(id_, ()),
            times(start),  # start and end are never NULL
            times(end),
            sys.intern(status),
        )
        booking = kept.get(id_)
        if booking is None or _booking.values(booking) != values:
            booking = _booking(values)
        bookings.append(booking)
    return bookings


class PolicyCache:
    """The current snapshot, rebuilt only when the stored policy version moved on."""

    def __init__(self, site: SiteConfig) -> None:
        self.site = site
        self._snapshot: PolicySnapshot | None = None
        self._lock = threading.Lock()

    def get(
        self, session: Session, now: datetime, current: tuple[str, int] | None = None
    ) -> PolicySnapshot:
        """The snapshot of the stored version (`current`, when the caller read it already
        in this transaction)."""
        current = current or version(session)
        with self._lock:
            snap = self.held(current, now)
            if snap is None:
                snap = self._snapshot = build_snapshot(session, self.site, now, self._snapshot)
            return snap

    def held(self, current: tuple[str, int], now: datetime) -> PolicySnapshot | None:
        """The snapshot held, when it is of the stored version `current` and not due for
        its hourly rebuild; None when it must be (re)built."""
        snap = self._snapshot
        if snap is None or (snap.epoch, snap.n) != current or snap.age(now) > REBUILD_AFTER:
            return None
        return snap
