"""Home Assistant's MQTT discovery (optional): the topics and payloads that make each
room's occupancy and people count, and each door's mode and connection, appear in Home
Assistant (docs/protocol.md, "Home Assistant").

The server publishes, retained, one discovery config per entity under Home Assistant's
prefix, and the state those configs read on topics of its own site; every entity is
available while the server replica's status says `online`.

>>> ha = Discovery(prefix="homeassistant", site="piaseczno",
...                availability="hub/piaseczno/sys/server/main/status")
>>> sorted(ha.room("sala-b", "Sala B", counted=True))[0]
'homeassistant/binary_sensor/spacehub_piaseczno/room_sala-b_occupied/config'
>>> room_state("piaseczno", "sala-b")
'hub/piaseczno/state/room/sala-b'
>>> from protocol.messages import encode
>>> encode(RoomState(occupied=True, people=3))
b'{"v":1,"occupied":true,"people":3}'
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Literal

from protocol.messages import DoorModeName, Message
from protocol.topics import ROOT, TopicError, check_id

DEFAULT_PREFIX = "homeassistant"
# One to four topic levels of letters, digits, `_` and `-`: no wildcard, no empty level.
PREFIX_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}(/[A-Za-z0-9_-]{1,64}){0,3}\Z")
ORIGIN = {"name": "spacehub"}

Component = Literal["binary_sensor", "sensor"]
Config = dict[str, Any]


def check_prefix(prefix: str) -> str:
    """Return `prefix` if it can start a discovery topic, else raise TopicError."""
    if not isinstance(prefix, str) or not PREFIX_RE.match(prefix):
        raise TopicError(f"discovery prefix must be topic levels of [A-Za-z0-9_-], got {prefix!r}")
    if prefix.split("/")[0] == ROOT:
        # Home Assistant's account reads everything under the prefix and writes its status
        # there: under our root it would read taps and decisions, and could forge statuses.
        raise TopicError(f"discovery prefix must not start with {ROOT!r}, got {prefix!r}")
    return prefix


def node_id(site: str) -> str:
    """The discovery topics' node id: one per site, so two sites share a broker safely."""
    return f"spacehub_{check_id(site, 'site')}"


def config_topic(prefix: str, component: Component, site: str, object_id: str) -> str:
    return f"{check_prefix(prefix)}/{component}/{node_id(site)}/{check_id(object_id)}/config"


def config_filter(prefix: str, site: str) -> str:
    """Every discovery config of a site: what the server may publish there (its ACL)."""
    return f"{check_prefix(prefix)}/+/{node_id(site)}/+/config"


def discovery_filter(prefix: str) -> str:
    """What Home Assistant subscribes to for discovery: everything under its prefix."""
    return f"{check_prefix(prefix)}/#"


def birth(prefix: str) -> str:
    """Where Home Assistant says it is online (its birth message and last will)."""
    return f"{check_prefix(prefix)}/status"


def room_state(site: str, room: str) -> str:
    return f"hub/{check_id(site, 'site')}/state/room/{check_id(room, 'room')}"


def door_state(site: str, door: str) -> str:
    return f"hub/{check_id(site, 'site')}/state/door/{check_id(door, 'door')}"


def all_states(site: str) -> str:
    """Every room's and door's state topic of a site (a filter)."""
    return f"hub/{check_id(site, 'site')}/state/#"


class RoomState(Message):
    """A room's occupancy, retained on `hub/{site}/state/room/{room}`: `people` only for
    a room a beam counter watches.

    >>> RoomState(occupied=False, people=None).people is None
    True
    """

    occupied: bool
    people: int | None = None


class DoorState(Message):
    """A door's connection and the DoorMode it says it applies (none while offline),
    retained on `hub/{site}/state/door/{door}`.

    >>> DoorState(online=True, mode="locked").mode
    'locked'
    """

    online: bool
    mode: DoorModeName | None = None


# Jinja over the state's JSON; a missing `mode` renders "None", which Home Assistant
# reads as an unknown state.
ON_IF = "{{{{ 'ON' if value_json.{field} else 'OFF' }}}}"
VALUE_OF = "{{{{ value_json.{field} | default(None) }}}}"


@dataclass(frozen=True)
class Discovery:
    """The discovery configs of one site's rooms and doors, each `{topic: config}`."""

    prefix: str
    site: str
    availability: str  # the publishing server replica's status topic

    def room(self, room: str, name: str, *, counted: bool) -> dict[str, Config]:
        """A room's occupancy, and its people count when a counter watches it."""
        device = self._device(f"room_{room}", name, model="room", area=name)
        state = room_state(self.site, room)
        configs = {
            self._topic("binary_sensor", f"room_{room}_occupied"): self._entity(
                f"room_{room}_occupied",
                device,
                state,
                name=None,  # the device's name and the class's: "Sala B Occupancy"
                device_class="occupancy",
                value_template=ON_IF.format(field="occupied"),
            )
        }
        if counted:
            configs[self._topic("sensor", f"room_{room}_people")] = self._entity(
                f"room_{room}_people",
                device,
                state,
                name="People",
                state_class="measurement",
                icon="mdi:account-group",
                value_template=VALUE_OF.format(field="people"),
            )
        return configs

    def door(self, door: str, name: str, *, area: str) -> dict[str, Config]:
        """A door's mode (normal, locked, unlocked) and whether it is online."""
        device = self._device(f"door_{door}", name, model="door controller", area=area)
        state = door_state(self.site, door)
        return {
            self._topic("sensor", f"door_{door}_mode"): self._entity(
                f"door_{door}_mode",
                device,
                state,
                name="Mode",
                icon="mdi:door",
                value_template=VALUE_OF.format(field="mode"),
            ),
            self._topic("binary_sensor", f"door_{door}_online"): self._entity(
                f"door_{door}_online",
                device,
                state,
                name=None,
                device_class="connectivity",
                entity_category="diagnostic",
                value_template=ON_IF.format(field="online"),
            ),
        }

    def _topic(self, component: Component, object_id: str) -> str:
        return config_topic(self.prefix, component, self.site, object_id)

    def _device(self, key: str, name: str, *, model: str, area: str) -> Config:
        return {
            "identifiers": [f"{node_id(self.site)}_{key}"],
            "name": name,
            "manufacturer": "spacehub",
            "model": model,
            "suggested_area": area,
        }

    def _entity(self, object_id: str, device: Config, state_topic: str, **fields: Any) -> Config:
        return {
            "unique_id": f"{node_id(self.site)}_{object_id}",
            "state_topic": state_topic,
            "availability": [
                {"topic": self.availability, "value_template": "{{ value_json.state }}"}
            ],
            "device": device,
            "origin": ORIGIN,
            "qos": 1,
            **fields,
        }


def config_payload(config: Config) -> bytes:
    """A discovery config as the compact UTF-8 JSON Home Assistant reads."""
    return json.dumps(config, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()
