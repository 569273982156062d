"""The configuration of one device program (a door controller or an occupancy sensor),
read from its TOML file.

>>> config = load_door_config("firmware_configs/devices/reader-main.toml")  # doctest: +SKIP
>>> config.device, config.timing.unlock
('reader-main', 5.0)
>>> load_sensor_config("firmware_configs/devices/pir-sala-a.toml").sensor  # doctest: +SKIP
('pir',)

Both share `site`, `device`, `data_dir`, `[mqtt]`, `[outbox]`, `clock_synced` and the
heartbeat (`DeviceConfig`) and one loader; `clock_synced(config)` says whether the
device's wall clock can be trusted. A file that does not validate raises
`ConfigError` with one line naming the file, the key and why, which
`spacehub door|sensor --config FILE` prints before exiting non-zero.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from protocol.fields import Duration, Id, MqttUrl


class ConfigError(ValueError):
    """A device configuration that cannot be read or does not validate."""


BcmPin = Annotated[int, Field(ge=0, le=27)]
TIMESYNC_DIR = Path("/run/systemd/timesync")


class _Table(BaseModel):
    # A misspelt key must fail loudly, not silently fall back to a default.
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _distinct_pins(table: _Table, names: tuple[str, ...]) -> None:
    seen: dict[int, str] = {}
    for name in names:
        pin = getattr(table, name)
        if pin is None:
            continue
        if pin in seen:
            raise ValueError(f"BCM {pin} is used for both {seen[pin]} and {name}")
        seen[pin] = name


class MqttConfig(_Table):
    """`[mqtt]`: where the broker is and who this device is to it."""

    url: MqttUrl = "mqtt://127.0.0.1:1883"
    username: str | None = None
    password: str | None = None
    ca_file: Path | None = None


class ReaderConfig(_Table):
    """`[reader]`: which card reader the door has and how it reports UIDs."""

    type: Literal["fake", "wedge", "uart"] = "fake"
    path: str | None = Field(default=None, validate_default=True)
    format: Literal["hex", "dec"] = "hex"
    nbytes: int = Field(default=4, ge=4, le=10, alias="bytes")
    reverse: bool = False
    baudrate: int = Field(default=9600, gt=0)

    @field_validator("path")
    @classmethod
    def _path_for_hardware(cls, value: str | None, info: ValidationInfo) -> str | None:
        kind = info.data.get("type", "fake")
        if kind != "fake" and not value:
            raise ValueError(f"a {kind} reader needs the path of its device file")
        return value


class PinsConfig(_Table):
    """`[pins]`: BCM numbers of what is wired to the Pi; None means not fitted.

    Inputs are contacts to GND read with the Pi's internal pull-ups unless `pull_up` is
    false; an `*_active_high` flag says which pin level means active for that input.
    """

    strike: BcmPin
    green: BcmPin | None = None
    red: BcmPin | None = None
    buzzer: BcmPin | None = None
    contact: BcmPin | None = None
    exit: BcmPin | None = None
    fire: BcmPin | None = None
    strike_active_high: bool = True
    buzzer_active_high: bool = True
    contact_active_high: bool = False
    exit_active_high: bool = False
    fire_active_high: bool = True
    pull_up: bool = True

    @model_validator(mode="after")
    def _distinct(self) -> PinsConfig:
        _distinct_pins(self, ("strike", "green", "red", "buzzer", "contact", "exit", "fire"))
        return self


class _Timing(_Table):
    """`[timing]` of every device: durations written like `5s`, `500ms`, `1m`."""

    # How often the retained online Status is republished; a day at most, as in Status.
    heartbeat: Annotated[Duration, Field(le=86_400)] = 60.0


class TimingConfig(_Timing):
    """`[timing]` of a door controller."""

    unlock: Duration = 5.0
    decision_timeout: Duration = 2.0
    held_open: Duration = 30.0
    # A remote unlock (DoorCommand) opens for its unlock_s, but never longer than this: a
    # forged or mistaken command cannot hold the door open for an hour.
    max_remote_unlock: Duration = 30.0
    # A grant (Decision) opens for its unlock_s, never longer than this. A cap of its own,
    # not max_remote_unlock: a grant's time is the site's policy for that door (a longer
    # one for a wheelchair user's door), a remote unlock is a staff button; widening one
    # must not widen the other. Either way a forged message holds no door open for an hour.
    max_grant_unlock: Duration = 30.0


class OutboxConfig(_Table):
    """`[outbox]`: the on-disk queue of events the broker has not acknowledged yet
    (`data_dir/outbox.db`). When it holds `max_events`, the oldest event is dropped for
    each new one (and counted in the status's `dropped`)."""

    max_events: int = Field(default=10_000, ge=1, le=1_000_000)


class DoorOutboxConfig(OutboxConfig):
    """`[outbox]` of a door: also when a tap counts as sent late. A tap sent `replay_after`
    or more after it was read (or after a restart) goes out with `replay: true`, recorded
    and never decided; default: the door's `timing.decision_timeout`, after which the door
    no longer waits for a decision. It may be shorter, never longer."""

    replay_after: Duration | None = None


class DeviceConfig(_Table):
    """What every device program has: who it is, where its broker is, where it keeps its
    state (`data_dir`: the outbox, and a door's emergency list), its clock."""

    site: Id
    device: Id
    data_dir: Path = Field(default=None, validate_default=True)  # type: ignore[assignment]
    mqtt: MqttConfig = MqttConfig()
    outbox: OutboxConfig = OutboxConfig()
    timing: _Timing = _Timing()
    # None: look at systemd-timesyncd; True/False: report that without looking.
    clock_synced: bool | None = None

    @field_validator("data_dir", mode="before")
    @classmethod
    def _default_data_dir(cls, value: Any, info: ValidationInfo) -> Any:
        # Relative to the working directory, like the default (the systemd unit sets it).
        if value is None:
            return Path("var/devices") / info.data.get("device", "unknown")
        return value


class DoorConfig(DeviceConfig):
    """Everything one door controller needs; see firmware_configs/devices/reader-*.toml."""

    reader: ReaderConfig = ReaderConfig()
    pins: PinsConfig
    timing: TimingConfig = TimingConfig()
    outbox: DoorOutboxConfig = DoorOutboxConfig()

    @model_validator(mode="after")
    def _replay_within_timeout(self) -> DoorConfig:
        late = self.outbox.replay_after
        if late is not None and late > self.timing.decision_timeout:
            raise ValueError(
                "outbox.replay_after must not be longer than timing.decision_timeout: the "
                "server would decide a tap the door no longer waits for"
            )
        return self

    @property
    def replay_after(self) -> float:
        """Seconds after which a tap still in the outbox is sent as a replay."""
        late = self.outbox.replay_after
        return self.timing.decision_timeout if late is None else late


SensorKind = Literal["pir", "counter"]
SENSOR_KINDS: tuple[SensorKind, ...] = ("pir", "counter")


def _sensor_kinds(value: Any) -> tuple[str, ...]:
    kinds = [value] if isinstance(value, str) else value
    if (
        not isinstance(kinds, list)
        or not kinds
        or any(kind not in SENSOR_KINDS for kind in kinds)
        or len(set(kinds)) != len(kinds)
    ):
        raise ValueError('must be "pir", "counter" or ["pir", "counter"]')
    return tuple(kinds)


class SensorPinsConfig(_Table):
    """`[pins]` of an occupancy sensor: BCM numbers; None means not fitted.

    `pir` is a PIR module's output (push-pull, high on motion unless `pir_active_high` is
    false); `beam_a` (outer, the corridor side) and `beam_b` (inner, the room side) are
    the receivers of two IR break beams, open-collector outputs read with the Pi's
    pull-ups unless `pull_up` is false; `beam_active_high` says which level is "broken".
    """

    pir: BcmPin | None = None
    beam_a: BcmPin | None = None
    beam_b: BcmPin | None = None
    pir_active_high: bool = True
    beam_active_high: bool = False
    pull_up: bool = True

    @model_validator(mode="after")
    def _consistent(self) -> SensorPinsConfig:
        _distinct_pins(self, ("pir", "beam_a", "beam_b"))
        if (self.beam_a is None) != (self.beam_b is None):
            raise ValueError("beam_a and beam_b go together: a counter needs both beams")
        return self


class SensorTimingConfig(_Timing):
    """`[timing]` of an occupancy sensor."""

    count_interval: Duration = 1.0  # publish counted people at most this often


class SensorConfig(DeviceConfig):
    """Everything one occupancy sensor needs; see firmware_configs/devices/pir-*.toml and
    counter-*.toml. `sensor` lists what is fitted, each needing its pins:

    >>> SensorConfig.model_validate(
    ...     {"site": "s", "device": "d", "sensor": "pir", "pins": {"pir": 6}}).sensor
    ('pir',)
    """

    sensor: Annotated[tuple[SensorKind, ...], BeforeValidator(_sensor_kinds)]
    pins: SensorPinsConfig
    timing: SensorTimingConfig = SensorTimingConfig()

    @field_validator("pins")
    @classmethod
    def _pins_match_sensor(cls, pins: SensorPinsConfig, info: ValidationInfo) -> SensorPinsConfig:
        kinds = info.data.get("sensor")
        if kinds is None:  # `sensor` itself is wrong; that error is the one to show
            return pins
        for kind, given, needs in (
            ("pir", pins.pir is not None, "pins.pir"),
            ("counter", pins.beam_a is not None, "pins.beam_a and pins.beam_b"),
        ):
            if kind in kinds and not given:
                raise ValueError(f'sensor "{kind}" needs {needs}')
            if kind not in kinds and given:
                raise ValueError(f'{needs} wired, but sensor does not list "{kind}"')
        return pins


def clock_synced(config: DeviceConfig) -> bool:
    """Whether the device's wall clock can be trusted: the config's word if it has one,
    else systemd-timesyncd's flag file; a host without timesyncd (a container running the
    demo) counts as synced."""
    if config.clock_synced is not None:
        return config.clock_synced
    return not TIMESYNC_DIR.is_dir() or (TIMESYNC_DIR / "synchronized").exists()


Config = TypeVar("Config", bound=DeviceConfig)


def load_door_config(path: str | Path) -> DoorConfig:
    """Read and validate a door controller's TOML file; `ca_file` is taken relative to the
    file's folder. Raise ConfigError naming the file, the key and why."""
    return _load(DoorConfig, path)


def load_sensor_config(path: str | Path) -> SensorConfig:
    """Read and validate an occupancy sensor's TOML file, like `load_door_config`."""
    return _load(SensorConfig, path)


def _load(model: type[Config], path: str | Path) -> Config:
    path = Path(path)
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    try:
        config = model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_one_line(path, exc)) from None
    ca_file = config.mqtt.ca_file
    if ca_file is not None and not ca_file.is_absolute():
        mqtt = config.mqtt.model_copy(update={"ca_file": path.parent / ca_file})
        config = config.model_copy(update={"mqtt": mqtt})
    return config


def _one_line(path: Path, exc: ValidationError) -> str:
    first = exc.errors()[0]
    key = ".".join(str(part) for part in first["loc"]) or "(top level)"
    why = first["msg"].removeprefix("Value error, ")
    if first["type"] == "missing":
        why = "is required"
    elif first["type"] == "extra_forbidden":
        why = "is not a known key"
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{path}: {key}: {why}{more}"
