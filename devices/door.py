"""The door controller program of one Raspberry Pi: card reader, strike relay, LEDs,
buzzer, door contact, exit button and fire-alarm input, talking to the server over MQTT.

`DoorController` (devices/door_controller.py) is the state machine over the door's pins
(devices/door_pins.py); `EmergencyStore` (devices/door_emergency.py) keeps the staff cards
it admits by itself when nobody answers. `DoorRunner` here wires the controller to the
real world: an MQTT client, the outbox its events go through, a reader thread and a
ticker thread. `spacehub door` calls `run_door`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from devices.config import DoorConfig
from devices.door_controller import DoorController
from devices.door_emergency import EmergencyStore
from devices.door_pins import drive_idle
from devices.readers import CardReader, open_reader
from devices.runner import DeviceRunner, Publish
from protocol.messages import (
    Decision,
    DoorCommand,
    DoorMode,
    EmergencyList,
    Message,
    utcnow,
)
from protocol.systemd import supervise

__all__ = [
    "COMMAND_MODELS",
    "DoorController",
    "DoorRunner",
    "EmergencyStore",
    "drive_idle",
    "run_door",
]

log = logging.getLogger(__name__)

COMMAND_MODELS: dict[str, type[Message]] = {
    "decision": Decision,
    "door": DoorCommand,
    "mode": DoorMode,
    "emergency": EmergencyList,
}


class DoorRunner(DeviceRunner[DoorController]):
    """A door controller connected to its broker, outbox, reader and clock.

    >>> from gpiozero.pins.mock import MockFactory
    >>> runner = DoorRunner(config, pin_factory=MockFactory(),
    ...                     reader=FakeReader())  # doctest: +SKIP
    >>> runner.start()  # doctest: +SKIP
    >>> runner.reader.present("04A1B2C3")  # doctest: +SKIP
    >>> runner.stop()  # doctest: +SKIP

    Its events go through the outbox in `config.data_dir` (taps sent after the decision
    timeout are replays); its emergency list is kept there too. The MQTT client id is the
    configured username (docs/protocol.md binds the two), else the device id; its last will is
    the door's offline Status, retained. Commands that it does not apply are counted in
    `rejected`.
    """

    def __init__(
        self,
        config: DoorConfig,
        *,
        pin_factory: Any = None,
        reader: CardReader | None = None,
        clock: Callable[[], float] = time.monotonic,
        wallclock: Callable[[], datetime] = utcnow,
    ) -> None:
        emergency = EmergencyStore(config.data_dir)

        def build(publish: Publish) -> DoorController:
            return DoorController(
                config,
                pin_factory=pin_factory,
                publish=publish,
                clock=clock,
                wallclock=wallclock,
                emergency=emergency,
            )

        super().__init__(
            config, build, replay_after=config.replay_after, clock=clock, wallclock=wallclock
        )
        self.config: DoorConfig = config
        self.controller = self.device
        try:
            self.reader: CardReader = reader if reader is not None else open_reader(config.reader)
        except Exception:
            self._abandon()
            raise
        self._listen(COMMAND_MODELS, self.dispatch)

    def start(self) -> None:
        """Connect (retrying in the background) and start sending, reading cards and
        ticking."""
        super().start()
        self._spawn("reader", self._read_cards)

    def _closing(self) -> None:
        self.reader.close()  # the reader thread has returned within its read timeout

    # -- adapters: parse, call, emit -----------------------------------------------------

    def dispatch(self, message: Message) -> str | None:
        """Hand a decoded command to the controller with the current time; None when it
        was applied, else why not. A change of mode is announced at once, so that staff
        see what the door does within a second."""
        now = self._clock()
        door = self.controller
        if isinstance(message, Decision):
            return door.decision(message, now)
        if isinstance(message, DoorCommand):
            return door.command(message, self._wallclock(), now)
        if isinstance(message, DoorMode):
            before = door.current_mode
            why = door.mode(message, now)
            if door.current_mode != before and self.client.connected:
                self._announce()
            return why
        if isinstance(message, EmergencyList):
            return door.set_emergency_list(message)
        return "unknown_kind"

    def _read_cards(self) -> None:
        tech = getattr(self.reader, "tech", None)
        while not self._stop.is_set():
            try:
                uid = self.reader.read(0.5)
            except Exception:  # e.g. a USB reader unplugged: keep trying, do not die
                log.exception("%s: card reader failed; retrying", self.config.device)
                self._stop.wait(1.0)
                continue
            if uid is not None and not self._stop.is_set():
                self.controller.card(uid, self._clock(), tech=tech)


def run_door(
    config: DoorConfig,
    *,
    pin_factory: Any = None,
    reader: CardReader | None = None,
    stop_event: threading.Event | None = None,
) -> None:
    """Run a door controller until `stop_event` is set (or for ever), then stop it cleanly."""
    runner = DoorRunner(config, pin_factory=pin_factory, reader=reader)
    runner.start()
    try:
        supervise(stop_event or threading.Event(), healthy=runner.healthy)
    finally:
        runner.stop()
