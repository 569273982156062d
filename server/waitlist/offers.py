"""Waitlist offers: a freed room held for the first member waiting for it, accepted (then
booked) or lapsed (then passed to the next member waiting).

What a freed slot offers a waiting member is `offered_part`: the time they wanted when it
lies inside the slot, else the part of it the slot overlaps, when what is left of that
part lasts at least the site's `bookings.min_partial_offer` (one hour in the demo site).
A part is offered as such (the message names the time they waited for); accepted, it is
booked and the entry is done, as with the whole."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from protocol.bookingrules import may_book
from server.bookings.quotas import check_quota, within_quota
from server.bookings.rules import check_may_book
from server.bookings.store import insert_booking, overlapping
from server.db import models, scope
from server.db.scope import own_rooms
from server.errors import Conflict, NotFound
from server.notify import mails
from server.notify.notifications import notify
from server.notify.texts import Phrase
from server.site import Room, SiteConfig

Span = tuple[datetime, datetime]


class RoomTaken(Conflict):
    """An offer could not be accepted: its room was booked meanwhile. The offer lapsed
    and the entry waits again; unlike other refusals, those changes are to be committed."""


def offer_freed_slot(
    session: Session,
    *,
    site: SiteConfig,
    room_id: str,
    start: datetime,
    end: datetime,
    now: datetime,
) -> models.Offer | None:
    """Offer a freed [start, end) of a room of the site to the first member waiting for a
    time in it at the site (server.db.scope.entries).

    What is offered is `offered_part` of the entry's range (the whole of it, or a part long
    enough), which must be free of bookings and of other offers right now and fit the
    member's weekly quota; one that has begun is offered what is left of it. The member is
    told (server.notify); nothing is booked until they accept. None when nobody waits for
    it."""
    room = site.room(room_id)
    if room is None or not room.bookable:
        return None
    Entry = models.WaitlistEntry
    wants_room = Entry.room_id == room_id
    wants_kind = and_(  # any room of a kind, or a room or any like it (entries)
        Entry.kind == room.kind,
        or_(Entry.min_capacity.is_(None), Entry.min_capacity <= (room.capacity or 0)),
    )
    stmt = (
        select(Entry)
        .where(
            scope.entries(site.id),
            Entry.status == "waiting",
            Entry.start < end,
            Entry.end > max(start, now),
            or_(wants_room, wants_kind),
        )
        .order_by(Entry.created_at, Entry.id)
    )
    minimum = timedelta(seconds=site.bookings.min_partial_offer)
    for entry in session.scalars(stmt).all():
        part = offered_part((entry.start, entry.end), (start, end), now=now, minimum=minimum)
        if part is None:
            continue
        member = session.get(models.Member, entry.member_id)
        if member is None or not may_book(
            member.suspended_until, member.booking_suspended_until, now
        ):
            continue
        if not within_quota(session, site=site, member=member, spans=[part]):
            continue  # they could not accept it: the next member waiting gets it
        if overlapping(session, room_id=room_id, start=part[0], end=part[1]):
            continue
        if _held(session, room_id=room_id, start=part[0], end=part[1]):
            continue
        return _make_offer(session, site=site, room=room, entry=entry, part=part, now=now)
    return None


def offered_part(wanted: Span, freed: Span, *, now: datetime, minimum: timedelta) -> Span | None:
    """What a freed [start, end) offers a member waiting for `wanted`: the overlap of the
    two when it is the whole of `wanted`, or when what is left of it from `now` lasts at
    least `minimum`; None when they do not overlap, the overlap is over, or too short.

    >>> from datetime import UTC, datetime
    >>> t = lambda h, m=0: datetime(2026, 3, 2, h, m, tzinfo=UTC)
    >>> hour = timedelta(hours=1)
    >>> part = lambda wanted: offered_part(wanted, (t(18), t(20)), now=t(18, 15), minimum=hour)
    >>> part((t(19), t(21))) == (t(19), t(20))  # a part: an hour of the two wanted
    True
    >>> part((t(19, 30), t(21))) is None  # half an hour of it: too short
    True
    >>> part((t(18), t(18, 30))) == (t(18), t(18, 30))  # the whole of it, what is left
    True
    """
    lo, hi = max(wanted[0], freed[0]), min(wanted[1], freed[1])
    if hi <= max(lo, now):
        return None
    if (lo, hi) == wanted or hi - max(lo, now) >= minimum:
        return lo, hi
    return None


def accept(session: Session, *, site: SiteConfig, offer_id: int, now: datetime) -> models.Booking:
    """Book the offered room for the member, from the offer's start or from now if that
    has passed (so the no-show grace runs from the acceptance): Conflict when the offer
    lapsed, was accepted already, or the room was taken meanwhile.

    When the room was taken, the offer is marked expired and the entry waits again, and
    RoomTaken is raised: the caller commits those changes before answering. NotFound
    for an offer of another site's room."""
    offer = get_offer(session, offer_id=offer_id, site_id=site.id)
    if offer.status == "accepted":
        raise Conflict("offer already accepted")
    if offer.status != "offered" or offer.expires_at <= now:
        raise Conflict("offer expired")
    member = session.get(models.Member, offer.member_id)
    if member is not None:
        check_may_book(member, now)
        check_quota(session, site=site, member=member, spans=[(offer.start, offer.end)])
    taken = session.execute(
        update(models.Offer)
        .where(models.Offer.id == offer.id, models.Offer.status == "offered")
        .values(status="accepted")
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("offer already accepted")
    entry = session.get(models.WaitlistEntry, offer.waitlist_id)
    try:
        # A savepoint, so a refused booking leaves the rest of the transaction usable.
        with session.begin_nested():
            booking = insert_booking(
                session,
                site=site,
                room_id=offer.room_id,
                member_id=offer.member_id,
                start=max(offer.start, now),
                end=offer.end,
                now=now,
                source="waitlist",
            )
    except Conflict:
        offer.status = "expired"
        if entry is not None and entry.status == "offered":
            entry.status = "waiting"
        session.flush()
        raise RoomTaken("the room was booked meanwhile; still on the waitlist") from None
    offer.status = "accepted"
    offer.booking_id = booking.id
    if entry is not None:
        entry.status = "booked"
    session.flush()
    mails.booking_confirmed(session, [booking], now=now)
    return booking


def accept_or_lapse(
    session: Session, *, site: SiteConfig, offer_id: int, now: datetime
) -> models.Booking | RoomTaken:
    """`accept`, but a room taken meanwhile is returned rather than raised: the caller
    commits the lapsed offer (the entry waits again), then raises it."""
    try:
        return accept(session, site=site, offer_id=offer_id, now=now)
    except RoomTaken as exc:
        return exc


def expire_offers(session: Session, *, site: SiteConfig, now: datetime) -> int:
    """Lapse offers of the site's rooms not accepted by their deadline and pass each slot
    to the next member waiting; how many lapsed. One indexed query when none is due (run
    every 250 ms)."""
    Offer = models.Offer
    due = session.scalars(
        select(Offer)
        .where(
            Offer.status == "offered",
            Offer.expires_at <= now,
            Offer.room_id.in_(own_rooms(session, site.id)),
        )
        .order_by(Offer.expires_at, Offer.id)
    ).all()
    lapsed = 0
    for offer in due:
        result = session.execute(
            update(Offer)
            .where(Offer.id == offer.id, Offer.status == "offered")
            .values(status="expired")
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            continue
        lapsed += 1
        session.execute(
            update(models.WaitlistEntry)
            .where(
                models.WaitlistEntry.id == offer.waitlist_id,
                models.WaitlistEntry.status == "offered",
            )
            .values(status="expired")
        )
        offer_freed_slot(
            session, site=site, room_id=offer.room_id, start=offer.start, end=offer.end, now=now
        )
    return lapsed


def get_offer(session: Session, *, offer_id: int, site_id: str | None = None) -> models.Offer:
    """The offer, or NotFound (also for an offer of a room of another site than
    `site_id`, when given)."""
    offer = session.get(models.Offer, offer_id)
    if offer is None or not scope.room_at(session, offer.room_id, site_id):
        raise NotFound(f"offer {offer_id} not found")
    return offer


def list_offers(
    session: Session,
    *,
    member_id: int | None = None,
    status: str | None = None,
    limit: int = 100,
    site_id: str | None = None,
) -> list[models.Offer]:
    """Offers, newest first; `site_id`: of the site's rooms only (None: of every site)."""
    Offer = models.Offer
    stmt = select(Offer).order_by(Offer.created_at.desc(), Offer.id.desc()).limit(limit)
    if site_id is not None:
        stmt = stmt.where(Offer.room_id.in_(scope.rooms(site_id)))
    if member_id is not None:
        stmt = stmt.where(Offer.member_id == member_id)
    if status is not None:
        stmt = stmt.where(Offer.status == status)
    return list(session.scalars(stmt))


def offer_params(
    *,
    site: SiteConfig,
    room_name: str,
    start: datetime,
    end: datetime,
    deadline: datetime,
    now: datetime,
    wanted: Span | None = None,
) -> dict[str, object]:
    """What the offer message says (`notice.offer`), times local to the site; a date is
    written only where it is not today's (the range's end, the deadline). An offer of a
    part of the time the member waited for (`wanted`) says so: its span is the phrase
    `offer.part`, naming both."""
    zone = ZoneInfo(site.site.timezone)
    ldeadline, today = deadline.astimezone(zone), now.astimezone(zone)
    span: object = _span_words(start, end, zone)
    if wanted is not None:
        span = Phrase("offer.part", {"span": span, "wanted": _span_words(*wanted, zone)})
    by = f"{ldeadline:%H:%M}"
    if ldeadline.date() != today.date():
        by = f"{ldeadline:%d.%m %H:%M}"
    return {"room": room_name, "span": span, "by": by}


def _span_words(start: datetime, end: datetime, zone: ZoneInfo) -> str:
    """`02.03 13:00–15:00`, or with the end's date when it is another day."""
    lstart, lend = start.astimezone(zone), end.astimezone(zone)
    if lend.date() != lstart.date():
        return f"{lstart:%d.%m %H:%M}–{lend:%d.%m %H:%M}"
    return f"{lstart:%d.%m %H:%M}–{lend:%H:%M}"


def _make_offer(
    session: Session,
    *,
    site: SiteConfig,
    room: Room,
    entry: models.WaitlistEntry,
    part: Span,
    now: datetime,
) -> models.Offer:
    offer = models.Offer(
        waitlist_id=entry.id,
        member_id=entry.member_id,
        room_id=room.id,
        start=part[0],
        end=part[1],
        expires_at=now + timedelta(seconds=site.bookings.offer_hold),
        status="offered",
        created_at=now,
    )
    session.add(offer)
    entry.status = "offered"
    session.flush()
    params = offer_params(
        site=site,
        room_name=room.name,
        start=max(part[0], now),
        end=part[1],
        deadline=offer.expires_at,
        now=now,
        wanted=None if part == (entry.start, entry.end) else (entry.start, entry.end),
    )
    notify(
        session,
        member_id=entry.member_id,
        kind="offer",
        params=params,
        now=now,
        offer_id=offer.id,
    )
    session.flush()
    return offer


def _held(session: Session, *, room_id: str, start: datetime, end: datetime) -> bool:
    """Whether an outstanding offer already holds part of [start, end) of the room."""
    Offer = models.Offer
    stmt = select(Offer.id).where(
        Offer.room_id == room_id, Offer.status == "offered", Offer.start < end, Offer.end > start
    )
    return session.scalars(stmt.limit(1)).first() is not None
