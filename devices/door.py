"""The door controller of one Raspberry Pi: card reader, strike relay, LEDs, buzzer, door
contact, exit button and fire-alarm input, talking to the server over MQTT.

`DoorController` is the state machine. It is driven by plain method calls that take an
explicit `now` (seconds on a monotonic clock), owns the gpiozero devices, and hands every
message it sends to an injected `publish(topic, message, retain)`; so a test runs it on
`MockFactory` pins with a hand-moved clock and a list for a broker. `DoorRunner` wires it
to the real world: an MQTT client, the outbox its events go through, a reader thread and a
ticker thread.

When no decision comes within the decision timeout (neither the server nor the gateway
answers), the door admits by itself only the staff cards of the retained EmergencyList,
which it keeps on disk (`EmergencyStore`) so that it has them after a restart too.

What drives the strike: a timed release (a grant, the exit button, a remote unlock), the
`unlocked` mode, or the fire-alarm input; the strike is locked when none of them is on.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from gpiozero import LED, Button, Buzzer, DigitalInputDevice, OutputDevice

from devices.config import DoorConfig, PinsConfig
from devices.readers import CardReader, open_reader
from devices.runner import DeviceRunner, Publish
from protocol import topics
from protocol.cards import emergency_hash
from protocol.messages import (
    Decision,
    DoorCommand,
    DoorEvent,
    DoorEventKind,
    DoorMode,
    EmergencyList,
    Message,
    ProtocolError,
    Result,
    Status,
    Tap,
    decode,
    encode,
    new_id,
    utcnow,
)

if TYPE_CHECKING:
    import paho.mqtt.client as paho

log = logging.getLogger(__name__)

# A reed contact can report a door pushed open in the last moment of an unlock slightly
# after the strike relocked; that is not a forced door.
RELOCK_GRACE = 0.5
TIMESYNC_DIR = Path("/run/systemd/timesync")

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


class _Input:
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


class EmergencyStore:
    """The door's latest EmergencyList on disk (`data_dir/emergency.json`), replaced
    atomically, so that a power cut leaves the old list or the new one, never half of one.

    >>> store = EmergencyStore("var/devices/reader-main")  # doctest: +SKIP
    >>> store.save(emergency_list); store.load() == emergency_list  # doctest: +SKIP
    True
    """

    FILENAME = "emergency.json"

    def __init__(self, data_dir: str | Path) -> None:
        self.path = Path(data_dir) / self.FILENAME

    def load(self) -> EmergencyList | None:
        """The list kept on disk; None when there is none or it cannot be read."""
        try:
            return decode(EmergencyList, self.path.read_bytes())
        except FileNotFoundError:
            return None
        except (OSError, ProtocolError) as exc:
            log.error("%s: cannot read the emergency list: %s", self.path, exc)
            return None

    def save(self, emergency: EmergencyList) -> None:
        """Write the list to a temporary file, flush it to the card, then rename it over
        the old one."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.FILENAME}.{os.getpid()}.tmp")
        try:
            with tmp.open("wb") as f:
                f.write(encode(emergency))
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        finally:
            tmp.unlink(missing_ok=True)
        directory = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)  # the rename itself
        finally:
            os.close(directory)


@dataclass
class _Pending:
    """A tap waiting for a decision. The card's UID is kept only this long, to check it
    against the emergency list if nobody answers."""

    deadline: float
    card: str


def clock_synced(config: DoorConfig) -> bool:
    """Best effort: the config's word if it has one, else systemd-timesyncd's flag file;
    a host without timesyncd (a container running the demo) counts as synced."""
    if config.clock_synced is not None:
        return config.clock_synced
    return not TIMESYNC_DIR.is_dir() or (TIMESYNC_DIR / "synchronized").exists()


