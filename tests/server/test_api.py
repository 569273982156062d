"""The HTTP API of members, cards, memberships, the access log, devices and health."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import paho.mqtt.client as paho
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import sessionmaker
from support.clock import MonotonicClock

from protocol import topics
from protocol.cards import card_hash
from server.adapters.door_ingest import DoorIngest
from server.adapters.inbox import Inbox
from server.api.health import LAG_LIMIT_S
from server.context import ServerContext
from server.db import meta, models
from server.settings import Settings

if TYPE_CHECKING:
    from tests.server.conftest import FakeClock

Headers = dict[str, str]

ADMIN_ENDPOINTS = [
    ("GET", "/api/members"),
    ("POST", "/api/members"),
    ("GET", "/api/members/1"),
    ("PATCH", "/api/members/1"),
    ("POST", "/api/members/1/cards"),
    ("GET", "/api/members/1/cards"),
    ("DELETE", "/api/cards/1"),
    ("POST", "/api/memberships"),
    ("GET", "/api/members/1/memberships"),
    ("GET", "/api/access-events"),
    ("GET", "/api/devices"),
]


def policy_n(ctx: ServerContext) -> int:
    with ctx.reads() as session:
        return meta.version(session)[1]


def new_member(client: TestClient, admin: Headers, **fields: Any) -> dict[str, Any]:
    body = {"name": "Anna Kowalska", "email": "anna@example.org", "category": "resident"}
    response = client.post("/api/members", json=body | fields, headers=admin)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def new_card(client: TestClient, admin: Headers, member_id: int, uid: str) -> dict[str, Any]:
    response = client.post(f"/api/members/{member_id}/cards", json={"uid": uid}, headers=admin)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


# --- health and body size ---------------------------------------------------------------


def test_healthz_ok_without_token_and_mqtt_disabled(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "db": "ok",
        "mqtt": "disabled",
        "door_path_lag_s": 0.0,
    }


def test_healthz_503_when_broker_disconnected(client: TestClient) -> None:
    app = client.app
    ingest = SimpleNamespace(client=SimpleNamespace(connected=False), lag_s=0.0, db_writable=True)
    app.state.ingest = ingest  # type: ignore[attr-defined]
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "db": "ok",
        "mqtt": "disconnected",
        "door_path_lag_s": 0.0,
    }
    ingest.client.connected = True
    assert client.get("/healthz").json()["mqtt"] == "connected"


def test_healthz_503_once_a_held_door_message_is_older_than_the_limit(
    client: TestClient, ctx: ServerContext
) -> None:
    """A tap the database keeps refusing waits in the door path's inbox; its age (the
    inbox's clock moved, no sleep) is the lag /healthz reports, 503 past LAG_LIMIT_S."""
    clock, failures = MonotonicClock(1000.0), [OperationalError("INSERT", {}, Exception("full"))]

    def handle(topic: str, payload: bytes) -> None:
        if failures:
            raise failures.pop()

    ingest = DoorIngest(ctx)
    ingest.door.inbox = Inbox(
        "door path", handle, ack=lambda _msg: None, store=lambda **_: None, clock=clock
    )
    broker_client, ingest.client = ingest.client, SimpleNamespace(connected=True)  # type: ignore[assignment]
    client.app.state.ingest = ingest  # type: ignore[attr-defined]
    try:
        msg = paho.MQTTMessage(mid=1, topic=topics.tap("piaseczno", "reader-main").encode())
        msg.payload, msg.qos = b"{}", 1
        ingest.door.inbox.receive(msg)
        assert ingest.held() == 1
        clock.advance(LAG_LIMIT_S)
        assert client.get("/healthz").status_code == 200  # at the limit: still in time
        clock.advance(0.5)
        response = client.get("/healthz")
        assert response.status_code == 503
        assert response.json() == {
            "status": "unavailable",
            "db": "ok",
            "mqtt": "connected",
            "door_path_lag_s": LAG_LIMIT_S + 0.5,
        }
        assert ingest.door.inbox.retry_due() == 1  # the database takes it: caught up
        assert client.get("/healthz").json()["door_path_lag_s"] == 0.0
    finally:
        broker_client.stop(graceful=False)
        ingest.decisions.client.stop(graceful=False)
        client.app.state.ingest = None  # type: ignore[attr-defined]


