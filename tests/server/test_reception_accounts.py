"""Changing an account at the reception desk (`/reception/accounts/{id}`): name, e-mail,
role, password, disabling and enabling, as `PATCH /api/users/{id}` does (one domain
function), audited; refusals in the reader's language change nothing."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select
from support.factories import row
from support.signin import make_user, sign_in, sign_in_with_token

from server.context import ServerContext
from server.db import models

Headers = dict[str, str]
PASSWORD = "correct horse battery"
CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


def user_row(ctx: ServerContext, user_id: int) -> models.User:
    return row(ctx, models.User, user_id)


def updates(ctx: ServerContext) -> list[tuple[str | None, dict[str, object] | None]]:
    entries = models.AuditEntry
    with ctx.reads() as session:
        stmt = select(entries.target, entries.detail).where(entries.action == "user.update")
        return [(target, detail) for target, detail in session.execute(stmt.order_by(entries.id))]


def submit(client: TestClient, user_id: int, lang: str = "pl", **fields: str):  # type: ignore[no-untyped-def]
    page = client.get(f"/reception/accounts/{user_id}?lang={lang}")
    assert page.status_code == 200, page.text
    form = {"csrf_token": CSRF.findall(page.text)[0], **fields}
    return client.post(
        f"/reception/accounts/{user_id}?lang={lang}", data=form, follow_redirects=False
    )


def test_an_administrator_changes_a_name_a_role_and_the_password(
    client: TestClient, ctx: ServerContext
) -> None:
    ewa = make_user(ctx, "staff", "ewa@example.org")
    sign_in_with_token(client)
    listed = client.get("/reception/accounts?lang=en").text
    assert f'href="/reception/accounts/{ewa.id}?lang=en"' in listed
    page = client.get(f"/reception/accounts/{ewa.id}?lang=en").text
    assert "<h2>Account: ewa</h2>" in page and 'value="ewa@example.org"' in page
    done = submit(
        client, ewa.id, name="Ewa Nowak", email="ewa@example.org", role="admin",
        password="a new long password",
    )  # fmt: skip
    assert (done.status_code, done.headers["location"]) == (303, "/reception/accounts?lang=pl")
    changed = user_row(ctx, ewa.id)
    assert (changed.name, changed.role) == ("Ewa Nowak", "admin")
    assert updates(ctx) == [
        (str(ewa.id), {"fields": ["name", "role"], "role": "admin", "password": "changed"})
    ]
    with TestClient(client.app) as browser:
        assert (
            browser.post(
                "/api/auth/login", json={"email": "ewa@example.org", "password": PASSWORD}
            ).status_code
            == 401
        )
        sign_in(browser, "ewa@example.org", "a new long password")


def test_disabling_ends_sessions_and_enabling_lets_the_user_sign_in_again(
    client: TestClient, ctx: ServerContext
) -> None:
    ewa = make_user(ctx, "staff", "ewa@example.org")
    with TestClient(client.app) as hers:
        sign_in(hers, "ewa@example.org", PASSWORD)
        sign_in_with_token(client)
        page = client.get(f"/reception/accounts/{ewa.id}").text
        form = {"csrf_token": CSRF.findall(page)[0]}
        disabled = client.post(
            f"/reception/accounts/{ewa.id}/disable", data=form, follow_redirects=False
        )
        assert disabled.status_code == 303 and user_row(ctx, ewa.id).disabled_at is not None
        assert hers.get("/api/me").status_code == 401
        page = client.get(f"/reception/accounts/{ewa.id}?lang=en").text
        assert "Enable" in page and "Disabling ends" not in page
        enabled = client.post(
            f"/reception/accounts/{ewa.id}/enable", data=form, follow_redirects=False
        )
        assert enabled.status_code == 303 and user_row(ctx, ewa.id).disabled_at is None
        assert hers.get("/api/me").status_code == 401  # her old session stays ended
        sign_in(hers, "ewa@example.org", PASSWORD)
    assert updates(ctx) == [
        (str(ewa.id), {"fields": ["disabled"], "role": "staff", "disabled": False})
    ]


def test_a_refusal_is_told_in_the_reader_s_language_and_changes_nothing(
    client: TestClient, ctx: ServerContext
) -> None:
    ewa = make_user(ctx, "staff", "ewa@example.org")
    make_user(ctx, "staff", "jan@example.org")
    sign_in_with_token(client)
    bad = submit(client, ewa.id, "en", name="Ewa", email="not an address", role="staff")
    assert bad.status_code == 422 and 'role="alert"' in bad.text
    taken = submit(client, ewa.id, "uk", name="Ewa", email="jan@example.org", role="staff")
    assert taken.status_code == 409 and 'role="alert"' in taken.text
    assert 'value="jan@example.org"' in taken.text  # the form keeps what was typed
    short = submit(
        client, ewa.id, "pl", name="Ewa", email="ewa@example.org", role="staff", password="short"
    )
    assert short.status_code == 422
    member = submit(client, ewa.id, "en", name="Ewa", email="ewa@example.org", role="member")
    assert member.status_code == 422  # a member user needs a member
    assert user_row(ctx, ewa.id).name == "ewa" and updates(ctx) == []
    assert client.get("/reception/accounts/999").status_code == 404


def test_staff_change_member_accounts_only(client: TestClient, ctx: ServerContext) -> None:
    boss = make_user(ctx, "admin", "boss@example.org")
    ola = make_user(ctx, "member", "ola@example.org", category="resident")
    make_user(ctx, "staff", "desk@example.org")
    sign_in(client, "desk@example.org", PASSWORD)
    assert client.get(f"/reception/accounts/{boss.id}").status_code == 403
    page = client.get(f"/reception/accounts/{ola.id}").text
    assert '<option value="staff"' not in page
    promoted = submit(client, ola.id, name="ola", email="ola@example.org", role="staff")
    assert promoted.status_code == 403 and user_row(ctx, ola.id).role == "member"
    renamed = submit(client, ola.id, name="Ola Nowak", email="ola@example.org", role="member")
    assert renamed.status_code == 303 and user_row(ctx, ola.id).name == "Ola Nowak"


def test_the_api_disables_and_enables_through_the_same_function(
    client: TestClient, admin: Headers, ctx: ServerContext
) -> None:
    ewa = make_user(ctx, "staff", "ewa@example.org")
    off = client.patch(f"/api/users/{ewa.id}", json={"disabled": True}, headers=admin)
    assert off.status_code == 200 and off.json()["disabled_at"] is not None
    on = client.patch(f"/api/users/{ewa.id}", json={"disabled": False}, headers=admin)
    assert on.status_code == 200 and on.json()["disabled_at"] is None
    assert [detail for _, detail in updates(ctx)] == [
        {"fields": ["disabled"], "role": "staff", "disabled": True},
        {"fields": ["disabled"], "role": "staff", "disabled": False},
    ]


def test_an_erased_member_s_account_is_not_enabled_again(
    client: TestClient, admin: Headers, ctx: ServerContext
) -> None:
    ola = make_user(ctx, "member", "ola@example.org", category="resident")
    assert client.delete(f"/api/members/{ola.member_id}", headers=admin).status_code == 204
    refused = client.patch(f"/api/users/{ola.id}", json={"disabled": False}, headers=admin)
    assert refused.status_code == 422 and user_row(ctx, ola.id).disabled_at is not None


def test_the_api_refuses_a_taken_e_mail_with_409(
    client: TestClient, admin: Headers, ctx: ServerContext
) -> None:
    ewa = make_user(ctx, "staff", "ewa@example.org")
    make_user(ctx, "staff", "jan@example.org")
    taken = client.patch(f"/api/users/{ewa.id}", json={"email": "Jan@example.org"}, headers=admin)
    assert taken.status_code == 409 and user_row(ctx, ewa.id).email == "ewa@example.org"
