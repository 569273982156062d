"""Accounts and signing in: users and their Argon2id passwords, sessions in the database
(signing out holds across a restart), CSRF, personal tokens, the login limits and one-time
sign-in links."""

from __future__ import annotations

import re
import warnings
from datetime import timedelta

from sqlalchemy import select
from support.signin import bearer_of, csrf_of, make_user, sign_in

from server.app import create_app
from server.context import ServerContext
from server.db import models

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

PASSWORD = "correct horse battery"


def audit_actions(ctx: ServerContext) -> list[str]:
    with ctx.reads() as session:
        return list(
            session.scalars(select(models.AuditEntry.action).order_by(models.AuditEntry.id))
        )


def login(client, email: str, password: str):  # type: ignore[no-untyped-def]
    return client.post("/api/auth/login", json={"email": email, "password": password})


def ask_link(client, email: str):  # type: ignore[no-untyped-def]
    return client.post("/api/auth/magic-link", json={"email": email})


def restarted(settings, clock) -> ServerContext:  # type: ignore[no-untyped-def]
    """Another server process on the same database file."""
    return ServerContext.create(settings, clock=clock)


# -- users ------------------------------------------------------------------------------


def test_an_administrator_adds_a_staff_user_with_an_argon2id_password(client, admin, ctx) -> None:  # type: ignore[no-untyped-def]
    body = {
        "email": "Recepcja@Example.org",
        "name": "Recepcja",
        "role": "staff",
        "password": PASSWORD,
    }
    made = client.post("/api/users", json=body, headers=admin)
    assert made.status_code == 201, made.text
    user = made.json()
    assert (user["email"], user["role"], user["member_id"]) == (
        "recepcja@example.org",
        "staff",
        None,
    )
    with ctx.reads() as session:
        stored = session.get(models.User, user["id"])
        assert stored is not None and stored.password_hash is not None
        assert stored.password_hash.startswith("$argon2id$")
        assert PASSWORD not in stored.password_hash
    again = client.post("/api/users", json={**body, "email": "recepcja@EXAMPLE.org"}, headers=admin)
    assert again.status_code == 409
    short = client.post(
        "/api/users", json={**body, "email": "b@example.org", "password": "short"}, headers=admin
    )
    assert short.status_code == 422
    assert "user.create" in audit_actions(ctx)


def test_a_member_user_is_linked_to_a_new_or_existing_member(client, admin) -> None:  # type: ignore[no-untyped-def]
    new = client.post(
        "/api/users",
        json={"email": "ola@example.org", "name": "Ola", "role": "member", "category": "ngo"},
        headers=admin,
    ).json()
    member = client.get(f"/api/members/{new['member_id']}", headers=admin).json()
    assert (member["name"], member["email"], member["category"]) == (
        "Ola",
        "ola@example.org",
        "ngo",
    )
    existing = client.post(
        "/api/members", json={"name": "Jan", "category": "resident"}, headers=admin
    )
    linked = client.post(
        "/api/users",
        json={
            "email": "jan@example.org",
            "name": "Jan",
            "role": "member",
            "member_id": existing.json()["id"],
        },
        headers=admin,
    )
    assert linked.json()["member_id"] == existing.json()["id"]
    unlinked = client.post(
        "/api/users", json={"email": "x@example.org", "name": "X", "role": "member"}, headers=admin
    )
    assert unlinked.status_code == 422


def test_staff_manage_member_users_only(client, ctx) -> None:  # type: ignore[no-untyped-def]
    staff = bearer_of(ctx, make_user(ctx, "staff", "staff@example.org").id)
    other_staff = make_user(ctx, "staff", "other@example.org")
    member_user = {"email": "m@example.org", "name": "M", "role": "member", "category": "resident"}
    assert client.post("/api/users", json=member_user, headers=staff).status_code == 201
    staff_user = {"email": "s@example.org", "name": "S", "role": "staff", "password": PASSWORD}
    assert client.post("/api/users", json=staff_user, headers=staff).status_code == 403
    assert {u["role"] for u in client.get("/api/users", headers=staff).json()} == {"member"}
    assert client.delete(f"/api/users/{other_staff.id}", headers=staff).status_code == 403
    assert (
        client.patch(f"/api/users/{other_staff.id}", json={"name": "Y"}, headers=staff).status_code
        == 403
    )