def test_healthz_503_when_database_fails(
    client: TestClient, ctx: ServerContext, tmp_path: Path
) -> None:
    missing = tmp_path / "no-such-dir" / "db.sqlite"
    broken = create_engine(f"sqlite:///{missing}")
    ctx.reads = sessionmaker(broken)
    try:
        response = client.get("/healthz")
    finally:
        broken.dispose()
    assert response.status_code == 503
    assert response.json()["db"] == "error"


def test_body_over_64_kib_is_413(client: TestClient, admin: Headers) -> None:
    body = {"name": "x" * (70 * 1024), "category": "resident"}
    response = client.post("/api/members", json=body, headers=admin)
    assert response.status_code == 413
    assert "detail" in response.json()
    assert client.post("/api/members", json=body).status_code == 413


def test_streamed_body_over_64_kib_is_413(client: TestClient, admin: Headers) -> None:
    chunks = iter([b'{"name": "' + b"x" * 40_000, b"x" * 40_000 + b'", "category": "ngo"}'])
    headers = admin | {"Content-Type": "application/json"}
    response = client.post("/api/members", content=chunks, headers=headers)
    assert response.status_code == 413
    assert client.get("/api/members", headers=admin).json() == []


# --- who may call -----------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path"), ADMIN_ENDPOINTS)
def test_no_token_or_bad_token_is_401(client: TestClient, method: str, path: str) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic abc"}):
        response = client.request(method, path, headers=headers, json={})
        assert response.status_code == 401, (headers, response.text)
        assert "detail" in response.json()


@pytest.mark.parametrize(("method", "path"), ADMIN_ENDPOINTS)
def test_gateway_token_is_403_on_admin_endpoints(
    client: TestClient, gateway: Headers, method: str, path: str
) -> None:
    response = client.request(method, path, headers=gateway, json={})
    assert response.status_code == 403
    assert "detail" in response.json()


# --- members ----------------------------------------------------------------------------


def test_create_read_patch_member(client: TestClient, admin: Headers) -> None:
    created = new_member(client, admin, name="  Jan Nowak ", category="ngo", email="jan@ngo.pl")
    assert set(created) == {
        "id",
        "name",
        "email",
        "category",
        "lang",
        "suspended_until",
        "booking_suspended_until",
        "minor",
        "guardian_name",
        "guardian_consent_at",
        "erased_at",
        "created_at",
    }
    assert created["name"] == "Jan Nowak"
    assert created["category"] == "ngo"
    assert created["lang"] == "pl"  # the site's language
    assert created["suspended_until"] is None
    assert created["created_at"].endswith("Z")

    got = client.get(f"/api/members/{created['id']}", headers=admin)
    assert got.status_code == 200
    assert got.json() == created

    patched = client.patch(
        f"/api/members/{created['id']}", json={"category": "business"}, headers=admin
    )
    assert patched.status_code == 200
    assert patched.json() == created | {"category": "business"}

    cleared = client.patch(f"/api/members/{created['id']}", json={"email": None}, headers=admin)
    assert cleared.json()["email"] is None
    assert cleared.json()["name"] == "Jan Nowak"


def test_a_member_has_a_language(client: TestClient, admin: Headers, ctx: ServerContext) -> None:
    olena = new_member(client, admin, name="Olena", category="ngo", lang="uk")
    assert olena["lang"] == "uk"
    assert client.get(f"/api/members/{olena['id']}", headers=admin).json()["lang"] == "uk"
    before = policy_n(ctx)
    patched = client.patch(f"/api/members/{olena['id']}", json={"lang": "en"}, headers=admin)
    assert patched.status_code == 200 and patched.json() == olena | {"lang": "en"}
    assert policy_n(ctx) == before  # no door decides by it
    with ctx.reads() as session:
        assert session.get(models.Member, olena["id"]).lang == "en"  # type: ignore[union-attr]
    for bad in ({"lang": "de"}, {"lang": "PL"}, {"lang": None}, {"lang": 1}):
        response = client.patch(f"/api/members/{olena['id']}", json=bad, headers=admin)
        assert response.status_code == 422, (bad, response.text)
        assert isinstance(response.json()["detail"], list), response.text


def test_member_without_email(client: TestClient, admin: Headers) -> None:
    response = client.post("/api/members", json={"name": "Ola", "category": "staff"}, headers=admin)
    assert response.status_code == 201
    assert response.json()["email"] is None


