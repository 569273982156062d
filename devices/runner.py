"""What a door controller and an occupancy sensor share as programs on a Pi: the MQTT
client (its id, credentials, TLS and last will), the outbox every event goes through, the
retained status with its heartbeat, the ticker thread, and starting and stopping.

`DeviceRunner` runs any `Device` (a state machine that publishes through an injected
`publish(topic, message, retain)`, gives its `status`, and `tick`s): its events go to the
outbox in `data_dir`, which sends them when the broker is there; only the retained status
is published directly, since a stale one is worth nothing. A device that takes commands
receives them through `receive`, which never raises and counts in `rejected` whatever it
did not apply.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Generic, Literal, Protocol, TypeVar

from devices.config import DeviceConfig
from devices.inbox import Rejects, Unread, describe, read
from devices.outbox import FILENAME as OUTBOX_FILENAME
from devices.outbox import Delivery, Outbox
from protocol import topics
from protocol.files import private_dir
from protocol.messages import Message, Status, utcnow
from protocol.mqtt import MqttClient

if TYPE_CHECKING:
    import paho.mqtt.client as paho

log = logging.getLogger(__name__)

Publish = Callable[[str, Message, bool], None]
"""publish(topic, message, retain): how a device sends; QoS 1 is the sender's job."""

Apply = Callable[[Message], "str | None"]
"""apply(command): hand a command to the device; None when applied, else why not."""


class Device(Protocol):
    def status(self, state: Literal["online", "offline"]) -> Status: ...

    def tick(self, now: float) -> None: ...

    def close(self) -> None: ...


D = TypeVar("D", bound=Device)


class MqttLink:
    """An `MqttClient` as the outbox's `Link`.

    paho keeps every unacknowledged QoS 1 message and resends it after a reconnect; the
    outbox resends from disk instead (marking late taps as replays), so paho's copies are
    dropped at each connection. MqttClient has no method for that yet, hence the reach
    into its paho client.
    """

    def __init__(self, client: MqttClient) -> None:
        self.client = client

    @property
    def connected(self) -> bool:
        return self.client.connected

    def publish(self, topic: str, payload: bytes) -> Delivery:
        info = self.client.publish(topic, payload, qos=1)
        if info.rc != 0:  # e.g. no connection: paho keeps it, forget_unacknowledged drops it
            raise ConnectionError(f"not sent (paho rc {info.rc})")
        return info

    def forget_unacknowledged(self) -> None:
        self.client.drop_unacknowledged()


