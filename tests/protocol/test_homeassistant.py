"""Home Assistant's discovery payloads: valid JSON, one unique id per entity, topics in
Home Assistant's layout, states that its templates read."""

from __future__ import annotations

import json

import pytest

from protocol import topics
from protocol.homeassistant import (
    Discovery,
    DoorState,
    RoomState,
    check_prefix,
    config_filter,
    config_payload,
    config_topic,
    door_state,
    room_state,
)
from protocol.messages import decode, encode
from protocol.topics import TopicError

pytestmark = pytest.mark.unit

STATUS = topics.server_status("piaseczno", "main")
HA = Discovery(prefix="homeassistant", site="piaseczno", availability=STATUS)


def site_configs() -> dict[str, dict]:  # type: ignore[type-arg]
    """A small site's configs, read back from their JSON as Home Assistant reads them."""
    configs = {
        **HA.room("main", "Wejście", counted=True),
        **HA.room("sala-a", "Sala A", counted=False),
        **HA.door("main", "reader-main", area="Wejście"),
        **HA.door("sala-a", "reader-sala-a", area="Sala A"),
    }
    return {topic: json.loads(config_payload(c)) for topic, c in configs.items()}


def test_every_entity_has_its_own_unique_id_and_a_topic_in_home_assistants_layout() -> None:
    configs = site_configs()
    assert len(configs) == 2 + 1 + 2 + 2  # the uncounted room has no people sensor
    ids = [c["unique_id"] for c in configs.values()]
    assert len(set(ids)) == len(ids)
    for topic, config in configs.items():
        prefix, component, node, object_id, last = topic.split("/")
        assert (prefix, node, last) == ("homeassistant", "spacehub_piaseczno", "config")
        assert component in ("binary_sensor", "sensor")
        assert config["unique_id"] == f"spacehub_piaseczno_{object_id}"
        assert config["availability"] == [
            {"topic": STATUS, "value_template": "{{ value_json.state }}"}
        ]
        assert config["device"]["identifiers"][0].startswith("spacehub_piaseczno_")


def test_a_room_and_a_door_with_the_same_id_are_two_devices() -> None:
    configs = site_configs()
    devices = {tuple(c["device"]["identifiers"]) for c in configs.values()}
    assert devices == {
        ("spacehub_piaseczno_room_main",),
        ("spacehub_piaseczno_room_sala-a",),
        ("spacehub_piaseczno_door_main",),
        ("spacehub_piaseczno_door_sala-a",),
    }


def test_the_entities_read_the_state_topics() -> None:
    configs = site_configs()
    occupied = configs["homeassistant/binary_sensor/spacehub_piaseczno/room_main_occupied/config"]
    assert occupied["device_class"] == "occupancy"
    assert (
        occupied["state_topic"]
        == room_state("piaseczno", "main")
        == "hub/piaseczno/state/room/main"
    )
    assert "value_json.occupied" in occupied["value_template"]
    people = configs["homeassistant/sensor/spacehub_piaseczno/room_main_people/config"]
    assert people["state_class"] == "measurement"
    assert "value_json.people" in people["value_template"]
    mode = configs["homeassistant/sensor/spacehub_piaseczno/door_sala-a_mode/config"]
    online = configs["homeassistant/binary_sensor/spacehub_piaseczno/door_sala-a_online/config"]
    assert mode["state_topic"] == online["state_topic"] == door_state("piaseczno", "sala-a")
    assert online["device_class"] == "connectivity"
    assert mode["device"]["suggested_area"] == "Sala A"


def test_states_are_small_json_payloads() -> None:
    assert json.loads(encode(RoomState(occupied=True, people=3))) == {
        "v": 1,
        "occupied": True,
        "people": 3,
    }
    assert json.loads(encode(RoomState(occupied=False))) == {"v": 1, "occupied": False}
    door = decode(DoorState, encode(DoorState(online=True, mode="locked")))
    assert (door.online, door.mode) == (True, "locked")
    with pytest.raises(ValueError):
        DoorState(online=True, mode="open")  # type: ignore[arg-type]


def test_the_prefix_is_checked_and_the_acl_filter_covers_every_config() -> None:
    assert check_prefix("ha/discovery") == "ha/discovery"
    for bad in ("", "home/#", "a//b", "+", "/x", "x/", "hub", "hub/piaseczno", "$SYS"):
        with pytest.raises(TopicError):
            check_prefix(bad)
    with pytest.raises(TopicError):
        config_topic("homeassistant", "sensor", "piaseczno", "a/b")
    assert (
        config_filter("homeassistant", "piaseczno") == "homeassistant/+/spacehub_piaseczno/+/config"
    )
    with pytest.raises(TopicError):
        room_state("piaseczno", "Sala A")
