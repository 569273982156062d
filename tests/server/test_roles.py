"""Who may call what: every route of the OpenAPI document, called with each role, against
the table below (a route whose roles change, or a new route, fails here until the table
says so); and a member kept to their own bookings, member record and access events."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from support.signin import bearer_of, make_user

ADMIN, STAFF, MEMBER, GATEWAY = "admin", "staff", "member", "gateway"
RUNS_SITE = {ADMIN, STAFF}
SIGNED_IN = {ADMIN, STAFF, MEMBER}
PUBLIC = {ADMIN, STAFF, MEMBER, GATEWAY, "anonymous"}
KEY = {"the key"}  # no role: a secret in the URL, so everyone is refused without it
OWN_KEY = {"the member's key"}  # the same, and a feed nobody's key opens is not found (404)

# (method, path) -> the roles that get past authentication and authorisation
EXPECTED: dict[tuple[str, str], set[str]] = {
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/metrics"): RUNS_SITE,
    ("POST", "/api/auth/login"): PUBLIC,
    ("POST", "/api/auth/magic-link"): PUBLIC,
    ("POST", "/api/auth/logout"): SIGNED_IN,
    ("GET", "/api/me"): SIGNED_IN,
    ("GET", "/api/me/calendar.ics"): OWN_KEY,
    ("POST", "/api/users"): RUNS_SITE,
    ("GET", "/api/users"): RUNS_SITE,
    ("GET", "/api/users/{user_id}"): RUNS_SITE,
    ("PATCH", "/api/users/{user_id}"): RUNS_SITE,
    ("DELETE", "/api/users/{user_id}"): RUNS_SITE,
    ("GET", "/api/tokens"): SIGNED_IN,
    ("POST", "/api/tokens"): SIGNED_IN,
    ("DELETE", "/api/tokens/{token_id}"): SIGNED_IN,
    ("GET", "/api/mail"): RUNS_SITE,
    ("POST", "/api/members"): RUNS_SITE,
    ("GET", "/api/members"): RUNS_SITE,
    ("PATCH", "/api/members/{member_id}"): RUNS_SITE,
    ("GET", "/api/members/{member_id}"): SIGNED_IN,
    ("GET", "/api/members/{member_id}/export"): {ADMIN},
    ("DELETE", "/api/members/{member_id}"): {ADMIN},
    ("POST", "/api/members/{member_id}/cards"): RUNS_SITE,
    ("GET", "/api/members/{member_id}/cards"): RUNS_SITE,
    ("DELETE", "/api/cards/{card_id}"): RUNS_SITE,
    ("POST", "/api/memberships"): RUNS_SITE,
    ("GET", "/api/members/{member_id}/memberships"): RUNS_SITE,
    ("GET", "/api/devices"): RUNS_SITE,
    ("GET", "/api/access-events"): SIGNED_IN,
    ("POST", "/api/bookings"): SIGNED_IN,
    ("GET", "/api/bookings"): SIGNED_IN,
    ("GET", "/api/bookings/{booking_id}"): SIGNED_IN,
    ("POST", "/api/bookings/{booking_id}/cancel"): SIGNED_IN,
    ("GET", "/api/rooms"): SIGNED_IN,
    ("GET", "/api/rooms/{room_id}"): SIGNED_IN,
    ("GET", "/api/rooms/{room_id}/availability"): SIGNED_IN,
    ("GET", "/api/members/{member_id}/no-shows"): RUNS_SITE,
    ("DELETE", "/api/no-shows/{no_show_id}"): RUNS_SITE,
    ("POST", "/api/members/{member_id}/lift-booking-suspension"): RUNS_SITE,
    ("GET", "/api/members/{member_id}/notifications"): SIGNED_IN,
    ("POST", "/api/waitlist"): SIGNED_IN,
    ("GET", "/api/waitlist"): SIGNED_IN,
    ("GET", "/api/waitlist/{entry_id}"): SIGNED_IN,
    ("DELETE", "/api/waitlist/{entry_id}"): SIGNED_IN,
    ("GET", "/api/offers"): SIGNED_IN,
    ("GET", "/api/offers/{offer_id}"): SIGNED_IN,
    ("POST", "/api/offers/{offer_id}/accept"): SIGNED_IN,
    ("GET", "/api/rooms/{room_id}/calendar.ics"): KEY,
    ("GET", "/api/rooms/{room_id}/calendar-keys"): RUNS_SITE,
    ("POST", "/api/rooms/{room_id}/calendar-keys"): RUNS_SITE,
    ("GET", "/api/rooms/{room_id}/panel-key"): RUNS_SITE,
    ("POST", "/api/rooms/{room_id}/panel-key"): RUNS_SITE,
    ("GET", "/api/reports/utilisation"): RUNS_SITE,
    ("GET", "/api/reports/utilisation.csv"): RUNS_SITE,
    ("GET", "/api/reports/utilisation.svg"): RUNS_SITE,
    ("POST", "/api/doors/{door}/unlock"): RUNS_SITE,
    ("PUT", "/api/doors/{door}/mode"): RUNS_SITE,
    ("POST", "/api/bookings/{booking_id}/release"): RUNS_SITE,
    ("POST", "/api/bookings/{booking_id}/end"): RUNS_SITE,
    ("GET", "/api/stream"): RUNS_SITE,
    ("GET", "/api/alerts"): RUNS_SITE,
    ("POST", "/api/alerts/{alert_id}/ack"): RUNS_SITE,
    ("GET", "/api/sites/{site}/policy"): {ADMIN, GATEWAY},
    ("GET", "/api/audit"): RUNS_SITE,
    ("GET", "/api/dead-letters"): RUNS_SITE,
    ("POST", "/api/dead-letters/{letter_id}/replay"): RUNS_SITE,
    ("POST", "/api/dead-letters/{letter_id}/discard"): RUNS_SITE,
}
UNKNOWN_ID = "987654"


@pytest.fixture
def callers(client, ctx, gateway):  # type: ignore[no-untyped-def]
    """Headers of each role (administrators, staff and members by personal tokens), and
    the member's id."""
    admin = make_user(ctx, "admin", "admin@example.org")
    staff = make_user(ctx, "staff", "staff@example.org")
    member = make_user(ctx, "member", "member@example.org", category="resident")
    return {
        ADMIN: bearer_of(ctx, admin.id),
        STAFF: bearer_of(ctx, staff.id),
        MEMBER: bearer_of(ctx, member.id),
        GATEWAY: gateway,
        "anonymous": {},
    }, member.member_id


