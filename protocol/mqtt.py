"""The one MQTT client wrapper every spacehub program uses (paho-mqtt 2.x, MQTT 3.1.1).

It sets TCP_NODELAY on its socket (without it a QoS 1 request and its answer wait tens of
milliseconds on delayed ACKs), resubscribes after every reconnect, routes messages to
handlers by topic filter, and logs a handler's exception instead of letting it kill
paho's loop thread.

>>> client = MqttClient("mqtt://127.0.0.1:1883", client_id="reader-main")  # doctest: +SKIP
>>> client.subscribe("hub/piaseczno/dev/reader-main/cmd/+", on_command)  # doctest: +SKIP
>>> client.start()  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import logging
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as paho

from protocol.messages import Message, encode

log = logging.getLogger(__name__)

Handler = Callable[[paho.MQTTMessage], None]

RECONNECT_MIN_S = 0.1
RECONNECT_MAX_S = 0.5


@dataclass(frozen=True)
class BrokerAddress:
    host: str
    port: int
    tls: bool = False
    username: str | None = None
    password: str | None = None


def parse_url(url: str) -> BrokerAddress:
    """`mqtt://[user:pass@]host[:1883]` or `mqtts://host[:8883]`."""
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
        raise ValueError(f"MQTT URL must look like mqtt://host:1883 or mqtts://host:8883: {url!r}")
    tls = parts.scheme == "mqtts"
    return BrokerAddress(
        host=parts.hostname,
        port=parts.port or (8883 if tls else 1883),
        tls=tls,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


def connection_username(username: str | None, part: str, *, main: str) -> str | None:
    """The username of one of a program's several connections: `username` for the main
    one, `username.part` for the others (one password for all), so that a broker that
    binds each client id to its username keeps their persistent sessions apart."""
    if username is None or part == main:
        return username
    return f"{username}.{part}"


def _matches(filter_levels: tuple[str, ...], levels: list[str]) -> bool:
    """MQTT topic matching (`+` one level, `#` the rest), with the filter split once at
    subscription rather than on every message as `paho.topic_matches_sub` does."""
    if levels[0].startswith("$") and filter_levels[0] in ("+", "#"):
        return False  # wildcards never match $SYS-like topics at the first level
    for i, part in enumerate(filter_levels):
        if part == "#":
            return True
        if i >= len(levels) or (part != "+" and part != levels[i]):
            return False
    return len(levels) == len(filter_levels)


def _nodelay(client: paho.Client, userdata: Any, sock: Any) -> None:
    with contextlib.suppress(OSError, AttributeError):  # not a TCP socket (e.g. websockets)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class MqttClient:
    """A paho client with spacehub's defaults. Handlers run on paho's network thread."""

    def __init__(
        self,
        url: str,
        *,
        client_id: str,
        clean_session: bool = True,
        manual_ack: bool = False,
        will: tuple[str, Message] | None = None,
        username: str | None = None,
        password: str | None = None,
        ca_file: str | None = None,
        keepalive: int = 30,
        on_connect: Callable[[], None] | None = None,
    ) -> None:
        self.address = parse_url(url)
        self._client = paho.Client(
            paho.CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=clean_session,
            protocol=paho.MQTTv311,
            manual_ack=manual_ack,
        )
        self.client_id = client_id
        self.keepalive = keepalive
        self._handlers: list[tuple[str, tuple[str, ...], int, Handler]] = []
        self._manual_ack = manual_ack
        self._connected = threading.Event()
        # Set once the broker has confirmed this connection's subscriptions (SUBACK), so
        # a caller that waits for it never publishes before it can hear the answer.
        self._subscribed = threading.Event()
        self._suback_mid: int | None = None
        self._user_on_connect = on_connect
        self._loop_thread: int | None = None  # paho's loop thread, once it has run a handler
        user = username or self.address.username
        if user:
            self._client.username_pw_set(user, password or self.address.password)
        if self.address.tls:
            self._client.tls_set(ca_certs=ca_file, tls_version=ssl.PROTOCOL_TLS_CLIENT)
        if will is not None:
            self._client.will_set(will[0], encode(will[1]), qos=1, retain=True)
        # Try again every half second at most: a door hears the broker again within half
        # a second of its return (a refused connection costs next to nothing).
        self._client.reconnect_delay_set(min_delay=RECONNECT_MIN_S, max_delay=RECONNECT_MAX_S)  # type: ignore[arg-type]
        self._client.max_inflight_messages_set(100)
        self._client.max_queued_messages_set(0)
        self._client.on_socket_open = _nodelay
        self._client.on_connect = self._on_connect
        self._client.on_subscribe = self._on_subscribe
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message

    # -- connection ---------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def start(self) -> None:
        """Connect in the background (retrying until the broker answers) and run the loop."""
        self._client.connect_async(self.address.host, self.address.port, self.keepalive)
        self._client.loop_start()

    def wait_connected(self, timeout: float = 10.0) -> bool:
        """Wait until connected and the subscriptions are in force at the broker."""
        deadline = time.monotonic() + timeout
        if not self._connected.wait(timeout):
            return False
        return self._subscribed.wait(max(0.0, deadline - time.monotonic()))

    def stop(self, *, graceful: bool = True) -> None:
        """Disconnect (no last will when graceful) and stop the loop thread."""
        if graceful:
            self._client.disconnect()
        self._client.loop_stop()
        self._connected.clear()
        self._subscribed.clear()
        # paho closes its wake-up socket pair only in __del__, which the garbage collector
        # may run much later (and warn about the open sockets); close it now.
        reset = getattr(self._client, "_reset_sockets", None)
        if reset is not None:
            reset()

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:  # type: ignore[no-untyped-def]
        if reason_code.is_failure:
            log.warning("%s: broker refused the connection: %s", self.client_id, reason_code)
            return
        filters = [(filter_, qos) for filter_, _match, qos, _handler in self._handlers]
        if filters:
            self._suback_mid = client.subscribe(filters)[1]
        else:
            self._subscribed.set()
        self._connected.set()
        log.debug("%s connected to %s:%s", self.client_id, self.address.host, self.address.port)
        if self._user_on_connect is not None:
            self._guard(self._user_on_connect)

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties) -> None:  # type: ignore[no-untyped-def]
        if mid == self._suback_mid:
            self._subscribed.set()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:  # type: ignore[no-untyped-def]
        self._connected.clear()
        self._subscribed.clear()
        log.debug("%s disconnected: %s", self.client_id, reason_code)

    # -- messages -----------------------------------------------------------------------

    def subscribe(self, filter_: str, handler: Handler, qos: int = 1) -> None:
        """Route messages matching `filter_` (a `$share/...` filter matches its topic part)
        to `handler`; subscribed now if connected, and again after every reconnect."""
        match = filter_.split("/", 2)[2] if filter_.startswith("$share/") else filter_
        self._handlers.append((filter_, tuple(match.split("/")), qos, handler))
        if self.connected:
            self._client.subscribe(filter_, qos=qos)

    def _on_message(self, client, userdata, msg: paho.MQTTMessage) -> None:  # type: ignore[no-untyped-def]
        self._loop_thread = threading.get_ident()
        try:
            levels = msg.topic.split("/")  # paho raises on a topic that is not UTF-8
        except UnicodeDecodeError:
            levels = None
        if levels is not None:
            for _filter, match, _qos, handler in self._handlers:
                if _matches(match, levels):
                    self._guard(handler, msg)
                    return
        # Nobody can handle it: acknowledged here, or it would hold the broker's window.
        log.debug("%s: no handler for message %s", self.client_id, msg.mid)
        if self._manual_ack:
            self.ack(msg)

    def _guard(self, fn: Callable[..., None], *args: object) -> None:
        # paho stops its loop thread when a callback raises; a bad message must not do that.
        try:
            fn(*args)
        except Exception:
            log.exception("%s: handler %s failed", self.client_id, getattr(fn, "__name__", fn))

    def publish(
        self,
        topic: str,
        message: Message | bytes,
        *,
        qos: int = 1,
        retain: bool = False,
        at_once: bool = False,
    ) -> paho.MQTTMessageInfo:
        """Queue a message for paho's loop to send. `at_once`: when called from a handler
        (on the loop thread), send it now rather than once the handler has returned, so
        an answer never waits for the work its handler does after it."""
        payload = message if isinstance(message, bytes) else encode(message)
        info = self._client.publish(topic, payload, qos=qos, retain=retain)
        if at_once and threading.get_ident() == self._loop_thread:
            # The loop thread is the only one that writes to the socket (other threads
            # only queue), so writing here cannot interleave with another write. A packet
            # the socket does not take stays queued (a lost connection included) for the
            # loop, which notices the loss as usual once the handler has returned.
            self._client._packet_write()
        return info

    def drop_unacknowledged(self) -> None:
        """Forget the QoS 1 messages paho still holds for resending: for a caller that
        keeps its own durable queue and resends from it (a device's outbox)."""
        self._client.drop_out_messages()

    def ack(self, msg: paho.MQTTMessage) -> None:
        """Acknowledge a message received with manual_ack, once its effects are committed."""
        self._client.ack(msg.mid, msg.qos)
