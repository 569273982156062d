"""`spacehub simulate`: a month of the demo site in accelerated time through the server's
own logic, and the community outcome it came to.

    result = simulate(days=30, no_show_rate=0.3, seed=1)
    result.as_json()["released_share"]

`habits` draws who does what (one `random.Random(seed)`), `world` is the server on a
temporary database with a moved clock, `loop` plays the month, `outcome` counts it with
the utilisation report's rule."""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, timedelta
from zoneinfo import ZoneInfo

from server.reports.weeks import local_midnight
from server.site import load_site
from spacehub.simulate.habits import plan_month
from spacehub.simulate.loop import Loop
from spacehub.simulate.outcome import MonthOutcome, measure
from spacehub.simulate.world import SITE_CONFIG, World, open_world

FIRST_DAY = date(2026, 3, 2)  # a Monday: every run simulates the same calendar
LEAD_IN = timedelta(days=14)  # bookings are made up to two weeks ahead of the month


@contextmanager
def simulated(
    *, days: int = 30, no_show_rate: float = 0.3, seed: int = 1
) -> Iterator[tuple[World, MonthOutcome]]:
    """Play `days` days from FIRST_DAY with this no-show rate and seed: the world as the
    month left it (its database still there until the block ends) and its outcome."""
    rng = random.Random(seed)
    site = load_site(SITE_CONFIG)
    tz = ZoneInfo(site.site.timezone)
    month_start = local_midnight(FIRST_DAY, tz)
    month_end = local_midnight(FIRST_DAY + timedelta(days=days), tz)
    month = plan_month(rng, first_day=FIRST_DAY, days=days, tz=tz, no_show_rate=no_show_rate)
    start = (month_start - LEAD_IN).astimezone(UTC)
    with open_world(site, month.people, now=start) as world:
        loop = Loop(world, rng, no_show_rate=no_show_rate)
        loop.plan(month)
        loop.run(until=month_end + timedelta(hours=6))  # the last evening's bookings end
        yield world, measure(world, first_day=FIRST_DAY, days=days, no_show_rate=no_show_rate)


def simulate(*, days: int = 30, no_show_rate: float = 0.3, seed: int = 1) -> MonthOutcome:
    """Play the month (`simulated`) and return its outcome."""
    with simulated(days=days, no_show_rate=no_show_rate, seed=seed) as (_world, result):
        return result


__all__ = ["FIRST_DAY", "MonthOutcome", "simulate", "simulated"]
