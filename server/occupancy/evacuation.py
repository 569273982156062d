"""The evacuation list: who is in the building now, as far as the doors and the entrance
counter tell.

Staff read it (and print it) in an emergency, so it errs on the side of listing: every
member a door at an entrance let in since the site's local midnight, with their first
and last entry, whether or not they have left since (nobody taps out), beside the entrance
counter's count of people inside."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.access.accesslog import access_event
from server.db import models
from server.occupancy.state import building_people
from server.site import SiteConfig

# More than anyone reads on a screen; the API has the whole access log.
EVACUATION_MAX = 500


@dataclass(frozen=True)
class Entered:
    """A member let in at an entrance today: their first and last entry (UTC)."""

    member_id: int
    name: str
    first: datetime
    last: datetime


@dataclass(frozen=True)
class Evacuation:
    people: int | None  # by the entrance counter; None when there is none or no data
    entered: list[Entered]  # by name, at most EVACUATION_MAX


def evacuation_list(
    session: Session, *, site: SiteConfig, now: datetime, limit: int = EVACUATION_MAX
) -> Evacuation:
    """People in the building by the entrance counter, and every member let in at an
    entrance door since local midnight (the site's time zone) up to `now`, by name."""
    zone = ZoneInfo(site.site.timezone)
    midnight = datetime.combine(now.astimezone(zone).date(), time(0), tzinfo=zone)
    doors = [
        d.id
        for d in site.door_devices()
        if (room := site.room(d.room)) is not None and room.kind == "entrance"
    ]
    A = models.AccessEvent
    events = session.scalars(
        select(A)
        .where(A.device_id.in_(doors), A.received >= midnight, A.received <= now)
        .where(A.member_id.is_not(None))
        .order_by(A.received, A.id)
    )
    # The door's Result decides whether it let the member in (access_event reads it).
    seen = first_and_last(
        (e.member_id, e.received) for e in events if e.member_id and access_event(e)["granted"]
    )
    names = _names(session, seen)
    entered = [
        Entered(member_id, names.get(member_id, f"#{member_id}"), first, last)
        for member_id, (first, last) in seen.items()
    ]
    entered.sort(key=lambda e: (e.name.casefold(), e.member_id))
    people = building_people(session, site=site, now=now)
    return Evacuation(people=people, entered=entered[:limit])


def first_and_last(
    entries: Iterable[tuple[int, datetime]],
) -> dict[int, tuple[datetime, datetime]]:
    """Each member's earliest and latest entry, from (member, when) pairs in any order."""
    seen: dict[int, tuple[datetime, datetime]] = {}
    for member_id, at in entries:
        first, last = seen.get(member_id, (at, at))
        seen[member_id] = (min(first, at), max(last, at))
    return seen


def _names(session: Session, member_ids: Iterable[int]) -> dict[int, str]:
    M = models.Member
    ids = list(member_ids)
    return {row.id: row.name for row in session.execute(select(M.id, M.name).where(M.id.in_(ids)))}