def test_a_deleted_user_keeps_the_row_and_loses_sessions_and_tokens(client, admin, ctx) -> None:  # type: ignore[no-untyped-def]
    user = make_user(ctx, "staff", "gone@example.org")
    token = bearer_of(ctx, user.id)
    assert client.get("/api/me", headers=token).status_code == 200
    assert client.delete(f"/api/users/{user.id}", headers=admin).status_code == 204
    assert client.get("/api/me", headers=token).status_code == 401
    gone = login(client, "gone@example.org", PASSWORD)
    assert gone.status_code == 401
    assert client.get(f"/api/users/{user.id}", headers=admin).json()["disabled_at"] is not None


# -- signing in with a password ---------------------------------------------------------


def test_signing_in_gives_a_session_and_its_csrf_token(client, ctx) -> None:  # type: ignore[no-untyped-def]
    make_user(ctx, "staff", "staff@example.org")
    response = client.post(
        "/api/auth/login", json={"email": "STAFF@example.org", "password": PASSWORD}
    )
    assert response.status_code == 200
    assert response.json()["user"]["email"] == "staff@example.org"
    assert "HttpOnly" in response.headers["set-cookie"]
    me = client.get("/api/me").json()
    assert (me["role"], me["user"]["email"], me["member"]) == ("staff", "staff@example.org", None)
    assert csrf_of(client) == response.json()["csrf_token"]  # the page embeds the same
    with ctx.reads() as session:
        [row] = session.scalars(select(models.AuthSession))
        assert client.cookies["spacehub_session"] not in row.token_hash  # only its hash
    assert "auth.sign_in" in audit_actions(ctx)


