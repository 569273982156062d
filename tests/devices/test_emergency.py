"""Emergency cards at the door: the retained list kept on disk and loaded at start, and
the staff cards in it admitted by the door itself when no decision comes in time, checked
with the list's memory-hard hash (or SHA-256, from an older server)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from doorkit import EPOCH, GREEN, RED, STRIKE, Clock, Sent, door_config
from gpiozero.pins.mock import MockFactory

from devices import door_emergency
from devices.config import DoorConfig
from devices.door import DoorController, DoorRunner, EmergencyStore, drive_idle
from devices.readers import FakeReader
from protocol.cards import EMERGENCY_KDF, emergency_hash
from protocol.messages import Decision, DoorMode, EmergencyList, decode

STAFF, STRANGER = "04A1B2C3", "0102030405"
SALT = "5a1f00d0"


def config(data_dir: Path) -> DoorConfig:
    return door_config(data_dir)


def staff_list(
    *cards: str, at: datetime = EPOCH, n: int | None = None, kdf: str | None = EMERGENCY_KDF
) -> EmergencyList:
    """A list as the server sends it: scrypt hashes unless `kdf` is None (SHA-256)."""
    hashes = [emergency_hash(SALT, c, kdf) for c in cards]
    return EmergencyList(ts=at, salt=SALT, cards=hashes, kdf=kdf, n=n)


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
    door.set_emergency_list(staff_list(STAFF, n=4))
    newer = staff_list(STRANGER, n=6)
    door.set_emergency_list(newer)
    assert door.set_emergency_list(staff_list(STAFF, n=5)) == "stale"
    assert door.emergency_list == newer
    assert decode(EmergencyList, (tmp_path / "emergency.json").read_bytes()) == newer


def test_lists_without_n_from_an_older_server_are_ordered_by_their_time(door, clock):
    clock.now += 3600  # the wall clock too: lists an hour ahead would be ignored
    door.set_emergency_list(staff_list(STAFF, at=EPOCH, kdf=None))
    newer = staff_list(STRANGER, at=EPOCH + timedelta(hours=1), kdf=None)
    door.set_emergency_list(newer)
    assert door.set_emergency_list(staff_list(STAFF, at=EPOCH + timedelta(minutes=30))) == "stale"
    assert door.emergency_list == newer


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


# -- commands in time, and the hash -------------------------------------------------------


def test_a_list_dated_in_2099_is_ignored_and_not_written_to_disk(
    door, factory, clock, sent, tmp_path
):
    payload = {"v": 1, "ts": "2099-01-01T00:00:00Z", "salt": SALT}
    payload["cards"] = [emergency_hash(SALT, STAFF)]
    assert door.set_emergency_list(decode(EmergencyList, json.dumps(payload))) == "from_the_future"
    assert door.emergency_list is None and not (tmp_path / "emergency.json").exists()
    tap = door.card(STAFF, clock.now)
    door.tick(clock.now + 2.0)
    assert not strike(factory) and sent.results() == [(tap.id, "none", False, None)]

    current = staff_list(STAFF, at=clock.wall(), n=3)
    assert door.set_emergency_list(current) is None
    assert decode(EmergencyList, (tmp_path / "emergency.json").read_bytes()) == current
    door.card(STAFF, clock.now + 3)
    door.tick(clock.now + 5.0)
    assert strike(factory)


def test_the_n_of_the_stored_list_survives_a_restart(door, factory, clock, tmp_path):
    held = staff_list(STAFF, n=7)
    door.set_emergency_list(held)
    door.close()
    other = MockFactory()
    try:
        again = make_door(other, clock, Sent(), tmp_path)
        try:
            assert again.set_emergency_list(staff_list(STRANGER, n=6)) == "stale"
            assert (
                again.set_emergency_list(staff_list(STRANGER, at=EPOCH + timedelta(seconds=90)))
                == "stale"
            )  # no n
            assert again.set_emergency_list(held) is None  # the retained list again: no change
            assert again.emergency_list == held
            newer = staff_list(STRANGER, n=8)
            assert again.set_emergency_list(newer) is None
            assert again.emergency_list == newer
        finally:
            again.close()
    finally:
        other.reset()


def test_a_stored_list_dated_in_the_future_is_not_used(factory, clock, sent, tmp_path):
    EmergencyStore(tmp_path).save(staff_list(STAFF, at=datetime(2099, 1, 1, tzinfo=EPOCH.tzinfo)))
    door = make_door(factory, clock, sent, tmp_path)
    try:
        assert door.emergency_list is None
    finally:
        door.close()


def test_a_list_without_kdf_from_an_older_server_still_admits_its_staff(door, factory, clock, sent):
    door.set_emergency_list(staff_list(STAFF, kdf=None))
    tap = door.card(STAFF, clock.now)
    door.tick(clock.now + 2.0)
    assert strike(factory) and sent.results() == [(tap.id, "none", True, "emergency")]


def test_a_tap_costs_one_hash_however_many_cards_the_list_holds(door, clock, monkeypatch):
    others = [f"{i:064x}" for i in range(49)]
    listed = EmergencyList(
        ts=EPOCH,
        salt=SALT,
        kdf=EMERGENCY_KDF,
        cards=[*others, emergency_hash(SALT, STAFF, EMERGENCY_KDF)],
    )
    door.set_emergency_list(listed)
    calls: list[str] = []

    def counted(salt: str, uid: str, kdf: str | None = None) -> str:
        calls.append(uid)
        return emergency_hash(salt, uid, kdf)

    monkeypatch.setattr(door_emergency, "emergency_hash", counted)
    door.card(STAFF, clock.now)
    door.tick(clock.now + 2.0)
    assert door.unlocked and calls == [STAFF]


@pytest.mark.parametrize("kdf", ["argon2id:3:65536:4", "scrypt:3:8:1"])
def test_a_list_with_an_unknown_kdf_admits_nobody_and_the_door_keeps_working(
    door, factory, clock, sent, kdf, caplog
):
    door.set_emergency_list(staff_list(STAFF, n=1))
    unknown = EmergencyList(ts=EPOCH, salt=SALT, kdf=kdf, n=2, cards=[emergency_hash(SALT, STAFF)])
    assert door.set_emergency_list(unknown) is None  # the newest list: the old one no longer holds
    assert "does not know" in caplog.text
    tap = door.card(STAFF, clock.now)
    door.tick(clock.now + 2.0)
    assert not strike(factory) and sent.results() == [(tap.id, "none", False, None)]

    clock.now += 10
    answered = door.card(STAFF, clock.now)
    door.decision(Decision(id=answered.id, granted=True, reason="staff"), clock.now)
    assert strike(factory)
