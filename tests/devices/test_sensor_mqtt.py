"""An occupancy sensor through a real Mosquitto: its online status is retained, a beam
crossing on the mock pins arrives as a Count, a lost connection leaves its last will
(offline) and a clean stop says offline itself."""

from __future__ import annotations

import queue
import socket
import time
from collections.abc import Iterator

import paho.mqtt.client as paho
import pytest
from gpiozero.pins.mock import MockFactory

from devices.config import SensorConfig
from devices.sensor import SensorRunner, drive_idle_sensor
from protocol import topics
from protocol.messages import Count, Motion, Status, decode

pytestmark = pytest.mark.mosquitto

SITE, DEVICE, PIR, BEAM_A, BEAM_B = "piaseczno", "counter-main", 6, 16, 26
STATUS = topics.status(SITE, DEVICE)


class Observer:
    """A plain paho client that sees everything the sensor publishes, retain flags too."""

    def __init__(self, url: str, client_id: str) -> None:
        self.received: queue.Queue[paho.MQTTMessage] = queue.Queue()
        self.client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=client_id)
        self.client.on_message = lambda c, u, msg: self.received.put(msg)
        self.client.connect("127.0.0.1", int(url.rsplit(":", 1)[1]))
        self.client.subscribe(f"hub/{SITE}/dev/{DEVICE}/#", qos=1)
        self.client.loop_start()

    def next_on(self, topic: str, timeout: float = 10.0) -> paho.MQTTMessage:
        """The next message on `topic`, skipping others."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                msg = self.received.get(timeout=left)
            except queue.Empty:
                break
            if msg.topic == topic:
                return msg
        raise AssertionError(f"nothing on {topic} within {timeout}s")

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def retained_status(url: str) -> str:
    """The state a subscriber arriving now is given (MQTT 3.1.1 flags only such a
    delivery as retained, not the live one)."""
    late = Observer(url, "test-late-observer")
    try:
        msg = late.next_on(STATUS)
        assert msg.retain
        return decode(Status, msg.payload).state
    finally:
        late.close()


@pytest.fixture
def observer(mosquitto: str) -> Iterator[Observer]:
    watching = Observer(mosquitto, "test-observer")
    try:
        yield watching
    finally:
        watching.close()


@pytest.fixture
def runner(mosquitto: str, factory: MockFactory, tmp_path) -> Iterator[SensorRunner]:
    config = SensorConfig.model_validate(
        {
            "site": SITE,
            "device": DEVICE,
            "sensor": ["pir", "counter"],
            "mqtt": {"url": mosquitto},
            "data_dir": str(tmp_path),
            "pins": {"pir": PIR, "beam_a": BEAM_A, "beam_b": BEAM_B},
        }
    )
    made = SensorRunner(config, pin_factory=factory)
    drive_idle_sensor(factory, config.pins)
    try:
        yield made
    finally:
        made.stop()


def cross(factory: MockFactory, first: int, second: int) -> None:
    """Walk through the beams (broken = low with the receivers' pull-ups)."""
    for pin, broken in ((first, True), (second, True), (first, False), (second, False)):
        (factory.pin(pin).drive_low if broken else factory.pin(pin).drive_high)()


def count_until(observer: Observer, total: tuple[int, int]) -> None:
    """Read Counts until they add up to `total` (normally one: the unit tests pin down when
    a Count is sent; a slow machine may split it)."""
    entered = left = 0
    while (entered, left) != total:
        count = decode(Count, observer.next_on(topics.count(SITE, DEVICE)).payload)
        assert count.entered or count.left  # never zeros
        entered, left = entered + count.entered, left + count.left
        assert entered <= total[0] and left <= total[1]


def test_online_is_retained_a_crossing_arrives_as_a_count_and_stop_says_offline(
    mosquitto: str, factory: MockFactory, observer: Observer, runner: SensorRunner
):
    runner.start()
    online = decode(Status, observer.next_on(STATUS).payload)
    assert (online.state, online.kind, online.interval_s) == ("online", "occupancy", 60.0)

    assert retained_status(mosquitto) == "online"

    first = decode(Motion, observer.next_on(topics.motion(SITE, DEVICE)).payload)
    assert first.motion is False and first.boot == runner.sensor.boot  # the PIR's first reading

    cross(factory, BEAM_A, BEAM_B)
    count = decode(Count, observer.next_on(topics.count(SITE, DEVICE)).payload)
    assert (count.entered, count.left) == (1, 0)
    assert count.boot == runner.sensor.boot and count.seq == first.seq + 1  # type: ignore[operator]

    cross(factory, BEAM_A, BEAM_B)  # within a second of that Count: held back, then summed
    cross(factory, BEAM_B, BEAM_A)
    count_until(observer, (1, 1))

    cross(factory, BEAM_B, BEAM_A)  # again within the second: sent on stop, not lost
    runner.stop()
    count_until(observer, (0, 1))
    offline = decode(Status, observer.next_on(STATUS).payload)
    # Said by the sensor itself: the last will's ts was fixed when the client was built.
    assert offline.state == "offline" and offline.ts > online.ts
    assert retained_status(mosquitto) == "offline"


def test_a_lost_connection_leaves_the_last_will_and_a_reconnect_says_online(
    mosquitto: str, observer: Observer, runner: SensorRunner
):
    runner.start()
    online = decode(Status, observer.next_on(STATUS).payload)
    assert online.state == "online"

    # Cut the TCP connection under paho: the broker publishes the will at once.
    sock = runner.client._client.socket()
    assert sock is not None
    sock.shutdown(socket.SHUT_RDWR)
    will = decode(Status, observer.next_on(STATUS).payload)
    assert will.state == "offline" and will.ts < online.ts
    assert decode(Status, observer.next_on(STATUS).payload).state == "online"  # reconnected
    assert retained_status(mosquitto) == "online"
