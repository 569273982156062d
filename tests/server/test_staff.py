"""Staff actions: remote unlock, door modes and releasing a booking; who may do them, and
CSRF protection for the dashboard's cookie."""

from __future__ import annotations

import queue
import warnings
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select
from support.signin import sign_in_with_token

from protocol import topics
from protocol.messages import DoorCommand, DoorMode, decode
from server.app import create_app
from server.context import ServerContext
from server.db import meta, models
from server.settings import Settings

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

SITE = "piaseczno"


def _admin_token(client) -> str:  # type: ignore[no-untyped-def]
    return client.app.state.ctx.settings.admin_token  # type: ignore[no-any-return]


def _member(client, admin, name: str = "Olena Szewczenko") -> int:  # type: ignore[no-untyped-def]
    response = client.post("/api/members", json={"name": name, "category": "ngo"}, headers=admin)
    return int(response.json()["id"])


def _booking(client, admin, clock, *, minutes_ago: int = 5) -> dict:  # type: ignore[no-untyped-def]
    start = clock.now - timedelta(minutes=minutes_ago)
    response = client.post(
        "/api/bookings",
        json={
            "room_id": "sala-a",
            "member_id": _member(client, admin),
            "start": start.isoformat(),
            "end": (start + timedelta(hours=1)).isoformat(),
            "title": "Spotkanie fundacji",
        },
        headers=admin,
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def _sign_in(client) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return sign_in_with_token(client)


# -- who may act ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/doors/sala-a/unlock", None),
        ("PUT", "/api/doors/sala-a/mode", {"mode": "locked"}),
        ("POST", "/api/bookings/1/release", None),
    ],
)
def test_staff_actions_need_an_administrator(client, gateway, method, path, body) -> None:  # type: ignore[no-untyped-def]
    assert client.request(method, path, json=body).status_code == 401
    bad = {"Authorization": "Bearer nope"}
    assert client.request(method, path, json=body, headers=bad).status_code == 401
    assert client.request(method, path, json=body, headers=gateway).status_code == 403


def test_a_cookie_without_the_csrf_header_changes_nothing(client, ctx: ServerContext) -> None:  # type: ignore[no-untyped-def]
    csrf = _sign_in(client)
    refused = client.put("/api/doors/sala-a/mode", json={"mode": "locked"})
    assert refused.status_code == 403
    assert "X-CSRF-Token" in refused.json()["detail"]
    wrong = client.put(
        "/api/doors/sala-a/mode", json={"mode": "locked"}, headers={"X-CSRF-Token": "x"}
    )
    assert wrong.status_code == 403
    with ctx.reads() as session:
        assert session.get(models.Door, "sala-a").mode == "normal"  # type: ignore[union-attr]
    done = client.put("/api/doors/sala-a/mode", json={"mode": "locked"}, headers=csrf)
    assert done.status_code == 200
    assert client.get("/api/rooms").status_code == 200  # reading needs no header


def test_a_bearer_token_needs_no_csrf_header(client, admin) -> None:  # type: ignore[no-untyped-def]
    response = client.put("/api/doors/sala-a/mode", json={"mode": "unlocked"}, headers=admin)
    assert response.status_code == 200


def test_an_invalid_bearer_token_is_not_rescued_by_the_cookie(client) -> None:  # type: ignore[no-untyped-def]
    headers = {"Authorization": "Bearer nope", **_sign_in(client)}
    assert (
        client.put("/api/doors/sala-a/mode", json={"mode": "locked"}, headers=headers).status_code
        == 401
    )


def test_a_token_with_any_characters_is_a_401_not_a_500(client) -> None:  # type: ignore[no-untyped-def]
    headers = {"Authorization": "Bearer zażółć".encode()}  # raw UTF-8 bytes on the wire
    assert client.get("/api/rooms", headers=headers).status_code == 401
    assert client.get("/login", params={"token": "zażółć"}).status_code == 401


def test_signing_out_ends_the_session(client) -> None:  # type: ignore[no-untyped-def]
    csrf = _sign_in(client)["X-CSRF-Token"]
    old = client.cookies["spacehub_session"]
    assert client.get("/api/rooms").status_code == 200
    assert client.post("/logout", follow_redirects=False).status_code == 403  # no token
    signed_out = client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert signed_out.status_code == 303
    client.cookies.set("spacehub_session", old)  # replayed after signing out
    assert client.get("/api/rooms").status_code == 401


def test_a_session_expires(client, clock) -> None:  # type: ignore[no-untyped-def]
    _sign_in(client)
    clock.advance(hours=11, minutes=59)
    assert client.get("/api/rooms").status_code == 200
    clock.advance(minutes=1)
    assert client.get("/api/rooms").status_code == 401


# -- door modes -------------------------------------------------------------------------


def test_door_mode_is_stored_and_bumps_the_policy(client, admin, ctx: ServerContext) -> None:  # type: ignore[no-untyped-def]
    with ctx.reads() as session:
        before = meta.version(session)[1]
    response = client.put("/api/doors/main/mode", json={"mode": "unlocked"}, headers=admin)
    assert response.json() == {"door": "main", "device": "reader-main", "mode": "unlocked"}
    with ctx.reads() as session:
        assert session.get(models.Door, "main").mode == "unlocked"  # type: ignore[union-attr]
        assert meta.version(session)[1] == before + 1
    again = client.put("/api/doors/main/mode", json={"mode": "unlocked"}, headers=admin)
    assert again.status_code == 200
    with ctx.reads() as session:
        assert meta.version(session)[1] == before + 1  # nothing changed, nothing bumped


