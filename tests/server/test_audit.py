"""The audit log: every remote unlock, door mode and staff release is recorded with who
asked, and `GET /api/audit` pages through it newest first (issue 8, item 3)."""

from __future__ import annotations

import queue
import warnings
from datetime import timedelta

from sqlalchemy import select
from support.factories import api_booking, api_member
from support.signin import sign_in_with_token

from protocol import topics
from protocol.messages import DoorCommand, decode
from server.app import create_app
from server.context import ServerContext
from server.db import models
from server.settings import Settings

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

SITE = "piaseczno"


def make_app(settings: Settings, ctx: ServerContext, *, mqtt: bool):  # type: ignore[no-untyped-def]
    return create_app(settings, ctx=ctx, mqtt=mqtt)


def entries(ctx: ServerContext) -> list[models.AuditEntry]:
    with ctx.reads() as session:
        return list(session.scalars(select(models.AuditEntry).order_by(models.AuditEntry.id)))


def test_a_mode_change_is_recorded_with_the_token_that_asked(client, admin, ctx, clock) -> None:  # type: ignore[no-untyped-def]
    assert client.put("/api/doors/main/mode", json={"mode": "locked"}, headers=admin).is_success
    [entry] = entries(ctx)
    assert (entry.actor, entry.action, entry.target, entry.ts) == (
        "admin-token",
        "door.mode",
        "main",
        clock.now,
    )
    assert entry.detail["mode"] == "locked" and entry.detail["device"] == "reader-main"


def test_a_signed_in_browser_is_told_apart_without_its_cookie(client, ctx) -> None:  # type: ignore[no-untyped-def]
    token = ctx.settings.admin_token
    csrf = sign_in_with_token(client)
    cookie = client.cookies["spacehub_session"]
    done = client.put("/api/doors/sala-a/mode", json={"mode": "unlocked"}, headers=csrf)
    assert done.status_code == 200
    sign_in_entry, entry = entries(ctx)
    assert (sign_in_entry.action, entry.action) == ("auth.sign_in", "door.mode")
    assert entry.actor == "admin-token"
    assert cookie not in entry.actor and token not in entry.actor


def test_refused_requests_record_nothing(client, admin, gateway, ctx) -> None:  # type: ignore[no-untyped-def]
    assert client.put("/api/doors/main/mode", json={"mode": "locked"}).status_code == 401
    assert client.put("/api/doors/main/mode", json={"mode": "x"}, headers=admin).status_code == 422
    assert client.post("/api/doors/main/unlock", headers=gateway).status_code == 403
    assert client.post("/api/doors/main/unlock", headers=admin).status_code == 503  # no broker
    assert entries(ctx) == []


def test_a_staff_release_is_recorded(client, admin, ctx, clock) -> None:  # type: ignore[no-untyped-def]
    member = api_member(client, admin, name="Olena", category="ngo")
    booking = api_booking(client, admin, member["id"], clock.now - timedelta(minutes=5))
    assert client.post(f"/api/bookings/{booking['id']}/release", headers=admin).is_success
    [created, entry] = [e for e in entries(ctx) if e.action != "member.create"]
    assert (created.action, created.target) == ("booking.create", str(booking["id"]))
    assert (entry.action, entry.target, entry.detail["room_id"]) == (
        "booking.release",
        str(booking["id"]),
        "sala-a",
    )


def test_the_audit_log_newest_first_a_page_at_a_time(client, admin, gateway, clock) -> None:  # type: ignore[no-untyped-def]
    for mode in ("locked", "unlocked", "normal"):
        clock.advance(minutes=1)
        client.put("/api/doors/coworking/mode", json={"mode": mode}, headers=admin)
    page = client.get("/api/audit", params={"limit": 2}, headers=admin).json()
    assert [e["detail"]["mode"] for e in page] == ["normal", "unlocked"]
    assert set(page[0]) == {"id", "ts", "actor", "action", "target", "detail"}
    assert page[0]["ts"] == clock.now.strftime("%Y-%m-%dT%H:%M:%SZ")
    rest = client.get("/api/audit", params={"before": page[-1]["id"]}, headers=admin).json()
    assert [e["detail"]["mode"] for e in rest] == ["locked"]
    assert client.get("/api/audit").status_code == 401
    assert client.get("/api/audit", headers=gateway).status_code == 403
    assert client.get("/api/audit", params={"limit": 0}, headers=admin).status_code == 422


def test_a_remote_unlock_is_recorded_before_it_is_sent(
    settings, clock, admin, embedded_broker, mqtt_client
) -> None:  # type: ignore[no-untyped-def]
    live = settings.model_copy(update={"mqtt_url": embedded_broker.url})
    context = ServerContext.create(live, clock=clock)
    commands: queue.Queue[DoorCommand] = queue.Queue()
    door = mqtt_client(embedded_broker.url, client_id="test-reader-main")
    door.subscribe(
        topics.door_command(SITE, "reader-main"),
        lambda m: commands.put(decode(DoorCommand, m.payload)),
    )
    door.start()
    assert door.wait_connected(10)
    try:
        with TestClient(make_app(live, context, mqtt=True)) as client:
            assert client.app.state.ingest.wait_connected(10)  # type: ignore[attr-defined]
            response = client.post("/api/doors/main/unlock", headers=admin)
            assert response.status_code == 202, response.text
            command = commands.get(timeout=5)
            [entry] = client.get("/api/audit", headers=admin).json()
    finally:
        context.close()
    assert (entry["actor"], entry["action"], entry["target"]) == (
        "admin-token",
        "door.unlock",
        "main",
    )
    assert entry["detail"]["unlock_s"] == command.unlock_s
    assert entry["detail"]["command_id"] == command.id
    assert "sent" not in entry["detail"]


def test_an_acknowledged_alert_is_recorded(client, admin, ctx, clock) -> None:  # type: ignore[no-untyped-def]
    from server.monitoring import alerts

    with ctx.writes() as session, session.begin():
        alert = alerts.raise_alert(session, kind="forced", device_id="reader-main", now=clock.now)
    assert client.post(f"/api/alerts/{alert.id}/ack", headers=admin).status_code == 200
    [entry] = entries(ctx)
    assert (entry.actor, entry.action, entry.target) == ("admin-token", "alert.ack", str(alert.id))
