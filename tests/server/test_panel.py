"""A room's door panel (`/panel/{room}?key=...`): what it shows in each state, that it
never names anybody, its key (staff read and replace it, audited; a wrong or old key is
a 404 like an unknown room) and its stream of changes."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from support.factories import add_booking, add_member
from support.signin import bearer_of, make_user

from protocol.messages import Motion, new_id
from server.context import ServerContext
from server.dashboard import panel
from server.live.kinds import BookingEvent, RoomEvent
from server.occupancy.readings import Reading, record_readings

Headers = dict[str, str]

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # the clock's: 10:00 in Warsaw
HOLDER = "Zofia Tajemnicza"  # a name no panel may show


def panel_key(client: TestClient, admin: Headers, room_id: str = "sala-a") -> dict[str, Any]:
    response = client.get(f"/api/rooms/{room_id}/panel-key", headers=admin)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def open_panel(client: TestClient, admin: Headers, room_id: str = "sala-a", **query: str) -> str:
    """The panel's page, opened with its key; fails unless it is a 200."""
    key = panel_key(client, admin, room_id)["key"]
    response = client.get(f"/panel/{room_id}", params={"key": key, **query})
    assert response.status_code == 200, response.text
    return response.text


def state_of(html: str) -> str:
    found = re.search(r'data-status="([a-z_]+)"', html)
    assert found, html
    return found.group(1)


@pytest.fixture
def holder(ctx: ServerContext) -> int:
    return add_member(ctx, HOLDER, "ngo")


def test_a_free_room_with_nothing_booked(client: TestClient, admin: Headers) -> None:
    response = client.get(
        f"/panel/sala-a?key={panel_key(client, admin)['key']}"
    )  # no session: the key is the credential
    html = response.text
    assert state_of(html) == "free"
    assert '<html lang="pl">' in html
    assert "Wolna" in html and "Dziś już bez rezerwacji" in html
    assert "Brak kolejnych rezerwacji" in html
    assert "Przyłóż kartę" not in html
    # the QR code, drawn on the server, with words beside it for those who cannot scan
    assert '<svg role="img"' in html and "<title>Kod QR: odnośnik do rezerwacji sali" in html
    assert 'href="http://127.0.0.1:8000/me/?room=sala-a"' in html
    # no inline script or style: the page's CSP allows neither
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert re.search(r"<script(?![^>]*\bsrc=)", html) is None
    assert " style=" not in html and "<style" not in html
    assert response.headers["referrer-policy"] == "no-referrer"


def test_booked_later_today_is_free_until_then(
    client: TestClient, admin: Headers, ctx: ServerContext, holder: int
) -> None:
    add_booking(ctx, holder, NOW + timedelta(hours=3), title="Klub szachowy")
    add_booking(ctx, holder, NOW + timedelta(days=1), title="Jutro")
    html = open_panel(client, admin)
    assert state_of(html) == "free"
    assert "Wolna do 13:00" in html
    assert re.search(r"Następna rezerwacja.*Klub szachowy.*13:00–14:00", html, re.S)
    assert "Jutro" not in html  # the next one only


def test_booked_now_counts_down_to_the_release(
    client: TestClient, admin: Headers, ctx: ServerContext, clock: Any, holder: int
) -> None:
    add_booking(ctx, holder, NOW - timedelta(minutes=5), title=None)
    html = open_panel(client, admin)
    assert state_of(html) == "booked"
    assert "Zarezerwowana" in html
    assert "Rezerwacja" in html  # an untitled booking's neutral word
    assert "Przyłóż kartę do czytnika" in html
    # released at its start plus the site's grace (15 min): 09:55 + 15 min = 10:10
    assert "zostanie zwolniona o 10:10" in html
    release = NOW + timedelta(minutes=10)
    assert f'data-release="{int(release.timestamp() * 1000)}"' in html
    assert "10 min" in html
    clock.advance(minutes=6, seconds=30)
    assert "4 min" in open_panel(client, admin)  # rounded up: 3.5 minutes left


def test_checked_in_is_in_use_without_a_countdown(
    client: TestClient, admin: Headers, ctx: ServerContext, holder: int
) -> None:
    add_booking(
        ctx, holder, NOW - timedelta(minutes=20), status="checked_in", title="Warsztaty ceramiki"
    )
    html = open_panel(client, admin)
    assert state_of(html) == "in_use"
    assert "Zajęta" in html and "Warsztaty ceramiki" in html
    assert "obecność potwierdzona" in html
    assert "data-release" not in html and "zostanie zwolniona" not in html


def test_people_seen_without_a_booking_is_in_use(
    client: TestClient, admin: Headers, ctx: ServerContext
) -> None:
    motion = Motion(id=new_id(), ts=NOW, motion=True, boot="test", seq=1)
    with ctx.writes() as session, session.begin():
        record_readings(session, site=ctx.site, readings=[Reading("pir-sala-a", motion)], now=NOW)
    html = open_panel(client, admin)
    assert state_of(html) == "in_use"
    assert "Teraz" not in html  # no booking holds it


