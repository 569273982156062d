"""The demo building: a door controller or occupancy sensor for every device of the site,
running the real device code on gpiozero mock pins, with a fake card reader at each door.

    building = start_devices(ctx, "mqtt://127.0.0.1:1883", Path("var/demo"))
    building.doors["reader-main"].reader.present("04A1B2C3")
    building.stop()     # every device says offline and flushes its outbox, all at once
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gpiozero.pins.mock import MockFactory

from devices.config import ConfigError, load_door_config, load_sensor_config
from devices.door import DoorRunner, drive_idle
from devices.readers import FakeReader
from devices.sensor import SensorRunner, drive_idle_sensor
from server.context import ServerContext
from spacehub.errors import CliError
from spacehub.seed import ROOT

DEVICE_CONFIGS = ROOT / "firmware_configs" / "devices"


@dataclass
class Building:
    """Every demo device, running the real device code on its own mock pins."""

    doors: dict[str, DoorRunner] = field(default_factory=dict)
    sensors: dict[str, SensorRunner] = field(default_factory=dict)
    pins: dict[str, MockFactory] = field(default_factory=dict)

    def stop(self) -> None:
        """Stop every device at once: each says offline and flushes its outbox (a device's
        own stop waits for its threads and its broker, so one after another would add up)."""
        stops: list[Callable[[], None]] = [sensor.stop for sensor in self.sensors.values()]
        stops += [_door_stop(door) for door in self.doors.values()]
        threads = [threading.Thread(target=stop, name="demo-stop", daemon=True) for stop in stops]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()


def _door_stop(door: DoorRunner) -> Callable[[], None]:
    def stop() -> None:
        # Nobody taps any more: wake the reader thread now rather than at its read timeout.
        door.reader.close()
        door.stop()

    return stop


def start_devices(
    ctx: ServerContext,
    broker_url: str | None,
    data_dir: Path,
    kinds: tuple[str, ...] = ("door", "occupancy"),
    config_dir: Path = DEVICE_CONFIGS,
) -> Building:
    """A door controller (fake reader) or occupancy sensor for every device of the site
    whose kind is in `kinds`, from its file in `config_dir`, pointed at `broker_url`
    (None: the broker and account of its file)."""
    building = Building()
    for device in ctx.site.devices:
        if device.kind not in kinds:
            continue
        factory = MockFactory()
        building.pins[device.id] = factory
        path = config_dir / f"{device.id}.toml"
        update = {"data_dir": data_dir / "devices" / device.id}
        if device.kind == "door":
            config = _load(load_door_config, path, broker_url, update)
            door = DoorRunner(config, pin_factory=factory, reader=FakeReader())
            drive_idle(factory, config.pins)
            door.start()
            building.doors[device.id] = door
        else:
            sensor_config = _load(load_sensor_config, path, broker_url, update)
            drive_idle_sensor(factory, sensor_config.pins)
            sensor = SensorRunner(sensor_config, pin_factory=factory)
            sensor.start()
            building.sensors[device.id] = sensor
    return building


def _load(loader: Callable[[Path], Any], path: Path, broker_url: str | None, update: dict) -> Any:
    """A device's config file, pointed at the demo's broker (unless None) and data folder."""
    try:
        config = loader(path)
    except ConfigError as exc:
        raise CliError(str(exc)) from None
    if broker_url is not None:
        update = {**update, "mqtt": config.mqtt.model_copy(update={"url": broker_url})}
    return config.model_copy(update=update)
