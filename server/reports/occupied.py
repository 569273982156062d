"""When a room was occupied, from its sensors' samples: motion seen within the vacancy
timeout, or a people count above zero."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from server.reports.intervals import Interval, union


@dataclass(frozen=True)
class MotionSample:
    """A PIR's report: motion started (`motion=True`) or stopped."""

    device_id: str
    ts: datetime
    motion: bool


@dataclass(frozen=True)
class CountSample:
    """A people counter's report: `entered - left` since its previous one."""

    ts: datetime
    delta: int


def motion_intervals(
    samples: Iterable[MotionSample], *, vacancy_timeout: timedelta
) -> list[Interval]:
    """When motion was seen within `vacancy_timeout` (docs/architecture.md, Occupancy), as a union.

    A PIR sees motion from a `motion` report until its next `no_motion`; the room stays
    occupied for the vacancy timeout after that. A `motion` not followed by a `no_motion`
    of the same device (a lost message, a sensor that went away) counts as motion seen at
    its own time only, so a missing report never stretches an occupancy.

    >>> from datetime import UTC, datetime, timedelta
    >>> t = lambda m: datetime(2026, 3, 2, 10, m, tzinfo=UTC)
    >>> samples = [MotionSample("pir", t(0), True), MotionSample("pir", t(30), False)]
    >>> got = motion_intervals(samples, vacancy_timeout=timedelta(minutes=15))
    >>> got == [(t(0), t(45))]
    True
    """
    by_device: dict[str, list[MotionSample]] = {}
    for sample in samples:
        by_device.setdefault(sample.device_id, []).append(sample)
    out: list[Interval] = []
    for series in by_device.values():
        series.sort(key=lambda s: (s.ts, not s.motion))
        for sample, after in zip(series, [*series[1:], None], strict=True):
            if not sample.motion:
                continue
            seen_until = after.ts if after is not None and not after.motion else sample.ts
            out.append((sample.ts, seen_until + vacancy_timeout))
    return union(out)


def count_intervals(
    samples: Iterable[CountSample], *, resets: Iterable[datetime], until: datetime
) -> list[Interval]:
    """When a room's people total (the running sum of its counters' deltas, never below
    zero, back to zero at each of `resets`) was above zero, up to `until`."""
    marks = sorted([(s.ts, 1, s.delta) for s in samples] + [(r, 0, 0) for r in resets])
    out: list[Interval] = []
    people, since = 0, None
    for ts, is_count, delta in marks:
        if ts >= until:
            break
        people = max(0, people + delta) if is_count else 0
        if people > 0 and since is None:
            since = ts
        elif people == 0 and since is not None:
            out.append((since, ts))
            since = None
    if since is not None:
        out.append((since, until))
    return union(out)
