"""What a simulated month came to: the community outcome, counted over the simulation's
database by the utilisation report's own rule (`server.reports.outcome`), as one JSON
object or a short table."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from server.db import models
from server.reports.outcome import Hours, Outcome, load_outcome
from server.reports.weeks import local_midnight
from spacehub.simulate.world import World

SOURCES = {"api": "booked ahead", "waitlist": "from the waitlist", "walk_in": "walk-ins"}


@dataclass(frozen=True)
class MonthOutcome:
    days: int
    no_show_rate: float
    bookings: int  # every booking of the month, walk-ins and waitlist bookings included
    by_source: dict[str, int]
    outcome: Outcome

    def as_json(self) -> dict[str, object]:
        total = self.outcome.total
        return {
            "days": self.days,
            "bookings": self.bookings,
            "no_show_rate": self.no_show_rate,
            **_figures(total),
            "by_category": {c: _figures(h) for c, h in self.outcome.by_category.items()},
        }


def _figures(hours: Hours) -> dict[str, float]:
    return {
        "no_show_hours": round(hours.no_show, 2),
        "released_hours": round(hours.released, 2),
        "reused_hours": round(hours.reused, 2),
        "released_share": round(hours.released_share, 3),
        "reused_share": round(hours.reused_share, 3),
    }


def measure(world: World, *, first_day: date, days: int, no_show_rate: float) -> MonthOutcome:
    """The outcome of the local days `first_day` .. `first_day + days - 1`, as of now."""
    last_day = first_day + timedelta(days=days - 1)
    tz = ZoneInfo(world.site.site.timezone)
    start, end = local_midnight(first_day, tz), local_midnight(last_day + timedelta(days=1), tz)
    B = models.Booking
    with world.ctx.reads() as session:
        outcome = load_outcome(
            session, site=world.site, first_day=first_day, last_day=last_day, now=world.now
        )
        by_source = dict(
            session.execute(
                select(B.source, func.count())
                .where(B.start >= start, B.start < end)
                .group_by(B.source)
                .order_by(B.source)
            ).all()
        )
    return MonthOutcome(
        days=days,
        no_show_rate=no_show_rate,
        bookings=sum(by_source.values()),
        by_source=by_source,
        outcome=outcome,
    )


def as_json(result: MonthOutcome) -> str:
    return json.dumps(result.as_json(), ensure_ascii=False)


def as_table(result: MonthOutcome, *, first_day: date) -> str:
    """A short table: hours nobody came to, released, used again, and the shares."""
    rows = [("all", result.outcome.total)] + [
        (c, h) for c, h in result.outcome.by_category.items() if h.booked
    ]
    last_day = first_day + timedelta(days=result.days - 1)
    sources = ", ".join(f"{n} {SOURCES.get(s, s)}" for s, n in result.by_source.items())
    lines = [
        f"Simulated {result.days} days ({first_day} to {last_day}) of the demo site, "
        f"no-show rate {result.no_show_rate:.0%}",
        f"{result.bookings} bookings ({sources})",
        "",
        f"{'category':<10} {'booked h':>9} {'no-show h':>10} {'released h':>11} "
        f"{'reused h':>9} {'released':>9} {'reused':>7}",
    ]
    for name, h in rows:
        lines.append(
            f"{name:<10} {h.booked:>9.1f} {h.no_show:>10.1f} {h.released:>11.1f} "
            f"{h.reused:>9.1f} {h.released_share:>9.0%} {h.reused_share:>7.0%}"
        )
    lines += [
        "",
        "no-show h: hours of bookings nobody came to, after the grace; released: the part "
        "given back to the pool; reused: the part of that taken again (walk-in or waitlist)",
    ]
    return "\n".join(lines)
