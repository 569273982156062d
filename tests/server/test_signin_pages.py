"""The sign-in page's three ways in, the accounts page and the member's page, as a browser
without JavaScript uses them (forms that post and redirect, with the CSRF token)."""

from __future__ import annotations

import re

from support.signin import csrf_of, make_user, sign_in_with_token

PASSWORD = "correct horse battery"


def test_the_sign_in_page_offers_a_password_a_link_and_the_token(client) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/?lang=en").text
    # the password first, then the link, then the administrator token
    order = [page.index(f'id="{field}"') for field in ("password", "link-email", "token")]
    assert order == sorted(order)
    assert 'name="email"' in page and 'name="token"' in page
    assert "Send me a sign-in link" in page
    assert "Wyślij mi link do logowania" in client.get("/?lang=pl").text


def test_a_staff_member_signs_in_with_the_form(client, ctx) -> None:  # type: ignore[no-untyped-def]
    make_user(ctx, "staff", "recepcja@example.org")
    form = {"email": "recepcja@example.org", "password": PASSWORD}
    signed_in = client.post("/login", data=form, follow_redirects=False)
    assert (signed_in.status_code, signed_in.headers["location"]) == (303, "/")
    assert 'name="csrf-token" content="' in client.get("/").text
    assert client.get("/api/me").json()["role"] == "staff"


def test_a_wrong_password_is_told_in_the_reader_s_language(client, ctx) -> None:  # type: ignore[no-untyped-def]
    make_user(ctx, "staff", "recepcja@example.org")
    form = {"email": "recepcja@example.org", "password": "not the one"}
    refused = client.post("/login?lang=pl", data=form, follow_redirects=False)
    assert refused.status_code == 401
    assert 'role="alert"' in refused.text and "Nieprawidłowy e-mail lub hasło" in refused.text
    for _ in range(4):
        client.post("/login", data=form)
    assert client.post("/login?lang=en", data=form).status_code == 429


def test_the_link_form_answers_the_same_for_any_address(client, ctx, admin) -> None:  # type: ignore[no-untyped-def]
    make_user(ctx, "staff", "recepcja@example.org")
    known = client.post("/login/link?lang=en", data={"email": "recepcja@example.org"})
    unknown = client.post("/login/link?lang=en", data={"email": "nobody@example.org"})
    assert known.status_code == unknown.status_code == 202
    assert known.text == unknown.text
    assert len(client.get("/api/mail", headers=admin).json()) == 1


def test_the_accounts_page_makes_users_with_its_csrf_token(client, ctx) -> None:  # type: ignore[no-untyped-def]
    sign_in_with_token(client)
    page = client.get("/reception/accounts?lang=en")
    assert page.status_code == 200 and "Add an account" in page.text
    form = {"name": "Recepcja", "email": "recepcja@example.org", "role": "staff"}
    assert client.post("/reception/accounts", data=form).status_code == 403  # no token
    form["csrf_token"] = csrf_of(client, "/reception/accounts")
    made = client.post("/reception/accounts", data=form, follow_redirects=False)
    assert made.status_code == 303
    listed = client.get("/reception/accounts?lang=en").text
    assert "recepcja@example.org" in listed
    taken = client.post("/reception/accounts?lang=en", data=form)
    assert taken.status_code == 409 and "exists already" in taken.text


def test_staff_make_member_accounts_only_and_their_own_tokens(client, ctx) -> None:  # type: ignore[no-untyped-def]
    make_user(ctx, "staff", "recepcja@example.org")
    client.post("/login", data={"email": "recepcja@example.org", "password": PASSWORD})
    csrf = csrf_of(client, "/reception/accounts")
    staff = {"name": "S", "email": "s@example.org", "role": "staff", "csrf_token": csrf}
    assert client.post("/reception/accounts?lang=en", data=staff).status_code == 403
    member = {**staff, "role": "member", "email": "m@example.org", "category": "ngo"}
    assert (
        client.post("/reception/accounts", data=member, follow_redirects=False).status_code == 303
    )
    made = client.post("/reception/accounts/tokens", data={"name": "laptop", "csrf_token": csrf})
    assert made.status_code == 201
    token = re.search(r'<code class="token">([^<]+)</code>', made.text)
    assert token is not None
    client.cookies.clear()
    bearer = {"Authorization": f"Bearer {token.group(1)}"}
    assert client.get("/api/me", headers=bearer).json()["user"]["email"] == "recepcja@example.org"


def test_a_member_s_page_is_in_their_language(client, ctx, admin) -> None:  # type: ignore[no-untyped-def]
    member = client.post(
        "/api/members", json={"name": "Oksana", "category": "ngo", "lang": "uk"}, headers=admin
    ).json()
    make_user(ctx, "member", "oksana@example.org", member_id=member["id"])
    signed_in = client.post(
        "/login", data={"email": "oksana@example.org", "password": PASSWORD}, follow_redirects=False
    )
    assert signed_in.headers["location"] == "/me/"
    page = client.get("/me/")
    assert '<html lang="uk">' in page.text and "Oksana" in page.text
    assert client.get("/reception/accounts").status_code == 403


def test_a_bad_administrator_token_reopens_its_form(client) -> None:  # type: ignore[no-untyped-def]
    refused = client.post("/login?lang=en", data={"token": "not the token"})
    assert refused.status_code == 401
    assert '<details class="admin-token" open>' in refused.text
    assert '<details class="admin-token">' in client.get("/?lang=en").text


def test_wrong_administrator_tokens_count_against_the_address_like_wrong_passwords(
    client, ctx, clock
) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from server.db import models

    token = ctx.settings.admin_token
    for _ in range(5):
        assert client.post("/login?lang=en", data={"token": "a wrong guess"}).status_code == 401
    # the address is stopped: the right token, and a password, until the window passes
    stopped = client.post("/login?lang=en", data={"token": token}, follow_redirects=False)
    assert stopped.status_code == 429 and 'role="alert"' in stopped.text
    assert client.get(f"/login?token={token}", follow_redirects=False).status_code == 429
    make_user(ctx, "staff", "desk@example.org")
    form = {"email": "desk@example.org", "password": "correct horse battery"}
    assert client.post("/login", data=form, follow_redirects=False).status_code == 429
    with ctx.reads() as session:
        failed = session.scalars(
            select(models.AuditEntry.detail).where(
                models.AuditEntry.action == "auth.sign_in_failed"
            )
        ).all()
    assert failed == [{"how": "token", "client": "testclient"}] * 5  # never the token typed
    clock.advance(minutes=15)
    signed_in = client.post("/login", data={"token": token}, follow_redirects=False)
    assert signed_in.status_code == 303


def test_wrong_tokens_do_not_lock_the_token_out_from_another_address(client, ctx) -> None:  # type: ignore[no-untyped-def]
    from server.people import logins

    with ctx.writes() as session, session.begin():
        for _ in range(5):
            logins.admin_token_attempt(session, valid=False, client="203.0.113.9", now=ctx.clock())
    token = ctx.settings.admin_token
    assert client.post("/login", data={"token": token}, follow_redirects=False).status_code == 303
