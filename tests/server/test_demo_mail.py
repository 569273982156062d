"""The demo's mail: its own SMTP server catches every mail, staff read them at /demo/mail
(text, links, the `.ics` to download), and the demo members can sign in by a mailed link."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from fastapi.testclient import TestClient
from support.factories import api_booking, api_member
from support.signin import sign_in_with_token
from support.smtp import send_queued

from server.context import ServerContext
from spacehub.banner import Running, banner
from spacehub.demomail import MailCatcher
from spacehub.seed import DEMO_MEMBERS, demo_email, seed, seed_member_accounts

Headers = dict[str, str]
START = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def test_staff_read_the_caught_mail_and_download_its_ics(
    demo: TestClient, admin: Headers, mailbox: MailCatcher
) -> None:
    ctx: ServerContext = demo.app.state.ctx  # type: ignore[attr-defined]
    assert demo.get("/demo/mail").status_code == 401  # not signed in
    member = api_member(demo, admin, name="Ala Nowak", email="ala@example.org", lang="en")
    api_booking(demo, admin, member["id"], START)
    send_queued(ctx)
    [caught] = mailbox.messages()

    sign_in_with_token(demo)
    listed = demo.get("/demo/mail?lang=en")
    assert listed.status_code == 200
    assert f'href="/demo/mail/{caught.id}?lang=en">Booked: Sala warsztatowa A' in listed.text
    one = demo.get(f"/demo/mail/{caught.id}?lang=en")
    [cancel] = [link for link in caught.links if "/m/cancel?token=" in link]
    assert f'<a href="{cancel}">' in one.text and "Hello Ala Nowak," in one.text
    ics = demo.get(f"/demo/mail/{caught.id}/attachment/0")
    assert ics.status_code == 200 and ics.headers["content-type"].startswith("text/calendar")
    assert 'filename="booking.ics"' in ics.headers["content-disposition"]
    assert b"BEGIN:VCALENDAR" in ics.content and b"METHOD:REQUEST" in ics.content
    assert demo.get(f"/demo/mail/{caught.id}/attachment/1").status_code == 404
    assert demo.get("/demo/mail/999").status_code == 404


def test_a_demo_member_signs_in_by_the_link_mailed_to_the_demo(
    demo: TestClient, mailbox: MailCatcher
) -> None:
    ctx: ServerContext = demo.app.state.ctx  # type: ignore[attr-defined]
    seed(ctx, traffic=False)
    made = seed_member_accounts(ctx)
    assert made == [demo_email(m) for m in DEMO_MEMBERS]
    assert seed_member_accounts(ctx) == []  # a restart: nobody twice
    address = demo_email(DEMO_MEMBERS[2])
    assert demo.post("/api/auth/magic-link", json={"email": address}).status_code == 202
    send_queued(ctx)
    [caught] = mailbox.messages(to=address)
    [link] = [link for link in caught.links if "/auth/magic?token=" in link]
    signed_in = demo.get(link.removeprefix(ctx.settings.public_url), follow_redirects=False)
    assert signed_in.status_code == 303 and signed_in.headers["location"].startswith("/me/")


def test_the_banner_names_the_mail_page(tmp_path: Path) -> None:
    run = Running(http_port=8123, broker_name="embedded", broker_url="mqtt://127.0.0.1:1883",
                  token="t", data_dir=tmp_path, earlier_data=False)  # fmt: skip
    assert "/demo/mail" not in banner(run)
    shown = banner(replace(run, mail="smtp://127.0.0.1:2525"))
    assert "http://127.0.0.1:8123/demo/mail" in shown and "smtp://127.0.0.1:2525" in shown
    assert "anna@example.org" in shown
