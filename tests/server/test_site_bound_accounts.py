"""Two sites on one database: an account bound to one site manages member accounts and
its own site's accounts only, and binds accounts to its site only; it reads sign-in
links of those only; the administrator token's browser session works at the site where
it signed in; a member made staff is bound to the site that made them staff."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from support.factories import member
from support.signin import bearer_of, make_user, sign_in, sign_in_with_token

from server.context import ServerContext
from server.db import models
from server.people import accounts, logins
from server.people.sessions import COOKIE

pytestmark = pytest.mark.unit

PASSWORD = "correct horse battery"


def _account(client: TestClient, admin: dict[str, str], email: str, role: str, **extra: Any) -> int:
    made = client.post(
        "/api/users",
        json={"email": email, "name": email.split("@")[0], "role": role, "password": PASSWORD}
        | extra,
        headers=admin,
    )
    assert made.status_code == 201, made.text
    return made.json()["id"]  # type: ignore[no-any-return]


def _site_of(ctx: ServerContext, user_id: int) -> str | None:
    with ctx.reads() as s:
        return s.get(models.User, user_id).site_id  # type: ignore[union-attr]


@pytest.fixture
def people(ctx: ServerContext, kon: ServerContext, serve: Any, admin: dict[str, str]) -> Any:
    """Konstancin's own administrator (bound there) and the accounts around them: staff
    of each site, an administrator of every site, and a member's account."""
    at_kon = serve(kon)
    ids = {
        "kon_admin": _account(at_kon, admin, "szef@kon.example.org", "admin", site_id="konstancin"),
        "kon_staff": _account(at_kon, admin, "kasia@kon.example.org", "staff"),
        "pia_staff": _account(at_kon, admin, "ola@pia.example.org", "staff", site_id="piaseczno"),
        "boss": _account(at_kon, admin, "boss@example.org", "admin"),
    }
    with ctx.writes() as s, s.begin():
        ids["member_id"] = member(s, "Ewa Sieciowa", email="ewa@example.org").id
    ids["member"] = make_user(ctx, "member", "ewa@example.org", member_id=ids["member_id"]).id
    return ids


def test_a_bound_administrator_cannot_give_themselves_or_others_more_sites(ctx, kon, serve, people):
    client = serve(kon)
    mine = bearer_of(kon, people["kon_admin"])

    def patch(user: str, body: dict[str, Any]) -> Any:
        return client.patch(f"/api/users/{people[user]}", json=body, headers=mine)

    # more sites for themselves, or an account of every site or of the other site: 403
    assert patch("kon_admin", {"site_id": None}).status_code == 403
    assert patch("kon_admin", {"site_id": "piaseczno"}).status_code == 403
    assert patch("kon_staff", {"site_id": None}).status_code == 403
    assert patch("kon_staff", {"role": "admin", "site_id": None}).status_code == 403
    for user in ("boss", "pia_staff"):  # nor anything of those accounts
        assert patch(user, {"password": "a new password 1"}).status_code == 403
        assert client.get(f"/api/users/{people[user]}", headers=mine).status_code == 403
        assert client.delete(f"/api/users/{people[user]}", headers=mine).status_code == 403
    unbound = {"email": "nowy@example.org", "name": "Nowy", "role": "admin", "site_id": None}
    assert client.post("/api/users", json=unbound, headers=mine).status_code == 403
    other = unbound | {"role": "staff", "site_id": "piaseczno"}
    assert client.post("/api/users", json=other, headers=mine).status_code == 403

    with ctx.reads() as s:
        assert s.scalar(select(models.User).where(models.User.email == "nowy@example.org")) is None
        boss, pia = (s.get(models.User, people[u]) for u in ("boss", "pia_staff"))
        assert boss is not None and boss.disabled_at is None
        assert accounts.verify_password(boss, PASSWORD)
        assert pia is not None and accounts.verify_password(pia, PASSWORD)
    assert _site_of(ctx, people["kon_admin"]) == "konstancin"
    assert _site_of(ctx, people["kon_staff"]) == "konstancin"

    # its own site's accounts and members' it manages; what it makes is bound to its site
    assert patch("kon_staff", {"password": "a new password 1"}).status_code == 200
    assert patch("member", {"name": "Ewa S."}).status_code == 200
    del unbound["site_id"]
    made = client.post("/api/users", json=unbound, headers=mine)
    assert made.status_code == 201 and made.json()["site_id"] == "konstancin"
    listed = {u["email"] for u in client.get("/api/users", headers=mine).json()}
    assert listed == {
        "szef@kon.example.org",
        "kasia@kon.example.org",
        "ewa@example.org",
        "nowy@example.org",
    }
    # an administrator of every site still manages every account
    boss = bearer_of(kon, people["boss"])
    moved = client.patch(f"/api/users/{people['pia_staff']}", json={"site_id": None}, headers=boss)
    assert moved.status_code == 200 and moved.json()["site_id"] is None


