"""The door's hardware as gpiozero devices: the strike relay, the LEDs and the buzzer it
drives, the door contact, the exit button and the fire-alarm input it reads, and the
light-and-sound signals it shows after a tap.

>>> from gpiozero.pins.mock import MockFactory
>>> factory = MockFactory()
>>> pins = DoorPins(config.pins, factory)  # doctest: +SKIP
>>> drive_idle(factory, config.pins)  # a closed door, no exit request, no fire  # doctest: +SKIP
>>> pins.drive(released=True, signal=GRANTED, elapsed=0.0)  # doctest: +SKIP
>>> pins.close()  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gpiozero import LED, Buzzer, DigitalInputDevice, OutputDevice

from devices.config import PinsConfig

Spans = tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class Signal:
    """What the LEDs and the buzzer show after an event: spans of seconds, from the event,
    during which each is on. The green LED is also on while the strike is released."""

    red: Spans = ()
    green: Spans = ()
    buzzer: Spans = ()

    def lit(self, which: str, elapsed: float) -> bool:
        spans: Spans = getattr(self, which)
        return any(start <= elapsed < end for start, end in spans)


GRANTED = Signal(buzzer=((0.0, 0.15),))
DENIED = Signal(red=((0.0, 2.0),), buzzer=((0.0, 1.0),))
# Nobody answered: red and green blink together with three short beeps, unlike a denial.
_BLINK = ((0.0, 0.25), (0.5, 0.75), (1.0, 1.25), (1.5, 1.75))
OFFLINE = Signal(red=_BLINK, green=_BLINK, buzzer=((0.0, 0.1), (0.2, 0.3), (0.4, 0.5)))


class Input:
    """A gpiozero input and whether its `is_active` must be inverted to mean active.

    With the Pi's pull-ups gpiozero calls a low pin active; `active_high` inputs (a
    normally-closed fire contact that opens on alarm) are then inverted here.
    """

    def __init__(
        self,
        cls: type[DigitalInputDevice],
        pin: int,
        active_high: bool,
        pull_up: bool,
        factory: Any,
    ) -> None:
        if pull_up:
            self.device = cls(pin, pull_up=True, pin_factory=factory)
            self._invert = active_high
        else:
            self.device = cls(pin, pull_up=None, active_state=active_high, pin_factory=factory)
            self._invert = False

    @property
    def active(self) -> bool:
        return bool(self.device.is_active) != self._invert

    def on_change(self, callback: Callable[[], None]) -> None:
        self.device.when_activated = callback
        self.device.when_deactivated = callback


def is_active(made: Input | None) -> bool:
    """Whether an input that may not be fitted is active."""
    return made is not None and made.active


def drive_idle(factory: Any, pins: PinsConfig) -> None:
    """Drive a `MockFactory`'s input pins to a quiet door: closed, exit button released, no
    fire alarm. Mock pins idle at their pull, which with pull-ups reads as an open door and
    (for a normally-closed fire contact) an alarm; call this right after building the
    controller, as the demo and the tests do."""
    for pin, active_high, active in (
        (pins.contact, pins.contact_active_high, True),
        (pins.exit, pins.exit_active_high, False),
        (pins.fire, pins.fire_active_high, False),
    ):
        if pin is None:
            continue
        if active == active_high:  # the level that gives this state is high
            factory.pin(pin).drive_high()
        else:
            factory.pin(pin).drive_low()


class DoorPins:
    """Every gpiozero device of one door on `factory`; None for what is not fitted."""

    def __init__(self, pins: PinsConfig, factory: Any) -> None:
        self._pins, self._factory = pins, factory
        self._devices: list[Any] = []
        try:
            self._build()
        except Exception:
            self.close()
            raise

    def _build(self) -> None:
        p, factory = self._pins, self._factory
        self.strike = self._add(
            OutputDevice(p.strike, active_high=p.strike_active_high, pin_factory=factory)
        )
        self.green = self._add(LED(p.green, pin_factory=factory)) if p.green is not None else None
        self.red = self._add(LED(p.red, pin_factory=factory)) if p.red is not None else None
        self.buzzer = (
            self._add(Buzzer(p.buzzer, active_high=p.buzzer_active_high, pin_factory=factory))
            if p.buzzer is not None
            else None
        )
        # Plain DigitalInputDevices (active = closed, pressed), not Buttons: nothing here
        # uses a Button's hold thread, which makes close() wait while it is "pressed".
        self.contact = self._input(DigitalInputDevice, p.contact, p.contact_active_high)
        self.exit_button = self._input(DigitalInputDevice, p.exit, p.exit_active_high)
        self.fire_input = self._input(DigitalInputDevice, p.fire, p.fire_active_high)

    def _add(self, device: Any) -> Any:
        self._devices.append(device)
        return device

    def _input(
        self, cls: type[DigitalInputDevice], pin: int | None, active_high: bool
    ) -> Input | None:
        if pin is None:
            return None
        made = Input(cls, pin, active_high, self._pins.pull_up, self._factory)
        self._add(made.device)
        return made

    def watch(
        self,
        *,
        contact: Callable[[bool], None],
        exit_pressed: Callable[[], None],
        fire: Callable[[bool], None],
    ) -> None:
        """Call `contact(closed)`, `exit_pressed()` (on a press, not a release) and
        `fire(active)` when the fitted inputs change."""
        door, button, alarm = self.contact, self.exit_button, self.fire_input
        if door is not None:
            door.on_change(lambda: contact(is_active(door)))
        if button is not None:
            button.on_change(lambda: exit_pressed() if is_active(button) else None)
        if alarm is not None:
            alarm.on_change(lambda: fire(is_active(alarm)))

    def drive(self, *, released: bool, signal: Signal | None, elapsed: float) -> None:
        """Set every output: the strike, and the LEDs and buzzer `elapsed` seconds into
        `signal` (green also while released)."""
        lit = {
            name: signal is not None and signal.lit(name, elapsed)
            for name in ("red", "green", "buzzer")
        }
        for device, on in (
            (self.strike, released),
            (self.green, released or lit["green"]),
            (self.red, lit["red"]),
            (self.buzzer, lit["buzzer"]),
        ):
            if device is not None and bool(device.value) != on:
                device.value = on

    def close(self) -> None:
        """Release every pin (the strike's relay drops: locked)."""
        for device in reversed(self._devices):
            device.close()
        self._devices.clear()
