"""What a device writes under its data_dir (the outbox with raw card UIDs, the emergency
list) is readable by its own user only: files 0600 in a 0700 folder, whatever the umask,
and also when an older version left them world-readable."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from doorkit import EPOCH, UNREACHABLE, Clock, door_config
from gpiozero.pins.mock import MockFactory

from devices.config import SensorConfig
from devices.door import DoorRunner, drive_idle
from devices.readers import FakeReader
from devices.sensor import SensorRunner
from protocol.cards import EMERGENCY_KDF, emergency_hash
from protocol.messages import EmergencyList


@pytest.fixture(autouse=True)
def open_umask() -> Iterator[None]:
    """A umask that hides nothing, so that only the programs' own care makes files private."""
    before = os.umask(0)
    try:
        yield
    finally:
        os.umask(before)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def modes(folder: Path) -> dict[str, int]:
    return {p.name: mode(p) for p in folder.iterdir()}


def test_a_door_keeps_its_outbox_and_emergency_list_private(factory: MockFactory, tmp_path):
    clock, data = Clock(), tmp_path / "reader"
    runner = DoorRunner(
        door_config(data),
        pin_factory=factory,
        reader=FakeReader(),
        clock=clock,
        wallclock=clock.wall,
    )
    drive_idle(factory, runner.config.pins)
    runner.start()
    try:
        runner.controller.card("04A1B2C3", clock.now)  # a tap, with its UID, in the outbox
        listed = EmergencyList(
            ts=EPOCH,
            salt="5a1f00d0",
            kdf=EMERGENCY_KDF,
            cards=[emergency_hash("5a1f00d0", "04A1B2C3", EMERGENCY_KDF)],
        )
        assert runner.dispatch(listed) is None
        assert runner.outbox.queued >= 1
        assert mode(data) == 0o700
        written = modes(data)
        assert {"outbox.db", "outbox.db-wal", "emergency.json"} <= written.keys()
        assert set(written.values()) == {0o600}, written
    finally:
        runner.stop()


def test_a_sensor_keeps_its_outbox_private(factory: MockFactory, tmp_path):
    clock, data = Clock(), tmp_path / "pir"
    config = SensorConfig.model_validate(
        {
            "site": "piaseczno",
            "device": "pir-sala-a",
            "sensor": "pir",
            "data_dir": str(data),
            "mqtt": {"url": UNREACHABLE},
            "pins": {"pir": 6},
        }
    )
    runner = SensorRunner(config, pin_factory=factory, clock=clock, wallclock=clock.wall)
    runner.start()
    try:
        assert runner.sensor.motion is not None
        runner.sensor.motion.seen(True, clock.now)
        assert runner.outbox.queued == 1
        assert mode(data) == 0o700
        written = modes(data)
        assert {"outbox.db", "outbox.db-wal"} <= written.keys()
        assert set(written.values()) == {0o600}, written
    finally:
        runner.stop()


def test_files_an_older_version_left_readable_are_closed_at_start(factory: MockFactory, tmp_path):
    clock, data = Clock(), tmp_path / "reader"
    first = DoorRunner(door_config(data), pin_factory=factory, reader=FakeReader(), clock=clock)
    first.controller.card("04A1B2C3", clock.now)
    first.dispatch(EmergencyList(ts=EPOCH, salt="5a1f00d0", cards=["a" * 64]))
    first.stop()
    os.chmod(data, 0o755)
    for name in ("outbox.db", "emergency.json"):
        os.chmod(data / name, 0o644)

    other = MockFactory()
    try:
        again = DoorRunner(door_config(data), pin_factory=other, reader=FakeReader(), clock=clock)
        try:
            assert again.outbox.queued == 1 and again.controller.emergency_list is not None
            assert mode(data) == 0o700
            assert mode(data / "outbox.db") == mode(data / "emergency.json") == 0o600
        finally:
            again.stop()
    finally:
        other.reset()
