"""The brokers: delivery, retained messages and last wills through each one; persistent
sessions, their queues and a restart through Mosquitto; starting and stopping."""

from __future__ import annotations

import logging
import queue
import socket
import subprocess
import sys
import textwrap
from collections.abc import Callable

import paho.mqtt.client as paho
import pytest

from protocol import topics
from protocol.messages import Status, decode
from protocol.mqtt import MqttClient
from spacehub import broker as broker_module
from spacehub.broker import (
    BrokerStartError,
    EmbeddedBroker,
    MosquittoBroker,
    free_port,
    mosquitto_path,
    start_broker,
)

SITE = "test"
TAP = topics.tap(SITE, "reader-a")
WAIT = 5.0

MakeClient = Callable[..., MqttClient]


def inbox(client: MqttClient, filter_: str) -> queue.Queue[paho.MQTTMessage]:
    """Subscribe `client` to `filter_`; received messages land in the returned queue."""
    received: queue.Queue[paho.MQTTMessage] = queue.Queue()
    client.subscribe(filter_, received.put)
    return received


def start_subscribed(client: MqttClient, received: queue.Queue[paho.MQTTMessage]) -> None:
    """Start `client` and return once its subscription to TAP is in force at the broker:
    a probe it publishes to itself comes back."""
    client.start()
    assert client.wait_connected(WAIT)
    client.publish(TAP, b"probe")
    assert take(received, acking=client) == b"probe"


def take(received: queue.Queue[paho.MQTTMessage], *, acking: MqttClient) -> bytes:
    """The next message's payload, acknowledged (a no-op unless the client acks manually)."""
    msg = received.get(timeout=WAIT)
    acking.ack(msg)
    return bytes(msg.payload)


def publish(
    make: MakeClient, url: str, topic: str, payload: bytes, *, retain: bool = False
) -> None:
    """Publish one QoS 1 message from a fresh client and wait for the broker's PUBACK."""
    client = make(url, "publisher")
    client.start()
    assert client.wait_connected(WAIT)
    client.publish(topic, payload, retain=retain).wait_for_publish(WAIT)
    client.stop()


def test_qos1_message_reaches_subscriber(broker, mqtt_client: MakeClient) -> None:
    sub = mqtt_client(broker.url, "server")
    received = inbox(sub, topics.all_events(SITE, "tap"))
    start_subscribed(sub, received)

    publish(mqtt_client, broker.url, TAP, b'{"v":1}')

    msg = received.get(timeout=WAIT)
    assert (msg.topic, msg.payload, msg.qos) == (TAP, b'{"v":1}', 1)


def test_retained_message_reaches_late_subscriber(broker, mqtt_client: MakeClient) -> None:
    mode = topics.mode(SITE, "reader-a")
    publish(mqtt_client, broker.url, mode, b'{"v":1,"mode":"locked"}', retain=True)

    late = mqtt_client(broker.url, "reader-a")
    received = inbox(late, topics.device_commands(SITE, "reader-a"))
    late.start()

    msg = received.get(timeout=WAIT)
    assert (msg.topic, msg.payload, msg.retain) == (mode, b'{"v":1,"mode":"locked"}', True)


DEVICE_SCRIPT = textwrap.dedent(
    """
    import sys, threading
    from protocol import topics
    from protocol.mqtt import MqttClient
    from protocol.messages import Status, utcnow

    url, site, device = sys.argv[1:]
    topic = topics.status(site, device)
    will = (topic, Status(state="offline", kind="door", ts=utcnow()))
    client = MqttClient(url, client_id=device, will=will)
    client.start()
    assert client.wait_connected(10)
    status = Status(state="online", kind="door", ts=utcnow())
    client.publish(topic, status, retain=True).wait_for_publish(10)
    print("online", flush=True)
    threading.Event().wait(60)  # until the test kills this process
    """
)


def test_last_will_is_published_when_a_device_dies(broker, mqtt_client: MakeClient) -> None:
    watcher = mqtt_client(broker.url, "watcher")
    received = inbox(watcher, topics.all_device_status(SITE))
    watcher.start()
    assert watcher.wait_connected(WAIT)
    script = [sys.executable, "-c", DEVICE_SCRIPT, broker.url, SITE, "reader-a"]
    with subprocess.Popen(script, stdout=subprocess.PIPE, text=True) as device:
        try:
            assert device.stdout is not None and device.stdout.readline() == "online\n"
            assert decode(Status, received.get(timeout=WAIT).payload).state == "online"
        finally:
            device.kill()  # the kernel closes its socket; no DISCONNECT reaches the broker

    will = received.get(timeout=WAIT)
    assert will.topic == topics.status(SITE, "reader-a")
    assert decode(Status, will.payload).state == "offline"

    # ... and retained, so whoever subscribes later sees the device offline too.
    late = mqtt_client(broker.url, "late")
    late_received = inbox(late, topics.status(SITE, "reader-a"))
    late.start()
    assert decode(Status, late_received.get(timeout=WAIT).payload).state == "offline"