def test_checked_in_early_holds_the_room_now(ctx: ServerContext, holder: int) -> None:
    from server.occupancy.panel import PanelStatus, panel_state

    add_booking(ctx, holder, NOW + timedelta(minutes=10), status="checked_in", title="Chór")
    add_booking(ctx, holder, NOW + timedelta(hours=3), title="Potem")
    with ctx.reads() as session:
        state = panel_state(session, site=ctx.site, room_id="sala-a", now=NOW)
    assert state.status == PanelStatus.IN_USE
    assert state.current is not None and state.current.title == "Chór"
    assert state.next is not None and state.next.title == "Potem"
    assert state.release_at is None
    assert state.changes_at == NOW + timedelta(minutes=70)  # the early one's end


def test_the_panel_knows_when_the_clock_alone_changes_it(
    ctx: ServerContext, clock: Any, holder: int
) -> None:
    from server.occupancy.panel import panel_state

    def changes_at() -> datetime:
        with ctx.reads() as session:
            return panel_state(session, site=ctx.site, room_id="sala-a", now=clock.now).changes_at

    assert changes_at() == datetime(2026, 3, 2, 23, 0, tzinfo=UTC)  # midnight in Warsaw
    add_booking(ctx, holder, NOW + timedelta(hours=3), title="Klub")
    assert changes_at() == NOW + timedelta(hours=3)  # it starts
    clock.advance(hours=3, minutes=5)
    assert changes_at() == NOW + timedelta(hours=3, minutes=15)  # released unless checked in


def test_titles_only_never_a_name(
    client: TestClient, admin: Headers, ctx: ServerContext, clock: Any, holder: int
) -> None:
    add_booking(ctx, holder, NOW - timedelta(minutes=5), title="Spotkanie rady")
    add_booking(ctx, holder, NOW + timedelta(hours=2), title=None)
    key = panel_key(client, admin)["key"]
    for lang in ("pl", "en", "uk"):
        page = client.get(f"/panel/sala-a?key={key}&lang={lang}").text
        part = client.get(f"/panel/sala-a/state?key={key}&lang={lang}").text
        for html in (page, part):
            assert "Spotkanie rady" in html
            assert HOLDER not in html and "Zofia" not in html and "Tajemnicza" not in html
            assert f"#{holder}" not in html


@pytest.mark.parametrize(
    ("lang", "free", "book"),
    [("en", "Free", "Book this room"), ("uk", "Вільна", "Забронюйте цю залу")],
)
def test_english_and_ukrainian(
    client: TestClient, admin: Headers, lang: str, free: str, book: str
) -> None:
    html = open_panel(client, admin, lang=lang)
    assert f'<html lang="{lang}">' in html
    assert free in html and book in html


def test_the_state_part_is_what_the_page_shows(
    client: TestClient, admin: Headers, ctx: ServerContext, holder: int
) -> None:
    add_booking(ctx, holder, NOW - timedelta(minutes=5), title="Próba chóru")
    key = panel_key(client, admin)["key"]
    part = client.get(f"/panel/sala-a/state?key={key}")
    assert part.status_code == 200
    assert part.text.lstrip().startswith('<section id="panel-now"')
    assert state_of(part.text) == "booked" and "Próba chóru" in part.text


