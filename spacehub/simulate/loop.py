"""The event loop: the month's intentions (`habits`) played against the simulated site
(`world`) in time order, the clock stepped from one event to the next.

Every event is a (time, order, action); an action may add later ones. The scheduler's pass
runs where the server's would change something: each booking's reminder, the end of its
grace, its end, an offer's deadline, a walk-in's vacancy timeout, and every six hours
besides (the server runs it every quarter second; between these times it finds nothing
to do). A pass goes before whatever else happens at the same instant, as the server's
would have run a moment before."""

from __future__ import annotations

import heapq
import itertools
import random
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial

from protocol.messages import Reason
from server.bookings.store import current_booking
from server.db import models
from spacehub.simulate import habits
from spacehub.simulate.habits import Month, Visit, Want
from spacehub.simulate.world import World

Action = Callable[[], None]
SECOND = timedelta(seconds=1)
ENTRANCE, COWORKING = "reader-main", "reader-cowork"
DOORS = {"sala-a": "reader-sala-a", "sala-b": "reader-sala-b"}
PIRS = {"sala-a": "pir-sala-a", "sala-b": "pir-sala-b"}
COUNTERS = {"sala-b": "counter-sala-b"}


class Loop:
    def __init__(self, world: World, rng: random.Random, *, no_show_rate: float) -> None:
        self.world = world
        self.rng = rng
        self.no_show_rate = no_show_rate
        self._heap: list[tuple[datetime, int, int, Action]] = []
        self._order = itertools.count()
        self._sweeps: set[datetime] = set()
        self._offers_seen: set[int] = set()
        self._wanted: dict[int, datetime] = {}  # waitlist entry -> the start it wanted
        self.cancelled: set[int] = set()
        self.steps = 0
        site = world.site
        self.grace = timedelta(seconds=site.access.no_show_grace)
        self.remind = timedelta(seconds=site.bookings.reminder_before)
        self.vacancy = timedelta(seconds=site.walk_in.vacancy_timeout)

    # -- the queue ---------------------------------------------------------------------------

    def at(self, when: datetime, action: Action, *, first: bool = False) -> None:
        heapq.heappush(self._heap, (when, 0 if first else 1, next(self._order), action))

    def sweep_at(self, when: datetime) -> None:
        """A scheduler pass at `when` (once however often asked)."""
        if when not in self._sweeps:
            self._sweeps.add(when)
            self.at(when, self._sweep, first=True)

    def run(self, until: datetime) -> None:
        """Step every event due before `until`, in time order."""
        hour = self.world.now.replace(minute=0, second=0, microsecond=0)
        while hour <= until:
            self.sweep_at(hour)
            hour += timedelta(hours=6)
        while self._heap and self._heap[0][0] <= until:
            when, _, _, action = heapq.heappop(self._heap)
            self.world.move_to(when)
            action()
            self.steps += 1
        self.world.move_to(until)

    def _sweep(self) -> None:
        self.world.sweep()
        self._answer_offers()

    # -- the month's intentions --------------------------------------------------------------

    def plan(self, month: Month) -> None:
        """Queue everything the population means to do."""
        for series in month.series:
            self.at(self.world.now, partial(self._book_series, series))
        for want in month.wants:
            self.at(max(want.asks_at, self.world.now), partial(self._ask, want))
        for walk in month.walk_ins:
            self.at(walk.at, partial(self._walk_in, walk.person, walk.first_room, walk.stays))
        for cow in month.coworking:
            self.at(cow.at, partial(self._cowork, cow.person))

    def _book_series(self, series: habits.Series) -> None:
        made = self.world.book_series(
            series.person, series.room, series.start, series.end, series.weeks
        )
        for booking_id, visit in zip(made, series.visits, strict=False):
            self._follow(booking_id, series.person, visit)

    def _ask(self, want: Want) -> None:
        booking_id = self.world.book(want.person, want.room, want.start, want.end)
        if booking_id is not None:
            self._follow(booking_id, want.person, want.visit)
        elif want.waits:
            entry_id = self.world.wait_for(want.person, want.room, want.start, want.end)
            if entry_id is not None:
                self._wanted[entry_id] = want.start

    def _follow(self, booking_id: int, person: str, visit: Visit) -> None:
        """Queue what the holder does about a booking, and the passes it needs."""
        booking = self.world.booking(booking_id)
        assert booking is not None
        start, end = booking.start, booking.end
        self.sweep_at(start + self.grace - self.remind)
        self.sweep_at(start + self.grace)
        self.sweep_at(end)
        if visit.cancels_before is not None and start - visit.cancels_before > self.world.now:
            self.at(start - visit.cancels_before, lambda: self._cancel(booking_id))
        if not visit.comes:
            return
        arrives = start + timedelta(minutes=visit.arrives)
        leaves = end - timedelta(minutes=visit.stays_less)
        room = booking.room_id
        self.at(arrives - 2 * 60 * SECOND, lambda: self._enter_building(booking_id, person))
        self.at(
            arrives, lambda: self._enter_room(booking_id, person, room, start, tap=visit.taps_room)
        )
        self.at(leaves, lambda: self._leave_room(booking_id, room))

    def _cancel(self, booking_id: int) -> None:
        if self.world.cancel(booking_id):
            self.cancelled.add(booking_id)
            self._answer_offers()

    # -- people at the doors -----------------------------------------------------------------

    def _enter_building(self, booking_id: int, person: str) -> None:
        if booking_id not in self.cancelled:
            self.world.tap(person, ENTRANCE)

    def _enter_room(
        self, booking_id: int, person: str, room: str, start: datetime, *, tap: bool
    ) -> None:
        if booking_id in self.cancelled:
            return
        if tap:
            decision = self.world.tap(person, DOORS[room])
            if decision.reason == Reason.ROOM_BOOKED and self.world.now < start:
                # Early, and the meeting before theirs still holds the room: they wait at
                # the door and tap again when their booking starts.
                self.at(start, lambda: self._tap(person, DOORS[room]))
        self._people_in(room)

    def _leave_room(self, booking_id: int, room: str) -> None:
        if booking_id not in self.cancelled:
            self._people_out(room)

    def _people_in(self, room: str) -> None:
        self.world.motion(PIRS[room], on=True)
        if room in COUNTERS:
            self.world.count(COUNTERS[room], entered=1)

    def _people_out(self, room: str) -> None:
        self.world.motion(PIRS[room], on=False)
        if room in COUNTERS:
            self.world.count(COUNTERS[room], left=1)
        self.sweep_at(self.world.now + self.vacancy)

    def _walk_in(self, person: str, room: str, stays: timedelta, tried: int = 0) -> None:
        """A member at the hub tries a room's door; refused, the other room's a minute on."""
        decision = self.world.tap(person, DOORS[room])
        if decision.granted and decision.reason == Reason.WALK_IN:
            with self.world.ctx.reads() as session:
                walk_in = current_booking(session, room_id=room, now=self.world.now)
                assert walk_in is not None and walk_in.source == "walk_in"
                ends = walk_in.end
            self._people_in(room)
            self.sweep_at(ends)
            self.at(min(self.world.now + stays, ends), lambda: self._people_out(room))
            return
        if tried == 0:
            other = next(r for r in DOORS if r != room)
            self.at(self.world.now + 60 * SECOND, lambda: self._walk_in(person, other, stays, 1))

    def _cowork(self, person: str) -> None:
        self.world.tap(person, ENTRANCE)
        self.at(self.world.now + 60 * SECOND, lambda: self._tap(person, COWORKING))

    def _tap(self, person: str, device: str) -> None:
        self.world.tap(person, device)

    # -- the waitlist --------------------------------------------------------------------------

    def _answer_offers(self) -> None:
        """Members who got an offer decide: take it if it still suits them, within its hold."""
        for offer in self.world.open_offers():
            if offer.id in self._offers_seen:
                continue
            self._offers_seen.add(offer.id)
            self.sweep_at(offer.expires_at)
            wanted = self._wanted.get(offer.waitlist_id, offer.start)
            if self.world.now > wanted + habits.STILL_WANTED or self.rng.random() >= habits.ACCEPTS:
                continue  # it lapses, and goes to the next member waiting
            hold = (offer.expires_at - self.world.now).total_seconds() / 60
            answers = timedelta(minutes=self.rng.uniform(1, max(1.0, hold - 1)))
            self.at(self.world.now + answers, partial(self._accept, offer))

    def _accept(self, offer: models.Offer) -> None:
        booking = self.world.accept(offer.id)
        if booking is None:
            return
        person = next(k for k, v in self.world.ids.items() if v == booking.member_id)
        if booking.start > self.world.now + timedelta(hours=1):
            self._follow(booking.id, person, habits.visit(self.rng, self.no_show_rate))
            return
        # They wanted the room now and are at or near the hub: they come in a few minutes,
        # or, for a booking that starts later, at its start as holders do (`habits.visit`),
        # not before the doors would let them in.
        minutes = (self.world.now - booking.start).total_seconds() / 60
        arrives = minutes + self.rng.uniform(2, 12)
        if arrives < 0:
            arrives = max(arrives, self.rng.uniform(-12, 0))
        stays_less = self.rng.uniform(0, 12)
        self._follow(booking.id, person, Visit(comes=True, arrives=arrives, stays_less=stays_less))