@pytest.mark.parametrize("body", [{"mode": "open"}, {}, {"mode": "locked", "why": "x"}])
def test_an_unknown_mode_is_422(client, admin, body) -> None:  # type: ignore[no-untyped-def]
    assert client.put("/api/doors/main/mode", json=body, headers=admin).status_code == 422


def test_an_unknown_door_is_404(client, admin) -> None:  # type: ignore[no-untyped-def]
    assert (
        client.put("/api/doors/nope/mode", json={"mode": "locked"}, headers=admin).status_code
        == 404
    )
    assert client.post("/api/doors/nope/unlock", headers=admin).status_code == 404


def test_unlock_without_a_broker_is_503(client, admin) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/api/doors/sala-a/unlock", headers=admin)
    assert response.status_code == 503


def test_a_locked_down_door_is_not_opened_remotely(client, admin) -> None:  # type: ignore[no-untyped-def]
    client.put("/api/doors/sala-a/mode", json={"mode": "locked"}, headers=admin)
    response = client.post("/api/doors/sala-a/unlock", headers=admin)
    assert response.status_code == 409
    assert "locked down" in response.json()["detail"]


# -- releasing a booking ----------------------------------------------------------------


def test_staff_release_gives_the_room_back_without_a_strike(
    client, admin, ctx: ServerContext, clock
) -> None:  # type: ignore[no-untyped-def]
    booking = _booking(client, admin, clock)
    response = client.post(f"/api/bookings/{booking['id']}/release", headers=admin)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "released"
    assert response.json()["released_at"] == clock.now.strftime("%Y-%m-%dT%H:%M:%SZ")
    with ctx.reads() as session:
        assert session.scalars(select(models.NoShow)).all() == []
        notes = session.scalars(select(models.Notification)).all()
        assert [n.kind for n in notes] == ["released_by_staff"]
        assert "Sala warsztatowa A" in notes[0].text_pl and "no-show" in notes[0].text_en
    room = client.get("/api/rooms/sala-a", headers=admin).json()
    assert room["current_booking"] is None
    card = client.get("/dashboard/fragments/rooms/sala-a?lang=en", headers=admin).text
    assert 'data-state="released"' in card and "Released" in card
    again = client.post(f"/api/bookings/{booking['id']}/release", headers=admin)
    assert again.status_code == 409


def test_a_checked_in_or_unknown_booking_is_not_released(
    client, admin, ctx: ServerContext, clock
) -> None:  # type: ignore[no-untyped-def]
    booking = _booking(client, admin, clock)
    with ctx.writes() as session, session.begin():
        session.get(models.Booking, booking["id"]).status = "checked_in"  # type: ignore[union-attr]
    assert client.post(f"/api/bookings/{booking['id']}/release", headers=admin).status_code == 409
    assert client.post("/api/bookings/999/release", headers=admin).status_code == 404


def test_the_dashboard_releases_with_its_cookie(client, admin, clock) -> None:  # type: ignore[no-untyped-def]
    booking = _booking(client, admin, clock)
    csrf = _sign_in(client)
    response = client.post(f"/api/bookings/{booking['id']}/release", headers=csrf)
    assert response.status_code == 200


# -- through a real broker --------------------------------------------------------------


@pytest.fixture
def live(settings: Settings, clock, embedded_broker) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    """The app with its MQTT door path connected to a broker."""
    live_settings = settings.model_copy(update={"mqtt_url": embedded_broker.url})
    context = ServerContext.create(live_settings, clock=clock)
    try:
        with TestClient(create_app(live_settings, ctx=context)) as test_client:
            assert test_client.app.state.ingest.wait_connected(10)  # type: ignore[attr-defined]
            yield test_client
    finally:
        context.close()


def test_remote_unlock_publishes_a_door_command(
    live, admin, clock, embedded_broker, mqtt_client
) -> None:  # type: ignore[no-untyped-def]
    commands: queue.Queue[DoorCommand] = queue.Queue()
    door = mqtt_client(embedded_broker.url, client_id="test-reader-sala-a")
    door.subscribe(
        topics.door_command(SITE, "reader-sala-a"),
        lambda m: commands.put(decode(DoorCommand, m.payload)),
    )
    door.start()
    assert door.wait_connected(10)
    response = live.post("/api/doors/sala-a/unlock", headers=admin)
    assert response.status_code == 202, response.text
    command = commands.get(timeout=5)
    assert command.command == "unlock"
    assert command.unlock_s == 5.0
    assert command.ts == clock.now
    assert command.expires == clock.now + timedelta(seconds=10)
    assert response.json()["command_id"] == command.id
    assert response.json()["device"] == "reader-sala-a"


def test_a_mode_change_reaches_the_door_as_a_retained_door_mode(
    live, admin, embedded_broker, mqtt_client
) -> None:  # type: ignore[no-untyped-def]
    modes: queue.Queue[str] = queue.Queue()
    door = mqtt_client(embedded_broker.url, client_id="test-reader-cowork")
    door.subscribe(
        topics.mode(SITE, "reader-cowork"), lambda m: modes.put(decode(DoorMode, m.payload).mode)
    )
    door.start()
    assert door.wait_connected(10)
    assert modes.get(timeout=5) == "normal"  # the retained mode, as a restarting door sees it
    assert (
        live.put("/api/doors/coworking/mode", json={"mode": "locked"}, headers=admin).status_code
        == 200
    )
    assert modes.get(timeout=3) == "locked"
    assert (
        live.put("/api/doors/coworking/mode", json={"mode": "normal"}, headers=admin).status_code
        == 200
    )
    assert modes.get(timeout=3) == "normal"