def test_a_wrong_missing_or_old_key_is_404_like_an_unknown_room(
    client: TestClient, admin: Headers
) -> None:
    old = panel_key(client, admin)
    assert old["url"] == f"http://127.0.0.1:8000/panel/sala-a?key={old['key']}"
    assert panel_key(client, admin) == old  # drawn once
    assert panel_key(client, admin, "sala-b")["key"] != old["key"]
    rotated = client.post("/api/rooms/sala-a/panel-key", headers=admin)
    assert rotated.status_code == 200
    new = rotated.json()
    assert new["key"] != old["key"] and len(new["key"]) >= 32

    missing = client.get("/panel/nowhere?key=" + new["key"])
    assert missing.status_code == 404
    for url in (
        f"/panel/sala-a?key={old['key']}",
        "/panel/sala-a?key=guess",
        "/panel/sala-a",
        f"/panel/coworking?key={new['key']}",  # not bookable: no panel
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        assert response.text == missing.text  # nothing tells which it was
        assert "Nie ma takiego panelu" in response.text
    for part in ("state", "stream"):
        assert client.get(f"/panel/sala-a/{part}?key={old['key']}").status_code == 404
        assert client.get(f"/panel/nowhere/{part}?key={old['key']}").status_code == 404
    assert client.get(f"/panel/sala-a?key={new['key']}").status_code == 200
    assert client.get("/api/rooms/coworking/panel-key", headers=admin).status_code == 404


def test_only_staff_read_or_replace_the_key(
    client: TestClient, admin: Headers, ctx: ServerContext
) -> None:
    member = make_user(ctx, "member", "czlonek@example.org", category="resident")
    staff = make_user(ctx, "staff", "recepcja@example.org")
    as_member, as_staff = bearer_of(ctx, member.id), bearer_of(ctx, staff.id)
    for method in ("GET", "POST"):
        url = "/api/rooms/sala-a/panel-key"
        assert client.request(method, url).status_code == 401
        assert client.request(method, url, headers=as_member).status_code == 403
        assert client.request(method, url, headers=as_staff).status_code == 200


def test_drawing_and_replacing_the_key_are_audited(client: TestClient, admin: Headers) -> None:
    first = panel_key(client, admin)
    panel_key(client, admin)  # read again: nothing changed, nothing recorded
    replaced = client.post("/api/rooms/sala-a/panel-key", headers=admin).json()
    entries = [
        e for e in client.get("/api/audit", headers=admin).json() if e["action"] == "room.panel_key"
    ]
    assert [(e["target"], e["detail"]) for e in entries] == [
        ("sala-a", {"rotated": True}),
        ("sala-a", {"rotated": False}),
    ]
    text = str(entries)
    assert first["key"] not in text and replaced["key"] not in text  # never the secret


def test_the_key_stays_out_of_the_access_log() -> None:
    from server.dashboard import RedactTokens

    record = _access_record("/panel/sala-a?key=s3cret&lang=pl")
    assert RedactTokens().filter(record)
    assert record.args is not None and "s3cret" not in str(record.args)


def _access_record(path: str) -> Any:
    import logging

    return logging.LogRecord(
        "uvicorn.access", logging.INFO, "", 0, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:1", "GET", path, "1.1", 200), None,
    )  # fmt: skip


# -- the stream --------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def quick_stream(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(panel, "HEARTBEAT_S", 0.2)
    monkeypatch.setattr(panel, "POLL_S", 0.05)
    monkeypatch.setattr(panel, "KEY_CHECK_S", 0.1)


def _next_event(lines: Any, deadline: float = 10.0) -> str | None:
    """The `event:` of the next event (None: the stream ended), past comments."""
    end = time.monotonic() + deadline
    for line in lines:
        assert time.monotonic() < end, "no event came"
        if line.startswith("event: "):
            return str(line.removeprefix("event: "))
    return None


def test_the_stream_says_when_this_room_changes_and_ends_with_its_key(
    client: TestClient, admin: Headers, ctx: ServerContext
) -> None:
    key = panel_key(client, admin)["key"]
    with client.stream("GET", f"/panel/sala-a/stream?key={key}") as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = response.iter_lines()
        assert next(lines) == f"retry: {panel.RETRY_MS}"
        # another room's change is not this panel's business; a tap's name never comes
        ctx.events.publish(
            RoomEvent(id="sala-b", occupied=True, people=3, last_motion=None, over_capacity=False)
        )
        checked_in = BookingEvent(
            booking_id=1, room_id="sala-a", change="check_in", status="checked_in", by="tap"
        )
        ctx.events.publish(checked_in)
        assert _next_event(lines) == "change"
        assert next(lines).startswith("id: ")
        assert next(lines) == "data: {}"
        client.post("/api/rooms/sala-a/panel-key", headers=admin)
        assert _next_event(lines) is None  # the old key's stream has ended
    deadline = time.monotonic() + 5
    while ctx.events.listeners and time.monotonic() < deadline:
        time.sleep(0.02)
    assert ctx.events.listeners == 0


# -- the reception desk's page -----------------------------------------------------------


def test_the_desk_lists_the_links_and_replaces_a_key(client: TestClient, admin: Headers) -> None:
    from support.signin import sign_in_with_token

    assert client.get("/reception/panels", follow_redirects=False).status_code in (401, 303)
    sign_in_with_token(client)
    page = client.get("/reception/panels")
    assert page.status_code == 200
    assert 'href="/reception/panels" aria-current="page"' in page.text
    old = panel_key(client, admin)
    assert f'href="{old["url"]}"' in page.text
    assert panel_key(client, admin, "sala-b")["url"] in page.text
    assert "Strefa coworkingu" not in page.text.split("<main", 1)[1]  # not bookable
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None

    refused = client.post("/reception/panels/sala-a/rotate", data={"csrf_token": "wrong"})
    assert refused.status_code == 403
    assert panel_key(client, admin) == old

    done = client.post(
        "/reception/panels/sala-a/rotate?lang=pl",
        data={"csrf_token": token.group(1)},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert done.headers["location"] == "/reception/panels?rotated=sala-a&lang=pl"
    shown = client.get(done.headers["location"]).text
    assert 'role="status"' in shown and "Sala warsztatowa A ma nowy klucz panelu" in shown
    new = panel_key(client, admin)
    assert new["key"] != old["key"] and new["url"] in shown
    assert client.get(f"/panel/sala-a?key={old['key']}").status_code == 404
    unknown = client.post("/reception/panels/coworking/rotate", data={"csrf_token": token.group(1)})
    assert unknown.status_code == 404