def test_suspension_set_in_any_offset_shown_in_utc_and_cleared(
    client: TestClient, admin: Headers, ctx: ServerContext
) -> None:
    member = new_member(client, admin)
    before = policy_n(ctx)
    response = client.patch(
        f"/api/members/{member['id']}",
        json={"suspended_until": "2026-04-01T12:30:00+02:00"},
        headers=admin,
    )
    assert response.status_code == 200
    assert response.json()["suspended_until"] == "2026-04-01T10:30:00Z"
    assert policy_n(ctx) > before
    with ctx.reads() as session:
        stored = session.get(models.Member, member["id"])
        assert stored is not None
        assert stored.suspended_until == datetime(2026, 4, 1, 10, 30, tzinfo=UTC)

    after_suspend = policy_n(ctx)
    response = client.patch(
        f"/api/members/{member['id']}", json={"suspended_until": None}, headers=admin
    )
    assert response.json()["suspended_until"] is None
    assert policy_n(ctx) > after_suspend


def test_renaming_does_not_bump_policy(
    client: TestClient, admin: Headers, ctx: ServerContext
) -> None:
    member = new_member(client, admin)
    before = policy_n(ctx)
    client.patch(f"/api/members/{member['id']}", json={"name": "Anna Nowak"}, headers=admin)
    assert policy_n(ctx) == before


def test_list_members_with_filters(client: TestClient, admin: Headers) -> None:
    a = new_member(client, admin, name="Anna Kowalska", category="resident")
    b = new_member(client, admin, name="Fundacja 50%", category="ngo", email="biuro@f.pl")
    c = new_member(client, admin, name="Firma Sp. z o.o.", category="business")

    def ids(**params: Any) -> list[int]:
        response = client.get("/api/members", params=params, headers=admin)
        assert response.status_code == 200, response.text
        return [m["id"] for m in response.json()]

    assert ids() == [a["id"], b["id"], c["id"]]
    assert ids(category="ngo") == [b["id"]]
    assert ids(q="kowal") == [a["id"]]
    assert ids(q="BIURO@") == [b["id"]]
    assert ids(q="50%") == [b["id"]]  # % is matched literally
    assert ids(q="_") == []
    assert ids(limit=2) == [a["id"], b["id"]]
    assert ids(limit=2, offset=2) == [c["id"]]


@pytest.mark.parametrize(
    "body",
    [
        {"name": "x" * 201, "category": "resident"},
        {"name": "", "category": "resident"},
        {"name": "   ", "category": "resident"},
        {"name": "a\x00b", "category": "resident"},
        {"category": "resident"},
        {"name": "Anna", "category": "visitor"},
        {"name": "Anna"},
        {"name": "Anna", "category": "resident", "email": "not-an-email"},
        {"name": "Anna", "category": "resident", "email": "a@b"},
        {"name": "Anna", "category": "resident", "email": "a b@example.org"},
        {"name": "Anna", "category": "resident", "email": "a" * 250 + "@example.org"},
        {"name": "Anna", "category": "resident", "nmae": "typo"},
        {"name": 5, "category": "resident"},
        {"name": "Anna", "category": "resident", "lang": "de"},
        {"name": "Anna", "category": "resident", "lang": ""},
        ["not", "an", "object"],
    ],
)
def test_invalid_member_is_422(client: TestClient, admin: Headers, body: Any) -> None:
    response = client.post("/api/members", json=body, headers=admin)
    assert response.status_code == 422, response.text
    assert "detail" in response.json()


@pytest.mark.parametrize(
    "content",
    [
        b'{"name": "a\\ud800b", "category": "resident"}',  # a lone surrogate
        b'{"name": "Anna", "category": "resident", "\\udcff": 1}',  # ... in a field name
        b'{"name": "Anna", "category": ',
        b"\xff\xfe",
    ],
)
def test_malformed_body_is_422(client: TestClient, admin: Headers, content: bytes) -> None:
    headers = admin | {"Content-Type": "application/json"}
    response = client.post("/api/members", content=content, headers=headers)
    assert response.status_code == 422, response.text


