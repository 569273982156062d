"""Waitlist entries: joining the waitlist, leaving it, and reading it.

An entry waits for one room (`room_id`), for any bookable room of a `kind` holding at
least `min_capacity` people, or for a room and any room like it (`any_similar`: both
`room_id` and `kind` set, `min_capacity` the people it must hold, by default as many as
the room named). Join forms propose the last, ticked (`SUGGESTED_ANY_SIMILAR`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, select, update
from sqlalchemy.orm import Session

from protocol.bookingrules import past_horizon, start_in_past
from protocol.durations import format_duration
from server.bookings.rules import check_may_book
from server.db import models, scope
from server.errors import Conflict, Invalid, NotFound
from server.site import Room, SiteConfig
from server.waitlist.offers import offer_freed_slot

# What a join form proposes to a member naming a room: "or any room like it", ticked.
OPEN = ("waiting", "offered")  # an entry still in the queue, or holding an offer
SUGGESTED_ANY_SIMILAR = True


def join(
    session: Session,
    *,
    site: SiteConfig,
    member_id: int,
    start: datetime,
    end: datetime,
    now: datetime,
    room_id: str | None = None,
    kind: str | None = None,
    min_capacity: int | None = None,
    any_similar: bool = False,
) -> models.WaitlistEntry:
    """Put a member on the waitlist for a room, for any bookable room of a kind, or for a
    room or any bookable room of its kind that holds `min_capacity` people (`any_similar`;
    by default as many as the room named)."""
    if (room_id is None) == (kind is None):
        raise Invalid("give exactly one of room_id and kind")
    if any_similar and room_id is None:
        raise Invalid("any_similar goes with room_id")
    if room_id is not None:
        if min_capacity is not None and not any_similar:
            raise Invalid("min_capacity goes with kind, not with room_id")
        room = site.room(room_id)
        if room is None:
            raise Invalid(f"room {room_id!r} does not exist")
        if not room.bookable:
            raise Invalid(f"room {room_id!r} is not bookable")
        if any_similar:
            kind = room.kind
            if min_capacity is None:
                min_capacity = room.capacity
            elif room.capacity is not None and min_capacity > room.capacity:
                raise Invalid(f"room {room_id!r} holds {room.capacity} people")
    elif not any(_fits(room, kind, min_capacity) for room in site.rooms):
        size = f" for {min_capacity} people" if min_capacity is not None else ""
        raise Invalid(f"no bookable room of kind {kind!r}{size}")
    if end <= start:
        raise Invalid("end must be after start")
    if start_in_past(start, now):
        raise Invalid("start must be in the future")
    if (end - start).total_seconds() > site.bookings.max_length:
        longest = format_duration(site.bookings.max_length)
        raise Invalid(f"longer than the longest booking ({longest})")
    if past_horizon(start, now, timedelta(seconds=site.bookings.horizon)):
        horizon = format_duration(site.bookings.horizon)
        raise Invalid(f"starts later than bookings may ({horizon} ahead)")
    member = session.get(models.Member, member_id)
    if member is None:
        raise Invalid(f"member {member_id} does not exist")
    check_may_book(member, now)
    Entry = models.WaitlistEntry
    same = session.scalars(
        select(Entry.id).where(
            scope.entries(site.id),
            Entry.member_id == member_id,
            Entry.status.in_(OPEN),
            Entry.room_id == room_id
            if room_id is not None
            else and_(Entry.room_id.is_(None), Entry.kind == kind),
            Entry.start < end,
            Entry.end > start,
        )
    ).first()
    if same is not None:
        raise Conflict(f"member {member_id} already waits for that time (entry {same})")
    entry = models.WaitlistEntry(
        site_id=site.id,
        member_id=member_id,
        room_id=room_id,
        kind=kind,
        min_capacity=min_capacity,
        start=start,
        end=end,
        status="waiting",
        created_at=now,
    )
    session.add(entry)
    session.flush()
    return entry


def cancel_entry(
    session: Session, *, site: SiteConfig, entry_id: int, now: datetime
) -> models.WaitlistEntry:
    """Leave the waitlist. An outstanding offer is withdrawn and passed to the next member
    waiting. A booked entry is a Conflict (cancel the booking); a lapsed or cancelled one
    stays as it is. NotFound for an entry of another site."""
    entry = get_entry(session, entry_id=entry_id, site_id=site.id)
    if entry.status not in OPEN:
        if entry.status == "booked":
            raise Conflict("entry is booked; cancel the booking instead")
        return entry
    Offer = models.Offer
    withdrawn = []
    outstanding = session.scalars(
        select(Offer).where(Offer.waitlist_id == entry.id, Offer.status == "offered")
    ).all()
    for offer in outstanding:
        result = session.execute(
            update(Offer)
            .where(Offer.id == offer.id, Offer.status == "offered")
            .values(status="expired")
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            withdrawn.append(offer)
    Entry = models.WaitlistEntry
    result = session.execute(
        update(Entry).where(Entry.id == entry.id, Entry.status.in_(OPEN)).values(status="cancelled")
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        session.refresh(entry)
        if entry.status == "booked":
            raise Conflict("entry is booked; cancel the booking instead")
    for offer in withdrawn:
        offer_freed_slot(
            session, site=site, room_id=offer.room_id, start=offer.start, end=offer.end, now=now
        )
    return entry


def get_entry(
    session: Session, *, entry_id: int, site_id: str | None = None
) -> models.WaitlistEntry:
    """The waitlist entry, or NotFound (also for one of another site than `site_id`, when
    given)."""
    stmt = select(models.WaitlistEntry).where(models.WaitlistEntry.id == entry_id)
    if site_id is not None:
        stmt = stmt.where(scope.entries(site_id))
    entry = session.scalars(stmt).first()
    if entry is None:
        raise NotFound(f"waitlist entry {entry_id} not found")
    return entry


def list_entries(
    session: Session,
    *,
    member_id: int | None = None,
    status: str | None = None,
    limit: int = 100,
    site_id: str | None = None,
) -> list[models.WaitlistEntry]:
    """Waitlist entries in the order they are served (oldest first); `site_id`: those made
    at the site (None: of every site)."""
    Entry = models.WaitlistEntry
    stmt = select(Entry).order_by(Entry.created_at, Entry.id).limit(limit)
    if site_id is not None:
        stmt = stmt.where(scope.entries(site_id))
    if member_id is not None:
        stmt = stmt.where(Entry.member_id == member_id)
    if status is not None:
        stmt = stmt.where(Entry.status == status)
    return list(session.scalars(stmt))


def _fits(room: Room, kind: str | None, min_capacity: int | None) -> bool:
    if not room.bookable or room.kind != kind:
        return False
    return min_capacity is None or (room.capacity or 0) >= min_capacity
