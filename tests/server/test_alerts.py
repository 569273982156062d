"""Alerts: raised once while open, listed, acknowledged; over HTTP with an `alert` event."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
from fastapi.testclient import TestClient

from server.context import ServerContext
from server.db import models
from server.errors import NotFound
from server.monitoring import alerts

if TYPE_CHECKING:
    from tests.server.conftest import FakeClock

Headers = dict[str, str]


def raise_one(ctx: ServerContext, kind: str = "forced", **subject: object) -> int:
    subject = subject or {"device_id": "reader-main", "room_id": "main"}
    with ctx.writes() as s, s.begin():
        return alerts.raise_alert(s, kind=kind, now=ctx.clock(), **subject).id  # type: ignore[arg-type]


def get(ctx: ServerContext, alert_id: int) -> models.Alert:
    with ctx.reads() as s:
        found = s.get(models.Alert, alert_id)
        assert found is not None
        return found


def test_an_open_alert_is_not_raised_twice(ctx: ServerContext, clock: FakeClock) -> None:
    first = raise_one(ctx)
    clock.advance(minutes=2)
    assert raise_one(ctx) == first
    assert get(ctx, first).details == {"count": 2, "last_at": "2026-03-02T09:02:00Z"}
    assert get(ctx, first).created_at == clock.now - timedelta(minutes=2)
    other_door = raise_one(ctx, device_id="reader-sala-a", room_id="sala-a")
    other_kind = raise_one(ctx, "held_open")
    assert len({first, other_door, other_kind}) == 3


def test_after_acknowledgement_the_next_one_is_new(ctx: ServerContext, clock: FakeClock) -> None:
    first = raise_one(ctx)
    with ctx.writes() as s, s.begin():
        alerts.acknowledge(s, alert_id=first, now=clock.now)
    second = raise_one(ctx)
    assert second != first
    assert get(ctx, second).details == {"count": 1}


def test_acknowledging_again_keeps_the_first_time(ctx: ServerContext, clock: FakeClock) -> None:
    alert_id = raise_one(ctx)
    acked_at = clock.now
    for _ in range(2):
        with ctx.writes() as s, s.begin():
            alerts.acknowledge(s, alert_id=alert_id, now=clock.now)
        clock.advance(minutes=1)
    assert get(ctx, alert_id).acknowledged_at == acked_at
    with ctx.writes() as s, s.begin(), pytest.raises(NotFound):
        alerts.acknowledge(s, alert_id=alert_id + 100, now=clock.now)


def test_unknown_kinds_are_refused(ctx: ServerContext) -> None:
    with ctx.writes() as s, s.begin(), pytest.raises(ValueError):
        alerts.raise_alert(s, kind="spilled_coffee", now=ctx.clock())


def test_alerts_over_http(
    ctx: ServerContext, clock: FakeClock, client: TestClient, admin: Headers
) -> None:
    old = raise_one(ctx)
    clock.advance(minutes=1)
    new = raise_one(ctx, "over_capacity", room_id="sala-b", details={"people": 41})
    listed = client.get("/api/alerts", params={"open": "true"}, headers=admin).json()
    assert [a["id"] for a in listed] == [new, old]
    assert listed[0] == {
        "id": new,
        "kind": "over_capacity",
        "room_id": "sala-b",
        "device_id": None,
        "booking_id": None,
        "details": {"people": 41, "count": 1},
        "created_at": "2026-03-02T09:01:00Z",
        "acknowledged_at": None,
    }
    clock.advance(minutes=1)
    acked = client.post(f"/api/alerts/{old}/ack", headers=admin)
    assert acked.status_code == 200
    assert acked.json()["acknowledged_at"] == "2026-03-02T09:02:00Z"
    still_open = client.get("/api/alerts?open=true", headers=admin).json()
    assert [a["id"] for a in still_open] == [new]
    done = client.get("/api/alerts?open=false", headers=admin).json()
    assert [a["id"] for a in done] == [old]
    assert len(client.get("/api/alerts", headers=admin).json()) == 2


def test_alert_api_errors(client: TestClient, admin: Headers) -> None:
    assert client.get("/api/alerts").status_code == 401
    assert client.post("/api/alerts/1/ack").status_code == 401
    assert client.post("/api/alerts/999/ack", headers=admin).status_code == 404
    assert client.post("/api/alerts/0/ack", headers=admin).status_code == 422
    assert client.get("/api/alerts?limit=0", headers=admin).status_code == 422


def test_acknowledging_publishes_an_alert_event(
    ctx: ServerContext, client: TestClient, admin: Headers
) -> None:
    alert_id = raise_one(ctx)

    async def scenario() -> tuple[str, dict] | None:
        sub = ctx.events.subscribe()
        await asyncio.to_thread(client.post, f"/api/alerts/{alert_id}/ack", headers=admin)
        event = await sub.get(timeout=2)
        sub.close()
        return None if event is None else (event.kind, event.data)

    seen = asyncio.run(scenario())
    assert seen is not None
    kind, data = seen
    assert (kind, data["id"], data["acknowledged_at"]) == (
        "alert",
        alert_id,
        "2026-03-02T09:00:00Z",
    )