@pytest.mark.parametrize(
    "body",
    [
        {"suspended_until": "2026-04-01T12:30:00"},  # naive
        {"suspended_until": "tomorrow"},
        {"suspended_until": "9999-12-31T23:00:00-05:00"},  # past the last instant in UTC
        {"name": None},
        {"category": None},
        {"category": "admin"},
        {"name": "y" * 201},
        {"id": 7},
    ],
)
def test_invalid_patch_is_422(client: TestClient, admin: Headers, body: dict[str, Any]) -> None:
    member = new_member(client, admin)
    response = client.patch(f"/api/members/{member['id']}", json=body, headers=admin)
    assert response.status_code == 422, response.text
    assert client.get(f"/api/members/{member['id']}", headers=admin).json() == member


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/members/99999999999999999999999999"),
        ("GET", "/api/members/0"),
        ("GET", "/api/members/-1"),
        ("GET", "/api/members/abc"),
        ("PATCH", "/api/members/9223372036854775808"),
        ("GET", "/api/members/2147483648"),  # past a 32-bit id column (PostgreSQL's integer)
        ("DELETE", "/api/cards/2147483648"),
        ("GET", "/api/members/99999999999999999999999999/cards"),
        ("GET", "/api/members/99999999999999999999999999/memberships"),
        ("DELETE", "/api/cards/99999999999999999999999999"),
        ("GET", "/api/members?limit=0"),
        ("GET", "/api/members?limit=1001"),
        ("GET", "/api/members?offset=99999999999999999999999999"),
        ("GET", "/api/members?category=visitor"),
        ("GET", "/api/access-events?limit=0"),
        ("GET", "/api/access-events?limit=1001"),
        ("GET", "/api/access-events?member_id=99999999999999999999999999"),
    ],
)
def test_out_of_range_ids_and_params_are_422(
    client: TestClient, admin: Headers, method: str, path: str
) -> None:
    response = client.request(method, path, headers=admin, json={"name": "x"})
    assert response.status_code == 422, response.text


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/api/members/4242", None),
        ("PATCH", "/api/members/4242", {"name": "Nobody"}),
        ("POST", "/api/members/4242/cards", {"uid": "04A1B2C3"}),
        ("GET", "/api/members/4242/cards", None),
        ("GET", "/api/members/4242/memberships", None),
        ("DELETE", "/api/cards/4242", None),
    ],
)
def test_unknown_ids_are_404(
    client: TestClient, admin: Headers, method: str, path: str, body: Any
) -> None:
    response = client.request(method, path, headers=admin, json=body)
    assert response.status_code == 404
    assert "4242" in response.json()["detail"]


# --- cards ------------------------------------------------------------------------------


def test_card_registered_once_whatever_the_spelling(
    client: TestClient, admin: Headers, ctx: ServerContext
) -> None:
    anna = new_member(client, admin)
    jan = new_member(client, admin, name="Jan Nowak")
    before = policy_n(ctx)
    response = client.post(
        f"/api/members/{anna['id']}/cards", json={"uid": "04A1B2C3", "label": "blue"}, headers=admin
    )
    assert response.status_code == 201
    card = response.json()
    assert card == {
        "id": card["id"],
        "member_id": anna["id"],
        "label": "blue",
        "active": True,
        "created_at": card["created_at"],
        "revoked_at": None,
    }
    assert policy_n(ctx) > before

    for member, spelling in [(anna, "04:a1:b2:c3"), (jan, "0x04a1b2c3"), (jan, " 04-A1-B2-C3 ")]:
        again = client.post(
            f"/api/members/{member['id']}/cards", json={"uid": spelling}, headers=admin
        )
        assert again.status_code == 409, spelling
        assert again.json() == {"detail": "card already registered"}

    with ctx.reads() as session:
        stored = session.get(models.Card, card["id"])
        assert stored is not None
        assert stored.uid_hash == card_hash(ctx.card_key, "04A1B2C3")


@pytest.mark.parametrize(
    "body",
    [
        {"uid": "XYZ12345"},
        {"uid": "04A1B2"},  # too short
        {"uid": "04A1B2C"},  # half a byte
        {"uid": "04" * 11},  # too long
        {"uid": ""},
        {"uid": "04A1B2C3", "label": "l" * 101},
        {"uid": "04A1B2C3", "owner": "typo"},
        {"label": "no uid"},
    ],
)
def test_invalid_card_is_422(client: TestClient, admin: Headers, body: dict[str, Any]) -> None:
    member = new_member(client, admin)
    response = client.post(f"/api/members/{member['id']}/cards", json=body, headers=admin)
    assert response.status_code == 422, response.text
    assert client.get(f"/api/members/{member['id']}/cards", headers=admin).json() == []


