"""Clocks that stand still until a test moves them: a time-dependent test moves a clock, it
does not sleep."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

# A Monday, 10:00 in Warsaw.
EPOCH = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class Clock:
    """A UTC wall clock for the server and the gateway: `clock()` is `clock.now`.

    >>> clock = Clock(EPOCH)
    >>> clock.advance(minutes=5)
    >>> clock() - EPOCH
    datetime.timedelta(seconds=300)
    """

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.tick = timedelta(0)

    def __call__(self) -> datetime:
        """`now`, which then moves on by `tick` (none unless a test sets it: a clock
        that is never read twice at the same time)."""
        now = self.now
        self.now += self.tick
        return now

    def advance(self, **delta: float) -> None:
        """Move the clock by `timedelta(**delta)`."""
        self.now += timedelta(**delta)


class MonotonicClock:
    """A `time.monotonic` for devices and inboxes: `clock()` is `clock.now` in seconds;
    `wall()` follows it, `now` seconds after `epoch`."""

    def __init__(self, now: float = 100.0, *, epoch: datetime = EPOCH) -> None:
        self.now = now
        self.epoch = epoch

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock by `seconds`."""
        self.now += seconds

    def wall(self) -> datetime:
        """The UTC time that goes with `now`."""
        return self.epoch + timedelta(seconds=self.now)