def operations(client) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    document = client.app.openapi()
    return [(m.upper(), p) for p, item in document["paths"].items() for m in item]


def test_the_table_names_every_route_and_the_document_says_the_same(client) -> None:  # type: ignore[no-untyped-def]
    assert set(operations(client)) == set(EXPECTED)
    document = client.app.openapi()
    for (method, path), roles in EXPECTED.items():
        declared = document["paths"][path][method.lower()].get("x-roles")
        if roles in (PUBLIC, KEY, OWN_KEY):
            assert declared is None, (method, path)
        else:
            assert set(declared) == roles, (method, path)


def _url(method: str, path: str, member_id: int) -> str:
    """The path with the member's own id (a member may read their own), other ids unknown
    (and nothing deleted: erasing the member would end their account midway)."""

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "member_id" and method != "DELETE":
            return str(member_id)
        if name in ("room_id", "door"):
            return "sala-a"
        if name == "site":
            return "piaseczno"
        return UNKNOWN_ID

    return re.sub(r"\{(\w+)\}", fill, path)


def test_every_route_answers_each_role_as_the_table_says(client, callers) -> None:  # type: ignore[no-untyped-def]
    headers, member_id = callers
    wrong: list[str] = []
    for method, path in operations(client):
        allowed = EXPECTED[method, path]
        for role, given in headers.items():
            if path == "/api/stream" and role in allowed:
                continue  # an endless stream (test_stream.py); its refusals are checked
            body = {} if method in ("POST", "PUT", "PATCH") else None
            status = client.request(
                method, _url(method, path, member_id), json=body, headers=given
            ).status_code
            if allowed == KEY:
                ok = status == 403
            elif allowed == OWN_KEY:
                ok = status == 404
            elif role in allowed:
                ok = status not in (401, 403)
            elif role == "anonymous":
                ok = status == 401
            else:
                ok = status == 403
            if not ok:
                wrong.append(f"{role} {method} {path}: {status}")
    assert not wrong, "\n".join(wrong)