def test_the_accounts_pages_keep_a_bound_administrator_to_its_site(ctx, kon, serve, people):
    client = serve(kon)
    csrf = sign_in(client, "szef@kon.example.org", PASSWORD)["X-CSRF-Token"]

    page = client.get("/reception/accounts?lang=en").text
    assert "kasia@kon.example.org" in page and "ola@pia.example.org" not in page
    assert 'value="*"' not in page and 'value="piaseczno"' not in page
    assert client.get(f"/reception/accounts/{people['pia_staff']}").status_code == 403

    form = {"csrf_token": csrf, "name": "kasia", "email": "kasia@kon.example.org"}
    refused = client.post(
        f"/reception/accounts/{people['kon_staff']}?lang=en",
        data=form | {"role": "admin", "site_id": "*"},
    )
    assert refused.status_code == 403 and 'role="alert"' in refused.text
    assert _site_of(ctx, people["kon_staff"]) == "konstancin"
    disabled = client.post(f"/reception/accounts/{people['boss']}/disable", data=form)
    assert disabled.status_code == 403
    made = client.post(
        "/reception/accounts",
        data={"csrf_token": csrf, "name": "Piotr", "email": "piotr@example.org", "role": "admin"},
    )
    assert made.status_code == 200  # followed to the list
    with ctx.reads() as s:
        new = s.scalar(select(models.User).where(models.User.email == "piotr@example.org"))
        assert new is not None and new.site_id == "konstancin"


def test_a_bound_reader_sees_sign_in_links_of_its_own_sites_accounts_only(ctx, kon, serve, people):
    client = serve(kon)
    mine = bearer_of(kon, people["kon_admin"])
    tokens = {}
    for email in ("kasia@kon.example.org", "ola@pia.example.org", "ewa@example.org"):
        assert client.post("/api/auth/magic-link", json={"email": email}).status_code == 202
        with ctx.reads() as s:
            last = s.scalars(select(models.Mail).order_by(models.Mail.id.desc())).first()
            assert last is not None and last.to_addr == email
            tokens[email] = last.body.split("token=")[1].split()[0]

    bodies = {m["to"]: m["body"] for m in client.get("/api/mail", headers=mine).json()}
    assert tokens["kasia@kon.example.org"] in bodies["kasia@kon.example.org"]
    assert tokens["ewa@example.org"] in bodies["ewa@example.org"]
    assert tokens["ola@pia.example.org"] not in bodies["ola@pia.example.org"]
    assert logins.REDACTED in bodies["ola@pia.example.org"]
    sign_in(client, "szef@kon.example.org", PASSWORD)
    page = client.get("/reception/accounts").text
    assert tokens["kasia@kon.example.org"] in page
    assert tokens["ola@pia.example.org"] not in page

    # an administrator of every site reads both staff's links
    boss = bearer_of(kon, people["boss"])
    bodies = {m["to"]: m["body"] for m in client.get("/api/mail", headers=boss).json()}
    assert all(token in bodies[email] for email, token in tokens.items())


def test_an_administrator_token_session_works_at_its_own_site_only(ctx, kon, serve):
    here = serve(ctx)
    sign_in_with_token(here)
    cookie = here.cookies[COOKIE]
    assert here.get("/api/bookings").status_code == 200
    with ctx.reads() as s:
        row = s.scalars(select(models.AuthSession)).one()
        assert (row.user_id, row.site_id) == (None, "piaseczno")

    there = serve(kon)
    there.cookies.set(COOKIE, cookie)
    assert there.get("/api/bookings").status_code == 401
    page = there.get("/reception/accounts?lang=en", follow_redirects=True)
    assert page.url.path == "/" and 'name="token"' in page.text  # the sign-in page
    assert 'name="csrf-token" content=""' in there.get("/").text

    again = serve(ctx)
    again.cookies.set(COOKIE, cookie)
    assert again.get("/api/bookings").status_code == 200


def test_a_member_made_staff_is_bound_to_the_site_that_made_them(ctx, kon, serve, admin, people):
    client = serve(kon)
    made_staff = client.patch(
        f"/api/users/{people['member']}", json={"role": "staff"}, headers=admin
    )
    assert made_staff.status_code == 200 and made_staff.json()["site_id"] == "konstancin"
    back = client.patch(
        f"/api/users/{people['member']}",
        json={"role": "member", "member_id": people["member_id"]},
        headers=admin,
    )
    assert back.status_code == 200 and back.json()["site_id"] is None
    told = client.patch(
        f"/api/users/{people['member']}", json={"role": "staff", "site_id": None}, headers=admin
    )
    assert told.status_code == 200 and told.json()["site_id"] is None
