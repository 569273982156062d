"""The simulated site: a real server context (a migrated SQLite file, the demo site, the
access service, the scheduler's passes) on a clock the simulation moves, and the few
things people do to it, each through the domain function the server's own adapters and
routes call: book (`server.bookings.rules`), cancel and accept offers
(`server.waitlist`), tap a card (`AccessService.handle_tap`, as the door ingest does),
move in front of a sensor (`server.occupancy.readings`, as the sensor ingest does) and
the scheduler's pass (`Scheduler.run_once`, as its thread does every quarter second).

Nothing here writes a booking's status: every change is the server's."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from tempfile import TemporaryDirectory

from sqlalchemy.orm import Session

from protocol.messages import Count, Decision, Motion, Tap
from server.adapters.scheduler import Scheduler
from server.bookings.rules import BookingRequest, create_booking, create_series
from server.context import ServerContext
from server.db import models
from server.errors import Conflict, Forbidden, Invalid
from server.occupancy.readings import Reading, record_readings
from server.people import members
from server.settings import Settings
from server.site import SiteConfig
from server.waitlist import entries, freed, offers
from spacehub.simulate.habits import Person

SITE_CONFIG = Path(__file__).resolve().parents[2] / "firmware_configs" / "sites" / "piaseczno.toml"
CARD_KEY = "simulated-month-card-key-0123456789"
REFUSED = (Conflict, Forbidden, Invalid)  # what a member is told, and changes nothing


class SimClock:
    """The server's clock: stands still until the simulation moves it."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.origin = now

    def __call__(self) -> datetime:
        return self.now

    def monotonic(self) -> float:
        """Seconds since the start, for the tap limits (as `time.monotonic` would be)."""
        return (self.now - self.origin).total_seconds()


