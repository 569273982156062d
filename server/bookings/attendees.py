"""A booking's attendees named by e-mail: members who may enter with the booking.

A member adds attendees by the e-mail address of other members, never by picking from a
list, so nobody can read who the members are; an address no member has is refused
(`UnknownAttendees`, naming the addresses as they were typed) and nothing is changed.
Plain functions over a Session, in the caller's transaction."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.bookings.store import CURRENT, get_booking
from server.db import models
from server.db.meta import bump
from server.errors import Conflict, Invalid

MAX_AT_ONCE = 20  # addresses in one request
MAX_ATTENDEES = 200  # of one booking
MAX_EMAIL = 254
_SEPARATORS = re.compile(r"[\s,;]+")


class UnknownAttendees(Invalid):
    """Addresses that are no member's (422); `emails` lists them as typed."""

    def __init__(self, emails: Sequence[str]) -> None:
        super().__init__(f"attendee e-mail not known as a member's: {', '.join(emails)}")
        self.emails = list(emails)


def parse_emails(text: str) -> list[str]:
    """The addresses in `text` (separated by spaces, commas, semicolons or new lines),
    each once, in the order given; Invalid for more than MAX_AT_ONCE or a malformed one."""
    found: list[str] = []
    for part in _SEPARATORS.split(text.strip()):
        if part and part.lower() not in (f.lower() for f in found):
            found.append(part)
    if len(found) > MAX_AT_ONCE:
        raise Invalid(f"at most {MAX_AT_ONCE} attendee e-mail addresses at once")
    malformed = [e for e in found if len(e) > MAX_EMAIL or not re.fullmatch(r"[^@\s]+@[^@\s]+", e)]
    if malformed:
        raise UnknownAttendees(malformed)
    return found


def members_by_email(session: Session, emails: Sequence[str]) -> list[int]:
    """The member of each address (in any case; erased members have none); UnknownAttendees
    for any address that is not exactly one member's."""
    ids: list[int] = []
    unknown: list[str] = []
    M = models.Member
    for email in emails:
        found = session.scalars(
            select(M.id).where(func.lower(M.email) == email.lower(), M.erased_at.is_(None)).limit(2)
        ).all()
        if len(found) == 1:
            ids.append(found[0])
        else:
            unknown.append(email)
    if unknown:
        raise UnknownAttendees(unknown)
    return ids


def add_attendees(
    session: Session, *, booking_id: int, member_ids: Sequence[int], now: datetime
) -> models.Booking:
    """Add members to a booking that has not ended (booked or checked in); those already on
    it stay as they are. Conflict for a booking over or given up, Invalid for its holder."""
    booking = get_booking(session, booking_id=booking_id)
    if booking.status not in CURRENT:
        raise Conflict(f"booking {booking.id} is {booking.status}")
    if booking.end <= now:
        raise Conflict(f"booking {booking.id} has ended")
    if booking.member_id in member_ids:
        raise Invalid("the booking's holder is not one of its attendees")
    present = set(booking.attendee_ids)
    new = [m for m in dict.fromkeys(member_ids) if m not in present]
    if len(present) + len(new) > MAX_ATTENDEES:
        raise Invalid(f"a booking may have at most {MAX_ATTENDEES} attendees")
    booking.attendees.extend(models.BookingAttendee(member_id=m) for m in new)
    if new:
        bump(session)  # attendees may enter with the booking: the doors' policy changes
    session.flush()
    return booking
