"""Emergency cards at the door: the retained list kept on disk and loaded at start, and
the staff cards in it admitted by the door itself when no decision comes in time."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from gpiozero.pins.mock import MockFactory

from devices.config import DoorConfig
from devices.door import DoorController, DoorRunner, EmergencyStore, drive_idle
from devices.readers import FakeReader
from protocol.cards import emergency_hash
from protocol.messages import Decision, DoorMode, EmergencyList, Message, Result, decode, encode

STRIKE, GREEN, RED, CONTACT, EXIT, FIRE = 17, 27, 22, 24, 25, 5
STAFF, STRANGER = "04A1B2C3", "0102030405"
SALT = "5a1f00d0"
EPOCH = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def config(data_dir: Path) -> DoorConfig:
    return DoorConfig.model_validate(
        {
            "site": "piaseczno",
            "device": "reader-sala-a",
            "data_dir": str(data_dir),
            "mqtt": {"url": "mqtt://127.0.0.1:9"},  # never connected here
            "pins": {
                "strike": STRIKE,
                "green": GREEN,
                "red": RED,
                "contact": CONTACT,
                "exit": EXIT,
                "fire": FIRE,
            },
            "timing": {"unlock": "5s", "decision_timeout": "2s"},
            "clock_synced": True,
        }
    )


def staff_list(*cards: str, at: datetime = EPOCH) -> EmergencyList:
    return EmergencyList(ts=at, salt=SALT, cards=[emergency_hash(SALT, c) for c in cards])


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def wall(self) -> datetime:
        return EPOCH + timedelta(seconds=self.now)


class Sent(list[tuple[str, Message, bool]]):
    def __call__(self, topic: str, message: Message, retain: bool) -> None:
        decode(type(message), encode(message))
        self.append((topic, message, retain))

    def results(self) -> list[tuple[str, str, bool, str | None]]:
        return [
            (m.tap, m.applied, m.granted, m.reason) for _, m, _ in self if isinstance(m, Result)
        ]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sent() -> Sent:
    return Sent()


def make_door(factory: MockFactory, clock: Clock, sent: Sent, data_dir: Path) -> DoorController:
    door = DoorController(
        config(data_dir),
        pin_factory=factory,
        publish=sent,
        clock=clock,
        wallclock=clock.wall,
        emergency=EmergencyStore(data_dir),
    )
    drive_idle(factory, door.config.pins)
    sent.clear()
    return door


@pytest.fixture
def door(factory, clock, sent, tmp_path) -> Iterator[DoorController]:
    made = make_door(factory, clock, sent, tmp_path)
    try:
        yield made
    finally:
        made.close()


def strike(factory: MockFactory) -> bool:
    return bool(factory.pin(STRIKE).state)


# -- the list on disk -----------------------------------------------------------------------


def test_a_list_received_is_written_to_disk_and_loaded_by_a_new_controller(
    door, factory, clock, sent, tmp_path
):
    assert door.emergency_list is None
    emergency = staff_list(STAFF)
    door.set_emergency_list(emergency)
    stored = tmp_path / "emergency.json"
    assert decode(EmergencyList, stored.read_bytes()) == emergency
    assert [p.name for p in tmp_path.iterdir()] == ["emergency.json"]  # no temporary left
    door.close()

    other = MockFactory()
    try:
        again = make_door(other, clock, Sent(), tmp_path)
        try:
            assert again.emergency_list == emergency
        finally:
            again.close()
    finally:
        other.reset()


def test_a_newer_list_replaces_the_stored_one_and_an_older_one_does_not(door, tmp_path):
    door.set_emergency_list(staff_list(STAFF, at=EPOCH))
    newer = staff_list(STRANGER, at=EPOCH + timedelta(hours=1))
    door.set_emergency_list(newer)
    door.set_emergency_list(staff_list(STAFF, at=EPOCH + timedelta(minutes=30)))
    assert door.emergency_list == newer
    assert decode(EmergencyList, (tmp_path / "emergency.json").read_bytes()) == newer


def test_an_unreadable_stored_list_is_no_list_and_the_door_still_works(
    factory, clock, sent, tmp_path
):
    (tmp_path / "emergency.json").write_text(json.dumps({"v": 1, "salt": "not hex"}))
    door = make_door(factory, clock, sent, tmp_path)
    try:
        assert door.emergency_list is None
        door.card(STAFF, clock.now)
        door.tick(clock.now + 2.0)
        assert not strike(factory)
    finally:
        door.close()


def test_a_store_that_cannot_write_keeps_the_list_in_memory(factory, clock, sent, tmp_path):
    blocked = tmp_path / "file-not-dir"
    blocked.write_text("")
    door = make_door(factory, clock, sent, blocked)  # data_dir is a file: saving fails
    try:
        door.set_emergency_list(staff_list(STAFF))
        tap = door.card(STAFF, clock.now)
        door.tick(clock.now + 2.0)
        assert strike(factory) and sent.results() == [(tap.id, "none", True, "emergency")]
    finally:
        door.close()


# -- admission when nobody answers ----------------------------------------------------------


def test_with_no_decision_a_staff_card_in_the_list_unlocks_after_the_timeout(
    door, factory, clock, sent
):
    door.set_emergency_list(staff_list(STAFF))
    tap = door.card(STAFF, clock.now)
    door.tick(clock.now + 1.99)
    assert not strike(factory) and sent.results() == []
    clock.now += 2.0
    door.tick(clock.now)
    assert strike(factory)
    assert sent.results() == [(tap.id, "none", True, "emergency")]
    door.tick(clock.now + 4.99)
    assert strike(factory)
    door.tick(clock.now + 5.01)  # for the door's unlock time, then locked again
    assert not strike(factory)


def test_with_no_decision_another_card_stays_locked(door, factory, clock, sent):
    door.set_emergency_list(staff_list(STAFF))
    tap = door.card(STRANGER, clock.now)
    for dt in (2.0, 3.0, 10.0):
        door.tick(clock.now + dt)
        assert not strike(factory)
    assert sent.results() == [(tap.id, "none", False, None)]
    door.tick(clock.now + 2.1)
    assert bool(factory.pin(RED).state) and bool(factory.pin(GREEN).state)
    door.tick(clock.now + 2.35)  # the offline blink, not a denial's steady red
    assert not bool(factory.pin(RED).state)


def test_a_staff_card_is_not_admitted_by_the_door_when_there_is_no_list(door, factory, clock, sent):
    tap = door.card(STAFF, clock.now)
    door.tick(clock.now + 2.0)
    assert not strike(factory)
    assert sent.results() == [(tap.id, "none", False, None)]


def test_a_decision_in_time_wins_over_the_list(door, factory, clock, sent):
    door.set_emergency_list(staff_list(STAFF))
    tap = door.card(STAFF, clock.now)
    door.decision(Decision(id=tap.id, granted=False, reason="card_revoked"), clock.now + 0.5)
    door.tick(clock.now + 2.5)
    assert not strike(factory)
    assert sent.results() == [(tap.id, "server", False, "card_revoked")]


def test_a_late_decision_after_an_emergency_admission_is_ignored(door, factory, clock, sent):
    door.set_emergency_list(staff_list(STAFF))
    tap = door.card(STAFF, clock.now)
    door.tick(clock.now + 2.0)
    door.decision(Decision(id=tap.id, granted=False, reason="no_access"), clock.now + 2.5)
    assert strike(factory)
    assert [r[1] for r in sent.results()] == ["none"]


def test_in_lockdown_an_emergency_card_does_not_open(door, factory, clock, sent):
    door.mode(DoorMode(ts=EPOCH, mode="locked"), clock.now)
    door.set_emergency_list(staff_list(STAFF))
    tap = door.card(STAFF, clock.now)
    door.tick(clock.now + 2.0)
    assert not strike(factory)
    assert sent.results() == [(tap.id, "none", False, "locked_down")]


def held_by(door: DoorController) -> str:
    """Everything the controller holds, but what it has published (the test's list)."""
    return repr({k: v for k, v in vars(door).items() if k != "_publish"})


def test_the_card_of_a_pending_tap_is_forgotten_once_the_tap_is_settled(door, factory, clock, sent):
    door.set_emergency_list(staff_list(STAFF))
    answered = door.card(STRANGER, clock.now)
    door.card(STAFF, clock.now)
    assert STRANGER in held_by(door) and STAFF in held_by(door)
    door.decision(Decision(id=answered.id, granted=False, reason="no_access"), clock.now)
    assert STRANGER not in held_by(door) and STAFF in held_by(door)
    door.tick(clock.now + 2.0)
    assert STAFF not in held_by(door)


# -- through the runner ---------------------------------------------------------------------


def test_the_runner_keeps_a_received_list_in_its_data_dir_for_its_next_start(
    factory, clock, tmp_path
):
    emergency = staff_list(STAFF)
    runner = DoorRunner(config(tmp_path), pin_factory=factory, reader=FakeReader(), clock=clock)
    try:
        runner.dispatch(emergency)
    finally:
        runner.stop()
    assert (tmp_path / "emergency.json").is_file()

    other = MockFactory()
    try:
        again = DoorRunner(config(tmp_path), pin_factory=other, reader=FakeReader(), clock=clock)
        try:
            drive_idle(other, again.config.pins)
            assert again.controller.emergency_list == emergency
            again.controller.card(STAFF, clock.now)
            again.controller.tick(clock.now + 2.0)
            assert bool(other.pin(STRIKE).state)
        finally:
            again.stop()
    finally:
        other.reset()
