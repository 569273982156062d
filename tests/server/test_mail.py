"""E-mail that reaches people: every kind of mail through a real SMTP server (aiosmtpd),
in the member's language, as plain text and HTML, with its `.ics` (read back by
icalendar); failures retried and then `failed`, visible to staff; nothing sent without
an SMTP URL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import select
from support.app import client_on
from support.clock import Clock
from support.factories import api_booking, api_member, row
from support.smtp import calendar_of, mail_context, nobody_listening, send_queued, smtp_server

from server.adapters.scheduler import Scheduler
from server.context import ServerContext
from server.db import models
from server.notify import ics, outbox, sender
from server.notify.reminders import remind_starts
from server.notify.smtp import SmtpTarget, smtp_target
from server.settings import Settings
from spacehub.demomail import MailCatcher

Headers = dict[str, str]
START = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # 13:00 in Warsaw; the clock says 10:00


@pytest.fixture
def ctx(mail_ctx: ServerContext) -> ServerContext:
    """The tests' server context, its mail sent to `mailbox` (conftest.py)."""
    return mail_ctx


def member(client: TestClient, admin: Headers, lang: str, email: str = "ala@example.org") -> int:
    made = api_member(client, admin, name="Ala Nowak", email=email, lang=lang)
    return int(made["id"])


def mails(ctx: ServerContext, **where: Any) -> list[models.Mail]:
    with ctx.reads() as s:
        stmt = select(models.Mail).filter_by(**where).order_by(models.Mail.id)
        return list(s.scalars(stmt))


# -- the SMTP URL ------------------------------------------------------------------------


def test_smtp_urls_are_read_and_bad_ones_refused_at_start() -> None:
    assert smtp_target("smtp://127.0.0.1:2525") == SmtpTarget("plain", "127.0.0.1", 2525)
    tls = smtp_target("smtps://hub%40x.org:p%3Ass@mail.x.org")
    assert (tls.security, tls.port, tls.username, tls.password) == ("tls", 465, "hub@x.org", "p:ss")
    assert "p:ss" not in repr(tls)
    assert smtp_target("smtp+starttls://u:p@mail.x.org").port == 587
    for bad, said in [
        ("http://mail.x.org", "starts with"),
        ("smtp://", "names a host"),
        ("smtp://mail.x.org:99999", "port"),
        ("smtp://mail.x.org/inbox", "no path"),
    ]:
        with pytest.raises(ValueError, match=said):
            smtp_target(bad)
    with pytest.raises(ValidationError, match="starts with"):
        Settings(smtp_url="mailto:hub@x.org")
    assert Settings(smtp_url="").smtp_url is None


# -- what is sent --------------------------------------------------------------------------


def test_a_booking_is_confirmed_with_its_ics_and_its_cancel_sends_the_cancel(
    client: TestClient, admin: Headers, ctx: ServerContext, mailbox: MailCatcher
) -> None:
    member_id = member(client, admin, "en")
    booking = api_booking(client, admin, member_id, START, title="Board games")
    assert send_queued(ctx).sent == [m.id for m in mails(ctx)]

    [got] = mailbox.messages(to="ala@example.org")
    message = got.message
    assert message["Subject"] == "Booked: Sala warsztatowa A, 02.03.2026 13:00"
    assert message["From"] == ctx.settings.mail_from and message["To"] == "ala@example.org"
    assert message["Content-Language"] == "en" and message["Message-ID"]
    assert message.get_content_type() == "multipart/mixed"
    assert "Hello Ala Nowak," in got.text and "13:00–14:00" in got.text
    assert got.html is not None and '<html lang="en">' in got.html
    cancel_link = next(link for link in got.links if "/m/cancel?token=" in link)
    assert f'<a href="{cancel_link}">' in got.html
    [part] = got.attachments()
    assert part.get_content_type() == "text/calendar" and part.get_param("method") == "REQUEST"
    assert part.get_filename() == "booking.ics"
    cal = calendar_of(got)
    [event] = cal.walk("VEVENT")
    uid = f"booking-{booking['id']}@piaseczno.spacehub"
    assert (str(cal["METHOD"]), str(event["UID"]), int(event["SEQUENCE"])) == ("REQUEST", uid, 0)
    assert event.decoded("DTSTART") == START and event.decoded("DTEND") == START + timedelta(
        hours=1
    )
    assert str(event["SUMMARY"]) == "Board games — Sala warsztatowa A"
    assert str(event["ATTENDEE"]) == "mailto:ala@example.org"

    cancelled = client.post(f"/api/bookings/{booking['id']}/cancel", headers=admin)
    assert cancelled.status_code == 200
    send_queued(ctx)
    later = mailbox.messages(to="ala@example.org")[1]
    assert later.subject.startswith("Cancelled: Sala warsztatowa A")
    again = calendar_of(later)
    [gone] = again.walk("VEVENT")
    assert (str(again["METHOD"]), str(gone["UID"]), str(gone["STATUS"])) == (
        "CANCEL", uid, "CANCELLED"
    )  # fmt: skip
    assert int(gone["SEQUENCE"]) == 1 == row(ctx, models.Booking, booking["id"]).sequence
    assert later.attachments()[0].get_param("method") == "CANCEL"


