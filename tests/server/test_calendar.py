"""A room's calendar feed (RFC 5545) and its keys."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from fastapi.testclient import TestClient
from icalendar import Calendar
from support.factories import add_booking, add_member

from server.context import ServerContext

if TYPE_CHECKING:
    from tests.server.conftest import FakeClock

Headers = dict[str, str]

START = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # the clock stands at 09:00 UTC that day
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def keys(client: TestClient, admin: Headers, room_id: str = "sala-a") -> dict[str, Any]:
    response = client.get(f"/api/rooms/{room_id}/calendar-keys", headers=admin)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def feed(client: TestClient, url: str) -> Calendar:
    response = client.get(url)  # no bearer token: the key is the credential
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    return Calendar.from_ical(response.content)


def events(cal: Calendar) -> dict[str, Any]:
    return {str(e["uid"]): e for e in cal.walk("VEVENT")}


@pytest.fixture
def meetings(ctx: ServerContext) -> dict[str, int]:
    """Bookings of Sala A in every status, one of Sala B, and two outside the window."""
    anna, bob = add_member(ctx, "Anna Kowalska", "ngo"), add_member(ctx, "Fundacja Bobra", "ngo")
    return {
        "booked": add_booking(ctx, anna, START, title="Klub szachowy"),
        "checked_in": add_booking(ctx, bob, START - 2 * HOUR, status="checked_in"),
        "completed": add_booking(ctx, anna, START - 3 * DAY, status="completed", title="Warsztaty"),
        "released": add_booking(ctx, bob, START + DAY, status="released", title="Nie przyszli"),
        "cancelled": add_booking(ctx, bob, START + 2 * DAY, status="cancelled", title="Odwołane"),
        "other_room": add_booking(ctx, anna, START, room_id="sala-b", title="Inna sala"),
        "too_old": add_booking(ctx, anna, START - 31 * DAY, status="completed"),
        "too_far": add_booking(ctx, anna, START + 181 * DAY),
        "anna": anna,
        "bob": bob,
    }


def test_keys_are_drawn_once_and_name_the_feed_urls(client: TestClient, admin: Headers) -> None:
    first = keys(client, admin)
    assert set(first) == {"room_id", "key", "staff_key", "url", "staff_url"}
    assert first["room_id"] == "sala-a"
    assert len(first["key"]) >= 32 and first["key"] != first["staff_key"]
    assert first["url"] == f"/api/rooms/sala-a/calendar.ics?key={first['key']}"
    assert first["staff_url"] == f"/api/rooms/sala-a/calendar.ics?key={first['staff_key']}"
    assert keys(client, admin) == first
    assert keys(client, admin, "sala-b")["key"] != first["key"]


def test_public_feed_shows_busy_times_only(
    client: TestClient, admin: Headers, meetings: dict[str, int], clock: FakeClock
) -> None:
    url = keys(client, admin)["url"]
    raw = client.get(url).content
    cal = Calendar.from_ical(raw)
    assert str(cal["version"]) == "2.0"
    assert "spacehub" in str(cal["prodid"])
    assert str(cal["x-wr-calname"]) == "Sala warsztatowa A — PiasecznoHUB"
    found = events(cal)
    wanted = [meetings[k] for k in ("booked", "checked_in", "completed")]
    assert set(found) == {f"booking-{i}@spacehub" for i in wanted}
    event = found[f"booking-{meetings['booked']}@spacehub"]
    assert event.decoded("dtstart") == START
    assert event.decoded("dtend") == START + HOUR
    assert event.decoded("dtstart").utcoffset() == timedelta(0)
    assert event.decoded("dtstamp") == clock.now
    assert {str(e["summary"]) for e in found.values()} == {"Zajęte / Busy"}
    text = raw.decode()
    for secret in ("Anna", "Kowalska", "Fundacja", "Klub szachowy", "Warsztaty", "DESCRIPTION"):
        assert secret not in text
    assert f"#{meetings['anna']}" not in text


def test_staff_feed_shows_titles_and_holders(
    client: TestClient, admin: Headers, meetings: dict[str, int]
) -> None:
    cal = feed(client, keys(client, admin)["staff_url"])
    assert str(cal["x-wr-calname"]) == "Sala warsztatowa A — PiasecznoHUB (staff)"
    found = events(cal)
    assert len(found) == 3
    booked = found[f"booking-{meetings['booked']}@spacehub"]
    assert str(booked["summary"]) == "Klub szachowy (Anna Kowalska)"
    assert "Anna Kowalska" in str(booked["description"])
    untitled = found[f"booking-{meetings['checked_in']}@spacehub"]
    assert str(untitled["summary"]) == "Fundacja Bobra"


def test_released_cancelled_and_other_bookings_are_absent(
    client: TestClient, admin: Headers, meetings: dict[str, int]
) -> None:
    found = events(feed(client, keys(client, admin)["staff_url"]))
    for absent in ("released", "cancelled", "other_room", "too_old", "too_far"):
        assert f"booking-{meetings[absent]}@spacehub" not in found, absent
    other = events(feed(client, keys(client, admin, "sala-b")["url"]))
    assert set(other) == {f"booking-{meetings['other_room']}@spacehub"}


def test_an_empty_room_is_an_empty_calendar(client: TestClient, admin: Headers) -> None:
    cal = feed(client, keys(client, admin, "sala-b")["url"])
    assert cal.walk("VEVENT") == []
    assert str(cal["version"]) == "2.0"


@pytest.mark.parametrize("query", ["?key=wrong", "?key=", "", "?key=%C5%BC%C3%B3%C5%82w"])
def test_a_wrong_or_missing_key_is_403(client: TestClient, admin: Headers, query: str) -> None:
    keys(client, admin)
    response = client.get(f"/api/rooms/sala-a/calendar.ics{query}")
    assert response.status_code == 403
    assert response.json() == {"detail": "invalid calendar key"}


def test_no_key_opens_a_room_whose_keys_were_never_drawn(client: TestClient) -> None:
    assert client.get("/api/rooms/sala-a/calendar.ics?key=").status_code == 403


def test_a_key_opens_only_its_own_room(client: TestClient, admin: Headers) -> None:
    key = keys(client, admin)["key"]
    keys(client, admin, "sala-b")
    assert client.get(f"/api/rooms/sala-b/calendar.ics?key={key}").status_code == 403


@pytest.mark.parametrize("room_id", ["nowhere", "coworking", "main"])
def test_unknown_or_unbookable_rooms_are_404(
    client: TestClient, admin: Headers, room_id: str
) -> None:
    key = keys(client, admin)["key"]
    assert client.get(f"/api/rooms/{room_id}/calendar.ics?key={key}").status_code == 404
    assert client.get(f"/api/rooms/{room_id}/calendar-keys", headers=admin).status_code == 404


def test_rotation_invalidates_the_old_keys(client: TestClient, admin: Headers) -> None:
    old = keys(client, admin)
    response = client.post("/api/rooms/sala-a/calendar-keys", headers=admin)
    assert response.status_code == 200, response.text
    new = response.json()
    assert new["key"] != old["key"] and new["staff_key"] != old["staff_key"]
    assert keys(client, admin) == new
    assert client.get(old["url"]).status_code == 403
    assert client.get(old["staff_url"]).status_code == 403
    feed(client, new["url"])
    feed(client, new["staff_url"])


def test_keys_need_the_admin_token(client: TestClient, gateway: Headers) -> None:
    for method in ("GET", "POST"):
        path = "/api/rooms/sala-a/calendar-keys"
        assert client.request(method, path).status_code == 401
        assert client.request(method, path, headers=gateway).status_code == 403


def test_drawing_and_rotating_the_keys_are_audited_without_the_keys(
    client: TestClient, admin: Headers
) -> None:
    first = keys(client, admin)
    keys(client, admin)  # read again: nothing changed, nothing recorded
    rotated = client.post("/api/rooms/sala-a/calendar-keys", headers=admin).json()
    entries = client.get("/api/audit?action=room.calendar_keys", headers=admin).json()
    assert [(e["actor"], e["target"], e["detail"]) for e in entries] == [
        ("admin-token", "sala-a", {"rotated": True}),
        ("admin-token", "sala-a", {"rotated": False}),
    ]
    text = str(entries)
    for secret in (first["key"], first["staff_key"], rotated["key"], rotated["staff_key"]):
        assert secret not in text
