"""The traffic of the stream scenarios (5,000 sensor events and 200 taps) and their
checks: every event recorded exactly once, and no tap answered after its door stopped
waiting."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from procs import COUNTERS, DOORS, PIRS, SITE, Api, Wire, query, wait_until

from protocol import topics
from protocol.messages import Count, Message, Motion, Tap, new_id

DECISION_TIMEOUT = 2.0  # the demo site's doors wait this long for a decision
# The server judges a tap's age when it decides; its decision still has to travel back
# to the door. A decision that left just inside the timeout may arrive this much after it.
RETURN_TRIP = 0.1


@dataclass
class Stream:
    """The fault tests' traffic: `sensor_events` Motion/Count events from the site's
    occupancy sensors (each with a unique id, a boot and a growing seq) and `taps` taps
    spread evenly over them, published by a thread at `rate` messages a second.

    `progress` counts the messages handed to the client; `tap_sent[id]` is when each tap
    went out (time.monotonic())."""

    wire: Wire
    sensor_events: int = 5000
    taps: int = 200
    rate: float = 600.0
    cards: tuple[str, ...] = ()
    sensors: tuple[str, ...] = PIRS + COUNTERS
    progress: int = 0
    tap_sent: dict[str, float] = field(default_factory=dict)
    tap_ids: list[str] = field(default_factory=list)
    sensor_ids: list[tuple[str, str]] = field(default_factory=list)
    error: BaseException | None = None
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="fault-stream", daemon=True)
        self._thread.start()

    @property
    def total(self) -> int:
        return self.sensor_events + self.taps

    def join(self, timeout: float) -> None:
        assert self._thread is not None
        self._thread.join(timeout)
        assert not self._thread.is_alive(), "the stream did not finish publishing"
        if self.error is not None:
            raise self.error

    def _run(self) -> None:
        try:
            self._publish_all()
        except BaseException as exc:  # surfaced by join()
            self.error = exc

    def _publish_all(self) -> None:
        sensors = self.sensors
        boot = new_id()[:12]
        seqs = dict.fromkeys(sensors, 0)
        every = self.total / max(self.taps, 1)
        next_tap = every / 2
        began = time.monotonic()
        sensor_n = tap_n = 0
        for i in range(self.total):
            # Pace the stream: message i goes out at i / rate seconds.
            ahead = began + i / self.rate - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)
            now = datetime.now(UTC)
            if tap_n < self.taps and (i >= next_tap or sensor_n >= self.sensor_events):
                door = DOORS[tap_n % len(DOORS)]
                card = self.cards[tap_n % len(self.cards)]
                tap = Tap(id=new_id(), ts=now, card=card, reader="in")
                self.tap_ids.append(tap.id)
                self.tap_sent[tap.id] = self.wire.send(topics.tap(SITE, door), tap).at
                tap_n += 1
                next_tap += every
            else:
                device = sensors[sensor_n % len(sensors)]
                seqs[device] += 1
                fields = {"id": new_id(), "ts": now, "boot": boot, "seq": seqs[device]}
                message: Message
                if device in PIRS:
                    message = Motion(motion=bool(sensor_n % 2), **fields)
                    topic = topics.motion(SITE, device)
                else:
                    message = Count(entered=1, left=1, **fields)
                    topic = topics.count(SITE, device)
                self.sensor_ids.append((device, fields["id"]))
                self.wire.send(topic, message)
                sensor_n += 1
            self.progress = i + 1


@dataclass
class Tally:
    """What became of the stream's taps, for the assertions and the report."""

    answered: int = 0
    expired: int = 0
    latencies: list[float] = field(default_factory=list)
    late: list[str] = field(default_factory=list)

    def summary(self) -> str:
        worst = max(self.latencies, default=0.0)
        return (
            f"{self.answered} taps answered (slowest {worst * 1000:.0f} ms), "
            f"{self.expired} expired, {len(self.late)} answered late"
        )


def sensor_rows(db: str) -> tuple[int, int]:
    """(rows, distinct (device, id)) of the sensor events in the server's database."""
    rows = query(
        db,
        "SELECT COUNT(*), COUNT(DISTINCT device_id || '/' || event_id) FROM device_events "
        "WHERE kind IN ('motion', 'count')",
    )
    return rows[0][0], rows[0][1]


def wait_recorded(db: str, api: Api, stream: Stream, timeout: float = 60.0) -> None:
    """Wait until the server has recorded as many sensor events and taps as were sent."""

    def done() -> bool:
        return sensor_rows(db)[1] >= stream.sensor_events and len(api.access_by_id()) >= len(
            stream.tap_ids
        )

    try:
        wait_until(done, timeout, "every event recorded", every=0.25)
    except AssertionError as exc:
        got = sensor_rows(db)[1], len(api.access_by_id())
        raise AssertionError(
            f"{exc}: {got[0]} of {stream.sensor_events} sensor events and {got[1]} of "
            f"{len(stream.tap_ids)} taps recorded"
        ) from None


def assert_each_once(db: str, api: Api, stream: Stream) -> dict[str, dict]:
    """Every sensor event and every tap in the server's log exactly once (and nothing
    else); the access-log rows by tap id."""
    rows, distinct = sensor_rows(db)
    assert (rows, distinct) == (stream.sensor_events, stream.sensor_events), (
        f"{rows} sensor rows, {distinct} distinct, {stream.sensor_events} sent"
    )
    stored = set(
        query(db, "SELECT device_id, event_id FROM device_events WHERE kind IN ('motion', 'count')")
    )
    assert stored == set(stream.sensor_ids)
    log = api.access_by_id()
    doubled = {tap: len(found) for tap, found in log.items() if len(found) != 1}
    assert not doubled, f"taps logged more than once: {doubled}"
    assert set(log) == set(stream.tap_ids), (
        f"missing {set(stream.tap_ids) - set(log)}, unexpected {set(log) - set(stream.tap_ids)}"
    )
    return {tap: found[0] for tap, found in log.items()}


def tally_taps(wire: Wire, stream: Stream, log: dict[str, dict], *, strict: bool = True) -> Tally:
    """Each tap's decisions as the doors heard them. `strict`: never more than one, only
    the server's (no gateway runs); `late` lists those heard after the doors' decision
    timeout (and its return trip)."""
    tally = Tally()
    for tap in stream.tap_ids:
        heard = wire.decisions(tap)
        if strict:
            assert len(heard) <= 1, f"tap {tap} answered {len(heard)} times"
            assert all(h.message.by == "server" for h in heard), [h.message for h in heard]
        if heard:
            latency = heard[0].at - stream.tap_sent[tap]
            tally.latencies.append(latency)
            if latency > DECISION_TIMEOUT + RETURN_TRIP:
                row = log[tap]
                tally.late.append(
                    f"{tap} after {latency:.2f} s (tap {row['ts']}, received by the server "
                    f"{row['received']}, decision heard {heard[0].wall.isoformat()})"
                )
        tally.answered += bool(heard)
        tally.expired += log[tap]["by"] == "expired"
    return tally
