"""The bookings and rooms HTTP API (docs/api.md), through the app on a real SQLite file."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from server.context import ServerContext
from server.db import meta, models

if TYPE_CHECKING:
    from tests.server.conftest import FakeClock

Headers = dict[str, str]

BOOKING_FIELDS = {
    "id",
    "room_id",
    "member_id",
    "start",
    "end",
    "status",
    "title",
    "attendees",
    "public",
    "price",
    "currency",
    "source",
    "series_id",
    "created_at",
    "checked_in_at",
    "released_at",
    "cancelled_at",
    "completed_at",
}
ENDPOINTS = [
    ("POST", "/api/bookings"),
    ("GET", "/api/bookings"),
    ("GET", "/api/bookings/1"),
    ("POST", "/api/bookings/1/cancel"),
    ("POST", "/api/bookings/1/end"),
    ("GET", "/api/rooms"),
    ("GET", "/api/rooms/sala-a"),
    ("GET", "/api/rooms/sala-a/availability?from=2026-03-03T00:00:00Z&to=2026-03-04T00:00:00Z"),
]


def new_member(client: TestClient, admin: Headers, category: str = "resident", **kw: Any) -> int:
    body = {"name": "Anna Kowalska", "category": category} | kw
    response = client.post("/api/members", json=body, headers=admin)
    assert response.status_code == 201, response.text
    return response.json()["id"]  # type: ignore[no-any-return]


def post_booking(client: TestClient, admin: Headers, **body: Any) -> Any:
    fields = {
        "room_id": "sala-a",
        "start": "2026-03-03T10:00:00+01:00",
        "end": "2026-03-03T12:00:00+01:00",
    }
    return client.post("/api/bookings", json=fields | body, headers=admin)


def booked(client: TestClient, admin: Headers, **body: Any) -> dict[str, Any]:
    response = post_booking(client, admin, **body)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def set_status(ctx: ServerContext, booking_id: int, status: str) -> None:
    with ctx.writes() as session, session.begin():
        session.execute(
            update(models.Booking).where(models.Booking.id == booking_id).values(status=status)
        )


def policy_n(ctx: ServerContext) -> int:
    with ctx.reads() as session:
        return meta.version(session)[1]


# --- who may call ----------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_token_required_and_admin_only(
    client: TestClient, gateway: Headers, method: str, path: str
) -> None:
    assert client.request(method, path, json={}).status_code == 401
    assert client.request(method, path, headers=gateway, json={}).status_code == 403


# --- create, read, list, cancel ------------------------------------------------------------


def test_create_read_cancel(client: TestClient, admin: Headers, ctx: ServerContext) -> None:
    holder = new_member(client, admin)
    guest = new_member(client, admin, name="Jan")
    before = policy_n(ctx)
    created = booked(client, admin, member_id=holder, title=" Zebranie ", attendees=[guest])
    assert policy_n(ctx) == before + 1
    assert set(created) == BOOKING_FIELDS
    assert created | {"id": 0} == {
        "id": 0,
        "room_id": "sala-a",
        "member_id": holder,
        "start": "2026-03-03T09:00:00Z",
        "end": "2026-03-03T11:00:00Z",
        "status": "booked",
        "title": "Zebranie",
        "attendees": [guest],
        "public": False,
        "price": "0.00",
        "currency": "PLN",
        "source": "api",
        "series_id": None,
        "created_at": "2026-03-02T09:00:00Z",
        "checked_in_at": None,
        "released_at": None,
        "cancelled_at": None,
        "completed_at": None,
    }
    got = client.get(f"/api/bookings/{created['id']}", headers=admin)
    assert got.status_code == 200
    assert got.json() == created

    cancelled = client.post(f"/api/bookings/{created['id']}/cancel", headers=admin)
    assert cancelled.status_code == 200
    assert cancelled.json() == created | {
        "status": "cancelled",
        "cancelled_at": "2026-03-02T09:00:00Z",
    }
    assert policy_n(ctx) == before + 2
    again = client.post(f"/api/bookings/{created['id']}/cancel", headers=admin)
    assert again.status_code == 409
    assert again.json() == {"detail": f"booking {created['id']} is cancelled"}


def audit_of(ctx: ServerContext, target: int) -> list[tuple[str, str, dict[str, Any]]]:
    """The audit entries of booking `target` (a member may have the same id)."""
    with ctx.reads() as session:
        rows = session.query(models.AuditEntry).filter_by(target=str(target))
        rows = rows.filter(models.AuditEntry.action.startswith("booking."))
        return [(e.actor, e.action, e.detail or {}) for e in rows.order_by(models.AuditEntry.id)]


def test_create_and_cancel_are_audited(client: TestClient, admin: Headers) -> None:
    created = booked(client, admin, member_id=new_member(client, admin))
    assert client.post(f"/api/bookings/{created['id']}/cancel", headers=admin).status_code == 200
    (made, cancelled) = audit_of(client.app.state.ctx, created["id"])  # type: ignore[attr-defined]
    assert made[:2] == ("admin-token", "booking.create")
    assert made[2]["bookings"] == [created["id"]]
    assert made[2]["start"] == "2026-03-03T09:00:00Z"
    assert cancelled == ("admin-token", "booking.cancel", {"room_id": "sala-a"})


def test_end_early_ends_a_checked_in_booking_now(
    client: TestClient, admin: Headers, ctx: ServerContext, clock: FakeClock
) -> None:
    created = booked(
        client,
        admin,
        member_id=new_member(client, admin),
        start="2026-03-02T10:00:00+01:00",
        end="2026-03-02T13:00:00+01:00",
    )
    path = f"/api/bookings/{created['id']}/end"
    refused = client.post(path, headers=admin)  # booked, not checked in
    assert (refused.status_code, refused.json()) == (
        409,
        {"detail": f"booking {created['id']} is booked"},
    )
    set_status(ctx, created["id"], "checked_in")
    clock.advance(minutes=20)
    before = policy_n(ctx)
    ended = client.post(path, headers=admin)
    assert ended.status_code == 200, ended.text
    assert (ended.json()["status"], ended.json()["end"], ended.json()["completed_at"]) == (
        "completed",
        "2026-03-02T09:20:00Z",
        "2026-03-02T09:20:00Z",
    )
    assert policy_n(ctx) == before + 1
    assert [a for _, a, _ in audit_of(ctx, created["id"])] == ["booking.create", "booking.end"]
    assert client.post(path, headers=admin).status_code == 409


def test_unknown_booking_is_404(client: TestClient, admin: Headers) -> None:
    assert client.get("/api/bookings/99", headers=admin).status_code == 404
    assert client.post("/api/bookings/99/cancel", headers=admin).status_code == 404
    assert client.get("/api/bookings/0", headers=admin).status_code == 422


def test_business_pays_by_the_hour(client: TestClient, admin: Headers) -> None:
    firm = new_member(client, admin, "business", name="Firma")
    ngo = new_member(client, admin, "ngo", name="Fundacja")
    paid = booked(client, admin, member_id=firm, end="2026-03-03T11:30:00+01:00")
    free = booked(client, admin, member_id=ngo, room_id="sala-b")
    assert (paid["price"], paid["currency"]) == ("120.00", "PLN")
    assert free["price"] == "0.00"


def test_list_with_filters(client: TestClient, admin: Headers) -> None:
    anna, jan = new_member(client, admin), new_member(client, admin, name="Jan")
    a = booked(client, admin, member_id=anna)
    b = booked(client, admin, member_id=jan, room_id="sala-b")
    c = booked(
        client,
        admin,
        member_id=jan,
        start="2026-03-04T10:00:00Z",
        end="2026-03-04T11:00:00Z",
    )
    client.post(f"/api/bookings/{c['id']}/cancel", headers=admin)

    def ids(**params: Any) -> list[int]:
        response = client.get("/api/bookings", params=params, headers=admin)
        assert response.status_code == 200, response.text
        return [x["id"] for x in response.json()]

    assert ids() == [a["id"], b["id"], c["id"]]
    assert ids(room_id="sala-b") == [b["id"]]
    assert ids(member_id=jan) == [b["id"], c["id"]]
    assert ids(status="cancelled") == [c["id"]]
    assert ids(status="booked", member_id=jan) == [b["id"]]
    assert ids(**{"from": "2026-03-03T11:00:00Z"}) == [c["id"]]  # a and b end then
    assert ids(**{"from": "2026-03-03T11:00:00+01:00", "to": "2026-03-04T00:00:00Z"}) == [
        a["id"],
        b["id"],
    ]
    assert ids(limit=1, offset=2) == [c["id"]]
    for bad in ({"status": "lost"}, {"from": "2026-03-03T10:00:00"}, {"limit": 0}):
        assert client.get("/api/bookings", params=bad, headers=admin).status_code == 422


# --- validation ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"end": "2026-03-03T10:00:00+01:00"}, "end must be after start"),
        ({"room_id": "sala-z"}, "unknown room 'sala-z'"),
        ({"room_id": "coworking"}, "cannot be booked"),
        ({"end": "2026-03-03T22:00:01+01:00"}, "at most 12h"),
        (
            {"start": "2026-03-02T09:54:59+01:00", "end": "2026-03-02T11:00:00+01:00"},
            "start is in the past",
        ),
        (
            {"start": "2026-06-01T10:00:00+02:00", "end": "2026-06-01T11:00:00+02:00"},
            "at most 90 days ahead",
        ),
        ({"member_id": 424242}, "member 424242 does not exist"),
        ({"attendees": [424242]}, "attendee 424242 does not exist"),
        ({"attendees": ["holder"]}, "holder is not one of its attendees"),
        ({"repeat": {"weekly": 27}}, "repeat.weekly must be from 2 to 26"),
    ],
)
def test_domain_validation_is_422_with_a_reason(
    client: TestClient, admin: Headers, body: dict[str, Any], detail: str
) -> None:
    holder = new_member(client, admin)
    if body.get("attendees") == ["holder"]:
        body = body | {"attendees": [holder]}
    response = post_booking(client, admin, **({"member_id": holder} | body))
    assert response.status_code == 422, response.text
    assert detail in response.json()["detail"][0]["msg"]
    assert client.get("/api/bookings", headers=admin).json() == []


@pytest.mark.parametrize(
    "body",
    [
        {"title": "x" * 201},
        {"title": "   "},
        {"attendees": [0]},
        {"start": "2026-03-03T10:00:00"},  # no offset
        {"start": "tomorrow"},
        {"room_id": ""},
        {"colour": "red"},  # unknown field
        {"repeat": {"weekly": 4, "until": "2026-06-01T00:00:00Z"}},
        {"repeat": {"monthly": 2}},
        {"member_id": 2**63},
    ],
)
def test_malformed_body_is_422(client: TestClient, admin: Headers, body: dict[str, Any]) -> None:
    holder = new_member(client, admin)
    response = post_booking(client, admin, **({"member_id": holder} | body))
    assert response.status_code == 422, response.text
    assert "detail" in response.json()


def test_duplicate_attendees_are_422(client: TestClient, admin: Headers) -> None:
    holder, guest = new_member(client, admin), new_member(client, admin, name="Jan")
    response = post_booking(client, admin, member_id=holder, attendees=[guest, guest])
    assert response.status_code == 422
    assert "must not repeat" in response.json()["detail"][0]["msg"]


def test_member_suspended_from_booking_is_403(
    client: TestClient, admin: Headers, ctx: ServerContext
) -> None:
    member = new_member(client, admin)
    with ctx.writes() as session, session.begin():
        row = session.get(models.Member, member)
        assert row is not None
        row.booking_suspended_until = datetime(2026, 3, 16, 9, 0, tzinfo=UTC)
    response = post_booking(client, admin, member_id=member)
    assert response.status_code == 403
    assert response.json() == {
        "detail": f"member {member} may not book until 2026-03-16T09:00:00Z"
        ": booking suspended after repeated no-shows"
    }


def test_suspended_member_is_403(client: TestClient, admin: Headers) -> None:
    member = new_member(client, admin)
    client.patch(
        f"/api/members/{member}", json={"suspended_until": "2026-04-01T00:00:00Z"}, headers=admin
    )
    response = post_booking(client, admin, member_id=member)
    assert response.status_code == 403
    assert "suspended until 2026-04-01T00:00:00Z" in response.json()["detail"]


# --- overlap -----------------------------------------------------------------------------


def test_overlap_is_409_and_touching_is_fine(client: TestClient, admin: Headers) -> None:
    member = new_member(client, admin)
    first = booked(client, admin, member_id=member)
    clash = post_booking(
        client,
        admin,
        member_id=member,
        start="2026-03-03T11:59:00+01:00",
        end="2026-03-03T13:00:00+01:00",
    )
    assert clash.status_code == 409
    assert clash.json() == {
        "detail": f"room sala-a is already booked: booking {first['id']} "
        "from 2026-03-03T09:00:00Z to 2026-03-03T11:00:00Z"
    }
    after = booked(
        client, admin, member_id=member, start=first["end"], end="2026-03-03T13:00:00+01:00"
    )
    before = booked(
        client, admin, member_id=member, start="2026-03-03T08:00:00Z", end=first["start"]
    )
    assert after["start"] == first["end"] and before["end"] == first["start"]
    # the same time in another room
    assert post_booking(client, admin, member_id=member, room_id="sala-b").status_code == 201


@pytest.mark.parametrize("status", ["cancelled", "released"])
def test_cancelled_and_released_bookings_do_not_block(
    client: TestClient, admin: Headers, ctx: ServerContext, status: str
) -> None:
    member = new_member(client, admin)
    first = booked(client, admin, member_id=member)
    set_status(ctx, first["id"], status)
    second = booked(client, admin, member_id=member)
    assert second["id"] != first["id"]


@pytest.mark.parametrize("status", ["checked_in", "completed"])
def test_checked_in_and_completed_bookings_block(
    client: TestClient, admin: Headers, ctx: ServerContext, status: str
) -> None:
    member = new_member(client, admin)
    first = booked(client, admin, member_id=member)
    set_status(ctx, first["id"], status)
    assert post_booking(client, admin, member_id=member).status_code == 409


def test_twenty_concurrent_requests_for_one_slot(client: TestClient, admin: Headers) -> None:
    people = [new_member(client, admin, name=f"Osoba {i}") for i in range(20)]
    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(
            pool.map(lambda m: post_booking(client, admin, member_id=m).status_code, people)
        )
    assert sorted(statuses) == [201] + [409] * 19
    assert len(client.get("/api/bookings", headers=admin).json()) == 1


# --- weekly repeat -------------------------------------------------------------------------


def test_weekly_series_of_26(client: TestClient, admin: Headers, ctx: ServerContext) -> None:
    member = new_member(client, admin, "ngo", name="Stowarzyszenie")
    before = policy_n(ctx)
    response = post_booking(
        client,
        admin,
        member_id=member,
        title="Spotkanie",
        start="2026-03-03T18:00:00+01:00",
        end="2026-03-03T20:00:00+01:00",
        repeat={"weekly": 26},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == {"series_id", "bookings"}
    assert len(body["bookings"]) == 26
    assert {b["series_id"] for b in body["bookings"]} == {body["series_id"]}
    assert set(body["bookings"][0]) == BOOKING_FIELDS
    starts = [b["start"] for b in body["bookings"]]
    assert starts[:4] == [
        "2026-03-03T17:00:00Z",
        "2026-03-10T17:00:00Z",
        "2026-03-17T17:00:00Z",
        "2026-03-24T17:00:00Z",
    ]
    assert starts[4] == "2026-03-31T16:00:00Z"  # 18:00 in Warsaw, now in summer time
    assert starts[-1] == "2026-08-25T16:00:00Z"
    assert policy_n(ctx) > before
    listed = client.get("/api/bookings", params={"member_id": member}, headers=admin).json()
    assert [b["id"] for b in listed] == [b["id"] for b in body["bookings"]]


def test_series_with_one_conflict_creates_nothing_and_names_it(
    client: TestClient, admin: Headers
) -> None:
    ngo = new_member(client, admin, "ngo")
    other = new_member(client, admin, name="Jan")
    blocking = booked(
        client,
        admin,
        member_id=other,
        start="2026-04-07T19:30:00+02:00",
        end="2026-04-07T21:00:00+02:00",
    )
    response = post_booking(
        client,
        admin,
        member_id=ngo,
        start="2026-03-03T18:00:00+01:00",
        end="2026-03-03T20:00:00+01:00",
        repeat={"weekly": 10},
    )
    assert response.status_code == 409
    assert response.json() == {
        "detail": "1 of 10 occurrences conflict, nothing was booked: "
        f"2026-04-07T16:00:00Z to 2026-04-07T18:00:00Z (booking {blocking['id']})"
    }
    assert client.get("/api/bookings", params={"member_id": ngo}, headers=admin).json() == []


def test_series_across_october_dst_keeps_18_00(
    client: TestClient, admin: Headers, clock: FakeClock
) -> None:
    clock.now = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)
    member = new_member(client, admin)
    response = post_booking(
        client,
        admin,
        member_id=member,
        start="2026-10-20T18:00:00+02:00",
        end="2026-10-20T19:00:00+02:00",
        repeat={"weekly": 2},
    )
    assert response.status_code == 201, response.text
    assert [(b["start"], b["end"]) for b in response.json()["bookings"]] == [
        ("2026-10-20T16:00:00Z", "2026-10-20T17:00:00Z"),
        ("2026-10-27T17:00:00Z", "2026-10-27T18:00:00Z"),
    ]


# --- rooms ---------------------------------------------------------------------------------


def test_rooms_list_all_four_with_the_current_booking(
    client: TestClient, admin: Headers, clock: FakeClock
) -> None:
    member = new_member(client, admin)
    booking = booked(
        client,
        admin,
        member_id=member,
        room_id="sala-b",
        start="2026-03-02T10:30:00+01:00",
        end="2026-03-02T11:30:00+01:00",
    )
    rooms = client.get("/api/rooms", headers=admin).json()
    assert [r["id"] for r in rooms] == ["main", "sala-a", "sala-b", "coworking"]
    assert all(r["current_booking"] is None for r in rooms)
    assert rooms[1] == {
        "id": "sala-a",
        "name": "Sala warsztatowa A",
        "kind": "meeting",
        "capacity": 12,
        "bookable": True,
        "occupancy": {"occupied": False, "people": None, "last_motion": None},
        "current_booking": None,
    }
    assert (rooms[0]["bookable"], rooms[0]["capacity"]) == (False, None)

    clock.advance(minutes=45)
    rooms = client.get("/api/rooms", headers=admin).json()
    assert {r["id"]: r["current_booking"] for r in rooms} == {
        "main": None,
        "sala-a": None,
        "sala-b": booking,
        "coworking": None,
    }
    one = client.get("/api/rooms/sala-b", headers=admin)
    assert one.status_code == 200
    assert one.json()["current_booking"] == booking

    clock.advance(minutes=60)  # the booking is over
    assert client.get("/api/rooms/sala-b", headers=admin).json()["current_booking"] is None


def test_unknown_room_is_404(client: TestClient, admin: Headers) -> None:
    assert client.get("/api/rooms/attic", headers=admin).status_code == 404
    response = client.get(
        "/api/rooms/attic/availability",
        params={"from": "2026-03-03T00:00:00Z", "to": "2026-03-04T00:00:00Z"},
        headers=admin,
    )
    assert response.status_code == 404


def test_availability(client: TestClient, admin: Headers, ctx: ServerContext) -> None:
    member = new_member(client, admin)
    booked(client, admin, member_id=member)  # 09:00-11:00Z
    gone = booked(
        client, admin, member_id=member, start="2026-03-03T14:00:00Z", end="2026-03-03T15:00:00Z"
    )
    client.post(f"/api/bookings/{gone['id']}/cancel", headers=admin)
    booked(
        client, admin, member_id=member, start="2026-03-03T16:00:00Z", end="2026-03-03T17:00:00Z"
    )
    params = {"from": "2026-03-03T07:00:00+01:00", "to": "2026-03-03T20:00:00+01:00"}
    response = client.get("/api/rooms/sala-a/availability", params=params, headers=admin)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "room_id": "sala-a",
        "from": "2026-03-03T06:00:00Z",
        "to": "2026-03-03T19:00:00Z",
        "free": [
            {"start": "2026-03-03T06:00:00Z", "end": "2026-03-03T09:00:00Z"},
            {"start": "2026-03-03T11:00:00Z", "end": "2026-03-03T16:00:00Z"},
            {"start": "2026-03-03T17:00:00Z", "end": "2026-03-03T19:00:00Z"},
        ],
    }
    empty = client.get("/api/rooms/sala-b/availability", params=params, headers=admin).json()
    assert empty["free"] == [{"start": "2026-03-03T06:00:00Z", "end": "2026-03-03T19:00:00Z"}]


@pytest.mark.parametrize(
    ("params", "detail"),
    [
        ({"from": "2026-03-03T10:00:00Z", "to": "2026-03-03T10:00:00Z"}, "to must be after from"),
        ({"from": "2026-03-03T10:00:00Z", "to": "2026-03-03T09:00:00Z"}, "to must be after from"),
        (
            {"from": "2026-03-01T00:00:00Z", "to": "2026-04-01T00:00:01Z"},
            "the range may span at most 31 days",
        ),
        ({"from": "2026-03-03T10:00:00Z"}, None),
        ({"from": "yesterday", "to": "2026-03-03T10:00:00Z"}, None),
    ],
)
def test_availability_range_is_checked(
    client: TestClient, admin: Headers, params: dict[str, str], detail: str | None
) -> None:
    response = client.get("/api/rooms/sala-a/availability", params=params, headers=admin)
    assert response.status_code == 422
    if detail is not None:
        assert response.json() == {
            "detail": [{"loc": ["query"], "msg": detail, "type": "value_error"}]
        }


def test_booking_created_via_api_shows_up_as_busy_time(
    client: TestClient, admin: Headers, clock: FakeClock
) -> None:
    member = new_member(client, admin)
    start = clock.now + timedelta(hours=1)
    booked(
        client,
        admin,
        member_id=member,
        start=start.isoformat(),
        end=(start + timedelta(hours=1)).isoformat(),
    )
    params = {"from": clock.now.isoformat(), "to": (clock.now + timedelta(hours=3)).isoformat()}
    free = client.get("/api/rooms/sala-a/availability", params=params, headers=admin).json()
    assert free["free"] == [
        {"start": "2026-03-02T09:00:00Z", "end": "2026-03-02T10:00:00Z"},
        {"start": "2026-03-02T11:00:00Z", "end": "2026-03-02T12:00:00Z"},
    ]
