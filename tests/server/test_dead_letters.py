"""Dead letters over HTTP: staff see what the server set aside (a card number hidden, and
never stored in clear), replay it through the handler it came to, or discard it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from protocol import topics
from protocol.messages import Count, Tap, encode, new_id
from server.adapters.dead_letters import DeadLetterBox, seal, unseal
from server.adapters.door_ingest import DoorIngest
from server.adapters.sensor_ingest import SensorIngest
from server.context import ServerContext
from server.db import models

SITE = "piaseczno"
CARD = "04A1B2C3"


@pytest.fixture
def consumers(client: TestClient, ctx: ServerContext) -> Iterator[None]:
    """The app's door path and sensors (not connected: a replay needs only their handlers)."""
    state = client.app.state  # type: ignore[attr-defined]
    state.ingest, state.sensors = DoorIngest(ctx), SensorIngest(ctx)
    try:
        yield
    finally:
        state.ingest.client.stop(graceful=False)
        state.sensors.client.stop(graceful=False)
        state.ingest = state.sensors = None


def keep(ctx: ServerContext, topic: str, payload: bytes, error: str = "OverflowError: x") -> int:
    DeadLetterBox(ctx.writes, ctx.card_key)(
        topic=topic,
        payload=payload,
        device_id=topics.parse(topic).device,
        error=error,
        attempts=3,
        received=ctx.clock(),
    )
    with ctx.reads() as s:
        return max(s.scalars(select(models.DeadLetter.id)))


def tap_payload(ctx: ServerContext) -> tuple[str, bytes]:
    tap = Tap(id=new_id(), ts=ctx.clock(), card=CARD)
    return tap.id, encode(tap)


def test_staff_see_held_letters_with_the_card_hidden(client, admin, ctx) -> None:  # type: ignore[no-untyped-def]
    _tap_id, payload = tap_payload(ctx)
    letter_id = keep(ctx, topics.tap(SITE, "reader-main"), payload)
    assert client.get("/api/dead-letters").status_code == 401
    [shown] = client.get("/api/dead-letters", headers=admin).json()
    assert shown["id"] == letter_id
    assert (shown["topic"], shown["device_id"], shown["status"]) == (
        topics.tap(SITE, "reader-main"),
        "reader-main",
        "held",
    )
    assert (shown["error"], shown["attempts"]) == ("OverflowError: x", 3)
    assert '"card": "(hidden)"' in shown["payload"] and CARD not in shown["payload"]
    with ctx.reads() as s:
        stored = s.get(models.DeadLetter, letter_id).payload  # type: ignore[union-attr]
    assert CARD.encode() not in stored
    assert unseal(ctx.card_key, stored) == payload


def test_replaying_a_tap_records_it_and_marks_the_letter_replayed(
    client, admin, ctx, consumers
) -> None:  # type: ignore[no-untyped-def]
    tap_id, payload = tap_payload(ctx)
    letter_id = keep(ctx, topics.tap(SITE, "reader-main"), payload)
    response = client.post(f"/api/dead-letters/{letter_id}/replay", headers=admin)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "replayed"
    assert response.json()["handled_by"].startswith("admin (bearer")
    with ctx.reads() as s:
        [event] = s.scalars(select(models.AccessEvent).where(models.AccessEvent.event_id == tap_id))
    assert event.device_id == "reader-main"
    assert client.post(f"/api/dead-letters/{letter_id}/replay", headers=admin).status_code == 409
    assert client.get("/api/dead-letters", headers=admin).json() == []
    [done] = client.get("/api/dead-letters?status=replayed", headers=admin).json()
    assert done["id"] == letter_id


def test_replaying_a_sensor_event_records_it(client, admin, ctx, consumers) -> None:  # type: ignore[no-untyped-def]
    count = Count(id=new_id(), ts=ctx.clock(), entered=3)
    letter_id = keep(ctx, topics.count(SITE, "counter-sala-b"), encode(count))
    response = client.post(f"/api/dead-letters/{letter_id}/replay", headers=admin)
    assert response.status_code == 200, response.text
    with ctx.reads() as s:
        assert s.get(models.RoomState, "sala-b").people == 3  # type: ignore[union-attr]


def test_a_letter_that_can_never_apply_stays_held(client, admin, ctx, consumers) -> None:  # type: ignore[no-untyped-def]
    letter_id = keep(ctx, topics.tap(SITE, "reader-main"), b'{"v":1,"id":"x"}')
    response = client.post(f"/api/dead-letters/{letter_id}/replay", headers=admin)
    assert response.status_code == 409
    assert "invalid_payload" in response.json()["detail"]
    assert [d["id"] for d in client.get("/api/dead-letters", headers=admin).json()] == [letter_id]


def test_replay_needs_the_ingest(client, admin, ctx) -> None:  # type: ignore[no-untyped-def]
    _tap_id, payload = tap_payload(ctx)
    letter_id = keep(ctx, topics.tap(SITE, "reader-main"), payload)
    assert client.post(f"/api/dead-letters/{letter_id}/replay", headers=admin).status_code == 503


def test_discard(client, admin, ctx) -> None:  # type: ignore[no-untyped-def]
    letter_id = keep(ctx, topics.tap(SITE, "reader-main"), b"{}")
    response = client.post(f"/api/dead-letters/{letter_id}/discard", headers=admin)
    assert (response.status_code, response.json()["status"]) == (200, "discarded")
    assert client.post(f"/api/dead-letters/{letter_id}/discard", headers=admin).status_code == 409
    with ctx.reads() as session:
        [entry] = session.scalars(select(models.AuditEntry))
    assert (entry.actor, entry.action, entry.target) == (
        "admin-token",
        "dead_letter.discard",
        str(letter_id),
    )
    assert client.post("/api/dead-letters/999/discard", headers=admin).status_code == 404
    assert client.get("/api/dead-letters", headers=admin).json() == []
    assert len(client.get("/api/dead-letters?status=all", headers=admin).json()) == 1


def test_a_letter_sealed_under_another_key_is_shown_as_unreadable(client, admin, ctx) -> None:  # type: ignore[no-untyped-def]
    with ctx.writes() as s, s.begin():
        s.add(
            models.DeadLetter(
                topic=topics.tap(SITE, "reader-main"),
                payload=seal("another key", b"{}"),
                error="x",
                received=datetime(2026, 3, 2, tzinfo=UTC),
            )
        )
    [shown] = client.get("/api/dead-letters", headers=admin).json()
    assert "another card key" in shown["payload"]
