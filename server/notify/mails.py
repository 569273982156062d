"""What is e-mailed to a member, and the one place that words it: a booking confirmed
(with its `.ics`), cancelled (the `.ics` that takes it out of their calendar), the
reminder before its start (with a one-click cancel link), and the notices of
server.notify.notifications worth a mail (released, a waitlist offer with an accept
link, a booking suspension). Each is queued in the caller's transaction
(server.notify.outbox) and sent later (server.notify.sender); a member without an
e-mail address gets none.

What a mail needs besides the database (the site, the base of links, the sender's
address, the links' key) comes with the session: `session.info[SETUP]`, a `MailSetup`
that ServerContext gives its writer sessions. A session without one queues no mail.

    mails.booking_confirmed(session, [booking], now=now)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from server.db import models
from server.notify import ics, links, outbox
from server.notify.texts import pick, text
from server.site import SiteConfig

SETUP = "spacehub.mail"
# The notices (server.notify.notifications) also sent by mail, and those whose booking
# leaves the member's calendar (its `.ics` cancel is attached).
MAILED_NOTICES = frozenset({"released", "released_by_staff", "offer", "booking_suspended"})
RELEASES = frozenset({"released", "released_by_staff"})


@dataclass(frozen=True)
class MailSetup:
    """What mail needs from the server: its site, the base URL of links in mail, the
    sender's address and the key that signs links (server.notify.links)."""

    site: SiteConfig
    public_url: str
    mail_from: str
    link_key: bytes

    def link(self, purpose: links.Purpose, subject: int, expires: datetime) -> str:
        """The signed one-click link for `purpose` on `subject`, good until `expires`."""
        token = links.sign(self.link_key, purpose=purpose, subject=subject, expires=expires)
        return f"{self.public_url.rstrip('/')}/m/{purpose}?token={token}"

    @property
    def portal(self) -> str:
        return f"{self.public_url.rstrip('/')}/me/"


def setup_of(session: Session) -> MailSetup | None:
    """The session's mail setup, if it has one."""
    found = session.info.get(SETUP)
    return found if isinstance(found, MailSetup) else None


def booking_confirmed(
    session: Session, bookings: Sequence[models.Booking], *, now: datetime
) -> models.Mail | None:
    """Queue the confirmation of a booking, or of a weekly series (one mail, every
    occurrence in its `.ics`), with a link to cancel the first."""
    setup, member = _reader(session, bookings[0].member_id if bookings else None)
    if setup is None or member is None:
        return None
    first, last = bookings[0], bookings[-1]
    lang = pick(member.lang)
    when = _when(setup, first)
    if len(bookings) == 1:
        subject = text(lang, "mail.confirmed.subject", **when)
        said = text(lang, "mail.confirmed.body", **when)
    else:
        zone = ZoneInfo(setup.site.site.timezone)
        series = when | {"count": len(bookings), "last": last.start.astimezone(zone)}
        subject = text(lang, "mail.series.subject", **series)
        said = text(lang, "mail.series.body", **series)
    cancel = setup.link("cancel", first.id, first.start)
    parts = [said, text(lang, "mail.check_in", **when), text(lang, "mail.cancel_hint", link=cancel)]
    calendar = ics.invitation(
        bookings, site=setup.site, method="REQUEST", organizer=setup.mail_from,
        attendee=member.email or "", now=now,
    )  # fmt: skip
    return _queue(session, setup, member, kind="confirmation", lang=lang, subject=subject,
                  parts=parts, now=now, booking=first, calendar=calendar)  # fmt: skip


def booking_cancelled(session: Session, booking: models.Booking, *, now: datetime) -> None:
    """The booking left the member's calendar: raise its SEQUENCE and queue the mail
    whose `.ics` cancels the event."""
    _bump(session, booking)
    setup, member = _reader(session, booking.member_id)
    if setup is None or member is None:
        return
    lang = pick(member.lang)
    when = _when(setup, booking)
    parts = [text(lang, "mail.cancelled.body", **when), text(lang, "mail.ics_removes")]
    _queue(session, setup, member, kind="cancelled", lang=lang,
           subject=text(lang, "mail.cancelled.subject", **when), parts=parts, now=now,
           booking=booking, calendar=_cancel_ics(setup, booking, member, now))  # fmt: skip


