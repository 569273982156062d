"""The one-click links in mail: cancel a booking, accept a waitlist offer. A GET shows
what would happen and changes nothing; a POST does it once, audited; a token changed,
for the other action or expired is refused with a page, never a 500."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from support.clock import Clock
from support.factories import api_booking, api_member, row
from support.smtp import send_queued

from server.context import ServerContext
from server.db import models
from server.notify import links
from server.waitlist import entries
from spacehub.demomail import MailCatcher

Headers = dict[str, str]
START = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # 13:00 in Warsaw; the clock says 10:00


@pytest.fixture
def ctx(mail_ctx: ServerContext) -> ServerContext:
    """The tests' server context, its mail sent to `mailbox` (conftest.py)."""
    return mail_ctx


def link_in(ctx: ServerContext, mailbox: MailCatcher, to: str, path: str) -> str:
    """The path and query of the link to `path` in the newest mail to `to`."""
    send_queued(ctx)
    got = mailbox.messages(to=to)[-1]
    [link] = [link for link in got.links if urlsplit(link).path == path]
    assert link.startswith(ctx.settings.public_url)
    parts = urlsplit(link)
    return f"{parts.path}?{parts.query}"


def token_of(link: str) -> str:
    return link.split("token=", 1)[1]


def booked(client: TestClient, admin: Headers, lang: str = "en") -> tuple[int, int]:
    member = api_member(client, admin, name="Ala Nowak", email="ala@example.org", lang=lang)
    return member["id"], api_booking(client, admin, member["id"], START)["id"]


def audited(ctx: ServerContext, action: str) -> list[tuple[str, str | None]]:
    with ctx.reads() as s:
        found = s.scalars(select(models.AuditEntry).where(models.AuditEntry.action == action))
        return [(e.actor, e.target) for e in found]


def test_the_cancel_link_asks_then_cancels_once(
    client: TestClient, admin: Headers, ctx: ServerContext, mailbox: MailCatcher
) -> None:
    member_id, booking_id = booked(client, admin)
    link = link_in(ctx, mailbox, "ala@example.org", "/m/cancel")

    page = client.get(link)
    assert page.status_code == 200
    assert (
        "Cancel this booking?" in page.text
        and "Sala warsztatowa A, 02.03.2026, 13:00–14:00" in page.text
    )
    assert f'name="token" value="{token_of(link)}"' in page.text
    assert client.get(link).status_code == 200  # a mail scanner's look changes nothing
    assert row(ctx, models.Booking, booking_id).status == "booked"

    done = client.post("/m/cancel", data={"token": token_of(link)})
    assert done.status_code == 200 and "Your booking is cancelled." in done.text
    assert row(ctx, models.Booking, booking_id).status == "cancelled"
    assert audited(ctx, "booking.cancel") == [(f"mail-link:member:{member_id}", str(booking_id))]
    send_queued(ctx)
    assert mailbox.messages()[-1].subject.startswith("Cancelled:")

    again = client.post("/m/cancel", data={"token": token_of(link)})
    assert again.status_code == 409 and "This booking is cancelled already" in again.text
    assert '<h2 id="link-h">Cancel a booking</h2>' in again.text  # not "does not work"
    assert client.get(link).status_code == 409
    assert len(audited(ctx, "booking.cancel")) == 1


def test_the_page_speaks_the_members_language_unless_asked_otherwise(
    client: TestClient, admin: Headers, ctx: ServerContext, mailbox: MailCatcher
) -> None:
    booked(client, admin, lang="uk")
    link = link_in(ctx, mailbox, "ala@example.org", "/m/cancel")
    assert "Скасування бронювання" in client.get(link).text
    assert "Odwołanie rezerwacji" in client.get(f"{link}&lang=pl").text


@pytest.mark.parametrize(
    "bad", ["", "abc", "x" * 5000, "a.b", "Y2FuY2VsLjEuOTk5OTk5OTk5OQ.AAAA", "ćwierć.żółw"]
)
def test_a_token_not_ours_is_refused_with_a_page(
    client: TestClient, admin: Headers, ctx: ServerContext, bad: str
) -> None:
    _, booking_id = booked(client, admin)
    for response in (
        client.get("/m/cancel", params={"token": bad, "lang": "en"}),
        client.post("/m/cancel?lang=en", data={"token": bad}),
        client.get("/m/accept", params={"token": bad, "lang": "en"}),
    ):
        assert response.status_code == 400, response.text
        assert "This link does not work" in response.text and 'role="alert"' in response.text
    assert row(ctx, models.Booking, booking_id).status == "booked"


