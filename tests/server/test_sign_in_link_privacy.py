"""Nobody becomes somebody else by reading their mail: a sign-in link's token is shown only
to a reader whose role ranks above the link's account (an administrator reads staff's and
members' links, staff members'), on every page and API that shows mail; the rest of the
mail is shown as it is."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from support.signin import make_user, sign_in
from support.smtp import send_queued

from server.context import ServerContext
from server.people import logins
from server.people.accounts import Manager
from spacehub.demomail import MailCatcher

PASSWORD = "correct horse battery"
HIDDEN = f"/auth/magic?token={logins.REDACTED}"


def browser(client: TestClient, email: str) -> TestClient:
    """Another browser on the same app, signed in with a password."""
    other = TestClient(client.app)
    sign_in(other, email, PASSWORD)
    return other


def token_mailed(ctx: ServerContext, mailbox: MailCatcher, to: str) -> str:
    """Send what is queued; the token of the sign-in link mailed to `to`."""
    send_queued(ctx)
    [caught] = mailbox.messages(to=to)
    [link] = [link for link in caught.links if "/auth/magic?token=" in link]
    return link.split("token=")[1]


def views(reader: TestClient) -> dict[str, str]:
    """Every view of pending mail a reader has (before it is sent)."""
    return {
        "accounts page": reader.get("/reception/accounts").text,
        "mail page": reader.get("/reception/mail").text,
        "mail API": reader.get("/api/mail").text,
    }


def test_staff_cannot_read_an_administrator_s_sign_in_link(
    demo: TestClient, mail_ctx: ServerContext, mailbox: MailCatcher
) -> None:
    make_user(mail_ctx, "admin", "boss@example.org")
    make_user(mail_ctx, "staff", "desk@example.org")
    staff = browser(demo, "desk@example.org")
    with TestClient(demo.app) as anybody:  # asking for a link needs nobody signed in
        assert anybody.post("/api/auth/magic-link", json={"email": "boss@example.org"}).is_success

    before_sending = views(staff)
    assert HIDDEN in before_sending["accounts page"] and HIDDEN in before_sending["mail API"]
    [listed] = staff.get("/api/mail").json()
    assert (listed["to"], listed["kind"], listed["state"]) == (
        "boss@example.org",
        "sign_in",
        "pending",
    )
    token = token_mailed(mail_ctx, mailbox, "boss@example.org")
    [caught] = mailbox.messages(to="boss@example.org")
    after_sending = {
        "mail API": staff.get("/api/mail").text,
        "demo mailbox": staff.get(f"/demo/mail/{caught.id}").text,
    }
    for view, text in (before_sending | after_sending).items():
        assert token not in text, view
    assert HIDDEN in after_sending["demo mailbox"]
    assert caught.subject in after_sending["demo mailbox"]  # the rest of the mail is shown
    # the administrator's own session reads no administrator's link either
    boss = browser(demo, "boss@example.org")
    assert token not in boss.get(f"/demo/mail/{caught.id}").text
    assert token not in boss.get("/api/mail").text
    # and the link still signs the administrator in
    assert demo.get(f"/auth/magic?token={token}", follow_redirects=False).status_code == 303


def test_an_administrator_reads_a_member_s_link_and_staff_do_too(
    demo: TestClient, mail_ctx: ServerContext, mailbox: MailCatcher
) -> None:
    make_user(mail_ctx, "admin", "boss@example.org")
    make_user(mail_ctx, "staff", "desk@example.org")
    make_user(mail_ctx, "member", "ola@example.org", password=None, category="resident")
    boss, staff = browser(demo, "boss@example.org"), browser(demo, "desk@example.org")
    assert demo.post("/api/auth/magic-link", json={"email": "ola@example.org"}).is_success
    pending = {"admin": views(boss), "staff": views(staff)}
    token = token_mailed(mail_ctx, mailbox, "ola@example.org")
    for reader, seen in pending.items():
        assert token in seen["accounts page"] and token in seen["mail API"], reader
        assert HIDDEN not in seen["accounts page"], reader
    [caught] = mailbox.messages(to="ola@example.org")
    assert f'<a href="http://127.0.0.1:8000/auth/magic?token={token}">' in boss.get(
        f"/demo/mail/{caught.id}"
    ).text.replace("&#34;", '"')


@pytest.mark.parametrize(
    ("viewer", "owner", "shown"),
    [
        ("admin", "member", True),
        ("admin", "staff", True),
        ("admin", "admin", False),
        ("staff", "member", True),
        ("staff", "staff", False),
        ("staff", "admin", False),
        ("member", "member", False),
        ("gateway", "member", False),
    ],
)
def test_a_link_is_shown_only_to_a_higher_role(
    client: TestClient, ctx: ServerContext, viewer: str, owner: str, shown: bool
) -> None:
    email = f"{owner}@example.org"
    make_user(ctx, owner, email, category="resident")
    with ctx.writes() as session, session.begin():
        mail = logins.send_link(
            session, email=email, site=ctx.site, base_url="http://hub", now=ctx.clock()
        )
        assert mail is not None
        body, html, other = mail.body, mail.html, "no link here"
        token = body.split("token=")[1].split()[0]
        seen = logins.shown_to(session, viewer=Manager(viewer), texts=[body, html, other])
    assert [token in text for text in seen] == [shown, shown, False]
    assert seen[2] == other
    if not shown:
        assert seen[0] == body.replace(token, logins.REDACTED)


def test_an_unknown_token_is_hidden_from_everybody(ctx: ServerContext) -> None:
    text = "Sign in: http://hub/auth/magic?token=made-up-token"
    with ctx.reads() as session:
        [seen] = logins.shown_to(session, viewer=Manager("admin"), texts=[text])
    assert seen == f"Sign in: http://hub{HIDDEN}"


def test_only_the_demo_serves_its_mailbox(client: TestClient, admin: dict[str, str]) -> None:
    assert client.get("/demo/mail", headers=admin).status_code == 404