def test_raw_uid_is_never_returned_or_stored(
    client: TestClient, admin: Headers, settings: Settings, ctx: ServerContext
) -> None:
    uid = "04D3ADBEEF7788"
    member = new_member(client, admin)
    cards = f"/api/members/{member['id']}/cards"
    responses = [
        client.post(cards, json={"uid": uid.lower()}, headers=admin),
        client.post(cards, json={"uid": uid}, headers=admin),
        client.get(cards, headers=admin),
        client.post(cards, json={"uid": uid, "label": "x" * 101}, headers=admin),
        client.post(cards, json={"uid": uid, "lable": "typo"}, headers=admin),
        client.post(cards, json={"uid": uid[:-1]}, headers=admin),  # half a byte short
        client.post(cards, json={"uid": uid + "00" * 4}, headers=admin),  # too long
        client.post("/api/members/4242/cards", json={"uid": uid}, headers=admin),
    ]
    assert [r.status_code for r in responses] == [201, 409, 200, 422, 422, 422, 422, 404]
    for response in responses:
        assert uid not in response.text.upper()

    hashed = card_hash(ctx.card_key, uid).encode()
    for form in (uid.encode(), uid.lower().encode(), bytes.fromhex(uid)):
        assert form not in stored_bytes(ctx, settings)
    assert hashed in stored_bytes(ctx, settings)


def stored_bytes(ctx: ServerContext, settings: Settings) -> bytes:
    """All the database holds: its files on SQLite (WAL included), every row on PostgreSQL."""
    db = settings.sqlite_path()
    if db is None:
        with ctx.engine.connect() as conn:
            return b"\n".join(
                value if isinstance(value, bytes) else str(value).encode()
                for table in models.Base.metadata.sorted_tables
                for row in conn.execute(table.select())
                for value in row
            )
    ctx.engine.dispose()  # close connections; what is in the WAL is checked too
    files = [p for p in db.parent.iterdir() if p.name.startswith(db.name)]
    assert db in files
    return b"".join(p.read_bytes() for p in files)


def test_revoke_card(
    client: TestClient, admin: Headers, ctx: ServerContext, clock: FakeClock
) -> None:
    member = new_member(client, admin)
    card = new_card(client, admin, member["id"], "04A1B2C3")
    before = policy_n(ctx)

    response = client.delete(f"/api/cards/{card['id']}", headers=admin)
    assert response.status_code == 204
    assert response.content == b""
    assert policy_n(ctx) > before

    listed = client.get(f"/api/members/{member['id']}/cards", headers=admin).json()
    assert listed == [card | {"active": False, "revoked_at": "2026-03-02T09:00:00Z"}]

    clock.advance(hours=1)
    assert client.delete(f"/api/cards/{card['id']}", headers=admin).status_code == 204
    listed = client.get(f"/api/members/{member['id']}/cards", headers=admin).json()
    assert listed[0]["revoked_at"] == "2026-03-02T09:00:00Z"  # the first revocation stands


def test_revoked_card_is_reissued(client: TestClient, admin: Headers, ctx: ServerContext) -> None:
    anna = new_member(client, admin)
    jan = new_member(client, admin, name="Jan Nowak")
    card = new_card(client, admin, anna["id"], "04A1B2C3")
    client.delete(f"/api/cards/{card['id']}", headers=admin)
    before = policy_n(ctx)

    response = client.post(
        f"/api/members/{jan['id']}/cards", json={"uid": "04a1b2c3", "label": "found"}, headers=admin
    )
    assert response.status_code == 201
    reissued = response.json()
    assert reissued["id"] == card["id"]
    assert reissued["member_id"] == jan["id"]
    assert reissued["active"] is True
    assert reissued["revoked_at"] is None
    assert reissued["label"] == "found"
    assert policy_n(ctx) > before
    assert client.get(f"/api/members/{anna['id']}/cards", headers=admin).json() == []


# --- memberships ------------------------------------------------------------------------