# -- a member, for their own only -------------------------------------------------------


def _booking_body(clock, member_id: int, hours: int = 2) -> dict:  # type: ignore[no-untyped-def]
    start = clock.now + timedelta(hours=hours)
    return {
        "room_id": "sala-a",
        "member_id": member_id,
        "start": start.isoformat(),
        "end": (start + timedelta(hours=1)).isoformat(),
    }


@pytest.fixture
def two_members(client, ctx, admin):  # type: ignore[no-untyped-def]
    """A member user (their headers and member id) and another member's id."""
    me = make_user(ctx, "member", "ola@example.org", category="resident")
    other = client.post("/api/members", json={"name": "Inny", "category": "ngo"}, headers=admin)
    return bearer_of(ctx, me.id), me.member_id, other.json()["id"]


def test_a_member_books_for_themselves_only(client, clock, two_members) -> None:  # type: ignore[no-untyped-def]
    mine, me, other = two_members
    refused = client.post("/api/bookings", json=_booking_body(clock, other), headers=mine)
    assert refused.status_code == 403
    made = client.post("/api/bookings", json=_booking_body(clock, me), headers=mine)
    assert made.status_code == 201, made.text
    assert made.json()["member_id"] == me


def test_a_member_sees_and_cancels_their_own_bookings_only(
    client, clock, admin, two_members
) -> None:  # type: ignore[no-untyped-def]
    mine, me, other = two_members
    theirs = client.post("/api/bookings", json=_booking_body(clock, other), headers=admin).json()
    attended = client.post(
        "/api/bookings",
        json={**_booking_body(clock, other, hours=4), "attendees": [me]},
        headers=admin,
    ).json()
    own = client.post("/api/bookings", json=_booking_body(clock, me, hours=6), headers=mine).json()
    listed = client.get("/api/bookings", headers=mine).json()
    assert sorted(b["id"] for b in listed) == sorted([attended["id"], own["id"]])
    assert client.get("/api/bookings", params={"member_id": other}, headers=mine).status_code == 403
    assert client.get(f"/api/bookings/{theirs['id']}", headers=mine).status_code == 403
    assert client.get(f"/api/bookings/{attended['id']}", headers=mine).status_code == 200
    assert client.post(f"/api/bookings/{theirs['id']}/cancel", headers=mine).status_code == 403
    assert client.post(f"/api/bookings/{attended['id']}/cancel", headers=mine).status_code == 403
    cancelled = client.post(f"/api/bookings/{own['id']}/cancel", headers=mine)
    assert cancelled.json()["status"] == "cancelled"
    assert client.get(f"/api/bookings/{theirs['id']}", headers=admin).json()["status"] == "booked"


def test_a_member_reads_their_own_record_notifications_and_access_events(
    client, two_members
) -> None:  # type: ignore[no-untyped-def]
    mine, me, other = two_members
    assert client.get(f"/api/members/{me}", headers=mine).json()["id"] == me
    assert client.get(f"/api/members/{other}", headers=mine).status_code == 403
    assert client.get(f"/api/members/{me}/notifications", headers=mine).status_code == 200
    assert client.get(f"/api/members/{other}/notifications", headers=mine).status_code == 403
    assert client.get("/api/access-events", headers=mine).status_code == 200
    refused = client.get("/api/access-events", params={"member_id": other}, headers=mine)
    assert refused.status_code == 403
    assert client.get("/api/members", headers=mine).status_code == 403


def test_a_member_joins_the_waitlist_for_themselves_only(client, clock, two_members) -> None:  # type: ignore[no-untyped-def]
    mine, me, other = two_members
    body = _booking_body(clock, other)
    assert client.post("/api/waitlist", json=body, headers=mine).status_code == 403
    joined = client.post("/api/waitlist", json={**body, "member_id": me}, headers=mine)
    assert joined.status_code == 201, joined.text
    assert [e["member_id"] for e in client.get("/api/waitlist", headers=mine).json()] == [me]