class DoorController:
    """The door's state machine over gpiozero devices built on `pin_factory`.

    >>> from gpiozero.pins.mock import MockFactory
    >>> sent = []
    >>> door = DoorController(config, pin_factory=MockFactory(),
    ...                       publish=lambda t, m, r: sent.append(m))  # doctest: +SKIP
    >>> tap = door.card("04A1B2C3", now=0.0)  # doctest: +SKIP
    >>> door.decision(Decision(id=tap.id, granted=True, reason="staff"), now=0.1)  # doctest: +SKIP
    >>> door.unlocked  # doctest: +SKIP
    True
    >>> door.tick(now=5.2); door.unlocked  # doctest: +SKIP
    False

    With an `emergency` store the door keeps its emergency list there and starts with the
    one stored.
    """

    def __init__(
        self,
        config: DoorConfig,
        *,
        pin_factory: Any = None,
        publish: Publish,
        clock: Callable[[], float] = time.monotonic,
        wallclock: Callable[[], datetime] = utcnow,
        emergency: EmergencyStore | None = None,
    ) -> None:
        self.config = config
        self.boot = new_id()
        self._emergency = emergency
        # The staff cards admitted when nobody answers.
        self.emergency_list: EmergencyList | None = emergency.load() if emergency else None
        self._publish, self._clock, self._wallclock = publish, clock, wallclock
        self._lock = threading.RLock()  # gpiozero, paho, reader and ticker threads call in
        self._seq = 0
        self._pending: dict[str, _Pending] = {}  # by tap id
        self._commands_seen: deque[str] = deque(maxlen=64)
        self._unlock_until = -math.inf
        # When the mode or the fire alarm last stopped holding the strike (a timed release
        # ends at _unlock_until); a door opened just after either is not forced.
        self._relocked_at = -math.inf
        self._released = False
        self._mode: Literal["normal", "locked", "unlocked"] = "normal"
        self._mode_ts: datetime | None = None
        self._fire = False
        self._door_closed = True
        self._opened_at: float | None = None
        self._held_reported = False
        self._signal: Signal | None = None
        self._signal_at = 0.0
        self._devices: list[Any] = []
        try:
            self._build(pin_factory)
        except Exception:
            self.close()
            raise
        now = clock()
        self._door_closed = self.contact.active if self.contact else True
        self._fire = self.fire_input.active if self.fire_input else False
        if not self._door_closed:
            self._opened_at = now
        self._refresh(now)

    def _build(self, factory: Any) -> None:
        p = self.config.pins
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
        # The contact is a DigitalInputDevice (active = closed), not a Button: a Button's
        # hold thread makes close() wait a second while it is "pressed", i.e. the door shut.
        self.contact = self._input(DigitalInputDevice, p.contact, p.contact_active_high, factory)
        self.exit_button = self._input(Button, p.exit, p.exit_active_high, factory)
        self.fire_input = self._input(DigitalInputDevice, p.fire, p.fire_active_high, factory)
        if self.contact:
            self.contact.on_change(self._on_contact)
        if self.exit_button:
            self.exit_button.on_change(self._on_exit)
        if self.fire_input:
            self.fire_input.on_change(self._on_fire)

    def _add(self, device: Any) -> Any:
        self._devices.append(device)
        return device

    def _input(
        self, cls: type[DigitalInputDevice], pin: int | None, active_high: bool, factory: Any
    ) -> _Input | None:
        if pin is None:
            return None
        made = _Input(cls, pin, active_high, self.config.pins.pull_up, factory)
        self._add(made.device)
        return made

    @staticmethod
    def _is(made: _Input | None) -> bool:
        return made is not None and made.active

    # Thin gpiozero callbacks: read the input, call the state machine with the time.
    def _on_contact(self) -> None:
        self.door_contact(self._is(self.contact), self._clock())

    def _on_exit(self) -> None:
        if self._is(self.exit_button):  # pressed, not released
            self.exit_pressed(self._clock())

    def _on_fire(self) -> None:
        self.fire_alarm(self._is(self.fire_input), self._clock())

    # -- what the door can be asked ------------------------------------------------------

    @property
    def unlocked(self) -> bool:
        """Whether the strike is released right now."""
        return self._released

    @property
    def current_mode(self) -> str:
        return self._mode

    @property
    def door_closed(self) -> bool:
        return self._door_closed

    def status(self, state: Literal["online", "offline"]) -> Status:
        """The retained availability message of this door."""
        return Status(
            state=state,
            kind="door",
            ts=self._wallclock(),
            interval_s=self.config.timing.heartbeat,
            clock_synced=clock_synced(self.config),
        )

    # -- events from the reader, the server and the clock --------------------------------

    def card(self, uid: str, now: float, *, tech: str | None = None) -> Tap:
        """A card was read: publish its Tap and wait for a decision until the timeout."""
        with self._lock:
            tap = Tap(id=new_id(), ts=self._wallclock(), card=uid, tech=tech, **self._stamp())
            self._pending[tap.id] = _Pending(now + self.config.timing.decision_timeout, tap.card)
            self._send(topics.tap(self.config.site, self.config.device), tap)
            return tap

    def decision(self, msg: Decision, now: float) -> None:
        """Apply the first decision for a tap still pending; ignore any other."""
        with self._lock:
            self._expire(now)
            if self._pending.pop(msg.id, None) is None:
                log.info(
                    "%s: ignoring decision for tap %s: not waiting for it (late, repeated "
                    "or not ours)",
                    self.config.device,
                    msg.id,
                )
                return
            granted = msg.granted and self._mode != "locked"
            if granted:
                self._unlock(msg.unlock_s, now)
            self._show(GRANTED if granted else DENIED, now)
            reason = msg.reason if granted == msg.granted else "locked_down"
            self._result(msg.id, msg.by, granted, reason)
            self._refresh(now)

    def tick(self, now: float) -> None:
        """Let time pass: expire taps, relock the strike, report a door held open."""
        with self._lock:
            self._expire(now)
            self._check_held_open(now)
            self._refresh(now)

    def mode(self, msg: DoorMode, now: float | None = None) -> None:
        """Apply a (retained) DoorMode, unless it is older than the one in force."""
        now = self._clock() if now is None else now
        with self._lock:
            if self._mode_ts is not None and msg.ts < self._mode_ts:
                log.info("%s: ignoring a stale door mode from %s", self.config.device, msg.ts)
                return
            was_released = self._strike_reason(now) is not None
            self._mode, self._mode_ts = msg.mode, msg.ts
            if msg.mode == "locked":
                self._unlock_until = -math.inf  # a lockdown ends any release in progress
            self._note_relock(was_released, now)
            log.info("%s: mode %s", self.config.device, msg.mode)
            self._refresh(now)

    def command(self, msg: DoorCommand, now_wall: datetime, now: float | None = None) -> None:
        """A remote one-off unlock, ignored when received after its `expires`, when seen
        before (a redelivery) or in lockdown."""
        now = self._clock() if now is None else now
        with self._lock:
            if now_wall > msg.expires:
                log.info("%s: ignoring expired door command %s", self.config.device, msg.id)
                return
            if msg.id in self._commands_seen:
                return
            self._commands_seen.append(msg.id)
            if self._mode == "locked":
                log.info("%s: door command %s refused: locked", self.config.device, msg.id)
                return
            self._unlock(msg.unlock_s, now)
            self._show(GRANTED, now)
            self._refresh(now)

    def set_emergency_list(self, msg: EmergencyList) -> None:
        """Keep the latest list of emergency cards, in memory and in the store, unless it
        is older than the one held."""
        with self._lock:
            held = self.emergency_list
            if held is not None and msg.ts < held.ts:
                log.info("%s: ignoring an emergency list from %s", self.config.device, msg.ts)
                return
            if msg == held:
                return  # the retained list again, after a reconnect
            self.emergency_list = msg
            log.info("%s: emergency list of %d cards", self.config.device, len(msg.cards))
            if self._emergency is not None:
                try:
                    self._emergency.save(msg)
                except OSError:  # the door keeps the list in memory and keeps working
                    log.exception("%s: could not store the emergency list", self.config.device)

    # -- events from the inputs ----------------------------------------------------------

    def door_contact(self, closed: bool, now: float) -> None:
        """The door contact changed: report opened/closed, and forced if nothing released
        the strike."""
        with self._lock:
            if closed == self._door_closed:
                return
            self._door_closed = closed
            if closed:
                self._opened_at = None
                self._event("closed")
                return
            self._opened_at, self._held_reported = now, False
            self._event("opened")
            recently = max(self._relocked_at, self._unlock_until) + RELOCK_GRACE
            if self._strike_reason(now) is None and now >= recently:
                self._event("forced")

    def exit_pressed(self, now: float) -> None:
        """The exit button: release for the unlock time (in lockdown too: egress is never
        blocked) and report the exit request."""
        with self._lock:
            self._unlock(self.config.timing.unlock, now)
            self._event("exit_request")
            self._refresh(now)

    def fire_alarm(self, active: bool, now: float) -> None:
        """The fire-alarm input: release while it is active, whatever the mode."""
        with self._lock:
            if active == self._fire:
                return
            was_released = self._strike_reason(now) is not None
            self._fire = active
            if active:
                self._event("fire_release")
            self._note_relock(was_released, now)
            self._refresh(now)

    # -- internals -----------------------------------------------------------------------

    def _unlock(self, seconds: float, now: float) -> None:
        self._unlock_until = max(self._unlock_until, now + seconds)

    def _note_relock(self, was_released: bool, now: float) -> None:
        if was_released and self._strike_reason(now) is None:
            self._relocked_at = now

    def _strike_reason(self, now: float) -> str | None:
        if self._fire:
            return "fire"
        if self._mode == "unlocked":
            return "mode"
        if now < self._unlock_until:
            return "timed"
        return None

    def _expire(self, now: float) -> None:
        expired = [tap for tap, pending in self._pending.items() if now >= pending.deadline]
        for tap in expired:
            card = self._pending.pop(tap).card
            log.warning("%s: no decision for tap %s in time", self.config.device, tap)
            self._on_my_own(tap, card, now)

    def _on_my_own(self, tap: str, card: str, now: float) -> None:
        """Nobody answered: open for an emergency card, else stay locked and show it."""
        if not self._is_emergency_card(card):
            self._result(tap, "none", False, None)
            self._show(OFFLINE, now)
        elif self._mode == "locked":
            self._result(tap, "none", False, "locked_down")
            self._show(DENIED, now)
        else:
            log.warning("%s: emergency card admitted for tap %s", self.config.device, tap)
            self._unlock(self.config.timing.unlock, now)
            self._result(tap, "none", True, "emergency")
            self._show(GRANTED, now)

    def _is_emergency_card(self, card: str) -> bool:
        emergency = self.emergency_list
        return emergency is not None and emergency_hash(emergency.salt, card) in emergency.cards

    def _check_held_open(self, now: float) -> None:
        # Open by design in passage mode or a fire: not worth an alarm.
        if self._opened_at is None or self._held_reported or self._fire or self._mode == "unlocked":
            return
        if now - self._opened_at > self.config.timing.held_open:
            self._held_reported = True
            self._event("held_open")

    def _show(self, signal: Signal, now: float) -> None:
        self._signal, self._signal_at = signal, now

    def _refresh(self, now: float) -> None:
        """Set every output from the state at `now`."""
        released = self._strike_reason(now) is not None
        if self._released != released:
            log.info("%s: strike %s", self.config.device, "released" if released else "locked")
        self._released = released
        elapsed = now - self._signal_at
        lit = {
            name: self._signal is not None and self._signal.lit(name, elapsed)
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

    def _stamp(self) -> dict[str, Any]:
        self._seq += 1
        return {"boot": self.boot, "seq": self._seq}

    def _event(self, kind: DoorEventKind) -> None:
        event = DoorEvent(id=new_id(), ts=self._wallclock(), event=kind, **self._stamp())
        self._send(topics.door_event(self.config.site, self.config.device), event)

    def _result(self, tap: str, applied: Any, granted: bool, reason: str | None) -> None:
        result = Result(
            id=new_id(),
            tap=tap,
            applied=applied,
            granted=granted,
            reason=reason,
            ts=self._wallclock(),
            **self._stamp(),
        )
        self._send(topics.result(self.config.site, self.config.device), result)

    def _send(self, topic: str, message: Message, retain: bool = False) -> None:
        try:
            self._publish(topic, message, retain)
        except Exception:  # the door must keep working when the network does not
            log.exception("%s: could not publish to %s", self.config.device, topic)

    def close(self) -> None:
        """Lock the strike and release every pin."""
        with self._lock:
            for device in reversed(self._devices):
                device.close()
            self._devices.clear()


# -- the program on the Pi --------------------------------------------------------------

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
    configured username (PROTOCOL.md binds the two), else the device id; its last will is
    the door's offline Status, retained.
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
        self.client.subscribe(topics.device_commands(config.site, config.device), self._on_command)

    def start(self) -> None:
        """Connect (retrying in the background) and start sending, reading cards and
        ticking."""
        super().start()
        self._spawn("reader", self._read_cards)

    def _closing(self) -> None:
        self.reader.close()  # the reader thread has returned within its read timeout

    # -- adapters: parse, call, emit -----------------------------------------------------

    def _on_command(self, msg: paho.MQTTMessage) -> None:
        try:
            kind = topics.parse(msg.topic).kind
            message = decode(COMMAND_MODELS[kind], bytes(msg.payload))
        except (topics.TopicError, ProtocolError, KeyError) as exc:
            log.warning("%s: ignoring a message on %s: %s", self.config.device, msg.topic, exc)
            return
        self.dispatch(message)

    def dispatch(self, message: Message) -> None:
        """Hand a decoded command to the controller with the current time."""
        now = self._clock()
        door = self.controller
        if isinstance(message, Decision):
            door.decision(message, now)
        elif isinstance(message, DoorCommand):
            door.command(message, self._wallclock(), now)
        elif isinstance(message, DoorMode):
            door.mode(message, now)
        elif isinstance(message, EmergencyList):
            door.set_emergency_list(message)

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
        (stop_event or threading.Event()).wait()
    finally:
        runner.stop()
