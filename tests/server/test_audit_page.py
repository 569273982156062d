"""The audit trail shown (issue 10, item 4): every action has words in every language,
`GET /api/audit` filters by action and actor and pages with `Link: rel="next"`, and the
reception page `/reception/audit` shows who did what by name."""

from __future__ import annotations

import html as html_lib
import re
from typing import Any

import pytest

from server.context import ServerContext
from server.db import models
from server.notify.texts import CATALOGUE, LANGS
from server.people import audit

Headers = dict[str, str]


def sign_in(client) -> None:  # type: ignore[no-untyped-def]
    token = client.app.state.ctx.settings.admin_token
    assert client.get(f"/login?token={token}", follow_redirects=False).status_code == 303


def record(ctx: ServerContext, actor: str, action: str, target: str | None, **detail: Any) -> None:
    with ctx.writes() as session, session.begin():
        audit.record(
            session, actor=actor, action=action, target=target, detail=detail, now=ctx.clock()
        )


def add_user_and_token(ctx: ServerContext) -> tuple[int, int]:
    with ctx.writes() as session, session.begin():
        user = models.User(email="marta@example.org", name="Marta Wiśniewska", role="staff")
        session.add(user)
        session.flush()
        token = models.ApiToken(
            user_id=user.id, name="kiosk", token_hash="0" * 64, created_at=ctx.clock()
        )
        session.add(token)
        session.flush()
        return user.id, token.id


@pytest.mark.parametrize("action", audit.ACTIONS)
def test_every_action_has_words_in_every_language(action: str) -> None:
    words = [CATALOGUE[lang].get(f"audit.action.{action}") for lang in LANGS]
    assert all(w and w.strip() and w != action for w in words), words
    assert len(set(words)) == 3, words  # not copied from another language


def test_the_api_filters_by_action_and_actor_and_links_the_next_page(  # type: ignore[no-untyped-def]
    client, admin, ctx, clock
) -> None:
    for mode in ("locked", "unlocked", "normal", "locked", "normal"):
        clock.advance(minutes=1)
        assert client.put("/api/doors/main/mode", json={"mode": mode}, headers=admin).is_success
    record(ctx, "user:7", "alert.ack", "1")

    first = client.get("/api/audit", params={"action": "door.mode", "limit": 2}, headers=admin)
    assert [e["detail"]["mode"] for e in first.json()] == ["normal", "locked"]
    assert first.links["next"]["url"].startswith("http://testserver/api/audit?")
    seen = first.json()
    url: str | None = first.links["next"]["url"]
    while url:
        page = client.get(url, headers=admin)
        seen += page.json()
        url = page.links.get("next", {}).get("url")
    assert [e["detail"]["mode"] for e in seen] == [
        "normal",
        "locked",
        "normal",
        "unlocked",
        "locked",
    ]
    assert [e["id"] for e in seen] == sorted((e["id"] for e in seen), reverse=True)

    by_token = client.get("/api/audit", params={"actor": "admin-token"}, headers=admin).json()
    assert [e["action"] for e in by_token] == ["door.mode"] * 5
    [by_user] = client.get("/api/audit", params={"actor": "user:7"}, headers=admin).json()
    assert by_user["action"] == "alert.ack"
    assert client.get("/api/audit", params={"actor": "user:99"}, headers=admin).json() == []
    last = client.get("/api/audit", params={"limit": 6}, headers=admin)
    assert len(last.json()) == 6 and "link" not in last.headers


@pytest.mark.parametrize("query", ["action=door.open", "action=", "limit=0", "before=x"])
def test_bad_audit_filters_are_422(client, admin, query) -> None:  # type: ignore[no-untyped-def]
    response = client.get(f"/api/audit?{query}", headers=admin)
    assert response.status_code == 422, response.text
    [error] = response.json()["detail"]
    assert error["loc"][0] == "query"


WORDS = {
    "pl": ("Rejestr zmian", "Zmiana trybu drzwi", "administrator (token)"),
    "en": ("Audit trail", "Changed a door's mode", "administrator (token)"),
    "uk": ("Журнал змін", "Зміна режиму дверей", "адміністратор (токен)"),
}


SIGNED_IN = [CATALOGUE[lang]["audit.action.auth.sign_in"] for lang in LANGS]


def rows(html: str) -> list[str]:
    """The page's rows but the test's own signing in (which is audited too)."""
    body = html[html.index("<tbody>") :] if "<tbody>" in html else ""
    found = [html_lib.unescape(row) for row in re.findall(r"<tr>.*?</tr>", body, re.S)]
    return [row for row in found if not any(words in row for words in SIGNED_IN)]


