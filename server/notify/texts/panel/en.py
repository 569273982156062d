"""Door panels' words (`/panel/...`) in English (server.notify.texts.panel),
and the reception desk's page of panel links (`panel.desk.*`).

The keys and placeholders are those of the other languages' panel tables."""

from __future__ import annotations

TEXTS: dict[str, str] = {
    "panel.title": "Room panel",
    "panel.status.free": "Free",
    "panel.status.booked": "Booked",
    "panel.status.in_use": "In use",
    "panel.free_until": "Free until {time}",
    "panel.free_rest": "No more bookings today",
    "panel.now": "Now",
    "panel.next": "Next booking",
    "panel.none_next": "No further bookings",
    "panel.untitled": "Booking",
    "panel.times": "{start}–{end}",
    "panel.day_times": "{day}, {start}–{end}",
    "panel.checked_in": "checked in",
    "panel.release": "Unless somebody taps a card, the booking is released at {time}.",
    "panel.checkin_hint": "Check in by tapping your card on the reader.",
    "panel.countdown": "Released in:",
    "panel.minutes_left": "{minutes} min",
    "panel.clock": "{date}, {time}",
    "panel.qr_title": "Book this room",
    "panel.qr_alt": "QR code: a link to book {room}",
    "panel.qr_hint": "Scan the code with your phone, or open:",
    "panel.live.lost": "No connection to the server — retrying…",
    "panel.missing.title": "No such panel",
    "panel.missing.text": (
        "This panel's address is wrong or out of date. Ask the reception desk for a new link."
    ),
    "panel.desk.title": "Panels at the room doors",
    "panel.desk.nav": "Panels",
    "panel.desk.intro": (
        "Open a room's link in the browser of the tablet beside its door. A new key stops"
        " the old link at once: panels open with it stop working."
    ),
    "panel.desk.room": "Room",
    "panel.desk.link": "Panel link",
    "panel.desk.action": "Key",
    "panel.desk.rotate": "New key: {room}",
    "panel.desk.rotated": "{room} has a new panel key; the old link no longer works.",
    "audit.action.room.panel_key": "Room panel key",
    "audit.action.room.calendar_keys": "Room calendar keys",
}