@pytest.mark.parametrize(
    ("lang", "subject", "greeting"),
    [
        ("pl", "Rezerwacja: Sala warsztatowa A", "Dzień dobry Ala Nowak,"),
        ("uk", "Бронювання: Sala warsztatowa A", "Добрий день, Ala Nowak!"),
    ],
)
def test_mail_is_in_the_members_language(
    client: TestClient, admin: Headers, ctx: ServerContext, mailbox: MailCatcher,
    lang: str, subject: str, greeting: str,
) -> None:  # fmt: skip
    api_booking(client, admin, member(client, admin, lang), START)
    send_queued(ctx)
    [got] = mailbox.messages()
    assert got.subject.startswith(subject) and got.text.startswith(greeting)
    assert got.message["Content-Language"] == lang and f'lang="{lang}"' in (got.html or "")


def test_a_weekly_series_is_one_mail_with_every_date(
    client: TestClient, admin: Headers, ctx: ServerContext, mailbox: MailCatcher
) -> None:
    made = api_booking(client, admin, member(client, admin, "en"), START, repeat={"weekly": 3})
    send_queued(ctx)
    [got] = mailbox.messages()
    assert "3 weeks from 02.03.2026" in got.subject
    events = calendar_of(got).walk("VEVENT")
    assert [e.decoded("DTSTART") for e in events] == [START + timedelta(weeks=w) for w in range(3)]
    assert len({str(e["UID"]) for e in events}) == 3
    assert made["series_id"]


def test_a_member_without_an_address_gets_no_mail(
    client: TestClient, admin: Headers, ctx: ServerContext
) -> None:
    no_mail = api_member(client, admin, name="Bez Adresu")
    api_booking(client, admin, no_mail["id"], START)
    assert mails(ctx) == []


def test_the_sign_in_link_comes_as_text_and_html(
    client: TestClient, ctx: ServerContext, mailbox: MailCatcher
) -> None:
    from support.signin import make_user

    make_user(ctx, "staff", "desk@example.org")
    assert (
        client.post("/api/auth/magic-link", json={"email": "desk@example.org"}).status_code == 202
    )
    send_queued(ctx)
    [got] = mailbox.messages(to="desk@example.org")
    [link] = [link for link in got.links if "/auth/magic?token=" in link]
    assert got.html is not None and f'<a href="{link}">' in got.html
    assert got.attachments() == []


def test_the_html_is_the_same_words_escaped_with_links_made_clickable() -> None:
    html = outbox.html_of(
        "Hello <b>Ala</b> & co,\n\nsee https://x.org/a?b=1&c=2\nthen", lang="en", subject="<s>"
    )
    assert "<b>" not in html and "<p>Hello &lt;b&gt;Ala&lt;/b&gt; &amp; co,</p>" in html
    assert (
        '<p>see <a href="https://x.org/a?b=1&amp;c=2">https://x.org/a?b=1&amp;c=2</a><br>then'
        in html
    )
    assert "<title>&lt;s&gt;</title>" in html


