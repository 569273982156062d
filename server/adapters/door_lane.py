"""One MQTT connection of the door path (server.adapters.door_ingest): its client, its
inbox and its backlog marker."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Protocol

import paho.mqtt.client as paho

from protocol import topics
from protocol.messages import (
    EventId,
    Message,
    ProtocolError,
    UtcTime,
    decode,
    new_id,
    utcnow,
)
from protocol.mqtt import MqttClient, connection_username
from server.adapters.dead_letters import DeadLetterBox
from server.adapters.inbox import ELSEWHERE_S, Inbox
from server.adapters.rejections import Rejections
from server.adapters.writehealth import WriteHealth
from server.context import ServerContext


class Consumer(Protocol):
    """What a lane needs of the door path that owns it (server.adapters.door_ingest)."""

    ctx: ServerContext
    rejections: Rejections
    health: WriteHealth

    def handle(self, topic: str, payload: bytes) -> None: ...

    def check_backlog(self) -> None: ...


log = logging.getLogger("server.adapters.door_ingest")  # one logger for the door path


class Marker(Message):
    """What the door path sends itself after connecting, on its own `server_marker` topic."""

    id: EventId
    ts: UtcTime


class Lane:
    """One connection of the door path: its client, its inbox and its backlog marker.

    After every connect it sends a marker to itself; once that is back and nothing
    received before it is still held, the backlog queued while the server was away is
    applied on this connection (`applied`)."""

    def __init__(
        self,
        ingest: Consumer,
        name: str,
        filters: list[str],
        *,
        will: tuple[str, Message] | None = None,
        on_connect: Callable[[], None] | None = None,
        first: Callable[[str, bytes], object] | None = None,
    ) -> None:
        ctx, s = ingest.ctx, ingest.ctx.settings
        self.name = name
        self._ingest = ingest
        self.marker_topic = topics.server_marker(ctx.site.id, s.instance)
        self.client = MqttClient(
            s.mqtt_url,
            client_id=f"spacehub-server-{ctx.site.id}-{s.instance}-{name}",
            clean_session=False,
            manual_ack=True,
            will=will,
            # a username of its own, for a broker that binds client ids to usernames
            username=connection_username(s.mqtt_username, name, main="door"),
            password=s.mqtt_password,
            ca_file=s.mqtt_ca_file,
            on_connect=self._on_connect,
        )
        self.inbox = Inbox(
            f"door path ({name})",
            ingest.handle,
            ack=self.client.ack,
            store=DeadLetterBox(ctx.writes, ctx.card_key),
            rejections=ingest.rejections,
            health=ingest.health,
            wall=ctx.clock,
            # a tap and its Result may reach different replicas
            elsewhere_s=ELSEWHERE_S if s.shared_subscriptions else 0.0,
            first=first,  # a first look on paho's thread; applied on the inbox's
        )
        for filter_ in filters:
            self.client.subscribe(filter_, self.inbox.receive)
        # The marker's topic is this replica's own and its subscription is not shared:
        # another replica never takes it, and it lands in this session's queue behind
        # whatever the broker queued for this session, shared messages included (each is
        # queued to one session when it is published). So its return says this session's
        # backlog is through. It cannot speak for another replica's session: what the
        # broker queued for a replica that is down waits for that replica's return.
        self.client.subscribe(self.marker_topic, self._on_marker)
        self.marker_back = threading.Event()  # this connection's marker came back
        self.applied = threading.Event()
        self._then = on_connect
        self._marker: tuple[str, float] | None = None  # (id, when sent) of the one awaited
        self._marker_seq: int | None = None  # the arrival number it came back after

    def start(self) -> None:
        self.inbox.start()
        self.client.start()

    def stop(self) -> None:
        """Apply nothing more once the message under way is through."""
        self.inbox.stop()

    def _on_connect(self) -> None:
        # A new connection: its packet ids start afresh, and the marker tells when the
        # backlog queued for it is through.
        self.inbox.new_connection()
        if self._then is not None:
            self._then()
        marker = Marker(id=new_id(), ts=utcnow())
        self.marker_back.clear()
        self._marker, self._marker_seq = (marker.id, time.monotonic()), None
        # Sent after MqttClient subscribed on this connection: the broker takes packets in
        # order, so the subscription to the marker's topic is in force when it arrives.
        self.client.publish(self.marker_topic, marker)

    def _on_marker(self, msg: paho.MQTTMessage) -> None:
        try:
            marker: Marker | None = decode(Marker, bytes(msg.payload))
        except ProtocolError:
            marker = None
        self.client.ack(msg)
        awaited = self._marker
        if marker is None or awaited is None or marker.id != awaited[0]:
            return  # one sent on an earlier connection, or by the other lane
        self._marker_seq = self.inbox.last_seq
        self.marker_back.set()
        log.info(
            "door path (%s): marker back %.2f s after connecting (%d message(s) held)",
            self.name,
            time.monotonic() - awaited[1],
            self.inbox.held(),
        )
        self._ingest.check_backlog()

    def check_backlog(self) -> bool:
        """Whether this connection's backlog is applied (noting it once it is)."""
        seq = self._marker_seq
        if not self.applied.is_set() and seq is not None and self.inbox.settled_through(seq):
            self.applied.set()
        return self.applied.is_set()
