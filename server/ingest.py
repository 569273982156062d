"""The MQTT adapter of the door path: parse, call the access service, publish, ack.

It has its own connection (sensor traffic never delays a door), a persistent session
with a fixed client id, and acknowledges each message only after its effects are
committed, so a crash means the broker redelivers and the event id makes that a no-op."""

from __future__ import annotations

import logging
import threading
import time

import paho.mqtt.client as paho

from protocol import topics
from protocol.messages import (
    DoorEvent,
    DoorMode,
    ProtocolError,
    Result,
    Status,
    Tap,
    decode,
    utcnow,
)
from protocol.mqtt import MqttClient
from server import alerts, devices
from server.context import ServerContext
from server.doormodes import effective_modes

log = logging.getLogger(__name__)

HEARTBEAT_S = 10.0
MODES_S = 0.5
BACKLOG_QUIET_S = 1.0  # how often door modes are compared with bookings and staff's settings


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
        self.client.subscribe(topics.all_events(site, "door"), self._on_door)
        self._stop = threading.Event()
        # Set once the broker has delivered what queued up while the server was away (the
        # stream has been quiet for a moment after connecting): the release sweep waits
        # for it, so nobody the gateway let in meanwhile is counted as a no-show.
        self.backlog_applied = threading.Event()
        self._last_message = time.monotonic()
        self._modes: dict[str, str] = {}
        self._threads = [
            threading.Thread(target=self._beat, name="server-heartbeat", daemon=True),
            threading.Thread(target=self._follow_modes, name="server-door-modes", daemon=True),
        ]

    def start(self) -> None:
        self.client.start()
        for thread in self._threads:
            thread.start()

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
        self._modes.clear()  # a new session: publish every door's mode again
        self.client.publish(self.status_topic, self._status("online"), retain=True)

    def _beat(self) -> None:
        while not self._stop.wait(HEARTBEAT_S):
            if self.client.connected:
                self._announce()

    def _follow_modes(self) -> None:
        """Publish each door's retained DoorMode whenever what it should be changes."""
        while not self._stop.wait(MODES_S):
            if not self.client.connected:
                continue
            if time.monotonic() - self._last_message >= BACKLOG_QUIET_S:
                self.backlog_applied.set()
            try:
                now = self.ctx.clock()
                with self.ctx.reads() as session:
                    modes = effective_modes(session, self.ctx.site, now)
            except Exception:
                log.exception("could not work out the door modes")
                continue
            for device, mode in modes.items():
                if self._modes.get(device) != mode:
                    message = DoorMode(ts=now, mode=mode)  # type: ignore[arg-type]
                    self.client.publish(topics.mode(self.ctx.site.id, device), message, retain=True)
                    self._modes[device] = mode

    # -- handlers: parse, call, emit, ack ---------------------------------------------

    def _on_tap(self, msg: paho.MQTTMessage) -> None:
        self._last_message = time.monotonic()
        device = topics.parse(msg.topic).device
        tap = self._decode(Tap, msg)
        if tap is not None and device is not None:
            decision_topic = topics.decision(self.ctx.site.id, device)
            self.ctx.access.handle_tap(
                device, tap, lambda d: self.client.publish(decision_topic, d)
            )
        self.client.ack(msg)

    def _on_result(self, msg: paho.MQTTMessage) -> None:
        self._last_message = time.monotonic()
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

    def _on_door(self, msg: paho.MQTTMessage) -> None:
        self._last_message = time.monotonic()
        device = topics.parse(msg.topic).device
        event = self._decode(DoorEvent, msg)
        if event is not None and device is not None:
            site, now = self.ctx.site, self.ctx.clock()
            with self.ctx.writes() as session, session.begin():
                alert = devices.record_door_event(
                    session, site=site, device_id=device, event=event, now=now
                )
            if alert is not None:
                self.ctx.events.publish("alert", alerts.alert_event(alert))
        self.client.ack(msg)

    def _decode(self, model, msg: paho.MQTTMessage):  # type: ignore[no-untyped-def]
        try:
            return decode(model, bytes(msg.payload))
        except ProtocolError as exc:
            self.ctx.access.counters.invalid += 1
            log.warning("dropped invalid message on %s: %s", msg.topic, exc)
            return None
