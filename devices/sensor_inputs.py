"""An occupancy sensor's two inputs, as plain values: a PIR's motion (`MotionWatcher`) and a
two-beam people counter's crossings (`BeamCounter`), each over a gpiozero input device
built with an injected pin factory, so a test drives them on `MockFactory` pins or feeds
them directly with a hand-moved clock."""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Literal

from gpiozero import DigitalInputDevice, MotionSensor

log = logging.getLogger(__name__)

Beam = Literal["a", "b"]
Crossing = Literal["entered", "left"]

# A PIR module holds its output high for seconds (HC-SR501: 2.5 s or more, AM312: about
# 2 s), so sampling at 10 Hz misses nothing; two samples of three must be high, so a spike
# picked up by a long cable is not motion.
PIR_QUEUE_LEN = 3
PIR_SAMPLE_RATE = 10.0
PIR_THRESHOLD = 0.5
# A beam broken this long is more likely blocked or misaligned than a person in the door.
STUCK_AFTER = 60.0


class MotionWatcher:
    """A PIR module on a gpiozero `MotionSensor`, reporting each change of motion as
    `on_change(motion, now)`, and the first reading once it has one.

    >>> from gpiozero.pins.mock import MockFactory
    >>> pir = MotionWatcher(6, pin_factory=MockFactory(),
    ...                     on_change=lambda motion, now: print(motion))  # doctest: +SKIP
    >>> pir.seen(True, now=12.0)  # what the sensor's callback calls  # doctest: +SKIP
    True
    >>> pir.close()  # doctest: +SKIP

    `MotionSensor` samples the pin on a background thread and calls back from it; `close()`
    stops and joins that thread, so it is never called while holding a lock the callback
    takes.
    """

    def __init__(
        self,
        pin: int,
        *,
        active_high: bool = True,
        pin_factory: Any = None,
        on_change: Callable[[bool, float], None],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.motion: bool | None = None  # as last reported; None until the first reading
        self._on_change, self._clock = on_change, clock
        self._lock = threading.Lock()
        # An active-low (open-collector) module needs the pull-up; a push-pull one gets a
        # pull-down, so an unplugged sensor reads as no motion.
        self.device = MotionSensor(
            pin,
            pull_up=not active_high,
            queue_len=PIR_QUEUE_LEN,
            sample_rate=PIR_SAMPLE_RATE,
            threshold=PIR_THRESHOLD,
            pin_factory=pin_factory,
        )
        self.device.when_motion = functools.partial(self._edge, True)
        self.device.when_no_motion = functools.partial(self._edge, False)

    def _edge(self, motion: bool) -> None:
        # On gpiozero's sampling thread: an exception here would kill it.
        try:
            self.seen(motion, self._clock())
        except Exception:
            log.exception("motion sensor callback failed")

    def seen(self, motion: bool, now: float) -> None:
        """The sensor says motion (or none) at `now`: report it if it is a change."""
        with self._lock:
            self._report(motion, now)

    def poll(self, now: float) -> None:
        """Report the first reading once the sampling thread has one: gpiozero fires no
        callback for it, and after a restart the server's idea of the room may be stale."""
        with self._lock:  # so a change arriving meanwhile is reported after this, not before
            if self.motion is not None:
                return
            # wait_for_*(0) only looks: each event is set once the first reading is in.
            if self.device.wait_for_active(0):
                self._report(True, now)
            elif self.device.wait_for_inactive(0):
                self._report(False, now)

    def _report(self, motion: bool, now: float) -> None:
        if motion != self.motion:
            self.motion = motion
            self._on_change(motion, now)

    def close(self) -> None:
        """Stop the sampling thread and release the pin."""
        self.device.close()


class BeamCounter:
    """A people counter of two IR break beams across a doorway: A on the corridor side,
    B on the room side, close enough together that a person passing breaks both at once.

    The state is which beams are broken, (A, B). A crossing starts when the beams leave
    (0, 0) and ends when they are back at (0, 0); only the beam that started it and the
    beam that cleared last decide it::

                A breaks       B breaks       A clears       B clears
        (0,0) ─────────► (1,0) ───────► (1,1) ───────► (0,1) ─────────► (0,0)  entered
        (0,0) ◄───────── (1,0) ◄─────── (1,1) ◄─────── (0,1) ◄───────── (0,0)  left
                A clears       B clears       A breaks       B breaks

    - started by A and ended by B clearing: one person entered;
    - started by B and ended by A clearing: one person left;
    - started and ended by the same beam: nothing (someone stepped in and turned back,
      or one beam chattered);
    - whatever happens in between (a hesitation, a step back and forth inside the beams)
      does not matter, and a crossing already under way when the counter starts counts
      nothing.

    Two people count as two when the beams clear between them; a second person stepping
    into A while the first is still in B makes one crossing, which counts once.

    Counted people accumulate until `tick(now)` hands them out, at most once every
    `interval` seconds and never as zeros.

    >>> counter = BeamCounter(16, 26, pin_factory=MockFactory())  # doctest: +SKIP
    >>> for beam, broken in (("a", True), ("b", True), ("a", False), ("b", False)):
    ...     counter.beam(beam, broken, now=1.0)  # doctest: +SKIP
    >>> counter.tick(now=1.1)  # doctest: +SKIP
    (1, 0)
    """

    def __init__(
        self,
        a: int,
        b: int,
        *,
        active_high: bool = False,
        pull_up: bool = True,
        interval: float = 1.0,
        pin_factory: Any = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.interval = interval
        self._clock = clock
        self._lock = threading.Lock()
        self._devices: dict[Beam, DigitalInputDevice] = {}
        self._broken: dict[Beam, bool] = {"a": False, "b": False}
        self._since: dict[Beam, float | None] = {"a": None, "b": None}  # broken since
        self._warned: set[Beam] = set()
        self._origin: Beam | None = None  # the beam that started the current crossing
        self._entered = self._left = 0
        self._flushed_at = float("-inf")
        beams: tuple[tuple[Beam, int], ...] = (("a", a), ("b", b))
        try:
            for name, pin in beams:
                self._devices[name] = self._input(name, pin, active_high, pull_up, pin_factory)
        except Exception:
            self.close()
            raise
        if any(self._broken.values()):
            log.info("beam counter: starting in the middle of a crossing; it will not count")

    def _input(
        self, name: Beam, pin: int, active_high: bool, pull_up: bool, factory: Any
    ) -> DigitalInputDevice:
        # With the Pi's pull-ups gpiozero calls a low pin active; a beam broken on a high
        # pin is then inverted here.
        if pull_up:
            device = DigitalInputDevice(pin, pull_up=True, pin_factory=factory)
            invert = active_high
        else:
            device = DigitalInputDevice(
                pin, pull_up=None, active_state=active_high, pin_factory=factory
            )
            invert = False
        self._broken[name] = bool(device.is_active) != invert
        if self._broken[name]:
            self._since[name] = self._clock()
        # The edge's own level, not a fresh read: a quick flicker still arrives in order.
        device.when_activated = functools.partial(self._edge, name, not invert)
        device.when_deactivated = functools.partial(self._edge, name, invert)
        return device

    def _edge(self, name: Beam, broken: bool) -> None:
        try:
            self.beam(name, broken, self._clock())
        except Exception:  # on gpiozero's thread: an exception here would kill it
            log.exception("beam counter callback failed")

    @property
    def pending(self) -> tuple[int, int]:
        """People (entered, left) counted since the last `tick` handed them out."""
        with self._lock:
            return self._entered, self._left

    def beam(self, name: Beam, broken: bool, now: float) -> Crossing | None:
        """Beam `name` ("a" or "b") was broken or cleared at `now`; return the crossing
        this completed, if any."""
        if name not in ("a", "b"):
            raise ValueError(f'beam must be "a" or "b", got {name!r}')
        with self._lock:
            if self._broken[name] == broken:
                return None  # a repeat of the level we have: nothing moved
            was_idle = not any(self._broken.values())
            self._broken[name] = broken
            if broken:
                self._since[name] = now
                if was_idle:
                    self._origin = name
                return None
            self._since[name] = None
            self._warned.discard(name)
            if any(self._broken.values()):
                return None  # still inside the beams
            origin, self._origin = self._origin, None
            if origin == "a" and name == "b":
                self._entered += 1
                return "entered"
            if origin == "b" and name == "a":
                self._left += 1
                return "left"
            return None

    def tick(self, now: float) -> tuple[int, int] | None:
        """Hand out the people (entered, left) counted so far, if there are any and at
        least `interval` has passed since the last time; warn about a stuck beam."""
        with self._lock:
            self._warn_stuck(now)
            if not (self._entered or self._left) or now - self._flushed_at < self.interval:
                return None
            self._flushed_at = now
            return self._take()

    def flush(self) -> tuple[int, int] | None:
        """Hand out whatever is pending now, whenever the last time was (at shutdown)."""
        with self._lock:
            return self._take() if self._entered or self._left else None

    def _take(self) -> tuple[int, int]:
        counts = (self._entered, self._left)
        self._entered = self._left = 0
        return counts

    def _warn_stuck(self, now: float) -> None:
        for name, since in self._since.items():
            if since is not None and name not in self._warned and now - since >= STUCK_AFTER:
                self._warned.add(name)
                log.warning(
                    "beam %s broken for %.0f s: blocked or misaligned? Nobody is counted "
                    "until it clears",
                    name.upper(),
                    now - since,
                )

    def close(self) -> None:
        """Release both pins."""
        for device in self._devices.values():
            device.close()
        self._devices.clear()
