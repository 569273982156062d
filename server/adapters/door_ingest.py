"""The MQTT adapter of the door path: parse, call the access service, publish, ack.

It has its own connection (sensor traffic never delays a door), a persistent session
with a fixed client id, and acknowledges each message only after its effects are
committed (or set aside), through its `Inbox`: a message that can never apply is
counted and acknowledged, one that fails on the database is held and tried again
without holding up the others, so no message can stall the door path. It hears taps,
the decisions sent to doors (the gateway's, and its own coming back) and the doors'
Results, so what every door did is recorded once; and it keeps each door's retained
DoorMode and EmergencyList current. A decision that changes nothing is decided from a
read and sent before the tap's record asks for the write lock (AccessService._look): on
the door connection paho's thread takes that look as each tap arrives (`look`) and the
inbox's own thread applies every message after it, in order, so no write (nor a wait
for the lock behind the scheduler) ever delays the next tap's answer.

After every connect it sends a marker to itself: once that is back and nothing received
before it is still held, the backlog queued while the server was away is applied
(`backlog_applied`), and the first release sweep may run.

Several replicas (`shared_subscriptions`) split the taps, Results, door events and
decisions through shared subscriptions (`$share/spacehub/...`): each message is handled
by one replica. Each keeps its own client ids and persistent sessions (`instance` names
the replica).

    ingest = DoorIngest(ctx)
    ingest.start()
    ingest.lag_s, ingest.db_writable, ingest.rejections.counts()   # what health shows
    ingest.stop()
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from protocol import topics
from protocol.messages import (
    Decision,
    DoorEvent,
    Message,
    Result,
    Status,
    Tap,
    utcnow,
)
from server.adapters.door_lane import Lane
from server.adapters.door_state import DoorState
from server.adapters.rejections import Rejections, decoded
from server.adapters.writehealth import WriteHealth
from server.context import ServerContext
from server.errors import Rejected
from server.monitoring import alerts, device_status

log = logging.getLogger(__name__)

HEARTBEAT_S = 10.0
MODES_S = 0.5  # how often door modes are compared with bookings and staff's settings


class DoorIngest:
    """Subscribes to taps, results, decisions, door events and device statuses of the
    site and serves them.

    Two connections: one for what doors send (taps, Results, door events, statuses) and
    one for the decisions sent to doors (the gateway's, and the server's own coming back,
    one for each tap it answers), so that hearing its own answers never doubles the queue
    a tap waits in during a flood."""

    def __init__(self, ctx: ServerContext, *, health: WriteHealth | None = None) -> None:
        self.ctx = ctx
        s = ctx.settings
        site = ctx.site.id
        self.status_topic = topics.server_status(site, s.instance)
        self.health = health or WriteHealth()
        self.rejections = Rejections("door path")
        access = ctx.access
        self._routes: dict[tuple[str, str], tuple[type[Message], Callable[..., object]]] = {
            ("evt", "tap"): (Tap, self._tap),
            ("evt", "result"): (Result, access.handle_result),
            ("status", "status"): (Status, access.handle_status),
            ("evt", "door"): (DoorEvent, self._door_event),
            # the gateway's decisions, and the server's own coming back (ignored)
            ("cmd", "decision"): (Decision, self._decision),
        }
        # Shared subscriptions for replicas: the broker hands each message to one of them.
        # Statuses are the exception: retained (a shared subscription gets no retained
        # message), idempotent to record, and every replica keeps each door's
        # `clock_synced` in memory, so every replica hears every one.
        share = s.subscription
        door_filters = [
            share(topics.all_events(site, "tap")),
            share(topics.all_events(site, "result")),
            topics.all_device_status(site),
            share(topics.all_events(site, "door")),
        ]
        self.door = Lane(
            self,
            "door",
            door_filters,
            will=(self.status_topic, self._status("offline")),
            on_connect=self._on_connect,
            first=self.look,
        )
        self.decisions = Lane(self, "decisions", [share(topics.all_commands(site, "decision"))])
        self.lanes = (self.door, self.decisions)
        self.client, self.inbox = self.door.client, self.door.inbox
        self._stop = threading.Event()
        # Set once both connections' backlogs are applied: the release sweep waits for
        # it, so nobody the gateway let in while the server was away is counted as a
        # no-show.
        self.backlog_applied = threading.Event()
        self.marker_back = self.door.marker_back
        self.doors = DoorState(
            ctx, lambda topic, message: self.client.publish(topic, message, retain=True)
        )
        self._threads = [
            threading.Thread(target=self._beat, name="server-heartbeat", daemon=True),
            threading.Thread(target=self._follow, name="server-door-state", daemon=True),
        ]

    # -- what health and the dashboard read ----------------------------------------------

    @property
    def lag_s(self) -> float:
        """Age in seconds of the oldest door-path message not yet handled (0.0 if none)."""
        return max(lane.inbox.lag_s() for lane in self.lanes)

    @property
    def db_writable(self) -> bool:
        """False while the latest write the ingest tried failed and none has since worked."""
        return self.health.writable

    def held(self) -> int:
        """Messages waiting to be tried again, on both connections."""
        return sum(lane.inbox.held() for lane in self.lanes)

    def wait_connected(self, timeout: float = 10.0) -> bool:
        """Wait until both connections are up with their subscriptions in force."""
        deadline = time.monotonic() + timeout
        return all(
            lane.client.wait_connected(max(0.0, deadline - time.monotonic())) for lane in self.lanes
        )

    # -- life -----------------------------------------------------------------------------

    def start(self) -> None:
        self.health.watch(self.ctx.writes)
        for lane in self.lanes:
            lane.start()
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        """Finish the messages under way, then say offline and disconnect: the offline
        status goes out after every decision and acknowledgement already sent, and its
        PUBACK says the broker has them all."""
        self._stop.set()
        for thread in self._threads:  # nothing publishes on a client being closed
            if thread.is_alive():
                thread.join(2.0)
        for lane in self.lanes:
            lane.stop()
        if self.client.connected:
            self.client.publish(
                self.status_topic, self._status("offline"), retain=True
            ).wait_for_publish(2)
        for lane in self.lanes:
            lane.client.stop()
        self.health.unwatch(self.ctx.writes)

    def _status(self, state: str) -> Status:
        return Status(state=state, kind="server", ts=utcnow(), interval_s=HEARTBEAT_S)  # type: ignore[arg-type]

    def _on_connect(self) -> None:
        # The broker may have restarted without its retained messages: every door's mode
        # and list go out again at the follower's next pass.
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
        retained DoorMode and EmergencyList whenever what it should say changes. With
        several replicas, the one that runs the periodic jobs does (`ctx.lead`), so two
        never send a door different commands; taking over, it sends them all again."""
        leading = False
        while not self._stop.wait(MODES_S):
            self.check_backlog()
            if not self.ctx.lead.held():
                leading = False
                continue
            if not leading:
                self.doors.forget()  # what another replica sent meanwhile is not known
                leading = True
            if self.client.connected:
                try:
                    self.doors.follow(self.ctx.clock())
                except Exception:  # e.g. the connection closing under it: next pass
                    log.exception("door path: could not bring the doors' commands up to date")

    def check_backlog(self) -> None:
        """Note when both connections' backlogs are applied."""
        if self.backlog_applied.is_set():
            return
        if all([lane.check_backlog() for lane in self.lanes]):
            self.backlog_applied.set()
            log.info("door path: backlog applied; release sweeps may run")

    # -- handlers: parse, call, emit --------------------------------------------------------

    def handle(self, topic: str, payload: bytes) -> None:
        """Parse, validate and apply one door-path message (the inbox acknowledges it);
        Rejected for what can never apply. Also what a dead letter's replay calls."""
        device, (model, call) = self._route(topic)
        if model is Status and not payload:
            return  # a cleared retained status, not an invalid one
        call(device, decoded(model, payload))

    def look(self, topic: str, payload: bytes) -> None:
        """A message's first look, on the door connection's network thread as it arrives:
        a tap is answered there when its decision changes nothing (AccessService.look);
        `handle` then records it on the inbox's thread, so that no write, nor a wait for
        the database's lock, ever delays the next tap's answer."""
        device, (model, _call) = self._route(topic)
        if model is Tap:
            tap = decoded(Tap, payload)
            self.ctx.access.look(device, tap, self._answer(device, time.monotonic()))

    def _route(self, topic: str) -> tuple[str, tuple[type[Message], Callable[..., object]]]:
        """The device a door-path topic names, and its message's model and handler."""
        try:
            where = topics.parse(topic)
        except topics.TopicError as exc:
            raise Rejected("bad_topic", str(exc)) from None
        route = self._routes.get((where.direction, where.kind))
        if route is None or where.site != self.ctx.site.id or where.device is None:
            raise Rejected("bad_topic", f"not a door-path topic: {topic!r}")
        if self.ctx.site.device(where.device) is None:
            raise Rejected("unknown_device", f"{where.device!r} is no device of the site")
        return where.device, route

    def _answer(self, device: str, since: float) -> Callable[[Decision], object]:
        """Publish a decision to the door, counted in /metrics with the time since `since`."""
        topic = topics.decision(self.ctx.site.id, device)
        return self.ctx.metrics.timed(
            lambda decision: self.client.publish(topic, decision, at_once=True), since
        )

    def _tap(self, device: str, tap: Tap) -> None:
        self.ctx.access.handle_tap(device, tap, self._answer(device, time.monotonic()))

    def _decision(self, device: str, decision: Decision) -> None:
        if self.ctx.access.handle_decision(device, decision):  # the gateway's, recorded
            self.ctx.metrics.decided(decision, seconds=None)

    def _door_event(self, device: str, event: DoorEvent) -> None:
        site, now = self.ctx.site, self.ctx.clock()
        with self.ctx.writes() as session, session.begin():
            alert = device_status.record_door_event(
                session, site=site, device_id=device, event=event, now=now
            )
        if alert is not None:
            self.ctx.events.publish(alerts.alert_event(alert))
