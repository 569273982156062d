"""The database's disk filling and emptying under the running application, through
Mosquitto (SQLite's `max_page_count` makes the disk full on the server's own connections,
no mount needed), with a server restart while it is full: every Count is either
committed or still held, none dropped; every tap answered and recorded once; /healthz
answers 503 while the disk is full and 200 after; and the door path is back by itself
once there is room, without another restart (issue 8)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from ingestwire import SITE, Doors, rows, server_rows, staff_contexts, wait_for
from sqlalchemy import event, func, select
from support.database import sqlite_only

from protocol import topics
from protocol.messages import Count, new_id
from server.adapters.door_ingest import DoorIngest
from server.adapters.sensor_ingest import SensorIngest
from server.app import create_app
from server.context import ServerContext
from server.db import models

pytestmark = [pytest.mark.mosquitto, sqlite_only("the full disk is SQLite's max_page_count")]

ROOM, COUNTER = "main", "counter-main"


class Disk:
    """Makes the database's disk full, or not, on every connection the server checks out."""

    def __init__(self, ctx: ServerContext) -> None:
        self.engine = ctx.engine
        self.full = False
        event.listen(self.engine, "checkout", self._limit)

    def _limit(self, dbapi_conn: Any, _record: Any, _proxy: Any) -> None:
        # Below the file's size SQLite takes the size itself: no page may be added.
        pages = 1 if self.full else 2**30
        cursor = dbapi_conn.cursor()
        cursor.execute(f"PRAGMA max_page_count = {pages}")
        cursor.close()

    def close(self) -> None:
        event.remove(self.engine, "checkout", self._limit)


@pytest.fixture
def ctx(mosquitto_broker: Any, tmp_path: Path) -> Iterator[ServerContext]:
    yield from staff_contexts(mosquitto_broker.url, tmp_path)


@pytest.fixture
def disk(ctx: ServerContext) -> Iterator[Disk]:
    made = Disk(ctx)
    try:
        yield made
    finally:
        made.close()


@contextmanager
def serving(ctx: ServerContext) -> Iterator[TestClient]:
    """The server running (its door path and sensors connected), stopped afterwards."""
    with TestClient(create_app(ctx.settings, ctx=ctx)) as client:
        assert client.app.state.ingest.wait_connected(10)  # type: ignore[attr-defined]
        assert client.app.state.sensors.client.wait_connected(10)  # type: ignore[attr-defined]
        yield client


def people(ctx: ServerContext) -> int:
    with ctx.reads() as s:
        state = s.get(models.RoomState, ROOM)
        return 0 if state is None or state.people is None else state.people


def counts_stored(ctx: ServerContext) -> int:
    with ctx.reads() as s:
        E = models.DeviceEvent
        return s.scalar(select(func.count(E.id)).where(E.device_id == COUNTER)) or 0


def recorded(ctx: ServerContext, tap_id: str) -> bool:
    with ctx.reads() as s:
        A = models.AccessEvent
        return s.scalar(select(A.id).where(A.event_id == tap_id)) is not None


def unavailable(app: TestClient) -> None:
    """Wait for /healthz's 503 of a database that takes no writes."""
    seen = []
    wait_for(lambda: seen.append(app.get("/healthz")) or seen[-1].status_code == 503, 10, "503")
    assert (seen[-1].json()["status"], seen[-1].json()["db"]) == ("unavailable", "read_only")


def test_a_full_disk_and_a_restart_drop_nothing_and_the_door_path_comes_back_by_itself(
    mosquitto_broker: Any, ctx: ServerContext, disk: Disk
) -> None:
    doors = Doors(mosquitto_broker.url)
    sent = 0

    def count() -> None:
        nonlocal sent
        message = Count(id=new_id(), ts=datetime.now(UTC), entered=1)
        doors.send(topics.count(SITE, COUNTER), message).wait_for_publish(5)
        sent += 1

    try:
        with serving(ctx) as app:
            ingest: DoorIngest = app.app.state.ingest  # type: ignore[attr-defined]
            sensors: SensorIngest = app.app.state.sensors  # type: ignore[attr-defined]
            for _ in range(20):
                count()
            wait_for(lambda: people(ctx) == 20, 10, "the first counts recorded")
            assert app.get("/healthz").status_code == 200

            disk.full = True
            # What free room the file had is used up, table by table, until neither
            # path's writes are taken any more.
            while sensors.inbox.held() == 0:
                assert sent < 3000, "the disk never filled"
                count()
                wait_for(
                    lambda: sensors.counters.received == sent or sensors.inbox.held(), 10, "heard"
                )
            taps = []
            while ingest.inbox.held() == 0:
                assert len(taps) < 1000, "the disk never filled"
                taps.append(doors.tap())
                wait_for(lambda: recorded(ctx, taps[-1].id) or ingest.inbox.held(), 10, "heard")
            for _ in range(30):  # held back by the broker, or held by the sensor path
                count()
            unavailable(app)
            assert counts_stored(ctx) < sent
            assert not all(recorded(ctx, tap.id) for tap in taps)
            assert ingest.inbox.lag_s() > 0.0

        # The server restarts with the disk still full: what it held was never
        # acknowledged, so the broker gives it to the next one, with what came meanwhile.
        for _ in range(10):
            count()
        taps.append(doors.tap())
        with serving(ctx) as app:
            ingest = app.app.state.ingest  # type: ignore[attr-defined]
            sensors = app.app.state.sensors  # type: ignore[attr-defined]
            unavailable(app)
            assert counts_stored(ctx) < sent
            disk.full = False  # room again: no restart, it all comes back by itself
            wait_for(lambda: counts_stored(ctx) == sent, 15, "every count committed")
            wait_for(lambda: all(recorded(ctx, tap.id) for tap in taps), 10, "the taps recorded")
            doors.wait_answered([tap.id for tap in taps], timeout=10)
            assert server_rows(ctx, [tap.id for tap in taps]) == Counter(
                {tap.id: 1 for tap in taps}
            )
            wait_for(lambda: app.get("/healthz").status_code == 200, 10, "/healthz 200")
            assert people(ctx) == sent
            fresh = doors.tap()
            doors.wait_answered([fresh.id], timeout=2)
            wait_for(lambda: recorded(ctx, fresh.id), 5, "the fresh tap recorded")
            ok = {"status": "ok", "db": "ok", "mqtt": "connected", "door_path_lag_s": 0.0}
            wait_for(lambda: app.get("/healthz").json() == ok, 5, "/healthz all ok")
            assert rows(ctx, models.DeadLetter) == 0
            assert sensors.inbox.held() == ingest.inbox.held() == 0
    finally:
        doors.client.stop()
