"""The MQTT adapter of the occupancy sensors: Motion and Count events, in batches.

Its own connection (a burst of sensor traffic never delays a door), a persistent session
with a fixed client id and manual acknowledgement. paho's thread only queues each message;
a worker drains the queue in batches (up to `batch_max` messages, at most `batch_wait`
seconds after the first, or until the stream pauses), records each batch in one writer
transaction, publishes what changed, and only then acknowledges the batch's messages. A
crash before that means the broker redelivers, and the (device, id) makes the second
delivery a no-op.

    sensors = SensorIngest(ctx)
    sensors.start()
    ...
    sensors.stop()

Acknowledging from the worker thread is safe with paho-mqtt 2.x: `ack()` queues the PUBACK
on paho's outgoing deque (whose appends are atomic) and wakes the network loop through its
socket pair, just as `publish()` from another thread does."""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass

import paho.mqtt.client as paho

from protocol import topics
from protocol.messages import Count, Motion, ProtocolError, decode
from protocol.mqtt import MqttClient
from server import occupancy
from server.context import ServerContext
from server.occupancy import Reading

log = logging.getLogger(__name__)

BATCH_MAX = 200
BATCH_WAIT = 0.05  # seconds after a batch's first message
IDLE_GAP = 0.005  # a stream quiet this long ends the batch early (e.g. the broker's window is full)
ATTEMPTS = 3  # tries of a batch before its messages are tried one by one
RETRY_S = 0.2


@dataclass
class SensorCounters:
    """What the sensor path has seen since it started (written by the worker thread only)."""

    received: int = 0
    recorded: int = 0
    duplicates: int = 0
    unknown_device: int = 0
    invalid: int = 0
    seq_gaps: int = 0  # jumps in a device's seq within one boot
    missing: int = 0  # events those jumps skipped
    batches: int = 0  # transactions committed
    largest_batch: int = 0
    failed: int = 0  # events dropped after every attempt to record them failed


@dataclass(frozen=True)
class _Item:
    msg: paho.MQTTMessage
    connection: int  # which connection it came on: only that one may acknowledge it


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
    ) -> None:
        self.ctx = ctx
        self.batch_max = batch_max
        self.batch_wait = batch_wait
        self.idle_gap = idle_gap
        self.counters = SensorCounters()
        s = ctx.settings
        site = ctx.site.id
        self.client = MqttClient(
            s.mqtt_url,
            client_id=f"spacehub-server-{site}-{s.instance}-sensors",
            clean_session=False,
            manual_ack=True,
            username=s.mqtt_username,
            password=s.mqtt_password,
            ca_file=s.mqtt_ca_file,
            on_connect=self._on_connect,
        )
        self.client.subscribe(topics.all_events(site, "motion"), self._on_message)
        self.client.subscribe(topics.all_events(site, "count"), self._on_message)
        self._queue: queue.Queue[_Item] = queue.Queue()
        self._connection = 0
        self._seqs: dict[str, tuple[str, int]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="server-sensors", daemon=True)

    def start(self) -> None:
        self.client.start()
        self._thread.start()

    def stop(self) -> None:
        """Finish the batch under way; what is still queued is redelivered next time."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)
        self.client.stop()

    # -- paho's thread: queue only ------------------------------------------------------

    def _on_connect(self) -> None:
        # Packet ids belong to a connection: after a reconnect the broker redelivers what
        # was not acknowledged, and an old id acknowledged now could be another message's.
        self._connection += 1

    def _on_message(self, msg: paho.MQTTMessage) -> None:
        self._queue.put(_Item(msg, self._connection))

    # -- the worker: parse, record, publish, ack -------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            batch = self._collect()
            if batch:
                self._handle(batch)

    def _collect(self) -> list[_Item]:
        try:
            batch = [self._queue.get(timeout=0.1)]
        except queue.Empty:
            return []
        deadline = time.monotonic() + self.batch_wait
        while len(batch) < self.batch_max:
            wait = min(deadline - time.monotonic(), self.idle_gap)
            if wait <= 0:
                break
            try:
                batch.append(self._queue.get(timeout=wait))
            except queue.Empty:
                break
        return batch

    def _handle(self, batch: list[_Item]) -> None:
        self.counters.received += len(batch)
        readings = [r for r in (self._parse(item.msg) for item in batch) if r is not None]
        if readings and not self._record(readings):
            return  # stopping: leave them unacknowledged, the broker redelivers them
        for item in batch:
            if item.connection == self._connection:
                self.client.ack(item.msg)

    def _parse(self, msg: paho.MQTTMessage) -> Reading | None:
        try:
            topic = topics.parse(msg.topic)
            payload = bytes(msg.payload)
            message: Motion | Count = (
                decode(Motion, payload) if topic.kind == "motion" else decode(Count, payload)
            )
        except (ProtocolError, topics.TopicError) as exc:
            self.counters.invalid += 1
            log.warning("dropped invalid sensor message on %s: %s", msg.topic, exc)
            return None
        assert topic.device is not None  # the filters match device topics only
        self._check_seq(topic.device, message)
        return Reading(topic.device, message)

    def _check_seq(self, device: str, message: Motion | Count) -> None:
        last = self._seqs.get(device)
        missing = seq_gap(last, message.boot, message.seq)
        if missing:
            self.counters.seq_gaps += 1
            self.counters.missing += missing
            log.warning("%s: %d event(s) lost before seq %s", device, missing, message.seq)
        if message.boot is None or message.seq is None:
            return
        if last is None or last[0] != message.boot or message.seq > last[1]:
            self._seqs[device] = (message.boot, message.seq)

    def _record(self, readings: list[Reading]) -> bool:
        """Record the readings in one transaction, retrying; a batch that keeps failing is
        tried one reading at a time, so one bad reading cannot hold up the others. False
        when stopping before it was recorded."""
        for attempt in range(1, ATTEMPTS + 1):
            try:
                with self.ctx.writes() as session, session.begin():
                    now = self.ctx.clock()
                    done = occupancy.record_readings(
                        session, site=self.ctx.site, readings=readings, now=now
                    )
            except Exception:
                log.exception("recording %d sensor events failed (try %d)", len(readings), attempt)
                if self._stop.wait(RETRY_S * attempt):
                    return False
                continue
            self._count(done, len(readings))
            done.changes.publish(self.ctx.events)
            return True
        if len(readings) > 1:
            return all([self._record([r]) for r in readings])
        self.counters.failed += 1
        log.error("dropped sensor event %s of %s", readings[0].message.id, readings[0].device)
        return True

    def _count(self, done: occupancy.Recorded, size: int) -> None:
        c = self.counters
        c.batches += 1
        c.largest_batch = max(c.largest_batch, size)
        c.recorded += done.new
        c.duplicates += done.duplicates
        c.unknown_device += len(done.unknown)
        for device in set(done.unknown):
            log.warning("sensor event from %r, which is no occupancy sensor of the site", device)
