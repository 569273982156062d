"""A door controller through a real Mosquitto: a card tapped on the reader reaches the
broker as a Tap, a Decision sent back opens the strike and a Result comes back."""

from __future__ import annotations

import queue
import time
from collections.abc import Iterator
from functools import partial

import paho.mqtt.client as paho
import pytest
from gpiozero.pins.mock import MockFactory
from support.waiting import eventually

from devices.config import DoorConfig
from devices.door import DoorRunner, drive_idle
from devices.readers import FakeReader
from protocol import topics
from protocol.messages import Decision, DoorMode, Result, Status, Tap, decode, encode, utcnow

wait_until = partial(eventually, timeout=10.0)


pytestmark = pytest.mark.mosquitto

SITE, DEVICE, STRIKE = "piaseczno", "reader-main", 17


@pytest.fixture
def observer(mosquitto: str) -> Iterator[tuple[paho.Client, queue.Queue[paho.MQTTMessage]]]:
    """A plain paho client that sees everything the door publishes."""
    received: queue.Queue[paho.MQTTMessage] = queue.Queue()
    client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="test-observer")
    client.on_message = lambda c, u, msg: received.put(msg)
    port = int(mosquitto.rsplit(":", 1)[1])
    client.connect("127.0.0.1", port)
    client.subscribe(f"hub/{SITE}/dev/{DEVICE}/#", qos=1)
    client.loop_start()
    try:
        yield client, received
    finally:
        client.disconnect()
        client.loop_stop()


def next_on(received: queue.Queue[paho.MQTTMessage], topic: str) -> bytes:
    """The payload of the next message on `topic`, skipping others."""
    deadline = time.monotonic() + 10
    while (left := deadline - time.monotonic()) > 0:
        msg = received.get(timeout=left)
        if msg.topic == topic:
            return bytes(msg.payload)
    raise AssertionError(f"nothing on {topic}")


def test_a_tap_is_decided_over_the_broker_and_opens_the_strike(
    mosquitto: str, factory: MockFactory, observer, tmp_path
):
    client, received = observer
    config = DoorConfig.model_validate(
        {
            "site": SITE,
            "device": DEVICE,
            "mqtt": {"url": mosquitto},
            "data_dir": str(tmp_path),
            "pins": {"strike": STRIKE, "contact": 24, "exit": 25, "fire": 5},
            # generous, so a slow CI machine does not time the tap out
            "timing": {"decision_timeout": "10s", "unlock": "5s"},
        }
    )
    runner = DoorRunner(config, pin_factory=factory, reader=FakeReader())
    drive_idle(factory, config.pins)
    runner.start()
    try:
        status = decode(Status, next_on(received, topics.status(SITE, DEVICE)))
        assert (status.state, status.kind) == ("online", "door")

        assert isinstance(runner.reader, FakeReader)
        runner.reader.present("04:a1:b2:c3")
        tap = decode(Tap, next_on(received, topics.tap(SITE, DEVICE)))
        assert tap.card == "04A1B2C3" and tap.boot == runner.controller.boot
        assert not factory.pin(STRIKE).state

        decision = Decision(id=tap.id, granted=True, reason="staff", unlock_s=5.0)
        client.publish(topics.decision(SITE, DEVICE), encode(decision), qos=1)
        result = decode(Result, next_on(received, topics.result(SITE, DEVICE)))
        assert (result.tap, result.applied, result.granted) == (tap.id, "server", True)
        assert wait_until(lambda: bool(factory.pin(STRIKE).state))

        # A bad payload and a repeated decision are ignored; the door keeps working.
        client.publish(topics.decision(SITE, DEVICE), b"not json", qos=1)
        client.publish(topics.decision(SITE, DEVICE), encode(decision), qos=1)
        runner.reader.present("0102030405")
        second = decode(Tap, next_on(received, topics.tap(SITE, DEVICE)))
        assert second.seq is not None and tap.seq is not None and second.seq > tap.seq
        denial = Decision(id=second.id, granted=False, reason="no_access")
        client.publish(topics.decision(SITE, DEVICE), encode(denial), qos=1)
        result = decode(Result, next_on(received, topics.result(SITE, DEVICE)))
        assert (result.tap, result.granted) == (second.id, False)  # not a second one for tap
    finally:
        runner.stop()
    offline = decode(Status, next_on(received, topics.status(SITE, DEVICE)))
    assert offline.state == "offline"


def test_a_door_announces_the_mode_it_applies_at_once(
    mosquitto: str, factory: MockFactory, observer, tmp_path
):
    client, received = observer
    config = DoorConfig.model_validate(
        {
            "site": SITE,
            "device": DEVICE,
            "mqtt": {"url": mosquitto},
            "data_dir": str(tmp_path),
            "pins": {"strike": STRIKE, "contact": 24, "exit": 25, "fire": 5},
            "clock_synced": True,
        }
    )
    runner = DoorRunner(config, pin_factory=factory, reader=FakeReader())
    drive_idle(factory, config.pins)
    runner.start()
    try:
        first = decode(Status, next_on(received, topics.status(SITE, DEVICE)))
        assert (first.state, first.mode) == ("online", "normal")
        # The server's retained lockdown, and a future-dated passage mode after it.
        lockdown = DoorMode(ts=utcnow(), mode="locked", n=41)
        client.publish(topics.mode(SITE, DEVICE), encode(lockdown), qos=1, retain=True)
        status = decode(Status, next_on(received, topics.status(SITE, DEVICE)))
        assert (status.state, status.mode) == ("online", "locked")
        assert runner.controller.current_mode == "locked"

        pinned = b'{"v":1,"ts":"2099-01-01T00:00:00Z","mode":"unlocked","n":42}'
        client.publish(topics.mode(SITE, DEVICE), pinned, qos=1, retain=True)
        assert wait_until(lambda: runner.rejected.counts["from_the_future"] == 1)
        assert runner.controller.current_mode == "locked" and not factory.pin(STRIKE).state
    finally:
        runner.stop()