# -- reminders, releases, offers ---------------------------------------------------------------


def test_the_reminder_before_the_start_is_sent_once_with_a_cancel_link(
    client: TestClient, admin: Headers, ctx: ServerContext, clock: Clock, mailbox: MailCatcher
) -> None:
    booking = api_booking(client, admin, member(client, admin, "en"), START)
    clock.now = START - timedelta(hours=3)
    with ctx.writes() as s, s.begin():
        assert remind_starts(s, site=ctx.site, now=clock.now) == []  # not within 2 h yet
    clock.now = START - timedelta(hours=2)
    scheduler = Scheduler(ctx)
    scheduler.run_once()
    scheduler.run_once()
    assert row(ctx, models.Booking, booking["id"]).start_reminded_at == clock.now
    [reminder] = mails(ctx, kind="reminder")
    send_queued(ctx)
    got = mailbox.messages()[-1]
    assert got.subject == "Reminder: Sala warsztatowa A, 02.03.2026 13:00"
    assert any("/m/cancel?token=" in link for link in got.links)
    assert reminder.booking_id == booking["id"]


def test_a_booking_made_within_the_reminder_time_gets_no_second_mail(
    client: TestClient, admin: Headers, ctx: ServerContext, clock: Clock
) -> None:
    clock.now = START - timedelta(hours=1)
    booking = api_booking(client, admin, member(client, admin, "en"), START)
    with ctx.writes() as s, s.begin():
        assert remind_starts(s, site=ctx.site, now=clock.now) == []
    assert row(ctx, models.Booking, booking["id"]).start_reminded_at == clock.now
    assert [m.kind for m in mails(ctx)] == ["confirmation"]  # with its cancel link


def test_a_no_show_release_is_mailed_with_the_cancel_of_its_event(
    client: TestClient, admin: Headers, ctx: ServerContext, clock: Clock, mailbox: MailCatcher
) -> None:
    booking = api_booking(client, admin, member(client, admin, "en"), START)
    clock.now = START + timedelta(minutes=16)
    Scheduler(ctx).run_once()
    [released] = mails(ctx, kind="released")
    send_queued(ctx)
    got = mailbox.messages()[-1]
    assert got.subject.startswith("Your booking was released")
    assert "was released because nobody checked in" in got.text
    cal = calendar_of(got)
    [event] = cal.walk("VEVENT")
    assert str(cal["METHOD"]) == "CANCEL" and int(event["SEQUENCE"]) == 1
    assert str(event["UID"]) == ics.booking_uid(ctx.site, booking["id"])
    assert released.member_id is not None


# -- when sending fails -------------------------------------------------------------------------


@pytest.mark.parametrize("down", [False, True], ids=["refusing", "down"])
def test_a_failing_smtp_server_never_fails_the_booking_and_mail_is_retried_then_failed(
    settings: Settings, clock: Clock, admin: Headers, down: bool
) -> None:
    with smtp_server(refusing=True) as refusing:
        url = nobody_listening() if down else refusing.url
        context = mail_context(settings, clock, url)
        try:
            with client_on(context) as client:
                api_booking(client, admin, member(client, admin, "en"), START)
                [mail] = mails(context)
                report = send_queued(context)
                assert report.retried == [mail.id] and report.sent == []
                first = row(context, models.Mail, mail.id)
                assert (first.state, first.attempts) == ("pending", 1)
                assert first.due_at == clock.now + sender.BACKOFF[0]
                assert ("451" in (first.last_error or "")) != down
                assert send_queued(context).retried == []  # not due yet: nothing tried
                for wait in sender.BACKOFF:
                    clock.now += wait
                    send_queued(context)
                last = row(context, models.Mail, mail.id)
                assert (last.state, last.attempts) == ("failed", sender.MAX_ATTEMPTS)
                listed = client.get("/api/mail?state=failed", headers=admin).json()
                assert [(m["id"], m["state"], m["attempts"]) for m in listed] == [
                    (mail.id, "failed", sender.MAX_ATTEMPTS)
                ]
                assert listed[0]["last_error"] and listed[0]["sent_at"] is None
                assert client.get("/api/mail?state=sent", headers=admin).json() == []
                assert client.get("/api/mail?state=lost", headers=admin).status_code == 422
        finally:
            context.close()
        assert refusing.messages() == []


