"""Simulated visitors for `spacehub demo --traffic`, so the dashboard moves as a real day
would: members with bookings arrive (some late, some never), coworkers come and go, and
now and then someone takes a free room by tapping its door.

The simulation only does what people do to the building's devices (`spacehub.gestures`):
it presents cards to the doors' `FakeReader`s, opens and closes the door contacts, presses
the exit buttons, breaks the counters' beams and moves in front of the PIRs, all on the
demo's mock pins. The real device code, server and gateway do the rest; nothing here
publishes a message or writes an access result. It also makes a few bookings as the day
goes on, through `server.bookings.insert_booking`, as members would through the API.

    traffic = Traffic(ctx, building, rng=random.Random(7), speed=1.0)
    traffic.start()     # one daemon thread
    ...
    traffic.stop()      # returns within a fraction of a second; the pins are left idle

Every visitor is a script (`spacehub.scheduler`): `arrive`, `enter_room`, `stay`,
`leave_room`, `leave` are such scripts; `visit` strings them together. Physical gestures
take their real time, as the device code needs; the durations of life (how long a visit
lasts, the time between arrivals) are divided by `speed`. Tests run single scripts with
`perform` and drive the scheduler with `run_due`.
"""

from __future__ import annotations

import logging
import random
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from protocol.bookingrules import no_show_due
from server.bookings import store as bookings
from server.context import ServerContext
from server.errors import Conflict, Invalid
from server.live.kinds import BookingEvent
from server.people import members
from spacehub.building import Building
from spacehub.gestures import Gestures, Party, Person, Place, places
from spacehub.scheduler import Scheduler, Script
from spacehub.seed import DEMO_MEMBERS, DemoMember

__all__ = ["Party", "Person", "Place", "Script", "Traffic", "places"]

log = logging.getLogger(__name__)

TITLES = (
    "Konsultacje prawne",
    "Zebranie stowarzyszenia",
    "Kurs polskiego dla Ukraińców",
    "Próba chóru",
    "Korepetycje z matematyki",
    "Spotkanie rady osiedla",
    "Warsztaty rękodzieła",
)


