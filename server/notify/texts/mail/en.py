"""Words of e-mails to members and staff in English (server.notify.texts.mail), and of
the pages their links open, the reception's mail list and the demo's mailbox.

The keys and placeholders are those of the other languages' mail tables."""

from __future__ import annotations

TEXTS: dict[str, str] = {
    # -- the mails (server.notify.mails)
    "mail.greeting": "Hello {name},",
    "mail.signature": "{site}\nYour bookings: {portal}",
    "mail.confirmed.subject": "Booked: {room}, {start:%d.%m.%Y %H:%M}",
    "mail.confirmed.body": (
        "Your booking is confirmed: {room}, {start:%d.%m.%Y}, {start:%H:%M}–{end:%H:%M}. "
        "The attached booking.ics puts it in your calendar."
    ),
    "mail.series.subject": "Booked: {room}, {count} weeks from {start:%d.%m.%Y}",
    "mail.series.body": (
        "Your weekly booking is confirmed: {room}, {start:%H:%M}–{end:%H:%M}, {count} times "
        "from {start:%d.%m.%Y} to {last:%d.%m.%Y}. The attached booking.ics puts every date "
        "in your calendar."
    ),
    "mail.check_in": (
        "Check in by tapping your card at the room's door within {grace} minutes of the "
        "start, or the room goes back to others."
    ),
    "mail.cancel_hint": "Cannot come? Cancel with one click so others can use the room:\n{link}",
    "mail.ics_removes": "The attached booking.ics takes it out of your calendar.",
    "mail.cancelled.subject": "Cancelled: {room}, {start:%d.%m.%Y %H:%M}",
    "mail.cancelled.body": (
        "Your booking of {room} ({start:%d.%m.%Y}, {start:%H:%M}–{end:%H:%M}) is cancelled."
    ),
    "mail.reminder.subject": "Reminder: {room}, {start:%d.%m.%Y %H:%M}",
    "mail.reminder.body": (
        "A reminder: your booking of {room} starts on {start:%d.%m.%Y} at {start:%H:%M} "
        "(until {end:%H:%M})."
    ),
    "mail.offer.accept": "Accept it with one click before the offer lapses:\n{link}",
    "mail.subject.released": "Your booking was released — {site}",
    "mail.subject.released_by_staff": "Staff released your booking — {site}",
    "mail.subject.offer": "A room is free for you — {site}",
    "mail.subject.booking_suspended": "You may not book rooms for a while — {site}",
    # -- the pages of the links in mail (server.portal.links)
    "link.when": "{room}, {start:%d.%m.%Y}, {start:%H:%M}–{end:%H:%M}",
    "link.cancel.title": "Cancel a booking",
    "link.cancel.ask": "Cancel this booking? The room becomes free for others at once.",
    "link.cancel.button": "Cancel the booking",
    "link.cancel.done": "Your booking is cancelled. Thank you for freeing the room.",
    "link.cancel.gone": "This booking is {status} already: there is nothing to cancel.",
    "link.accept.title": "Accept an offer",
    "link.accept.ask": "The room is held for you until {by:%H:%M}. Book it?",
    "link.accept.button": "Book the room",
    "link.accept.done": "The room is booked for you. The confirmation is on its way by e-mail.",
    "link.accept.gone": "This offer cannot be accepted any more: it was accepted or it lapsed.",
    "link.accept.taken": "Sorry, the room was booked meanwhile. You stay on the waiting list.",
    "link.accept.refused": "You may not book rooms at the moment, so the offer stays open.",
    "link.bad.title": "This link does not work",
    "link.bad": (
        "This link is not valid. Open the link from the e-mail as it is, or sign in to see "
        "your bookings."
    ),
    "link.expired": "This link has expired.",
    "link.portal": "My bookings",
    # -- the reception's list of mail (server.dashboard.reception.mail)
    "nav.mail": "E-mail",
    "mailq.title": "E-mail",
    "mailq.intro": (
        "Every e-mail to members and staff, newest first, with its state. Times in {zone}."
    ),
    "mailq.off": "Sending is off (SPACEHUB_SMTP_URL is not set): mail waits here unsent.",
    "mailq.rows": "Messages",
    "mailq.empty": "No e-mail matches these filters.",
    "mailq.state": "State",
    "mailq.state_any": "Any state",
    "mailq.state.pending": "waiting",
    "mailq.state.sent": "sent",
    "mailq.state.failed": "failed",
    "mailq.bad_state": "Choose a state from the list.",
    "mailq.created": "Queued",
    "mailq.to": "To",
    "mailq.subject": "Subject",
    "mailq.attempts": "Attempts",
    "mailq.sent_at": "Sent",
    "mailq.error": "Last error",
    # -- the demo's mailbox (spacehub demo: /demo/mail)
    "demomail.title": "Demo mailbox",
    "demomail.intro": (
        "Every e-mail the demo sent, caught by its own SMTP server: open one to follow its links."
    ),
    "demomail.empty": "No e-mail yet. Ask for a sign-in link on the sign-in page.",
    "demomail.received": "Received",
    "demomail.to": "To",
    "demomail.subject": "Subject",
    "demomail.links": "Links in this message",
    "demomail.attachment": "Attachment",
    "demomail.back": "All messages",
}
