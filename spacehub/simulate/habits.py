"""Who uses the demo site and how, drawn from one `random.Random`: the population and the
intentions of a simulated month, as plain values (nothing here touches the server).

- NGOs meet weekly, a series booked before the month begins;
- residents book one-off meetings one to ten days ahead, businesses two to fourteen;
- popular slots (the evenings) are wanted by more than one member: whoever asks first
  books, the others mostly join the waitlist;
- a holder does not come at the given no-show rate; one who comes is a few minutes early
  or late inside the grace, and a few come in with others (no tap at the room's door: the
  motion sensor checks them in);
- some holders cancel a day or two ahead;
- coworkers tap the entrance and the coworking door on weekday mornings;
- residents and NGO members at the hub try free rooms (walk-ins) now and then.

The numbers below describe people, not the product: they were set before the outcome was
measured and are not tuned to it."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

ROOMS = ("sala-a", "sala-b")
# (weekday, room, start hour, end hour) of the NGOs' weekly meetings
NGO_MEETINGS = (
    (0, "sala-b", 18, 21),
    (1, "sala-a", 18, 20),
    (2, "sala-a", 18, 21),
    (3, "sala-b", 18, 20),
    (4, "sala-a", 15, 18),
    (5, "sala-b", 10, 13),
)
WEEKDAY_SLOTS = ((9, 12), (12, 15), (15, 18), (18, 21))
SATURDAY_SLOTS = ((10, 13), (13, 16))
EVENING = 18
RESIDENTS, BUSINESSES, COWORKERS = 30, 5, 10

# How many members want one slot of a room: daytime, and the popular evenings.
DAYTIME_WANTED = (0, 1, 1, 2)
EVENING_WANTED = (1, 2, 2, 3)
JOINS_WAITLIST = 0.7  # a member who found the slot taken waits for it
CANCELS = 0.08  # a holder who cancels a day or two ahead
LATE = 0.3  # of those who come, late (inside the grace)
WITHOUT_TAP = 0.15  # of those who come, let in by others: motion checks the booking in
WALK_INS_PER_HOUR = 0.5  # members at the hub trying a free room
COWORKER_COMES = 0.8  # a coworker's weekday
# A waitlisted member offered a slot: takes it if the offer comes at most this long after
# the time they wanted, with this probability, and answers within the offer's hold.
STILL_WANTED = timedelta(minutes=30)
ACCEPTS = 0.7


@dataclass(frozen=True)
class Person:
    key: str
    name: str
    category: str
    card: str
    plan: str | None = None


@dataclass(frozen=True)
class Visit:
    """What a holder does about one booking: comes (`arrives` minutes from its start,
    tapping the room's door or not) or not at all; cancels `cancels_before` ahead."""

    comes: bool
    arrives: float = 0.0
    taps_room: bool = True
    stays_less: float = 0.0  # minutes they leave before the end
    cancels_before: timedelta | None = None


@dataclass(frozen=True)
class Want:
    """A member wants a room for [start, end), asks at `asks_at`, and would do `visit`."""

    person: str
    room: str
    start: datetime
    end: datetime
    asks_at: datetime
    visit: Visit
    waits: bool  # joins the waitlist if the room is taken


@dataclass(frozen=True)
class Series:
    person: str
    room: str
    start: datetime
    end: datetime
    weeks: int
    visits: tuple[Visit, ...]


@dataclass(frozen=True)
class WalkIn:
    person: str
    at: datetime
    stays: timedelta
    first_room: str


@dataclass(frozen=True)
class Coworking:
    person: str
    at: datetime


@dataclass
class Month:
    """Everything the population means to do, and when."""

    people: list[Person]
    series: list[Series] = field(default_factory=list)
    wants: list[Want] = field(default_factory=list)
    walk_ins: list[WalkIn] = field(default_factory=list)
    coworking: list[Coworking] = field(default_factory=list)


def people() -> list[Person]:
    """The population: NGOs, residents, businesses, coworkers (each with a card)."""
    out = [Person(f"ngo{i}", f"Fundacja {i + 1}", "ngo", "") for i in range(len(NGO_MEETINGS))]
    out += [Person(f"res{i}", f"Mieszkaniec {i + 1}", "resident", "") for i in range(RESIDENTS)]
    out += [Person(f"biz{i}", f"Firma {i + 1}", "business", "") for i in range(BUSINESSES)]
    out += [
        Person(f"cow{i}", f"Coworker {i + 1}", "business", "", plan="coworking")
        for i in range(COWORKERS)
    ]
    return [
        Person(p.key, p.name, p.category, f"{0x5A000000 + n:08X}", p.plan)
        for n, p in enumerate(out)
    ]


def visit(rng: random.Random, no_show_rate: float) -> Visit:
    """One holder's doings about one booking."""
    cancels = timedelta(hours=rng.uniform(2, 48)) if rng.random() < CANCELS else None
    if rng.random() < no_show_rate:
        return Visit(comes=False, cancels_before=cancels)
    arrives = rng.uniform(0.5, 14) if rng.random() < LATE else rng.uniform(-12, 0)
    return Visit(
        comes=True,
        arrives=arrives,
        taps_room=rng.random() >= WITHOUT_TAP,
        stays_less=rng.uniform(0, 12),
        cancels_before=cancels,
    )


def plan_month(
    rng: random.Random, *, first_day: date, days: int, tz: ZoneInfo, no_show_rate: float
) -> Month:
    """The month's intentions for the local days `first_day` .. `first_day + days - 1`."""
    month = Month(people=people())
    by_category: dict[str, list[str]] = {}
    for p in month.people:
        if p.plan is None:
            by_category.setdefault(p.category, []).append(p.key)
    weeks = -(-days // 7)
    for i, (weekday, room, lo, hi) in enumerate(NGO_MEETINGS):
        day = first_day + timedelta(days=(weekday - first_day.weekday()) % 7)
        if day >= first_day + timedelta(days=days):
            continue
        start, end = _at(day, lo, tz), _at(day, hi, tz)
        count = max(2, weeks - (day - first_day).days // 7)
        visits = tuple(visit(rng, no_show_rate) for _ in range(count))
        month.series.append(Series(f"ngo{i}", room, start, end, count, visits))
    for n in range(days):
        day = first_day + timedelta(days=n)
        slots = SATURDAY_SLOTS if day.weekday() == 5 else WEEKDAY_SLOTS
        if day.weekday() == 6:
            continue
        for room in ROOMS:
            for lo, hi in slots:
                _want_slot(rng, month, by_category, day, room, (lo, hi), tz, no_show_rate)
        _walk_ins(rng, month, by_category, day, slots, tz)
        if day.weekday() < 5:
            for p in month.people:
                if p.plan is not None and rng.random() < COWORKER_COMES:
                    month.coworking.append(Coworking(p.key, _at(day, rng.uniform(8.5, 10.5), tz)))
    return month


def _want_slot(
    rng: random.Random,
    month: Month,
    by_category: dict[str, list[str]],
    day: date,
    room: str,
    slot: tuple[int, int],
    tz: ZoneInfo,
    no_show_rate: float,
) -> None:
    lo, hi = slot
    evening = lo >= EVENING
    for _ in range(rng.choice(EVENING_WANTED if evening else DAYTIME_WANTED)):
        category = rng.choice(("resident", "ngo") if evening else ("resident", "business"))
        person = rng.choice(by_category[category])
        length = rng.choice((2, 3)) if hi - lo == 3 else hi - lo
        begin = lo if length == hi - lo else rng.choice((lo, hi - length))
        start, end = _at(day, begin, tz), _at(day, begin + length, tz)
        ahead = rng.uniform(2, 14) if category == "business" else rng.uniform(1, 10)
        month.wants.append(
            Want(
                person=person,
                room=room,
                start=start,
                end=end,
                asks_at=start - timedelta(days=ahead),
                visit=visit(rng, no_show_rate),
                waits=rng.random() < JOINS_WAITLIST,
            )
        )


def _walk_ins(
    rng: random.Random,
    month: Month,
    by_category: dict[str, list[str]],
    day: date,
    slots: tuple[tuple[int, int], ...],
    tz: ZoneInfo,
) -> None:
    opens, closes = slots[0][0], slots[-1][1]
    at = float(opens)
    while True:
        at += rng.expovariate(WALK_INS_PER_HOUR)
        if at >= closes - 0.5:
            return
        person = rng.choice(by_category[rng.choice(("resident", "ngo"))])
        stays = timedelta(minutes=rng.uniform(45, 150))
        month.walk_ins.append(WalkIn(person, _at(day, at, tz), stays, rng.choice(ROOMS)))


def _at(day: date, hour: float, tz: ZoneInfo) -> datetime:
    """The instant (UTC) of a local time of day, in hours (fractions allowed)."""
    minutes = round(hour * 60)
    return datetime.combine(day, time(minutes // 60, minutes % 60), tz).astimezone(UTC)
