"""The occupancy sensor of one Raspberry Pi: a PIR motion sensor, a two-beam people counter
at a room's door, or both, publishing Motion and Count over MQTT.

`MotionWatcher` and `BeamCounter` (devices/sensor_inputs.py) turn gpiozero inputs into
plain values (motion yes/no, people in and out); `OccupancySensor` turns those into
protocol messages stamped with one `boot` and one `seq`, through an injected
`publish(topic, message, retain)`; so a test drives it on `MockFactory` pins (or through
the feed methods) with a hand-moved clock and a list for a broker. `SensorRunner` wires it
to an MQTT client, the outbox its events go through and a ticker thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal

from devices.config import SensorConfig, SensorPinsConfig, clock_synced
from devices.runner import DeviceRunner, Publish
from devices.sensor_inputs import BeamCounter, MotionWatcher
from protocol import topics
from protocol.messages import Count, Message, Motion, Status, new_id, utcnow
from protocol.systemd import supervise

log = logging.getLogger(__name__)


def drive_idle_sensor(factory: Any, pins: SensorPinsConfig) -> None:
    """Drive a `MockFactory`'s input pins to a quiet room: both beams clear, no motion.
    Call it right after building the sensor, as the demo and the tests do."""
    for pin, active_high in (
        (pins.beam_a, pins.beam_active_high),
        (pins.beam_b, pins.beam_active_high),
        (pins.pir, pins.pir_active_high),
    ):
        if pin is None:
            continue
        if active_high:  # broken / motion would be high: idle is low
            factory.pin(pin).drive_low()
        else:
            factory.pin(pin).drive_high()


class OccupancySensor:
    """A room's occupancy sensor: a MotionWatcher and/or a BeamCounter, as configured,
    publishing Motion and Count with one `boot` and one `seq` across all its events.

    >>> from gpiozero.pins.mock import MockFactory
    >>> sent = []
    >>> sensor = OccupancySensor(config, pin_factory=MockFactory(),
    ...                          publish=lambda t, m, r: sent.append(m))  # doctest: +SKIP
    >>> for beam, broken in (("a", True), ("b", True), ("a", False), ("b", False)):
    ...     sensor.counter.beam(beam, broken, now=1.0)  # doctest: +SKIP
    >>> sensor.tick(now=1.05); sent[-1].entered  # doctest: +SKIP
    1
    >>> sensor.close()  # doctest: +SKIP
    """

    def __init__(
        self,
        config: SensorConfig,
        *,
        pin_factory: Any = None,
        publish: Publish,
        clock: Callable[[], float] = time.monotonic,
        wallclock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.config = config
        self.boot = new_id()
        self._publish, self._wallclock = publish, wallclock
        self._lock = threading.Lock()  # gpiozero and ticker threads publish
        self._seq = 0
        self._closed = False
        self.motion: MotionWatcher | None = None
        self.counter: BeamCounter | None = None
        pins = config.pins
        try:
            if "pir" in config.sensor and pins.pir is not None:
                self.motion = MotionWatcher(
                    pins.pir,
                    active_high=pins.pir_active_high,
                    pin_factory=pin_factory,
                    on_change=self._on_motion,
                    clock=clock,
                )
            if "counter" in config.sensor and pins.beam_a is not None and pins.beam_b is not None:
                self.counter = BeamCounter(
                    pins.beam_a,
                    pins.beam_b,
                    active_high=pins.beam_active_high,
                    pull_up=pins.pull_up,
                    interval=config.timing.count_interval,
                    pin_factory=pin_factory,
                    clock=clock,
                )
        except Exception:
            self.close()
            raise

    def status(self, state: Literal["online", "offline"]) -> Status:
        """The retained availability message of this sensor."""
        return Status(
            state=state,
            kind="occupancy",
            ts=self._wallclock(),
            interval_s=self.config.timing.heartbeat,
            clock_synced=clock_synced(self.config),
        )

    def tick(self, now: float) -> None:
        """Let time pass: report the PIR's first reading, publish counted people."""
        if self._closed:
            return
        if self.motion is not None:
            self.motion.poll(now)
        if self.counter is not None:
            counts = self.counter.tick(now)
            if counts is not None:
                self._count(*counts)

    def close(self) -> None:
        """Release every pin (stopping the PIR's sampling thread), then publish people
        counted but not yet sent."""
        # No lock held here: closing the MotionSensor joins its thread, which may be
        # waiting for our lock in a callback.
        if self._closed:
            return
        self._closed = True
        for part in (self.motion, self.counter):
            if part is not None:
                part.close()
        counts = self.counter.flush() if self.counter is not None else None
        if counts is not None:
            self._count(*counts)

    # -- messages ------------------------------------------------------------------------

    def _on_motion(self, motion: bool, now: float) -> None:
        with self._lock:
            event = Motion(id=new_id(), ts=self._wallclock(), motion=motion, **self._stamp())
            self._send(topics.motion(self.config.site, self.config.device), event)

    def _count(self, entered: int, left: int) -> None:
        with self._lock:
            event = Count(
                id=new_id(), ts=self._wallclock(), entered=entered, left=left, **self._stamp()
            )
            self._send(topics.count(self.config.site, self.config.device), event)

    def _stamp(self) -> dict[str, Any]:
        self._seq += 1
        return {"boot": self.boot, "seq": self._seq}

    def _send(self, topic: str, message: Message) -> None:
        try:
            self._publish(topic, message, False)
        except Exception:  # counting must go on when the network does not
            log.exception("%s: could not publish to %s", self.config.device, topic)


# -- the program on the Pi --------------------------------------------------------------


class SensorRunner(DeviceRunner[OccupancySensor]):
    """An occupancy sensor connected to its broker, outbox and clock. It subscribes to
    nothing.

    >>> runner = SensorRunner(config, pin_factory=MockFactory())  # doctest: +SKIP
    >>> runner.start()  # doctest: +SKIP
    >>> runner.stop()  # doctest: +SKIP

    Its Motion and Count go through the outbox in `config.data_dir`. The MQTT client id is
    the configured username (docs/protocol.md binds the two), else the device id; its last will
    is the sensor's offline Status, retained.
    """

    def __init__(
        self,
        config: SensorConfig,
        *,
        pin_factory: Any = None,
        clock: Callable[[], float] = time.monotonic,
        wallclock: Callable[[], datetime] = utcnow,
    ) -> None:
        def build(publish: Publish) -> OccupancySensor:
            return OccupancySensor(
                config, pin_factory=pin_factory, publish=publish, clock=clock, wallclock=wallclock
            )

        super().__init__(config, build, clock=clock, wallclock=wallclock)
        self.config: SensorConfig = config
        self.sensor = self.device

    def _closing(self) -> None:
        # Releases the pins and queues the people counted but not sent yet, so that the
        # outbox can still send them before the runner disconnects.
        self.sensor.close()


def run_sensor(
    config: SensorConfig,
    *,
    pin_factory: Any = None,
    stop_event: threading.Event | None = None,
) -> None:
    """Run an occupancy sensor until `stop_event` is set (or for ever), then stop it
    cleanly."""
    runner = SensorRunner(config, pin_factory=pin_factory)
    runner.start()
    try:
        supervise(stop_event or threading.Event(), healthy=runner.healthy)
    finally:
        runner.stop()