def persistent(make: MakeClient, url: str) -> tuple[MqttClient, queue.Queue[paho.MQTTMessage]]:
    """The server's kind of consumer: fixed id, persistent session, acks after its commit."""
    client = make(url, "server-1", clean_session=False, manual_ack=True)
    return client, inbox(client, topics.all_events(SITE, "tap"))


@pytest.mark.mosquitto
def test_persistent_session_receives_what_was_published_while_offline(
    mosquitto_broker: MosquittoBroker, mqtt_client: MakeClient
) -> None:
    url = mosquitto_broker.url
    first, received = persistent(mqtt_client, url)
    start_subscribed(first, received)
    first.stop()

    publish(mqtt_client, url, TAP, b"while-offline")

    again, received = persistent(mqtt_client, url)
    again.start()
    assert take(received, acking=again) == b"while-offline"


@pytest.mark.mosquitto
def test_queued_message_survives_a_broker_restart(
    mosquitto_broker: MosquittoBroker, mqtt_client: MakeClient
) -> None:
    url = mosquitto_broker.url
    first, received = persistent(mqtt_client, url)
    start_subscribed(first, received)
    first.stop()
    publish(mqtt_client, url, TAP, b"before-restart")
    old_pid = mosquitto_broker.pid

    mosquitto_broker.restart()

    assert mosquitto_broker.pid != old_pid
    again, received = persistent(mqtt_client, url)
    again.start()
    assert take(received, acking=again) == b"before-restart"


@pytest.mark.mosquitto
def test_unacknowledged_message_is_delivered_again(
    mosquitto_broker: MosquittoBroker, mqtt_client: MakeClient
) -> None:
    """A consumer that crashes before its commit (so before its ack) gets the message again."""
    url = mosquitto_broker.url
    first, received = persistent(mqtt_client, url)
    start_subscribed(first, received)
    publish(mqtt_client, url, TAP, b"not-committed")
    assert received.get(timeout=WAIT).payload == b"not-committed"  # and never acked
    first.stop()

    again, received = persistent(mqtt_client, url)
    again.start()
    assert take(received, acking=again) == b"not-committed"


def test_mosquitto_config_is_local_fast_and_durable(tmp_path) -> None:
    conf = MosquittoBroker(18830, tmp_path).config().splitlines()

    assert "listener 18830 127.0.0.1" in conf
    assert "allow_anonymous true" in conf
    assert "set_tcp_nodelay true" in conf
    assert "persistence true" in conf
    assert f"persistence_location {tmp_path.resolve()}/" in conf
    assert "autosave_interval 1" in conf
    assert "max_queued_messages 1000000" in conf


@pytest.mark.mosquitto
def test_auto_picks_mosquitto_when_installed(tmp_path) -> None:
    if mosquitto_path() is None:
        pytest.skip("mosquitto is not installed")
    broker = start_broker("auto", port=free_port(), data_dir=tmp_path)
    try:
        assert broker.name == "mosquitto"
        assert isinstance(broker, MosquittoBroker)
        assert broker.config_path.read_text() == broker.config()
    finally:
        broker.stop()


@pytest.mark.broker  # starts the embedded broker
def test_auto_falls_back_to_embedded(tmp_path, monkeypatch) -> None:
    pytest.importorskip("amqtt")
    monkeypatch.setattr(broker_module, "mosquitto_path", lambda: None)
    broker = start_broker("auto", port=free_port(), data_dir=tmp_path)
    try:
        assert broker.name == "embedded"
        assert broker.url == f"mqtt://127.0.0.1:{broker.port}"
    finally:
        broker.stop()


def test_asking_for_mosquitto_without_it_says_so(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(broker_module, "mosquitto_path", lambda: None)
    with pytest.raises(BrokerStartError, match="mosquitto is not installed"):
        start_broker("mosquitto", port=free_port(), data_dir=tmp_path)


def test_port_in_use_gives_a_clear_error(broker, tmp_path) -> None:
    with pytest.raises(BrokerStartError, match=f"127.0.0.1:{broker.port}.*in use"):
        start_broker(broker.name, port=broker.port, data_dir=tmp_path)


def test_port_taken_by_another_program(broker_kind, tmp_path) -> None:
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        with pytest.raises(BrokerStartError, match="in use"):
            start_broker(broker_kind, port=port, data_dir=tmp_path)


def test_embedded_broker_stops_cleanly_with_clients_connected(
    embedded_broker: EmbeddedBroker, mqtt_client: MakeClient, caplog
) -> None:
    client = mqtt_client(embedded_broker.url, "door")
    client.start()
    assert client.wait_connected(WAIT)
    thread = embedded_broker._thread
    assert thread is not None

    with caplog.at_level(logging.WARNING):
        embedded_broker.stop()

    assert not thread.is_alive()
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    # The port is free again at once.
    again = EmbeddedBroker(port=embedded_broker.port)
    again.start()
    again.stop()


def test_mosquitto_path_finds_the_binary() -> None:
    path = mosquitto_path()
    if path is None:
        pytest.skip("mosquitto is not installed")
    assert path.endswith("mosquitto")