def start_reminder(session: Session, booking: models.Booking, *, now: datetime) -> None:
    """Queue the reminder before a booking's start, with its one-click cancel link."""
    setup, member = _reader(session, booking.member_id)
    if setup is None or member is None:
        return
    lang = pick(member.lang)
    when = _when(setup, booking)
    cancel = setup.link("cancel", booking.id, booking.start)
    parts = [
        text(lang, "mail.reminder.body", **when),
        text(lang, "mail.check_in", **when),
        text(lang, "mail.cancel_hint", link=cancel),
    ]
    _queue(session, setup, member, kind="reminder", lang=lang,
           subject=text(lang, "mail.reminder.subject", **when), parts=parts, now=now,
           booking=booking)  # fmt: skip


def notice_mail(
    session: Session, note: models.Notification, params: Mapping[str, object], *, now: datetime
) -> None:
    """The notice `note` (with its `params`) as a mail too, when its kind is one mailed:
    an offer with its accept link, a release with the `.ics` that cancels the booking."""
    if note.kind not in MAILED_NOTICES:
        return
    booking = session.get(models.Booking, note.booking_id) if note.booking_id else None
    if booking is not None and note.kind in RELEASES:
        _bump(session, booking)
    setup, member = _reader(session, note.member_id)
    if setup is None or member is None:
        return
    lang = pick(member.lang)
    parts = [text(lang, f"notice.{note.kind}", **params)]
    offer = session.get(models.Offer, note.offer_id) if note.offer_id else None
    if offer is not None:
        link = setup.link("accept", offer.id, offer.expires_at)
        parts.append(text(lang, "mail.offer.accept", link=link))
    calendar = None
    if booking is not None and note.kind in RELEASES:
        calendar = _cancel_ics(setup, booking, member, now)
        parts.append(text(lang, "mail.ics_removes"))
    _queue(session, setup, member, kind=note.kind, lang=lang,
           subject=text(lang, f"mail.subject.{note.kind}", site=setup.site.site.name),
           parts=parts, now=now, booking=booking, calendar=calendar)  # fmt: skip


# -- the pieces -------------------------------------------------------------------------


def _reader(
    session: Session, member_id: int | None
) -> tuple[MailSetup | None, models.Member | None]:
    """The session's mail setup and the member to write to (None without an address)."""
    setup = setup_of(session)
    member = session.get(models.Member, member_id) if member_id is not None else None
    if member is None or not member.email:
        return setup, None
    return setup, member


def _when(setup: MailSetup, booking: models.Booking) -> dict[str, object]:
    """A booking's room and local times, as the texts take them."""
    zone = ZoneInfo(setup.site.site.timezone)
    room = setup.site.room(booking.room_id)
    return {
        "room": room.name if room else booking.room_id,
        "start": booking.start.astimezone(zone),
        "end": booking.end.astimezone(zone),
        "grace": round(setup.site.access.no_show_grace / 60),
    }


def _bump(session: Session, booking: models.Booking) -> None:
    """The booking's calendar event changed: its SEQUENCE goes up."""
    booking.sequence = (booking.sequence or 0) + 1
    session.flush()


def _cancel_ics(
    setup: MailSetup, booking: models.Booking, member: models.Member, now: datetime
) -> str:
    return ics.invitation(
        [booking], site=setup.site, method="CANCEL", organizer=setup.mail_from,
        attendee=member.email or "", now=now,
    )  # fmt: skip


def _queue(
    session: Session,
    setup: MailSetup,
    member: models.Member,
    *,
    kind: str,
    lang: str,
    subject: str,
    parts: list[str],
    now: datetime,
    booking: models.Booking | None,
    calendar: str | None = None,
) -> models.Mail:
    """The mail: a greeting, `parts` (paragraphs), and the site's signature."""
    greeting = text(lang, "mail.greeting", name=member.name)
    signature = text(lang, "mail.signature", site=setup.site.site.name, portal=setup.portal)
    return outbox.queue(
        session,
        to=member.email or "",
        kind=kind,
        lang=lang,
        subject=subject,
        body="\n\n".join([greeting, *parts, signature]),
        member_id=member.id,
        booking_id=booking.id if booking is not None else None,
        attachment=(ics.FILE_NAME, calendar) if calendar else None,
        now=now,
    )