def test_a_claimed_mail_is_sent_by_one_sender_only(
    client: TestClient, admin: Headers, ctx: ServerContext, mailbox: MailCatcher, clock: Clock
) -> None:
    api_booking(client, admin, member(client, admin, "en"), START)
    [mail] = mails(ctx)
    # another replica claimed it and is sending: this one leaves it alone
    assert sender._claim(ctx.writes, mail_id=mail.id, attempts=0, now=clock.now) is not None
    assert send_queued(ctx).sent == [] and mailbox.messages() == []
    clock.now += sender.LEASE  # that replica died mid-send: after its lease, tried again
    assert send_queued(ctx).sent == [mail.id]
    sent = row(ctx, models.Mail, mail.id)
    assert (sent.state, sent.attempts, sent.sent_at) == ("sent", 2, clock.now)
    assert len(mailbox.messages()) == 1


def test_without_an_smtp_url_mail_stays_queued_and_visible(
    settings: Settings, clock: Clock, admin: Headers
) -> None:
    context = mail_context(settings, clock, None)
    try:
        with client_on(context) as client:
            api_booking(client, admin, member(client, admin, "en"), START)
            with pytest.raises(ValueError, match="SPACEHUB_SMTP_URL"):
                send_queued(context)
            [listed] = client.get("/api/mail", headers=admin).json()
            assert (listed["state"], listed["attempts"], listed["kind"]) == (
                "pending", 0, "confirmation"
            )  # fmt: skip
            assert listed["attachment_name"] == "booking.ics"
    finally:
        context.close()


def test_staff_see_each_mails_state_on_the_reception_page(
    client: TestClient, admin: Headers, ctx: ServerContext
) -> None:
    from support.signin import sign_in_with_token

    api_booking(client, admin, member(client, admin, "en"), START)
    send_queued(ctx)
    sign_in_with_token(client)
    page = client.get("/reception/mail?lang=en")
    assert page.status_code == 200
    assert "Booked: Sala warsztatowa A" in page.text and ">sent<" in page.text
    assert 'aria-current="page">E-mail<' in page.text
    assert "Booked:" not in client.get("/reception/mail?state=failed").text
    bad = client.get("/reception/mail?state=lost&lang=en")
    assert bad.status_code == 422 and "Choose a state from the list." in bad.text


def test_staff_releasing_a_booking_is_mailed_with_the_cancel_of_its_event(
    client: TestClient, admin: Headers, ctx: ServerContext, mailbox: MailCatcher
) -> None:
    booking = api_booking(client, admin, member(client, admin, "pl"), START)
    assert client.post(f"/api/bookings/{booking['id']}/release", headers=admin).status_code == 200
    send_queued(ctx)
    got = mailbox.messages()[-1]
    assert got.subject.startswith("Obsługa zwolniła Twoją rezerwację")
    assert "Nie liczy się ona jako nieobecność." in got.text
    assert str(calendar_of(got)["METHOD"]) == "CANCEL"


def test_a_suspension_after_repeated_no_shows_is_mailed(
    client: TestClient, admin: Headers, ctx: ServerContext, clock: Clock, mailbox: MailCatcher
) -> None:
    member_id = member(client, admin, "en")
    limit = ctx.site.bookings.no_show_limit
    for n in range(limit):
        api_booking(client, admin, member_id, START + timedelta(hours=2 * n))
    clock.now = START + timedelta(hours=2 * (limit - 1), minutes=16)
    Scheduler(ctx).run_once()
    assert [m.kind for m in mails(ctx)].count("released") == limit
    [suspended] = mails(ctx, kind="booking_suspended")
    send_queued(ctx)
    got = next(m for m in mailbox.messages() if m.subject.startswith("You may not book rooms"))
    assert f"After {limit} no-shows" in got.text and got.attachments() == []
    assert suspended.member_id == member_id
