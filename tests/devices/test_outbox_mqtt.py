"""The door's outbox through a real Mosquitto that goes away and comes back: events made
while the broker is down arrive after it returns, in order, taps as replays; also when the
door itself was restarted in between."""

from __future__ import annotations

import os
import queue
import signal
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import paho.mqtt.client as paho
import pytest
from gpiozero.pins.mock import MockFactory
from support.waiting import eventually

from devices.config import DoorConfig
from devices.door import DoorRunner, drive_idle
from devices.readers import FakeReader
from protocol import topics
from protocol.messages import Decision, DoorEvent, Message, Result, Status, Tap, decode, encode
from spacehub.broker import MosquittoBroker, free_port, mosquitto_path

wait_until = partial(eventually, timeout=15.0)


pytestmark = pytest.mark.mosquitto

SITE, DEVICE, STRIKE, EXIT = "piaseczno", "reader-main", 17, 25
CARDS = ["04A1B2C3", "0102030405", "04C0FFEE"]
KINDS: dict[str, type[Message]] = {
    topics.tap(SITE, DEVICE): Tap,
    topics.result(SITE, DEVICE): Result,
    topics.door_event(SITE, DEVICE): DoorEvent,
    topics.status(SITE, DEVICE): Status,
}


class Observer:
    """A subscriber with a persistent session (as the server has), so that what the door
    sends while the observer is still reconnecting after a broker restart waits for it."""

    def __init__(self, broker: MosquittoBroker) -> None:
        self.received: queue.Queue[tuple[str, Message]] = queue.Queue()
        self.client = paho.Client(
            paho.CallbackAPIVersion.VERSION2, client_id="test-outbox-observer", clean_session=False
        )
        self.client.reconnect_delay_set(min_delay=0.1, max_delay=0.5)
        self.client.on_message = self._on_message
        self.client.on_connect = lambda c, u, f, rc, p: c.subscribe(
            f"hub/{SITE}/dev/{DEVICE}/#", qos=1
        )
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()

    def _on_message(self, client: paho.Client, userdata: object, msg: paho.MQTTMessage) -> None:
        if msg.topic in KINDS:  # not the commands a test sends the door itself
            self.received.put((msg.topic, decode(KINDS[msg.topic], bytes(msg.payload))))

    def events(
        self, until: Callable[[list[Message]], bool], timeout: float = 30.0
    ) -> list[Message]:
        """Device events (not statuses) in the order they first arrived, each id once, until
        `until(events)` holds."""
        seen: dict[str, Message] = {}
        deadline = time.monotonic() + timeout
        while not until(list(seen.values())):
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"only got {list(seen.values())}")
            try:
                _topic, message = self.received.get(timeout=left)
            except queue.Empty:
                continue
            if not isinstance(message, Status):
                seen.setdefault(message.id, message)  # type: ignore[attr-defined]
        return list(seen.values())

    def online(self, timeout: float = 15.0) -> Status:
        """The next online Status, skipping events and other statuses (the retained one a
        resubscription brings may be an old will)."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                _topic, message = self.received.get(timeout=left)
            except queue.Empty:
                break
            if isinstance(message, Status) and message.state == "online":
                return message
        raise AssertionError("no online status")

    def drain(self) -> list[Message]:
        """Everything received and not yet read, statuses too, repeats too."""
        got: list[Message] = []
        while not self.received.empty():
            got.append(self.received.get_nowait()[1])
        return got

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[MosquittoBroker]:
    """A Mosquitto with persistence, that a test may stop and start again on its port."""
    if mosquitto_path() is None:
        pytest.skip("mosquitto is not installed")
    made = MosquittoBroker(free_port(), tmp_path / "broker")
    made.start()
    try:
        yield made
    finally:
        made.stop()


@pytest.fixture
def observer(broker: MosquittoBroker) -> Iterator[Observer]:
    watching = Observer(broker)
    try:
        assert wait_until(watching.client.is_connected)
        yield watching
    finally:
        watching.close()


@pytest.fixture
def config(broker: MosquittoBroker, tmp_path: Path) -> DoorConfig:
    return DoorConfig.model_validate(
        {
            "site": SITE,
            "device": DEVICE,
            "data_dir": str(tmp_path / DEVICE),
            "mqtt": {"url": broker.url},
            "pins": {"strike": STRIKE, "contact": 24, "exit": EXIT, "fire": 5},
            # Short, so that the taps made while the broker is away are answered by
            # nobody and their Results are queued as well.
            "timing": {"decision_timeout": "300ms"},
            "clock_synced": True,
        }
    )


@pytest.fixture
def pins() -> Iterator[Callable[[], MockFactory]]:
    """Fresh mock pins for each door a test starts (a restarted door gets new ones)."""
    made: list[MockFactory] = []

    def new() -> MockFactory:
        made.append(MockFactory())
        return made[-1]

    yield new
    for factory in made:
        factory.reset()


def start_door(config: DoorConfig, factory: MockFactory) -> DoorRunner:
    runner = DoorRunner(config, pin_factory=factory, reader=FakeReader())
    drive_idle(factory, config.pins)  # the door is closed: a "closed" event is queued
    runner.start()
    return runner


def present_while_down(runner: DoorRunner, factory: MockFactory) -> int:
    """Tap every card (each times out, its Result is queued), then press the exit button;
    return how many events that queued."""
    before = runner.outbox.queued
    assert isinstance(runner.reader, FakeReader)
    for card in CARDS:
        runner.reader.present(card)
    assert wait_until(lambda: runner.outbox.queued == before + 2 * len(CARDS))
    factory.pin(EXIT).drive_low()  # pressed: "exit_request"
    factory.pin(EXIT).drive_high()
    assert runner.outbox.queued == before + 2 * len(CARDS) + 1
    return 2 * len(CARDS) + 1


def made_while_down(events: list[Message], boot: str, after_seq: int) -> list[Message]:
    return [e for e in events if getattr(e, "boot", None) == boot and e.seq > after_seq]  # type: ignore[attr-defined]


def check_in_order_and_complete(events: list[Message], n: int) -> None:
    """The n events made while the broker was away, as they were made (seq without gaps,
    in the order they arrived): the taps, their Results (nobody answered), then the exit
    request; the taps as replays."""
    assert len(events) == n
    seqs = [e.seq for e in events]  # type: ignore[attr-defined]
    assert seqs == list(range(seqs[0], seqs[0] + n))
    taps = [e for e in events if isinstance(e, Tap)]
    results = [e for e in events if isinstance(e, Result)]
    assert [t.card for t in taps] == CARDS
    assert all(t.replay for t in taps)
    assert [(r.tap, r.applied, r.granted) for r in results] == [(t.id, "none", False) for t in taps]
    assert [e.event for e in events if isinstance(e, DoorEvent)] == ["exit_request"]
    assert isinstance(events[-1], DoorEvent)


def test_events_made_while_the_broker_is_down_arrive_after_it_returns_taps_as_replays(
    broker: MosquittoBroker, observer: Observer, config: DoorConfig, pins
):
    factory = pins()
    door = start_door(config, factory)
    try:
        observer.online()
        assert isinstance(door.reader, FakeReader)
        door.reader.present("04DEAD00BEEF")  # with the broker there: sent at once
        events = observer.events(lambda es: any(isinstance(e, Result) for e in es))
        [tap] = [e for e in events if isinstance(e, Tap)]
        [result] = [e for e in events if isinstance(e, Result)]  # nobody answers: "none"
        assert tap.replay is False and result.tap == tap.id
        assert wait_until(lambda: door.outbox.queued == 0)  # acknowledged: deleted
        last_seq = result.seq
        assert last_seq is not None

        broker.stop()
        assert wait_until(lambda: not door.client.connected)
        queued = present_while_down(door, factory)

        broker.start()
        assert observer.online().queued == queued
        events = observer.events(
            lambda es: len(made_while_down(es, door.controller.boot, last_seq)) >= queued
        )
        check_in_order_and_complete(made_while_down(events, door.controller.boot, last_seq), queued)
        assert wait_until(lambda: door.outbox.queued == 0)
    finally:
        door.stop()


def test_a_door_restarted_while_the_broker_is_down_sends_its_queued_events_after_both_return(
    broker: MosquittoBroker, observer: Observer, config: DoorConfig, pins
):
    first_pins = pins()
    first = start_door(config, first_pins)
    try:
        observer.online()
        assert wait_until(lambda: first.outbox.queued == 0)  # the "closed" from drive_idle
        broker.stop()
        assert wait_until(lambda: not first.client.connected)
        queued = present_while_down(first, first_pins)
    finally:
        first.stop()  # the broker is away: the events stay on disk
    boot = first.controller.boot

    second = DoorRunner(config, pin_factory=(second_pins := pins()), reader=FakeReader())
    try:
        assert second.status("online").queued == queued
        drive_idle(second_pins, config.pins)  # "closed", queued behind the first door's
        second.start()
        broker.start()

        # Announced on connecting, before any of the backlog is acknowledged.
        assert observer.online().queued == queued + 1
        events = observer.events(
            lambda es: any(getattr(e, "boot", None) == second.controller.boot for e in es)
        )
        # All of them before the first event of the second door.
        check_in_order_and_complete(made_while_down(events, boot, 1), queued)
        [closed] = [e for e in events if getattr(e, "boot", None) == second.controller.boot]
        assert isinstance(closed, DoorEvent) and (closed.event, closed.seq) == ("closed", 1)
        assert wait_until(lambda: second.outbox.queued == 0)
    finally:
        second.stop()


def test_what_was_in_flight_when_the_broker_died_is_sent_again_once_by_the_outbox_not_by_paho(
    broker: MosquittoBroker, observer: Observer, config: DoorConfig, pins
):
    factory = pins()
    door = start_door(config, factory)
    try:
        observer.online()
        assert wait_until(lambda: door.outbox.queued == 0)
        # The broker's autosave (every second) has kept the observer's session, so what
        # the door sends while the observer reconnects after the kill waits for it.
        saved_after = time.time()
        store = broker.data_dir / "mosquitto.db"
        assert wait_until(lambda: store.exists() and store.stat().st_mtime > saved_after + 0.1)
        observer.drain()  # the "closed" drive_idle made, and the status
        assert broker.pid is not None
        os.kill(broker.pid, signal.SIGSTOP)  # hung: takes the bytes, answers nothing
        assert isinstance(door.reader, FakeReader)
        door.reader.present(CARDS[0])
        assert wait_until(lambda: door.outbox.queued == 2)  # the tap and its Result, unacked
        broker.kill()  # paho still holds both, as unacknowledged QoS 1 messages
        broker.start()

        assert wait_until(lambda: door.outbox.queued == 0)
        # The observer may reconnect after the door: what the door sent waits in its
        # session until then. Every arrival, repeats too: paho's copies (not replays)
        # would come first.
        arrived: list[Message] = []

        def events() -> list[Message]:
            arrived.extend(m for m in observer.drain() if not isinstance(m, Status))
            return arrived

        assert wait_until(lambda: len(events()) >= 2)
        time.sleep(0.5)  # a second copy, if one were coming, would be here by now
        tap, result = events()
        assert isinstance(tap, Tap) and isinstance(result, Result)
        assert tap.replay is True and result.tap == tap.id  # the outbox's copy, marked late
    finally:
        door.stop()


def test_a_door_is_back_within_a_second_of_the_brokers_return_and_is_answered(
    broker: MosquittoBroker, observer: Observer, config: DoorConfig, pins
):
    # Long enough that the test's own answer, through the broker, is in time.
    timing = config.timing.model_copy(update={"decision_timeout": 10.0})
    factory = pins()
    door = start_door(config.model_copy(update={"timing": timing}), factory)
    try:
        observer.online()
        broker.stop()
        assert wait_until(lambda: not door.client.connected)
        broker.start()  # returns once Mosquitto accepts connections
        assert wait_until(lambda: door.client.connected, timeout=1.0)
        observer.online()
        assert isinstance(door.reader, FakeReader)
        door.reader.present(CARDS[0])
        [tap] = [
            e
            for e in observer.events(lambda es: any(isinstance(e, Tap) for e in es))
            if isinstance(e, Tap)
        ]
        assert not tap.replay
        decision = Decision(id=tap.id, granted=True, reason="staff")
        observer.client.publish(topics.decision(SITE, DEVICE), encode(decision), qos=1)
        events = observer.events(lambda es: any(isinstance(e, Result) for e in es))
        [result] = [e for e in events if isinstance(e, Result)]
        assert (result.tap, result.applied, result.granted) == (tap.id, "server", True)
        assert factory.pin(STRIKE).state
    finally:
        door.stop()
