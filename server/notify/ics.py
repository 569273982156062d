"""A booking as an RFC 5545 calendar object sent by e-mail (iTIP, RFC 5546): `REQUEST`
puts the event in the member's calendar, and a later `CANCEL` with the same UID and a
higher SEQUENCE takes it out again.

    invitation(bookings, site=site, method="REQUEST", organizer="hub@example.org",
               attendee="ala@example.org", now=now)

The UID of a booking's event never changes (`booking_uid`); its SEQUENCE is the
booking's `sequence`, raised (server.notify.mails) whenever the event changes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal

from icalendar import Calendar, Event, vCalAddress

from server.db import models
from server.site import SiteConfig

Method = Literal["REQUEST", "CANCEL"]
PRODID = "-//spacehub//booking mail//PL"
FILE_NAME = "booking.ics"


def booking_uid(site: SiteConfig, booking_id: int) -> str:
    """The booking's event UID, the same in every mail about it."""
    return f"booking-{booking_id}@{site.site.id}.spacehub"


def invitation(
    bookings: Sequence[models.Booking],
    *,
    site: SiteConfig,
    method: Method,
    organizer: str,
    attendee: str,
    now: datetime,
) -> str:
    """The calendar object of `bookings` (several for a weekly series) as text."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", method)
    for booking in bookings:
        cal.add_component(_event(booking, site=site, method=method, now=now,
                                 organizer=organizer, attendee=attendee))  # fmt: skip
    return cal.to_ical().decode("utf-8")


def _event(
    booking: models.Booking,
    *,
    site: SiteConfig,
    method: Method,
    organizer: str,
    attendee: str,
    now: datetime,
) -> Event:
    room = site.room(booking.room_id)
    room_name = room.name if room else booking.room_id
    event = Event()
    event.add("uid", booking_uid(site, booking.id))
    event.add("sequence", booking.sequence)
    event.add("dtstamp", now)
    event.add("dtstart", booking.start)
    event.add("dtend", booking.end)
    event.add("summary", f"{booking.title} — {room_name}" if booking.title else room_name)
    event.add("location", f"{room_name}, {site.site.name}")
    event.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    event.add("transp", "OPAQUE")
    host = vCalAddress(f"mailto:{organizer}")
    host.params["cn"] = site.site.name
    event.add("organizer", host)
    guest = vCalAddress(f"mailto:{attendee}")
    guest.params["role"] = "REQ-PARTICIPANT"
    guest.params["partstat"] = "ACCEPTED"
    guest.params["rsvp"] = "FALSE"
    event.add("attendee", guest)
    return event