class Traffic(Scheduler):
    """Visitors going about the demo building, on one thread, until `stop`.

    `rng` makes every choice (seed it for a repeatable day); `speed` divides the durations
    of life; `clock` is the monotonic clock the scheduler runs on; `people` are the demo's
    members with their cards (those not in the database are left out)."""

    def __init__(
        self,
        ctx: ServerContext,
        building: Building,
        *,
        rng: random.Random | None = None,
        speed: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        people: Sequence[DemoMember] = DEMO_MEMBERS,
    ) -> None:
        if speed <= 0:
            raise ValueError(f"speed must be positive, got {speed}")
        super().__init__(clock=clock, name="demo-traffic")
        self.ctx, self.building = ctx, building
        self.rng = rng or random.Random()
        self.speed = speed
        self.places = places(ctx)
        self.gestures = Gestures(building, self.places, self.rng)
        self.entrance = next(r.id for r in ctx.site.rooms if r.kind == "entrance")
        self.people = self._resolve(people)
        self._busy: set[str] = set()  # people in a visit (or on their way)
        self._room_users: Counter[str] = Counter()  # simulated parties in or going to a room
        self._seen: set[int] = set()  # bookings already given a fate
        self._first_look = True

    def _resolve(self, people: Sequence[DemoMember]) -> dict[str, Person]:
        with self.ctx.reads() as session:
            known = {m.name: m for m in members.list_members(session, limit=1000)}
        return {
            d.name: Person(d.name, d.card, known[d.name].id, d.category, d.plan, d.suspended)
            for d in people
            if d.name in known
        }

    def start(self) -> None:
        """Start the day: bookings watched, visitors arriving, bookings made now and then."""
        if self.running:
            return
        for script in (self._watch_bookings(), self._arrivals(), self._make_bookings()):
            self.spawn(script)
        super().start()

    def life(self, seconds: float) -> float:
        """A duration of life (not of a gesture), at the simulation's speed."""
        return seconds / self.speed

    # -- what keeps the day going ----------------------------------------------------------

    def _arrivals(self) -> Script[None]:
        """Someone comes every 10-40 s: mostly a coworker, sometimes a walk-in, rarely a
        card that no longer opens anything."""
        yield self.life(self.rng.uniform(5, 15))  # once the server is up
        while True:
            kind = self.rng.choices(("cowork", "walk_in", "refused"), weights=(20, 6, 1))[0]
            script = {
                "cowork": self._coworker,
                "walk_in": self._walk_in,
                "refused": self._refused,
            }[kind]()
            if script is not None:
                self.spawn(script)
            yield self.life(self.rng.uniform(10, 40))

    def _watch_bookings(self) -> Script[None]:
        """Give every booking about to start a fate: its holder comes on time, late, or
        not at all."""
        while True:
            self._look_at_bookings()
            yield max(1.0, self.life(15))

    def _make_bookings(self) -> Script[None]:
        """Book a room now and then, a few minutes ahead: a handful an hour."""
        yield self.life(self.rng.uniform(30, 90))
        while True:
            self.book_soon()
            yield self.life(self.rng.uniform(600, 1200))

    def _free(self, candidates: Iterable[Person]) -> list[Person]:
        return [p for p in candidates if p.name not in self._busy]

    def _claim(self, party: Party) -> Party:
        self._busy |= party.names
        return party

    def _coworker(self) -> Script[None] | None:
        open_now = self._open(self.ctx.clock())
        coworkers = [
            p
            for p in self._free(self.people.values())
            if not p.suspended
            and (p.category == "staff" or (p.plan and (open_now or self._always(p.plan))))
        ]
        if not coworkers or "coworking" not in self.places:
            return None
        guests = self.rng.choices((0, 1), weights=(4, 1))[0]  # now and then with a client
        party = self._claim(Party((self.rng.choice(coworkers),), guests=guests))
        return self.visit(party, "coworking", self.life(self.rng.uniform(60, 300)))

    def _refused(self) -> Script[None] | None:
        suspended = [p for p in self._free(self.people.values()) if p.suspended]
        if not suspended:
            return None
        return self.visit(self._claim(Party((self.rng.choice(suspended),))), "coworking", 0)

    def _walk_in(self) -> Script[None] | None:
        """A member of a walk-in category takes a free room; one without a plan of their
        own comes with someone whose card opens the entrance."""
        categories = set(self.ctx.site.walk_in.categories) - {"staff"}
        walkers = [
            p
            for p in self._free(self.people.values())
            if p.category in categories and not p.suspended
        ]
        stay = self.life(self.rng.uniform(60, 300))
        room = self._free_room(stay)
        if not walkers or room is None:
            return None
        walker = self.rng.choice(walkers)
        party: tuple[Person, ...] = (walker,)
        if walker.plan is None:
            hosts = [
                p
                for p in self._free(self.people.values())
                if p is not walker and not p.suspended and (p.plan or p.category == "staff")
            ]
            party += (self.rng.choice(hosts),) if hosts else ()
        return self.visit(self._claim(Party(party)), room, stay)

    def _free_room(self, stay: float) -> str | None:
        now = self.ctx.clock()
        until = now + timedelta(seconds=stay + 300)
        bookable = [r.id for r in self.ctx.site.rooms if r.bookable and r.id in self.places]
        with self.ctx.reads() as session:
            free = [
                room
                for room in bookable
                if not self._room_users[room]
                and not bookings.overlapping(session, room_id=room, start=now, end=until)
            ]
        return self.rng.choice(free) if free else None

    def _open(self, now: datetime) -> bool:
        return self.ctx.site.opening_hours.is_open(
            now.astimezone(ZoneInfo(self.ctx.site.site.timezone))
        )

    def _always(self, plan_id: str) -> bool:
        plan = self.ctx.site.plan(plan_id)
        return plan is not None and plan.hours == "always"

    # -- bookings --------------------------------------------------------------------------

    def _look_at_bookings(self) -> None:
        now = self.ctx.clock()
        grace = timedelta(seconds=self.ctx.site.access.no_show_grace)
        horizon = now + timedelta(minutes=3)  # a holder sets off a few minutes before
        with self.ctx.reads() as session:
            found = bookings.list_bookings(session, start_from=now, end_to=horizon, limit=500)
        first_look, self._first_look = self._first_look, False
        no_show_given = False
        for booking in found:
            if booking.id in self._seen:
                continue
            holder = next(
                (p for p in self.people.values() if p.member_id == booking.member_id), None
            )
            if holder is None or booking.source == "walk_in":
                continue
            self._seen.add(booking.id)
            if booking.status == "checked_in" and first_look and booking.start <= now:
                # Under way before the demo started: its people are back from a break.
                party = self._claim(Party((holder,), guests=self._guests(booking.room_id)))
                stay = self.life(self.rng.uniform(120, 400))
                self.spawn(self.visit(party, booking.room_id, stay), self.life(5))
            elif booking.status == "booked" and not no_show_due(booking.start, grace, now):
                # As `seed_bookings` promises, the first booking to start is a no-show.
                never = first_look and not no_show_given and booking.start > now
                no_show_given |= never
                late = self._lateness(grace)
                if not never and late is not None:
                    self.spawn(
                        self.booking_visit(
                            booking.id, holder, booking.room_id, booking.start + late
                        )
                    )

    def _lateness(self, grace: timedelta) -> timedelta | None:
        """When a holder turns up after the start (negative: early), or None: never."""
        fate = self.rng.choices(("on_time", "late", "never"), weights=(11, 5, 4))[0]
        if fate == "never":
            return None
        if fate == "on_time":
            return timedelta(seconds=self.life(self.rng.uniform(-90, 30)))
        late = self.life(self.rng.uniform(120, 300))
        return timedelta(seconds=min(late, 0.8 * grace.total_seconds()))

    def _guests(self, room_id: str) -> int:
        room = self.ctx.site.room(room_id)
        most = min((room.capacity or 4) // 3, 8) if room else 0
        return self.rng.randint(0, most)

    def booking_visit(
        self, booking_id: int, holder: Person, room: str, at: datetime
    ) -> Script[None]:
        """The holder (and their guests) come for a booking, to be at the entrance at `at`."""
        wait = (at - self.ctx.clock()).total_seconds()
        if wait > 0:
            yield wait
        while holder.name in self._busy:  # still busy elsewhere: comes when done
            yield 2.0
        log.debug("%s comes for booking %s in %s", holder.name, booking_id, room)
        party = self._claim(Party((holder,), guests=self._guests(room)))
        yield from self.visit(party, room, self.life(self.rng.uniform(60, 300)))

    def book_soon(self) -> int | None:
        """Book a room for a member in its first free slot from a few minutes ahead (within
        two hours), as members do through the API; the booking's id, or None if full."""
        holders = [p for p in self.people.values() if not p.suspended and p.category != "staff"]
        rooms = [r.id for r in self.ctx.site.rooms if r.bookable]
        if not holders or not rooms:
            return None
        now = self.ctx.clock()
        lead = self.life(self.rng.uniform(120, 360))
        earliest = now + timedelta(seconds=lead)
        if lead >= 120:
            earliest = earliest.replace(second=0, microsecond=0)
        length = timedelta(minutes=self.rng.choice((30, 45, 60, 90)))
        holder, title = self.rng.choice(holders), self.rng.choice(TITLES)
        for room in self.rng.sample(rooms, len(rooms)):
            try:
                with self.ctx.writes() as session, session.begin():
                    start = _first_free(session, room, earliest, length, now + timedelta(hours=2))
                    if start is None:
                        continue
                    booking = bookings.insert_booking(
                        session,
                        site=self.ctx.site,
                        room_id=room,
                        member_id=holder.member_id,
                        start=start,
                        end=start + length,
                        now=now,
                        title=title,
                    )
                    booking_id = booking.id
            except (Conflict, Invalid):
                continue
            log.debug("%s booked %s at %s", holder.name, room, start)
            self.ctx.events.publish(
                BookingEvent(
                    booking_id=booking_id,
                    room_id=room,
                    change="booked",
                    status="booked",
                    by="traffic",
                )
            )
            return booking_id
        return None

    # -- a visit, step by step -------------------------------------------------------------

    def visit(self, party: Party, room: str, stay: float) -> Script[None]:
        """Arrive, go to `room`, stay, leave: as far as the doors let the party."""
        self._room_users[room] += 1
        try:
            if not (yield from self.arrive(party)):
                return
            if (yield from self.enter_room(party, room)):
                yield from self.stay(room, stay)
                yield from self.leave_room(party, room)
            yield from self.leave(party)
        finally:
            self._room_users[room] -= 1
            self._busy -= party.names

    def arrive(self, party: Party) -> Script[bool]:
        """From the street into the hall through the entrance; whether they got in."""
        got_in = yield from self.gestures.through_door(self.entrance, party, inward=True)
        return got_in

    def enter_room(self, party: Party, room: str) -> Script[bool]:
        """Walk from the hall into `room` (tapping its door); whether they got in."""
        yield self.life(self.rng.uniform(5, 20))
        got_in = yield from self.gestures.through_door(room, party, inward=True)
        if got_in:
            yield from self.gestures.move(room)
        return got_in

    def stay(self, room: str, seconds: float) -> Script[None]:
        """Be in `room` for `seconds`, moving now and then in front of its PIR."""
        until = self.clock() + seconds
        while self.clock() < until:
            yield min(self.life(self.rng.uniform(10, 40)), max(0.0, until - self.clock()))
            yield from self.gestures.move(room)

    def leave_room(self, party: Party, room: str) -> Script[bool]:
        """Out of `room` into the hall: its exit button, then through the door."""
        return (yield from self.gestures.through_door(room, party, inward=False))

    def leave(self, party: Party) -> Script[bool]:
        """Out of the building: the entrance's exit button, then into the street."""
        yield self.life(self.rng.uniform(3, 10))
        return (yield from self.gestures.through_door(self.entrance, party, inward=False))


def _first_free(
    session: Session, room: str, start: datetime, length: timedelta, latest: datetime
) -> datetime | None:
    """The first start from `start` (and by `latest`) when `room` is free for `length`."""
    while start <= latest:
        clashes = bookings.overlapping(session, room_id=room, start=start, end=start + length)
        if not clashes:
            return start
        start = max(b.end for b in clashes)
    return None