@dataclass
class World:
    ctx: ServerContext
    clock: SimClock
    scheduler: Scheduler
    ids: dict[str, int]  # person key -> member id
    cards: dict[str, str]  # person key -> card UID

    @property
    def site(self) -> SiteConfig:
        return self.ctx.site

    # -- bookings and the waitlist -------------------------------------------------------

    def book(self, person: str, room: str, start: datetime, end: datetime) -> int | None:
        """A booking as the API makes it; None when the rules refuse it (taken, ...)."""
        request = BookingRequest(room_id=room, member_id=self.ids[person], start=start, end=end)
        with self._writes() as session:
            try:
                with session.begin_nested():
                    made = create_booking(session, site=self.site, request=request, now=self.now)
            except REFUSED:
                return None
            return made.id

    def book_series(
        self, person: str, room: str, start: datetime, end: datetime, weeks: int
    ) -> list[int]:
        """A weekly series, all or nothing; [] when refused."""
        request = BookingRequest(room_id=room, member_id=self.ids[person], start=start, end=end)
        with self._writes() as session:
            try:
                with session.begin_nested():
                    made = create_series(
                        session, site=self.site, request=request, weekly=weeks, now=self.now
                    )
            except REFUSED:
                return []
            return [b.id for b in made]

    def cancel(self, booking_id: int) -> bool:
        """The holder cancels (the freed time is offered to the waitlist); False if refused."""
        with self._writes() as session:
            try:
                with session.begin_nested():
                    freed.cancel_booking(
                        session, site=self.site, booking_id=booking_id, now=self.now, by="api"
                    )
            except REFUSED:
                return False
            return True

    def wait_for(self, person: str, room: str, start: datetime, end: datetime) -> int | None:
        """Join the waitlist for the room at [start, end) as the member portal proposes
        (or any room like it: `entries.SUGGESTED_ANY_SIMILAR`): the entry's id, or None
        if refused."""
        with self._writes() as session:
            try:
                with session.begin_nested():
                    entry = entries.join(
                        session,
                        site=self.site,
                        member_id=self.ids[person],
                        start=start,
                        end=end,
                        now=self.now,
                        room_id=room,
                        any_similar=entries.SUGGESTED_ANY_SIMILAR,
                    )
            except REFUSED:
                return None
            return entry.id

    def open_offers(self) -> list[models.Offer]:
        """Offers made and not yet answered."""
        with self.ctx.reads() as session:
            made = offers.list_offers(session, status="offered", limit=1000)
            session.expunge_all()
            return made

    def accept(self, offer_id: int) -> models.Booking | None:
        """Accept an offer (the booking made), or None: lapsed, taken, or refused."""
        with self._writes() as session:
            got = offers.accept_or_lapse(session, site=self.site, offer_id=offer_id, now=self.now)
            if isinstance(got, offers.RoomTaken):
                return None
            session.flush()
            session.expunge(got)
            return got

    def booking(self, booking_id: int) -> models.Booking | None:
        with self.ctx.reads() as session:
            found = session.get(models.Booking, booking_id)
            if found is not None:
                session.expunge(found)
            return found

    # -- doors and sensors -----------------------------------------------------------------

    def tap(self, person: str, device: str) -> Decision:
        """A card at a door, decided as the door ingest has it decided."""
        answers: list[Decision] = []
        tap = Tap(id=f"t{next(self._taps)}", ts=self.now, card=self.cards[person])
        self.ctx.access.handle_tap(device, tap, answers.append)
        return answers[0]

    def motion(self, device: str, *, on: bool) -> None:
        self._reading(device, Motion(id=f"m{next(self._readings)}", ts=self.now, motion=on))

    def count(self, device: str, *, entered: int = 0, left: int = 0) -> None:
        message = Count(id=f"c{next(self._readings)}", ts=self.now, entered=entered, left=left)
        self._reading(device, message)

    def _reading(self, device: str, message: Motion | Count) -> None:
        with self.ctx.writes() as session, session.begin():
            record_readings(
                session, site=self.site, readings=[Reading(device, message)], now=self.now
            )

    # -- time ------------------------------------------------------------------------------

    @property
    def now(self) -> datetime:
        return self.clock.now

    def move_to(self, at: datetime) -> None:
        if at > self.clock.now:
            self.clock.now = at

    def sweep(self) -> None:
        """One pass of the server's scheduler at the simulated now."""
        self.scheduler.run_once()

    @contextmanager
    def _writes(self) -> Iterator[Session]:
        with self.ctx.writes() as session, session.begin():
            yield session

    def __post_init__(self) -> None:
        self._taps = itertools.count(1)
        self._readings = itertools.count(1)


@contextmanager
def open_world(site: SiteConfig, people: list[Person], *, now: datetime) -> Iterator[World]:
    """The server of `site` (the demo site's, SITE_CONFIG) on a fresh database in a
    temporary folder, with `people` as members (cards, and plans for coworkers), its
    clock at `now`."""
    with TemporaryDirectory(prefix="spacehub-simulate-") as folder:
        settings = Settings(
            database_url=f"sqlite:///{Path(folder) / 'simulated.db'}",
            site_config=SITE_CONFIG,
            card_key=CARD_KEY,
        )
        clock = SimClock(now)
        ctx = ServerContext.create(settings, clock=clock, site=site)
        ctx.access.monotonic = clock.monotonic
        try:
            ids: dict[str, int] = {}
            with ctx.writes() as session, session.begin():
                for p in people:
                    ids[p.key] = _enrol(session, ctx.site, p, now=now)
            yield World(
                ctx=ctx,
                clock=clock,
                scheduler=Scheduler(ctx),
                ids=ids,
                cards={p.key: p.card for p in people},
            )
        finally:
            ctx.close()


def _enrol(session: Session, site: SiteConfig, person: Person, *, now: datetime) -> int:
    """A member with their card, and a coworker's plan from the day before `now`: the id."""
    made = members.create_member(session, name=person.name, category=person.category, site=site)
    members.add_card(session, card_key=CARD_KEY, member_id=made.id, uid=person.card)
    if person.plan is not None:
        valid = {"valid_from": now - timedelta(days=1), "valid_until": now + timedelta(days=400)}
        members.add_membership(session, site=site, member_id=made.id, plan=person.plan, **valid)
    return made.id
