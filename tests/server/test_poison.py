"""No message can stall the door path, through Mosquitto with its persistent session: 1,000
poisoned messages of every class on every door-path topic, interleaved with valid taps
and with a restart of the door path in the middle; and the same for a door Status of
`"interval_s":1e300` sent 50 times (issue 8)."""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from ingestwire import (
    ADMIN,
    SITE,
    STAFF,
    Doors,
    rows,
    send_with_a_restart,
    server_rows,
    staff_contexts,
    started,
    wait_for,
)

from protocol import topics
from protocol.messages import (
    Decision,
    DoorEvent,
    Message,
    Result,
    Status,
    Tap,
    encode,
    new_id,
)
from server.adapters.door_ingest import DoorIngest
from server.app import create_app
from server.context import ServerContext
from server.db import models

pytestmark = pytest.mark.mosquitto

DOORS = ("reader-main", "reader-sala-a", "reader-sala-b", "reader-cowork")
KINDS = ("tap", "result", "door", "status", "decision")


def topic_of(kind: str, device: str) -> str:
    """The door-path topic of `kind` for `device`; a device id the builders refuse
    (e.g. `BAD`) is put in place of a valid one."""
    build: dict[str, Callable[[str, str], str]] = {
        "tap": topics.tap,
        "result": topics.result,
        "door": topics.door_event,
        "status": topics.status,
        "decision": topics.decision,
    }
    if topics.ID_RE.match(device):
        return build[kind](SITE, device)
    return build[kind](SITE, "reader-main").replace("/reader-main/", f"/{device}/")


def valid(kind: str) -> Message:
    now = datetime.now(UTC)
    messages: dict[str, Message] = {
        "tap": Tap(id=new_id(), ts=now, card=STAFF),
        # a Result for a tap never sent
        "result": Result(id=new_id(), tap=new_id(), applied="server", granted=True),
        "door": DoorEvent(id=new_id(), ts=now, event="opened"),
        "status": Status(state="online", kind="door", ts=now),
        "decision": Decision(id=new_id(), granted=True, reason="staff", by="gateway"),
    }
    return messages[kind]


def poison(kind: str, cls: str) -> tuple[str, bytes]:
    """One poisoned message of class `cls` on a `kind` topic: (topic, payload)."""
    fields = json.loads(encode(valid(kind)))
    out_of_range = {
        "tap": {"seq": 1e30},
        "result": {"seq": 1e30},
        "door": {"seq": 1e30},
        "status": {"interval_s": 1e300},
        "decision": {"unlock_s": 1e300},
    }
    payloads = {
        "bad_topic": encode(valid(kind)),
        "unknown_device": encode(valid(kind)),
        "not_json": random.choice([b"not json", b"\xff\xfe\x00", b"{"]),
        "not_an_object": random.choice([b"[1, 2]", b"null", b'"tap"', b"42"]),
        "invalid_payload": random.choice(
            [
                b'{"v":1,"id":"x"}',
                json.dumps(fields | out_of_range[kind]).encode(),
                json.dumps(fields | {"v": 1e30}).encode(),
                json.dumps(fields | {"v": 0}).encode(),
            ]
        ),
        "too_large": json.dumps(fields | {"pad": "x" * 5000}).encode(),
        "never_sent": encode(valid(kind)),
    }
    device = {
        "bad_topic": random.choice(["BAD", "x" * 65, "r\u00e9ader"]),
        "unknown_device": "reader-ghost",
    }
    return topic_of(kind, device.get(cls, random.choice(DOORS))), payloads[cls]


CLASSES = (
    "bad_topic",
    "unknown_device",
    "not_json",
    "not_an_object",
    "invalid_payload",
    "too_large",
)


@pytest.fixture
def ctx(mosquitto_broker: Any, tmp_path: Path) -> Iterator[ServerContext]:
    yield from staff_contexts(mosquitto_broker.url, tmp_path)


def recorded_once(ctx: ServerContext, tap_ids: list[str]) -> None:
    """Every one of the taps has its one row by the server (a decision that changes
    nothing goes out before its row is committed: waited for)."""
    wait_for(lambda: len(server_rows(ctx, tap_ids)) == len(tap_ids), 20, "every tap's row")
    assert server_rows(ctx, tap_ids) == Counter({tap: 1 for tap in tap_ids})


