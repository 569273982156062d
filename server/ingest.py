"""The MQTT adapter of the door path: parse, call the access service, publish, ack.

It has its own connection (sensor traffic never delays a door), a persistent session
with a fixed client id, and acknowledges each message only after its effects are
committed, so a crash means the broker redelivers and the event id makes that a no-op."""

from __future__ import annotations

import logging
import threading

import paho.mqtt.client as paho

from protocol import topics
from protocol.messages import ProtocolError, Result, Status, Tap, decode, utcnow
from protocol.mqtt import MqttClient
from server.context import ServerContext

log = logging.getLogger(__name__)

HEARTBEAT_S = 10.0


class DoorIngest:
    """Subscribes to taps, results and device statuses of the site and serves them."""

    def __init__(self, ctx: ServerContext) -> None:
        self.ctx = ctx
        s = ctx.settings
        site = ctx.site.id
        self.status_topic = topics.server_status(site, s.instance)
        self.client = MqttClient(
            s.mqtt_url,
            client_id=f"spacehub-server-{site}-{s.instance}-door",
            clean_session=False,
            manual_ack=True,
            will=(self.status_topic, self._status("offline")),
            username=s.mqtt_username,
            password=s.mqtt_password,
            ca_file=s.mqtt_ca_file,
            on_connect=self._announce,
        )
        self.client.subscribe(topics.all_events(site, "tap"), self._on_tap)
        self.client.subscribe(topics.all_events(site, "result"), self._on_result)
        self.client.subscribe(topics.all_device_status(site), self._on_status)
        self._stop = threading.Event()
        self._heartbeat = threading.Thread(target=self._beat, name="server-heartbeat", daemon=True)

    def start(self) -> None:
        self.client.start()
        self._heartbeat.start()

    def stop(self) -> None:
        self._stop.set()
        if self.client.connected:
            self.client.publish(
                self.status_topic, self._status("offline"), retain=True
            ).wait_for_publish(2)
        self.client.stop()

    def _status(self, state: str) -> Status:
        return Status(state=state, kind="server", ts=utcnow(), interval_s=HEARTBEAT_S)  # type: ignore[arg-type]

    def _announce(self) -> None:
        self.client.publish(self.status_topic, self._status("online"), retain=True)

    def _beat(self) -> None:
        while not self._stop.wait(HEARTBEAT_S):
            if self.client.connected:
                self._announce()

    # -- handlers: parse, call, emit, ack ---------------------------------------------

    def _on_tap(self, msg: paho.MQTTMessage) -> None:
        device = topics.parse(msg.topic).device
        tap = self._decode(Tap, msg)
        if tap is not None and device is not None:
            decision_topic = topics.decision(self.ctx.site.id, device)
            self.ctx.access.handle_tap(
                device, tap, lambda d: self.client.publish(decision_topic, d)
            )
        self.client.ack(msg)

    def _on_result(self, msg: paho.MQTTMessage) -> None:
        device = topics.parse(msg.topic).device
        result = self._decode(Result, msg)
        if result is not None and device is not None:
            self.ctx.access.handle_result(device, result)
        self.client.ack(msg)

    def _on_status(self, msg: paho.MQTTMessage) -> None:
        device = topics.parse(msg.topic).device
        status = self._decode(Status, msg) if msg.payload else None
        if status is not None and device is not None:
            self.ctx.access.handle_status(device, status)
        self.client.ack(msg)

    def _decode(self, model, msg: paho.MQTTMessage):  # type: ignore[no-untyped-def]
        try:
            return decode(model, bytes(msg.payload))
        except ProtocolError as exc:
            self.ctx.access.counters.invalid += 1
            log.warning("dropped invalid message on %s: %s", msg.topic, exc)
            return None