def test_membership_created_in_utc_and_listed(
    client: TestClient, admin: Headers, ctx: ServerContext
) -> None:
    member = new_member(client, admin)
    before = policy_n(ctx)
    body = {
        "member_id": member["id"],
        "plan": "coworking-24h",
        "valid_from": "2026-03-01T00:00:00+01:00",
        "valid_until": "2026-04-01T00:00:00+02:00",
    }
    response = client.post("/api/memberships", json=body, headers=admin)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["member_id"] == member["id"]
    assert created["plan"] == "coworking-24h"
    assert created["site"] == "piaseczno"  # the server's site's plan
    assert created["valid_from"] == "2026-02-28T23:00:00Z"
    assert created["valid_until"] == "2026-03-31T22:00:00Z"
    assert isinstance(created["id"], int)
    assert policy_n(ctx) > before

    listed = client.get(f"/api/members/{member['id']}/memberships", headers=admin)
    assert listed.json() == [created]


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"plan": "gold"}, "unknown plan"),
        ({"plan": "x" * 65}, None),
        ({"valid_until": "2026-03-01T00:00:00Z"}, "after"),
        ({"valid_until": "2026-02-01T00:00:00Z"}, "after"),
        ({"valid_from": "2026-03-01T00:00:00"}, None),
        ({"member_id": 4242}, "4242"),
        ({"member_id": 2**64}, None),
        ({"member_id": 0}, None),
        ({"extra": True}, None),
    ],
)
def test_invalid_membership_is_422(
    client: TestClient,
    admin: Headers,
    ctx: ServerContext,
    change: dict[str, Any],
    needle: str | None,
) -> None:
    member = new_member(client, admin)
    before = policy_n(ctx)
    body = {
        "member_id": member["id"],
        "plan": "coworking",
        "valid_from": "2026-03-01T00:00:00Z",
        "valid_until": "2026-04-01T00:00:00Z",
    } | change
    response = client.post("/api/memberships", json=body, headers=admin)
    assert response.status_code == 422, response.text
    if needle is not None:
        assert needle in response.json()["detail"][0]["msg"]
    assert policy_n(ctx) == before
    assert client.get(f"/api/members/{member['id']}/memberships", headers=admin).json() == []


def test_times_far_from_now_keep_their_four_digit_year(client: TestClient, admin: Headers) -> None:
    member = new_member(client, admin)
    body = {
        "member_id": member["id"],
        "plan": "coworking",
        "valid_from": "0001-01-01T00:00:00Z",
        "valid_until": "9999-12-31T23:59:59.5Z",
    }
    created = client.post("/api/memberships", json=body, headers=admin).json()
    assert created["valid_from"] == "0001-01-01T00:00:00Z"
    assert created["valid_until"] == "9999-12-31T23:59:59.500000Z"


# --- the access log ---------------------------------------------------------------------


T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def add_events(ctx: ServerContext, member_id: int) -> None:
    rows = [
        # (event id, device, received minutes after T0, granted, by, result)
        models.AccessEvent(
            device_id="reader-main", event_id="tap-1", door_id="main",
            ts=T0, received=T0, member_id=member_id, granted=True, reason="membership",
            by="server",
        ),
        models.AccessEvent(
            device_id="reader-sala-a", event_id="tap-2", door_id="sala-a",
            ts=T0 + timedelta(minutes=5), received=T0 + timedelta(minutes=5),
            member_id=member_id, granted=False, reason="policy_stale", by="server",
            result_id="r-2", result_applied="gateway", result_granted=True,
            result_at=T0 + timedelta(minutes=5, seconds=1),
        ),
        models.AccessEvent(
            device_id="reader-main", event_id="tap-3", door_id="main",
            ts=T0 + timedelta(minutes=9), received=T0 + timedelta(minutes=10),
            member_id=None, granted=True, reason="membership", by="server",
            result_id="r-3", result_applied="none", result_granted=False,
            result_at=T0 + timedelta(minutes=10),
        ),
        models.AccessEvent(
            device_id="reader-main", event_id="tap-0", door_id="main",
            ts=None, received=T0 - timedelta(minutes=1), granted=False,
            reason="unknown_card", by="expired",
        ),
    ]  # fmt: skip
    with ctx.writes() as session, session.begin():
        session.add_all(rows)


