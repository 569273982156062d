"""The MQTT adapter of the door path: parse, call the access service, publish, ack.

It has its own connection (sensor traffic never delays a door), a persistent session
with a fixed client id, and acknowledges each message only after its effects are
committed, so a crash means the broker redelivers and the event id makes that a no-op.
It hears taps, the decisions sent to doors (the gateway's, and its own coming back) and
the doors' Results, so what every door did is recorded once; and it keeps each door's
retained DoorMode and EmergencyList current."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from functools import partial

import paho.mqtt.client as paho

from protocol import topics
from protocol.messages import (
    Decision,
    DoorEvent,
    Message,
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
from server.doorstate import DoorState

log = logging.getLogger(__name__)

HEARTBEAT_S = 10.0
MODES_S = 0.5  # how often door modes are compared with bookings and staff's settings
BACKLOG_QUIET_S = 1.0  # the door path has been quiet this long: its backlog is applied


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
            on_connect=self._on_connect,
        )
        access = ctx.access
        routes: list[tuple[str, type[Message], Callable[..., object]]] = [
            (topics.all_events(site, "tap"), Tap, self._tap),
            (topics.all_events(site, "result"), Result, access.handle_result),
            (topics.all_device_status(site), Status, access.handle_status),
            (topics.all_events(site, "door"), DoorEvent, self._door_event),
            # the gateway's decisions, and the server's own coming back (ignored)
            (topics.all_commands(site, "decision"), Decision, access.handle_decision),
        ]
        for filter_, model, call in routes:
            self.client.subscribe(filter_, partial(self._serve, model=model, call=call))
        self._stop = threading.Event()
        # Set once the broker has delivered what queued up while the server was away (the
        # stream has been quiet for a moment after connecting): the release sweep waits
        # for it, so nobody the gateway let in meanwhile is counted as a no-show.
        self.backlog_applied = threading.Event()
        self._last_message = time.monotonic()
        self.doors = DoorState(
            ctx, lambda topic, message: self.client.publish(topic, message, retain=True)
        )
        self._threads = [
            threading.Thread(target=self._beat, name="server-heartbeat", daemon=True),
            threading.Thread(target=self._follow, name="server-door-state", daemon=True),
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

    def _on_connect(self) -> None:
        # A new connection (the broker may have restarted without its retained messages):
        # publish every door's mode and emergency list again, at the follower's next pass.
        self.doors.forget()
        self._announce()

    def _announce(self) -> None:
        self.client.publish(self.status_topic, self._status("online"), retain=True)

    def _beat(self) -> None:
        while not self._stop.wait(HEARTBEAT_S):
            if self.client.connected:
                self._announce()

    def _follow(self) -> None:
        """Every MODES_S: note when the backlog is applied, and publish each door's
        retained DoorMode and EmergencyList whenever what it should say changes."""
        while not self._stop.wait(MODES_S):
            if not self.client.connected:
                continue
            if time.monotonic() - self._last_message >= BACKLOG_QUIET_S:
                self.backlog_applied.set()
            self.doors.follow(self.ctx.clock())

    # -- handlers: parse, call, emit, ack ---------------------------------------------

    def _serve(
        self, msg: paho.MQTTMessage, *, model: type[Message], call: Callable[..., object]
    ) -> None:
        """One door-path message: parse it, hand it on, and acknowledge it once its
        effects are committed (an exception leaves it unacknowledged, for redelivery)."""
        if model is not Status:  # statuses are retained: they arrive again on every connect
            self._last_message = time.monotonic()
        device = topics.parse(msg.topic).device
        # an empty retained status is a cleared one, not an invalid message
        message = None if model is Status and not msg.payload else self._decode(model, msg)
        if message is not None and device is not None:
            call(device, message)
        self.client.ack(msg)

    def _tap(self, device: str, tap: Tap) -> None:
        decision_topic = topics.decision(self.ctx.site.id, device)
        self.ctx.access.handle_tap(device, tap, lambda d: self.client.publish(decision_topic, d))

    def _door_event(self, device: str, event: DoorEvent) -> None:
        site, now = self.ctx.site, self.ctx.clock()
        with self.ctx.writes() as session, session.begin():
            alert = devices.record_door_event(
                session, site=site, device_id=device, event=event, now=now
            )
        if alert is not None:
            self.ctx.events.publish("alert", alerts.alert_event(alert))

    def _decode(self, model, msg: paho.MQTTMessage):  # type: ignore[no-untyped-def]
        try:
            return decode(model, bytes(msg.payload))
        except ProtocolError as exc:
            self.ctx.access.counters.invalid += 1
            log.warning("dropped invalid message on %s: %s", msg.topic, exc)
            return None
