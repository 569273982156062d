"""Home Assistant's discovery through a real broker (Mosquitto, and the demo's embedded
one): the server, started as it runs, leaves every config and state retained on the
broker, and a room's state follows a sensor's event."""

from __future__ import annotations

import json
import threading
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import pytest
from support.factories import live_settings
from support.waiting import wait_for

from protocol import topics
from protocol.homeassistant import all_states, room_state
from protocol.messages import Motion, new_id
from protocol.mqtt import MqttClient
from server.app import create_app
from server.context import ServerContext
from server.site import HomeAssistant, load_site

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

SITE = "piaseczno"
KEY = "test-card-key-0123456789"


class HomeAssistantSide:
    """What Home Assistant hears: the discovery prefix, the states, the server's status."""

    def __init__(self, url: str) -> None:
        self.heard: dict[str, tuple[Any, bool]] = {}  # topic -> (its JSON, retained)
        self._lock = threading.Lock()
        self.client = MqttClient(url, client_id=f"test-ha-{new_id()[:8]}")
        for filter_ in ("homeassistant/#", all_states(SITE), topics.all_server_status(SITE)):
            self.client.subscribe(filter_, self._heard)
        self.client.start()
        assert self.client.wait_connected(10)

    def _heard(self, msg: paho.MQTTMessage) -> None:
        with self._lock:
            self.heard[msg.topic] = (json.loads(msg.payload), bool(msg.retain))

    def get(self, topic: str) -> tuple[Any, bool] | None:
        with self._lock:
            return self.heard.get(topic)

    def configs(self) -> dict[str, tuple[Any, bool]]:
        with self._lock:
            return {t: v for t, v in self.heard.items() if t.startswith("homeassistant/")}


@pytest.fixture
def server(broker: Any, tmp_path: Path) -> Iterator[ServerContext]:
    """The server application with MQTT, its site's discovery published by this replica."""
    settings = live_settings(tmp_path, broker.url, KEY)
    site = load_site(settings.site_config)
    on = HomeAssistant(discovery=True, instance=settings.instance)
    ctx = ServerContext.create(settings, site=site.model_copy(update={"home_assistant": on}))
    try:
        with TestClient(create_app(settings, ctx=ctx)):
            yield ctx
    finally:
        ctx.close()


def test_configs_are_retained_and_a_room_follows_its_sensor(
    server: ServerContext, broker: Any
) -> None:
    site = server.site
    counted = {d.room for d in site.devices if d.sensor == "counter"}
    expected = len(site.rooms) + len(counted) + 2 * len(site.door_devices())
    first = HomeAssistantSide(broker.url)
    try:
        wait_for(lambda: len(first.configs()) == expected, timeout=10, what="every config")
    finally:
        first.client.stop()
    ha = HomeAssistantSide(broker.url)  # comes later: hears what is retained
    try:
        configs = wait_for(
            lambda: (c := ha.configs()) and len(c) == expected and c,
            what="every discovery config, again",
        )
        assert all(retained for _config, retained in configs.values())
        status = topics.server_status(SITE, server.settings.instance)
        for config, _retained in configs.values():
            assert config["availability"][0]["topic"] == status
        assert wait_for(lambda: ha.get(status), what="the server's status")[0]["state"] == "online"
        sala_a = room_state(SITE, "sala-a")
        state, retained = wait_for(lambda: ha.get(sala_a), what="sala-a's state")
        assert (state, retained) == ({"v": 1, "occupied": False}, True)

        sensor = MqttClient(broker.url, client_id=f"test-pir-{new_id()[:8]}")
        sensor.start()
        try:
            assert sensor.wait_connected(10)
            motion = Motion(id=new_id(), ts=datetime.now(UTC), motion=True)
            sensor.publish(topics.motion(SITE, "pir-sala-a"), motion).wait_for_publish(5)
        finally:
            sensor.stop()
        wait_for(
            lambda: ha.get(sala_a) == ({"v": 1, "occupied": True}, False),
            timeout=10,
            what="sala-a occupied",
        )
    finally:
        ha.client.stop()
