"""A device program is healthy for systemd's watchdog while its threads run and its ticker
goes round; a ticker stuck in a tick, or a stopped runner, is not (systemd then restarts the
program, firmware_configs/systemd/)."""

from __future__ import annotations

import threading
from pathlib import Path

from doorkit import Clock, door_config
from gpiozero.pins.mock import MockFactory
from support.waiting import eventually

from devices.door import DoorRunner, drive_idle
from devices.readers import FakeReader


def test_a_door_is_healthy_until_its_ticker_stalls_and_not_once_stopped(
    factory: MockFactory, tmp_path: Path
) -> None:
    clock = Clock()
    runner = DoorRunner(
        door_config(tmp_path / "reader"),
        pin_factory=factory,
        reader=FakeReader(),
        clock=clock,
        wallclock=clock.wall,
    )
    drive_idle(factory, runner.config.pins)
    runner.start()
    stuck, release = threading.Event(), threading.Event()
    try:
        assert runner.healthy()
        clock.advance(runner.STALLED + 1)
        assert eventually(runner.healthy, timeout=2.0)  # the ticker went round meanwhile

        tick = runner.device.tick

        def hang(now: float) -> None:
            stuck.set()
            release.wait(10)
            tick(now)

        runner.device.tick = hang  # type: ignore[method-assign]
        assert stuck.wait(2.0)
        clock.advance(runner.STALLED + 1)
        assert not runner.healthy()
    finally:
        release.set()
        runner.stop()
    assert not runner.healthy()
