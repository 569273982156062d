"""The door controller's state machine: taps and their decisions, the strike, the door
contact, the exit button, the fire alarm, the door mode, remote unlocks and the emergency
list.

It is driven by plain method calls that take an explicit `now` (seconds on a monotonic
clock), owns the door's gpiozero devices (`DoorPins`), and hands every message it sends
to an injected `publish(topic, message, retain)`; so a test runs it on `MockFactory` pins
with a hand-moved clock and a list for a broker.

What drives the strike: a timed release (a grant, the exit button, a remote unlock), the
`unlocked` mode, or the fire-alarm input; the strike is locked when none of them is on.

A command the door does not apply (older than the one held, dated in the future, expired,
refused, a decision for no tap it waits on) is no error: the method says why, to be counted.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from devices.command_order import too_early, verdict
from devices.config import DoorConfig, clock_synced
from devices.door_emergency import EmergencyCards, EmergencyStore
from devices.door_pins import DENIED, GRANTED, OFFLINE, DoorPins, Signal, is_active
from devices.runner import Publish
from protocol import topics
from protocol.messages import (
    Decision,
    DoorCommand,
    DoorEvent,
    DoorEventKind,
    DoorMode,
    DoorModeName,
    EmergencyList,
    Message,
    Result,
    Status,
    Tap,
    new_id,
    utcnow,
)

log = logging.getLogger(__name__)

# A reed contact can report a door pushed open in the last moment of an unlock slightly
# after the strike relocked; that is not a forced door.
RELOCK_GRACE = 0.5

# What a command method returns: None when applied (or a repeat of what is held), else why
# not: "stale", "from_the_future", "expired", "locked_down", "not_pending".
Ignored = str | None


@dataclass
class _Pending:
    """A tap waiting for a decision. The card's UID is kept only this long, to check it
    against the emergency list if nobody answers."""

    deadline: float
    card: str


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
        self._store = emergency
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
        self._mode: DoorModeName = "normal"
        self._mode_msg: DoorMode | None = None
        self._fire = False
        self._door_closed = True
        self._opened_at: float | None = None
        self._held_reported = False
        self._signal: Signal | None = None
        self._signal_at = 0.0
        self._cards = self._stored_list()  # the staff cards admitted when nobody answers
        self.pins = DoorPins(config.pins, pin_factory)
        # Thin gpiozero callbacks: the input's new state, and the time.
        self.pins.watch(
            contact=lambda closed: self.door_contact(closed, self._clock()),
            exit_pressed=lambda: self.exit_pressed(self._clock()),
            fire=lambda active: self.fire_alarm(active, self._clock()),
        )
        now = clock()
        self._door_closed = self.pins.contact.active if self.pins.contact else True
        self._fire = is_active(self.pins.fire_input)
        if not self._door_closed:
            self._opened_at = now
        self._refresh(now)

    def _stored_list(self) -> EmergencyCards | None:
        stored = self._store.load() if self._store is not None else None
        if stored is None:
            return None
        if too_early(stored.ts, self._wallclock(), self._synced()):
            log.warning("%s: the stored emergency list is dated %s: ignored", self.name, stored.ts)
            return None
        return EmergencyCards(stored, self.name)

    # -- what the door can be asked ------------------------------------------------------

    @property
    def name(self) -> str:
        return self.config.device

    @property
    def unlocked(self) -> bool:
        """Whether the strike is released right now."""
        return self._released

    @property
    def current_mode(self) -> DoorModeName:
        """The DoorMode the door applies now (what its Status reports)."""
        return self._mode

    @property
    def door_closed(self) -> bool:
        return self._door_closed

    @property
    def emergency_list(self) -> EmergencyList | None:
        """The emergency list held (None: no list)."""
        return self._cards.list if self._cards is not None else None

    def status(self, state: Literal["online", "offline"]) -> Status:
        """The retained availability message of this door, with the mode it applies."""
        return Status(
            state=state,
            kind="door",
            ts=self._wallclock(),
            interval_s=self.config.timing.heartbeat,
            clock_synced=self._synced(),
            mode=self._mode,
        )

    # -- events from the reader, the server and the clock --------------------------------

    def card(self, uid: str, now: float, *, tech: str | None = None) -> Tap:
        """A card was read: publish its Tap and wait for a decision until the timeout."""
        with self._lock:
            tap = Tap(id=new_id(), ts=self._wallclock(), card=uid, tech=tech, **self._stamp())
            self._pending[tap.id] = _Pending(now + self.config.timing.decision_timeout, tap.card)
            self._send(topics.tap(self.config.site, self.config.device), tap)
            return tap

    def decision(self, msg: Decision, now: float) -> Ignored:
        """Apply the first decision for a tap still pending (a grant opens for at most
        `max_grant_unlock`); ignore any other (late, repeated or not ours)."""
        with self._lock:
            self._expire(now)
            if self._pending.pop(msg.id, None) is None:
                return "not_pending"
            granted = msg.granted and self._mode != "locked"
            if granted:
                self._unlock(min(msg.unlock_s, self.config.timing.max_grant_unlock), now)
            self._show(GRANTED if granted else DENIED, now)
            reason = msg.reason if granted == msg.granted else "locked_down"
            self._result(msg.id, msg.by, granted, reason)
            self._refresh(now)
            return None

    def tick(self, now: float) -> None:
        """Let time pass: expire taps, relock the strike, report a door held open."""
        with self._lock:
            self._expire(now)
            self._check_held_open(now)
            self._refresh(now)

    def mode(self, msg: DoorMode, now: float | None = None) -> Ignored:
        """Apply a (retained) DoorMode newer than the one in force (by `n`, else `ts`),
        unless it is dated more than 5 minutes ahead of the synced clock."""
        now = self._clock() if now is None else now
        with self._lock:
            judged = verdict(msg, self._mode_msg, wall=self._wallclock(), synced=self._synced())
            if judged != "apply":
                return None if judged == "same" else judged
            was_released = self._strike_reason(now) is not None
            level = logging.INFO if msg.mode != self._mode else logging.DEBUG  # a re-send
            self._mode, self._mode_msg = msg.mode, msg
            if msg.mode == "locked":
                self._unlock_until = -math.inf  # a lockdown ends any release in progress
            self._note_relock(was_released, now)
            log.log(level, "%s: mode %s (n=%s)", self.name, msg.mode, msg.n)
            self._refresh(now)
            return None

    def command(self, msg: DoorCommand, now_wall: datetime, now: float | None = None) -> Ignored:
        """A remote one-off unlock for its `unlock_s`, at most the door's own
        `max_remote_unlock`; ignored when received after its `expires`, when dated in the
        future, when seen before (a redelivery) or in lockdown."""
        now = self._clock() if now is None else now
        with self._lock:
            if now_wall > msg.expires:
                return "expired"
            if too_early(msg.ts, now_wall, self._synced()):
                return "from_the_future"
            if msg.id in self._commands_seen:
                return None
            self._commands_seen.append(msg.id)
            if self._mode == "locked":
                return "locked_down"
            seconds = min(msg.unlock_s, self.config.timing.max_remote_unlock)
            log.info("%s: remote unlock %s for %gs", self.name, msg.id, seconds)
            self._unlock(seconds, now)
            self._show(GRANTED, now)
            self._refresh(now)
            return None

    def set_emergency_list(self, msg: EmergencyList) -> Ignored:
        """Keep a newer list of emergency cards (ordered like DoorMode), in memory and in
        the store; one dated in the future is neither used nor stored."""
        with self._lock:
            judged = verdict(
                msg, self.emergency_list, wall=self._wallclock(), synced=self._synced()
            )
            if judged != "apply":
                return None if judged == "same" else judged
            self._cards = EmergencyCards(msg, self.name)
            log.info("%s: emergency list of %d cards (n=%s)", self.name, len(msg.cards), msg.n)
            if self._store is not None:
                try:
                    self._store.save(msg)
                except OSError:  # the door keeps the list in memory and keeps working
                    log.exception("%s: could not store the emergency list", self.name)
            return None

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

    def _synced(self) -> bool:
        return clock_synced(self.config)

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
            log.warning("%s: no decision for tap %s in time", self.name, tap)
            self._on_my_own(tap, card, now)

    def _on_my_own(self, tap: str, card: str, now: float) -> None:
        """Nobody answered: open for an emergency card, else stay locked and show it."""
        if self._cards is None or not self._cards.admits(card):
            self._result(tap, "none", False, None)
            self._show(OFFLINE, now)
        elif self._mode == "locked":
            self._result(tap, "none", False, "locked_down")
            self._show(DENIED, now)
        else:
            log.warning("%s: emergency card admitted for tap %s", self.name, tap)
            self._unlock(self.config.timing.unlock, now)
            self._result(tap, "none", True, "emergency")
            self._show(GRANTED, now)

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
            log.info("%s: strike %s", self.name, "released" if released else "locked")
        self._released = released
        self.pins.drive(released=released, signal=self._signal, elapsed=now - self._signal_at)

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
            log.exception("%s: could not publish to %s", self.name, topic)

    def close(self) -> None:
        """Lock the strike and release every pin."""
        with self._lock:
            self.pins.close()