@pytest.mark.parametrize("lang", LANGS)
def test_the_page_shows_changes_made_through_the_api_with_who_made_them(  # type: ignore[no-untyped-def]
    client, admin, clock, lang
) -> None:
    assert client.put("/api/doors/main/mode", json={"mode": "locked"}, headers=admin).is_success
    clock.advance(minutes=1)
    assert client.put("/api/doors/sala-a/mode", json={"mode": "unlocked"}, headers=admin).is_success
    sign_in(client)
    page = client.get("/reception/audit", params={"lang": lang})
    assert page.status_code == 200
    title, mode_words, admin_words = WORDS[lang]
    assert f'<html lang="{lang}">' in page.text and f"<h2>{title}</h2>" in page.text
    newest, older = rows(page.text)
    assert mode_words in newest and admin_words in newest
    assert "Sala warsztatowa A" in newest and "mode: unlocked" in newest
    assert mode_words in older and admin_words in older
    assert "Wejście główne" in older and "mode: locked" in older
    assert "10:00:00" in older and "10:01:00" in newest  # Warsaw time (clock: 09:00 UTC)
    assert 'href="/reception/audit" aria-current="page"' in page.text


def test_people_and_their_tokens_are_shown_by_name(client, ctx, clock) -> None:  # type: ignore[no-untyped-def]
    user_id, token_id = add_user_and_token(ctx)
    record(ctx, f"user:{user_id}", "booking.cancel", "12")
    clock.advance(minutes=1)
    record(ctx, f"token:{token_id}", "door.unlock", "sala-a", unlock_s=5)
    clock.advance(minutes=1)
    record(ctx, "user:999", "card.revoke", "3")  # a user the database does not hold
    sign_in(client)
    html = client.get("/reception/audit", params={"lang": "en"}).text
    unknown, by_token, by_user = rows(html)
    assert "Marta Wiśniewska" in by_user and "Cancelled a booking" in by_user
    assert "Marta Wiśniewska, token “kiosk”" in by_token and "Opened a door remotely" in by_token
    assert "Sala warsztatowa A" in by_token and "unlock_s: 5" in by_token
    assert "user:999" in unknown and "Revoked a card" in unknown
    # who can be chosen, by name
    assert f'<option value="user:{user_id}">Marta Wiśniewska</option>' in html

    only = client.get("/reception/audit", params={"lang": "en", "actor": f"user:{user_id}"})
    assert len(rows(only.text)) == 1 and "Cancelled a booking" in only.text
    only = client.get("/reception/audit", params={"lang": "en", "action": "door.unlock"})
    [row] = rows(only.text)
    assert "kiosk" in row
    assert '<option value="door.unlock" selected>' in only.text


def test_the_page_pages_back_and_refuses_bad_filters(client, ctx, clock) -> None:  # type: ignore[no-untyped-def]
    sign_in(client)  # first: its entry is the oldest, on the last page
    for n in range(60):
        clock.advance(seconds=1)
        record(ctx, "admin-token", "alert.ack", str(n + 1))
    first = client.get("/reception/audit", params={"lang": "en"}).text
    assert len(rows(first)) == 50 and "Back to the newest" not in first
    older = re.search(r'<a href="([^"]+)" rel="next">', first)
    assert older
    second = client.get(older[1].replace("&amp;", "&")).text
    assert len(rows(second)) == 10 and "Back to the newest" in second
    assert 'rel="next"' not in second
    targets = [re.findall(r'data-label="On what">(\d+)<', r)[0] for r in rows(first) + rows(second)]
    assert targets == [str(n) for n in range(60, 0, -1)]

    bad = client.get("/reception/audit", params={"lang": "en", "action": "door.open"})
    assert bad.status_code == 422
    assert '<p class="error" role="alert" id="filter-error">Unknown action.</p>' in bad.text
    assert rows(bad.text) == []


def test_the_page_is_for_staff(client, gateway) -> None:  # type: ignore[no-untyped-def]
    signed_out = client.get("/reception/audit", follow_redirects=False)  # to the sign-in page
    assert (signed_out.status_code, signed_out.headers["location"]) == (303, "/")
    assert client.get("/reception/audit", headers=gateway).status_code == 403


def test_a_long_detail_is_cut_short() -> None:
    from server.dashboard.reception.audit import short

    assert short({"mode": "locked", "nested": {"a": 1}, "n": 3}) == "mode: locked, n: 3"
    cut = short({"text": "x" * 500})
    assert len(cut) == 120 and cut.endswith("…")
    assert short(None) == ""
