"""`GET /api/stream`: the snapshot first, then live events, heartbeats, and who may listen."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from support.factories import api_booking, api_member

from server.api import stream
from server.context import ServerContext
from server.live.kinds import AlertEvent, RoomEvent


@dataclass
class Sse:
    kind: str
    id: str | None
    data: Any


def _admin_token(client) -> str:  # type: ignore[no-untyped-def]
    return client.app.state.ctx.settings.admin_token  # type: ignore[no-any-return]


def read_events(lines: Iterator[str], *, want: int = 1, deadline: float = 10.0) -> list[Sse]:
    """Parse Server-Sent Events from a line iterator until `want` events (not comments or
    `retry:` lines) have come, or fail after `deadline` seconds (heartbeats keep the
    iterator moving, so the deadline is checked)."""
    found: list[Sse] = []
    fields: dict[str, str] = {}
    end = time.monotonic() + deadline
    for line in lines:
        if time.monotonic() > end:
            break
        if line == "":
            if "event" in fields or "data" in fields:
                data = json.loads(fields["data"]) if "data" in fields else None
                found.append(Sse(fields.get("event", "message"), fields.get("id"), data))
                if len(found) >= want:
                    return found
            fields = {}
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        fields[name] = value.removeprefix(" ")
    raise AssertionError(f"only {len(found)} of {want} events arrived: {found}")


@pytest.fixture(autouse=True)
def quick_heartbeat(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stream, "HEARTBEAT_S", 0.2)
    monkeypatch.setattr(stream, "POLL_S", 0.05)


def _book_sala_a_now(client, admin, clock) -> int:  # type: ignore[no-untyped-def]
    member = api_member(client, admin, name="Olena Szewczenko", category="ngo")
    start = clock.now - timedelta(minutes=5)
    booking = api_booking(client, admin, member["id"], start, title="Spotkanie fundacji")
    return int(booking["id"])


def test_without_a_token_is_401(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/api/stream")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


def test_a_gateway_token_may_not_listen(client, gateway) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/api/stream", headers=gateway).status_code == 403


def test_snapshot_first_then_live_events(client, admin, ctx: ServerContext, clock) -> None:  # type: ignore[no-untyped-def]
    _book_sala_a_now(client, admin, clock)
    with client.stream("GET", "/api/stream", headers=admin) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-cache"
        lines = response.iter_lines()
        assert next(lines) == f"retry: {stream.RETRY_MS}"
        (snapshot,) = read_events(lines)
        assert snapshot.kind == "snapshot"
        assert snapshot.id is None
        rooms = {r["id"]: r for r in snapshot.data["rooms"]}
        assert list(rooms) == ["main", "sala-a", "sala-b", "coworking"]
        assert rooms["sala-a"]["state"] == "booked_waiting"
        assert rooms["sala-a"]["current"]["title"] == "Spotkanie fundacji"
        assert rooms["sala-b"]["state"] == "free"
        assert {"alerts", "feed", "evacuation", "devices"} <= set(snapshot.data)

        ctx.events.publish(
            RoomEvent(
                id="sala-a", occupied=True, people=None, last_motion=None, over_capacity=False
            )
        )
        ctx.events.publish(
            AlertEvent(
                id=7,
                kind="forced",
                room_id="main",
                device_id="reader-main",
                booking_id=None,
                details={},
                created_at="2026-03-02T09:00:00Z",
                acknowledged_at=None,
            )
        )
        room, alert = read_events(lines, want=2)
    assert (room.kind, room.data) == (
        "room",
        {
            "id": "sala-a",
            "occupied": True,
            "people": None,
            "last_motion": None,
            "over_capacity": False,
        },
    )
    assert alert.kind == "alert" and alert.data["kind"] == "forced"
    assert room.id is not None and alert.id is not None and int(alert.id) > int(room.id)


def test_the_subscription_ends_with_the_connection(client, admin, ctx: ServerContext) -> None:  # type: ignore[no-untyped-def]
    with client.stream("GET", "/api/stream", headers=admin) as response:
        read_events(response.iter_lines())
        assert ctx.events.listeners == 1
    deadline = time.monotonic() + 5
    while ctx.events.listeners and time.monotonic() < deadline:
        time.sleep(0.02)
    assert ctx.events.listeners == 0


def test_the_dashboard_session_may_listen(client, ctx: ServerContext) -> None:  # type: ignore[no-untyped-def]
    signed_in = client.get(f"/login?token={_admin_token(client)}", follow_redirects=False)
    assert signed_in.status_code == 303
    with client.stream("GET", "/api/stream") as response:  # the cookie, no Authorization
        assert response.status_code == 200
        (snapshot,) = read_events(response.iter_lines())
    assert snapshot.kind == "snapshot"


def test_an_unsigned_cookie_is_refused(client) -> None:  # type: ignore[no-untyped-def]
    client.cookies.set("spacehub_session", "4102444800.nonce.0000")
    assert client.get("/api/stream").status_code == 401


class _Request:
    """What the stream asks of its request: whether the client has gone."""

    def __init__(self) -> None:
        self.gone = False

    async def is_disconnected(self) -> bool:
        return self.gone


def test_heartbeats_while_quiet_and_the_end_when_the_client_leaves(ctx: ServerContext) -> None:
    async def run() -> list[str]:
        request = _Request()
        chunks: list[str] = []
        gen = stream.events(request, ctx, heartbeat=0.05, poll=0.01)  # type: ignore[arg-type]
        async for chunk in gen:
            chunks.append(chunk)
            if chunks.count(": heartbeat\n\n") == 2:
                assert ctx.events.listeners == 1
                request.gone = True
        return chunks

    chunks = asyncio.run(run())
    assert chunks[0].startswith("retry: ")
    assert chunks[1].startswith("event: snapshot\ndata: {")
    assert chunks[2:] == [": heartbeat\n\n", ": heartbeat\n\n"]
    assert ctx.events.listeners == 0


def test_one_event_is_one_line_of_json() -> None:
    text = stream.sse("access", {"name": "Ewa\nNowak", "ok": True}, 12)
    assert text == 'event: access\nid: 12\ndata: {"name":"Ewa\\nNowak","ok":true}\n\n'