class DeviceRunner(Generic[D]):
    """A device connected to its broker, outbox and clock; subclasses add their inputs.

    `build(publish)` makes the device with the runner's `publish`. The MQTT client id is
    the configured username (docs/protocol.md binds the two), else the device id; its last will
    is the device's offline Status, retained.
    """

    TICK = 0.05  # seconds between ticks: the resolution of the device's timers
    STALLED = 5.0  # seconds without a tick after which the runner is not healthy
    FLUSH = 2.0  # seconds a clean stop waits for the outbox to empty while connected

    def __init__(
        self,
        config: DeviceConfig,
        build: Callable[[Publish], D],
        *,
        replay_after: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        wallclock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.config = config
        self._clock, self._wallclock = clock, wallclock
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._ticked = clock()  # when the ticker last went round
        self.rejected = Rejects(config.device)  # commands received and not applied
        # What `receive` reads and whom it hands commands to; none until `_listen`.
        self._models: Mapping[str, type[Message]] = {}
        self._apply: Apply = lambda command: "unknown_kind"
        self._status_topic = topics.status(config.site, config.device)
        # The device's own folder: its outbox holds raw card UIDs, a door's emergency list
        # hashes worth a brute force.
        private_dir(config.data_dir)
        self.outbox = Outbox(
            config.data_dir / OUTBOX_FILENAME,
            max_events=config.outbox.max_events,
            replay_after=replay_after,
            clock=clock,
            wallclock=wallclock,
        )
        try:
            self.device: D = build(self._publish)
        except Exception:
            self.outbox.close()
            raise
        try:
            mqtt = config.mqtt
            self.client = MqttClient(
                mqtt.url,
                client_id=mqtt.username or config.device,
                will=(self._status_topic, self._will()),
                username=mqtt.username,
                password=mqtt.password,
                ca_file=str(mqtt.ca_file) if mqtt.ca_file else None,
                on_connect=self._on_connect,
            )
        except Exception:
            self._abandon()
            raise

    def status(self, state: Literal["online", "offline"]) -> Status:
        """The device's retained Status, with its outbox's `queued` and `dropped` (rows
        dropped since this start)."""
        return self.device.status(state).model_copy(
            update={"queued": self.outbox.queued, "dropped": self.outbox.dropped}
        )

    def _will(self) -> Status:
        # Set once, at the start: a door's mode when it dies is not known then.
        return self.status("offline").model_copy(update={"mode": None})

    def start(self) -> None:
        """Connect (retrying in the background), start sending the outbox and ticking."""
        self.outbox.start(MqttLink(self.client))
        self.client.start()
        self._spawn("ticker", self._tick)

    def healthy(self) -> bool:
        """Every thread of the runner alive and the ticker going round (what the systemd
        watchdog is told); a stopped runner is not."""
        return (
            not self._stop.is_set()
            and all(thread.is_alive() for thread in self._threads)
            and self._clock() - self._ticked < self.STALLED
        )

    def stop(self) -> None:
        """Stop the inputs (a device may publish its last events then), give the outbox a
        moment to send what it holds, say offline, disconnect and release the pins. What
        the broker has not acknowledged stays on disk for the next start."""
        if self._stop.is_set():
            return
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=2.0)
        self._closing()
        if self.client.connected:
            self.outbox.flush(self.FLUSH)
            info = self.client.publish(self._status_topic, self.status("offline"), retain=True)
            # Lost the connection meanwhile: the last will says offline instead.
            with contextlib.suppress(RuntimeError, ValueError):
                info.wait_for_publish(timeout=2.0)
        self.client.stop()
        self.device.close()  # after the client: no command arrives at a closed device
        self.outbox.close()

    # -- for subclasses ------------------------------------------------------------------

    def _spawn(self, name: str, target: Callable[[], None]) -> None:
        thread = threading.Thread(target=target, name=f"{self.config.device}-{name}", daemon=True)
        thread.start()
        self._threads.append(thread)

    def _closing(self) -> None:
        """Called by `stop` once its threads have ended, while still connected: stop the
        inputs, and queue any last events."""

    def _listen(self, models: Mapping[str, type[Message]], apply: Apply) -> None:
        """Subscribe to this device's commands: each kind is read with its model from
        `models`, and handed to `apply`."""
        self._models, self._apply = models, apply
        self.client.subscribe(
            topics.device_commands(self.config.site, self.config.device), self.receive
        )

    def _abandon(self) -> None:
        """Undo a half-made runner (its client, if made, never started)."""
        client: MqttClient | None = getattr(self, "client", None)
        if client is not None:
            client.stop(graceful=False)
        self.device.close()
        self.outbox.close()

    # -- adapters: parse, call, emit -----------------------------------------------------

    def _publish(self, topic: str, message: Message, retain: bool) -> None:
        if retain:  # not an event: a device's own retained state is never queued
            self.client.publish(topic, message, retain=True)
        else:
            self.outbox.put(topic, message)

    def receive(self, msg: paho.MQTTMessage) -> None:
        """Handle one message from the broker, whatever it holds, without raising: parse
        and validate it, apply it, and count (and now and then log) what was not applied,
        so that no message can stop the device or stall its subscription."""
        now = self._clock()
        try:
            command = read(msg, self.config.site, self.config.device, self._models)
            if isinstance(command, Unread):
                self.rejected.count(command.reason, command.detail, now)
                return
            why = self._apply(command)
            if why is not None:
                self.rejected.count(why, summary(command), now)
        except Exception:  # a bug, not a bad message: still counted, never raised to paho
            self.rejected.count("failed", describe(msg), now, exc_info=True)

    def _on_connect(self) -> None:
        # On paho's thread, before paho resends anything: the outbox takes over.
        self.outbox.connected()
        self._announce()

    def _announce(self) -> None:
        self.client.publish(self._status_topic, self.status("online"), retain=True)

    def _tick(self) -> None:
        heartbeat = self.config.timing.heartbeat
        next_beat = self._clock() + heartbeat
        while not self._stop.wait(self.TICK):
            now = self._ticked = self._clock()
            try:
                self.device.tick(now)
                if now >= next_beat:
                    next_beat = now + heartbeat
                    if self.client.connected:
                        self._announce()
            except Exception:
                log.exception("%s: tick failed", self.config.device)


def summary(message: Message) -> str:
    """A message's kind, id, time and counter, for a log line (no card, no name)."""
    fields = (
        f"{k}={getattr(message, k)}"
        for k in ("id", "ts", "n")
        if getattr(message, k, None) is not None
    )
    return " ".join((type(message).__name__, *fields))
