"""No message can stop a door: junk fed to the runner's MQTT handler is counted per
reason, logged at most once a minute per reason, never raised, and the door still applies
the next valid decision."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from doorkit import DEVICE, SITE, STRIKE, Clock, door_config, mqtt_message
from gpiozero.pins.mock import MockFactory

from devices.door import DoorRunner, drive_idle
from devices.readers import FakeReader
from protocol import topics
from protocol.messages import Decision, DoorCommand, DoorMode, EmergencyList

DECISION = topics.decision(SITE, DEVICE)
MODE = topics.mode(SITE, DEVICE)
COMMAND = topics.door_command(SITE, DEVICE)
EMERGENCY = topics.emergency(SITE, DEVICE)


@pytest.fixture
def runner(factory: MockFactory, clock: Clock, tmp_path: Path) -> Iterator[DoorRunner]:
    """A door runner that is never connected: the test is its broker."""
    made = DoorRunner(
        door_config(tmp_path),
        pin_factory=factory,
        reader=FakeReader(),
        clock=clock,
        wallclock=clock.wall,
    )
    drive_idle(factory, made.config.pins)
    try:
        yield made
    finally:
        made.stop()


def junk(clock: Clock) -> list[tuple[str | bytes, bytes, str]]:
    """(topic, payload, the reason it is counted under)."""
    wall = clock.wall().isoformat().replace("+00:00", "Z")
    return [
        (b"hub/piaseczno/dev/\xff\xfe/cmd/decision", b"{}", "bad_topic"),
        ("hub/piaseczno/dev/BAD/cmd/decision", b"{}", "bad_topic"),
        ("nonsense", b"", "bad_topic"),
        (topics.decision(SITE, "reader-main"), b"{}", "not_ours"),
        (topics.tap(SITE, DEVICE), b"{}", "not_ours"),
        (f"hub/{SITE}/dev/{DEVICE}/cmd/reboot", b"{}", "unknown_kind"),
        (DECISION, b"not json", "invalid"),
        (DECISION, b"\xff\xfe", "invalid"),
        (DECISION, b"[]", "invalid"),
        (DECISION, b"{}", "invalid"),
        (DECISION, b"[" * 4000, "invalid"),
        (DECISION, b"{" + b" " * 5000 + b"}", "invalid"),
        (DECISION, b'{"id":"x","granted":true,"reason":"staff","unlock_s":1e300}', "invalid"),
        (DECISION, b'{"id":"x","granted":true,"reason":"staff","unlock_s":NaN}', "invalid"),
        (
            COMMAND,
            json.dumps({"id": "c", "ts": wall, "expires": wall, "unlock_s": -1}).encode(),
            "invalid",
        ),
        (MODE, json.dumps({"ts": wall, "mode": "open"}).encode(), "invalid"),
        (MODE, json.dumps({"ts": wall, "mode": "locked", "n": -1}).encode(), "invalid"),
        (MODE, json.dumps({"ts": wall, "mode": "locked", "n": 2**64}).encode(), "invalid"),
        (
            MODE,
            json.dumps({"ts": "2099-01-01T00:00:00Z", "mode": "unlocked"}).encode(),
            "from_the_future",
        ),
        (EMERGENCY, json.dumps({"ts": wall, "salt": "zz", "cards": []}).encode(), "invalid"),
        (
            EMERGENCY,
            json.dumps({"ts": wall, "salt": "00ff00ff", "cards": ["a" * 64] * 51}).encode(),
            "invalid",
        ),
        (
            DECISION,
            json.dumps({"id": "never-tapped", "granted": True, "reason": "staff"}).encode(),
            "not_pending",
        ),
    ]


def test_junk_is_counted_per_reason_and_the_next_valid_decision_still_applies(
    runner: DoorRunner, factory: MockFactory, clock: Clock
):
    door = runner.controller
    tap = door.card("04A1B2C3", clock.now)
    expected: dict[str, int] = {}
    for topic, payload, reason in junk(clock):
        runner.receive(mqtt_message(topic, payload))  # never raises
        expected[reason] = expected.get(reason, 0) + 1
    assert dict(runner.rejected.counts) == expected
    assert door.current_mode == "normal" and not factory.pin(STRIKE).state

    runner.receive(mqtt_message(DECISION, Decision(id=tap.id, granted=True, reason="staff")))
    assert factory.pin(STRIKE).state
    assert dict(runner.rejected.counts) == expected  # the valid one is not counted


def test_valid_commands_through_the_handler_are_applied(runner: DoorRunner, clock: Clock):
    runner.receive(mqtt_message(MODE, DoorMode(ts=clock.wall(), mode="locked", n=1)))
    assert runner.controller.current_mode == "locked"
    listed = EmergencyList(ts=clock.wall(), salt="00ff00ff", cards=["a" * 64], n=2)
    runner.receive(mqtt_message(EMERGENCY, listed))
    assert runner.controller.emergency_list == listed
    command = DoorCommand(id="c1", ts=clock.wall(), expires=clock.wall(), unlock_s=5)
    runner.receive(mqtt_message(COMMAND, command))
    assert dict(runner.rejected.counts) == {"locked_down": 1}


def test_a_handler_that_fails_is_counted_and_does_not_stop_the_next_message(
    runner: DoorRunner, factory: MockFactory, clock: Clock, monkeypatch
):
    door = runner.controller
    tap = door.card("04A1B2C3", clock.now)
    real = door.decision

    def broken(msg: Decision, now: float) -> str | None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(door, "decision", broken)
    runner.receive(mqtt_message(DECISION, Decision(id=tap.id, granted=True, reason="staff")))
    assert runner.rejected.counts["failed"] == 1
    monkeypatch.setattr(door, "decision", real)
    runner.receive(mqtt_message(DECISION, Decision(id=tap.id, granted=True, reason="staff")))
    assert factory.pin(STRIKE).state


def test_each_reason_is_logged_at_most_once_a_minute(runner: DoorRunner, clock: Clock, caplog):
    caplog.set_level(logging.WARNING, logger="devices.inbox")

    def lines(reason: str) -> list[str]:
        return [r.getMessage() for r in caplog.records if f"({reason})" in r.getMessage()]

    for _ in range(50):
        runner.receive(mqtt_message(DECISION, b"not json"))
        runner.receive(mqtt_message("nonsense", b""))
    assert len(lines("invalid")) == 1 and len(lines("bad_topic")) == 1
    clock.now += 59
    runner.receive(mqtt_message(DECISION, b"not json"))
    assert len(lines("invalid")) == 1
    clock.now += 1.5
    runner.receive(mqtt_message(DECISION, b"not json"))
    [_, second] = lines("invalid")
    assert "51 message(s)" in second  # how many came since the line before
    assert runner.rejected.counts["invalid"] == 52
