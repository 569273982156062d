"""Sensor events on the wire reach the rooms' live state, in batches and exactly once, and
door events raise alerts, through a real broker (embedded and Mosquitto)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import partial
from typing import Any

import paho.mqtt.client as paho
import pytest
from sqlalchemy import func, select
from support import waiting
from support.clock import Clock
from support.factories import live_settings

from protocol import topics
from protocol.messages import Count, DoorEvent, Message, Motion, encode, new_id
from protocol.mqtt import MqttClient
from server.adapters.door_ingest import DoorIngest
from server.adapters.sensor_ingest import SensorIngest, seq_gap
from server.context import ServerContext
from server.db import models
from server.errors import Rejected
from server.occupancy import state
from server.occupancy.live import RoomOccupancy

wait_for = partial(waiting.wait_for, timeout=10.0)


SITE = "piaseczno"
KEY = "test-card-key-0123456789"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # Monday 10:00 in Warsaw


class Sensors:
    """Plays the occupancy sensors' (and a door's) side of the wire."""

    def __init__(self, url: str, clock: Clock) -> None:
        self.clock = clock
        self.client = MqttClient(url, client_id=f"test-sensors-{new_id()[:8]}")
        self.client.start()
        assert self.client.wait_connected(10)

    def send(self, topic: str, message: Message | bytes) -> None:
        self.client.publish(topic, message).wait_for_publish(5)

    def motion(self, device: str, on: bool = True, **fields: Any) -> Motion:
        event = Motion(id=new_id(), ts=self.clock.now, motion=on, **fields)
        self.send(topics.motion(SITE, device), event)
        return event

    def count(self, device: str, entered: int = 0, left: int = 0, **fields: Any) -> Count:
        event = Count(id=new_id(), ts=self.clock.now, entered=entered, left=left, **fields)
        self.send(topics.count(SITE, device), event)
        return event


@pytest.fixture
def system(broker, tmp_path) -> Iterator[tuple[ServerContext, Clock, SensorIngest, Sensors]]:  # type: ignore[no-untyped-def]
    clock = Clock(T0)
    ctx = ServerContext.create(live_settings(tmp_path, broker.url, KEY), clock=clock)
    ingest = SensorIngest(ctx)
    ingest.start()
    assert ingest.client.wait_connected(10)
    wire = Sensors(broker.url, clock)
    try:
        yield ctx, clock, ingest, wire
    finally:
        wire.client.stop()
        ingest.stop()
        ctx.close()


def view(ctx: ServerContext, room: str) -> RoomOccupancy:
    with ctx.reads() as s:
        return state.view(s, site=ctx.site, room_id=room, now=ctx.clock())


def rows(ctx: ServerContext, device: str) -> int:
    with ctx.reads() as s:
        E = models.DeviceEvent
        return s.scalar(select(func.count(E.id)).where(E.device_id == device)) or 0


def test_seq_gap() -> None:
    assert seq_gap(None, "b", 9) == 0
    assert seq_gap(("b", 1), "b", 2) == 0
    assert seq_gap(("b", 1), "b", 4) == 2
    assert seq_gap(("b", 5), "b", 3) == 0  # a late one is no gap
    assert seq_gap(("b", 5), "c", 1) == 0  # a new boot starts again
    assert seq_gap(("b", 5), None, None) == 0


def test_every_message_is_checked_though_a_sensor_s_topic_is_parsed_once(ctx) -> None:  # type: ignore[no-untyped-def]
    ingest = SensorIngest(ctx)  # fed directly: never connected
    count = Count(id=new_id(), ts=ctx.clock(), entered=1)
    for _ in range(2):
        for topic, payload in (
            (topics.motion(SITE, "pir-ghost"), encode(count)),  # no such device
            (topics.count(SITE, "reader-main"), encode(count)),  # no occupancy sensor
            (f"hub/{SITE}/dev/counter-main/evt/tap", encode(count)),  # no sensor event
            (topics.motion(SITE, "pir-sala-a"), encode(count)),  # a Count is no Motion
        ):
            with pytest.raises(Rejected):
                ingest.handle(topic, payload)
        ingest.handle(
            topics.count(SITE, "counter-main"), encode(count.model_copy(update={"id": new_id()}))
        )
    assert (ingest.counters.unknown_device, ingest.counters.invalid) == (4, 4)
    assert rows(ctx, "counter-main") == 2
    assert view(ctx, "main").people == 2


def test_gaps_in_seq_are_each_counted_and_logged_once_a_minute(ctx, caplog) -> None:  # type: ignore[no-untyped-def]
    ingest = SensorIngest(ctx)  # fed directly: never connected
    for seq in (1, 3, 5, 7):  # a sensor that skips every other seq
        count = Count(id=new_id(), ts=ctx.clock(), entered=1, boot="b1", seq=seq)
        ingest.handle(topics.count(SITE, "counter-main"), encode(count))
    assert (ingest.counters.seq_gaps, ingest.counters.missing) == (3, 3)
    lines = [r.getMessage() for r in caplog.records if "lost before seq" in r.getMessage()]
    assert lines == ["counter-main: 1 event(s) lost before seq 3"]


def test_a_batch_holds_at_most_batch_max_and_the_rest_comes_next(ctx) -> None:  # type: ignore[no-untyped-def]
    ingest = SensorIngest(ctx, batch_max=5, batch_wait=0.05, idle_gap=0.001)  # never connected
    for i in range(7):
        msg = paho.MQTTMessage(mid=i + 1, topic=topics.count(SITE, "counter-main").encode())
        msg.payload = encode(Count(id=new_id(), ts=ctx.clock(), entered=1))
        ingest._on_message(msg)
    first, second, third = ingest._collect(), ingest._collect(), ingest._collect()
    assert [letter.seq for letter in first + second] == list(range(1, 8))  # in arrival order
    assert (len(first), len(second), third) == (5, 2, [])


def test_motion_on_the_wire_makes_the_room_occupied(system) -> None:  # type: ignore[no-untyped-def]
    ctx, clock, ingest, wire = system
    wire.motion("pir-sala-a")
    wire.motion("pir-sala-a", on=False)
    wait_for(lambda: ingest.counters.recorded == 2)
    assert view(ctx, "sala-a").occupied
    assert view(ctx, "sala-a").last_motion == clock.now
    wire.count("counter-sala-b", entered=2)
    wait_for(lambda: view(ctx, "sala-b").people == 2)
    clock.now = T0.replace(minute=15)  # the vacancy timeout later
    assert not view(ctx, "sala-a").occupied
    wait_for(lambda: ingest.counters.recorded == 3)  # counted just after the commit


def test_a_duplicate_delivery_is_recorded_once(system) -> None:  # type: ignore[no-untyped-def]
    ctx, _clock, ingest, wire = system
    event = wire.count("counter-main", entered=1)
    wire.send(topics.count(SITE, "counter-main"), event)
    wait_for(lambda: ingest.counters.duplicates == 1)
    assert rows(ctx, "counter-main") == 1
    assert view(ctx, "main").people == 1


def test_a_burst_is_committed_in_batches_and_recorded_exactly_once(system) -> None:  # type: ignore[no-untyped-def]
    ctx, clock, ingest, wire = system
    infos = []
    for _ in range(250):
        for entered, left in ((1, 0), (0, 1)):
            event = Count(id=new_id(), ts=clock.now, entered=entered, left=left)
            infos.append(wire.client.publish(topics.count(SITE, "counter-sala-b"), event))
    for info in infos:
        info.wait_for_publish(10)
    wait_for(lambda: ingest.counters.recorded == 500, timeout=30)
    assert rows(ctx, "counter-sala-b") == 500
    assert ingest.counters.duplicates == 0
    assert ingest.counters.batches < 500
    assert ingest.counters.largest_batch > 1
    assert view(ctx, "sala-b").people == 0


def test_a_gap_in_seq_is_counted(system) -> None:  # type: ignore[no-untyped-def]
    ctx, _clock, ingest, wire = system
    for seq in (1, 2, 5, 6):
        wire.motion("pir-cowork", boot="boot-1", seq=seq)
    wire.motion("pir-cowork", boot="boot-2", seq=1)  # restarted: no gap
    wait_for(lambda: ingest.counters.recorded == 5)
    assert (ingest.counters.seq_gaps, ingest.counters.missing) == (1, 2)


def test_unknown_devices_and_invalid_payloads_are_dropped(system) -> None:  # type: ignore[no-untyped-def]
    ctx, _clock, ingest, wire = system
    wire.motion("pir-ghost")
    wire.motion("reader-main")  # a door controller is no occupancy sensor
    wire.send(topics.motion(SITE, "pir-sala-a"), b"not json")
    wire.send(
        topics.count(SITE, "counter-main"),
        b'{"v":1,"id":"x","ts":"2026-03-02T09:00:00Z","entered":-1}',
    )
    wire.motion("pir-sala-a")
    wait_for(lambda: ingest.counters.recorded == 1)
    assert (ingest.counters.unknown_device, ingest.counters.invalid) == (2, 2)
    assert rows(ctx, "pir-ghost") == rows(ctx, "reader-main") == 0


def test_what_was_committed_is_acknowledged(system, broker) -> None:  # type: ignore[no-untyped-def]
    if broker.name != "mosquitto":
        pytest.skip("the embedded broker keeps no queue for a disconnected session")
    ctx, _clock, ingest, wire = system
    for _ in range(20):
        wire.count("counter-main", entered=1)
    wire.send(topics.count(SITE, "counter-main"), b"not json")
    wait_for(lambda: ingest.counters.recorded == 20 and ingest.counters.invalid == 1)
    ingest.stop()
    again = SensorIngest(ctx)  # the same client id: the same persistent session
    again.start()
    try:
        assert again.client.wait_connected(10)
        wire.count("counter-main", entered=1)
        wait_for(lambda: again.counters.recorded == 1)
        time.sleep(0.3)
        assert (again.counters.received, again.counters.duplicates) == (1, 0)
    finally:
        again.stop()
    assert view(ctx, "main").people == 21


def test_room_events_reach_the_event_bus(system) -> None:  # type: ignore[no-untyped-def]
    ctx, _clock, _ingest, wire = system

    async def scenario() -> dict[str, dict]:
        sub = ctx.events.subscribe()
        await asyncio.to_thread(wire.count, "counter-sala-b", 41)
        seen: dict[str, dict] = {}
        while "room" not in seen and (event := await sub.get(timeout=10)) is not None:
            seen[event.kind] = event.data
        sub.close()
        return seen

    seen = asyncio.run(scenario())
    assert seen["room"] == {
        "id": "sala-b",
        "occupied": True,
        "people": 41,
        "last_motion": None,
        "over_capacity": True,
    }
    assert (seen["alert"]["kind"], seen["alert"]["room_id"]) == ("over_capacity", "sala-b")


def test_a_forced_door_on_the_door_path_raises_an_alert(broker, tmp_path) -> None:  # type: ignore[no-untyped-def]
    clock = Clock(T0)
    ctx = ServerContext.create(live_settings(tmp_path, broker.url, KEY), clock=clock)
    doors = DoorIngest(ctx)
    doors.start()
    wire = Sensors(broker.url, clock)
    try:
        assert doors.client.wait_connected(10)
        forced = DoorEvent(id=new_id(), ts=clock.now, event="forced")
        for _ in range(2):
            wire.send(topics.door_event(SITE, "reader-main"), forced)
        wire.send(
            topics.door_event(SITE, "reader-main"),
            DoorEvent(id=new_id(), ts=clock.now, event="opened"),
        )
        wait_for(lambda: rows(ctx, "reader-main") == 2)
        with ctx.reads() as s:
            [alert] = s.scalars(select(models.Alert)).all()
        assert (alert.kind, alert.device_id, alert.room_id) == ("forced", "reader-main", "main")
        assert alert.details["count"] == 1  # the second delivery was the same event
    finally:
        wire.client.stop()
        doors.stop()
        ctx.close()
