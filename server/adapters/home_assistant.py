"""HomeAssistant: the site's rooms and doors in Home Assistant through MQTT discovery,
when the site file says `[home_assistant] discovery = true` (protocol.homeassistant).

>>> ha = HomeAssistant(ctx, app.state.sensors.client)  # doctest: +SKIP
>>> ha.start()  # doctest: +SKIP

On each connection it publishes, retained, every room's and door's discovery config and
state; then, a few times a second, the states that changed. It reads the rooms' view at
`now` rather than following the live events: a room also falls vacant with no event (its
motion grows old), and another replica's writes are seen the same way. It publishes on
the sensors' connection, never the door path's, from a thread of its own, and whatever
fails is logged and tried again at the next pass: nothing else waits for it.
"""

from __future__ import annotations

import logging
from datetime import datetime

from protocol import topics
from protocol.homeassistant import (
    Discovery,
    DoorState,
    RoomState,
    config_payload,
    door_state,
    room_state,
)
from protocol.messages import encode
from protocol.mqtt import MqttClient
from server.adapters.background import Background
from server.context import ServerContext
from server.monitoring import device_status
from server.occupancy import state

log = logging.getLogger(__name__)

POLL_S = 0.5


class HomeAssistant(Background):
    """Publishes the discovery configs and the retained states of the site's rooms and
    doors, each again whenever its payload changes and all again after a reconnect."""

    THREAD = "server-home-assistant"

    def __init__(self, ctx: ServerContext, client: MqttClient, *, poll_s: float = POLL_S) -> None:
        super().__init__()
        self.ctx = ctx
        self.client = client
        self.poll_s = poll_s
        site = ctx.site
        status = topics.server_status(site.id, ctx.settings.instance)
        discovery = Discovery(site.home_assistant.prefix, site.id, availability=status)
        self.configs: dict[str, bytes] = {}
        for room in site.rooms:
            counted = state.has_counter(site, room.id)
            configs = discovery.room(room.id, room.name, counted=counted)
            self.configs.update({t: config_payload(c) for t, c in configs.items()})
        for device in site.door_devices():
            place = site.room(device.room)
            area = place.name if place else device.room
            configs = discovery.door(device.door or device.id, device.id, area=area)
            self.configs.update({t: config_payload(c) for t, c in configs.items()})
        self._sent: dict[str, bytes] = {}  # what each topic holds, as published

    def _run(self) -> None:
        while not self._stop.wait(self.poll_s):
            if not self.client.connected:
                self._sent.clear()  # the broker may come back without its retained messages
                continue
            try:
                self.follow(self.ctx.clock())
            except Exception:
                log.exception("could not publish to Home Assistant")

    def follow(self, now: datetime) -> None:
        """Publish, retained, every config and state whose payload is not yet out."""
        for topic, payload in {**self.configs, **self.states(now)}.items():
            if self._sent.get(topic) != payload:
                self.client.publish(topic, payload, retain=True)
                self._sent[topic] = payload

    def states(self, now: datetime) -> dict[str, bytes]:
        """Each room's and door's state topic and payload at `now`."""
        site = self.ctx.site
        with self.ctx.reads() as session:
            rooms = {
                r.id: state.view(session, site=site, room_id=r.id, now=now) for r in site.rooms
            }
            listed = device_status.devices(session, site=site, now=now)
            modes = device_status.reported_modes(session, site=site, now=now)
        out = {
            room_state(site.id, room_id): encode(
                RoomState(occupied=seen.occupied, people=seen.people)
            )
            for room_id, seen in rooms.items()
        }
        for device in listed:
            if device.kind == "door":
                door = DoorState(online=device.online, mode=modes.get(device.id))  # type: ignore[arg-type]
                out[door_state(site.id, device.door or device.id)] = encode(door)
        return out
