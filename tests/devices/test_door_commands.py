"""Commands in time at the door: DoorMode ordered by the server's counter `n`, nothing
dated more than 5 minutes ahead of a synced clock, remote unlocks capped by the door's own
config, and the mode applied reported in the door's Status."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from doorkit import EXIT, STRIKE, Clock, Sent, door_config
from gpiozero.pins.mock import MockFactory

from devices.config import DoorConfig
from devices.door import DoorController, drive_idle
from protocol.messages import Decision, DoorCommand, DoorMode, decode

# A retained DoorMode as an attacker (or a server with a broken clock) would leave it.
FROM_2099 = json.dumps({"v": 1, "ts": "2099-01-01T00:00:00Z", "mode": "unlocked"})


def start(config: DoorConfig, factory: MockFactory, clock: Clock) -> DoorController:
    door = DoorController(
        config, pin_factory=factory, publish=Sent(), clock=clock, wallclock=clock.wall
    )
    drive_idle(factory, config.pins)
    return door


@pytest.fixture
def door(factory: MockFactory, clock: Clock, tmp_path: Path) -> Iterator[DoorController]:
    made = start(door_config(tmp_path), factory, clock)
    try:
        yield made
    finally:
        made.close()


@pytest.fixture
def unsynced(factory: MockFactory, clock: Clock, tmp_path: Path) -> Iterator[DoorController]:
    """A door whose clock has not been synced yet (a Pi before NTP answered)."""
    made = start(door_config(tmp_path, clock_synced=False), factory, clock)
    try:
        yield made
    finally:
        made.close()


def strike(factory: MockFactory) -> bool:
    return bool(factory.pin(STRIKE).state)


def mode(door: DoorController, clock: Clock, value: str, n: int | None, **ahead: float) -> DoorMode:
    """A DoorMode dated by the door's wall clock (plus `ahead`), with counter `n`."""
    ts = clock.wall() + timedelta(**ahead)
    return DoorMode.model_validate({"ts": ts, "mode": value, "n": n})


# -- the door mode ------------------------------------------------------------------------


def test_a_mode_dated_2099_is_ignored_and_a_later_lockdown_applies(door, factory, clock):
    assert door.mode(decode(DoorMode, FROM_2099), clock.now) == "from_the_future"
    assert door.current_mode == "normal" and not strike(factory)
    clock.now += 60
    assert door.mode(mode(door, clock, "locked", n=12), clock.now) is None
    assert door.current_mode == "locked"
    assert door.status("online").mode == "locked"


def test_a_mode_up_to_5_minutes_ahead_applies_and_further_ahead_does_not(door, clock):
    assert door.mode(mode(door, clock, "locked", n=1, minutes=5), clock.now) is None
    assert door.mode(mode(door, clock, "normal", n=2, minutes=5, seconds=1)) == "from_the_future"
    assert door.current_mode == "locked"


def test_with_an_unsynced_clock_only_n_orders_modes(unsynced, factory, clock):
    door = unsynced
    assert door.mode(decode(DoorMode, FROM_2099), clock.now) is None  # cannot tell it is early
    assert door.current_mode == "unlocked" and strike(factory)
    assert door.mode(mode(door, clock, "locked", n=3), clock.now) is None  # n beats no n
    assert door.current_mode == "locked" and not strike(factory)
    assert door.mode(mode(door, clock, "normal", n=None, hours=1), clock.now) == "stale"
    assert door.current_mode == "locked"


def test_an_older_or_equal_n_is_ignored_after_a_newer_one(door, factory, clock):
    assert door.mode(mode(door, clock, "locked", n=10), clock.now) is None
    clock.now += 1
    assert door.mode(mode(door, clock, "unlocked", n=9), clock.now) == "stale"
    assert door.mode(mode(door, clock, "unlocked", n=10), clock.now) == "stale"
    assert door.mode(mode(door, clock, "unlocked", n=None), clock.now) == "stale"  # older server
    assert door.current_mode == "locked" and not strike(factory)
    assert door.mode(mode(door, clock, "unlocked", n=11, seconds=-30), clock.now) is None
    assert door.current_mode == "unlocked" and strike(factory)


