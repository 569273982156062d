"""The dashboard's pages: sign-in, the screen in three languages, its fragments, its files."""

from __future__ import annotations

import re
from datetime import timedelta
from html.parser import HTMLParser

import pytest

from server.people.sessions import COOKIE


def _admin_token(client) -> str:  # type: ignore[no-untyped-def]
    return client.app.state.ctx.settings.admin_token  # type: ignore[no-any-return]


def _sign_in(client) -> None:  # type: ignore[no-untyped-def]
    assert (
        client.get(f"/login?token={_admin_token(client)}", follow_redirects=False).status_code
        == 303
    )


class _Outline(HTMLParser):
    """The bits of a page the tests look at: lang, ids, labelled inputs, buttons."""

    def __init__(self) -> None:
        super().__init__()
        self.lang: str | None = None
        self.ids: list[str] = []
        self.labels: set[str] = set()
        self.inputs: list[str] = []
        self.buttons = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "html":
            self.lang = a.get("lang")
        if a.get("id"):
            self.ids.append(a["id"])  # type: ignore[arg-type]
        if tag == "label" and a.get("for"):
            self.labels.add(a["for"])  # type: ignore[arg-type]
        if tag == "input" and a.get("type") != "hidden":
            self.inputs.append(a.get("id") or "")
        if tag == "button":
            self.buttons += 1


def _outline(html: str) -> _Outline:
    parser = _Outline()
    parser.feed(html)
    return parser


def test_without_a_session_the_sign_in_page_in_polish(client) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/")
    assert page.status_code == 200
    outline = _outline(page.text)
    assert outline.lang == "pl"
    assert "Token administratora" in page.text
    assert outline.inputs and set(outline.inputs) <= outline.labels  # every field labelled
    assert "Sale" not in page.text  # nothing of the building before signing in