def test_a_changed_token_or_one_for_the_other_action_is_refused(
    client: TestClient, admin: Headers, ctx: ServerContext, mailbox: MailCatcher
) -> None:
    _, booking_id = booked(client, admin)
    token = token_of(link_in(ctx, mailbox, "ala@example.org", "/m/cancel"))
    body, mac = token.split(".")
    other = links.sign(links.link_key(ctx.card_key), purpose="cancel", subject=booking_id + 1,
                       expires=START)  # fmt: skip
    for changed in (
        f"{other.split('.')[0]}.{mac}",  # another booking's id under this signature
        f"{body}.{mac[:-2]}{'AA' if not mac.endswith('AA') else 'BB'}",
        f"{body}x.{mac}",
    ):
        response = client.post("/m/cancel?lang=en", data={"token": changed})
        assert response.status_code == 400 and "This link is not valid" in response.text
    accept = links.sign(links.link_key(ctx.card_key), purpose="accept", subject=booking_id,
                        expires=START)  # fmt: skip
    refused = client.post("/m/cancel?lang=en", data={"token": accept})
    assert refused.status_code == 400
    assert client.post("/m/accept?lang=en", data={"token": token}).status_code == 400
    assert row(ctx, models.Booking, booking_id).status == "booked"


def test_the_cancel_link_expires_at_the_start(
    client: TestClient, admin: Headers, ctx: ServerContext, mailbox: MailCatcher, clock: Clock
) -> None:
    _, booking_id = booked(client, admin)
    link = link_in(ctx, mailbox, "ala@example.org", "/m/cancel")
    clock.now = START
    assert client.get(f"{link}&lang=en").status_code == 410
    expired = client.post("/m/cancel?lang=en", data={"token": token_of(link)})
    assert expired.status_code == 410 and "This link has expired." in expired.text
    assert row(ctx, models.Booking, booking_id).status == "booked"


def test_the_offer_link_accepts_the_offer_once(
    client: TestClient, admin: Headers, ctx: ServerContext, mailbox: MailCatcher, clock: Clock
) -> None:
    _, booking_id = booked(client, admin)
    waiting = api_member(client, admin, name="Olena", email="olena@example.org", lang="en")
    with ctx.writes() as s, s.begin():
        entries.join(s, site=ctx.site, member_id=waiting["id"], start=START,
                     end=START + timedelta(hours=1), now=clock.now, room_id="sala-a")  # fmt: skip
    assert client.post(f"/api/bookings/{booking_id}/cancel", headers=admin).status_code == 200
    link = link_in(ctx, mailbox, "olena@example.org", "/m/accept")
    offer_mail = mailbox.messages(to="olena@example.org")[-1]
    assert offer_mail.subject.startswith("A room is free for you")
    assert "Sala warsztatowa A is free" in offer_mail.text

    page = client.get(link)
    assert page.status_code == 200 and "The room is held for you until 10:10." in page.text
    with ctx.reads() as s:
        [offer] = s.scalars(select(models.Offer)).all()
    assert offer.status == "offered"

    done = client.post("/m/accept", data={"token": token_of(link)})
    assert done.status_code == 200 and "The room is booked for you." in done.text
    accepted = row(ctx, models.Offer, offer.id)
    assert accepted.status == "accepted" and accepted.booking_id is not None
    assert audited(ctx, "offer.accept") == [(f"mail-link:member:{waiting['id']}", str(offer.id))]
    send_queued(ctx)
    assert mailbox.messages(to="olena@example.org")[-1].subject.startswith("Booked:")

    again = client.post("/m/accept", data={"token": token_of(link)})
    assert again.status_code == 409 and "cannot be accepted any more" in again.text


def test_the_offer_link_expires_when_the_offer_lapses(
    client: TestClient, admin: Headers, ctx: ServerContext, mailbox: MailCatcher, clock: Clock
) -> None:
    _, booking_id = booked(client, admin)
    waiting = api_member(client, admin, name="Olena", email="olena@example.org")
    with ctx.writes() as s, s.begin():
        entries.join(s, site=ctx.site, member_id=waiting["id"], start=START,
                     end=START + timedelta(hours=1), now=clock.now, room_id="sala-a")  # fmt: skip
    client.post(f"/api/bookings/{booking_id}/cancel", headers=admin)
    link = link_in(ctx, mailbox, "olena@example.org", "/m/accept")
    clock.now += timedelta(seconds=ctx.site.bookings.offer_hold)
    lapsed = client.post("/m/accept?lang=en", data={"token": token_of(link)})
    assert lapsed.status_code == 410 and "This link has expired." in lapsed.text