def test_the_retained_mode_redelivered_changes_nothing(door, factory, clock):
    lockdown = mode(door, clock, "locked", n=4)
    door.mode(lockdown, clock.now)
    factory.pin(EXIT).drive_low()  # egress in lockdown: the exit button releases
    factory.pin(EXIT).drive_high()
    assert strike(factory)
    assert door.mode(lockdown, clock.now + 1) is None  # a reconnect brings it again
    assert strike(factory)  # the exit release goes on


def test_status_reports_the_mode_applied(door, clock):
    assert door.status("online").mode == "normal"
    door.mode(mode(door, clock, "unlocked", n=1), clock.now)
    assert door.status("online").mode == "unlocked"
    assert door.status("offline").mode == "unlocked"


# -- remote unlocks -------------------------------------------------------------------------


def unlock(clock: Clock, unlock_s: float, id_: str = "cmd-1", **ahead: float) -> DoorCommand:
    ts = clock.wall() + timedelta(**ahead)
    return DoorCommand(id=id_, ts=ts, expires=ts + timedelta(seconds=30), unlock_s=unlock_s)


def test_a_remote_unlock_of_an_hour_opens_for_30_s_only(door, factory, clock):
    assert door.command(unlock(clock, 3600), clock.wall(), clock.now) is None
    opened = clock.now
    clock.now = opened + 29.9
    door.tick(clock.now)
    assert strike(factory)
    clock.now = opened + 30.1
    door.tick(clock.now)
    assert not strike(factory)


def test_the_cap_is_the_doors_own_max_remote_unlock(factory, clock, tmp_path):
    config = door_config(tmp_path, timing={"max_remote_unlock": "10s"})
    door = start(config, factory, clock)
    try:
        door.command(unlock(clock, 20), clock.wall(), clock.now)
        door.tick(clock.now + 9.9)
        assert strike(factory)
        door.tick(clock.now + 10.1)
        assert not strike(factory)
        door.command(unlock(clock, 4, id_="cmd-2"), clock.wall(), clock.now + 20)
        door.tick(clock.now + 23.9)  # shorter than the cap: its own unlock_s
        assert strike(factory)
        door.tick(clock.now + 24.1)
        assert not strike(factory)
    finally:
        door.close()


def granted(door: DoorController, clock: Clock, unlock_s: float) -> float:
    """Tap a card and grant it for `unlock_s`; when the door opened."""
    tap = door.card("04A1B2C3", clock.now)
    door.decision(Decision(id=tap.id, granted=True, reason="member", unlock_s=unlock_s), clock.now)
    return clock.now


def test_a_grant_of_an_hour_opens_for_30_s_only(door, factory, clock):
    opened = granted(door, clock, 3600)
    door.tick(opened + 29.9)
    assert strike(factory)
    door.tick(opened + 30.1)
    assert not strike(factory)


def test_the_grant_cap_is_the_doors_own_max_grant_unlock(factory, clock, tmp_path):
    door = start(door_config(tmp_path, timing={"max_grant_unlock": "8s"}), factory, clock)
    try:
        opened = granted(door, clock, 20)
        door.tick(opened + 7.9)
        assert strike(factory)
        door.tick(opened + 8.1)
        assert not strike(factory)
        clock.now = opened + 20
        opened = granted(door, clock, 3)  # shorter than the cap: its own unlock_s
        door.tick(opened + 2.9)
        assert strike(factory)
        door.tick(opened + 3.1)
        assert not strike(factory)
    finally:
        door.close()


def test_a_remote_unlock_dated_in_the_future_is_ignored(door, factory, clock):
    command = unlock(clock, 5, minutes=10)
    assert door.command(command, clock.wall(), clock.now) == "from_the_future"
    assert not strike(factory)
