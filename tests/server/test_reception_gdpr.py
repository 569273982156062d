"""A member's GDPR export and erasure at the reception desk: administrators only (as on the
API), the export a JSON file to download, the erasure after a confirmation page, a form
with the session's CSRF token; both audited."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from support.factories import row
from support.signin import make_user, sign_in, sign_in_with_token

from server.context import ServerContext
from server.db import models

Headers = dict[str, str]
CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


@pytest.fixture
def anna(client: TestClient, admin: Headers) -> int:
    """A member with a card."""
    body = {"name": "Anna Kowalska", "email": "anna@example.org", "category": "resident"}
    member = client.post("/api/members", json=body, headers=admin).json()
    card = {"uid": "04A1B2C3D4E5F6", "label": "niebieska"}
    assert client.post(f"/api/members/{member['id']}/cards", json=card, headers=admin).is_success
    return int(member["id"])


def audited(ctx: ServerContext, action: str) -> list[tuple[str, str | None]]:
    entries = models.AuditEntry
    with ctx.reads() as session:
        stmt = select(entries.actor, entries.target).where(entries.action == action)
        return [(actor, target) for actor, target in session.execute(stmt)]


def member(ctx: ServerContext, member_id: int) -> models.Member:
    return row(ctx, models.Member, member_id)


def test_an_administrator_downloads_the_member_s_data(
    client: TestClient, ctx: ServerContext, anna: int
) -> None:
    sign_in_with_token(client)
    page = client.get(f"/reception/members/{anna}?lang=en").text
    assert "Personal data (GDPR)" in page
    assert f'href="/reception/members/{anna}/export"' in page
    assert f'href="/reception/members/{anna}/erase?lang=en"' in page
    got = client.get(f"/reception/members/{anna}/export")
    assert got.status_code == 200 and got.headers["content-type"] == "application/json"
    assert got.headers["content-disposition"] == f'attachment; filename="member-{anna}.json"'
    held = json.loads(got.content)
    assert held["member"]["name"] == "Anna Kowalska"
    assert [c["label"] for c in held["cards"]] == ["niebieska"]
    assert "04A1B2C3D4E5F6" not in got.text
    assert audited(ctx, "member.export") == [("admin-token", str(anna))]
    assert client.get("/reception/members/999/export").status_code == 404


def test_an_administrator_erases_a_member_after_confirming(
    client: TestClient, ctx: ServerContext, anna: int
) -> None:
    sign_in_with_token(client)
    confirm = client.get(f"/reception/members/{anna}/erase")
    assert confirm.status_code == 200
    assert "Usunąć dane osobowe: Anna Kowalska?" in confirm.text  # Polish by default
    assert "Tego nie można cofnąć." in confirm.text
    assert (
        "Erase the personal data of Anna Kowalska?"
        in client.get(f"/reception/members/{anna}/erase?lang=en").text
    )
    assert (
        "Видалити персональні дані" in client.get(f"/reception/members/{anna}/erase?lang=uk").text
    )
    form = {"csrf_token": CSRF.findall(confirm.text)[-1]}
    path = f"/reception/members/{anna}/erase?lang=en"
    # without the form's CSRF token: refused, nothing changes
    refused = client.post(path, data={}, follow_redirects=False)
    assert refused.status_code == 403 and member(ctx, anna).erased_at is None

    done = client.post(path, data=form, follow_redirects=False)
    assert done.status_code == 303
    assert done.headers["location"] == f"/reception/members/{anna}?lang=en"
    erased = member(ctx, anna)
    assert (erased.name, erased.email, erased.erased_at is not None) == (f"#{anna}", None, True)
    with ctx.reads() as session:
        assert session.scalars(select(models.Card).where(models.Card.member_id == anna)).all() == []
    assert audited(ctx, "member.erase") == [("admin-token", str(anna))]
    page = client.get(f"/reception/members/{anna}?lang=en").text
    assert "Erase personal data" not in page and "Data erased" in page
    # again: nothing changes, nothing more is recorded
    assert client.post(path, data=form, follow_redirects=False).status_code == 303
    assert audited(ctx, "member.erase") == [("admin-token", str(anna))]
    already = client.get(f"/reception/members/{anna}/erase?lang=en").text
    assert "has been erased already" in already and "csrf_token" not in already.split("<main")[1]


def test_staff_neither_see_nor_use_them(client: TestClient, ctx: ServerContext, anna: int) -> None:
    make_user(ctx, "staff", "desk@example.org")
    sign_in(client, "desk@example.org", "correct horse battery")
    page = client.get(f"/reception/members/{anna}?lang=en")
    assert page.status_code == 200
    assert "GDPR" not in page.text and "/export" not in page.text and "/erase" not in page.text
    form = {"csrf_token": CSRF.findall(page.text)[-1]}
    assert client.get(f"/reception/members/{anna}/export").status_code == 403
    assert client.get(f"/reception/members/{anna}/erase").status_code == 403
    erase = client.post(f"/reception/members/{anna}/erase", data=form, follow_redirects=False)
    assert erase.status_code == 403
    assert member(ctx, anna).erased_at is None
    assert audited(ctx, "member.export") == [] and audited(ctx, "member.erase") == []


def test_signed_out_they_lead_to_the_sign_in_page(client: TestClient, anna: int) -> None:
    for path in (f"/reception/members/{anna}/export", f"/reception/members/{anna}/erase"):
        answer = client.get(path, follow_redirects=False)
        assert (answer.status_code, answer.headers["location"]) == (303, "/")
