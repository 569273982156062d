"""The MQTT adapter of the occupancy sensors: Motion and Count events, in batches.

Its own connection (a burst of sensor traffic never delays a door), a persistent session
with a fixed client id and manual acknowledgement. paho's thread only opens a `Letter`
for each message (server/adapters/inbox.py) and queues it; a worker drains the queue in batches
(up to `batch_max` messages, at most `batch_wait` seconds after the first, or until the
stream pauses), records each batch in one writer transaction, publishes what changed, and
only then acknowledges the batch's messages. A crash before that means the broker
redelivers, and the (device, id) makes the second delivery a no-op. With several replicas
(`shared_subscriptions`) its subscriptions are shared (`$share/spacehub/...`): the
replicas split the stream, each event handled by one of them.

What can never apply (a bad topic, a device that is no occupancy sensor, an invalid
payload) is counted per device and reason and acknowledged. A batch the database does not
take is handed to the inbox message by message, held unacknowledged and tried again with
backoff until the database takes it: no event is dropped on a database error. A batch that
fails otherwise is tried message by message, so only the one at fault becomes a dead
letter.

    sensors = SensorIngest(ctx)
    sensors.start()
    ...
    sensors.stop()

Acknowledging from the worker thread is safe with paho-mqtt 2.x: `ack()` queues the PUBACK
on paho's outgoing deque (whose appends are atomic) and wakes the network loop through its
socket pair, just as `publish()` from another thread does."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass

import paho.mqtt.client as paho

from protocol import topics
from protocol.messages import Count, Motion
from protocol.mqtt import MqttClient, connection_username
from server.adapters.dead_letters import DeadLetterBox
from server.adapters.inbox import Inbox
from server.adapters.letters import Letter
from server.adapters.rejections import LOG_EVERY_S, LogEvery, Rejections, decoded
from server.adapters.writehealth import WriteHealth, transient
from server.context import ServerContext
from server.errors import Rejected
from server.occupancy.readings import Reading, Recorded, record_readings

log = logging.getLogger(__name__)

BATCH_MAX = 500  # a backlog is taken in few transactions: each costs some 5 ms besides its rows
BATCH_WAIT = 0.05  # seconds after a batch's first message
IDLE_GAP = 0.005  # a stream quiet this long ends the batch early (e.g. the broker's window is full)


@dataclass
class SensorCounters:
    """What the sensor path has seen since it started (written by the worker thread only)."""

    received: int = 0
    recorded: int = 0
    duplicates: int = 0
    unknown_device: int = 0
    invalid: int = 0  # a bad topic or payload
    seq_gaps: int = 0  # jumps in a device's seq within one boot
    missing: int = 0  # events those jumps skipped
    batches: int = 0  # transactions committed
    largest_batch: int = 0


def seq_gap(last: tuple[str, int] | None, boot: str | None, seq: int | None) -> int:
    """How many events are missing before this one: the jump of `seq` past the last one
    seen from the same `boot`, else 0.

    >>> seq_gap(("b1", 4), "b1", 7)
    2
    >>> seq_gap(("b1", 4), "b2", 1)
    0
    """
    if last is None or boot is None or seq is None or last[0] != boot:
        return 0
    return max(0, seq - last[1] - 1)


class SensorIngest:
    """Subscribes to the site's motion and count events and records them in batches."""

    def __init__(
        self,
        ctx: ServerContext,
        *,
        batch_max: int = BATCH_MAX,
        batch_wait: float = BATCH_WAIT,
        idle_gap: float = IDLE_GAP,
        health: WriteHealth | None = None,
    ) -> None:
        self.ctx = ctx
        s = ctx.settings
        # Jumps in each sensor's seq are counted, and logged at most once a minute per
        # sensor, only when this server hears every event: with replicas, a jump is mostly
        # another replica's share.
        self.check_seqs = not s.shared_subscriptions
        self.batch_max = batch_max
        self.batch_wait = batch_wait
        self.idle_gap = idle_gap
        self.counters = SensorCounters()
        site = ctx.site.id
        self.client = MqttClient(
            s.mqtt_url,
            client_id=f"spacehub-server-{site}-{s.instance}-sensors",
            clean_session=False,
            manual_ack=True,
            username=connection_username(s.mqtt_username, "sensors", main="door"),
            password=s.mqtt_password,
            ca_file=s.mqtt_ca_file,
            on_connect=self._on_connect,
        )
        self.health = health or WriteHealth()
        self.rejections = Rejections("sensors")
        self.inbox = Inbox(
            "sensors",
            self.handle,
            ack=self.client.ack,
            store=DeadLetterBox(ctx.writes, ctx.card_key),
            rejections=self.rejections,
            health=self.health,
            wall=ctx.clock,
        )
        for kind in ("motion", "count"):
            self.client.subscribe(s.subscription(topics.all_events(site, kind)), self._on_message)
        # paho's thread appends, the worker takes from the left (deque's ends are atomic)
        self._arrived: deque[Letter] = deque()
        self._wake = threading.Event()  # set when the first letter of a batch arrives
        self._seqs: dict[str, tuple[str, int]] = {}
        self._gap_lines = LogEvery(LOG_EVERY_S, time.monotonic)
        self._sensors: dict[str, tuple[str, type[Motion | Count]]] = {}  # by topic
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="server-sensors", daemon=True)

    def start(self) -> None:
        self.health.watch(self.ctx.writes)
        self.inbox.start()
        self.client.start()
        self._thread.start()

    def stop(self) -> None:
        """Finish the batch under way; what is still queued or held is redelivered next
        time."""
        self._stop.set()
        self._wake.set()  # the worker sees the stop at once
        if self._thread.is_alive():
            self._thread.join(5)
        self.inbox.stop()
        self.client.stop()
        self.health.unwatch(self.ctx.writes)

    # -- paho's thread: queue only ------------------------------------------------------

    def _on_connect(self) -> None:
        self.inbox.new_connection()

    def _on_message(self, msg: paho.MQTTMessage) -> None:
        letter = self.inbox.open(msg)
        if letter is not None:
            self._arrived.append(letter)
            if not self._wake.is_set():
                self._wake.set()

    # -- the worker: parse, record, publish, ack -------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            batch = self._collect()
            if batch:
                self._handle(batch)

    def _collect(self) -> list[Letter]:
        """The next batch: what has arrived once the stream pauses for `idle_gap`, the
        batch is full, or `batch_wait` has passed since it began. Looked at every
        `idle_gap` rather than woken by each message: a thread switch per message would
        cost more than recording it."""
        if not self._arrived and not self._wake.wait(0.1):
            return []
        self._wake.clear()
        deadline = time.monotonic() + self.batch_wait
        seen = len(self._arrived)
        while seen < self.batch_max:
            wait = min(deadline - time.monotonic(), self.idle_gap)
            if wait <= 0:
                break
            time.sleep(wait)
            if len(self._arrived) == seen:
                break
            seen = len(self._arrived)
        return [self._arrived.popleft() for _ in range(min(self.batch_max, len(self._arrived)))]

    def _handle(self, batch: list[Letter]) -> None:
        self.counters.received += len(batch)
        letters: list[Letter] = []
        readings: list[Reading] = []
        for letter in batch:
            try:
                readings.append(self._parse(letter.topic, letter.payload))
            except Exception as exc:  # Rejected, or a bug for that message
                self.inbox.settle(letter, exc)
                continue
            letters.append(letter)
        if not letters:
            return
        try:
            self._record(readings)
        except Exception as exc:
            if len(letters) > 1 and not transient(exc):
                for letter in letters:  # one at a time: only the one at fault is set aside
                    self.inbox.attempt(letter)
                return
            for letter in letters:  # held, each tried again until the database takes it
                self.inbox.settle(letter, exc)
            return
        for letter in letters:
            self.inbox.settle(letter)

    def handle(self, topic: str, payload: bytes) -> None:
        """Parse and record one sensor message (a retry, a dead letter's replay)."""
        self._record([self._parse(topic, payload)])

    def _parse(self, topic: str, payload: bytes) -> Reading:
        device, model = self._sensors.get(topic) or self._sensor(topic)
        try:
            message = decoded(model, payload)
        except Rejected:
            self.counters.invalid += 1
            raise
        if self.check_seqs:
            self._check_seq(device, message)
        return Reading(device, message)

    def _sensor(self, topic: str) -> tuple[str, type[Motion | Count]]:
        """The sensor a topic is of and the model of its payload, remembered (the site's
        sensors have a few topics between them, parsed once); Rejected for any other."""
        try:
            where = topics.parse(topic)
        except topics.TopicError as exc:
            self.counters.invalid += 1
            raise Rejected("bad_topic", str(exc)) from None
        if where.kind not in ("motion", "count") or where.device is None:
            self.counters.invalid += 1
            raise Rejected("bad_topic", f"not a sensor event topic: {topic!r}")
        device = self.ctx.site.device(where.device)
        if device is None or device.kind != "occupancy":
            self.counters.unknown_device += 1
            raise Rejected("unknown_device", f"{where.device!r} is no occupancy sensor")
        sensor = where.device, (Motion if where.kind == "motion" else Count)
        self._sensors[topic] = sensor
        return sensor

    def _check_seq(self, device: str, message: Motion | Count) -> None:
        last = self._seqs.get(device)
        missing = seq_gap(last, message.boot, message.seq)
        if missing:
            self.counters.seq_gaps += 1
            self.counters.missing += missing
            now, quiet = self._gap_lines.due(device)  # a sensor that skips every other seq
            if now:  # would otherwise log a line per event
                more = f" ({quiet} more gaps since the last line)" if quiet else ""
                log.warning(
                    "%s: %d event(s) lost before seq %s%s", device, missing, message.seq, more
                )
        if message.boot is None or message.seq is None:
            return
        if last is None or last[0] != message.boot or message.seq > last[1]:
            self._seqs[device] = (message.boot, message.seq)

    def _record(self, readings: list[Reading]) -> None:
        """Record the readings in one transaction and publish what changed; raises what
        the database does."""
        with self.ctx.writes() as session, session.begin():
            done = record_readings(
                session, site=self.ctx.site, readings=readings, now=self.ctx.clock()
            )
        self._count(done, len(readings))
        done.changes.publish(self.ctx.events)

    def _count(self, done: Recorded, size: int) -> None:
        c = self.counters
        c.batches += 1
        c.largest_batch = max(c.largest_batch, size)
        c.recorded += done.new
        c.duplicates += done.duplicates
        c.unknown_device += len(done.unknown)