def test_access_events_newest_first_with_result_precedence(
    client: TestClient, admin: Headers, ctx: ServerContext
) -> None:
    member = new_member(client, admin)
    add_events(ctx, member["id"])
    response = client.get("/api/access-events", headers=admin)
    assert response.status_code == 200
    events = response.json()
    assert [e["id"] for e in events] == ["tap-3", "tap-2", "tap-1", "tap-0"]
    tap3, tap2, tap1, tap0 = events
    assert tap1 == {
        "id": "tap-1",
        "device": "reader-main",
        "door": "main",
        "ts": "2026-03-02T08:00:00Z",
        "received": "2026-03-02T08:00:00Z",
        "granted": True,
        "reason": "membership",
        "by": "server",
        "member_id": member["id"],
        "member_name": "Anna Kowalska",
    }
    assert tap0["member_name"] is None  # an unknown card
    # What the door reported doing wins over the decision on the row.
    assert (tap2["granted"], tap2["by"]) == (True, "gateway")
    assert (tap3["granted"], tap3["by"]) == (False, "expired")
    assert (tap0["granted"], tap0["by"], tap0["ts"]) == (False, "expired", None)


def test_access_events_filters_and_limit(
    client: TestClient, admin: Headers, ctx: ServerContext
) -> None:
    member = new_member(client, admin)
    add_events(ctx, member["id"])

    def ids(**params: Any) -> list[str]:
        response = client.get("/api/access-events", params=params, headers=admin)
        assert response.status_code == 200, response.text
        return [e["id"] for e in response.json()]

    assert ids(device="reader-main") == ["tap-3", "tap-1", "tap-0"]
    assert ids(device="reader-sala-a") == ["tap-2"]
    assert ids(device="nope") == []
    assert ids(member_id=member["id"]) == ["tap-2", "tap-1"]
    assert ids(member_id=member["id"], device="reader-main") == ["tap-1"]
    assert ids(limit=2) == ["tap-3", "tap-2"]


# --- devices ----------------------------------------------------------------------------


def set_status(
    ctx: ServerContext, device_id: str, *, online: bool, last_seen: datetime, status: Any
) -> None:
    with ctx.writes() as session, session.begin():
        row = session.get(models.Device, device_id)
        assert row is not None
        row.online = online
        row.last_seen = last_seen
        row.status = status


def test_devices_cover_the_site_and_go_offline_after_silence(
    client: TestClient, admin: Headers, ctx: ServerContext, clock: FakeClock
) -> None:
    now = clock()
    # reader-main: heard 170 s ago, every 60 s: online until 180 s of silence
    set_status(ctx, "reader-main", online=True, last_seen=now - timedelta(seconds=170),
               status={"state": "online", "interval_s": 60})  # fmt: skip
    # reader-sala-a: heard 40 s ago but reports every 10 s: silent too long
    set_status(ctx, "reader-sala-a", online=True, last_seen=now - timedelta(seconds=40),
               status={"state": "online", "interval_s": 10})  # fmt: skip
    # reader-sala-b: its last status (or last will) said offline
    set_status(ctx, "reader-sala-b", online=False, last_seen=now - timedelta(seconds=1),
               status={"state": "offline", "interval_s": 60})  # fmt: skip
    # pir-sala-a: no interval in its status, so 60 s is assumed
    set_status(ctx, "pir-sala-a", online=True, last_seen=now - timedelta(seconds=100),
               status={"state": "online"})  # fmt: skip

    response = client.get("/api/devices", headers=admin)
    assert response.status_code == 200
    devices = {d["id"]: d for d in response.json()}
    assert set(devices) == {d.id for d in ctx.site.devices}
    assert devices["reader-main"] == {
        "id": "reader-main",
        "kind": "door",
        "room": "main",
        "door": "main",
        "online": True,
        "last_seen": "2026-03-02T08:57:10Z",
    }
    assert devices["reader-sala-a"]["online"] is False  # silent for 40 s > 3 x 10 s
    assert devices["reader-sala-b"]["online"] is False  # said so itself
    assert devices["pir-sala-a"]["online"] is True
    assert devices["pir-sala-a"]["kind"] == "occupancy"
    assert devices["counter-main"] == {
        "id": "counter-main",
        "kind": "occupancy",
        "room": "main",
        "door": None,
        "online": False,
        "last_seen": None,
    }

    clock.advance(seconds=11)  # reader-main: 181 s of silence > 3 x 60 s
    devices = {d["id"]: d for d in client.get("/api/devices", headers=admin).json()}
    assert devices["reader-main"]["online"] is False
    assert devices["pir-sala-a"]["online"] is True
