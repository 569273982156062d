"""`spacehub provision` for a site with Home Assistant's discovery on: a real Mosquitto
started from its files lets the server publish the discovery configs and Home Assistant
read them and the states, and nothing else."""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from provision.wire import (
    WAIT,
    Account,
    Received,
    client,
    connected,
    listening,
    received_until,
    serving,
)

from protocol import topics
from protocol.homeassistant import all_states, birth, config_topic, discovery_filter, room_state
from protocol.mqtt import MqttClient
from spacehub.broker import free_port, mosquitto_path
from spacehub.provision import Options, Result, provision

pytestmark = pytest.mark.mosquitto

SITE_CONFIG = Path(__file__).resolve().parent.parent / "firmware_configs/sites/piaseczno.toml"
SITE = "piaseczno"
CONFIG = config_topic("homeassistant", "binary_sensor", SITE, "room_sala-a_occupied")

MakeClient = Callable[..., MqttClient]


@pytest.fixture(scope="module")
def site_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Result]:
    """Mosquitto on the files provisioned for the demo site with discovery on."""
    if mosquitto_path() is None:
        pytest.skip("mosquitto is not installed")
    tmp = tmp_path_factory.mktemp("ha-site")
    text = SITE_CONFIG.read_text(encoding="utf-8")
    site_file = tmp / "piaseczno.toml"
    site_file.write_text(text.replace("discovery = false", "discovery = true"), encoding="utf-8")
    port = free_port()
    result = provision(
        Options(
            site_config=site_file,
            out=tmp / "provision",
            hosts=("127.0.0.1",),
            port=port,
            bind="127.0.0.1",
            device_configs=SITE_CONFIG.parent.parent / "devices",
        )
    )
    with serving(result, port, tmp / "broker"):
        yield result


def account(result: Result, role: str, *, connection: str | None = None) -> Account:
    path = result.file_of(role)
    table = tomllib.loads(path.read_text())["mqtt"]
    username = table["username"] + (f".{connection}" if connection else "")
    return Account(table["url"], username, table["password"], str(path.parent / "ca.crt"))


def home_assistant(result: Result, make: MakeClient) -> tuple[MqttClient, Received]:
    """Home Assistant's account, subscribed as Home Assistant subscribes."""
    ha = client(make, account(result, "homeassistant"))
    filters = (discovery_filter("homeassistant"), all_states(SITE), topics.all_server_status(SITE))
    return ha, listening(ha, *filters)


def test_home_assistant_reads_the_configs_and_states(
    site_broker: Result, mqtt_client: MakeClient
) -> None:
    _ha, heard = home_assistant(site_broker, mqtt_client)
    # the server's Home Assistant publisher runs on its sensors' connection
    server = connected(client(mqtt_client, account(site_broker, "server", connection="sensors")))
    sent = [CONFIG, room_state(SITE, "sala-a"), topics.server_status(SITE, "main")]
    for topic in sent:
        server.publish(topic, b'{"v":1}').wait_for_publish(WAIT)
    assert received_until(heard, sent[-1]) == sent


def test_home_assistant_cannot_publish_configs_or_states(
    site_broker: Result, mqtt_client: MakeClient
) -> None:
    ha, heard = home_assistant(site_broker, mqtt_client)
    for forged in (CONFIG, room_state(SITE, "sala-a"), topics.server_status(SITE, "main")):
        ha.publish(forged, b'{"v":1,"forged":true}').wait_for_publish(WAIT)
    ha.publish(birth("homeassistant"), b"online").wait_for_publish(WAIT)
    # one connection, one queue: anything forged that got through would come first
    assert received_until(heard, birth("homeassistant")) == [birth("homeassistant")]
