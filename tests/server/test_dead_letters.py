"""Dead letters over HTTP: staff see what the server set aside (a card number hidden, and
never stored in clear), replay it through the handler it came to, or discard it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from support.signin import make_user, sign_in

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


# -- the reception's page ----------------------------------------------------------------


@pytest.fixture
def desk(client: TestClient, ctx: ServerContext) -> tuple[str, int]:
    """A receptionist signed in with a password: the CSRF token of their forms, their id."""
    user = make_user(ctx, "staff", "ewa@example.org")
    return sign_in(client, "ewa@example.org", "correct horse battery")["X-CSRF-Token"], user.id


def row(page: str, letter_id: int) -> str:
    [found] = re.findall(rf'<tr id="letter-{letter_id}">(.*?)</tr>', page, flags=re.S)
    return found


def test_staff_see_the_held_letters_on_a_page_and_the_banner_links_to_it(client, ctx, desk) -> None:  # type: ignore[no-untyped-def]
    letter_id = keep(ctx, topics.tap(SITE, "reader-main"), tap_payload(ctx)[1])
    page = client.get("/reception/dead-letters?lang=en")
    assert page.status_code == 200
    shown = row(page.text, letter_id)
    assert "reader-main (" in shown and topics.tap(SITE, "reader-main") in shown
    assert "OverflowError: x" in shown and ">3<" in shown
    assert "2026-03-02 10:00:00" in shown  # local time (the clock: 09:00 UTC)
    assert f'action="/reception/dead-letters/{letter_id}/replay?lang=en"' in shown
    assert 'name="csrf_token"' in shown and CARD not in page.text
    assert "Unrecorded device messages" in page.text
    assert "Niezapisane wiadomości urządzeń" in client.get("/reception/dead-letters?lang=pl").text
    assert 'href="/reception/dead-letters?lang=pl"' in client.get("/?lang=pl").text


def test_staff_replay_and_discard_from_the_page_audited(client, ctx, consumers, desk) -> None:  # type: ignore[no-untyped-def]
    token, user_id = desk
    tap_id, payload = tap_payload(ctx)
    replayed = keep(ctx, topics.tap(SITE, "reader-main"), payload)
    discarded = keep(ctx, topics.tap(SITE, "reader-main"), b"{}")
    form = {"csrf_token": token}
    answer = client.post(
        f"/reception/dead-letters/{replayed}/replay?lang=en", data=form, follow_redirects=False
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/reception/dead-letters?done=replayed&lang=en"
    answer = client.post(
        f"/reception/dead-letters/{discarded}/discard?lang=en", data=form, follow_redirects=True
    )
    assert "The message was discarded." in answer.text
    assert "No unrecorded messages." in answer.text
    with ctx.reads() as s:
        assert s.scalars(select(models.AccessEvent.event_id)).all() == [tap_id]
        audit = s.scalars(select(models.AuditEntry).order_by(models.AuditEntry.id)).all()
        letter = s.get(models.DeadLetter, replayed)
        assert letter is not None and letter.handled_by.startswith("staff (session")  # type: ignore[union-attr]
    assert [(e.actor, e.action, e.target) for e in audit][-2:] == [
        (f"user:{user_id}", "dead_letter.replay", str(replayed)),
        (f"user:{user_id}", "dead_letter.discard", str(discarded)),
    ]


def test_a_replay_that_cannot_apply_is_told_in_the_readers_language(
    client, ctx, consumers, desk
) -> None:  # type: ignore[no-untyped-def]
    token, _ = desk
    letter_id = keep(ctx, topics.tap(SITE, "reader-main"), b'{"v":1,"id":"x"}')
    answer = client.post(
        f"/reception/dead-letters/{letter_id}/replay?lang=uk", data={"csrf_token": token}
    )
    assert answer.status_code == 409
    assert 'role="alert"' in answer.text
    assert "Це повідомлення неможливо записати" in answer.text
    assert f'id="letter-{letter_id}"' in answer.text  # still held
    gone = client.post("/reception/dead-letters/999/discard", data={"csrf_token": token})
    assert gone.status_code == 404 and 'role="alert"' in gone.text
    refused = client.post(f"/reception/dead-letters/{letter_id}/discard", data={})
    assert refused.status_code == 403  # no CSRF token: nothing changes
    with ctx.reads() as s:
        assert s.get(models.DeadLetter, letter_id).status == "held"  # type: ignore[union-attr]
