"""Field types that the programs' configurations share (device TOML files, the gateway's
environment): an id as docs/protocol.md allows it, a positive duration, a broker URL."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator

from protocol.durations import parse_duration
from protocol.mqtt import parse_url
from protocol.topics import TopicError, check_id


def _id(value: str) -> str:
    try:
        return check_id(value)
    except TopicError as exc:
        raise ValueError(str(exc).removeprefix("id ")) from None


def _positive_duration(value: Any) -> float:
    seconds = parse_duration(value)
    if seconds <= 0:
        raise ValueError("must be longer than 0s")
    return seconds


def _mqtt_url(value: str) -> str:
    parse_url(value)  # raises ValueError naming the expected form
    return value


Id = Annotated[str, AfterValidator(_id)]
Duration = Annotated[float, BeforeValidator(_positive_duration)]
MqttUrl = Annotated[str, AfterValidator(_mqtt_url)]


class ConfigFileError(ValueError):
    """A program's TOML file that cannot be read; the message names the file and key."""


# The `[mqtt]` table of a program's TOML file (as `spacehub provision` writes it), and the
# settings field each key sets.
MQTT_KEYS = {
    "url": "mqtt_url",
    "username": "mqtt_username",
    "password": "mqtt_password",
    "ca_file": "mqtt_ca_file",
}


def program_file(path: str | Path, *, top: tuple[str, ...]) -> dict[str, Any]:
    """The settings fields a server.toml or gateway.toml gives: its `[mqtt]` table (`url`,
    `username`, `password`, and `ca_file` relative to the file's folder) and the top-level
    keys named in `top` (e.g. `instance`); ConfigFileError naming the file and key."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigFileError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigFileError(f"{path}: not valid TOML: {exc}") from None
    mqtt = data.get("mqtt", {})
    if not isinstance(mqtt, dict):
        raise ConfigFileError(f"{path}: mqtt: must be a table")
    fields: dict[str, Any] = {}
    for key, value in mqtt.items():
        if key not in MQTT_KEYS:
            raise ConfigFileError(f"{path}: mqtt.{key}: is not a known key")
        if not isinstance(value, str):
            raise ConfigFileError(f"{path}: mqtt.{key}: must be a string")
        fields[MQTT_KEYS[key]] = value
    if "mqtt_ca_file" in fields:
        fields["mqtt_ca_file"] = str(path.parent.resolve() / fields["mqtt_ca_file"])
    fields.update({key: data[key] for key in top if key in data})
    return fields