def test_a_thousand_poisoned_messages_and_a_restart_stall_nothing(
    mosquitto_broker: Any, ctx: ServerContext
) -> None:
    random.seed(8)
    doors = Doors(mosquitto_broker.url)
    stream: list[tuple[str, bytes | Tap]] = []
    sent: Counter[str] = Counter()
    for i in range(1000):
        kind = KINDS[i % len(KINDS)]
        cls = random.choice(CLASSES + (("never_sent",) if kind == "result" else ()))
        sent[cls] += 1
        stream.append(poison(kind, cls))
        if i % 10 == 0:  # a valid tap every ten
            device = DOORS[(i // 10) % len(DOORS)]
            stream.append(
                (topics.tap(SITE, device), Tap(id=new_id(), ts=datetime.now(UTC), card=STAFF))
            )
    taps = [m.id for _, m in stream if isinstance(m, Tap)]
    assert set(sent) >= set(CLASSES)
    ingests = [started(ctx)]
    try:
        send_with_a_restart(ctx, doors, stream, ingests, down_for=100)
        doors.wait_answered(taps, timeout=20)
        fresh = doors.tap()
        doors.wait_answered([fresh.id], timeout=2)
        recorded_once(ctx, [*taps, fresh.id])
        assert rows(ctx, models.DeadLetter) == 0  # none of it was a bug for the server
        rejected: Counter[str] = Counter()
        for ingest in ingests:
            for (_device, reason), n in ingest.rejections.counts().items():
                rejected[reason] += n
        for cls in CLASSES:  # (a message under way at the restart is counted twice)
            assert rejected[cls] >= sent[cls], (cls, rejected, sent)

        # Nothing left unacknowledged: every message the door path got was acknowledged,
        # and one started on the same session gets none of them again (only the echo of
        # a decision published as the last one stopped may still come).
        last = ingests.pop()
        wait_for(lambda: last.inbox.lag_s() == 0.0, 10, "every message settled")
        last.stop()
        assert last.inbox.stats.acked == last.inbox.stats.received
        again = DoorIngest(ctx)
        heard: list[str] = []
        handle = again.inbox.handle
        again.inbox.handle = lambda topic, payload: heard.append(topic) or handle(topic, payload)
        again.start()
        ingests.append(again)
        wait_for(again.backlog_applied.is_set, 10, "the marker back")
        assert {topics.parse(topic).kind for topic in heard} <= {"decision"}, heard
        assert again.rejections.counts() == {}
    finally:
        doors.client.stop()
        for ingest in ingests:
            ingest.stop()


def test_a_status_of_1e300_repeated_and_a_restart_stall_nothing(
    mosquitto_broker: Any, ctx: ServerContext
) -> None:
    doors = Doors(mosquitto_broker.url)
    headers = {"Authorization": f"Bearer {ADMIN}"}
    status = json.loads(encode(Status(state="online", kind="door", ts=datetime.now(UTC))))
    bad = json.dumps(status | {"interval_s": 1e300}).encode()
    stream: list[tuple[str, bytes | Message]] = []
    for n in range(50):
        stream.append((topics.status(SITE, "reader-main"), bad))
        if n % 5 == 4:  # a tap every five, some of them while the server is down
            device = DOORS[n % len(DOORS)]
            tap = Tap(id=new_id(), ts=datetime.now(UTC), card=STAFF)
            stream.append((topics.tap(SITE, device), tap))
    taps = [m.id for _, m in stream if isinstance(m, Tap)]
    ingests = [started(ctx)]
    try:
        send_with_a_restart(ctx, doors, stream, ingests, down_for=10)
        doors.retain(topics.status(SITE, "reader-main"), bad)
        doors.wait_answered(taps, timeout=20)
        recorded_once(ctx, taps)

        def rejected() -> Counter[tuple[str, str]]:
            return sum((Counter(i.rejections.counts()) for i in ingests), Counter())

        # (a message under way at the restart is counted twice)
        wait_for(lambda: rejected()[("reader-main", "invalid_payload")] >= 51, 10, "counted")
        assert set(rejected()) == {("reader-main", "invalid_payload")}
        last = ingests.pop()
        wait_for(lambda: last.inbox.lag_s() == 0.0, 10, "every message settled")
        last.stop()
        assert last.inbox.stats.acked == last.inbox.stats.received

        with TestClient(create_app(ctx.settings, ctx=ctx)) as app:  # and once more
            ingest: DoorIngest = app.app.state.ingest  # type: ignore[attr-defined]
            assert ingest.wait_connected(10)
            assert app.get("/api/devices", headers=headers).status_code == 200
            wait_for(lambda: app.get("/healthz").status_code == 200, 5, "/healthz 200")
            # the longest interval allowed is arithmetic the server can do
            longest = Status(state="online", kind="door", ts=datetime.now(UTC), interval_s=86_400)
            doors.send(topics.status(SITE, "reader-main"), longest).wait_for_publish(5)
            wait_for(lambda: _status_of(ctx, "reader-main") == 86_400, 10, "the status stored")
            assert app.get("/api/devices", headers=headers).status_code == 200
            doors.wait_answered([doors.tap().id], timeout=2)
    finally:
        doors.retain(topics.status(SITE, "reader-main"), b"")
        doors.client.stop()
        for ingest in ingests:
            ingest.stop()


def _status_of(ctx: ServerContext, device: str) -> float | None:
    with ctx.reads() as s:
        row = s.get(models.Device, device)
        return None if row is None or not row.status else row.status.get("interval_s")