def test_a_wrong_pair_is_401_whether_or_not_the_account_exists(client, ctx) -> None:  # type: ignore[no-untyped-def]
    make_user(ctx, "staff", "staff@example.org")
    wrong = client.post(
        "/api/auth/login", json={"email": "staff@example.org", "password": "x" * 12}
    )
    unknown = client.post(
        "/api/auth/login", json={"email": "nobody@example.org", "password": "x" * 12}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert audit_actions(ctx).count("auth.sign_in_failed") == 2


def test_five_failures_for_one_account_lock_it_for_15_minutes(client, ctx, clock) -> None:  # type: ignore[no-untyped-def]
    make_user(ctx, "staff", "staff@example.org")
    for _ in range(5):
        bad = client.post(
            "/api/auth/login", json={"email": "staff@example.org", "password": "y" * 12}
        )
        assert bad.status_code == 401
    right = {"email": "staff@example.org", "password": PASSWORD}
    assert client.post("/api/auth/login", json=right).status_code == 429
    clock.advance(minutes=15)
    assert client.post("/api/auth/login", json=right).status_code == 200


def test_five_failures_from_one_address_stop_it_on_every_account(client, ctx) -> None:  # type: ignore[no-untyped-def]
    make_user(ctx, "staff", "staff@example.org")
    for n in range(5):
        client.post(
            "/api/auth/login", json={"email": f"guess{n}@example.org", "password": "z" * 12}
        )
    right = {"email": "staff@example.org", "password": PASSWORD}
    assert client.post("/api/auth/login", json=right).status_code == 429


def test_the_limits_hold_on_another_replica(client, ctx, settings, clock) -> None:  # type: ignore[no-untyped-def]
    make_user(ctx, "staff", "staff@example.org")
    for _ in range(5):
        login(client, "staff@example.org", "w" * 12)
    other = restarted(settings, clock)
    try:
        with TestClient(create_app(settings, ctx=other, mqtt=False)) as replica:
            right = {"email": "staff@example.org", "password": PASSWORD}
            assert replica.post("/api/auth/login", json=right).status_code == 429
    finally:
        other.close()


# -- sessions and CSRF ------------------------------------------------------------------


def test_a_session_change_needs_its_csrf_token(client, ctx) -> None:  # type: ignore[no-untyped-def]
    make_user(ctx, "staff", "staff@example.org")
    csrf = sign_in(client, "staff@example.org", PASSWORD)
    body = {"mode": "locked"}
    assert client.put("/api/doors/sala-a/mode", json=body).status_code == 403
    wrong = client.put("/api/doors/sala-a/mode", json=body, headers={"X-CSRF-Token": "nope"})
    assert wrong.status_code == 403
    with ctx.reads() as session:
        assert session.get(models.Door, "sala-a").mode == "normal"  # type: ignore[union-attr]
    assert client.put("/api/doors/sala-a/mode", json=body, headers=csrf).status_code == 200


def test_a_signed_out_session_stays_out_after_a_restart(client, ctx, settings, clock) -> None:  # type: ignore[no-untyped-def]
    make_user(ctx, "staff", "staff@example.org")
    csrf = sign_in(client, "staff@example.org", PASSWORD)
    cookie = client.cookies["spacehub_session"]
    assert client.post("/api/auth/logout", headers=csrf).status_code == 204
    other = restarted(settings, clock)
    try:
        with TestClient(create_app(settings, ctx=other, mqtt=False)) as fresh:
            fresh.cookies.set("spacehub_session", cookie)
            assert fresh.get("/api/me").status_code == 401
    finally:
        other.close()
    assert audit_actions(ctx)[-1] == "auth.sign_out"


def test_a_session_lasts_12_hours(client, ctx, clock) -> None:  # type: ignore[no-untyped-def]
    make_user(ctx, "staff", "staff@example.org")
    sign_in(client, "staff@example.org", PASSWORD)
    clock.advance(hours=11, minutes=59)
    assert client.get("/api/me").status_code == 200
    clock.advance(minutes=1)
    assert client.get("/api/me").status_code == 401


# -- personal tokens --------------------------------------------------------------------


def test_a_personal_token_is_shown_once_acts_with_its_role_and_is_revoked_for_good(
    client, ctx, settings, clock
) -> None:  # type: ignore[no-untyped-def]
    staff = make_user(ctx, "staff", "staff@example.org")
    csrf = sign_in(client, "staff@example.org", PASSWORD)
    made = client.post("/api/tokens", json={"name": "laptop"}, headers=csrf)
    assert made.status_code == 201
    token = made.json()["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    with TestClient(client.app) as other:  # no cookie
        assert other.get("/api/members", headers=bearer).status_code == 200  # staff's
        assert other.get("/api/members/1/export", headers=bearer).status_code == 403  # admin's
    listed = client.get("/api/tokens").json()
    assert [t["name"] for t in listed] == ["laptop"] and "token" not in listed[0]
    with ctx.reads() as session:
        stored = session.scalar(select(models.ApiToken.token_hash))
        assert stored is not None and token not in stored
    assert client.delete(f"/api/tokens/{made.json()['id']}", headers=csrf).status_code == 204
    other_ctx = restarted(settings, clock)
    try:
        with TestClient(create_app(settings, ctx=other_ctx, mqtt=False)) as fresh:
            assert fresh.get("/api/members", headers=bearer).status_code == 401
    finally:
        other_ctx.close()
    actions = audit_actions(ctx)
    assert "token.create" in actions and "token.revoke" in actions
    assert staff.id  # the token was the user's own


def test_a_token_expires(client, ctx, clock) -> None:  # type: ignore[no-untyped-def]
    user = make_user(ctx, "staff", "staff@example.org")
    csrf = sign_in(client, "staff@example.org", PASSWORD)
    expires = (clock.now + timedelta(hours=1)).isoformat()
    token = client.post("/api/tokens", json={"name": "1h", "expires": expires}, headers=csrf).json()
    bearer = {"Authorization": f"Bearer {token['token']}"}
    client.cookies.clear()
    assert client.get("/api/me", headers=bearer).json()["user"]["id"] == user.id
    clock.advance(hours=1)
    assert client.get("/api/me", headers=bearer).status_code == 401


def test_nobody_revokes_anybody_elses_token(client, ctx) -> None:  # type: ignore[no-untyped-def]
    alice = make_user(ctx, "staff", "alice@example.org")
    bob = bearer_of(ctx, make_user(ctx, "staff", "bob@example.org").id)
    bearer_of(ctx, alice.id)
    with ctx.reads() as session:
        alices = session.scalar(
            select(models.ApiToken.id).where(models.ApiToken.user_id == alice.id)
        )
    assert client.delete(f"/api/tokens/{alices}", headers=bob).status_code == 404


# -- one-time sign-in links -------------------------------------------------------------


def _link_of(client, admin) -> str:  # type: ignore[no-untyped-def]
    [mail] = client.get("/api/mail", headers=admin).json()
    found = re.search(r"/auth/magic\?token=(\S+)", mail["body"])
    assert found is not None
    return found.group(1)


def test_a_sign_in_link_is_recorded_in_the_member_s_language(client, admin, ctx) -> None:  # type: ignore[no-untyped-def]
    member = client.post(
        "/api/members", json={"name": "Oksana", "category": "ngo", "lang": "uk"}, headers=admin
    ).json()
    make_user(ctx, "member", "oksana@example.org", member_id=member["id"])
    assert ask_link(client, "oksana@example.org").status_code == 202
    assert ask_link(client, "nobody@example.org").status_code == 202
    [mail] = client.get("/api/mail", headers=admin).json()
    assert (mail["to"], mail["kind"], mail["lang"], mail["member_id"]) == (
        "oksana@example.org",
        "sign_in",
        "uk",
        member["id"],
    )
    assert "Oksana" not in mail["subject"] and "посилання" in mail["body"]
    assert "auth.link_sent" in audit_actions(ctx)


def test_a_sign_in_link_works_once_and_leads_a_member_to_their_page(client, admin, ctx) -> None:  # type: ignore[no-untyped-def]
    member = make_user(ctx, "member", "ola@example.org", password=None, category="resident")
    ask_link(client, "ola@example.org")
    token = _link_of(client, admin)
    with TestClient(client.app) as browser:
        used = browser.get(f"/auth/magic?token={token}", follow_redirects=False)
        assert (used.status_code, used.headers["location"]) == (303, "/me/")
        page = browser.get("/me/")
        assert page.status_code == 200 and "ola" in page.text
        assert browser.get("/api/me").json()["member"]["id"] == member.member_id
        assert browser.get("/", follow_redirects=False).headers["location"] == "/me/"
    with TestClient(client.app) as again:
        assert again.get(f"/auth/magic?token={token}", follow_redirects=False).status_code == 410
        assert again.get("/api/me").status_code == 401


def test_a_sign_in_link_expires_after_15_minutes(client, admin, ctx, clock) -> None:  # type: ignore[no-untyped-def]
    make_user(ctx, "staff", "staff@example.org")
    ask_link(client, "staff@example.org")
    token = _link_of(client, admin)
    clock.advance(minutes=15)
    with TestClient(client.app) as browser:
        assert browser.get(f"/auth/magic?token={token}", follow_redirects=False).status_code == 410
        assert browser.get("/api/me").status_code == 401


def test_signing_in_again_ends_the_browser_s_earlier_session(client, ctx) -> None:  # type: ignore[no-untyped-def]
    make_user(ctx, "staff", "staff@example.org")
    sign_in(client, "staff@example.org", PASSWORD)
    first = client.cookies["spacehub_session"]
    sign_in(client, "staff@example.org", PASSWORD)
    assert client.cookies["spacehub_session"] != first
    assert client.get("/api/me").status_code == 200
    client.cookies.set("spacehub_session", first)
    assert client.get("/api/me").status_code == 401


def test_the_server_hashes_passwords_at_argon2_cffis_recommended_cost(
    cheap_password_hashes,  # type: ignore[no-untyped-def]
) -> None:
    from argon2 import PasswordHasher, Type

    server_own, recommended = cheap_password_hashes, PasswordHasher()
    assert server_own.type is Type.ID
    assert (server_own.time_cost, server_own.memory_cost, server_own.parallelism) == (
        recommended.time_cost,
        recommended.memory_cost,
        recommended.parallelism,
    )


def test_enabling_a_user_disabled_by_an_older_version_ends_their_old_tokens(client, ctx) -> None:  # type: ignore[no-untyped-def]
    """Older versions disabled a user without revoking their sessions and tokens."""
    from server.people import accounts

    user = make_user(ctx, "staff", "old@example.org")
    bearer = bearer_of(ctx, user.id)
    with ctx.writes() as session, session.begin():
        session.get(models.User, user.id).disabled_at = ctx.clock()  # as they did
    assert client.get("/api/me", headers=bearer).status_code == 401
    with ctx.writes() as session, session.begin():
        accounts.enable_user(session, user_id=user.id, now=ctx.clock())
    assert client.get("/api/me", headers=bearer).status_code == 401
