"""Field types that the programs' configurations share (device TOML files, the gateway's
environment): an id as PROTOCOL.md allows it, a positive duration, a broker URL."""

from __future__ import annotations

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