def test_signing_in_sets_a_lax_http_only_cookie(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get(f"/login?token={_admin_token(client)}", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie  # a sign-in link opened from webmail lands signed in
    assert "Path=/" in cookie
    assert _admin_token(client) not in cookie


def test_the_sign_in_form_posts_the_token(client) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/login", data={"token": _admin_token(client)}, follow_redirects=False)
    assert response.status_code == 303
    assert COOKIE in response.cookies


@pytest.mark.parametrize("token", ["wrong", "", "gateway-token-0123456789abcdef"])
def test_a_bad_token_is_a_401_page(client, token: str) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/login", params={"token": token, "lang": "en"})
    assert response.status_code == 401
    assert "That token is not valid" in response.text
    assert COOKIE not in response.cookies


def test_login_without_a_token_goes_to_the_sign_in_page(client) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/login", follow_redirects=False).headers["location"] == "/"


def test_the_dashboard_shows_every_room(client, admin, clock) -> None:  # type: ignore[no-untyped-def]
    member = client.post(
        "/api/members", json={"name": "Olena Szewczenko", "category": "ngo"}, headers=admin
    ).json()
    start = clock.now + timedelta(hours=2)
    client.post(
        "/api/bookings",
        json={
            "room_id": "sala-b",
            "member_id": member["id"],
            "start": start.isoformat(),
            "end": (start + timedelta(hours=1)).isoformat(),
            "title": "Klub <b>planszówek</b>",
        },
        headers=admin,
    )
    _sign_in(client)
    page = client.get("/")
    assert page.status_code == 200
    outline = _outline(page.text)
    rooms = re.findall(r'<li class="room-item" id="room-([a-z0-9_-]+)"', page.text)
    assert rooms == ["sala-a", "sala-b", "coworking"]  # the entrance is the building's
    assert '<div class="building-card" id="room-main"' in page.text
    for section in ("alerts", "building", "rooms", "feed", "evacuation", "devices", "utilisation"):
        assert section in outline.ids
    assert page.text.count(">Wolna</span>") == 3
    assert "Klub &lt;b&gt;planszówek&lt;/b&gt;" in page.text  # escaped
    assert "12:00–13:00" in page.text  # the clock says 10:00 in Warsaw; booked 2 h later
    assert "unlock-sala-a" in outline.ids
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert page.headers["cache-control"] == "no-store"


def test_the_language_switch_is_remembered(client) -> None:  # type: ignore[no-untyped-def]
    _sign_in(client)
    english = client.get("/?lang=en")
    assert _outline(english.text).lang == "en"
    assert "Rooms" in english.text and "Open remotely" in english.text
    assert client.get("/").text.count('lang="en"') >= 2  # the cookie keeps English
    ukrainian = client.get("/?lang=uk")
    assert _outline(ukrainian.text).lang == "uk"
    assert "Відчинити дистанційно" in ukrainian.text
    assert _outline(client.get("/?lang=xx").text).lang == "uk"  # unknown: the last choice


@pytest.mark.parametrize(
    "part",
    [
        "rooms",
        "rooms/sala-a",
        "rooms/main",
        "alerts",
        "feed",
        "evacuation",
        "devices",
        "devices/reader-sala-a",
    ],
)
def test_fragments_need_a_session_and_render(client, part: str) -> None:  # type: ignore[no-untyped-def]
    assert client.get(f"/dashboard/fragments/{part}").status_code == 401
    _sign_in(client)
    response = client.get(f"/dashboard/fragments/{part}?lang=en")
    assert response.status_code == 200
    assert re.match(r'\s*<(li|ul|div|tr) [^>]*id="[a-z-]+"', response.text)


def test_an_unknown_room_fragment_is_404(client) -> None:  # type: ignore[no-untyped-def]
    _sign_in(client)
    assert client.get("/dashboard/fragments/rooms/nope").status_code == 404
    assert client.get("/dashboard/fragments/devices/nope").status_code == 404


def test_a_device_fragment_is_its_row_of_the_devices_table(client) -> None:  # type: ignore[no-untyped-def]
    _sign_in(client)
    table = client.get("/dashboard/fragments/devices?lang=en").text
    row = client.get("/dashboard/fragments/devices/pir-sala-b?lang=en").text.strip()
    assert row.startswith('<tr class="offline" id="device-pir-sala-b" data-device="pir-sala-b">')
    assert row in table  # the same markup the table has, so a swap changes nothing else
    devices = client.app.state.ctx.site.devices
    assert table.count("<tr ") == table.count('id="device-') == len(devices)  # a row each


def test_the_two_static_files(client) -> None:  # type: ignore[no-untyped-def]
    css = client.get("/dashboard/static/dashboard.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    js = client.get("/dashboard/static/dashboard.js")
    assert js.status_code == 200 and "EventSource" in js.text
    cached = client.get(
        "/dashboard/static/dashboard.js", headers={"If-None-Match": js.headers["etag"]}
    )
    assert cached.status_code == 304
    assert client.get("/dashboard/static/..%2Fi18n.py").status_code == 404
    assert client.get("/dashboard/static/state.py").status_code == 404


def test_the_sign_in_token_is_kept_out_of_the_access_log(client) -> None:  # type: ignore[no-untyped-def]
    import logging

    from server.dashboard import RedactTokens

    access = logging.getLogger("uvicorn.access")
    assert any(isinstance(f, RedactTokens) for f in access.filters)  # installed by create_app
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/login?lang=en&token=s3cret&x=1", "1.1", 303),
        None,
    )
    RedactTokens().filter(record)
    assert record.getMessage() == (
        '127.0.0.1:5000 - "GET /login?lang=en&token=[redacted]&x=1 HTTP/1.1" 303'
    )


def test_an_early_check_in_stays_the_next_booking(client, admin, ctx, clock) -> None:  # type: ignore[no-untyped-def]
    from server.dashboard import views
    from server.db import models

    member = client.post(
        "/api/members", json={"name": "Piotr Wiśniewski", "category": "resident"}, headers=admin
    ).json()
    start = clock.now + timedelta(minutes=10)
    booking = client.post(
        "/api/bookings",
        json={
            "room_id": "sala-a",
            "member_id": member["id"],
            "start": start.isoformat(),
            "end": (start + timedelta(hours=1)).isoformat(),
        },
        headers=admin,
    ).json()
    with ctx.writes() as session, session.begin():
        session.get(models.Booking, booking["id"]).status = "checked_in"  # arrived early
    with ctx.reads() as session:
        (room,) = views.rooms(session, ctx, room_id="sala-a")
    assert room.current is None
    assert room.next is not None and room.next.id == booking["id"]
    assert room.next.status == "checked_in" and not room.next.can_cancel
    assert room.next.holder == "Piotr Wiśniewski"


def test_a_booked_current_booking_can_be_released_or_cancelled(client, admin, clock) -> None:  # type: ignore[no-untyped-def]
    member = client.post(
        "/api/members", json={"name": "Olena Szewczenko", "category": "ngo"}, headers=admin
    ).json()
    start = clock.now - timedelta(minutes=5)
    booking = client.post(
        "/api/bookings",
        json={
            "room_id": "sala-a",
            "member_id": member["id"],
            "start": start.isoformat(),
            "end": (start + timedelta(hours=1)).isoformat(),
        },
        headers=admin,
    ).json()
    card = client.get("/dashboard/fragments/rooms/sala-a", headers=admin).text
    assert 'data-state="booked_waiting"' in card
    assert f'id="release-{booking["id"]}"' in card and f'id="cancel-{booking["id"]}"' in card
    assert 'aria-label="Zwolnij salę teraz: Sala warsztatowa A, 09:55–10:55"' in card
