"""What the demo's visitors do to the building's devices, as scripts (`spacehub.scheduler`):
present a card to a door's `FakeReader`, press its exit button, open and close its contact,
walk through a counter's beams, move in front of a PIR, all on the demo's mock pins.

Gestures take their real time, as the device code needs (a beam crossing, a door held
open, a tap awaiting its decision); what happens next is up to the real devices, server and
gateway. Who walks (`Person`, `Party`) and where (`Place`) are here too.

    gestures = Gestures(building, places(ctx), random.Random(7))
    got_in = yield from gestures.through_door("main", party, inward=True)
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from devices.door import DoorRunner
from devices.readers import FakeReader
from server.context import ServerContext
from spacehub.building import Building
from spacehub.scheduler import Script

POLL = 0.05  # how often a waiting script looks again at a door's strike


@dataclass(frozen=True)
class Person:
    """A member of the demo with their card."""

    name: str
    card: str
    member_id: int
    category: str
    plan: str | None
    suspended: bool


@dataclass(frozen=True)
class Party:
    """People walking together: members with cards (who try them in this order) and
    guests without one (a workshop's participants), all counted by the beams."""

    people: tuple[Person, ...]
    guests: int = 0

    @property
    def size(self) -> int:
        return len(self.people) + self.guests

    @property
    def names(self) -> set[str]:
        return {p.name for p in self.people}


@dataclass(frozen=True)
class Place:
    """A room of the site and the devices a visitor meets there."""

    room: str
    door: str | None  # the door controller's device id
    counters: tuple[str, ...]  # people counters across its doorway
    pirs: tuple[str, ...]


def places(ctx: ServerContext) -> dict[str, Place]:
    """Every room of the site with its door controller and occupancy sensors."""
    found: dict[str, Place] = {}
    for room in ctx.site.rooms:
        devices = [d for d in ctx.site.devices if d.room == room.id]
        door = next((d.id for d in devices if d.kind == "door"), None)
        counters = tuple(d.id for d in devices if d.sensor == "counter")
        pirs = tuple(d.id for d in devices if d.sensor == "pir")
        found[room.id] = Place(room.id, door, counters, pirs)
    return found


class Gestures:
    """Scripts of what people do at the doors and in front of the sensors of `building`.

    One party at a doorway at a time; a PIR stays active while anyone moves before it."""

    def __init__(self, building: Building, places: dict[str, Place], rng: random.Random):
        self.building = building
        self.places = places
        self.rng = rng
        self._doors_in_use: set[str] = set()
        self._moving: Counter[str] = Counter()  # PIR -> people moving in front of it

    # -- at a door -------------------------------------------------------------------------

    def through_door(self, room: str, party: Party, *, inward: bool) -> Script[bool]:
        """Get the door of `room` released (a card going in, the exit button going out),
        open it, walk through the beams, close it; whether the party went through."""
        place = self.places[room]
        if place.door is None:  # an open doorway
            yield from self.cross(place, party.size, inward=inward)
            return True
        while place.door in self._doors_in_use:
            yield 0.3
        self._doors_in_use.add(place.door)
        door = self.building.doors[place.door]
        try:
            released = yield from (self.tap(door, party) if inward else self.exit_request(door))
            if not released:
                return False
            yield self.rng.uniform(0.3, 1.0)
            self._contact(door, closed=False)
            yield self.rng.uniform(0.3, 0.8)
            yield from self.cross(place, party.size, inward=inward)
            yield self.rng.uniform(0.5, 1.5)
            return True
        finally:
            self._contact(door, closed=True)
            self._doors_in_use.discard(place.door)

    def tap(self, door: DoorRunner, party: Party) -> Script[bool]:
        """Party members present their cards in turn until the strike releases."""
        yield from _until(lambda: not door.controller.unlocked, door.config.timing.unlock + 1)
        if door.controller.unlocked:  # held released (passage mode, fire): just walk in
            return True
        reader = door.reader
        if not isinstance(reader, FakeReader):
            raise TypeError(f"{door.config.device}: traffic needs a FakeReader to tap cards")
        for person in party.people:
            reader.present(person.card)
            wait = door.config.timing.decision_timeout + 1.0
            if (yield from _until(lambda: door.controller.unlocked, wait)):
                return True
            yield self.rng.uniform(0.5, 1.5)  # the next one tries their card
        return False

    def exit_request(self, door: DoorRunner) -> Script[bool]:
        """Press and release the exit button; whether the strike released."""
        pins = door.config.pins
        if pins.exit is None:
            return bool(door.controller.unlocked)
        pin = self._pin(door.config.device, pins.exit)
        pressed = pins.exit_active_high
        try:
            (pin.drive_high if pressed else pin.drive_low)()
            yield self.rng.uniform(0.1, 0.3)
        finally:
            (pin.drive_low if pressed else pin.drive_high)()
        return (yield from _until(lambda: door.controller.unlocked, 2.0))

    def _contact(self, door: DoorRunner, *, closed: bool) -> None:
        pins = door.config.pins
        if pins.contact is None:
            return
        pin = self._pin(door.config.device, pins.contact)
        # contact_active_high: the pin is high while the door is closed.
        (pin.drive_high if closed == pins.contact_active_high else pin.drive_low)()

    # -- at the sensors --------------------------------------------------------------------

    def cross(self, place: Place, people: int, *, inward: bool) -> Script[None]:
        """`people` walk one after another through the beams of every counter at the
        doorway: A then B going in, B then A going out."""
        for i in range(people):
            if i:
                yield self.rng.uniform(0.3, 0.8)  # the gap between two people
            for counter in place.counters:
                yield from self._cross_beams(counter, inward=inward)
        if not place.counters:
            yield 0.5 * people

    def _cross_beams(self, counter: str, *, inward: bool) -> Script[None]:
        pins = self.building.sensors[counter].config.pins
        if pins.beam_a is None or pins.beam_b is None:
            return
        first, second = (pins.beam_a, pins.beam_b) if inward else (pins.beam_b, pins.beam_a)
        try:
            for pin, broken in ((first, True), (second, True), (first, False), (second, False)):
                self._beam(counter, pin, broken=broken)
                yield self.rng.uniform(0.05, 0.2)
        finally:
            self._beam(counter, first, broken=False)
            self._beam(counter, second, broken=False)

    def _beam(self, counter: str, number: int, *, broken: bool) -> None:
        pin = self._pin(counter, number)
        # beam_active_high: the receiver's pin is high while its beam is broken.
        active_high = self.building.sensors[counter].config.pins.beam_active_high
        (pin.drive_high if broken == active_high else pin.drive_low)()

    def move(self, room: str) -> Script[None]:
        """Someone moves in `room` for a second or two: every PIR there sees it."""
        pirs = self.places[room].pirs
        for pir in pirs:
            self._moving[pir] += 1
            self._pir(pir, motion=True)
        try:
            yield self.rng.uniform(1.0, 2.5)
        finally:
            for pir in pirs:
                self._moving[pir] -= 1
                if not self._moving[pir]:  # nobody else is moving there
                    self._pir(pir, motion=False)

    def _pir(self, device: str, *, motion: bool) -> None:
        pins = self.building.sensors[device].config.pins
        if pins.pir is None:
            return
        pin = self._pin(device, pins.pir)
        (pin.drive_high if motion == pins.pir_active_high else pin.drive_low)()

    def _pin(self, device: str, number: int) -> Any:
        return self.building.pins[device].pin(number)


def _until(check: Callable[[], bool], timeout: float) -> Script[bool]:
    # Real time, as the door's own timeouts run, whatever clock the scheduler is on.
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() >= deadline:
            return False
        yield POLL
    return True
