"""A member's whole journey through real parts: the server sends its mail over SMTP to a
real SMTP server (aiosmtpd), and a phone-sized headless Chromium follows the links in it.

The member asks for a sign-in link, opens it from the mail, books a free hour in the
portal, receives the confirmation with an `.ics` that an independent parser (icalendar)
reads, sees the booking on the room's door panel, cancels it from the reminder's link,
receives the calendar's cancellation, and the panel no longer shows the booking."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from support.smtp import calendar_of
from support.waiting import eventually

from server.db import models
from server.notify.reminders import remind_starts
from server.notify.sender import send_due
from server.notify.smtp import smtp_target
from server.notify.texts import text
from spacehub.demomail import MailCatcher, Received
from spacehub.seed import seed_member_accounts

pytestmark = pytest.mark.browser

EMAIL = "piotr@example.org"  # Piotr Wiśniewski of the demo, a resident
ROOM_ID, ROOM = "sala-a", "Sala warsztatowa A"
HOUR = "12:00"  # tomorrow: always more than the reminder's two hours ahead
PHONE = {"width": 390, "height": 844}


def tr(key: str, **params: object) -> str:
    return text("en", key, **params)


def mail_where(mailbox: MailCatcher, matches: Callable[[Received], bool]) -> Received:
    """The one message to EMAIL that `matches`, once it has arrived (the server's sender
    hands mail over every two seconds)."""
    found: list[Received] = []

    def arrived() -> bool:
        found[:] = [m for m in mailbox.messages(to=EMAIL) if matches(m)]
        return bool(found)

    assert eventually(arrived, timeout=15), f"no such mail; got {mailbox.messages(to=EMAIL)}"
    [message] = found
    return message


def link_in(message: Received, path: str) -> str:
    [link] = {link for link in message.links if path in link}
    return link


def test_a_member_books_from_a_mailed_sign_in_and_cancels_from_the_reminder(
    chromium: Any, live_site_with_mail: Any, mailbox: MailCatcher
) -> None:
    from playwright.sync_api import expect

    site, ctx = live_site_with_mail, live_site_with_mail.ctx
    assert EMAIL in seed_member_accounts(ctx)  # as `spacehub demo` does at every start
    with ctx.reads() as session:
        lang = session.query(models.Member.lang).filter(models.Member.email == EMAIL).scalar()
    zone = ZoneInfo(ctx.site.site.timezone)
    phone = chromium.new_context(viewport=PHONE)
    tablet = chromium.new_context(viewport={"width": 1024, "height": 768})
    try:
        page = phone.new_page()

        # 1. A sign-in link by e-mail, opened from the mail.
        page.goto(f"{site.url}/me/?lang=en")
        by_link = page.get_by_role("form", name=tr("portal.signin.by_link"))
        by_link.get_by_role("textbox", name=tr("signin.email")).fill(EMAIL)
        by_link.get_by_role("button", name=tr("signin.send_link")).click()
        expect(page.get_by_role("status")).to_contain_text(tr("signin.link_sent"))
        sign_in = mail_where(mailbox, lambda m: "/auth/magic" in " ".join(m.links))
        link = link_in(sign_in, "/auth/magic")
        assert link.startswith(site.url + "/")  # SPACEHUB_PUBLIC_URL
        page.goto(link)
        expect(page.get_by_role("heading", level=1)).to_contain_text("Piotr")

        # 2. Tomorrow's free hour of Sala A, booked in two taps.
        page.goto(f"{site.url}/me/?lang=en")
        page.get_by_role("link", name=tr("portal.home.find")).click()
        days = page.get_by_role("navigation", name=tr("portal.rooms.days"))
        days.get_by_role("link").nth(1).click()
        hour = re.escape(HOUR)
        free = rf"^{ROOM} {hour}–\d\d:00 {tr('portal.rooms.free')}$"
        page.get_by_role("link", name=re.compile(free)).click()
        page.get_by_role("button", name=tr("portal.book.submit")).click()
        expect(page.get_by_role("status")).to_contain_text(tr("portal.done.booked", n=1))
        with ctx.reads() as session:
            booking = session.query(models.Booking).filter_by(room_id=ROOM_ID).one()
        start = booking.start.replace(tzinfo=ZoneInfo("UTC"))
        assert start.astimezone(zone).strftime("%H:%M") == HOUR

        # 3. The confirmation's calendar event, read by icalendar.
        confirmed = calendar_of(mail_where(mailbox, lambda m: bool(m.attachments())))
        assert str(confirmed["METHOD"]) == "REQUEST"
        [event] = confirmed.walk("VEVENT")
        uid = str(event["UID"])
        assert event.decoded("DTSTART") == start
        assert event.decoded("DTEND") - event.decoded("DTSTART") == booking.end - booking.start
        assert ROOM in str(event["LOCATION"]) + str(event["SUMMARY"])

        # 4. The room's door panel shows it as the next booking.
        key = httpx.get(
            f"{site.url}/api/rooms/{ROOM_ID}/panel-key",
            headers={"Authorization": f"Bearer {site.token}"},
        ).json()
        panel = tablet.new_page()
        panel.goto(f"{key['url']}&lang=en")  # .../panel/sala-a?key=...
        next_up = panel.locator(".booking.next")
        expect(next_up).to_contain_text(HOUR)

        # 5. The reminder before the start, and its one-click cancel: the scheduler's
        # reminder pass and the mail sender's pass as they run an hour before the start.
        due = start - timedelta(hours=1)
        with ctx.writes() as session, session.begin():
            assert remind_starts(session, site=ctx.site, now=due) == [booking.id]
        target = smtp_target(mailbox.url)
        sent = send_due(ctx.reads, ctx.writes, target=target, mail_from="hub@example.org", now=due)
        assert len(sent.sent) == 1
        local = start.astimezone(zone).replace(tzinfo=None)
        subject = text(lang, "mail.reminder.subject", room=ROOM, start=local)
        reminder = mail_where(mailbox, lambda m: m.subject == subject)
        page.goto(link_in(reminder, "/m/cancel"))
        page.get_by_role("button", name=text(lang, "link.cancel.button")).click()
        expect(page.get_by_role("main")).to_contain_text(text(lang, "link.cancel.done"))
        with ctx.reads() as session:
            assert session.get(models.Booking, booking.id).status == "cancelled"  # type: ignore[union-attr]

        # 6. The calendar removes the event: same UID, a later SEQUENCE, METHOD:CANCEL.
        cancelled = calendar_of(
            mail_where(
                mailbox,
                lambda m: bool(m.attachments()) and "CANCEL" in str(calendar_of(m)["METHOD"]),
            )
        )
        [gone] = cancelled.walk("VEVENT")
        assert str(gone["UID"]) == uid
        assert int(gone["SEQUENCE"]) > int(event.get("SEQUENCE", 0))
        assert str(gone["STATUS"]) == "CANCELLED"

        # 7. The panel lets go of it without a reload.
        expect(next_up).not_to_contain_text(HOUR, timeout=2000)
        expect(next_up).to_contain_text(tr("panel.none_next"))
    finally:
        phone.close()
        tablet.close()
