"""The outbox with a fake link and a hand-moved clock: rows on disk until acknowledged,
in order, again after a reconnect or a restart, late taps as replays, the bound, and the
counts in a device's status. Its `[outbox]` configuration too."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from gpiozero.pins.mock import MockFactory
from support.clock import MonotonicClock as Clock

from devices.config import ConfigError, DoorConfig, SensorConfig, load_door_config
from devices.door import DoorRunner
from devices.outbox import Outbox, as_replay
from devices.readers import FakeReader
from devices.sensor import SensorRunner
from protocol import topics
from protocol.messages import DoorEvent, Message, Motion, Result, Tap, decode, encode

SITE, DEVICE = "piaseczno", "reader-main"
TAP, RESULT, DOOR = (
    topics.tap(SITE, DEVICE),
    topics.result(SITE, DEVICE),
    topics.door_event(SITE, DEVICE),
)
EPOCH = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class Delivery:
    def __init__(self) -> None:
        self.acked = False

    def is_published(self) -> bool:
        return self.acked


class FakeLink:
    """A broker connection the test controls: what was sent, and which PUBACKs came."""

    def __init__(self) -> None:
        self.connected = True
        self.sent: list[tuple[str, bytes, Delivery]] = []
        self.forgotten = 0

    def publish(self, topic: str, payload: bytes) -> Delivery:
        if not self.connected:
            raise ConnectionError("not connected")
        delivery = Delivery()
        self.sent.append((topic, payload, delivery))
        return delivery

    def forget_unacknowledged(self) -> None:
        self.forgotten += 1

    def ack_all(self) -> None:
        for _, _, delivery in self.sent:
            delivery.acked = True

    def messages(self) -> list[Message]:
        kinds: dict[str, type[Message]] = {TAP: Tap, RESULT: Result, DOOR: DoorEvent}
        return [decode(kinds[topic], payload) for topic, payload, _ in self.sent]

    def ids(self) -> list[str]:
        return [m.id for m in self.messages()]  # type: ignore[attr-defined]


@pytest.fixture
def link() -> FakeLink:
    return FakeLink()


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "outbox.db"


def opened(path: Path, clock: Clock, link: FakeLink | None = None, **kwargs: object) -> Outbox:
    outbox = Outbox(path, clock=clock, wallclock=clock.wall, **kwargs)  # type: ignore[arg-type]
    if link is not None:
        outbox.attach(link)
    return outbox


@pytest.fixture
def outbox(path: Path, clock: Clock, link: FakeLink) -> Iterator[Outbox]:
    made = opened(path, clock, link, replay_after=2.0)
    try:
        yield made
    finally:
        made.close()


def a_tap(n: int, clock: Clock) -> Tap:
    return Tap(id=f"tap-{n}", ts=clock.wall(), card="04A1B2C3", boot="b1", seq=n)


def a_result(n: int, clock: Clock) -> Result:
    return Result(id=f"result-{n}", tap=f"tap-{n}", applied="none", granted=False, seq=n)


def a_door_event(n: int, clock: Clock) -> DoorEvent:
    return DoorEvent(id=f"door-{n}", ts=clock.wall(), event="opened", seq=n)


def rows(path: Path) -> list[tuple[int, str]]:
    with sqlite3.connect(path) as db:
        return list(db.execute("SELECT seq, topic FROM outbox ORDER BY seq"))


# -- on disk until acknowledged, in order --------------------------------------------------


def test_an_event_is_on_disk_before_it_is_sent_and_deleted_only_after_its_puback(
    outbox, path, clock, link
):
    outbox.connected()
    outbox.put(TAP, a_tap(1, clock))
    assert [topic for _, topic in rows(path)] == [TAP] and link.sent == []
    outbox.pump()
    assert link.ids() == ["tap-1"]
    outbox.pump()  # no PUBACK yet: kept, and not sent twice
    assert len(rows(path)) == 1 and outbox.queued == 1 and len(link.sent) == 1
    link.ack_all()
    outbox.pump()
    assert rows(path) == [] and outbox.queued == 0


def test_nothing_is_sent_before_the_link_is_connected(outbox, clock, link):
    for n in (1, 2):
        outbox.put(TAP, a_tap(n, clock))
    outbox.pump()
    assert link.sent == []
    outbox.connected()
    outbox.pump()
    assert link.ids() == ["tap-1", "tap-2"]
    assert link.forgotten == 1


def test_at_most_a_window_of_rows_is_unacknowledged(path, clock, link):
    outbox = opened(path, clock, link, window=3)
    try:
        outbox.connected()
        for n in range(1, 8):
            outbox.put(DOOR, a_door_event(n, clock))
        outbox.pump()
        assert link.ids() == ["door-1", "door-2", "door-3"]
        link.sent[0][2].acked = True
        outbox.pump()
        assert link.ids()[3:] == ["door-4"]
        link.ack_all()
        outbox.pump()
        outbox.pump()
        assert link.ids() == [f"door-{n}" for n in range(1, 8)]
        link.ack_all()
        outbox.pump()
        assert outbox.queued == 0
    finally:
        outbox.close()


# -- after a reconnect ---------------------------------------------------------------------


def test_a_lost_link_stops_sending_and_a_reconnect_resends_the_unacknowledged_in_order(
    outbox, clock, link
):
    outbox.connected()
    outbox.put(TAP, a_tap(1, clock))
    outbox.put(RESULT, a_result(1, clock))
    outbox.pump()
    link.sent[0][2].acked = True  # the tap's PUBACK came, the result's did not
    link.connected = False
    clock.now += 0.5
    outbox.put(DOOR, a_door_event(2, clock))
    outbox.pump()
    assert link.ids() == ["tap-1", "result-1"]

    link.connected = True
    outbox.pump()  # connected again, but the outbox waits for connected()
    assert len(link.sent) == 2
    outbox.connected()
    outbox.pump()
    assert link.ids() == ["tap-1", "result-1", "result-1", "door-2"]
    assert link.forgotten == 2  # paho's own copies are dropped at each connection
    link.ack_all()
    outbox.pump()
    assert outbox.queued == 0


def test_a_tap_sent_after_replay_after_is_a_replay_and_a_young_one_is_not(outbox, clock, link):
    outbox.put(TAP, a_tap(1, clock))
    clock.now += 1.5
    outbox.put(TAP, a_tap(2, clock))
    clock.now += 0.5  # tap 1 waited 2 s: as long as the door waits for a decision
    outbox.connected()
    outbox.pump()
    first, second = link.messages()
    assert isinstance(first, Tap) and isinstance(second, Tap)
    assert (first.id, first.replay) == ("tap-1", True)
    assert (second.id, second.replay) == ("tap-2", False)
    assert (first.card, first.seq, first.boot) == ("04A1B2C3", 1, "b1")  # nothing else changed


def test_a_tap_resent_after_a_quick_reconnect_is_not_a_replay(outbox, clock, link):
    outbox.connected()
    outbox.put(TAP, a_tap(1, clock))
    outbox.pump()
    clock.now += 1.0
    outbox.connected()  # reconnected within the door's wait: the tap may still be decided
    outbox.pump()
    assert [(m.id, m.replay) for m in link.messages()] == [  # type: ignore[attr-defined]
        ("tap-1", False),
        ("tap-1", False),
    ]


def test_only_taps_are_marked_as_replays():
    result = encode(Result(id="r", tap="t", applied="none", granted=False))
    assert as_replay(RESULT, result) == result
    assert as_replay("not/a/spacehub/topic", b"{}") == b"{}"
    tap = decode(Tap, as_replay(TAP, encode(Tap(id="t", ts=EPOCH, card="04A1B2C3"))))
    assert tap.replay is True


# -- after a restart -----------------------------------------------------------------------


def test_rows_survive_a_restart_and_are_sent_in_order_by_the_next_outbox_taps_as_replays(
    path, clock, link
):
    first = opened(path, clock, link, replay_after=2.0)
    first.connected()
    first.put(TAP, a_tap(1, clock))
    first.pump()
    link.ack_all()
    first.pump()  # tap 1 made it
    link.connected = False
    first.put(TAP, a_tap(2, clock))
    first.put(RESULT, a_result(2, clock))
    first.put(DOOR, a_door_event(3, clock))
    first.put(TAP, a_tap(4, clock))
    first.pump()
    first.close()

    again = FakeLink()
    second = opened(path, clock, again, replay_after=2.0)  # the clock has not moved at all
    try:
        assert second.queued == 4 and second.dropped == 0
        second.connected()
        second.pump()
        assert again.ids() == ["tap-2", "result-2", "door-3", "tap-4"]
        taps = [m for m in again.messages() if isinstance(m, Tap)]
        assert [t.replay for t in taps] == [True, True]
        second.put(TAP, a_tap(5, clock))  # queued by this start: not late
        second.pump()
        assert (again.ids()[-1], again.messages()[-1].replay) == ("tap-5", False)  # type: ignore[attr-defined]
        again.ack_all()
        second.pump()
        assert second.queued == 0
    finally:
        second.close()
    assert rows(path) == []


def test_a_damaged_database_is_moved_aside_and_the_outbox_starts_empty(path, clock, link):
    path.write_bytes(b"this is not an SQLite database, it is what a bad card left" * 100)
    outbox = opened(path, clock, link)
    try:
        assert outbox.queued == 0
        outbox.put(TAP, a_tap(1, clock))
        assert outbox.queued == 1
    finally:
        outbox.close()
    assert [p.name.split("-")[0] for p in path.parent.glob("outbox.db.broken*")] == [
        "outbox.db.broken"
    ]


# -- the bound ------------------------------------------------------------------------------


def test_a_full_outbox_drops_the_oldest_and_counts_it(path, clock, link):
    outbox = opened(path, clock, link, max_events=3)
    try:
        for n in range(1, 6):
            outbox.put(DOOR, a_door_event(n, clock))
        assert (outbox.queued, outbox.dropped) == (3, 2)
        outbox.connected()
        outbox.pump()
        assert link.ids() == ["door-3", "door-4", "door-5"]
    finally:
        outbox.close()
    reopened = opened(path, clock)
    try:  # the drop count is per start; the rows are on disk
        assert (reopened.queued, reopened.dropped) == (3, 0)
    finally:
        reopened.close()


def test_dropping_a_row_in_flight_forgets_it(path, clock, link):
    outbox = opened(path, clock, link, max_events=2)
    try:
        outbox.connected()
        outbox.put(DOOR, a_door_event(1, clock))
        outbox.put(DOOR, a_door_event(2, clock))
        outbox.pump()
        outbox.put(DOOR, a_door_event(3, clock))  # drops door-1, which is in flight
        link.ack_all()
        outbox.pump()
        outbox.pump()
        assert link.ids() == ["door-1", "door-2", "door-3"]
        link.ack_all()
        outbox.pump()
        assert (outbox.queued, outbox.dropped) == (0, 1)
    finally:
        outbox.close()


def test_flush_returns_at_once_while_the_link_is_down(outbox, clock, link):
    link.connected = False
    outbox.put(TAP, a_tap(1, clock))
    assert outbox.flush(timeout=5.0) is False


def test_a_closed_outbox_refuses_events_and_keeps_its_rows(path, clock):
    outbox = opened(path, clock)
    outbox.put(TAP, a_tap(1, clock))
    outbox.close()
    with pytest.raises(RuntimeError, match="closed"):
        outbox.put(TAP, a_tap(2, clock))
    assert len(rows(path)) == 1


# -- in a device's status ------------------------------------------------------------------

UNREACHABLE = "mqtt://127.0.0.1:9"  # the runners below are never started


def door_config(tmp_path: Path, **outbox: object) -> DoorConfig:
    return DoorConfig.model_validate(
        {
            "site": SITE,
            "device": DEVICE,
            "data_dir": str(tmp_path / DEVICE),
            "mqtt": {"url": UNREACHABLE},
            "pins": {"strike": 17, "contact": 24, "exit": 25, "fire": 5},
            "outbox": outbox,
            "clock_synced": True,
        }
    )


def test_the_door_status_reports_queued_and_dropped(tmp_path, factory: MockFactory, clock):
    config = door_config(tmp_path, max_events=2)
    runner = DoorRunner(
        config, pin_factory=factory, reader=FakeReader(), clock=clock, wallclock=clock.wall
    )
    try:
        assert (runner.status("online").queued, runner.status("online").dropped) == (0, 0)
        for _ in range(3):
            runner.controller.card("04A1B2C3", clock.now)
        status = runner.status("online")
        assert (status.state, status.kind, status.queued, status.dropped) == (
            "online",
            "door",
            2,
            1,
        )
        assert runner.outbox.path == tmp_path / DEVICE / "outbox.db"
    finally:
        runner.stop()
    # Stopped while the broker was away: the taps wait on disk for the next start.
    assert [topic for _, topic in rows(tmp_path / DEVICE / "outbox.db")] == [TAP, TAP]


def test_a_sensor_queues_its_events_in_its_data_dir(tmp_path, factory: MockFactory, clock):
    config = SensorConfig.model_validate(
        {
            "site": SITE,
            "device": "pir-sala-a",
            "sensor": "pir",
            "data_dir": str(tmp_path / "pir"),
            "mqtt": {"url": UNREACHABLE},
            "pins": {"pir": 6},
        }
    )
    runner = SensorRunner(config, pin_factory=factory, clock=clock, wallclock=clock.wall)
    try:
        runner.sensor.motion.seen(True, clock.now)  # type: ignore[union-attr]
        assert runner.status("online").queued == 1
    finally:
        runner.stop()
    with sqlite3.connect(tmp_path / "pir" / "outbox.db") as db:
        [(payload,)] = db.execute("SELECT payload FROM outbox")
    assert decode(Motion, payload).motion is True


# -- configuration --------------------------------------------------------------------------

MINIMAL = 'site = "piaseczno"\ndevice = "reader-x"\n[pins]\nstrike = 17\n'


def test_outbox_defaults_bounded_and_replay_after_the_decision_timeout(tmp_path: Path):
    (tmp_path / "door.toml").write_text(MINIMAL)
    config = load_door_config(tmp_path / "door.toml")
    assert config.outbox.max_events == 10_000
    assert config.replay_after == config.timing.decision_timeout == 2.0


def test_outbox_settings_are_read(tmp_path: Path):
    text = MINIMAL + '[outbox]\nmax_events = 500\nreplay_after = "1500ms"\n'
    (tmp_path / "door.toml").write_text(text)
    config = load_door_config(tmp_path / "door.toml")
    assert (config.outbox.max_events, config.replay_after) == (500, 1.5)


@pytest.mark.parametrize(
    ("extra", "why"),
    [
        ("[outbox]\nmax_events = 0\n", "outbox.max_events: Input should be greater than"),
        ('[outbox]\nreplay_after = "3s"\n', "must not be longer than timing.decision_timeout"),
        ("[outbox]\nmax_event = 10\n", "outbox.max_event: is not a known key"),
    ],
)
def test_bad_outbox_settings_name_the_key(tmp_path: Path, extra: str, why: str):
    (tmp_path / "door.toml").write_text(MINIMAL + extra)
    with pytest.raises(ConfigError, match=why):
        load_door_config(tmp_path / "door.toml")


def test_a_sensor_has_no_replay_after():
    with pytest.raises(ValueError, match="replay_after"):
        SensorConfig.model_validate(
            {
                "site": SITE,
                "device": "pir-x",
                "sensor": "pir",
                "pins": {"pir": 6},
                "outbox": {"replay_after": "1s"},
            }
        )
